"""Outcome definitions -> detectors -> accumulators.

Each outcome in a scenario becomes a :class:`Detector`: a condition evaluated on the
world after every month (a boolean per replicate) and, where it has one, the
quantity behind it (its final value is recorded). A :class:`Recorder` observes a
world as it runs and accumulates, per chunk of replicates, everything the results
need — first-hit month histograms, co-occurrence counts for conditional
probabilities, final-value sums and a bounded sample, per-month series and the
trajectories of a few replicates — as fixed-size arrays. Memory does not grow with
the number of runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .scenario import schema as S
from .world.compile import ACTIVE, EXITED, FROZEN, STATUS_CODES, Plan
from .world.predicates import compile_predicate

if TYPE_CHECKING:
    from .world.model import World

FINAL_SAMPLE = 10_000
"""Final values are kept for the first this-many replicates of a run (for quantiles)."""


@dataclass
class Detector:
    """A compiled outcome."""

    name: str
    kind: str
    description: str
    cond: Callable[[World], np.ndarray] | None  # None for any/all
    value: Callable[[World], np.ndarray] | None = None
    value_label: str = ""
    of: list[int] = field(default_factory=list)  # for any/all: indices of the parts
    at_least: int | None = None  # for any: how many parts must have happened


def _describe(name: str, o: S.Outcome, plan: Plan) -> str:
    if o.description:
        return o.description
    scn = plan.scenario
    label = lambda kind, key: getattr(getattr(scn, kind).get(key), "name", "") or key  # noqa: E731
    if isinstance(o, S.EscalationOutcome):
        from .world.compile import LEVELS

        return f"{label('flashpoints', o.flashpoint)} reaches rung {o.reaches} ({LEVELS[o.reaches]})"
    if isinstance(o, S.MembershipOutcome):
        verb = {"frozen": "freezes its participation in", "exited": "leaves", "member": "joins"}[o.becomes]
        return f"{label('states', o.state)} {verb} {label('alliances', o.alliance)}"
    if isinstance(o, S.TerritoryOutcome):
        return f"{label('states', o.controller)} controls {label('territories', o.territory)}"
    if isinstance(o, S.CasualtiesOutcome):
        where = label("flashpoints", o.flashpoint) if o.flashpoint else "all flashpoints"
        return f"more than {o.above:g} killed ({where})"
    if isinstance(o, S.SettlementOutcome):
        return f"{label('flashpoints', o.flashpoint)} is settled"
    if isinstance(o, S.CombinedOutcome):
        k = f"at least {o.at_least}" if o.at_least else o.kind
        return f"{k} of: " + ", ".join(o.of)
    if isinstance(o, S.MainSupplierOutcome):
        return f"{label('suppliers', o.supplier)} is {label('states', o.state)}'s largest arms supplier"
    if isinstance(o, S.ConditionOutcome):
        return o.when
    thr = f"above {o.above:g}" if getattr(o, "above", None) is not None else f"below {o.below:g}"
    return f"{name.replace('_', ' ')} ({thr})"


def _threshold(o: S._Threshold, value: Callable[[World], np.ndarray]) -> Callable[[World], np.ndarray]:
    if o.above is not None:
        a = o.above
        return lambda w: value(w) > a
    b = o.below
    return lambda w: value(w) < b


def compile_outcomes(plan: Plan) -> list[Detector]:
    """Detectors for the scenario's outcomes, combined ones after their parts."""
    scn = plan.scenario
    ix = plan.index_of
    names = list(scn.outcomes)
    pos = {n: i for i, n in enumerate(names)}
    out: list[Detector] = []
    for name in names:
        o = scn.outcomes[name]
        desc = _describe(name, o, plan)
        if isinstance(o, S.EscalationOutcome):
            f, r = ix("flashpoint")[o.flashpoint], o.reaches
            d = Detector(name, o.kind, desc, lambda w, f=f, r=r: w.st.level[:, f] >= r,
                         lambda w, f=f: w.st.level[:, f].astype(float), "final rung")
        elif isinstance(o, S.MembershipOutcome):
            s, a = ix("state")[o.state], ix("alliance")[o.alliance]
            if o.becomes == "member":
                cond = lambda w, s=s, a=a: (w.st.status[:, s, a] == ACTIVE) & w._was_not_active[:, s, a]  # noqa: E731
            else:
                code = FROZEN if o.becomes == "frozen" else EXITED
                cond = lambda w, s=s, a=a, code=code: w.st.status[:, s, a] == code  # noqa: E731
            d = Detector(name, o.kind, desc, cond)
        elif isinstance(o, S.TerritoryOutcome):
            t, c = ix("territory")[o.territory], ix("state")[o.controller]
            d = Detector(name, o.kind, desc, lambda w, t=t, c=c: w.st.controller[:, t] == c)
        elif isinstance(o, S.SupplierShareOutcome):
            s, k = ix("state")[o.state], ix("supplier")[o.supplier]
            val = lambda w, s=s, k=k: w.st.shares[:, s, k]  # noqa: E731
            d = Detector(name, o.kind, desc, _threshold(o, val), val, "final share")
        elif isinstance(o, S.AffinityOutcome):
            s, t = ix("state")[o.state], ix("state")[o.toward]
            val = lambda w, s=s, t=t: w.st.affinity[:, s, t]  # noqa: E731
            d = Detector(name, o.kind, desc, _threshold(o, val), val, "final affinity")
        elif isinstance(o, S.CapabilityOutcome):
            s = ix("state")[o.state]
            if o.relative_to:
                t = ix("state")[o.relative_to]
                val = lambda w, s=s, t=t: w.st.capability[:, s] / np.maximum(w.st.capability[:, t], 1e-12)  # noqa: E731
                label = "final capability ratio"
            else:
                val = lambda w, s=s: w.st.capability[:, s]  # noqa: E731
                label = "final capability"
            d = Detector(name, o.kind, desc, _threshold(o, val), val, label)
        elif isinstance(o, S.TrustOutcome):
            s, a = ix("state")[o.state], ix("alliance")[o.alliance]
            val = lambda w, s=s, a=a: w.st.trust[:, s, a]  # noqa: E731
            d = Detector(name, o.kind, desc, _threshold(o, val), val, "final trust")
        elif isinstance(o, S.CasualtiesOutcome):
            if o.flashpoint:
                f = ix("flashpoint")[o.flashpoint]
                val = lambda w, f=f: w.st.casualties[:, f]  # noqa: E731
            else:
                val = lambda w: w.st.casualties.sum(axis=1)  # noqa: E731
            d = Detector(name, o.kind, desc, lambda w, v=val, above=o.above: v(w) > above, val, "total killed")
        elif isinstance(o, S.SettlementOutcome):
            f = ix("flashpoint")[o.flashpoint]
            d = Detector(name, o.kind, desc, lambda w, f=f: w.st.settled[:, f])
        elif isinstance(o, S.ConditionOutcome):
            d = Detector(name, o.kind, desc, compile_predicate(o.when, plan))
        elif isinstance(o, S.MainSupplierOutcome):
            s_, k = ix("state")[o.state], ix("supplier")[o.supplier]
            others = [j for j in range(plan.K) if j != k]

            def main(w, s_=s_, k=k, others=others):
                sh = w.st.shares[:, s_, :]
                return sh[:, k] > sh[:, others].max(axis=1) if others else sh[:, k] > 0

            d = Detector(name, o.kind, desc, main, lambda w, s_=s_, k=k: w.st.shares[:, s_, k], "final share")
        else:
            assert isinstance(o, S.CombinedOutcome)
            d = Detector(name, o.kind, desc, None, of=[pos[x] for x in o.of], at_least=o.at_least)
        out.append(d)
    return out


