"""A saved game: one JSON file holding everything needed to resume it or re-run its forecasts.

It holds the scenario (as resolved data, with its SHA-256), the seed, who is played,
the turn reached, the world's snapshot after every turn, the moves and injects of each
turn, the forecasts with the seeds of their continuations, the baseline, and the story
so far. Arrays are stored exactly (their bytes, base64), so a resumed game continues
bit for bit as if it had never stopped. The file is written under a temporary name and
renamed into place: a save either completes or leaves the previous one whole.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import numpy as np

from ..scenario.errors import InputError, Mark, Problem

FORMAT = "sim-game/1"


def encode(x: Any) -> Any:
    """Plain JSON data from a snapshot or game state (arrays exactly, as bytes)."""
    from ..world.model import Arrays

    if isinstance(x, np.ndarray):
        a = np.ascontiguousarray(x)
        return {"__nd__": a.dtype.str, "shape": list(a.shape), "b64": base64.b64encode(a.tobytes()).decode()}
    if isinstance(x, Arrays):
        return {"__arrays__": {k: encode(v) for k, v in x.__dict__.items()}}
    if isinstance(x, dict):
        return {str(k): encode(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [encode(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    return x


def decode(x: Any) -> Any:
    """The inverse of :func:`encode`."""
    from ..world.model import Arrays

    if isinstance(x, dict):
        if "__nd__" in x:
            raw = base64.b64decode(x["b64"])
            return np.frombuffer(raw, dtype=np.dtype(x["__nd__"])).reshape(x["shape"]).copy()
        if "__arrays__" in x:
            return Arrays(**{k: decode(v) for k, v in x["__arrays__"].items()})
        return {k: decode(v) for k, v in x.items()}
    if isinstance(x, list):
        return [decode(v) for v in x]
    return x


def write(path: str | Path, data: dict[str, Any]) -> Path:
    """Write a saved game atomically (temporary file, then rename): the previous save stays
    whole if this one fails, which is an :class:`~sim.files.OutputError` naming the file
    (a full disk, a read-only folder)."""
    from ..files import OutputError, atomic_write

    path = Path(path)
    text = json.dumps({"format": FORMAT, **data}, separators=(",", ":"))
    try:
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, text)
    except OSError as exc:
        raise OutputError.from_os(path, exc) from exc
    return path


def read(path: str | Path) -> dict[str, Any]:
    """Read a saved game; a clear error if the file is not one."""
    p = Path(path)
    where = Mark(str(p))
    if not p.is_file():
        raise InputError([Problem(where, "", "no such saved game; `sim play ... --save FILE` writes one")])
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError([Problem(where, "", f"not a saved game (invalid JSON: {exc})")]) from None
    except OSError as exc:
        raise InputError([Problem(where, "", f"cannot read it: {exc.strerror or exc}")]) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError([Problem(where, "", f"not a saved game of this version of sim (format {FORMAT} expected)")])
    missing = [k for k in ("scenario", "seed", "played", "turns", "snapshots") if k not in data]
    if missing:
        raise InputError([Problem(where, "", f"not a complete saved game (missing {', '.join(missing)})")])
    return data


def game_data(game: Any) -> dict[str, Any]:
    """Everything a :class:`~sim.play.game.Game` needs to resume, as JSON data."""
    from .. import __version__

    scn = game.scn
    return {
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


def scenario_of(data: dict[str, Any], where: str = "<saved game>") -> Any:
    """The saved game's scenario, loaded from its resolved data and checked against its hash."""
    from ..api import load_scenario

    s = data["scenario"]
    try:
        scn = load_scenario(s["resolved"])
    except InputError as exc:
        raise InputError([Problem(Mark(where), "", "the saved game's scenario no longer validates with this version "
                                  f"of sim: {exc.problems[0].message}")]) from None
    if scn.sha256() != s.get("sha256"):
        raise InputError([Problem(Mark(where), "", "the saved game's scenario reads differently with this version of "
                                  "sim (its SHA-256 differs); resume it with the version that saved it")])
    return scn


def load_game(path: str | Path) -> Any:
    """Resume a saved game exactly where it stopped."""
    return game_from_data(read(path), str(path))


def game_from_data(data: dict[str, Any], where: str = "<saved game>") -> Any:
    """A :class:`~sim.play.game.Game` from saved-game data (:func:`game_data`, as
    :func:`read` returns it): the file's or a database row's."""
    from .game import Game
    from .injects import Inject
    from .track import Track

    scn = scenario_of(data, where)
    deck = [Inject.model_validate(d) for d in data.get("deck", [])]
    g = Game(scn, data["played"], seed=data["seed"], months=data["months"], deck=deck,
             forecast_runs=data["forecast_runs"], dtype=data["dtype"], chunk_size=data.get("chunk_size"))
    snaps = [decode(s) for s in data["snapshots"]]
    last = snaps[-1]
    g.world.restore({k: v for k, v in last.items() if k != "history"})
    g.recorder.preload(last["history"])
    g.world.observers.remove(g.track.observe)
    g.track = Track.from_data(data["track"])
    g.world.observers.insert(0, g.track.observe)
    g.snapshots = snaps
    g.turns = data["turns"]
    g.forecasts = data["forecasts"]
    g.baseline = data.get("baseline")
    g.records = data["records"]
    g.fired = data.get("fired", [])
    g.explanations = list(data.get("explanations") or [None] * len(g.turns))
    return g
