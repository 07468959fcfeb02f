"""Checking a saved game on load, as a scenario is checked: the file, its schema, its
format version, the scenario it was played with, and that its parts agree.

``sim play --resume`` and ``sim run --from-game`` read a ``game.json`` that people may
have copied, cut short, edited by hand or mixed up with another JSON file. Every
problem is one line naming the file and the field as a JSON path
(``game.json: turns[0].moves[0]: ...``), all problems at once, exit status 2.

The checks, in order (a later step runs only when the earlier ones pass, since it
needs what they check):

1. the file: exists, is a file, is UTF-8 JSON (a copy cut short is named as such), is
   an object, is a saved game (not a run's manifest or a sweep summary) of a format
   this version reads (:data:`FORMAT`);
2. the schema (:class:`SavedGame`): every field, its type and range;
3. the scenario it was played with: its data still matches its SHA-256 (a hand edit
   says so), it loads with this version of sim and reads the same (else: resume it with
   the version that saved it);
4. the parts against the scenario and each other: the actors played, each turn's
   moves and injects, the number of snapshots, turns and months, the forecasts'
   outcomes, the track;
5. the snapshots against a fresh world of the same scenario: every array of the same
   type and shape, every random stream's state valid.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from .. import seeding
from ..api import SEED_MAX, load_scenario
from ..scenario.errors import InputError, Mark, Problem, json_cut_short, suggest
from ..scenario.validation import given, sha256_hex, validate_model, whole_number
from ..version import __version__
from .game import TURN_MONTHS, played_problems
from .injects import Inject
from .moves import MoveError, check_move
from .savecodec import FORMAT, DecodeError, decode
from .track import tracked


def _share(v: Any) -> Any:
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 1:
        raise ValueError(f"expected a probability from 0 to 1, got {given(v)}")
    return float(v)


Whole = Annotated[int, whole_number(0)]
Count = Annotated[int, whole_number(1)]
Share = Annotated[float, BeforeValidator(_share)]


class _Fields(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class SavedScenario(_Fields):
    """The scenario a game was played with, as resolved data and its hash."""

    name: str
    file: str
    overrides: dict[str, Any] = {}
    resolved: dict[str, Any]
    sha256: Annotated[str, BeforeValidator(sha256_hex)]


class TurnRecord(_Fields):
    """What was played in one turn."""

    turn: Count
    first: Count
    last: Count
    from_: str = Field(alias="from")
    to: str
    moves: list[str] = []
    injects: list[str] = []
    events: list[dict[str, Any]] = []
    applied: list[dict[str, Any]] = []  # each inject or event with its month and effect (sim.play.explain replays them)
    rulings: list[dict[str, Any]] = []  # the umpire's overrulings of this turn's result (Game.overrule)
    fates: list[dict[str, Any]] = []  # a class game's: what became of each team's moves (played, rejected, delayed)


class OutcomeForecast(_Fields):
    p: Share
    lo: Share
    hi: Share
    median_date: str | None = None


class ContinuationSeed(_Fields):
    entropy: Annotated[int, whole_number(0)]
    spawn_key: list[Annotated[int, whole_number(0)]]


class Forecast(_Fields):
    """A forecast after a turn (``turn`` -1: the no-player baseline)."""

    turn: Annotated[int, whole_number(-1)]
    month: str
    runs: Count
    outcomes: dict[str, OutcomeForecast]
    seed: ContinuationSeed
    injects: list[str] | None = None  # the baseline's: the game's injects it was run with (Game.deck_events)


class Record(BaseModel):
    """One line of what happened (the story's records)."""

    model_config = ConfigDict(extra="allow")
    month: str
    elapsed: Whole
    event: str
    text: str
    actors: dict[str, str] = {}
    fields: dict[str, Any] = {}
    routine: bool = False


class SavedGame(_Fields):
    """A saved game, as :func:`sim.play.savefile.game_data` writes it."""

    format: str
    sim_version: str = "unknown"
    scenario: SavedScenario
    seed: Annotated[int, whole_number(0, SEED_MAX)]
    played: list[str] = Field(min_length=1)
    months: Annotated[int, whole_number(1, 600)]
    turn_months: Annotated[int, whole_number(1, 12)] | None = None
    forecast_runs: Annotated[int, whole_number(1, 1_000_000)]
    dtype: Literal["float32", "float64"]
    chunk_size: Count | None = None
    turn: Whole | None = None
    elapsed: Whole | None = None
    deck: list[dict[str, Any]] = []
    fired: list[str] = []
    turns: list[TurnRecord]
    forecasts: list[Forecast] = []
    baseline: Forecast | None = None
    records: list[Record] = []
    explanations: list[dict[str, Any] | None] = []  # why the forecast moved after each turn (sim.play.explain)
    track: dict[str, list[Any]]
    snapshots: list[dict[str, Any]] = Field(min_length=1)


REQUIRED = [k for k, f in SavedGame.model_fields.items() if f.is_required()]


# ---------------------------------------------------------------------- 1. the file


def read_file(path: str | Path) -> dict[str, Any]:
    """The file's JSON object, or an :class:`InputError` saying what the file is instead."""
    p = Path(path)
    where = Mark(str(p))

    def fail(message: str) -> InputError:
        return InputError([Problem(where, "", message)])

    if p.is_dir():
        inside = p / "game.json"
        hint = f": did you mean {inside}?" if inside.is_file() else "; sim play saves FOLDER/game.json"
        raise fail(f"is a folder, not a saved game{hint}")
    if not p.is_file():
        raise fail("no such saved game; `sim play ... --save FILE` writes one")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read it: {exc.strerror or exc}") from None
    if not raw.strip():
        raise fail("the file is empty: not a saved game (was the save interrupted? a saved game is never empty)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail(f"not a saved game: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if json_cut_short(text, exc):
            raise fail("the file ends in the middle of the game (its JSON is cut short): a copy or a save that did "
                       "not finish; use a whole copy") from None
        raise fail(f"not a saved game: invalid JSON at line {exc.lineno} column {exc.colno} ({exc.msg})") from None
    if not isinstance(data, dict):
        kind = {list: "a list", str: "a string", bool: "true or false"}.get(type(data), "a number" if data is not None else "null")
        raise fail(f"not a saved game: the file holds {kind}, not the object sim play saves (game.json)")
    fmt = data.get("format")
    if fmt is None:
        foreign = _foreign(data)
        if foreign:
            raise fail(f"not a saved game: it looks like {foreign}; give the game.json sim play saved")
        if sum(k in data for k in REQUIRED) < len(REQUIRED) // 2:
            raise fail(f"not a saved game (no \"format\": \"{FORMAT}\"); give the game.json sim play saved")
    elif fmt != FORMAT:
        if isinstance(fmt, str) and fmt.startswith("sim-game/"):
            raise InputError([Problem(where, "format", f"saved by another version of sim (format {fmt}); this "
                                      f"version reads {FORMAT}: resume it with the version that saved it")])
        raise InputError([Problem(where, "format", f"{given(fmt)} is not the format of a saved game ({FORMAT})")])
    return data


def _foreign(data: dict[str, Any]) -> str | None:
    """Which other file of sim's ``data`` looks like (``a run's manifest.json``), if any."""
    if "sweep_version" in data:
        return "a sweep's summary.json"
    if "runs_requested" in data or "scenario_sha256" in data:
        return "a run's manifest.json"
    if "outcomes" in data and "runs" in data:
        return "a run's summary.json"
    return None


# ------------------------------------------------------------------ 2.-4. the fields


def check(data: dict[str, Any], file: str) -> tuple[SavedGame, Any]:
    """Validate a saved game's data: its schema, its scenario and how its parts agree.

    Returns the validated fields and the game's scenario (a :class:`~sim.api.LoadedScenario`).
    """
    game = validate_model(SavedGame, data, file=file)
    scn = _scenario(game, file)
    problems = _agreement(game, data, scn, file)
    if problems:
        raise InputError(problems)
    return game, scn


def _hash(resolved: dict[str, Any]) -> str:
    """The SHA-256 of resolved scenario data, as :meth:`LoadedScenario.sha256` computes it."""
    blob = json.dumps(resolved, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


class _ScenarioOnly(BaseModel):
    """A saved game's ``scenario`` and the version that saved it, without the rest (a class
    game's configuration holds only these)."""

    model_config = ConfigDict(extra="ignore")
    sim_version: str = "unknown"
    scenario: SavedScenario


def saved_scenario(data: dict[str, Any], file: str) -> Any:
    """The scenario of saved-game data (its ``scenario`` entry), checked as :func:`check`
    checks a whole game's: its hash, that it loads and reads the same with this version."""
    return _scenario(validate_model(_ScenarioOnly, data, file=file), file)


def _scenario(game: SavedGame | _ScenarioOnly, file: str) -> Any:
    where = Mark(file)
    s = game.scenario
    saved_by = f"sim {game.sim_version}"
    new_game = f"start a new game (sim play {s.name} --as ...)"
    if _hash(s.resolved) != s.sha256:
        raise InputError([Problem(where, "scenario", "the game's scenario (resolved) and its hash (sha256) no longer "
                                  "match: one was edited since the game was saved, and a game goes on only with the "
                                  f"scenario it was played with; restore the file from a copy, or {new_game}")])
    try:
        scn = load_scenario(s.resolved)
    except InputError as exc:
        first = exc.problems[0]
        what = f"{first.path or 'scenario'}: {first.message}"
        if game.sim_version == __version__:  # the same version saved it: the data was edited (and rehashed)
            message = (f"the game's scenario does not load ({what}): it was edited since the game was saved; "
                       f"restore the file from a copy, or {new_game}")
        else:
            message = (f"the game's scenario (saved by {saved_by}) does not load with this version (sim {__version__}): "
                       f"{what}; resume it with {saved_by}, or {new_game}")
        raise InputError([Problem(where, "scenario.resolved", message)]) from None
    if scn.sha256() != s.sha256:
        if game.sim_version == __version__:
            message = ("the game's scenario reads differently from when the game was saved (it was edited, and its "
                       f"hash with it): the game would not go on as it was played; restore the file from a copy, or {new_game}")
        else:
            message = (f"this version of sim ({__version__}) reads the game's scenario differently from {saved_by}, "
                       f"which saved it, so the game would not go on as it was played; resume it with {saved_by}, "
                       f"or {new_game}")
        raise InputError([Problem(where, "scenario.resolved", message)])
    return scn


def _agreement(game: SavedGame, data: dict[str, Any], scn: Any, file: str) -> list[Problem]:
    """The parts of a valid-looking game against its scenario and each other."""
    where = Mark(file)
    problems: list[Problem] = []

    def bad(path: str, message: str) -> None:
        problems.append(Problem(where, path, message))

    for i, message in played_problems(scn, game.played):
        bad("played" if i is None else f"played[{i}]", message)
    played_ok = not problems
    step = TURN_MONTHS[scn.spec.play.turn]
    if game.turn_months is not None and game.turn_months != step:
        bad("turn_months", f"{game.turn_months}, but the game's scenario plays turns of {step} month(s)")
    deck: list[str] = []
    for i, raw in enumerate(data.get("deck") or []):
        try:
            deck.append(validate_model(Inject, raw, file=file, prefix=("deck", i)).name)
        except InputError as exc:
            problems.extend(exc.problems)
    for i, name in enumerate(game.fired):
        if name not in deck:
            bad(f"fired[{i}]", f"inject '{name}' is not in the game's deck{suggest(name, deck)}")
    n_turns, n_snaps = len(game.turns), len(game.snapshots)
    if game.turn is not None and game.turn != n_turns:
        bad("turn", f"{game.turn}, but the game lists {n_turns} turns played (turns)")
    if n_snaps != n_turns + 1:
        bad("snapshots", f"{n_snaps} snapshots for {n_turns} turns played: a game keeps one before the first turn "
                         "and one after each turn (the file was cut or edited)")
    last = 0
    for i, t in enumerate(game.turns):
        here = f"turns[{i}]"
        if t.turn != i + 1:
            bad(f"{here}.turn", f"{t.turn}, but it is turn {i + 1} of the list (turns are numbered 1, 2, ... in order)")
        if t.first != last + 1 or not t.first <= t.last <= game.months:
            bad(here, f"months {t.first} to {t.last}: turn {i + 1} must start at month {last + 1} and end by "
                      f"month {game.months}")
        last = max(last, t.last)
        if played_ok:  # a move is checked against the actors played
            for j, move in enumerate(t.moves):
                try:
                    check_move(scn, game.played, move)
                except MoveError as exc:
                    bad(f"{here}.moves[{j}]", str(exc))
        adhoc = [e.get("name") for e in t.events]  # the instructor's own events of the turn are listed too
        for j, name in enumerate(t.injects):
            if name not in deck and name not in adhoc:
                bad(f"{here}.injects[{j}]", f"inject '{name}' is not in the game's deck{suggest(name, deck)}")
    if game.elapsed is not None and game.elapsed != last:
        bad("elapsed", f"{game.elapsed}, but the turns played cover {last} month{'s' if last != 1 else ''}")
    outcomes = list(scn.spec.outcomes)
    if game.explanations and len(game.explanations) != n_turns:
        bad("explanations", f"{len(game.explanations)} for {n_turns} turns played (one per turn, null where the turn "
                            "was not explained)")
    if len(game.forecasts) > n_snaps:
        bad("forecasts", f"{len(game.forecasts)} forecasts for {n_snaps} snapshots (at most one after each turn)")
    for i, f in enumerate([*game.forecasts, game.baseline]):
        if f is None:
            continue
        here = "baseline" if i == len(game.forecasts) else f"forecasts[{i}]"
        if here != "baseline" and f.turn != i:
            bad(f"{here}.turn", f"{f.turn}, but it is forecast {i} of the list (one per turn, from turn 0)")
        unknown = [o for o in f.outcomes if o not in outcomes]
        missing = [o for o in outcomes if o not in f.outcomes]
        for o in unknown:
            bad(f"{here}.outcomes.{o}", f"no outcome '{o}' in the game's scenario{suggest(o, missing or outcomes)}")
        if missing and not unknown:
            bad(f"{here}.outcomes", f"no forecast of {', '.join(missing)}, which the game's scenario declares")
    frames = last + 1
    keys = tracked()
    for key in keys:
        series = game.track.get(key)
        if series is None:
            bad("track", f"missing the series '{key}' (a track keeps {', '.join(keys)})")
        elif len(series) != frames:
            bad(f"track.{key}", f"{len(series)} frames for {last} months played (one at the start and one per month)")
    return problems


# ---------------------------------------------------------------------- 5. snapshots


def check_state(game: SavedGame, data: dict[str, Any], fresh: Any, file: str) -> list[Any]:
    """Decode every snapshot and check it against ``fresh`` (a new :class:`~sim.play.game.Game`
    of the same scenario, played by nobody yet): the snapshots, ready to restore."""
    import numpy as np

    where = Mark(file)
    problems: list[Problem] = []
    template = fresh.snapshots[0]
    snaps = []
    for i, raw in enumerate(data["snapshots"]):
        here = f"snapshots[{i}]"
        try:
            snap = decode(raw, here)
        except DecodeError as exc:
            problems.append(Problem(where, exc.path, exc.message))
            continue
        _fill_decision_states(snap, template)
        problems += [Problem(where, p, m) for p, m in _same_shape(snap, template, here, game.months)]
        snaps.append(snap)
    if not problems:
        elapsed = [s["elapsed"] for s in snaps]
        ends = [0] + [t.last for t in game.turns]
        if elapsed != ends:
            problems.append(Problem(where, "snapshots", f"taken after months {elapsed}, but the turns end at months {ends}"))
    if not problems:
        shapes = fresh.track.frames
        for key, frames in game.track.items():
            if key not in shapes:
                continue  # a series this version does not track: left, as Track.from_data leaves it
            want = np.asarray(shapes[key][0]).shape
            for j, frame in enumerate(frames):
                try:
                    got = np.asarray(frame, dtype=float).shape
                except (TypeError, ValueError):
                    got = None
                if got != want:
                    problems.append(Problem(where, f"track.{key}[{j}]", f"not an array of shape {want} as the "
                                            "game's scenario has"))
                    break
    if problems:
        raise InputError(problems)
    return snaps


def _fill_decision_states(snap: Any, template: dict[str, Any]) -> None:
    """A game saved before a decision's order state or the ``advised`` state existed: no
    order was pending between turns (a rule carries an order out in the turn's first
    month) and a game's own world is never advised (only its forecasts' continuations
    are), so those arrays are all False, as a fresh world's (:func:`sim.parts.declare_decision`,
    :data:`sim.parts.ADVISED`)."""
    from ..parts import ADVISED, registry
    from ..world.arrays import Arrays

    st, want = (snap.get("st") if isinstance(snap, dict) else None), template["st"]
    if not isinstance(st, Arrays):
        return
    for name in [d.order for d in registry().decisions.values()] + [ADVISED]:
        if name not in st.__dict__ and name in want.__dict__:
            st.__dict__[name] = want.__dict__[name].copy()


def _same_shape(snap: Any, template: dict[str, Any], path: str, months: int) -> list[tuple[str, str]]:
    """Where a decoded snapshot differs in structure from a fresh world's: ``(path, message)``."""
    import numpy as np

    from ..world.arrays import Arrays

    out: list[tuple[str, str]] = []
    if not isinstance(snap, dict):
        return [(path, f"expected a world snapshot (a mapping), got {given(snap)}")]
    missing = [k for k in template if k not in snap]
    extra = [k for k in snap if k not in template]
    if missing:
        out.append((path, f"missing {', '.join(missing)} (a snapshot holds {', '.join(template)})"))
    for k in extra:
        out.append((f"{path}.{k}", f"unknown part of a snapshot{suggest(str(k), list(template))}"))
    if missing:
        return out

    def arrays(got: Any, want: Any, at: str, lead: int | None = None) -> None:
        if isinstance(want, Arrays):
            if not isinstance(got, Arrays):
                out.append((at, "expected named arrays as sim saves them"))
                return
            got, want = got.__dict__, want.__dict__
        if not isinstance(got, dict):
            out.append((at, f"expected a mapping of arrays, got {given(got)}"))
            return
        for name in want:
            if name not in got:
                out.append((f"{at}.{name}", "missing (a fresh world of the game's scenario has it)"))
        for name, a in got.items():
            w = want.get(name)
            if w is None:
                out.append((f"{at}.{name}", "unknown array: the game's scenario has none of that name"))
            elif not isinstance(a, np.ndarray):
                out.append((f"{at}.{name}", f"expected an array, got {given(a)}"))
            elif a.dtype != w.dtype or (a.shape[1:] if lead is not None else a.shape) != (w.shape[1:] if lead is not None else w.shape):
                out.append((f"{at}.{name}", f"an array of {a.dtype} {a.shape}, but the game's scenario has "
                                            f"{w.dtype} {w.shape if lead is None else ('months',) + w.shape[1:]}"))
            elif lead is not None and a.shape[0] != lead:
                out.append((f"{at}.{name}", f"{a.shape[0]} months recorded, but the snapshot is after month {lead}"))

    for k in ("elapsed", "current_month", "n"):
        v = snap[k]
        if isinstance(v, bool) or not isinstance(v, int):
            out.append((f"{path}.{k}", f"expected a whole number, got {given(v)}"))
    if out:
        return out
    if not 0 <= snap["elapsed"] <= months:
        out.append((f"{path}.elapsed", f"{snap['elapsed']}, but the game lasts {months} months"))
    if snap["n"] != template["n"]:
        out.append((f"{path}.n", f"{snap['n']} replicates; a game has {template['n']}"))
    arrays(snap["par"], template["par"], f"{path}.par")
    arrays(snap["st"], template["st"], f"{path}.st")
    arrays(snap["counts"], template["counts"], f"{path}.counts")
    streams = snap["streams"]
    if not isinstance(streams, dict):
        out.append((f"{path}.streams", f"expected a mapping of random streams, got {given(streams)}"))
    else:
        for name, state in streams.items():
            if not seeding.valid_state(state):
                out.append((f"{path}.streams.{name}", "not the state of a random stream as sim saves it"))
    hist, want = snap["history"], template["history"]
    if not isinstance(hist, dict) or any(k not in hist for k in want):
        out.append((f"{path}.history", f"expected a mapping with {', '.join(want)}"))
        return out
    t = hist["months"]
    if isinstance(t, bool) or not isinstance(t, int) or t != min(snap["elapsed"], months):
        out.append((f"{path}.history.months", f"{t!r}, but the snapshot is after month {snap['elapsed']}"))
        return out
    first = hist["first"]
    if not isinstance(first, dict) or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= t
                                              for v in first.values()):
        out.append((f"{path}.history.first", "expected a mapping of outcomes to the month each first happened"))
    arrays(hist["series"], want["series"], f"{path}.history.series", lead=t)
    if want["traj"]:
        got = hist["traj"]
        if isinstance(got, dict):
            got = {k: (v[0] if isinstance(v, np.ndarray) and v.ndim and v.shape[0] == 1 else v) for k, v in got.items()}
        arrays(got, {k: v[0] for k, v in want["traj"].items()}, f"{path}.history.traj", lead=t)
    return out