def combine_order(dets: list[Detector]) -> list[int]:
    """Indices of combined outcomes, each after the outcomes it is built from."""
    done: set[int] = {i for i, d in enumerate(dets) if d.cond is not None}
    order: list[int] = []
    pending = [i for i, d in enumerate(dets) if d.cond is None]
    while pending:
        progress = False
        for i in list(pending):
            if all(j in done for j in dets[i].of):
                order.append(i)
                done.add(i)
                pending.remove(i)
                progress = True
        if not progress:  # pragma: no cover - references check rejects cycles
            raise ValueError("cycle among combined outcomes")
    return order


@dataclass
class ChunkResult:
    """Everything one chunk of replicates contributes to the results (all fixed-size)."""

    chunk: int
    n: int
    hist: np.ndarray  # (O, H+1) first-hit month counts; column 0 = never
    co: np.ndarray  # (O, O) replicates where both outcomes happened
    value_sum: np.ndarray  # (O,) sums of final values (nan where an outcome has none)
    value_sq: np.ndarray  # (O,)
    value_sample: np.ndarray  # (O, k) final values of the first replicates of the run
    series: dict[str, np.ndarray]  # per-month sums / counts
    traj: dict[str, np.ndarray]  # trajectories of the sampled replicates
    first_hit_sample: np.ndarray  # (k, O) first-hit months of the sampled replicates
    casualty_sample: np.ndarray  # (F, k) total deaths per flashpoint, first replicates of the run
    seconds: float = 0.0
    peak_rss_mb: float = 0.0  # the worker's peak resident memory when it finished this chunk


