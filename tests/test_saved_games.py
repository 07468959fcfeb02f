"""A saved game is checked on load as a scenario is: a damaged, cut or foreign ``game.json``
gets one line per problem naming the file and the field, exit status 2, and no traceback,
from both ``sim play --resume`` and ``sim run --from-game``; nothing is written.

The damaged games are the catalogue in tests/saved_game_cases.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.play.game import Game
from sim.play.savefile import save_game

from .saved_game_cases import CASES, EXPECT

runner = CliRunner()


@pytest.fixture(scope="module")
def good_game(tmp_path_factory) -> Path:
    """A game of karabakh played for two turns (of three), saved."""
    path = tmp_path_factory.mktemp("game") / "game.json"
    g = Game(sim.load_scenario("karabakh"), ["armenia"], seed=5, months=9, forecast_runs=40)
    g.play_turn(["armenia.appeal_to_csto"])
    g.play_turn([])
    save_game(g, path)
    return path


def damaged(good: Path, case, folder: Path) -> Path:
    text = good.read_text(encoding="utf-8")
    out = case.damage(json.loads(text), text)
    f = folder / "game.json"
    if isinstance(out, bytes):
        f.write_bytes(out)
    elif isinstance(out, str):
        f.write_text(out, encoding="utf-8")
    else:
        f.write_text(json.dumps(out), encoding="utf-8")
    return f


def test_the_catalogue_has_an_expectation_per_case():
    assert sorted(EXPECT) == sorted(c.name for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_a_damaged_saved_game_is_one_line_per_problem_naming_file_and_field(case, good_game, tmp_path):
    f = damaged(good_game, case, tmp_path)
    before = f.read_bytes()
    want = [line.replace("{file}", str(f)).replace("{version}", sim.__version__) for line in EXPECT[case.name]]
    for args in (["play", "--resume", str(f)],
                 ["run", "--from-game", str(f), "--runs", "10", "--no-report", "--out", str(tmp_path / "run")]):
        r = runner.invoke(app, args, input="quit\n")
        assert r.exit_code == 2, (args, r.output)
        assert not isinstance(r.exception, Exception) or isinstance(r.exception, SystemExit), r.exception
        assert r.output.strip().splitlines() == want, args
        assert "Traceback" not in r.output and ": --as:" not in r.output  # never blames an option not given
    assert not (tmp_path / "run").exists()
    assert f.read_bytes() == before  # left as it was


@pytest.mark.parametrize("what", ["a folder", "a folder holding a game", "a missing file"])
def test_a_path_that_is_not_a_saved_game_file(what, good_game, tmp_path):
    if what == "a missing file":
        f, want = tmp_path / "nope.json", "no such saved game; `sim play ... --save FILE` writes one"
    elif what == "a folder":
        f, want = tmp_path, "is a folder, not a saved game; sim play saves FOLDER/game.json"
    else:
        (tmp_path / "game.json").write_bytes(good_game.read_bytes())
        f, want = tmp_path, f"is a folder, not a saved game: did you mean {tmp_path / 'game.json'}?"
    for args in (["play", "--resume", str(f)], ["run", "--from-game", str(f)]):
        r = runner.invoke(app, args)
        assert r.exit_code == 2 and r.output.strip() == f"{f}: {want}", r.output


def test_a_changed_scenario_file_is_noted_and_the_game_goes_on_as_played(tmp_path):
    scn_file = tmp_path / "mine.yaml"
    scn_file.write_text("extends: karabakh\nmeta: {name: mine, title: Mine}\n", encoding="utf-8")
    g = Game(sim.load_scenario(scn_file), ["armenia"], seed=3, months=3, forecast_runs=20)
    g.play_turn([])
    save_game(g, tmp_path / "game.json")
    r = runner.invoke(app, ["run", "--from-game", str(tmp_path / "game.json"), "--no-report", "--json",
                            "--out", str(tmp_path / "before")])
    assert r.exit_code == 0 and "note:" not in r.output
    scn_file.write_text("extends: karabakh\nmeta: {name: mine, title: Mine, horizon_months: 24}\n", encoding="utf-8")
    r = runner.invoke(app, ["run", "--from-game", str(tmp_path / "game.json"), "--no-report", "--json",
                            "--out", str(tmp_path / "after")])
    assert r.exit_code == 0, r.output
    assert (f"sim run: note: {scn_file} has changed since the game was saved; the game goes on with the scenario it "
            f"was played with (to play the changed scenario, start a new game: sim play {scn_file} --as ...)") in r.output
    same = [json.loads((tmp_path / d / "summary.json").read_text())["outcomes"] for d in ("before", "after")]
    assert same[0] == same[1]
