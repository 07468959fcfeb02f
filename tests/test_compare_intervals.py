"""`sim compare`: intervals of a difference of two proportions that stay within ±100 points
(Newcombe's score intervals, checked against published worked examples and by property),
and outcomes compared only where both variants define them the same way."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import sim
from sim.analysis.compare import newcombe_independent, newcombe_paired
from sim.cli import app

from .conftest import MINI, write

# Newcombe (1998), "Improved confidence intervals for the difference between binomial
# proportions based on paired data", Stat Med 17:2635-50, worked examples (method 10), as
# (both, first only, second only, neither) -> limits; and Fagerland, Lydersen & Laake (2017),
# "Statistical Analysis of Contingency Tables", ch. 8: complete response before and after
# consolidation therapy (Cavo et al. 2012), Newcombe square-and-add -0.1186 to -0.0046.
PAIRED = [
    ((36, 12, 2, 0), (0.0569, 0.3404)),
    ((18, 12, 2, 18), (0.0562, 0.3290)),
    ((53, 0, 0, 1), (-0.0729, 0.0729)),
    ((0, 30, 0, 0), (0.8395, 1.0)),
    ((59, 6, 16, 80), (-0.1186, -0.0046)),
]
# Newcombe (1998), "Interval estimation for the difference between independent proportions:
# comparison of eleven methods", Stat Med 17:873-90, method 10, as (k1, n1, k2, n2) -> limits;
# and Fagerland et al. (2017), ch. 4: high vs standard dose of epinephrine (Perondi et al. 2004).
INDEPENDENT = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((7, 34, 1, 34), (0.0189, 0.3404)),
]


@pytest.mark.parametrize("table, limits", PAIRED)
def test_paired_interval_matches_the_published_examples(table, limits):
    lo, hi = newcombe_paired(*table)
    assert lo == pytest.approx(limits[0], abs=5e-5) and hi == pytest.approx(limits[1], abs=5e-5)


@pytest.mark.parametrize("counts, limits", INDEPENDENT)
def test_independent_interval_matches_the_published_examples(counts, limits):
    lo, hi = newcombe_independent(*counts)
    assert lo == pytest.approx(limits[0], abs=5e-5) and hi == pytest.approx(limits[1], abs=5e-5)


cells = st.integers(min_value=0, max_value=10**6)


@settings(max_examples=3000, deadline=None)
@given(cells, cells, cells, cells)
def test_paired_limits_stay_within_100_points_and_hold_the_difference(a, b, c, d):
    n = a + b + c + d
    if n == 0:
        return
    lo, hi = newcombe_paired(a, b, c, d)
    diff = (b - c) / n
    assert -1.0 <= lo <= diff <= hi <= 1.0


@settings(max_examples=3000, deadline=None)
@given(st.integers(1, 10**6), st.integers(1, 10**6), st.floats(0, 1), st.floats(0, 1))
def test_independent_limits_stay_within_100_points_and_hold_the_difference(n1, n2, f1, f2):
    k1, k2 = round(f1 * n1), round(f2 * n2)
    lo, hi = newcombe_independent(k1, n1, k2, n2)
    assert -1.0 <= lo <= k1 / n1 - k2 / n2 <= hi <= 1.0


# ------------------------------------------------------------------ sim compare

# one outcome close to 100% in A and to 0% in B: a t interval of the per-replicate
# differences went below -100 points here (-100.4 to -93.6 for 99% against 2%, 100 runs)
EXTREME_A = MINI.replace("    credibility: 0.3\n", "    credibility: {uniform: [0.49, 1.0]}\n").replace(
    "outcomes:\n", 'outcomes:\n  credible: {kind: condition, when: "value(alliances.pact.credibility) > 0.5"}\n')
EXTREME_B = EXTREME_A.replace("{uniform: [0.49, 1.0]}", "{uniform: [0.0, 0.51]}")


@pytest.mark.parametrize("independent", [False, True])
def test_every_interval_of_a_comparison_stays_within_100_points(tmp_path, independent):
    a, b = write(tmp_path, EXTREME_A, "a.yaml"), write(tmp_path, EXTREME_B, "b.yaml")
    cmp = sim.compare(a, b, runs=100, seed=2, months=2, independent=independent)
    df = cmp.outcomes()
    r = df.loc["credible"]
    assert r["p_a"] > 0.9 and r["p_b"] < 0.1  # near the ends, where Wald and t intervals overshoot
    assert ((df["ci_low"] >= -1) & (df["ci_low"] <= df["diff"]) & (df["diff"] <= df["ci_high"])
            & (df["ci_high"] <= 1)).all()
    assert set(df["interval"]) == {"Newcombe hybrid score (method 10)" if independent
                                   else "Newcombe score, paired (method 10)"}


def test_two_scenarios_with_no_outcome_in_common_are_one_line(tmp_path):
    a = write(tmp_path, MINI, "a.yaml")
    b = write(tmp_path, MINI.replace("  clash:", "  clash2:").replace("  war:", "  war2:").replace(
        "  taken:", "  taken2:").replace("  frozen:", "  frozen2:"), "b.yaml")
    out = tmp_path / "cmp"
    r = CliRunner().invoke(app, ["compare", str(a), str(b), "--runs", "50", "--out", str(out)])
    assert r.exit_code == 2 and r.stdout == "" and not out.exists()
    assert r.stderr.splitlines() == [
        "sim compare: B: A (mini) and B (mini) have no outcome in common, so there is nothing to compare; compare "
        "two variants of one scenario (--b-set, --b-lever) or scenarios that share outcomes"]


def test_an_outcome_of_the_same_name_but_another_definition_is_not_compared(tmp_path):
    a = write(tmp_path, MINI, "a.yaml")
    other = MINI.replace("  clash: {kind: escalation, flashpoint: front, reaches: 3}",
                         "  clash: {kind: escalation, flashpoint: front, reaches: 4}")
    only = other.replace("  war:", "  war_b:").replace("  taken:", "  taken_b:").replace("  frozen:", "  frozen_b:")
    r = CliRunner().invoke(app, ["compare", str(a), str(write(tmp_path, only, "b.yaml")), "--runs", "50",
                                 "--out", str(tmp_path / "none")])
    assert r.exit_code == 2 and not (tmp_path / "none").exists()
    assert r.stderr.splitlines() == [
        "sim compare: B: A (mini) and B (mini) define no outcome the same way, so there is nothing to compare: "
        "'clash' is escalation (flashpoint front, reaches 3) in A, escalation (flashpoint front, reaches 4) in B"]
    # partly shared: the rest is compared, and what is left out is said, with why
    partial = other.replace("  frozen:", "  frozen_b:").replace(
        "  war: {kind: escalation, flashpoint: front, reaches: 5}",
        "  war: {kind: escalation, flashpoint: front, reaches: 5, description: Another text for the same thing}")
    out = tmp_path / "partial"
    r = CliRunner().invoke(app, ["compare", str(a), str(write(tmp_path, partial, "c.yaml")), "--runs", "50",
                                 "--months", "3", "--out", str(out), "--no-report"])
    assert r.exit_code == 0, r.output
    said = ("Compared: 2 outcomes both define the same way (war, taken); left out: clash (defined differently: "
            "escalation (flashpoint front, reaches 3) in A, escalation (flashpoint front, reaches 4) in B); "
            "frozen (only in A); frozen_b (only in B).")
    assert said in " ".join(r.stdout.split())  # (the terminal table wraps it)
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary["outcomes"]) == ["war", "taken"]
    assert summary["left_out"] == {"clash": "defined differently: escalation (flashpoint front, reaches 3) in A, "
                                            "escalation (flashpoint front, reaches 4) in B",
                                   "frozen": "only in A", "frozen_b": "only in B"}


def test_combined_outcomes_are_compared_through_their_parts(tmp_path):
    both = "  either: {kind: any, of: [clash, war]}\n"
    a = write(tmp_path, MINI.replace("outcomes:\n", "outcomes:\n" + both), "a.yaml")
    b = write(tmp_path, MINI.replace("outcomes:\n", "outcomes:\n" + both).replace(
        "  clash: {kind: escalation, flashpoint: front, reaches: 3}",
        "  clash: {kind: escalation, flashpoint: front, reaches: 4}"), "b.yaml")
    same, left = sim.analysis.compare.shared_outcomes(sim.load_scenario(a), sim.load_scenario(b))
    assert same == ["war", "taken", "frozen"]  # 'either' reads the same but combines another 'clash'
    assert left == [("either", "defined differently: it combines clash, defined differently"),
                    ("clash", "defined differently: escalation (flashpoint front, reaches 3) in A, "
                              "escalation (flashpoint front, reaches 4) in B")]
    one = "  either: {kind: any, of: [clash]}\n"
    only = MINI.replace("outcomes:\n", "outcomes:\n" + one).replace(
        "  clash: {kind: escalation, flashpoint: front, reaches: 3}",
        "  clash: {kind: escalation, flashpoint: front, reaches: 4}")
    for k in ("war", "taken", "frozen"):
        only = only.replace(f"  {k}:", f"  {k}_b:")
    with pytest.raises(sim.InputError) as exc:
        sim.compare(write(tmp_path, MINI.replace("outcomes:\n", "outcomes:\n" + one), "d.yaml"),
                    write(tmp_path, only, "c.yaml"), runs=10)
    assert exc.value.problems[0].message == (
        "A (mini) and B (mini) define no outcome the same way, so there is nothing to compare: 'either' combines "
        "clash, defined differently; 'clash' is escalation (flashpoint front, reaches 3) in A, escalation "
        "(flashpoint front, reaches 4) in B")
