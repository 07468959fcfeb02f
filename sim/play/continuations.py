"""A game's forecast: the Monte Carlo continuations of its one replicate from a snapshot.

Below :mod:`sim.play.game` (which forecasts after every turn), :mod:`sim.play.explain`
(which runs them again from counterfactual snapshots to say why a forecast moved) and
:mod:`sim.play.replay` (``sim run --from-game``), so that all three run the same
continuations.

What the continuations presume of what comes next:

* the played countries' later decisions (an offensive, a request for help, a change of
  membership) are drawn at the model's own odds, the advice their teams see
  (:func:`start_of`: the snapshot's ``advised`` state set for them,
  :func:`sim.parts.model_decides`); their policies stay off, and in the game itself the
  model never decides for them: their teams' orders replace these draws turn by turn;
* the deck's injects that fire by themselves (``at`` a month, ``when`` a condition holds)
  and have not fired yet happen as they would in the game: at the start of their month,
  before its rules, each at most once per continuation (``injects``,
  :meth:`sim.play.game.Game.pending_injects`); those the instructor plays by hand do not.
"""

from __future__ import annotations

from typing import Any

from .. import montecarlo, seeding
from ..parts import ADVISED


def start_of(snapshot: dict) -> dict:
    """The world a forecast's continuations start from: the game's ``snapshot`` with its
    played states ``advised`` (the model draws their later decisions at its own odds).
    The snapshot itself is left as it is."""
    st = snapshot["st"].copy()
    st[ADVISED][:] = st.played
    return {**snapshot, "st": st}


def prepare(scn: Any, snapshot: dict, seed: int, turn: int, *, runs: int, months: int,
            injects: list[dict] | tuple = (), chunk_size: int | None = None, dtype: str = "float32",
            **options: Any) -> Any:
    """The :class:`sim.montecarlo.Job` of a game's continuations after turn ``turn``
    (``options``: :func:`sim.montecarlo.prepare`'s ``per_replicate``, ``keep_trajectories``)."""
    return montecarlo.prepare(scn, runs=runs, seed=seeding.continuation(seed, turn), months=months,
                              chunk_size=chunk_size, dtype=dtype, start=start_of(snapshot), start_replicate=0,
                              month_effects=tuple(injects), **options)


def continuations(scn: Any, snapshot: dict, seed: int, turn: int, *, runs: int, months: int,
                  injects: list[dict] | tuple = (), chunk_size: int | None = None, dtype: str = "float32",
                  consumers: list[Any] | None = None, **backend: Any) -> Any:
    """The Monte Carlo continuations of a game after turn ``turn``: ``runs`` replicates
    continuing its one replicate from ``snapshot`` to month ``months``, seeded with
    :func:`sim.seeding.continuation` ``(seed, turn)``, with the played states' later
    decisions at the model's odds and the deck's ``injects`` still to come
    (:meth:`sim.play.game.Game.pending_injects`). Returns :class:`~sim.results.Results`.
    ``consumers`` take each chunk's per-replicate data (which outcomes each continuation
    saw: :class:`sim.analysis.compare.Flags`)."""
    job = prepare(scn, snapshot, seed, turn, runs=runs, months=months, injects=injects, chunk_size=chunk_size,
                  dtype=dtype, per_replicate=bool(consumers), keep_trajectories=0 if consumers else 300)
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
