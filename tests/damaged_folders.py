"""Catalogues of damaged output folders: what `sim discover` meets in a sweep folder and
`sim rerun` in a run's manifest after a copy was cut short, a file was edited by hand or
lost. Used by tests/test_damaged_folders.py (exact lines) and the property tests.

Each sweep-folder damage edits a copy of a good sweep folder in place; each manifest
damage edits a copy of a good run's manifest (a dict) or returns raw text for the file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

DELETE = object()


def _text(name: str, fn: Callable[[str], str | bytes]) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        new = fn((folder / name).read_text(encoding="utf-8"))
        if isinstance(new, bytes):
            (folder / name).write_bytes(new)
        else:
            (folder / name).write_text(new, encoding="utf-8")

    return damage


def _summary(fn: Callable[[dict], Any]) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        s = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        (folder / "summary.json").write_text(json.dumps(fn(s)), encoding="utf-8")

    return damage


def _lines(n: int) -> Callable[[str], str]:
    return lambda t: "".join(t.splitlines(keepends=True)[:n])


def _cell(row: int, col: int, value: str) -> Callable[[str], str]:
    def fn(t: str) -> str:
        lines = t.splitlines(keepends=True)
        cells = lines[row].rstrip("\n").split(",")
        cells[col] = value
        lines[row] = ",".join(cells) + "\n"
        return "".join(lines)

    return fn


def _rename_column(old: str, new: str) -> Callable[[str], str]:
    def fn(t: str) -> str:
        head, _, rest = t.partition("\n")
        return ",".join(new if c == old else c for c in head.split(",")) + "\n" + rest

    return fn


def _stopped(folder: Path) -> None:
    """What a sweep stopped by Ctrl-C leaves: sets so far and a manifest, no summary."""
    (folder / "summary.json").unlink()
    m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    m.update(complete=False, stopped_by="interrupt")
    (folder / "manifest.json").write_text(json.dumps(m), encoding="utf-8")


def _replace_with_folder(name: str) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        (folder / name).unlink()
        (folder / name).mkdir()

    return damage


SWEEP_DAMAGES: dict[str, Callable[[Path], None]] = {
    "sets_missing": lambda d: (d / "sets.csv").unlink(),
    "sets_a_folder": _replace_with_folder("sets.csv"),
    "sets_empty": _text("sets.csv", lambda t: ""),
    "sets_header_only": _text("sets.csv", _lines(1)),
    "sets_rows_missing": _text("sets.csv", _lines(5)),
    "sets_last_line_cut": _text("sets.csv", lambda t: t[: len(t) - len(t.splitlines()[-1]) // 2 - 1]),
    "sets_last_digit_cut": _text("sets.csv", lambda t: t[:-2]),
    "sets_not_utf8": _text("sets.csv", lambda t: b"\xff\xfe" + t.encode()),
    "sets_no_set_column": _text("sets.csv", _rename_column("set", "id")),
    "sets_no_runs_column": _text("sets.csv", _rename_column("runs", "n")),
    "sets_no_outcome_column": _text("sets.csv", _rename_column("clash", "klash")),
    "sets_input_garbled": _text("sets.csv", _cell(3, 1, "abc")),
    "sets_runs_negative": _text("sets.csv", lambda t: _cell(2, t.split("\n")[0].split(",").index("runs"), "-3")(t)),
    "sets_probability_above_one": _text("sets.csv", lambda t: _cell(2, t.split("\n")[0].split(",").index("clash"), "1.5")(t)),
    "sets_runs_edited": _text("sets.csv", lambda t: _cell(2, t.split("\n")[0].split(",").index("runs"), "99")(t)),
    "summary_missing": lambda d: (d / "summary.json").unlink(),
    "summary_garbled": _text("summary.json", lambda t: t[:40]),
    "summary_a_list": _summary(lambda s: [s]),
    "summary_of_a_run": _summary(lambda s: {"scenario": "mini", "runs": 10, "outcomes": {}}),
    "summary_no_inputs": _summary(lambda s: {k: v for k, v in s.items() if k != "inputs"}),
    "summary_inputs_text": _summary(lambda s: {**s, "inputs": "abc"}),
    "summary_input_unnamed": _summary(lambda s: {**s, "inputs": [{"lever": False}]}),
    "summary_outcome_undescribed": _summary(lambda s: {**s, "outcomes": {"clash": {}}}),
    "summary_sets_zero": _summary(lambda s: {**s, "sets": 0}),
    "summary_method_unknown": _summary(lambda s: {**s, "method": "magic"}),
    "stopped_sweep": _stopped,
    "not_a_folder": lambda d: None,  # the test replaces the folder by a file
}


def _m(**changes: Any) -> Callable[[dict], dict]:
    def fn(m: dict) -> dict:
        m = dict(m)
        for k, v in changes.items():
            if v is DELETE:
                m.pop(k, None)
            else:
                m[k] = v
        return m

    return fn


MANIFEST_DAMAGES: dict[str, Callable[[dict], Any]] = {
    "seed_text": _m(seed="x"),
    "seed_negative": _m(seed=-3),
    "seed_fraction": _m(seed=1.5),
    "seed_missing": _m(seed=DELETE),
    "runs_text": _m(runs_requested="many"),
    "runs_zero": _m(runs_requested=0),
    "runs_null": _m(runs_requested=None),
    "chunk_size_text": _m(chunk_size="big"),
    "horizon_huge": _m(horizon_months=10_000),
    "dtype_unknown": _m(dtype="float16"),
    "levers_a_string": _m(levers="cc.reassure"),
    "levers_unknown": _m(levers=["cc.nope"]),
    "versions_a_list": _m(versions=["x"]),
    "versions_without_sim": _m(versions={}),
    "sha_a_number": _m(scenario_sha256=5),
    "custom_parts_text": _m(custom_parts="abc"),
    "custom_parts_incomplete": _m(custom_parts=[{"what": "rules"}]),
    "ci_halfwidth_text": _m(ci_halfwidth="tight"),
    "uncertainty_text": _m(uncertainty="yes"),
    "uncertainty_sets_text": _m(uncertainty={"sets": "x", "runs": 10}),
    "complete_text": _m(complete="no"),
    "from_game_text": _m(from_game="game.json"),
    "a_list": lambda m: [m],
    "empty": lambda m: "",
    "cut_short": lambda m: json.dumps(m)[:120],
    "not_utf8": lambda m: b"\xff\xfe{}",
    "sweep_method_unknown": _m(sweep={"method": "magic", "samples": 4, "sets": 4, "runs_per_set": 5, "inputs": []}),
    "sweep_inputs_text": _m(sweep={"method": "lhs", "samples": 4, "sets": 4, "runs_per_set": 5, "inputs": "abc"}),
    "sweep_lever_unknown": _m(sweep={"method": "lhs", "samples": 4, "sets": 4, "runs_per_set": 5,
                                     "inputs": ["lever:cc.nope"]}),
}
