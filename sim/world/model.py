"""The world: one Mesa model evolving R replicates in lockstep.

Every dynamic quantity is an array whose first axis is the replicate. Parameters
sampled once per replicate live in ``world.par``; the evolving state in ``world.st``.
A step runs the rule pipeline (events, procurement, escalation, alliance response,
alignment, membership), then the observers (outcome detectors). Nothing in a step
loops over replicates in Python; R = 1 is the same code.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import mesa
import numpy as np

from .agents import Alliance, Flashpoint, State, Supplier, Territory
from .compile import ACTIVE, FROZEN, Plan


class Arrays:
    """A namespace of arrays (``world.par``, ``world.st``) that can be copied whole."""

    def __init__(self, **arrays: np.ndarray):
        self.__dict__.update(arrays)

    def copy(self) -> Arrays:
        return Arrays(**{k: (v.copy() if isinstance(v, np.ndarray) else copy.deepcopy(v)) for k, v in self.__dict__.items()})

    def names(self) -> list[str]:
        return list(self.__dict__)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.__dict__[name]

    def __setitem__(self, name: str, value: np.ndarray) -> None:
        self.__dict__[name] = value


Rule = Callable[["World"], None]


class World(mesa.Model):
    """R replicates of one scenario, advanced one month per :meth:`step`.

    Args:
        plan: The compiled scenario.
        n: Number of replicates R.
        seed_seq: The chunk's seed sequence; parameter draws, each rule's random
            stream and Mesa's own generator are all derived from it.
        pipeline: ``(kind, rule)`` pairs run in order each month.
        dtype: Floating-point type of parameter and state arrays.
    """

    def __init__(
        self,
        plan: Plan,
        n: int,
        seed_seq: np.random.SeedSequence,
        pipeline: list[tuple[str, Rule]] | None = None,
        dtype: Any = np.float64,
    ):
        mesa_seed = int(
            np.random.SeedSequence(seed_seq.entropy, spawn_key=(*seed_seq.spawn_key, 2)).generate_state(1)[0]
        )
        super().__init__(rng=mesa_seed)
        self.plan = plan
        self.n = n
        self.dtype = dtype
        self.seed_seq = seed_seq
        self.pipeline: list[tuple[str, Rule]] = list(pipeline or [])
        self.observers: list[Callable[[World], None]] = []
        self.elapsed = 0  # months simulated so far
        self.current_month = plan.start  # calendar month being (or last) simulated
        self.month_cache: dict | None = None
        self.streams: dict[str, np.random.Generator] = {}
        self.par = Arrays(**plan.sample(n, seed_seq, dtype))
        self.st = self._initial_state()
        self._make_agents()

    # ----------------------------------------------------------------- set-up

    def stream(self, name: str) -> np.random.Generator:
        """The random stream of one rule (created on first use, keyed by name).

        Keying streams by rule name keeps each rule's draws the same when another rule
        is switched off or changed (common random numbers across variants).
        """
        g = self.streams.get(name)
        if g is None:
            import zlib

            ss = np.random.SeedSequence(
                self.seed_seq.entropy, spawn_key=(*self.seed_seq.spawn_key, 1, zlib.crc32(name.encode()))
            )
            g = self.streams[name] = np.random.Generator(np.random.PCG64(ss))
        return g

    def _initial_state(self) -> Arrays:
        p, plan, n = self.par, self.plan, self.n
        S, A, F, T, K = plan.S, plan.A, plan.F, plan.T, plan.K
        scn = plan.scenario
        si = plan.index_of("state")
        # affinity: directed; a direction not given takes the other direction's value
        given = np.zeros((S, S), dtype=bool)
        for s, spec in scn.states.items():
            for t in spec.affinity:
                given[si[s], si[t]] = True
        aff = p.affinity0.copy()
        mirror = ~given & given.T
        aff[:, mirror] = np.swapaxes(p.affinity0, 1, 2)[:, mirror]
        status = np.zeros((n, S, A), dtype=np.int8)
        trust = p.trust0.copy()
        trust_given = np.zeros((S, A), dtype=bool)
        for j, a in enumerate(plan.alliances):
            spec = scn.alliances[a]
            for m in spec.members:
                status[:, si[m], j] = ACTIVE
            for m in spec.frozen:
                status[:, si[m], j] = FROZEN
            for m in spec.trust:
                trust_given[si[m], j] = True
        fill = (status > 0) & ~trust_given[None]  # members without a stated trust
        trust = np.where(fill, p.default_trust[:, None, :], trust)
        level = np.rint(p.level0).astype(np.int8)
        controller = np.empty((n, T), dtype=np.int16)
        for j, t in enumerate(plan.territories):
            controller[:, j] = si[scn.territories[t].controller]
        mediators = np.zeros((n, F, S), dtype=bool)
        for j, f in enumerate(plan.flashpoints):
            for m in scn.flashpoints[f].mediators:
                mediators[:, j, si[m]] = True
        refuses = np.zeros((n, K, S), dtype=bool)
        for j, k in enumerate(plan.suppliers):
            for c in scn.suppliers[k].refuses:
                refuses[:, j, si[c]] = True
        cap = p.capability0.copy()
        shares = p.shares0.copy()
        monthly = p.budget / 12.0
        a_idx, b_idx = plan.sides[:, 0], plan.sides[:, 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            lr = np.log(np.maximum(cap[:, a_idx], 1e-9) / np.maximum(cap[:, b_idx], 1e-9))
        return Arrays(
            capability=cap,
            affinity=aff,
            affinity_base=aff.copy(),
            trust=trust,
            trust_base=trust.copy(),  # starting trust, which membership reverts towards
            status=status,
            shares=shares,
            backlog=p.orders0.copy(),  # USD ordered, not yet delivered (R, S, K)
            delivered=np.zeros_like(p.orders0),  # this month's deliveries
            slipped=np.zeros_like(p.orders0),  # due this month but not delivered
            refused_demand=np.zeros_like(p.orders0),  # budget share refused by suppliers that did not refuse at the start
            share_change=np.zeros_like(p.orders0),  # this month's change of import shares
            excess_slip=np.zeros_like(p.orders0),  # slipped beyond what the starting reliability implies
            reliability0=p.reliability.copy(),  # each supplier's reliability at the start (buyers' expectation)
            refused_start=self._refused_at_start(aff, refuses),
            equipment=np.zeros_like(cap),  # capability added by deliveries, depreciating
            flow=shares * monthly[:, :, None],  # delivery-weighted import flows behind the shares
            flow_other=np.clip(1.0 - shares.sum(axis=2), 0.0, 1.0) * monthly,
            level=level,
            settled=np.zeros((n, F), dtype=bool),
            casualties=np.zeros((n, F), dtype=self.dtype),
            deaths=np.zeros((n, F), dtype=self.dtype),  # this month's
            momentum=(level >= 3).astype(self.dtype),
            lr_ema=lr.astype(self.dtype),
            support=np.zeros((n, F, 2), dtype=self.dtype),
            war_months=np.zeros((n, F), dtype=np.int16),
            controller=controller,
            mediators=mediators,
            refuses=refuses,
            fired=np.zeros((n, len(plan.events)), dtype=bool),
            # alliance requests (D4): months since side sigma of f last asked A; counts per state
            request_wait=np.full((n, F, 2, A), 10_000, dtype=np.int32),
            requests=np.zeros((n, S, A), dtype=np.int16),
            responses=np.zeros((n, S, A), dtype=np.int16),
            refused_now=np.zeros((n, S, A), dtype=self.dtype),
            answered_now=np.zeros((n, S, A), dtype=self.dtype),
        )

    def _refused_at_start(self, aff: np.ndarray, refuses: np.ndarray) -> np.ndarray:
        """(R, S, K): supplier k refuses state i at the start (by list or hostility)."""
        sup = self.plan.supplier_state
        out = np.swapaxes(refuses, 1, 2).copy()
        key = "rule:procurement.refuse_below"
        if key in self.par.__dict__:
            out |= np.swapaxes(aff[:, sup, :], 1, 2) < self.par[key][:, None, None]
        return out

    def _make_agents(self) -> None:
        scn = self.plan.scenario
        self.by_key: dict[str, Any] = {}
        for i, s in enumerate(self.plan.states):
            self.by_key[s] = State(self, s, i, scn.states[s].name)
        for i, a in enumerate(self.plan.alliances):
            self.by_key[a] = Alliance(self, a, i, scn.alliances[a].name)
        for i, k in enumerate(self.plan.suppliers):
            self.by_key[k] = Supplier(self, k, i, scn.suppliers[k].name)
        for i, t in enumerate(self.plan.territories):
            self.by_key[t] = Territory(self, t, i, scn.territories[t].name)
        for i, f in enumerate(self.plan.flashpoints):
            self.by_key[f] = Flashpoint(self, f, i, scn.flashpoints[f].name)

    # ------------------------------------------------------------------ running

    @property
    def month(self) -> int:
        """Calendar month index (year * 12 + month - 1) of the simulated month.

        During a step it is the month being simulated; after it (outcome detection) it
        is still that month, until the next step starts.
        """
        return self.current_month

    def rp(self, kind: str, name: str) -> np.ndarray:
        """A rule parameter's per-replicate values: shape (R,) or (R, L)."""
        return self.par.__dict__[f"rule:{kind}.{name}"]

    def step(self) -> None:
        """Simulate one month: every rule in order, then the observers."""
        self.current_month = self.plan.start + self.elapsed
        self.month_cache = {}  # quantities rules share within this month (see sim.rules.common)
        for _, rule in self.pipeline:
            rule(self)
        self.month_cache = None  # outside a step nothing is cached
        self.elapsed += 1
        for obs in self.observers:
            obs(self)

    # --------------------------------------------------------- snapshot/restore

    def snapshot(self) -> dict:
        """Everything needed to continue this world later from exactly this point."""
        return {
            "elapsed": self.elapsed,
            "current_month": self.current_month,
            "par": self.par.copy(),
            "st": self.st.copy(),
            "streams": {k: g.bit_generator.state for k, g in self.streams.items()},
            "n": self.n,
        }

    def restore(self, snap: dict) -> None:
        """Return to a :meth:`snapshot` (same plan and replicate count)."""
        if snap["n"] != self.n:
            raise ValueError(f"snapshot has {snap['n']} replicates, this world {self.n}")
        self.elapsed = snap["elapsed"]
        self.current_month = snap["current_month"]
        self.par = snap["par"].copy()
        self.st = snap["st"].copy()
        self.streams = {}
        for k, state in snap["streams"].items():
            g = self.stream(k)
            g.bit_generator.state = state

    def release(self) -> None:
        """Let Mesa forget this model (mesa 3.3 keeps a reference to every model)."""
        mesa.Agent._ids.pop(self, None)  # type: ignore[attr-defined]
