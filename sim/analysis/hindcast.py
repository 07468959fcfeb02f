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

from ..runner import LEVER_PREFIX, ChunkFailed, RunSpec, Task, make_tasks
from . import dyadyear

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
    """Simulate one chunk of the panel (rows x runs replicates) and sum its flags by row."""
    try:
        return _chunk(task)
    except ChunkFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - reported with the chunk
        import traceback

        raise ChunkFailed(task.spec.name, task.chunk, task.offset, task.offset + task.n - 1,
                          f"{type(exc).__name__}: {exc}", traceback.format_exc()) from None


def _chunk(task: Task) -> RowSums:
    from threadpoolctl import threadpool_limits

    from ..rules import build_pipeline
    from ..runner import _plan_for
    from ..seeding import child, chunk_sequence
    from ..world.model import World

    t0 = time.perf_counter()
    spec = task.spec
    plan = _plan_for(task)
    runs = spec.keep_traj  # runs per row travel in the spec's keep_traj slot (unused by hindcasts)
    ss = chunk_sequence(spec.root(), task.chunk)
    fixed = dict(task.fixed or {})
    switched = {k: fixed.pop(k) for k in list(fixed) if k.startswith(LEVER_PREFIX)}
    n = task.n
    with threadpool_limits(limits=1, user_api="blas"):
        world = World(plan, n, ss, build_pipeline(plan), dtype=np.dtype(spec.dtype), fixed=fixed or None)
        try:
            for actor, lever in spec.switch:
                on = np.asarray(switched[f"{LEVER_PREFIX}{actor}.{lever}"]) >= 0.5
                if on.any():
                    world.apply_effect(plan.scenario.levers[actor][lever].effect, on)
            flags = np.zeros((n, len(FLAGS)), dtype=bool)
            in_ep = np.zeros(n, dtype=bool)
            for _ in range(MONTHS):
                in_ep = _month(world, flags, in_ep, window=True)
            followed = int(in_ep.sum())
            if followed:  # follow the disputes still running, and only them
                idx = np.flatnonzero(in_ep)
                sub = world.subset(idx, child(ss, 1))
                try:
                    sub_flags = flags[idx]
                    open_ = np.ones(idx.size, dtype=bool)
                    for _ in range(FOLLOW_CAP):
                        open_ = _month(sub, sub_flags, open_, window=False)
                        if not open_.any():
                            break
                    flags[idx] = sub_flags
                finally:
                    sub.release()
        finally:
            world.release()
    row = (task.offset + np.arange(n)) // runs
    rows, inv = np.unique(row, return_inverse=True)
    sums = np.zeros((rows.size, len(FLAGS)))
    np.add.at(sums, inv, flags)
    return RowSums(rows, sums, n, task.chunk, time.perf_counter() - t0, followed)


_F = {name: i for i, name in enumerate(FLAGS)}


def _month(w, flags: np.ndarray, in_ep: np.ndarray, window: bool) -> np.ndarray:
    """Step one month and record it; return which replicates are in a dispute that started
    in the year (still running at the month's end)."""
    st = w.st
    off0, seiz0 = st.offensives[:, 0].copy(), st.seizures[:, 0].copy()
    w.step()
    peak, deaths = st.peak[:, 0], st.deaths[:, 0]
    started = (st.entries[:, 0] > 0) if window else np.zeros_like(in_ep)
    live = in_ep | started
    launched = st.offensives[:, 0] > off0
    took = st.seizures[:, 0] > seiz0
    war = peak >= 5
    f = flags
    f[:, _F["onset"]] |= started
    f[:, _F["fatal"]] |= live & (deaths > 0)
    f[:, _F["war"]] |= live & war
    f[:, _F["occupation"]] |= live & (launched | war)
    f[:, _F["occupy"]] |= live & took
    f[:, _F["escalated"]] |= live & ((deaths > 0) | launched | war)
    if window:
        f[:, _F["ongoing"]] |= peak >= 2
        f[:, _F["fatal_any"]] |= deaths > 0
    else:
        f[:, _F["fatal_any"]] |= live & (deaths > 0)
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


def forecast(panel, *, runs: int = DEFAULT_RUNS, seed: int = 1, rules: dict | None = None,
             persistence: float = dyadyear.PERSISTENCE, force_share: float = FORCE_SHARE,
             chunk_size: int = DEFAULT_CHUNK, workers: int | None = None, backend: str = "auto",
             scheduler: str | None = None, progress=None, dtype: str = "float64") -> Hindcast:
    """The model's forecast of every row of ``panel`` (a DataFrame with the feature columns),
    ``runs`` runs per row, as one vectorized Monte Carlo."""
    import pandas as pd

    from .. import api
    from ..montecarlo import make_backend
    from ..runner import execute, remember_plan

    t0 = time.perf_counter()
    scn = api.load_scenario(dyadyear.template(rules))
    from ..world.compile import compile_plan

    plan = compile_plan(scn.spec, scn.rules, MONTHS + FOLLOW_CAP)
    key = f"hindcast-{scn.sha256()}"
    remember_plan(key, plan)
    n_rows = len(panel)
    total = n_rows * runs
    fixed = dyadyear.row_inputs(panel, runs, persistence)
    root = np.random.SeedSequence(int(seed))
    spec = RunSpec(key=key, name="dyad_year", scenario=scn.resolved(), horizon=MONTHS + FOLLOW_CAP, dtype=dtype,
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
    done = execute(tasks, be, merge, progress, fn=hindcast_chunk)
    p = sums / runs
    onset, esc = p[:, _F["onset"]], p[:, _F["escalated"]]
    out = pd.DataFrame({"ccode1": panel["ccode1"].to_numpy(), "ccode2": panel["ccode2"].to_numpy(),
                        "year": panel["year"].to_numpy()})
    out["onset"] = onset
    out["onset_force"] = esc + force_share * (onset - esc)
    out["onset_fatal"] = p[:, _F["fatal"]]
    out["onset_war"] = p[:, _F["war"]]
    out["onset_occupation"] = p[:, _F["occupation"]]
    out["onset_occupy"] = p[:, _F["occupy"]]
    out["ongoing"] = p[:, _F["ongoing"]]
    out["fatal_any"] = p[:, _F["fatal_any"]]
    meta = {"replicates": done, "followed": followed, "seconds": time.perf_counter() - t0,
            "chunks": len(tasks), "workers": used, "scenario_sha256": scn.sha256()}
    return Hindcast(panel, out, runs, seed, force_share, meta)

