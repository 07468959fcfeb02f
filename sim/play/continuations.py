"""A game's forecast: the Monte Carlo continuations of its one replicate from a snapshot.

Below :mod:`sim.play.game` (which forecasts after every turn) and :mod:`sim.play.explain`
(which runs them again from counterfactual snapshots to say why a forecast moved), so that
neither imports the other for it.
"""

from __future__ import annotations

from typing import Any

from .. import montecarlo, seeding


def continuations(scn: Any, snapshot: dict, seed: int, turn: int, *, runs: int, months: int,
                  chunk_size: int | None = None, dtype: str = "float32", consumers: list[Any] | None = None,
                  **backend: Any) -> Any:
    """The Monte Carlo continuations of a game after turn ``turn``: ``runs`` replicates
    continuing its one replicate from ``snapshot`` to month ``months``, seeded with
    :func:`sim.seeding.continuation` ``(seed, turn)``. Returns :class:`~sim.results.Results`.
    ``consumers`` take each chunk's per-replicate data (which outcomes each continuation
    saw: :class:`sim.analysis.compare.Flags`)."""
    job = montecarlo.prepare(scn, runs=runs, seed=seeding.continuation(seed, turn), months=months,
                             chunk_size=chunk_size, dtype=dtype, start=snapshot, start_replicate=0,
                             per_replicate=bool(consumers), keep_trajectories=0 if consumers else 300)
    engine, n = montecarlo.backend_for(job, **backend)
    res = montecarlo.execute(job, engine, n, consumers=consumers)
    if res.stopped_by == "interrupt":  # a partial forecast is no forecast: stop (the game is saved without it)
        raise KeyboardInterrupt
    if res.stopped_by == "SIGTERM":
        from ..interrupts import Terminated

        raise Terminated
    res.manifest["from_game"] = {"turn": turn, "game_seed": seed,
                                 "continuation_seed": {"entropy": seed, "spawn_key": list(job.spec.seed_key)}}
    return res
