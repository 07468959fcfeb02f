"""Decisions belong to the players (issue 23).

The rules declare the decisions they take for an actor (:func:`sim.parts.declare_decision`);
for a played country the model's hazard is zero and its team orders them (or holds back);
the play layer derives the team's choices, with the model's odds as advice, from those
declarations. Tolerances: 4 standard deviations of the counts' Monte Carlo error (a
launch, a freeze or a request in a month is a Bernoulli draw at the hazard the rule uses,
probed just before the rule's step).
"""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.parts import declare_decision, registry, scoped
from sim.play.continuations import continuations
from sim.play.decisions import FORECAST_NOTE, HOLD, advice, decision_choices, declared, elements
from sim.play.game import Game, summarise
from sim.play.moves import MoveError, apply_move
from sim.play.packs import game_setup, pack_names
from sim.world.compile import ACTIVE, EXITED, FROZEN
from sim.world.log import EventLog
from tests.conftest import make_world

R = 4000
MONTHS = 6
LOW_TRUST = ["alliances.csto.trust.armenia=0.1", "flashpoints.border.level=3"]


def _world(scn, played, n=R, seed=3):
    w = make_world(scn, n, seed)
    si = w.plan.index_of("state")
    for a in played:
        w.st.played[:, si[a]] = True
    return w


def _probe(w, slot: str, name: str) -> list[np.ndarray]:
    """The decision's odds (the model's hazard for an actor nobody plays) just before its
    rule's step, each month."""
    d = registry().decisions[name]
    seen: list[np.ndarray] = []
    i = next(k for k, (kind, _) in enumerate(w.pipeline) if kind == slot)
    w.pipeline.insert(i, ("probe", lambda ww: seen.append(np.asarray(d.odds(ww), dtype=float).copy())))
    return seen


def _side(plan, flashpoint: str, state: str) -> tuple[int, int]:
    f = plan.index_of("flashpoint")[flashpoint]
    return f, list(plan.sides[f]).index(plan.index_of("state")[state])


def _within(observed: float, expected: np.ndarray) -> None:
    sd = float(np.sqrt(np.sum(expected * (1 - expected))))
    assert abs(observed - expected.sum()) <= 4 * sd + 1e-9, (observed, expected.sum(), sd)


# ------------------------------------------------------------------ (1) offered, not taken


def test_a_played_challenger_never_launches_unless_ordered_and_an_unplayed_one_launches_at_its_hazard():
    scn = sim.load_scenario("karabakh")
    got = {}
    for played in ([], ["azerbaijan"]):
        w = _world(scn, played)
        f, sg = _side(w.plan, "lachin", "azerbaijan")
        seen = _probe(w, "offensive", "launch_offensive")
        before = w.st.offensives[:, f].copy()
        for _ in range(MONTHS):
            w.step()
        p = np.stack(seen)  # (months, R, F, 2)
        # the other side launches only to retake ground Azerbaijan took (MODEL.md D9): one
        # offensive a month at most, so a month's chance of one is 1 - (1 - p_a)(1 - p_b)
        either = 1 - (1 - p[..., f, sg]) * (1 - p[..., f, 1 - sg])
        got[bool(played)] = (int((w.st.offensives[:, f] - before).sum()), either, p[..., f, sg], p[..., f, 1 - sg])
    launched, either, hazard, other = got[False]
    assert launched > 50 and other.any()  # Karabakh's Armenians retake ground in some runs
    _within(launched, either.ravel())
    launched, either, hazard, other = got[True]
    assert hazard.sum() > 50  # the model would have launched, in Azerbaijan's place...
    assert launched == 0 and not other.any()  # ...but Azerbaijan is played and held back: nothing to retake


def test_a_played_member_never_freezes_leaves_or_asks_unless_ordered():
    scn = sim.load_scenario("karabakh", overrides=LOW_TRUST)
    out = {}
    for played in ([], ["armenia"]):
        w = _world(scn, played)
        si, ai = w.plan.index_of("state")["armenia"], w.plan.index_of("alliance")["csto"]
        freeze = _probe(w, "membership", "freeze")
        ask = _probe(w, "alliance", "ask_for_help")
        f, sg = _side(w.plan, "border", "armenia")
        freezes, exits = np.zeros(R, int), np.zeros(R, int)
        for _ in range(MONTHS):
            was = w.st.status[:, si, ai].copy()
            w.step()
            now = w.st.status[:, si, ai]
            freezes += (was == ACTIVE) & (now == FROZEN)
            exits += (was != EXITED) & (now == EXITED)
        out[bool(played)] = {"freezes": int(freezes.sum()), "exits": int(exits.sum()),
                             "requests": int(w.st.requests[:, si, ai].sum()),
                             "p_freeze": np.stack(freeze)[:, :, si, ai], "p_ask": np.stack(ask)[:, :, f, sg, ai]}
    free, held = out[False], out[True]
    assert free["freezes"] > 100 and free["requests"] > 100 and free["exits"] > 0
    _within(free["freezes"], free["p_freeze"].ravel())
    assert free["requests"] == int(free["p_ask"].sum())  # a request is made exactly where the model would
    assert held["p_freeze"].sum() > 100 and held["p_ask"].sum() > 100  # the model would, in Armenia's place
    assert held["freezes"] == held["exits"] == held["requests"] == 0


