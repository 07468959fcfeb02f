"""Turn-based play: moves, forecasts from the game's state, save and resume, moves files,
bad moves, the debrief; and the levers the shipped scenarios declare for a class."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.play.game import Game
from sim.play.moves import MoveError, TurnMoves
from sim.play.savefile import load_game, save_game
from sim.play.terminal import Session

runner = CliRunner()
RUNS = 300  # continuations per forecast in these tests


@pytest.fixture(scope="module")
def karabakh():
    return sim.load_scenario("karabakh")


def play(scn, moves: dict[int, list[str]], turns: int, seed: int = 5, **kw) -> Game:
    g = Game(scn, kw.pop("played", ["armenia"]), seed=seed, months=kw.pop("months", 12), forecast_runs=RUNS, **kw)
    for k in range(1, turns + 1):
        g.play_turn(moves.get(k, []))
    return g


def same_game(a: Game, b: Game) -> None:
    assert a.records == b.records
    assert a.forecasts == b.forecasts
    assert a.turns == b.turns
    sa, sb = a.snapshot(), b.snapshot()
    for name in sa["st"].names():
        if not name.startswith("_"):  # a rule's cache
            assert np.array_equal(sa["st"][name], sb["st"][name], equal_nan=True), name
    for name in sa["par"].names():
        assert np.array_equal(sa["par"][name], sb["par"][name], equal_nan=True), name


MOVES = {1: ["armenia.appeal_to_csto", "armenia.mobilise"], 3: ["armenia.buy_more_from_india"]}


def test_same_seed_and_moves_same_game(karabakh):
    a = play(karabakh, MOVES, 4)
    b = play(karabakh, MOVES, 4)
    same_game(a, b)
    c = play(karabakh, MOVES, 4, seed=6)
    assert c.records != a.records


def test_moves_change_the_world_they_are_applied_to(karabakh):
    g = play(karabakh, MOVES, 1)
    plan = g.plan
    si = plan.index_of("state")["armenia"]
    assert int(g.world.par.trigger[0, plan.index_of("alliance")["csto"]]) == 2
    base = Game(karabakh, ["armenia"], seed=5, months=12, forecast_runs=RUNS)
    assert g.world.par.resolve[0, si] == pytest.approx(base.world.par.resolve[0, si] + 0.1, abs=1e-6)
    moves = [r for r in g.records if r["event"] == "move"]
    assert [r["text"] for r in moves] == [
        "Armenia (played) chooses to invoke the CSTO's collective-defence clause now, during the standoff, "
        "instead of waiting for a fatal clash",
        "Armenia (played) chooses to call up reservists and reinforce the border and the approaches to the corridor",
    ]


@pytest.mark.pythons
def test_a_saved_game_resumes_exactly(karabakh, tmp_path):
    whole = play(karabakh, MOVES, 4)
    first = play(karabakh, MOVES, 2)
    save_game(first, tmp_path / "g.json")
    resumed = load_game(tmp_path / "g.json")
    assert resumed.turn == 2 and resumed.elapsed == 6
    for k in (3, 4):
        resumed.play_turn(MOVES.get(k, []))
    same_game(whole, resumed)


def test_the_forecast_counts_what_already_happened(karabakh):
    g = play(karabakh, {1: ["armenia.freeze_csto"]}, 1)
    fc = g.forecasts[1]["outcomes"]["armenia_freezes_csto"]
    assert fc["p"] == 1.0 and fc["median_date"] == "2023-07"
    assert g.happened()["armenia_freezes_csto"] == 1
    assert g.forecasts[0]["outcomes"]["armenia_freezes_csto"]["p"] < 1.0


def test_forecasts_are_seeded_by_game_seed_and_turn(karabakh):
    g = play(karabakh, {}, 2)
    assert [f["seed"]["spawn_key"] for f in g.forecasts] == [[0x636F6E74, 0], [0x636F6E74, 1], [0x636F6E74, 2]]
    assert all(f["seed"]["entropy"] == 5 for f in g.forecasts)


def test_bad_moves_are_one_line_and_change_nothing(karabakh):
    g = Game(karabakh, ["armenia"], seed=5, months=6, forecast_runs=RUNS)
    cases = {
        "armenia.freez_csto": "'armenia.freez_csto': armenia has no lever 'freez_csto' (did you mean 'freeze_csto'?)",
        "azerbaijan.lift_blockade": "'azerbaijan.lift_blockade': Azerbaijan is not played in this game (played: "
                                    "armenia); it follows the rules and its declared policies",
        "armenia": "'armenia' is not a move; write ACTOR.LEVER, e.g. armenia.appeal_to_csto",
        "armenai.mobilise": "'armenai.mobilise': no actor 'armenai' (did you mean 'armenia'?); you play armenia",
    }
    for move, message in cases.items():
        with pytest.raises(MoveError) as ei:
            g.play_turn([move])
        assert str(ei.value) == message
    assert g.turn == 0 and g.elapsed == 0 and not g.records


def _answers(lines):
    it = iter(lines)

    def ask(prompt: str) -> str:
        try:
            return next(it)
        except StopIteration:
            raise EOFError from None

    return ask


def test_at_the_prompt_a_bad_move_is_one_line_and_the_game_goes_on(karabakh, tmp_path):
    said: list[str] = []
    g = Game(karabakh, ["armenia"], seed=5, months=6, forecast_runs=RUNS)
    s = Session(g, tmp_path / "g.json", ask=_answers(["armenia.fre", "azerbaijan.lift_blockade", "9", "1", "1",
                                                       "done", "quit"]), say=said.append)
    s.interact()
    out = "\n".join(said)
    assert "! 'armenia.fre': armenia has no lever 'fre'" in out
    assert "is not played in this game" in out
    n = len(karabakh.spec.levers["armenia"])
    assert f"! no lever number 9; your levers are numbered 1 to {n}" in out
    assert "! armenia.appeal_to_csto is already among this turn's moves" in out
    assert g.turn == 1 and g.turns[0]["moves"] == ["armenia.appeal_to_csto"]
    saved = json.loads((tmp_path / "g.json").read_text())
    assert saved["turn"] == 1 and len(saved["snapshots"]) == 2


def test_the_instructor_adds_an_event_at_the_prompt(karabakh, tmp_path):
    said: list[str] = []
    g = Game(karabakh, ["armenia"], seed=5, months=6, forecast_runs=RUNS)
    before = g.world.par.reliability[0, g.plan.index_of("supplier")["russia_arms"]]
    s = Session(g, tmp_path / "g.json", ask=_answers([
        "event Embargo on Russian arms | {multiply: {suppliers.russia_arms.reliability: 0.5}}",
        "event Nonsense | {multiply: {suppliers.russia_armz.reliability: 0.5}}",
        "done"]), say=said.append)
    s.interact()
    out = "\n".join(said)
    assert "event added for this turn: Embargo on Russian arms" in out
    assert "! no such path 'suppliers.russia_armz.reliability' (did you mean 'suppliers.russia_arms.reliability'?)" in out
    after = g.world.par.reliability[0, g.plan.index_of("supplier")["russia_arms"]]
    assert after == pytest.approx(before * 0.5)
    assert any(r["text"] == "Inject: Embargo on Russian arms" for r in g.records)


INJECTS = """\
injects:
  - name: border_incident
    description: Azerbaijani troops fire on Armenian engineers near Tegh.
    at: 2023-10
    effect: {set: {flashpoints.border.level: 3}}
  - name: corridor_closed
    description: The corridor is closed to all traffic after a clash.
    when: "level(border) >= 3"
    effect: {set: {flashpoints.lachin.level: 2}, add: {states.azerbaijan.resolve: 0.05}}
  - name: embargo
    description: Russia's arms deliveries stall.
    effect: {multiply: {suppliers.russia_arms.reliability: 0.5}}
