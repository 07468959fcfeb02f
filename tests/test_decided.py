"""Outcomes decided at the start: `sim validate` warns, the scenario guide lists them."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

import sim
from sim import guide
from sim.analysis.decided import RUNS, cannot_happen, decided_outcomes
from sim.cli import app
from sim.report.guide_text import decided, section

from .conftest import MINI, load_text, write

# A buyer (A) that imports 90% of its arms from x and 10% from y: the share of x cannot
# fall below 0.2 in one month, and no share can exceed 1 or trust fall below 0.
BUYER = MINI.replace("  aa: {name: A, capability: 2.0, resolve: 0.7, affinity: {cc: 0.8}}", """  aa:
    name: A
    capability: 2.0
    resolve: 0.7
    affinity: {cc: 0.8, dd: 0.5}
    procurement_budget_usd: 1.0e+8
    suppliers: {x_arms: 0.9, y_arms: 0.1}""") + """suppliers:
  x_arms: {state: cc, reliability: 0.9, price_quality: 0.5}
  y_arms: {state: dd, reliability: 0.9, price_quality: 0.5}
"""

DECIDED = BUYER.replace("outcomes:\n", """outcomes:
  x_main: {kind: supplier_share, state: aa, supplier: x_arms, above: 0.2}
  c_strong: {kind: condition, when: "value(states.cc.capability) > 5"}
  x_whole: {kind: supplier_share, state: aa, supplier: x_arms, above: 1.0}
  distrust: {kind: trust, state: bb, alliance: pact, below: 0}
  whole_and_clash: {kind: all, of: [x_whole, clash]}
  two_of_three: {kind: any, of: [x_whole, distrust, clash], at_least: 2}
  one_of_two: {kind: any, of: [x_whole, clash]}
  x_dominant: {kind: supplier_share, state: aa, supplier: x_arms, above: 0.95}
""")


@pytest.fixture(scope="module")
def found(tmp_path_factory):
    scn = load_text(tmp_path_factory.mktemp("decided"), DECIDED)
    return {d.outcome: d for d in decided_outcomes(scn)}


def test_outcomes_true_in_every_run_from_month_1_are_found_whatever_their_kind(found):
    assert found["x_main"].verdict == "always"
    assert f"holds at month 1 in all {RUNS} runs" in found["x_main"].why
    assert "its value then: 0.9" in found["x_main"].why and "threshold above 0.2" in found["x_main"].why
    assert "sits at or below the starting value" in found["x_main"].why
    assert found["c_strong"].verdict == "always"  # a condition: the short run covers every kind


def test_thresholds_outside_the_quantitys_range_and_combinations_of_them_cannot_happen(found):
    assert found["x_whole"].verdict == "never"
    assert "stays between 0 and 1, so it is never above 1" in found["x_whole"].why
    assert found["distrust"].verdict == "never" and "never below 0" in found["distrust"].why
    assert found["whole_and_clash"].verdict == "never" and "x_whole cannot happen" in found["whole_and_clash"].why
    assert found["two_of_three"].verdict == "never"  # only clash is left of the three, and it needs 2


def test_outcomes_that_can_go_either_way_are_not_flagged(found):
    # the clash is a chance; x's share starts below 0.95 and one month cannot take it there;
    # any of (impossible, possible) can still happen
    assert not {"clash", "war", "taken", "frozen", "x_dominant", "one_of_two"} & set(found)


def test_an_outcome_true_in_only_some_runs_at_the_start_is_not_flagged(tmp_path):
    # the share of x drawn between 0.1 and 0.9: above 0.5 in about half the runs from month 1
    text = DECIDED.replace("suppliers: {x_arms: 0.9, y_arms: 0.1}", "suppliers: {x_arms: {uniform: [0.1, 0.9]}, y_arms: 0.1}")
    text = text.replace("above: 0.2}", "above: 0.5}", 1)
    scn = load_text(tmp_path, text)
    names = {d.outcome for d in decided_outcomes(scn)}
    assert "x_main" not in names and "x_whole" in names


def test_the_static_check_needs_no_run(mini):
    assert cannot_happen(mini.spec) == {}


def _warnings(stderr: str) -> dict[str, str]:
    """``{outcome: line}`` of validate's warning lines (``file:line:col: outcomes.NAME: warning: ...``)."""
    out = {}
    for x in stderr.splitlines():
        m = re.fullmatch(r"(.+):(\d+):(\d+): outcomes\.(\w+): warning: (.+)", x)
        if m:
            assert m.group(4) not in out, f"two lines for {m.group(4)}"
            out[m.group(4)] = x
    return out


