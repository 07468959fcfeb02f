"""The predicate language, events and effects."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.scenario.expr import ExprError, evaluate_arithmetic, parse_arithmetic, parse_predicate
from sim.world.compile import ACTIVE, EXITED, FROZEN
from sim.world.predicates import compile_predicate

from .conftest import MINI, load_text, make_world


@pytest.mark.parametrize(
    "text",
    [
        "level(front) >= 3",
        "level(front) >= 3 and trust(bb, pact) < 0.3 and not member(bb, pact, frozen)",
        "month >= 2024-01 or settled(front)",
        "capability(aa) / capability(bb) > 3",
        "controller(land) == aa",
        "not (war(front) or fired(e1))",
        "value(alliances.pact.credibility) * 2 - 0.1 <= 1",
    ],
)
def test_valid_predicates_parse(text):
    parse_predicate(text)


@pytest.mark.parametrize(
    "text, needle, pos",
    [
        ("level(front) >=", "expression ends too early", 15),
        ("level(front) > 3 > 2", "chained comparisons", 17),
        ("lvl(front) > 3", "unknown function 'lvl' (did you mean 'level'?)", 0),
        ("level(front)", "must be true or false", 0),
        ("level(front) + true > 1", "'+' needs numbers", 15),
        ("controller(land) > aa", "only be compared with == or !=", 17),
        ("trust(bb) < 1", "takes 2 argument(s)", 0),
        ("level(front) >= 3 and", "expression ends too early", 21),
        ("month >= 2024-13", "MM in 01..12", 9),
        ("level(front) = 3", "unexpected character '='", 13),
        ("__import__('os') == 1", "unexpected character", 11),
    ],
)
def test_invalid_predicates_say_what_and_where(text, needle, pos):
    with pytest.raises(ExprError) as ei:
        parse_predicate(text)
    assert needle in ei.value.message and ei.value.pos == pos


def test_arithmetic_for_derive():
    node = parse_arithmetic("(a_b + 1) / (c.low * 2)")
    assert evaluate_arithmetic(node, {"a_b": 3, "c.low": 2}) == 1.0
    with pytest.raises(ExprError):
        parse_arithmetic("level(x) + 1")


def test_predicates_evaluate_per_replicate(mini):
    w = make_world(mini, n=4, rules=False)
    w.st.level[:, 0] = [0, 3, 4, 5]
    w.st.trust[:, 1, 0] = [0.1, 0.5, 0.2, 0.9]
    w.st.status[:, 1, 0] = [ACTIVE, FROZEN, EXITED, ACTIVE]
    w.st.controller[:, 0] = [1, 0, 1, 0]
    plan = w.plan
    f = compile_predicate
    assert list(f("level(front) >= 3 and trust(bb, pact) < 0.3", plan)(w)) == [False, False, True, False]
    assert list(f("member(bb, pact)", plan)(w)) == [True, True, False, True]
    assert list(f("member(bb, pact, frozen) or member(bb, pact, exited)", plan)(w)) == [False, True, True, False]
    assert list(f("controller(land) == aa", plan)(w)) == [False, True, False, True]
    assert list(f("war(front)", plan)(w)) == [False, False, False, True]
    assert list(f("month == 2023-07", plan)(w)) == [True] * 4
    assert list(f("capability(cc) / capability(aa) > 4.9", plan)(w)) == [True] * 4


EVENTS = MINI + """
events:
  - name: scheduled
    at: 2023-09
    effect: {multiply: {alliances.pact.credibility: 0.5}, add: {flashpoints.front.mediators: [dd]}}
  - name: coin
    when: "month >= 2023-07"
    probability: 0.3
    effect: {set: {states.aa.resolve: 0.1}, event: chained}
  - name: chained
    probability: 0.5
    effect: {remove: {flashpoints.front.mediators: [cc]}}
  - name: leave
    when: "fired(coin)"
    effect: {remove: {alliances.pact.members: [bb]}}
"""


def test_events_fire_when_and_where_they_should(tmp_path):
    scn = load_text(tmp_path, EVENTS)
    n = 20_000
    w = make_world(scn, n=n)
    w.pipeline = [(k, r) for k, r in w.pipeline if k == "events"]
    w.step()  # 2023-07
    coin = w.st.fired[:, 1]
    assert abs(coin.mean() - 0.3) < 4 * math.sqrt(0.21 / n)
    assert np.all(w.par.resolve[coin, 0] == 0.1) and np.all(w.par.resolve[~coin, 0] == 0.7)
    chained = w.st.fired[:, 2]
    assert not np.any(chained & ~coin)
    assert abs(chained.mean() - 0.15) < 4 * math.sqrt(0.15 * 0.85 / n)
    assert np.array_equal(~w.st.mediators[:, 0, 2], chained)
    assert np.all(w.par.credibility == 0.3)  # not yet
    w.step()  # 2023-08: leave fires where coin fired (the month before)
    assert np.array_equal(w.st.status[:, 1, 0] == EXITED, coin)
    w.step()  # 2023-09: scheduled
    assert np.allclose(w.par.credibility, 0.15)
    assert np.all(w.st.mediators[:, 0, 3])
    # once: coin fires at most once per replicate, even though its condition still holds
    fired_before = w.st.fired[:, 1].copy()
    for _ in range(5):
        w.step()
    later = (w.st.fired[:, 1] & ~fired_before).mean()
    expect = 0.7**3 * (1 - 0.7**5)  # not in months 1-3, then within months 4-8
    assert abs(later - expect) < 4 * math.sqrt(expect * (1 - expect) / n)


def test_effect_on_a_level_unsettles_and_clips(tmp_path):
    text = MINI + "events:\n  - name: flare\n    at: 2023-08\n    effect: {add: {flashpoints.front.level: 9}}\n"
    w = make_world(load_text(tmp_path, text), n=10)
    w.pipeline = [(k, r) for k, r in w.pipeline if k == "events"]
    w.st.settled[:] = True
    w.step()
    w.step()
    assert np.all(w.st.level[:, 0] == 5) and not w.st.settled.any()


def test_event_cycles_are_rejected(tmp_path):
    import sim

    text = MINI + """
events:
  - name: a
    effect: {event: b}
  - name: b
    effect: {event: a}
"""
    with pytest.raises(sim.InputError) as ei:
        load_text(tmp_path, text)
    assert "cycle: a -> b -> a" in ei.value.format()
