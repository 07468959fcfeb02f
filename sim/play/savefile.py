"""A saved game: one JSON file holding everything needed to resume it or re-run its forecasts.

It holds the scenario (as resolved data, with its SHA-256), the seed, who is played,
the turn reached, the world's snapshot after every turn, the moves and injects of each
turn, the forecasts with the seeds of their continuations, the baseline, and the story
so far. Arrays are stored exactly (their bytes, base64), so a resumed game continues
bit for bit as if it had never stopped. The file is written under a temporary name and
renamed into place: a save either completes or leaves the previous one whole.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..api import load_scenario
from ..scenario.errors import InputError, Mark, Problem
from ..version import __version__
from . import savecheck
from .game import Game
from .injects import Inject
from .savecheck import read_file
from .savecodec import FORMAT, DecodeError, decode, encode  # noqa: F401 - the codec; callers find it here too
from .track import Track


def write(path: str | Path, data: dict[str, Any]) -> Path:
    """Write a saved game atomically (temporary file, then rename): the previous save stays
    whole if this one fails, which is an :class:`~sim.files.OutputError` naming the file
    (a full disk, a read-only folder)."""
    from ..files import OutputError, atomic_write

    path = Path(path)
    text = json.dumps({"format": FORMAT, **data}, separators=(",", ":"))  # (game_data has it first already)
    try:
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, text)
    except OSError as exc:
        raise OutputError.from_os(path, exc) from exc
    return path


def read(path: str | Path) -> dict[str, Any]:
    """Read a saved game's JSON: a clear error if the file is not one (:func:`sim.play.savecheck.read_file`)."""
    return read_file(path)


def game_data(game: Any) -> dict[str, Any]:
    """Everything a :class:`~sim.play.game.Game` needs to resume, as JSON data."""
    scn = game.scn
    return {
        "format": FORMAT,  # in the data itself: a class game's database row is read as a file is
        "sim_version": __version__,
        "scenario": {"name": scn.name, "file": str(scn.path), "overrides": encode(dict(scn.overrides)),
                     "resolved": scn.resolved(), "sha256": scn.sha256()},
        "seed": game.seed,
        "played": list(game.played),
        "months": game.months,
        "turn_months": game.turn_months,
        "forecast_runs": game.forecast_runs,
        "dtype": game.dtype,
        "chunk_size": game.chunk_size,
        "turn": game.turn,
        "elapsed": game.elapsed,
        "deck": [inj.model_dump(mode="json") for inj in game.deck],
        "fired": list(game.fired),
        "turns": game.turns,
        "forecasts": game.forecasts,
        "baseline": game.baseline,
        "explanations": game.explanations,
        "records": game.records,
        "track": game.track.to_data(),
        "snapshots": [encode(s) for s in game.snapshots],
    }


def save_game(game: Any, path: str | Path) -> Path:
    """Write the game to ``path`` (atomically)."""
    return write(path, game_data(game))


def open_game(path: str | Path) -> tuple[Any, list[Any], dict[str, Any]]:
    """A saved game checked as a scenario is (:mod:`sim.play.savecheck`): schema, format,
    the scenario's hash, how its parts agree, every snapshot against a fresh world.

    Returns a new :class:`~sim.play.game.Game` of the saved game's scenario and options
    (not yet restored), the decoded snapshots and the file's data.
    """
    data = read(path)
    g, snaps = check_game(data, str(path))
    return g, snaps, data


def check_game(data: dict[str, Any], where: str) -> tuple[Any, list[Any]]:
    """Saved-game data checked (:mod:`sim.play.savecheck`; problems name ``where``): a new
    :class:`~sim.play.game.Game` of its scenario and options (not yet restored) and the
    decoded snapshots."""
    fields, scn = savecheck.check(data, where)
    deck = [Inject.model_validate(d) for d in fields.deck]
    g = Game(scn, fields.played, seed=fields.seed, months=fields.months, deck=deck, forecast_runs=fields.forecast_runs,
             dtype=fields.dtype, chunk_size=fields.chunk_size)
    snaps = savecheck.check_state(fields, data, g, where)
    g.notes = [n for n in [changed_source(fields.scenario)] if n]
    return g, snaps


def scenario_of(data: dict[str, Any], where: str = "<saved game>") -> Any:
    """The scenario saved with a game (its ``scenario``: resolved data and SHA-256), loaded and
    checked as a saved game's is (:func:`sim.play.savecheck.saved_scenario`)."""
    return savecheck.saved_scenario(data, where)


def changed_source(saved: Any) -> str | None:
    """A note if the scenario file a game was started from now reads differently (the game
    itself goes on with the scenario it was played with, which the saved game holds)."""
    p = Path(saved.file)
    try:
        if not p.is_file():
            return None
        now = load_scenario(p, overrides=decode(saved.overrides) or None)
    except (InputError, OSError):
        return (f"{p} has changed since the game was saved (it no longer loads); the game goes on with the scenario "
                "it was played with")
    if now.sha256() == saved.sha256:
        return None
    return (f"{p} has changed since the game was saved; the game goes on with the scenario it was played with "
            f"(to play the changed scenario, start a new game: sim play {p} --as ...)")


def load_game(path: str | Path) -> Any:
    """Resume a saved game exactly where it stopped (:class:`InputError` for a damaged file)."""
    return game_from_data(read(path), str(path))


def game_from_data(data: dict[str, Any], where: str = "<saved game>") -> Any:
    """A :class:`~sim.play.game.Game` from saved-game data (:func:`game_data`, as
    :func:`read` returns it): the file's or a class game's database row's, checked as a file is
    (:func:`check_game`)."""
    g, snaps = check_game(data, where)
    last = snaps[-1]
    try:
        g.world.restore({k: v for k, v in last.items() if k != "history"})
        g.recorder.preload(last["history"])
    except (KeyError, ValueError, TypeError, IndexError, OverflowError) as exc:  # the checks above should leave none
        raise InputError([Problem(Mark(where), f"snapshots[{len(snaps) - 1}]",
                                  f"the game's state cannot be restored ({type(exc).__name__}: {exc})")]) from None
    g.world.observers.remove(g.track.observe)
    g.track = Track.from_data(data["track"])
    g.world.observers.insert(0, g.track.observe)
    g.snapshots = snaps
    g.turns = data["turns"]
    g.forecasts = data.get("forecasts", [])
    g.baseline = data.get("baseline")
    g.records = data.get("records", [])
    g.fired = data.get("fired", [])
    g.explanations = list(data.get("explanations") or [None] * len(g.turns))
    return g