def test_validate_warns_one_line_per_decided_outcome_naming_file_place_and_why_and_exits_0(tmp_path):
    path = write(tmp_path, DECIDED)
    r = CliRunner().invoke(app, ["validate", str(path)], catch_exceptions=False)
    assert r.exit_code == 0 and "valid" in r.stdout
    lines = _warnings(r.stderr)
    assert sorted(lines) == sorted(["x_main", "c_strong", "x_whole", "distrust", "whole_and_clash", "two_of_three"])
    assert len([x for x in r.stderr.splitlines() if "warning" in x]) == len(lines)
    text = path.read_text().splitlines()
    for name, x in lines.items():
        file, line, col = x.split(": ")[0].rsplit(":", 2)
        assert file == str(path)
        assert text[int(line) - 1][int(col) - 1:].startswith(f"{name}:")  # the line that declares it
    assert all("its probability" in x and "remove" in x or "distribution" in x for x in lines.values())
    assert "change what it asks" in lines["c_strong"]
    assert "fix or replace the parts" in lines["whole_and_clash"]
    assert "outcomes.x_main: warning: starts true in every run: it already holds at month 1" in lines["x_main"]
    never = lines["x_whole"]
    assert "outcomes.x_whole: warning: cannot happen in any run: a supplier's share" in never
    assert "remove the outcome" in never


def test_validate_names_the_base_file_for_an_inherited_decided_outcome(tmp_path):
    base = write(tmp_path, DECIDED, "base.yaml")
    child = write(tmp_path, "extends: base.yaml\nmeta: {name: child}\n", "child.yaml")
    r = CliRunner().invoke(app, ["validate", str(child)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    lines = _warnings(r.stderr)
    assert "x_whole" in lines and lines["x_whole"].startswith(f"{base}:")


def test_validate_of_a_scenario_with_nothing_decided_warns_nothing(tmp_path):
    r = CliRunner().invoke(app, ["validate", str(write(tmp_path, BUYER))], catch_exceptions=False)
    assert r.exit_code == 0 and "warning" not in r.output


def test_the_guide_lists_the_decided_outcomes_of_a_scenario(tmp_path):
    scn = load_text(tmp_path, DECIDED)
    res = sim.run(scn, runs=50, seed=1)
    entry = guide.Entry("decided", scn, res, None, decided_outcomes(scn))
    text = "\n".join(section(entry))
    assert "Decided at the start (`sim validate decided` warns about these" in text
    assert "- `x_main` holds in every run from the first month: it already holds at month 1" in text
    assert "- `x_whole` cannot happen: a supplier's share" in text
    none = guide.Entry("plain", scn, res, None, [])
    assert decided(none)[0].startswith("Decided at the start: none (`sim validate plain`")


def test_a_scenario_too_large_for_the_short_run_gets_the_static_check_and_a_note(tmp_path, monkeypatch):
    import sim.analysis.decided as decided_module

    scn = load_text(tmp_path, DECIDED)
    per_run = decided_module.bytes_per_run(scn)
    assert per_run > 1000  # (R, S, S) affinities and the rest
    monkeypatch.setattr(decided_module, "MAX_BYTES", per_run * (decided_module.MIN_RUNS - 1))
    assert decided_module.check_runs(scn) == 0
    monkeypatch.setattr(decided_module, "MAX_BYTES", per_run * 150)
    assert decided_module.check_runs(scn) == 150
    monkeypatch.setattr(decided_module, "MAX_BYTES", per_run * 10)
    r = CliRunner().invoke(app, ["validate", str(write(tmp_path, DECIDED, "big.yaml"))], catch_exceptions=False)
    assert r.exit_code == 0
    assert "note: outcomes that hold from the first month were not checked" in r.stderr
    named = sorted(_warnings(r.stderr))
    assert named == sorted(["x_whole", "distrust", "whole_and_clash", "two_of_three"])  # the static ones only