class Recorder:
    """Observes a world month by month and accumulates a :class:`ChunkResult`.

    Args:
        world: The world to observe (the recorder registers itself as an observer).
        detectors: Compiled outcomes.
        chunk: The chunk index (for merging in order).
        offset: Global index of this chunk's first replicate (for the samples).
        keep_final: Keep final values of replicates with global index below this.
        keep_traj: Keep full trajectories of replicates with global index below this.
    """

    def __init__(self, world: World, detectors: list[Detector], chunk: int, offset: int, keep_final: int = FINAL_SAMPLE, keep_traj: int = 300):
        self.w = world
        self.dets = detectors
        self.chunk = chunk
        plan = world.plan
        R, H = world.n, plan.horizon
        O = len(detectors)
        self.H = H
        self.first = np.zeros((O, R), dtype=np.int16)
        self.prim = [i for i, d in enumerate(detectors) if d.cond is not None]
        self.k_final = int(np.clip(keep_final - offset, 0, R))
        self.k_traj = int(np.clip(keep_traj - offset, 0, R))
        F, S, A, K, T = plan.F, plan.S, plan.A, plan.K, plan.T
        self.series = {
            "level_counts": np.zeros((H, F, 6), dtype=np.int64),
            "settled": np.zeros((H, F), dtype=np.int64),
            "deaths": np.zeros((H, F)),
            "trust": np.zeros((H, S, A)),
            "status_counts": np.zeros((H, S, A, 4), dtype=np.int64),
            "controller_counts": np.zeros((H, T, S), dtype=np.int64),
            "shares": np.zeros((H, S, K)),
            "capability": np.zeros((H, S)),
            "affinity": np.zeros((H, S, S)),
        }
        k = self.k_traj
        self.traj = {
            "level": np.zeros((k, H, F), dtype=np.int8),
            "deaths": np.zeros((k, H, F), dtype=np.float32),
            "trust": np.zeros((k, H, S, A), dtype=np.float32),
            "status": np.zeros((k, H, S, A), dtype=np.int8),
            "shares": np.zeros((k, H, S, K), dtype=np.float32),
            "affinity": np.zeros((k, H, S, S), dtype=np.float32),
            "capability": np.zeros((k, H, S), dtype=np.float32),
        }
        world._was_not_active = world.st.status != STATUS_CODES["active"]
        world.observers.append(self.observe)

    def observe(self, w: World) -> None:
        t = w.elapsed  # 1-based month just simulated
        if t > self.H:
            return
        first = self.first
        for i in self.prim:
            hit = self.dets[i].cond(w)
            new = hit & (first[i] == 0)
            if new.any():
                first[i, new] = t
        st, s = w.st, self.series
        r = t - 1
        lv = st.level.astype(np.intp)
        F = lv.shape[1]
        if F:
            s["level_counts"][r] = np.stack([np.bincount(lv[:, f], minlength=6)[:6] for f in range(F)])
        s["settled"][r] = st.settled.sum(axis=0)
        s["deaths"][r] = st.deaths.sum(axis=0)
        s["trust"][r] = st.trust.sum(axis=0)
        status = st.status
        for code in range(4):
            s["status_counts"][r, ..., code] = (status == code).sum(axis=0)
        if st.controller.shape[1]:
            S = st.capability.shape[1]
            for j in range(st.controller.shape[1]):
                s["controller_counts"][r, j] = np.bincount(st.controller[:, j], minlength=S)[:S]
        s["shares"][r] = st.shares.sum(axis=0)
        s["capability"][r] = st.capability.sum(axis=0)
        s["affinity"][r] = st.affinity.sum(axis=0)
        k = self.k_traj
        if k:
            self.traj["level"][:, r] = st.level[:k]
            self.traj["deaths"][:, r] = st.deaths[:k]
            self.traj["trust"][:, r] = st.trust[:k]
            self.traj["status"][:, r] = status[:k]
            self.traj["shares"][:, r] = st.shares[:k]
            self.traj["affinity"][:, r] = st.affinity[:k]
            self.traj["capability"][:, r] = st.capability[:k]

    def result(self, seconds: float = 0.0) -> ChunkResult:
        """Combine, summarize and return the chunk's contribution."""
        w, dets, first = self.w, self.dets, self.first
        for i in combine_order(dets):
            parts = first[dets[i].of]
            if dets[i].kind == "any":
                big = np.iinfo(np.int16).max
                masked = np.sort(np.where(parts > 0, parts, big), axis=0)
                m = masked[(dets[i].at_least or 1) - 1]  # the month the k-th part happened
                first[i] = np.where(m == big, 0, m)
            else:
                first[i] = np.where((parts > 0).all(axis=0), parts.max(axis=0), 0)
        O = len(dets)
        H = self.H
        hist = np.zeros((O, H + 1), dtype=np.int64)
        for i in range(O):
            hist[i] = np.bincount(first[i], minlength=H + 1)[: H + 1]
        happened = (first > 0).astype(np.int64)
        co = happened @ happened.T
        vsum = np.full(O, np.nan)
        vsq = np.full(O, np.nan)
        vs = np.full((O, self.k_final), np.nan)
        for i, d in enumerate(dets):
            if d.value is not None:
                v = np.asarray(d.value(w), dtype=float)
                vsum[i] = v.sum()
                vsq[i] = (v * v).sum()
                vs[i] = v[: self.k_final]
        return ChunkResult(
            chunk=self.chunk,
            n=w.n,
            hist=hist,
            co=co,
            value_sum=vsum,
            value_sq=vsq,
            value_sample=vs,
            series=self.series,
            traj=self.traj,
            first_hit_sample=first[:, : self.k_traj].T.copy(),
            casualty_sample=w.st.casualties[: self.k_final].T.astype(float).copy(),
            seconds=seconds,
        )
