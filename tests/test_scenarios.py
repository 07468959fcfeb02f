"""Every shipped scenario loads, validates with full provenance, and runs."""

from __future__ import annotations

import pytest

import sim
from sim.paths import scenarios_dir

SHIPPED = [s["name"] for s in sim.list_scenarios()]

# .ci/run also runs these on Python 3.12 and 3.13 (Mesa 3.5)
pytestmark = pytest.mark.pythons


def test_the_flagship_scenarios_are_shipped():
    assert "karabakh" in SHIPPED
    assert (scenarios_dir() / "base.yaml").is_file()
    assert "base" not in SHIPPED  # a base file is not runnable on its own


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenario_runs_and_every_number_has_a_source(name):
    scn = sim.load_scenario(name)
    rows = scn.parameters()
    missing = [r["path"] for r in rows if r["kind"] == "none"]
    assert not missing, f"parameters without provenance: {missing}"
    res = sim.run(scn, runs=200, seed=1, months=12)
    assert res.runs == 200
    for r in res.outcome_rows():
        assert 0.0 <= r["probability"] <= 1.0


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenarios_start_at_their_vantage_point(name):
    """No shipped scenario starts before July 2023: the base world uses 2022 figures
    published in 2023 and documents up to July 2023."""
    scn = sim.load_scenario(name)
    assert scn.meta.start >= "2023-07"
    for ev in scn.spec.events:
        if ev.at:
            assert ev.at >= scn.meta.start


def test_karabakh_questions():
    scn = sim.load_scenario("karabakh")
    kinds = {o.kind for o in scn.spec.outcomes.values()}
    assert {"membership", "escalation", "territory"} <= kinds
    assert {"armenia_freezes_csto", "armenia_leaves_csto", "major_clash", "new_war", "azerbaijan_takes_karabakh"} <= set(scn.spec.outcomes)
