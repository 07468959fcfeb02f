"""Hindcast: the model's forecast of every row of a dyad-year panel, by simulation.

Every row becomes the template of :mod:`sim.analysis.dyadyear`; the whole panel runs as one
vectorized Monte Carlo (rows x runs replicates, chunked, on any backend), each chunk a
year of 12 months from 1 January. What is forecast, per row (docs/CALIBRATION.md,
"hindcast: what the model forecasts"):

* ``onset`` — a militarized dispute starts in the year: the flashpoint climbs from rung 1 to
  rung 2 at least once (a dispute already running on 1 January is not an onset; one that
  ends and is followed by another is);
* for the disputes that start in the year, followed to their end (at most
  :data:`FOLLOW_CAP` months after the year): ``onset_fatal`` — someone is killed (a clash,
  a limited offensive or a war); ``onset_war`` — rung 5; ``onset_occupation`` — a limited
  offensive is launched, or war; ``onset_occupy`` — a limited offensive takes the land;
  ``onset_force`` — deaths, an offensive or war, or else a use of force without deaths,
  which the model does not separate from threats and displays (rung 2): a share
  ``force_share`` of the disputes without any (an observation parameter, fitted);
* ``ongoing`` — the flashpoint is at rung 2 or above at some point of the year;
* ``fatal_any`` — someone is killed in the year or in a dispute that starts in it and
  runs on (scored on rows with no dispute the year before only).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..runner import ChunkFailed, RunSpec, Task, make_tasks
from . import dyadyear, onset

OUTCOMES = ("onset", "onset_force", "onset_fatal", "onset_war", "onset_occupation", "onset_occupy",
            "ongoing", "fatal_any")
"""What a hindcast forecasts per row (the panel's outcome columns of the same names)."""
FLAGS = ("onset", "escalated", "fatal", "war", "occupation", "occupy", "ongoing", "fatal_any")
"""What each replicate records: ``escalated`` = deaths, an offensive or war in a dispute started in the year."""
MONTHS = 12
FOLLOW_CAP = 36
"""Months after the year that disputes started in it are followed, at most."""
FORCE_SHARE = 0.65
"""Share of the disputes without deaths, offensive or war that MID codes as a use of force;
fitted on the panel (docs/CALIBRATION.md); the value before the fit."""
WINDOW = "hindcast:rest_of_year"
"""Key of the per-replicate months left in the year when a simulated dispute starts (hybrid method)."""
DEFAULT_RUNS = 200
DEFAULT_CHUNK = 20_000


@dataclass
class RowSums:
    """Per-row sums of the replicates' flags (what chunks return and the merge adds up)."""

    rows: np.ndarray  # row indices
    sums: np.ndarray  # (len(rows), len(FLAGS))
    n: int  # replicates in the chunk
    chunk: int
    seconds: float = 0.0
    followed: int = 0  # replicates followed past the year


def hindcast_chunk(task: Task) -> RowSums:
    """Simulate one chunk of the panel (rows x runs replicates) through the year and sum its flags by row."""
    return _guarded(task, disputes=False)


def dispute_chunk(task: Task) -> RowSums:
    """Simulate one chunk of disputes started at rung 2 (one per replicate) to their end; flags by row."""
    return _guarded(task, disputes=True)


def _guarded(task: Task, disputes: bool) -> RowSums:
    try:
        return _chunk(task, disputes)
    except ChunkFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - reported with the chunk
        import traceback

        raise ChunkFailed(task.spec.name, task.chunk, task.offset, task.offset + task.n - 1,
                          f"{type(exc).__name__}: {exc}", traceback.format_exc()) from None


def _chunk(task: Task, disputes: bool) -> RowSums:
    from threadpoolctl import threadpool_limits

    from ..runner import _plan_for
    from ..world.opening import opened

    t0 = time.perf_counter()
    spec = task.spec
    plan = _plan_for(task)
    runs = spec.keep_traj  # runs per row travel in the spec's keep_traj slot (unused by hindcasts)
    fixed = dict(task.fixed or {})
    window = fixed.pop(WINDOW, None)
    fixed, switch = dyadyear.split_switched(fixed)
    n = task.n
    with threadpool_limits(limits=1, user_api="blas"), \
            opened(plan, n, spec.root(), dtype=np.dtype(spec.dtype), fixed=fixed or None, switch=switch,
                   first=task.first) as world:
        flags = np.zeros((n, len(FLAGS)), dtype=bool)
        if disputes:  # every replicate a dispute from its start, with its own rest of the year
            from ..rules.spells import new_disputes

            new_disputes(world)  # each starts now: standing or an incident (MODEL.md D3a)
            in_ep = np.ones(n, dtype=bool)
            flags[:, _F["onset"]] = True
            rest = np.asarray(window, dtype=float) if window is not None else np.full(n, MONTHS)
            for t in range(int(rest.max(initial=0))):
                in_ep = _month(world, flags, in_ep, window=t < rest)
        else:
            in_ep = np.zeros(n, dtype=bool)
            for _ in range(MONTHS):
                in_ep = _month(world, flags, in_ep, window=True)
        followed = int(in_ep.sum())
        _follow(world, flags, in_ep, FOLLOW_CAP)
    row = (task.offset + np.arange(n)) // runs
    rows, inv = np.unique(row, return_inverse=True)
    sums = np.zeros((rows.size, len(FLAGS)))
    np.add.at(sums, inv, flags)
    return RowSums(rows, sums, n, task.chunk, time.perf_counter() - t0, followed)


def _follow(world, flags: np.ndarray, open_: np.ndarray, months: int) -> None:
    """Follow the disputes still running (``open_``) for at most ``months`` months, simulating only
    them (a smaller world once fewer than half are left: each replicate draws the numbers it
    would have drawn in the whole world), recording their flags in place."""
    idx = np.arange(open_.size)
    w, own = world, False
    sub_flags = flags
    try:
        for _ in range(months):
            if not open_.any():
                break
            if open_.mean() < 0.5:
                keep = np.flatnonzero(open_)
                flags[idx] = sub_flags
                nw = w.subset(keep)
                if own:
                    w.release()
                w, own, idx, sub_flags, open_ = nw, True, idx[keep], sub_flags[keep], open_[keep]
            open_ = _month(w, sub_flags, open_, window=False)
        flags[idx] = sub_flags
    finally:
        if own:
            w.release()


_F = {name: i for i, name in enumerate(FLAGS)}


def _month(w, flags: np.ndarray, in_ep: np.ndarray, window) -> np.ndarray:
    """Step one month and record it; return which replicates are in a dispute that started
    in the year (still running at the month's end). ``window``: the month is in the year (a
    bool, or per replicate: a dispute's own rest of the year)."""
    st = w.st
    off0, gain0 = st.offensives[:, 0].copy(), st.gains[:, 0] + st.retakes[:, 0]
    w.step()
    peak, deaths = st.peak[:, 0], st.deaths[:, 0]
    inside = np.broadcast_to(np.asarray(window, dtype=bool), in_ep.shape)
    started = (st.entries[:, 0] > 0) & inside
    live = in_ep | started
    launched = st.offensives[:, 0] > off0
    took = st.gains[:, 0] + st.retakes[:, 0] > gain0  # MID's occupation of territory: any ground taken
    war = peak >= 5
    f = flags
    f[:, _F["onset"]] |= started
    f[:, _F["fatal"]] |= live & (deaths > 0)
    f[:, _F["war"]] |= live & war
    f[:, _F["occupation"]] |= live & (launched | war)
    f[:, _F["occupy"]] |= live & took
    f[:, _F["escalated"]] |= live & ((deaths > 0) | launched | war)
    f[:, _F["ongoing"]] |= inside & (peak >= 2)
    f[:, _F["fatal_any"]] |= (inside | live) & (deaths > 0)
    return live & (st.level[:, 0] >= 2) & ~st.settled[:, 0]


@dataclass
class Hindcast:
    """Forecasts of a panel: one row per panel row, one column per outcome (probabilities)."""

    panel: Any  # the panel's DataFrame (its key columns at least)
    forecasts: Any  # DataFrame: ccode1, ccode2, year, then OUTCOMES
    runs: int
    seed: int
    force_share: float
    meta: dict = field(default_factory=dict)


def _simulate(panel, runs: int, seed: int, rules: dict | None, persistence: float, chunk_size: int,
              workers, backend, scheduler, progress, dtype: str, disputes: bool,
              rest: np.ndarray | None = None) -> tuple[np.ndarray, dict]:
    """Per-row shares of each flag over ``runs`` runs: the year simulated, or (``disputes``) a dispute
    started at rung 2 and followed to its end. One vectorized Monte Carlo over rows x runs."""
    from .. import api
    from ..montecarlo import make_backend
    from ..runner import PerSet, execute, remember_plan
    from ..world.compile import compile_plan

    scn = api.load_scenario(dyadyear.template(rules))
    horizon = MONTHS + FOLLOW_CAP
    plan = compile_plan(scn.spec, scn.rules, horizon)
    key = f"hindcast-{'disputes' if disputes else 'year'}-{scn.sha256()}"
    remember_plan(key, plan)
    n_rows = len(panel)
    total = n_rows * runs
    fixed = dyadyear.row_inputs(panel, runs, persistence)
    if disputes:
        fixed["flashpoints.f.level"] = PerSet(np.full(n_rows, 2.0), runs)
        if rest is not None:  # (rows, runs): months of the year left when each run's dispute starts
            fixed[WINDOW] = dyadyear.Stratified(rest, runs)
    root = np.random.SeedSequence(int(seed), spawn_key=(1,) if disputes else ())
    spec = RunSpec(key=key, name="dyad_year", scenario=scn.resolved(), horizon=horizon, dtype=dtype,
                   seed_entropy=int(root.entropy), seed_key=tuple(root.spawn_key), fixed=fixed,
                   switch=dyadyear.SWITCHED, keep_traj=runs)
    tasks = make_tasks(spec, total, chunk_size)
    sums = np.zeros((n_rows, len(FLAGS)))
    followed = 0

    def merge(r: RowSums) -> None:
        nonlocal followed
        sums[r.rows] += r.sums
        followed += r.followed

    be, used = make_backend(total, MONTHS, len(tasks), workers=workers, backend=backend, scheduler=scheduler)
    done = execute(tasks, be, merge, progress, fn=dispute_chunk if disputes else hindcast_chunk)
    return sums / runs, {"replicates": done, "followed": followed, "chunks": len(tasks), "workers": used,
                         "scenario_sha256": scn.sha256()}


def rest_of_year(survival: np.ndarray, runs: int) -> np.ndarray:
    """(rows, runs): for each run of a row, the months of the year left when its first dispute starts
    (the onset month counted), spread over the runs by the exact distribution of the first onset's
    month given that one starts (stratified: run j takes the (j + 1/2)/runs quantile)."""
    first = survival[:, :-1] - survival[:, 1:]  # P(first onset in month m), m = 1..12
    total = first.sum(axis=1, keepdims=True)
    cdf = np.cumsum(first / np.where(total > 0, total, 1.0), axis=1)
    cdf[:, -1] = 1.0
    u = (np.arange(runs) + 0.5) / runs
    month = np.array([np.searchsorted(c, u) for c in cdf]) + 1  # 1..12
    return (MONTHS - month + 1).astype(float)


def forecast(panel, *, runs: int = DEFAULT_RUNS, seed: int = 1, rules: dict | None = None,
             persistence: float = dyadyear.PERSISTENCE, force_share: float = FORCE_SHARE,
             chunk_size: int = DEFAULT_CHUNK, workers: int | None = None, backend: str = "auto",
             scheduler: str | None = None, progress=None, dtype: str = "float64",
             method: str = "hybrid") -> Hindcast:
    """The model's forecast of every row of ``panel`` (a DataFrame with the feature columns).

    ``method="hybrid"`` (the default): for a dyad not in a dispute at the start, whether a
    dispute starts in the year is computed exactly (:mod:`sim.analysis.onset`: nothing moves
    the rates below rung 2 until one starts), and what a dispute that starts does is
    simulated — ``runs`` disputes per row, from rung 2 with the row's record and setting,
    followed to their end; P(a dispute starts and kills) is the product. A dyad in a dispute
    at the start has its whole year simulated (``runs`` runs). ``method="simulate"``
    simulates every row's year (the check of the hybrid: both agree within Monte Carlo
    error, tests/test_hindcast.py). Either way one vectorized Monte Carlo, on any backend.
    """
    import pandas as pd

    if method not in ("hybrid", "simulate"):
        raise ValueError(f"method must be 'hybrid' or 'simulate', not {method!r}")
    t0 = time.perf_counter()
    frame = panel.reset_index(drop=True)
    hot = frame["mid_ongoing_prev"].to_numpy(dtype=float) > 0.5
    n = len(frame)
    p = np.zeros((n, len(FLAGS)))
    meta: dict = {"method": method}
    args = (runs, seed, rules, persistence, chunk_size, workers, backend, scheduler, progress, dtype)
    if method == "simulate":
        p[:], meta["year"] = _simulate(frame, *args, disputes=False)
    else:
        from .. import api

        if hot.any():
            p[hot], meta["year"] = _simulate(frame[hot], *args, disputes=False)
        calm = ~hot
        if calm.any():
            scn = api.load_scenario(dyadyear.template(rules))
            r = onset.Rates.of_rules(scn.rules)
            survival = onset.calm_survival(onset.design(frame[calm], rules), r, MONTHS)  # (n, 13)
            p_on = 1.0 - survival[:, -1]
            h, meta["disputes"] = _simulate(frame[calm], *args, disputes=True, rest=rest_of_year(survival, runs))
            p[calm] = h * p_on[:, None]
            p[calm, _F["onset"]] = p_on
            p[calm, _F["ongoing"]] = p_on
    onset_p, esc = p[:, _F["onset"]], p[:, _F["escalated"]]
    out = pd.DataFrame({"ccode1": frame["ccode1"].to_numpy(), "ccode2": frame["ccode2"].to_numpy(),
                        "year": frame["year"].to_numpy()})
    out["onset"] = onset_p
    out["onset_force"] = esc + force_share * (onset_p - esc)
    out["onset_fatal"] = p[:, _F["fatal"]]
    out["onset_war"] = p[:, _F["war"]]
    out["onset_occupation"] = p[:, _F["occupation"]]
    out["onset_occupy"] = p[:, _F["occupy"]]
    out["ongoing"] = p[:, _F["ongoing"]]
    out["fatal_any"] = np.where(hot, p[:, _F["fatal_any"]], p[:, _F["fatal"]])
    meta["seconds"] = time.perf_counter() - t0
    meta["replicates"] = sum(m["replicates"] for k, m in meta.items() if k in ("year", "disputes"))
    return Hindcast(frame, out, runs, seed, force_share, meta)
