"""Recording a world as it runs: first-hit months, co-occurrences, final values, series.

A :class:`Recorder` observes a world month by month and accumulates, per chunk of
replicates, everything the results need — first-hit month histograms, co-occurrence
counts for conditional probabilities, final-value sums and a bounded sample, per-month
series and the trajectories of a few replicates — as fixed-size arrays. Memory does not
grow with the number of runs.

Which state arrays go into the series, the trajectories and the final-value samples is
what each declares (:class:`sim.parts.Shows`): nothing here names a rule's state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..parts import SECTIONS, registry
from .base import Detector, combine_order

if TYPE_CHECKING:
    from ..world.model import World

FINAL_SAMPLE = 10_000
"""Final values are kept for the first this-many replicates of a run (for quantiles)."""


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
    series: dict[str, np.ndarray]  # per-month sums / counts of the states declared recorded (Shows.record)
    traj: dict[str, np.ndarray]  # (k, H, ...) months of the sampled replicates (Shows.trajectories)
    first_hit_sample: np.ndarray  # (k, O) first-hit months of the sampled replicates
    final_sample: dict[str, np.ndarray]  # (k, ...) final values, first replicates of the run (Shows.final)
    count_names: tuple[str, ...] = ()  # declared event types, in registry order
    counts_sum: np.ndarray | None = None  # (E,) events per type summed over replicates
    counts_sq: np.ndarray | None = None  # (E,) sums of squares (for standard errors)
    seconds: float = 0.0
    peak_rss_mb: float = 0.0  # the worker's peak resident memory when it finished this chunk
    kernels: dict[str, int] | None = None  # kernels its process loaded / compiled while it ran (runner)
    patterns: dict[bytes, int] | None = None  # replicates per combination of outcomes that happened
    replicates: dict | None = None  # per-replicate data when asked for (see Recorder.per_replicate)


def _counts(x: np.ndarray, L: int) -> np.ndarray:
    """How many replicates hold each value 0..L-1, per element: (R, ...) -> (..., L).
    Values outside 0..L-1 are not counted."""
    n = x.shape[0]
    shape = x.shape[1:]
    m = math.prod(shape)
    if x.dtype.kind in "iu" and x.dtype.itemsize <= 4 and n:  # compiled: one pass, no temporaries
        # numba (compiled on first use, cached on disk)
        from ..world.tally_kernel import level_counts

        out = np.empty((m, L), dtype=np.int64)
        level_counts(np.ascontiguousarray(x).reshape(n, m), L, out)
        return out.reshape(*shape, L)
    flat = x.reshape(n, m).astype(np.intp)
    idx = flat + L * np.arange(m, dtype=np.intp)
    valid = (flat >= 0) & (flat < L)
    if not valid.all():
        idx = idx[valid]
    return np.bincount(idx.ravel(), minlength=m * L)[: m * L].reshape(*shape, L)


def _summer(n: int):
    """Sums over the replicate axis as a product with a vector of ones (BLAS: a few times
    faster than ``sum(axis=0)`` on (R, small) arrays), in the array's float type (bool:
    float32, exact for counts below 2^24)."""
    ones = {np.dtype(np.float32): np.ones(n, dtype=np.float32), np.dtype(np.float64): np.ones(n)}

    def total(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.dtype not in ones:
            x = x.astype(np.float32)
        flat = x.reshape(n, math.prod(x.shape[1:]))
        out = ones[x.dtype] @ flat if n else np.zeros(flat.shape[1], dtype=x.dtype)
        return out.reshape(x.shape[1:])

    return total


def column_sums(flat: np.ndarray, cols: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Sums over the replicates of the columns ``cols`` of an (R, M) array, each column's
    the same whichever others are asked for (:func:`sim.world.tally_kernel.column_sums`):
    float64 for floats, int64 for integers and booleans. Into ``out`` (M,) at the columns'
    places when given (returned), else a new (len(cols),) array."""
    # numba (compiled on first use, cached on disk)
    from ..world.tally_kernel import column_sums as sums

    dest = np.zeros(flat.shape[1], dtype=np.float64 if flat.dtype.kind == "f" else np.int64) if out is None else out
    sums(flat if flat.dtype.kind != "b" else flat.view(np.uint8), cols, dest)
    return dest if out is not None else dest[cols]


_COLUMNS: dict[int, np.ndarray] = {}