"""


def test_injects_fire_by_month_by_condition_and_by_hand(karabakh, tmp_path):
    from sim.play.injects import load_injects

    p = tmp_path / "injects.yaml"
    p.write_text(INJECTS)
    deck = load_injects(p, karabakh)
    g = Game(karabakh, ["armenia"], seed=5, months=9, forecast_runs=RUNS, deck=deck)
    g.play_turn(TurnMoves(injects=["embargo"]))
    g.play_turn([])
    injected = [(r["month"], r["text"]) for r in g.records if r["event"] == "inject"]
    assert injected[0] == ("2023-07", "Inject: Russia's arms deliveries stall")
    assert ("2023-10", "Inject: Azerbaijani troops fire on Armenian engineers near Tegh") in injected
    closed = [m for m, t in injected if t == "Inject: The corridor is closed to all traffic after a clash"]
    assert len(closed) == 1 and closed[0] <= "2023-10"  # its condition holds at the latest once the border is at 3
    assert g.track.at("level", 4)[g.plan.index_of("flashpoint")["border"]] >= 2  # set to 3 at the start of 2023-10
    with pytest.raises(MoveError, match="inject 'embargo' has already been played"):
        g.play_turn(TurnMoves(injects=["embargo"]))


def test_the_forecast_expects_the_decks_injects_still_to_come(karabakh, tmp_path):
    # what happens anyway happens in the continuations too: the deck's injects that fire by
    # themselves (at a month, on a condition) and have not fired yet; not those played by hand
    from sim.play import replay
    from sim.play.injects import load_injects

    p = tmp_path / "injects.yaml"
    p.write_text(INJECTS)
    deck = load_injects(p, karabakh)
    g = Game(karabakh, ["armenia"], seed=5, months=9, forecast_runs=RUNS, deck=deck)
    bare = Game(karabakh, ["armenia"], seed=5, months=9, forecast_runs=RUNS)
    assert [i["name"] for i in g.pending_injects(0)] == ["border_incident", "corridor_closed"]
    # border_incident sets the border at a fatal clash in 2023-10, in every continuation
    assert g.start()["outcomes"]["border_fatal_clash"]["p"] == 1.0
    assert bare.start()["outcomes"]["border_fatal_clash"]["p"] < 0.9  # 54% measured (hindcast-frozen-2; 24% at frozen-1)
    g.play_turn([])
    g.play_turn([])
    assert g.fired == ["border_incident", "corridor_closed"]
    assert [i["name"] for i in g.pending_injects(1)] == ["border_incident", "corridor_closed"]
    assert g.pending_injects(2) == []  # fired in the game: not applied again in its continuations
    save_game(g, tmp_path / "game.json")
    for turn in (1, 2):  # sim run --from-game runs the same continuations, injects included
        res = replay.runner(replay.game_state(tmp_path / "game.json", turn))()
        assert {r["outcome"]: r["probability"] for r in res.outcome_rows()} == {
            n: o["p"] for n, o in g.forecasts[turn]["outcomes"].items()}


def test_month_effects_apply_at_the_start_of_their_month_or_condition_once_per_replicate(karabakh):
    from sim.runner import month_effects
    from sim.scenario.expr import month_text
    from tests.conftest import make_world

    w = make_world(karabakh, n=4, rules=False, horizon=6)
    a = w.plan.index_of("state")["armenia"]
    w.st.capability[:2, a] = 0.0  # the condition holds in replicates 0 and 1 from the start, in 2 and 3 from month 2
    w.st.capability[2:, a] = -1.0
    due = month_effects(w.plan, [
        {"when": "capability(armenia) >= 0", "effect": {"add": {"states.armenia.capability": 0.5}}},
        {"at": month_text(w.plan.start + 2), "effect": {"add": {"states.armenia.capability": 10}}},
        {"at": None, "when": None, "effect": {"add": {"states.armenia.capability": 100}}},  # by hand: never
    ], w.n)
    seen = []
    for m in range(6):
        due(w)
        seen.append(w.st.capability[:, a].round(6).tolist())
        w.st.capability[2:, a] += 1.0 if m == 0 else 0.0
        w.step()
    assert seen == [[0.5, 0.5, -1, -1], [0.5, 0.5, 0.5, 0.5], [10.5, 10.5, 10.5, 10.5]] + [[10.5] * 4] * 3


def test_a_bad_inject_file_gets_file_line_errors(karabakh, tmp_path):
    from sim.play.injects import load_injects
    from sim.scenario.errors import InputError

    p = tmp_path / "bad.yaml"
    p.write_text("injects:\n  - name: x\n    description: X.\n    at: 2023-01\n    effect: {set: {flashpoints.lachn.level: 3}}\n"
                 "  - name: x\n    description: Y.\n    when: \"level(border) >= \"\n    effect: {add: {states.armenia.capability: 1}}\n")
    with pytest.raises(InputError) as ei:
        load_injects(p, karabakh)
    lines = ei.value.format("sim play").splitlines()
    assert f"{p}:4:9: injects[0].at: 2023-01 is before the scenario starts (2023-07)" in lines
    assert any(ln.startswith(f"{p}:5:20: injects[0].effect.set.flashpoints.lachn.level: no such path") for ln in lines)
    assert any(ln.startswith(f"{p}:6:11: injects[1].name: inject name 'x' is used twice") for ln in lines)
    assert any(ln.startswith(f"{p}:8:") and "injects[1].when" in ln for ln in lines)


@pytest.mark.pythons
def test_sim_play_with_a_moves_file_then_sim_run_from_game_gives_the_same_forecast(tmp_path):
    moves = tmp_path / "moves.yaml"
    moves.write_text("turns:\n  1: [armenia.appeal_to_csto]\n  2:\n    moves: [armenia.freeze_csto]\n"
                     "    events:\n      - {description: A ceasefire holds, effect: {set: {flashpoints.border.level: 1}}}\n")
    out = tmp_path / "game"
    r = runner.invoke(app, ["play", "karabakh", "--as", "armenia", "--seed", "9", "--months", "9", "--moves", str(moves),
                            "--forecast-runs", str(RUNS), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "Moves for turn 1: armenia.appeal_to_csto" in r.output
    saved = json.loads((out / "game.json").read_text())
    assert saved["turn"] == 3 and [t["moves"] for t in saved["turns"]] == [["armenia.appeal_to_csto"], ["armenia.freeze_csto"], []]
    assert (out / "debrief.html").is_file()
    for turn in (1, 2, None):
        args = ["run", "--from-game", str(out / "game.json"), "--json", "--no-report", "--out", str(tmp_path / f"run{turn}")]
        if turn is not None:
            args += ["--turn", str(turn)]
        rr = runner.invoke(app, args)
        assert rr.exit_code == 0, rr.output
        summary = json.loads((tmp_path / f"run{turn}" / "summary.json").read_text())
        fc = saved["forecasts"][3 if turn is None else turn]
        assert summary["runs"] == RUNS
        for name, o in summary["outcomes"].items():
            assert o["probability"] == fc["outcomes"][name]["p"], (turn, name)
            assert o["ci95"] == [fc["outcomes"][name]["lo"], fc["outcomes"][name]["hi"]]
        manifest = json.loads((tmp_path / f"run{turn}" / "manifest.json").read_text())
        assert manifest["from_game"]["turn"] == (3 if turn is None else turn)
    # such a run cannot be rerun from its folder alone: it says what to run instead
    rr = runner.invoke(app, ["rerun", str(tmp_path / "run1")])
    assert rr.exit_code == 2
    assert rr.output.strip().endswith(f"this run continued a played game from its state after turn 1; run it again "
                                      f"with: sim run --from-game {out / 'game.json'} --turn 1")


def test_sim_run_from_game_refuses_options_the_game_fixes(tmp_path):
    r = runner.invoke(app, ["run", "karabakh", "--from-game", str(tmp_path / "none.json")])
    assert r.exit_code == 2
    assert r.output.strip() == ("sim run: --from-game: SCENARIO cannot be used with --from-game: the saved game fixes the "
                                "scenario, its seed (the game's seed and the turn) and its horizon")
    r = runner.invoke(app, ["run", "--from-game", str(tmp_path / "none.json")])
    assert r.exit_code == 2 and "no such saved game" in r.output


def test_a_bad_moves_file_stops_before_anything_is_played(tmp_path):
    moves = tmp_path / "moves.yaml"
    moves.write_text("turns:\n  1: [armenia.freez_csto, azerbaijan.mobilise]\n  9: [armenia.mobilise]\n"
                     "  2: {moves: [armenia.mobilise], injects: [nothing]}\n  3: armenia.mobilise\n")
    out = tmp_path / "game"
    r = runner.invoke(app, ["play", "karabakh", "--as", "armenia", "--months", "6", "--moves", str(moves), "--out", str(out)])
    assert r.exit_code == 2
    lines = r.output.strip().splitlines()
    assert f"{moves}:2:7: turns.1.moves[0]: 'armenia.freez_csto': armenia has no lever 'freez_csto' (did you mean 'freeze_csto'?)" in lines
    assert any(ln.startswith(f"{moves}:2:27: turns.1.moves[1]: 'azerbaijan.mobilise': Azerbaijan is not played") for ln in lines)
    assert f"{moves}:3:3: turns.9: turn 9 is not in this game; its turns are 1 to 2" in lines
    assert any(ln.startswith(f"{moves}:4:") and "no inject 'nothing'; give the inject file with --injects" in ln for ln in lines)
    assert any(ln.startswith(f"{moves}:5:") and "turns.3" in ln for ln in lines)
    assert "Traceback" not in r.output
    assert not out.exists()


def test_resume_keeps_the_saved_game_when_the_moves_file_is_bad(tmp_path):
    out = tmp_path / "game"
    r = runner.invoke(app, ["play", "kyrgyz_tajik", "--as", "kyrgyzstan", "--months", "9", "--forecast-runs", str(RUNS),
                            "--out", str(out), "--moves", str(_write(tmp_path / "m.yaml", "turns: {1: [kyrgyzstan.reinforce_border]}\n")),
                            "--turns", "1"])
    assert r.exit_code == 0, r.output
    saved = (out / "game.json").read_bytes()
    bad = _write(tmp_path / "bad.yaml", "turns: {2: [kyrgyzstan.nothing]}\n")
    r = runner.invoke(app, ["play", "--resume", str(out / "game.json"), "--moves", str(bad)])
    assert r.exit_code == 2 and "kyrgyzstan has no lever 'nothing'" in r.output
    assert (out / "game.json").read_bytes() == saved
    good = _write(tmp_path / "good.yaml", "turns: {2: [kyrgyzstan.appeal_to_csto]}\n")
    r = runner.invoke(app, ["play", "--resume", str(out / "game.json"), "--moves", str(good)])
    assert r.exit_code == 0, r.output
    data = json.loads((out / "game.json").read_text())
    assert [t["moves"] for t in data["turns"]] == [["kyrgyzstan.reinforce_border"], ["kyrgyzstan.appeal_to_csto"], []]


def _write(p: Path, text: str) -> Path:
    p.write_text(text)
    return p


def test_the_debrief_has_decisions_forecasts_baseline_story_and_questions(karabakh, tmp_path):
    from sim.play.debrief import write_debrief

    g = play(karabakh, MOVES, 4)
    page = write_debrief(g, tmp_path).read_text()
    for heading in ("Decisions, turn by turn", "The forecast after each turn", "Compared with nobody playing",
                    "The story of the game", "Questions for discussion"):
        assert f"<h2>{heading}</h2>" in page
    assert page.count("data:image/png;base64,") == 2
    assert "armenia.appeal_to_csto, armenia.mobilise" in page
    base = g.baseline["outcomes"]["new_war"]["p"]
    assert f"{100 * base:.1f}%" in page
    assert karabakh.spec.play.questions[0] in page


# ------------------------------------------------------------ shipped levers

MAIN_ACTORS = {"karabakh": ["armenia", "azerbaijan", "russia"], "kyrgyz_tajik": ["kyrgyzstan", "tajikistan", "russia"]}


@pytest.mark.parametrize("name", list(MAIN_ACTORS))
def test_shipped_scenarios_give_their_main_actors_levers_with_sources(name):
    scn = sim.load_scenario(name)
    for actor in MAIN_ACTORS[name]:
        assert len(scn.spec.levers.get(actor, {})) >= 3, actor
    assert scn.spec.play.turn == "quarter"


def test_every_shipped_lever_has_a_source_and_cites_nothing_after_july_2023():
    from sim.api import list_scenarios
    from sim.evidence.provenance import CITED

    for s in list_scenarios():
        scn = sim.load_scenario(s["path"])
        for actor, levers in scn.spec.levers.items():
            for lname, lever in levers.items():
                where = f"{s['name']}: levers.{actor}.{lname}"
                assert lever.source is not None, where
                for fid in CITED.findall(lever.source.note or ""):
                    date = scn.facts.get(fid).date
                    assert date == "not stated" or date[:7] <= "2023-07", (where, fid, date)
                if lever.policy is not None:
                    assert lever.policy.probability.source is not None, where


@pytest.mark.parametrize("name", list(MAIN_ACTORS))
def test_every_shipped_lever_changes_the_world(name):
    from .conftest import make_world

    scn = sim.load_scenario(name)

    def changes(w, effect) -> list[str]:
        before = w.snapshot()
        w.apply_effect(effect)
        after = w.snapshot()
        changed = [k for k in before["st"].names() if not np.array_equal(before["st"][k], after["st"][k], equal_nan=True)]
        changed += [k for k in before["par"].names() if not np.array_equal(before["par"][k], after["par"][k], equal_nan=True)]
        return changed

    for actor, levers in scn.spec.levers.items():
        for lname, lever in levers.items():
            w = make_world(scn, n=200, seed=1)
            changed = changes(w, lever.effect)
            if not changed:  # e.g. "open talks" where talks are open at the start: try once they may have stalled
                w = make_world(scn, n=200, seed=1)
                for _ in range(12):
                    w.step()
                changed = changes(w, lever.effect)
            assert changed, f"{name}: {actor}.{lname} changes nothing"


def test_ctrl_c_during_a_turn_waits_for_the_turn_and_the_saved_game_resumes(karabakh, tmp_path, monkeypatch):
    """A SIGINT in the middle of a turn's months is acted on once the turn is whole; one
    during the forecast leaves it to be made on resuming. Either way the saved game
    continues as if nothing had happened."""
    import os
    import signal

    from sim.world.model import World

    whole = play(karabakh, MOVES, 3)
    step = World.step
    calls = {"n": 0}

    def step_then_interrupt(self):
        step(self)
        if self.n == 1 and self.log is not None:  # the game's own world (it narrates), not its continuations or replays
            calls["n"] += 1
            if calls["n"] == 5:  # the second month of turn 2
                os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(World, "step", step_then_interrupt)  # before the world exists (Mesa binds step then)
    g = Game(karabakh, ["armenia"], seed=5, months=12, forecast_runs=RUNS)
    s = Session(g, tmp_path / "g.json", say=lambda _: None)
    with pytest.raises(KeyboardInterrupt):
        s.script({k: TurnMoves(moves=v) for k, v in MOVES.items()})
    monkeypatch.setattr(World, "step", step)
    assert g.turn == 2 and g.elapsed == 6 and g.snapshots[-1]["elapsed"] == 6  # the turn finished whole
    saved = json.loads((tmp_path / "g.json").read_text())
    assert saved["turn"] == 2 and len(saved["snapshots"]) == 3 and len(saved["forecasts"]) == 2  # no forecast yet
    resumed = load_game(tmp_path / "g.json")
    resumed.start()  # the forecast the interrupt stopped
    resumed.play_turn(MOVES.get(3, []))
    same_game(whole, resumed)