def test_an_ordered_offensive_and_an_ordered_freeze_happen():
    scn = sim.load_scenario("karabakh")
    w = _world(scn, ["azerbaijan", "armenia"], n=500)
    f, sg = _side(w.plan, "lachin", "azerbaijan")
    si, ai = w.plan.index_of("state")["armenia"], w.plan.index_of("alliance")["csto"]
    assert (w.st.status[:, si, ai] == ACTIVE).all()
    assert apply_move(w, scn, "azerbaijan", "launch_offensive(lachin)") == "decision"
    assert apply_move(w, scn, "armenia", "freeze(csto)") == "decision"
    w.step()
    assert (w.st.offensives[:, f] >= 1).mean() > 0.95  # carried out wherever Azerbaijan is still the challenger
    assert (w.st.status[:, si, ai] == FROZEN).all()  # whatever its trust
    assert not w.st.order_launch_offensive.any() and not w.st.order_freeze.any()  # an order is carried out once
    w.step()
    assert (w.st.status[:, si, ai] == FROZEN).all()  # and nothing more: holding back again


def test_a_played_team_is_offered_its_decisions_with_the_models_odds_as_advice(tmp_path):
    scn = sim.load_scenario("karabakh", overrides=LOW_TRUST)
    g = Game(scn, ["armenia", "azerbaijan"], seed=4, months=6, forecast_runs=50)
    offered = {a: {c.key: c for c in decision_choices(g, a)} for a in g.played}
    assert {"armenia.hold_back", "armenia.freeze(csto)", "armenia.leave(csto)",
            "armenia.ask_for_help(border,csto)"} <= set(offered["armenia"])
    assert {"azerbaijan.hold_back", "azerbaijan.launch_offensive(lachin)"} <= set(offered["azerbaijan"])
    assert "armenia.reengage(csto)" not in offered["armenia"]  # not open: Armenia is an active member
    assert offered["armenia"]["armenia.hold_back"].kind == "hold"
    freeze = offered["armenia"]["armenia.freeze(csto)"]
    assert freeze.kind == "decision" and freeze.advice == advice(0.05, 3)  # h_freeze, trust below θ_freeze
    assert "5% a month" in freeze.advice and "14% over this turn's 3 months" in freeze.advice
    launch = offered["azerbaijan"]["azerbaijan.launch_offensive(lachin)"]
    f, sg = _side(g.plan, "lachin", "azerbaijan")
    p = float(registry().decisions["launch_offensive"].odds(g.world)[0, f, sg])
    assert 0 < p < 1 and launch.advice == advice(p, 3)
    # the model does not take them: a turn of holding back, none of their decisions in the game
    g.play_turn(["armenia.hold_back", "azerbaijan.hold_back"])
    events = {r["event"] for r in g.records}
    assert not events & {"offensive.launch", "membership.freeze", "alliance.request"}
    # an order is a move like a lever; holding back beside one is refused in one line
    with pytest.raises(MoveError, match="contradict each other"):
        g.play_turn(["armenia.hold_back", "armenia.freeze(csto)"])
    with pytest.raises(MoveError, match="not one of armenia's decisions; write one of armenia.freeze\\(csto\\)"):
        g.check_move("armenia.freeze(cst)")
    with pytest.raises(MoveError, match="no decision 'frieze' \\(did you mean"):
        g.check_move("armenia.frieze(csto)")
    g.play_turn(["armenia.freeze(csto)"])
    assert "membership.freeze" in {r["event"] for r in g.records}
    assert any("Armenia (played) chooses to freeze its participation in the CSTO" in r["text"] for r in g.records)


def test_the_forecast_draws_a_played_countrys_later_decisions_at_the_models_odds_and_says_so():
    # karabakh has no lever policies, so a played country differs from one nobody plays
    # only in its decisions: the forecast must be the very forecast with nobody playing it
    scn = sim.load_scenario("karabakh")
    g = Game(scn, ["azerbaijan"], seed=2, months=12, forecast_runs=400)
    played = g.start()
    snap = g.snapshots[0]
    nobody = {**snap, "st": snap["st"].copy()}
    nobody["st"].played[:] = False
    free = summarise(continuations(scn, nobody, g.seed, 0, runs=400, months=12), 0, played["month"])
    assert played["outcomes"] == free["outcomes"]
    assert played["outcomes"]["offensive_on_karabakh"]["p"] > 0.1  # 19% measured; 4 standard errors below
    assert snap["st"].played.any() and not snap["st"].advised.any()  # the game's own world is never advised
    g.play_turn([f"azerbaijan.{HOLD}"])
    assert not g.world.st.advised.any()
    from sim.play.terminal import render_forecast

    g = Game(scn, ["azerbaijan"], seed=2, months=6, forecast_runs=50)
    g.start()
    assert FORECAST_NOTE[:40] in render_forecast(g, g.forecasts[-1], None).replace("\n  ", " ")
    assert "at the model's own odds" in FORECAST_NOTE and "your orders replace them" in FORECAST_NOTE