def _every(m: int) -> np.ndarray:
    """0 .. m - 1 (intp), kept: the columns of a record summed whole."""
    cols = _COLUMNS.get(m)
    if cols is None:
        cols = _COLUMNS[m] = np.arange(m, dtype=np.intp)
    return cols


class Carried:
    """The monthly sum of a ``mean`` record whose elements mostly stand still
    (:attr:`sim.parts.StateVar.moves`: affinity, S x S, of which the rules move the pairs
    something reads): the elements that move (declared, or written by an effect since the
    world opened: :attr:`sim.world.model.World.written`) are summed every month, the
    others once, when the recorder first sees the array, and carried forward. A month then
    costs the moving elements, not S². Every column is summed on its own
    (:func:`column_sums`), so the carried sums are the bits a sum every month would give;
    :meth:`check` makes sure, at the end of the chunk, that nothing else moved."""

    def __init__(self, state: str, moves: np.ndarray, shape: tuple[int, ...]):
        self.state = state
        self.declared = np.asarray(moves, dtype=bool).reshape(-1)
        self.shape = shape
        self.array: np.ndarray | None = None  # the world's array when the still sums were taken
        self.n_written = -1
        self.moving = self.still = np.zeros(0, dtype=np.intp)
        self.row = np.zeros(0)  # the still elements' sums in their places (zero at the moving ones)
        self.copied: tuple | None = None  # the world's copy's indices, where the moving elements are in it, the others

    def total(self, x: np.ndarray, written: set[tuple[int, ...]], dest: np.ndarray,
              latest: tuple | None = None) -> None:
        """This month's sums over the replicates into ``dest`` (flat, the series' row); the
        still elements are summed again only for a new array, or when an effect wrote an
        element since. ``latest``: the world's contiguous copy of some elements as the rule
        that moved them wrote them this month (:attr:`sim.world.model.World.latest`, checked
        by the caller); those are summed from there, in the same order (the same bits), the
        other moving elements from ``x``."""
        flat = np.ascontiguousarray(x).reshape(x.shape[0], self.declared.size)
        if x is not self.array or len(written) != self.n_written:
            moving = self.declared.copy()
            for idx in written:
                moving[np.ravel_multi_index(idx, self.shape)] = True
            self.moving, self.still = np.flatnonzero(moving), np.flatnonzero(~moving)
            self.row = column_sums(flat, self.still, np.zeros(flat.shape[1], dtype=dest.dtype))
            self.array, self.n_written = x, len(written)
            self.copied = None
        dest[:] = self.row
        if latest is None:
            column_sums(flat, self.moving, dest)
            return
        _, where, values, _ = latest
        if self.copied is None or self.copied[0] is not where:  # which moving elements the copy holds
            at = np.full(flat.shape[1], -1, dtype=np.intp)
            at[where] = np.arange(where.size)
            pos = at[self.moving]
            self.copied = (where, np.ascontiguousarray(pos[pos >= 0]), self.moving[pos < 0])
        _, pos, rest = self.copied
        if pos.size:
            sums = column_sums(values, pos, np.empty(values.shape[1], dtype=dest.dtype))
            dest[where[pos]] = sums[pos]
        if rest.size:
            column_sums(flat, rest, dest)

    def check(self, x: np.ndarray) -> None:
        """Raise if an element taken as still changed since its sum was taken (a mechanism
        that changes the state month by month without declaring it)."""
        if x is not self.array or not self.still.size:
            return
        now = column_sums(np.ascontiguousarray(x).reshape(x.shape[0], self.declared.size), self.still)
        was = self.row[self.still]
        same = (now == was) | (np.isnan(now) & np.isnan(was))
        if not same.all():
            where = np.unravel_index(self.still[np.flatnonzero(~same)][:3], self.shape)
            raise RuntimeError(
                f"state '{self.state}' changed at elements {list(zip(*(w.tolist() for w in where), strict=True))} "
                "that no rule declares it moves (sim.parts.declare_state(moves=...); for affinity "
                "sim.rules.reads.declare_affinity_writes): its recorded monthly mean would be wrong")


