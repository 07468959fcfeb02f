"""A catalogue of damaged saved games (``game.json``): what a hand edit, a truncated copy
or a foreign file looks like, for tests/test_saved_games.py and the property tests.

Each case turns a good saved game (its text and its data) into a bad one; the test runs
``sim play --resume`` and ``sim run --from-game`` on it and expects exit status 2 and
exactly the lines listed (``{file}`` is the damaged file).
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class GameCase:
    name: str
    what: str
    damage: Callable[[dict[str, Any], str], Any]  # (data, text) -> new data (dict/list/...) or raw bytes/str


def edit(fn: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any], str], dict[str, Any]]:
    """A damage that edits a deep copy of the data in place."""

    def damage(data: dict[str, Any], text: str) -> dict[str, Any]:
        d = copy.deepcopy(data)
        fn(d)
        return d

    return damage


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Set the value at a dotted path (``turns.0.moves``); ``DELETE`` removes the key."""

    def fn(d: dict[str, Any]) -> None:
        *head, last = path.split(".")
        node: Any = d
        for part in head:
            node = node[int(part)] if isinstance(node, list) else node[part]
        key: Any = int(last) if isinstance(node, list) else last
        if value is DELETE:
            del node[key]
        else:
            node[key] = value

    return fn


DELETE = object()


def _array(d: dict[str, Any], turn: int, group: str, name: str) -> dict[str, Any]:
    return d["snapshots"][turn][group]["__arrays__"][name]


def _garble_b64(d: dict[str, Any]) -> None:
    _array(d, 1, "st", "level")["b64"] = "@@@not base64@@@"


def _short_b64(d: dict[str, Any]) -> None:
    a = _array(d, 1, "par", next(iter(d["snapshots"][1]["par"]["__arrays__"])))
    a["b64"] = base64.b64encode(base64.b64decode(a["b64"])[:3]).decode()


def _bad_shape(d: dict[str, Any]) -> None:
    a = _array(d, 2, "st", "level")
    a["shape"] = [a["shape"][0], a["shape"][1] + 1]


def _empty_huge_shape(d: dict[str, Any]) -> None:
    a = _array(d, 2, "st", "level")
    a["shape"], a["b64"] = [0, 10**30], ""  # no elements, so no bytes: the size check alone passes it


def _bad_dtype(d: dict[str, Any]) -> None:
    _array(d, 1, "par", next(iter(d["snapshots"][1]["par"]["__arrays__"])))["__nd__"] = "<U7"


def _edit_scenario(d: dict[str, Any]) -> None:
    d["scenario"]["resolved"]["meta"]["horizon_months"] = 48


def _break_scenario(d: dict[str, Any]) -> None:
    d["scenario"]["resolved"]["meta"]["horizon_months"] = "soon"
    d["scenario"]["sha256"] = _sha(d["scenario"]["resolved"])


def _drop_rule_parameter(d: dict[str, Any]) -> None:
    """A rule parameter deleted (and the hash updated): the scenario loads, with the default back."""
    rules = d["scenario"]["resolved"]["rules"]
    kind = next(k for k, v in rules.items() if len(v) > 1)
    del rules[kind][next(k for k in rules[kind] if k != "model")]
    d["scenario"]["sha256"] = _sha(d["scenario"]["resolved"])