def test_the_offered_choices_are_derived_from_the_declarations():
    scn = sim.load_scenario("karabakh")
    with scoped():
        declare_decision("withhold_dues", "membership", ("state", "alliance"), "withhold its dues to {alliance}",
                         odds=lambda w: np.full((w.n, w.plan.S, w.plan.A), 0.25),
                         open=lambda w: w.st.status == ACTIVE, event="membership.freeze")
        g = Game(scn, ["armenia"], seed=1, months=3, forecast_runs=20)
        keys = {c.key: c for c in decision_choices(g, "armenia")}
        assert keys["armenia.withhold_dues(csto)"].advice == advice(0.25, 3)
        assert keys["armenia.withhold_dues(csto)"].title == "Withhold its dues to the CSTO"
        g.play_turn(["armenia.withhold_dues(csto)"])  # sets its order state (no rule reads it here)
    assert "withhold_dues" not in registry().decisions
    every = {d.name for d in declared(g.plan)}
    assert {"launch_offensive", "ask_for_help", "freeze", "leave", "reengage", "join"} <= every
    assert all(e.actor == "armenia" for e in elements(g.plan, "armenia"))


# ------------------------------------------------------------------ (2) the packs before turn 2


def _first_turn_decisions(setup, played: list[str], n: int = 2000) -> dict[str, int]:
    """The decisions each country took in the first turn's months of ``n`` replicates of
    the pack's game (its dated injects applied): decider -> count."""
    scn, deck = setup.scn, setup.deck
    w = _world(scn, played, n=n, seed=11)
    w.log = EventLog(list(range(n)))
    events = {d.event for d in declared(w.plan)}
    months = {"month": 1, "quarter": 3}[scn.spec.play.turn]
    for m in range(1, months + 1):
        for inj in deck:
            if inj.at is not None and inj.at == sim.scenario.expr.month_text(w.plan.start + m - 1):
                w.apply_effect(inj.effect)
        w.step()
    out: dict[str, int] = {}
    for r in w.log.records:
        if r.event in events:
            who = r.actors.get("state")
            out[who] = out.get(who, 0) + 1
    return out


@pytest.mark.parametrize("pack", pack_names())
def test_with_every_team_holding_back_no_played_country_decides_before_turn_2(pack):
    setup = game_setup(pack, default_teams=True)
    assert setup.played and all(a in setup.scn.spec.states for a in setup.played)
    held = _first_turn_decisions(setup, setup.played)
    assert not {a: n for a, n in held.items() if a in setup.played}, held
    free = _first_turn_decisions(setup, [])  # the same worlds with nobody played: the model does decide for them
    assert sum(n for a, n in free.items() if a in setup.played) > 50, free


# Measured at hindcast-frozen-3 (2,000 continuations each, the pack's scenario's seed, every
# team on "hold back" in turn 1; the forecast draws the played countries' later decisions at
# the model's own odds and expects the deck's injects still to come), before turn 1 / before
# turn 2 [with nobody playing]: caucasus-credibility Armenia freezes the CSTO 64.6% / 62.4%
# [63.1%], a major clash on the border 92.0% / 88.9% [80.8%], a new war 25.0% / 25.8%
# [24.2%], Azerbaijan takes Karabakh 34.8% / 35.4% [33.7%]; ferghana-border a major clash
# 62.3% / 63.4% [76.3%], over 100 dead 35.2% / 34.1% [56.0%], a border agreement
# 13.6% / 10.9% [19.1%]. Until then the headlines held outcomes the scenario's start or the
# deck decide whatever the class does, each settled in the baseline too (this test was a
# strict xfail): a major clash anywhere in the Caucasus (99.2% / 100%; 98.7% with nobody
# playing), a fatal clash on the Batken line (100%: the deck's opening inject) and a
# Kyrgyz-Tajik war (0.1% / 0.0%: no territory at stake, so no offensive). The packs'
# pack.yaml say why each was left out of the headline; the forecast still shows them.


@pytest.mark.parametrize("pack", pack_names())
def test_no_headline_outcome_of_a_pack_is_settled_before_turn_2(pack):
    setup = game_setup(pack, default_teams=True)
    headline = setup.pack.spec.headline
    assert headline, f"{pack}: pack.yaml names no headline outcomes"
    g = Game(setup.scn, setup.played, deck=setup.deck, months=setup.months, forecast_runs=2000)
    g.start()
    g.play_turn([f"{a}.{HOLD}" for a in setup.played])
    settled = {(fc["turn"], h): round(fc["outcomes"][h]["p"], 3) for fc in g.forecasts[:2] for h in headline
               if not 0.05 <= fc["outcomes"][h]["p"] <= 0.95}
    assert not settled, f"{pack}: headline outcomes settled before turn 2 (turn, outcome): probability {settled}"
