"""Why the forecast moved: a turn's change split into the teams' moves, the injects, chance
and their interaction, from replays of the turn and continuations on common random numbers."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.play.explain import explain_turn, replay, same_world
from sim.play.game import Game
from sim.play.injects import Inject
from sim.play.moves import MoveError, TurnMoves

RUNS = 400
PARTS = ("moves", "injects", "chance", "interaction")


@pytest.fixture(scope="module")
def karabakh():
    return sim.load_scenario("karabakh")


def game(scn, **kw) -> Game:
    return Game(scn, kw.pop("played", ["armenia", "azerbaijan"]), seed=kw.pop("seed", 11), months=12,
                forecast_runs=RUNS, **kw)


def test_replaying_a_turn_with_its_own_moves_and_injects_gives_the_game_itself(karabakh):
    deck = [Inject(name="snub", description="A snub.", effect={"add": {"alliances.csto.trust.armenia": -0.05}})]
    g = game(karabakh, deck=deck)
    g.play_turn(TurnMoves(moves=["armenia.mobilise"], injects=["snub"]))
    t = g.turns[0]
    again = replay(g, g.snapshots[0], t["first"], t["last"], [("armenia", "mobilise")], t["applied"])
    assert same_world(again, g.snapshots[1])
    without = replay(g, g.snapshots[0], t["first"], t["last"], [], t["applied"])
    assert not same_world(without, g.snapshots[1])


def test_a_turn_without_moves_gives_the_moves_exactly_nothing_and_the_parts_sum_to_the_change(karabakh):
    deck = [Inject(name="clash", description="Troops open fire.", effect={"set": {"flashpoints.border.level": 3}})]
    g = game(karabakh, deck=deck)
    g.play_turn(TurnMoves(injects=["clash"]))
    ex = explain_turn(g, 1)
    before, after = g.forecasts[0]["outcomes"], g.forecasts[1]["outcomes"]
    for name, row in ex["outcomes"].items():
        assert row["moves"] == 0.0  # exactly: the world with moves only is the world with neither
        assert row["total"] == pytest.approx(after[name]["p"] - before[name]["p"], abs=1e-12)
        assert sum(row[k] for k in PARTS) == pytest.approx(row["total"], abs=1e-12)
        # only an inject: the injects' part is the whole change that chance does not make
        assert row["injects"] == pytest.approx(row["total"] - row["chance"], abs=1e-12)
        assert row["interaction"] == 0.0
    # the inject put the border at a fatal clash: its part of that outcome is what was left to happen
    fatal = ex["outcomes"]["border_fatal_clash"]
    assert g.forecasts[1]["outcomes"]["border_fatal_clash"]["p"] == 1.0
    assert fatal["injects"] == pytest.approx(1.0 - before["border_fatal_clash"]["p"] - fatal["chance"], abs=1e-12)
    assert fatal["injects"] > 0.5 * (1.0 - before["border_fatal_clash"]["p"])  # most of it: chance made little


def test_a_move_known_to_raise_an_outcome_gets_a_positive_part(karabakh):
    g = game(karabakh, played=["armenia"])
    g.play_turn(["armenia.freeze_csto", "armenia.mobilise"])
    ex = explain_turn(g, 1)
    row = ex["outcomes"]["armenia_freezes_csto"]
    assert row["moves"] > 0.3 and row["injects"] == 0.0
    assert sum(row[k] for k in PARTS) == pytest.approx(row["total"], abs=1e-12)
    freeze = next(m for m in ex["moves"] if m["move"] == "armenia.freeze_csto")
    assert freeze["parts"]["armenia_freezes_csto"] > 3 * freeze["se"]["armenia_freezes_csto"]
    assert freeze["nothing"] is None


def test_a_move_that_changes_nothing_is_flagged(karabakh):
    g = game(karabakh, played=["armenia"])
    g.play_turn(["armenia.invite_russian_mediation"])  # Russia mediates on the border from now on
    g.play_turn(["armenia.invite_russian_mediation", "armenia.mobilise"])  # the second time: nothing new
    ex = explain_turn(g, 2)
    again = next(m for m in ex["moves"] if m["move"] == "armenia.invite_russian_mediation")
    assert again["nothing"] == "model"
    assert all(v == 0.0 for v in again["parts"].values())


def test_the_interaction_is_what_moves_and_injects_do_only_together(karabakh):
    deck = [Inject(name="clash", description="Troops open fire.", effect={"set": {"flashpoints.border.level": 3}})]
    g = game(karabakh, deck=deck, played=["armenia"])
    g.play_turn(TurnMoves(moves=["armenia.appeal_to_csto"], injects=["clash"]))
    ex = g.explain(1)
    assert g.explanations[0] is ex
    for row in ex["outcomes"].values():
        assert sum(row[k] for k in PARTS) == pytest.approx(row["total"], abs=1e-12)
        assert row["interaction_shown"] == (abs(row["interaction"]) > 1.96 * row["interaction_se"])
    # the forecast the split ends at is the game's own (same seed, same continuations)
    assert {n: r["total"] for n, r in ex["outcomes"].items()} == pytest.approx(
        {n: g.forecasts[1]["outcomes"][n]["p"] - g.forecasts[0]["outcomes"][n]["p"] for n in ex["outcomes"]}, abs=1e-12)


def test_an_overruled_result_is_logged_reforecast_and_joins_the_split(karabakh):
    g = game(karabakh, played=["armenia"])
    g.play_turn([], explain=True)
    before = dict(g.forecasts[1]["outcomes"])
    ruling = g.overrule({"set": {"flashpoints.border.level": 0}}, "the border calms", "both sides withdrew, as agreed")
    assert ruling["reason"] == "both sides withdrew, as agreed"
    assert int(g.world.st.level[0, g.plan.index_of("flashpoint")["border"]]) == 0
    assert g.turns[-1]["rulings"][0]["description"] == "the border calms"
    assert any(r["event"] == "ruling" and "both sides withdrew" in r["text"] for r in g.records)
    ex = g.explanations[0]
    for name, row in ex["outcomes"].items():
        assert row["ruling"] == pytest.approx(g.forecasts[1]["outcomes"][name]["p"] - before[name]["p"], abs=1e-12)
        parts = sum(row[k] for k in (*PARTS, "ruling"))
        assert parts == pytest.approx(g.forecasts[1]["outcomes"][name]["p"] - g.forecasts[0]["outcomes"][name]["p"],
                                      abs=1e-12)
    with pytest.raises(MoveError, match="say why"):
        g.overrule({"set": {"flashpoints.border.level": 1}}, "x", "  ")


def test_the_baseline_includes_the_deck(karabakh):
    deck = [Inject(name="clash", description="Troops open fire.", at="2023-09",
                   effect={"set": {"flashpoints.border.level": 3}})]
    with_deck = game(karabakh, deck=deck, played=["armenia"]).run_baseline()
    without = game(karabakh, played=["armenia"]).run_baseline()
    assert with_deck["injects"] == ["inject_clash"] and without["injects"] == []
    assert with_deck["outcomes"]["border_fatal_clash"]["p"] == 1.0  # the inject makes it certain by 2023-09
    assert without["outcomes"]["border_fatal_clash"]["p"] < 0.9
    assert np.isclose(sum(1 for _ in with_deck["outcomes"]), len(without["outcomes"]))


def test_the_timeline_shows_each_months_peak(karabakh):
    from sim.play.figures import rungs

    g = game(karabakh, played=["armenia"], seed=3)
    for _ in range(4):
        g.play_turn([])
    drawn, peaks = rungs(g.story())
    level = g.track.series("level")
    assert peaks and drawn.shape == level.shape
    assert (drawn[1:] >= level[1:]).all()  # a month's peak is at least where it ends
    assert (drawn[1:] >= level[:-1]).all()  # ... and where it starts


def test_the_debrief_uses_the_split_and_marks_what_happened_or_can_no_longer_happen(karabakh, tmp_path):
    from sim.play.debrief import write_debrief

    deck = [Inject(name="clash", description="Troops open fire.", effect={"set": {"flashpoints.border.level": 3}})]
    g = Game(karabakh, ["armenia"], seed=13, months=6, forecast_runs=RUNS, deck=deck)  # a game (seed) whose biggest change is the freeze of turn 1
    g.play_turn(TurnMoves(moves=["armenia.freeze_csto"], injects=["clash"]))
    g.play_turn([])
    assert g.finished and g.explanations == [None, None]
    import html

    page = write_debrief(g, tmp_path, channels=[{"turn": 1, "from": "Armenia", "to": "Azerbaijan", "kind": "message",
                                                 "text": "Talks?"}], umpire=[{"turn": 1, "text": "A ruling."}]).read_text()
    page = html.unescape(page)
    assert all(ex is not None for ex in g.explanations)  # the debrief worked out each turn's split
    assert "Why the forecast moved" in page and "Teams' moves" in page
    assert "Monte Carlo with this game's injects" in page and g.baseline["injects"] == ["played_1_0"]
    assert "happened 2023-07" in page and "did not happen (no time left)" in page
    assert "Talks?" in page and "A ruling." in page
    assert "Of that, the teams' moves" in page  # a question attributes the freeze to the moves
    # with the game's injects in the baseline, the clash the inject caused is not "against the odds"
    assert "A fatal clash on the Armenia-Azerbaijan border\" happened in this game, though" not in page