def _sha(resolved: dict[str, Any]) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(resolved, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def _track_short(d: dict[str, Any]) -> None:
    d["track"]["level"] = d["track"]["level"][:2]


def _forecast_outcome(d: dict[str, Any]) -> None:
    out = d["forecasts"][1]["outcomes"]
    out["no_such_outcome"] = out.pop(next(iter(out)))


def _drop_snapshot(d: dict[str, Any]) -> None:
    d["snapshots"].pop()


def _stream_state(d: dict[str, Any]) -> None:
    name = next(iter(d["snapshots"][2]["streams"]))
    d["snapshots"][2]["streams"][name] = {"bit_generator": "PCG64", "state": "x"}


def _manifest(data: dict[str, Any], text: str) -> dict[str, Any]:
    return {"scenario": "karabakh", "scenario_sha256": "0" * 64, "seed": 1, "runs_requested": 100, "chunk_size": 2000,
            "horizon_months": 36, "versions": {"sim": "0.1.0"}}


CASES: tuple[GameCase, ...] = (
    GameCase("empty", "an empty file", lambda d, t: b""),
    GameCase("truncated", "a copy cut short", lambda d, t: t[: len(t) // 2]),
    GameCase("cut_last_brace", "the last character lost", lambda d, t: t[:-1]),
    GameCase("not_utf8", "bytes that are not text", lambda d, t: b"\xff\xfe\x00garbage"),
    GameCase("a_list", "JSON, but a list", lambda d, t: [1, 2, 3]),
    GameCase("a_number", "JSON, but a number", lambda d, t: 42),
    GameCase("empty_object", "an empty JSON object", lambda d, t: {}),
    GameCase("a_manifest", "a run's manifest.json", _manifest),
    GameCase("newer_format", "a game saved by a newer sim", edit(_set("format", "sim-game/3"))),
    GameCase("no_format", "the format line deleted", edit(_set("format", DELETE))),
    GameCase("seed_text", "seed: a word", edit(_set("seed", "five"))),
    GameCase("seed_negative", "seed below 0", edit(_set("seed", -1))),
    GameCase("seed_float", "seed: a fraction", edit(_set("seed", 5.5))),
    GameCase("months_zero", "months: 0", edit(_set("months", 0))),
    GameCase("forecast_runs_text", "forecast_runs: a word", edit(_set("forecast_runs", "many"))),
    GameCase("dtype_unknown", "an unknown precision", edit(_set("dtype", "float16"))),
    GameCase("chunk_size_zero", "chunk_size: 0", edit(_set("chunk_size", 0))),
    GameCase("played_text", "played: a string, not a list", edit(_set("played", "armenia"))),
    GameCase("played_empty", "nobody played", edit(_set("played", []))),
    GameCase("played_unknown", "an actor the scenario does not have", edit(_set("played", ["armenai"]))),
    GameCase("played_no_levers", "an actor without levers", edit(_set("played", ["turkey"]))),
    GameCase("played_twice", "an actor twice", edit(_set("played", ["armenia", "armenia"]))),
    GameCase("no_snapshots", "snapshots deleted", edit(_set("snapshots", DELETE))),
    GameCase("no_scenario", "scenario deleted", edit(_set("scenario", DELETE))),
    GameCase("no_resolved", "the scenario's data deleted", edit(_set("scenario.resolved", DELETE))),
    GameCase("snapshots_empty", "no snapshot at all", edit(_set("snapshots", []))),
    GameCase("snapshot_missing", "one snapshot fewer than turns", edit(_drop_snapshot)),
    GameCase("snapshot_not_mapping", "a snapshot that is a number", edit(_set("snapshots.1", 7))),
    GameCase("snapshot_no_st", "a snapshot without its state", edit(_set("snapshots.1.st", DELETE))),
    GameCase("array_garbled", "an array's bytes garbled", edit(_garble_b64)),
    GameCase("array_short", "an array's bytes cut short", edit(_short_b64)),
    GameCase("array_shape", "an array of the wrong shape", edit(_bad_shape)),
    GameCase("array_empty_huge", "an empty array with a side too long to make", edit(_empty_huge_shape)),
    GameCase("array_dtype", "an array of the wrong type", edit(_bad_dtype)),
    GameCase("stream_state", "a random stream's state garbled", edit(_stream_state)),
    GameCase("turns_text", "turns: a string", edit(_set("turns", "two"))),
    GameCase("turn_moves_unknown_lever", "a move naming a lever the scenario lacks",
             edit(_set("turns.0.moves", ["armenia.nuke_everything"]))),
    GameCase("turn_moves_unknown_actor", "a move naming an actor nobody plays",
             edit(_set("turns.0.moves", ["azerbaijan.mobilise"]))),
    GameCase("turn_number_wrong", "turn numbers out of order", edit(_set("turns.1.turn", 7))),
    GameCase("turn_injects_unknown", "an inject not in the deck", edit(_set("turns.0.injects", ["convoy"]))),
    GameCase("fired_unknown", "a fired inject not in the deck", edit(_set("fired", ["convoy"]))),
    GameCase("turn_counter", "turn: more turns than played", edit(_set("turn", 9))),
    GameCase("elapsed_wrong", "elapsed months not the last snapshot's", edit(_set("elapsed", 1))),
    GameCase("track_short", "the track cut short", edit(_track_short)),
    GameCase("track_text", "the track: a string", edit(_set("track", "none"))),
    GameCase("forecast_unknown_outcome", "a forecast of an outcome the scenario lacks", edit(_forecast_outcome)),
    GameCase("forecast_p_text", "a forecast's probability: a word",
             edit(_set("forecasts.0.outcomes.karabakh_war.p", "high"))),
    GameCase("records_text", "records: a number", edit(_set("records", 3))),
    GameCase("explanations_short", "why the forecast moved: fewer entries than turns (a class game's, edited)",
             edit(_set("explanations", [None]))),
    GameCase("deck_bad_inject", "an inject without an effect", edit(_set("deck", [{"name": "x", "description": "y"}]))),
    GameCase("scenario_edited", "the scenario's data edited", edit(_edit_scenario)),
    GameCase("sha_edited", "the scenario's hash edited", edit(_set("scenario.sha256", "0" * 64))),
    GameCase("scenario_invalid", "the scenario's data edited to something invalid (hash updated too)",
             edit(_break_scenario)),
    GameCase("scenario_invalid_other_version", "a scenario another version of sim saved, which this one cannot load",
             edit(lambda d: (_break_scenario(d), _set("sim_version", "0.0.1")(d)))),
    GameCase("scenario_reads_differently", "the scenario's data edited so that it loads differently (hash updated too)",
             edit(_drop_rule_parameter)),
    GameCase("scenario_reads_differently_other_version", "a scenario this version reads differently from the one that saved it",
             edit(lambda d: (_drop_rule_parameter(d), _set("sim_version", "0.0.1")(d)))),
    GameCase("unknown_key", "a key misspelt", edit(lambda d: d.__setitem__("sede", d.pop("seed")))),
)


EXPECT: dict[str, tuple[str, ...]] = {
    # what `sim play --resume` and `sim run --from-game` print for each case ({version}: this sim's)
    "empty": (
        "{file}: the file is empty: not a saved game (was the save interrupted? a saved game is never empty)",
    ),
    "truncated": (
        "{file}: the file ends in the middle of the game (its JSON is cut short): a copy or a save that did not finish; use a whole copy",
    ),
    "cut_last_brace": (
        "{file}: the file ends in the middle of the game (its JSON is cut short): a copy or a save that did not finish; use a whole copy",
    ),
    "not_utf8": (
        "{file}: not a saved game: not UTF-8 text (byte 0xff at offset 0)",
    ),
    "a_list": (
        "{file}: not a saved game: the file holds a list, not the object sim play saves (game.json)",
    ),
    "a_number": (
        "{file}: not a saved game: the file holds a number, not the object sim play saves (game.json)",
    ),
    "empty_object": (
        "{file}: not a saved game (no \"format\": \"sim-game/2\"); give the game.json sim play saved",
    ),
    "a_manifest": (
        "{file}: not a saved game: it looks like a run's manifest.json; give the game.json sim play saved",
    ),
    "newer_format": (
        "{file}: format: saved by another version of sim (format sim-game/3); this version reads sim-game/2: resume it with the version that saved it",
    ),
    "no_format": (
        "{file}: missing required key 'format'",
    ),
    "seed_text": (
        "{file}: seed: expected a whole number, got the text 'five'",
    ),
    "seed_negative": (
        "{file}: seed: must be from 0 to 9,223,372,036,854,775,807 (got -1)",
    ),
    "seed_float": (
        "{file}: seed: expected a whole number, got 5.5",
    ),
    "months_zero": (
        "{file}: months: must be from 1 to 600 (got 0)",
    ),
    "forecast_runs_text": (
        "{file}: forecast_runs: expected a whole number, got the text 'many'",
    ),
    "dtype_unknown": (
        "{file}: dtype: expected 'float32' or 'float64', got the text 'float16' (did you mean 'float64'?)",
    ),
    "chunk_size_zero": (
        "{file}: chunk_size: must be at least 1 (got 0)",
    ),
    "played_text": (
        "{file}: played: expected a list ([a, b] or one '- ' item per line), got the text 'armenia'; write it as [armenia]",
    ),
    "played_empty": (
        "{file}: played: needs at least 1 entry, got 0",
    ),
    "played_unknown": (
        "{file}: played[0]: no actor 'armenai' (did you mean 'armenia'?); actors with levers: armenia, azerbaijan, russia, india",
    ),
    "played_no_levers": (
        "{file}: played[0]: turkey has no levers in this scenario, so it has no moves; actors with levers: armenia, azerbaijan, russia, india",
    ),
    "played_twice": (
        "{file}: played[1]: armenia is given twice",
    ),
    "no_snapshots": (
        "{file}: missing required key 'snapshots'",
    ),
    "no_scenario": (
        "{file}: missing required key 'scenario'",
    ),
    "no_resolved": (
        "{file}: scenario: missing required key 'resolved'",
    ),
    "snapshots_empty": (
        "{file}: snapshots: needs at least 1 entry, got 0",
    ),
    "snapshot_missing": (
        "{file}: forecasts: 3 forecasts for 2 snapshots (at most one after each turn)",
        "{file}: snapshots: 2 snapshots for 2 turns played: a game keeps one before the first turn and one after each turn (the file was cut or edited)",
    ),
    "snapshot_not_mapping": (
        "{file}: snapshots[1]: expected a mapping (key: value, ...), got 7",
    ),
    "snapshot_no_st": (
        "{file}: snapshots[1]: missing st (a snapshot holds elapsed, current_month, par, st, counts, streams, n, history)",
    ),
    "array_garbled": (
        "{file}: snapshots[1].st.level: its bytes are garbled (not base64)",
    ),
    "array_short": (
        "{file}: snapshots[1].par.capability0: 3 bytes do not make an array of shape (1, 15) of float32 (the file was cut or edited)",
    ),
    "array_shape": (
        "{file}: snapshots[2].st.level: 2 bytes do not make an array of shape (1, 3) of int8 (the file was cut or edited)",
    ),
    "array_empty_huge": (
        "{file}: snapshots[2].st.level: not an array as sim saves it: numpy cannot make an array of shape "
        "(0, 1000000000000000000000000000000) (the file was edited)",
    ),
    "array_dtype": (
        "{file}: snapshots[1].par.capability0: 60 bytes do not make an array of shape (1, 15) of <U7 (the file was cut or edited)",
    ),
    "stream_state": (
        "{file}: snapshots[2].streams.events: not the state of a random stream as sim saves it",
    ),
    "turns_text": (
        "{file}: turns: expected a list ([a, b] or one '- ' item per line), got the text 'two'; write it as [two]",
    ),
    "turn_moves_unknown_lever": (
        "{file}: turns[0].moves[0]: 'armenia.nuke_everything': armenia has no lever 'nuke_everything'; armenia's levers are appeal_to_csto, accept_csto_monitors, open_peace_talks, invite_russian_mediation, freeze_csto, buy_more_from_india, mobilise",
    ),
    "turn_moves_unknown_actor": (
        "{file}: turns[0].moves[0]: 'azerbaijan.mobilise': Azerbaijan is not played in this game (played: armenia); it follows the rules and its declared policies",
    ),
    "turn_number_wrong": (
        "{file}: turns[1].turn: 7, but it is turn 2 of the list (turns are numbered 1, 2, ... in order)",
    ),
    "turn_injects_unknown": (
        "{file}: turns[0].injects[0]: inject 'convoy' is not in the game's deck",
    ),
    "fired_unknown": (
        "{file}: fired[0]: inject 'convoy' is not in the game's deck",
    ),
    "turn_counter": (
        "{file}: turn: 9, but the game lists 2 turns played (turns)",
    ),
    "elapsed_wrong": (
        "{file}: elapsed: 1, but the turns played cover 6 months",
    ),
    "track_short": (
        "{file}: track.level: 2 frames for 6 months played (one at the start and one per month)",
    ),
    "track_text": (
        "{file}: track: expected a mapping (key: value, ...), got the text 'none'",
    ),
    "forecast_unknown_outcome": (
        "{file}: forecasts[1].outcomes.no_such_outcome: no outcome 'no_such_outcome' in the game's scenario",
    ),
    "forecast_p_text": (
        "{file}: forecasts[0].outcomes.karabakh_war.p: expected a probability from 0 to 1, got the text 'high'",
    ),
    "records_text": (
        "{file}: records: expected a list ([a, b] or one '- ' item per line), got 3",
    ),
    "explanations_short": (
        "{file}: explanations: 1 for 2 turns played (one per turn, null where the turn was not explained)",
    ),
    "deck_bad_inject": (
        "{file}: deck[0]: missing required key 'effect'",
    ),
    "scenario_edited": (
        "{file}: scenario: the game's scenario (resolved) and its hash (sha256) no longer match: one was edited since the game was saved, and a game goes on only with the scenario it was played with; restore the file from a copy, or start a new game (sim play karabakh --as ...)",
    ),
    "sha_edited": (
        "{file}: scenario: the game's scenario (resolved) and its hash (sha256) no longer match: one was edited since the game was saved, and a game goes on only with the scenario it was played with; restore the file from a copy, or start a new game (sim play karabakh --as ...)",
    ),
    "scenario_invalid": (
        "{file}: scenario.resolved: the game's scenario does not load (meta.horizon_months: input should be a valid integer, unable to parse string as an integer (got 'soon')): it was edited since the game was saved; restore the file from a copy, or start a new game (sim play karabakh --as ...)",
    ),
    "scenario_invalid_other_version": (
        "{file}: scenario.resolved: the game's scenario (saved by sim 0.0.1) does not load with this version (sim {version}): meta.horizon_months: input should be a valid integer, unable to parse string as an integer (got 'soon'); resume it with sim 0.0.1, or start a new game (sim play karabakh --as ...)",
    ),
    "scenario_reads_differently": (
        "{file}: scenario.resolved: the game's scenario reads differently from when the game was saved (it was edited, and its hash with it): the game would not go on as it was played; restore the file from a copy, or start a new game (sim play karabakh --as ...)",
    ),
    "scenario_reads_differently_other_version": (
        "{file}: scenario.resolved: this version of sim ({version}) reads the game's scenario differently from sim 0.0.1, which saved it, so the game would not go on as it was played; resume it with sim 0.0.1, or start a new game (sim play karabakh --as ...)",
    ),
    "unknown_key": (
        "{file}: missing required key 'seed'",
        "{file}: sede: unknown key 'sede' (did you mean 'seed'?)",
    ),
}
