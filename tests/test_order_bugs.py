"""Two order bugs: an event eligible and triggered in the same month, and two wars over
the same territory ending in the same month."""

from __future__ import annotations

import math

import numpy as np

from .conftest import load_text, make_world

DOUBLE = """
meta: {name: double, title: Double, start: 2023-07, horizon_months: 3}
states:
  aa: {name: A, capability: 1.0}
  bb: {name: B, capability: 1.0}
events:
  - name: boost
    at: 2023-08
    once: false
    effect: {add: {states.aa.capability: 1.0}}
  - name: trigger_boost
    at: 2023-08
    effect: {event: boost}
outcomes:
  strong: {kind: capability, state: aa, above: 1.5}
rules:
  procurement: {model: off}
  escalation: {model: off}
  alliance: {model: off}
  alignment: {model: off}
  membership: {model: off}
"""


def test_an_event_eligible_and_triggered_in_the_same_month_fires_once(tmp_path):
    w = make_world(load_text(tmp_path, DOUBLE), n=50)
    for _ in range(3):
        w.step()
    assert np.all(w.st.capability[:, 0] == 2.0)  # 1 + 1, not 1 + 2
    assert np.all(w.counts["events.fired"] == 2)  # boost once, trigger_boost once


def _two_wars(first: str, second: str, model: str = "ladder") -> str:
    fps = {
        "north": "north: {sides: [aa, bb], stakes: land, level: 5}",
        "south": "south: {sides: [cc, bb], stakes: land, level: 5}",
    }
    return f"""
meta: {{name: race, title: Race, start: 2023-07, horizon_months: 1}}
states:
  aa: {{name: A, capability: 100.0}}
  bb: {{name: B, capability: 1.0}}
  cc: {{name: C, capability: 100.0}}
territories:
  land: {{controller: bb, claimants: [aa, bb, cc]}}
flashpoints:
  {fps[first]}
  {fps[second]}
outcomes:
  a_takes: {{kind: territory, territory: land, controller: aa}}
rules:
  escalation: {{model: {model}, war_mean_months: 0.5, decisiveness: 10}}
  alliance: {{model: off}}
  membership: {{model: off}}
"""


def test_simultaneous_wars_over_one_territory_do_not_resolve_by_file_order(tmp_path):
    n = 4000
    shares = []
    for order in (("north", "south"), ("south", "north")):
        w = make_world(load_text(tmp_path, _two_wars(*order)), n=n, seed=3)
        w.step()
        ctrl = w.st.controller[:, 0]
        a, c = w.plan.index_of("state")["aa"], w.plan.index_of("state")["cc"]
        assert np.all((ctrl == a) | (ctrl == c))  # both wars end, both winners claim the land
        shares.append(float(np.mean(ctrl == a)))
        # exactly one of the two wars transferred it: that flashpoint is settled, the other is not
        settled = w.st.settled
        assert np.all(settled.sum(axis=1) == 1)
        fa = w.plan.index_of("flashpoint")["north"]
        assert np.all(settled[:, fa] == (ctrl == a))
    se = math.sqrt(0.25 / n)
    for s in shares:
        assert abs(s - 0.5) < 4 * se, shares  # either war's winner, with equal chances


def test_simultaneous_wars_in_continuous_time_do_not_resolve_by_file_order(tmp_path):
    """The same with the default model (D3a): among the replicates where both wars ended
    in the month, one winner, with equal chances, takes the land."""
    n = 8000
    shares = []
    for order in (("north", "south"), ("south", "north")):
        w = make_world(load_text(tmp_path, _two_wars(*order, model="spells")), n=n, seed=3)
        w.step()
        ctrl, settled = w.st.controller[:, 0], w.st.settled
        a, c = w.plan.index_of("state")["aa"], w.plan.index_of("state")["cc"]
        both = w.counts["escalation.war_end"] == 2
        assert both.mean() > 0.5  # each war ends within the month w.p. 1 - e^-2
        assert np.all((ctrl[both] == a) | (ctrl[both] == c))
        assert np.all(settled[both].sum(axis=1) == 1)
        fa = w.plan.index_of("flashpoint")["north"]
        assert np.all(settled[both, fa] == (ctrl[both] == a))
        shares.append(float(np.mean(ctrl[both] == a)))
    m = int(both.sum())
    for s in shares:
        assert abs(s - 0.5) < 4 * math.sqrt(0.25 / m), shares
