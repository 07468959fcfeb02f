"""``sim run --from-game SAVED``: the Monte Carlo of a saved game's state, as a normal run.

The continuations after turn T of a game played with seed S are seeded with
``sim.seeding.continuation(S, T)`` and start from the snapshot the saved game holds for
that turn; with the game's number of runs, chunk size and precision they are the very
forecast the game showed after that turn.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import montecarlo
from ..api import check_run_options
from ..scenario.errors import InputError, Mark, Problem, option_error
from .continuations import prepare
from .injects import still_to_come
from .savefile import open_game


def game_state(path: str | Path, turn: int | None = None) -> dict[str, Any]:
    """What a run from a saved game needs: scenario, snapshot, seed, turn, runs, months,
    chunk size, precision, and the forecast the game recorded for that turn (if any).

    The saved game is checked as ``sim play --resume`` checks it
    (:func:`sim.play.savefile.open_game`); ``notes`` says if its scenario file changed since.
    """
    g, snaps, data = open_game(path)
    last = len(snaps) - 1
    t = last if turn is None else int(turn)
    if not 0 <= t <= last:
        raise option_error("--turn", f"the saved game has turns 0 to {last} (0: before any move); got {t}")
    forecasts = {f["turn"]: f for f in data.get("forecasts", []) if f}
    return {"scn": g.scn, "snapshot": snaps[t], "seed": g.seed, "turn": t, "runs": g.forecast_runs,
            "injects": still_to_come(g.deck, list(data.get("turns") or [])[:t]),
            "months": g.months, "chunk_size": g.chunk_size, "dtype": g.dtype, "forecast": forecasts.get(t),
            "file": str(path), "notes": g.notes}


def runner(state: dict[str, Any]) -> Callable[..., Any]:
    """A function with :func:`sim.api.run`'s options that runs the saved game's continuations."""
    def run(scn: Any = None, runs: int | None = None, seed: Any = None, *, months: int | None = None,
            workers: int | None = None, chunk_size: int | None = None, dtype: str | None = None,
            progress: Callable[[int, int], None] | None = None, backend: str = "auto", scheduler: str | None = None,
            oversubscribe: bool = False, levers: list[str] | None = None, **_: Any) -> Any:
        n = state["runs"] if runs is None else runs
        chunk = state["chunk_size"] if chunk_size is None else chunk_size
        check_run_options(n, workers, None, chunk, backend=backend, scheduler=scheduler)
        job = prepare(state["scn"], state["snapshot"], state["seed"], state["turn"], runs=n, months=state["months"],
                      injects=state["injects"], chunk_size=chunk, dtype=state["dtype"])
        engine, k = montecarlo.backend_for(job, workers=workers, backend=backend, scheduler=scheduler,
                                           oversubscribe=oversubscribe)
        res = montecarlo.execute(job, engine, k, progress, workers_requested=workers, oversubscribe=oversubscribe)
        res.manifest["from_game"] = {"file": state["file"], "turn": state["turn"], "game_seed": state["seed"],
                                     "continuation_seed": {"entropy": state["seed"], "spawn_key": list(job.spec.seed_key)}}
        return res

    return run


def check_from_game_options(**given: Any) -> None:
    """Options that cannot go with ``--from-game`` (the saved game fixes them)."""
    bad = [flag for flag, v in given.items() if v]
    if bad:
        raise InputError([Problem(Mark("<options>", option="--from-game"), "",
                                  f"{', '.join(bad)} cannot be used with --from-game: the saved game fixes the scenario, "
                                  "its seed (the game's seed and the turn) and its horizon")])