class Recorder:
    """Observes a world month by month and accumulates a :class:`ChunkResult`.

    Args:
        world: The world to observe (the recorder registers itself as an observer).
        detectors: Compiled outcomes.
        chunk: The chunk index (for merging in order).
        offset: Global index of this chunk's first replicate (for the samples).
        keep_final: Keep final values of replicates with global index below this.
        keep_traj: Keep full trajectories of replicates with global index below this.
        record: Parameter paths whose per-replicate starting values are returned with
            per-replicate data (first-hit months, final values, event counts); None for
            no per-replicate data.
        switched: Levers switched per replicate, ``{"lever:actor.lever": values}``
            (returned with the per-replicate data as on/off flags).
        series: Also return, with the per-replicate data, every replicate's monthly
            values of each state declared recorded (``record`` not ``none``: the value
            for ``mean`` records, the level itself for ``counts``), at the state's own
            precision: ``{state: (elements, replicates, months)}`` (see
            :mod:`sim.trajectories`).
    """

    def __init__(self, world: World, detectors: list[Detector], chunk: int, offset: int, keep_final: int = FINAL_SAMPLE, keep_traj: int = 300,
                 record: tuple[str, ...] | None = None, switched: dict[str, np.ndarray] | None = None,
                 series: bool = False):
        self.w = world
        self.offset = offset
        self.params = None if record is None else {p: self._start_value(p) for p in record}
        if self.params is not None:
            self.params.update({k: np.asarray(v) >= 0.5 for k, v in (switched or {}).items()})
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
        sizes = plan.sizes
        self.shows = [sh for sh in registry().shows() if sh.state in world.st.names()]
        self.carried: dict[str, Carried] = {}  # mean records summed where they move (Carried)
        for sh in self.shows:
            decl = registry().state.get(sh.state)
            if sh.record == "mean" and decl is not None and decl.moves is not None:
                shape = world.st[sh.state].shape[1:]
                moves = decl.moves(plan)  # None: every element may move (summed the same way, each month)
                self.carried[sh.state] = Carried(sh.state, np.ones(shape, bool) if moves is None else moves, shape)
        self.series: dict[str, np.ndarray] = {}
        self.levels: dict[str, int] = {}
        k = self.k_traj
        self.traj: dict[str, np.ndarray] = {}
        for sh in self.shows:
            arr = world.st[sh.state]
            shape = arr.shape[1:]
            if sh.record == "counts":
                L = sizes[SECTIONS[sh.levels]] if isinstance(sh.levels, str) else len(sh.levels)
                self.levels[sh.state] = L
                self.series[sh.series_name] = np.zeros((H, *shape, L), dtype=np.int64)
            elif sh.record == "mean":
                self.series[sh.series_name] = np.zeros((H, *shape), dtype=np.int64 if arr.dtype.kind in "biu" else np.float64)
            if sh.trajectories:
                self.traj[sh.state] = np.zeros((k, H, *shape), dtype=arr.dtype if arr.dtype.kind in "biu" else np.float32)
        # every replicate's months, element-major so that each element's values are contiguous
        self.rep_series: dict[str, np.ndarray] | None = None
        if series:
            self.rep_series = {sh.state: np.zeros((int(np.prod(world.st[sh.state].shape[1:])), R, H), world.st[sh.state].dtype)
                               for sh in self.shows if sh.record in ("mean", "counts")}
        self.conds = [d.bind(world) for d in detectors]
        self.total = _summer(R)  # the float records' monthly sums
        world.observers.append(self.observe)

    def _start_value(self, path: str) -> np.ndarray:
        """Each replicate's value of a parameter as the run starts (after levers pulled from the start)."""
        w = self.w
        ad = w.plan.address(path)
        if ad is None:  # events[i].probability, levers.A.L.policy.probability: sampled, not addressable
            e = next((e for e in w.plan.entries if e.path == path), None)
            if e is not None:
                return np.asarray(w.par[e.array][(slice(None), *e.index)], dtype=float).copy()
        if ad is None or ad.kind not in ("num", "int"):
            raise KeyError(f"'{path}' is not a numeric parameter of this scenario")
        if ad.space == "st":  # an attribute that initialises state: its value now
            return np.asarray(w.st[ad.array][(slice(None), *ad.index)], dtype=float).copy()
        return np.asarray(w.par[ad.array][(slice(None), *ad.index)], dtype=float).copy()

    def history(self) -> dict:
        """What this recorder saw of replicate 0 so far (a played game's one replicate):
        first-hit months by outcome name, and the per-month series and trajectory rows
        of the months simulated. :meth:`preload` gives it to the recorder of the game's
        continuations, so that their results cover the whole game."""
        t = min(self.w.elapsed, self.H)
        first = {d.name: int(self.first[i, 0]) for i, d in enumerate(self.dets) if d.cond is not None and self.w.n}
        return {
            "months": t,
            "first": first,
            "series": {k: v[:t].copy() for k, v in self.series.items()},
            "traj": {k: v[:1, :t].copy() for k, v in self.traj.items()} if self.k_traj else {},
        }

    def preload(self, history: dict) -> None:
        """Start from a played game's :meth:`history`: every replicate here continues that
        game, so each has its outcomes so far and its past months."""
        n = self.w.n
        for i, d in enumerate(self.dets):
            m = history["first"].get(d.name, 0) if d.cond is not None else 0
            if m:
                self.first[i, :] = m
        t = min(int(history["months"]), self.H)
        for k, v in history["series"].items():
            if k in self.series and t:
                self.series[k][:t] = (np.asarray(v)[:t] * n).astype(self.series[k].dtype)
        for k, v in history.get("traj", {}).items():
            if k in self.traj and self.k_traj and t:
                self.traj[k][:, :t] = np.asarray(v)[0, :t]

    def observe(self, w: World) -> None:
        t = w.elapsed  # 1-based month just simulated
        if t > self.H:
            return
        first = self.first
        for i in self.prim:
            row = first[i]
            np.copyto(row, t, where=np.asarray(self.conds[i](w) & (row == 0), dtype=bool))
        r = t - 1
        total = self.total
        for sh in self.shows:
            x = w.st[sh.state]
            carried = self.carried.get(sh.state)
            if carried is not None:
                latest = w.latest.get(sh.state)
                if latest is not None and (latest[0] is not x or latest[3] != t):
                    latest = None  # not this array, or not this month's values
                carried.total(x, w.written.get(sh.state, set()), self.series[sh.series_name][r].reshape(-1), latest)
            elif sh.record == "counts":
                self.series[sh.series_name][r] = _counts(x, self.levels[sh.state])
            elif sh.record == "mean":
                if x.dtype.kind in "biu":  # counts: compiled column sums (numpy's bool sum over axis 0 took 30 us)
                    dest = self.series[sh.series_name][r].reshape(-1)
                    column_sums(np.ascontiguousarray(x).reshape(x.shape[0], dest.size), _every(dest.size), dest)
                else:
                    self.series[sh.series_name][r] = total(x)
            if sh.trajectories and self.k_traj:  # the first replicates of the run (chunk 0): every element
                self.traj[sh.state][:, r] = x[: self.k_traj]
            if self.rep_series is not None and sh.state in self.rep_series:
                acc = self.rep_series[sh.state]
                acc[:, :, r] = x.reshape(w.n, acc.shape[0]).T

    def result(self, seconds: float = 0.0) -> ChunkResult:
        """Combine, summarize and return the chunk's contribution."""
        w, dets, first = self.w, self.dets, self.first
        for state, carried in self.carried.items():
            carried.check(w.st[state])
        for i in combine_order(dets):
            first[i] = dets[i].combine(first[dets[i].of])
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
        finals = np.full((O, w.n), np.nan) if self.params is not None else None
        for i, d in enumerate(dets):
            if d.value is not None:
                v = np.asarray(d.value(w), dtype=float)
                vsum[i] = v.sum()
                vsq[i] = (v * v).sum()
                vs[i] = v[: self.k_final]
                if finals is not None:
                    finals[i] = v
        codes = np.packbits(first > 0, axis=0) if O else np.zeros((1, w.n), dtype=np.uint8)
        keys, freq = np.unique(codes.T, axis=0, return_counts=True) if w.n else (np.zeros((0, codes.shape[0]), np.uint8), [])
        patterns = {k.tobytes(): int(c) for k, c in zip(keys, freq, strict=True)}
        per_rep = None
        if self.params is not None:
            per_rep = {
                "offset": self.offset,
                "first": first.copy(),
                "final": finals,
                "counts": {k: v.copy() for k, v in w.counts.items()},
                "params": self.params,
            }
            if self.rep_series is not None:
                per_rep["series"] = self.rep_series
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
            final_sample={sh.state: w.st[sh.state][: self.k_final].astype(float) for sh in self.shows if sh.final},
            count_names=tuple(w.counts),
            counts_sum=np.array([c.sum(dtype=np.float64) for c in w.counts.values()]),
            counts_sq=np.array([np.square(c, dtype=np.float64).sum() for c in w.counts.values()]),
            seconds=seconds,
            patterns=patterns,
            replicates=per_rep,
        )
