"""Differential test: the vectorized world against the per-replicate reference model.

``benchmarks/reference.py`` implements docs/MODEL.md independently of ``sim.world`` and
``sim.rules``: one plain ``mesa.Model`` per replicate, Python floats, explicit loops. Both
are run on ``tests/data/diff_small.yaml`` (a small world that exercises every mechanism:
events of all three kinds, procurement with refusals and slipped deliveries, escalation
with deterrence, mediation, wars and a territory at stake, alliance requests, answers,
refusals and abstentions, alignment, and freezes, exits and accessions) with fixed seeds.
Their random streams differ, so what must agree is the *distribution* of outcomes: every
outcome's probability and every mean final value, within Monte Carlo error.

The xfail tests at the end pin down places where the vectorized code and docs/MODEL.md
or docs/SCENARIOS.md disagree (the reference follows the docs); they are strict, so a fix
on either side shows up as an XPASS to remove the marker.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pytest

import sim
from benchmarks.reference import run_reference

DATA = Path(__file__).parent / "data"
SCENARIO = DATA / "diff_small.yaml"

# .ci/run also runs these on Python 3.12 and 3.13: the reference is a plain Mesa model
pytestmark = pytest.mark.pythons

N_VEC = 20_000  # vectorized replicates (cheap)
N_REF = 4_000  # reference replicates (one Mesa model each)
SEED_VEC = 20240101
SEED_REF = 20240102

# Tolerances. Each probability is a binomial proportion with standard error
# sqrt(p(1-p)/n); the two runs are independent, so their difference has standard error
# sqrt(p1(1-p1)/n1 + p2(1-p2)/n2). Four standard errors make a false alarm for one
# outcome about 6e-5 (two-sided normal tail), under 0.2% over all outcomes of the
# scenario, while a real difference of 4-5 percentage points is caught. The extra 0.01
# covers outcomes near 0 or 1, where the estimated standard error goes to zero and the
# normal approximation fails, and differences too small to matter for a model whose
# probabilities are reported to the percentage point. Seeds are fixed, so the test is
# deterministic: it cannot flake, only change when the code does.
K_SE = 4.0
SLACK = 0.01


def prob_tolerance(p1: float, n1: int, p2: float, n2: int) -> float:
    return K_SE * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2) + SLACK


@pytest.fixture(scope="module")
def both():
    scn = sim.load_scenario(SCENARIO)
    vec = sim.run(scn, runs=N_VEC, seed=SEED_VEC, workers=1)
    ref = run_reference(scn, runs=N_REF, seed=SEED_REF)
    return vec, ref


def _table(lines: list[str]) -> str:
    return "\n".join(lines)


@pytest.mark.slow
def test_outcome_probabilities_agree(both):
    vec, ref = both
    rows = vec.outcome_rows()
    assert [r["outcome"] for r in rows] == list(ref["outcomes"])
    lines, bad = [], []
    for row in rows:
        name = row["outcome"]
        p1, n1 = row["probability"], row["runs"]
        p2, n2 = ref["outcomes"][name]["probability"], ref["runs"]
        tol = prob_tolerance(p1, n1, p2, n2)
        ok = abs(p1 - p2) < tol
        lines.append(f"{name:24s} vectorized {p1:.4f}  reference {p2:.4f}  diff {p2 - p1:+.4f}  tol {tol:.4f}"
                     + ("" if ok else "  <-- differs"))
        if not ok:
            bad.append(name)
    print("\n" + _table(lines))  # shown with pytest -s or -rP
    assert not bad, "outcome probabilities differ:\n" + _table(lines)


@pytest.mark.slow
def test_mean_final_values_agree(both):
    """Mean final values (rungs, shares, trust, affinity, capability ratio, casualties)."""
    vec, ref = both
    lines, bad, checked = [], [], 0
    for i, row in enumerate(vec.outcome_rows()):
        name = row["outcome"]
        vals = ref["outcomes"][name]["final"]
        has_vec = vec.value_sum is not None and not math.isnan(vec.value_sum[i])
        assert has_vec == (vals is not None), f"{name}: only one implementation records a final value"
        if vals is None:
            continue
        n1 = vec.runs
        m1 = vec.value_sum[i] / n1
        var1 = max(vec.value_sq[i] / n1 - m1 * m1, 0.0) * n1 / (n1 - 1)
        n2 = len(vals)
        m2 = sum(vals) / n2
        var2 = sum((x - m2) ** 2 for x in vals) / (n2 - 1)
        se = math.sqrt(var1 / n1 + var2 / n2)
        # 4 standard errors of the difference of two independent means (see K_SE); a
        # quantity that is constant in both runs must agree to rounding.
        tol = K_SE * se if se > 0 else 1e-9 * max(1.0, abs(m1))
        ok = abs(m1 - m2) < tol
        checked += 1
        lines.append(f"{name:24s} vectorized {m1:.5g}  reference {m2:.5g}  diff {m2 - m1:+.4g}  tol {tol:.4g}"
                     + ("" if ok else "  <-- differs"))
        if not ok:
            bad.append(name)
    print("\n" + _table(lines))
    assert checked >= 6, "the scenario should have outcomes with final values of several kinds"
    assert not bad, "mean final values differ:\n" + _table(lines)


@pytest.mark.slow
def test_comparison_is_not_vacuous(both):
    """Enough outcomes are neither (almost) certain nor (almost) impossible in both runs."""
    vec, ref = both
    informative = [
        r["outcome"]
        for r in vec.outcome_rows()
        if 0.05 < r["probability"] < 0.95 and 0.05 < ref["outcomes"][r["outcome"]]["probability"] < 0.95
    ]
    assert len(informative) >= 8, f"only {informative} have probabilities in (0.05, 0.95)"
    kinds = {r["kind"] for r in vec.outcome_rows() if r["outcome"] in informative}
    assert {"escalation", "membership", "territory", "supplier_share", "trust", "casualties"} <= kinds


# ---------------------------------------------------------------------------------------
# Points where the vectorized code once disagreed with the docs (found by the reference,
# which follows the docs, and fixed). Small deterministic worlds, so each is exact.

TINY = """
meta: {name: tiny, title: Tiny, start: 2024-01, horizon_months: 6, runs: 10, seed: 1}
states:
  aa: {name: A, capability: 1.0}
  bb: {name: B, capability: 1.0}
  cc: {name: C, capability: 5.0}
alliances:
  pact: {name: Pact, leader: cc, members: [cc, aa], credibility: 0.0, trust: {aa: 0.5}}
flashpoints:
  line: {sides: [bb, aa], location: aa, level: 3}
rules:
  escalation: {model: "off"}
  alignment: {model: "off"}
"""


def _tiny(tmp_path: Path, extra: str, outcomes: str):
    p = tmp_path / "tiny.yaml"
    # `extra` lines go under `rules:` (TINY ends with it); both are given indented
    p.write_text(textwrap.dedent(TINY).lstrip() + extra + "outcomes:\n" + outcomes)
    return sim.load_scenario(p)


def test_condition_outcome_month_is_the_simulated_month(tmp_path):
    scn = _tiny(tmp_path, "", '  march: {kind: condition, when: "month >= 2024-03"}\n')
    vec = sim.run(scn, runs=10, seed=1)
    ref = run_reference(scn, runs=10, seed=1)
    assert ref["outcomes"]["march"]["first_month"] == [3] * 10  # 2024-03 is month 3
    assert vec.outcome_rows()[0]["median_month"] == 3


def test_default_trust_without_membership_mechanism(tmp_path):
    scn = _tiny(
        tmp_path,
        "  membership: {model: \"off\"}\n",
        "  leader_trust_low: {kind: trust, state: cc, alliance: pact, below: 0.3}\n",
    )
    vec = sim.run(scn, runs=10, seed=1)
    ref = run_reference(scn, runs=10, seed=1)
    assert ref["outcomes"]["leader_trust_low"]["probability"] == 0.0  # trust 0.6
    assert vec.outcome_rows()[0]["probability"] == 0.0


def test_trust_reverts_to_its_starting_value(tmp_path):
    # credibility 0: aa's request at the fatal clash in month 1 is refused (trust 0.5 -> 0.35);
    # with full reversion trust is back at 0.5 at the end of every month.
    scn = _tiny(
        tmp_path,
        "  membership: {trust_reversion: 1.0, freeze_hazard: 0.0}\n",
        "  distrust: {kind: trust, state: aa, alliance: pact, below: 0.45}\n",
    )
    vec = sim.run(scn, runs=10, seed=1)
    ref = run_reference(scn, runs=10, seed=1)
    assert ref["outcomes"]["distrust"]["probability"] == 0.0
    assert vec.outcome_rows()[0]["probability"] == 0.0


def test_open_orders_are_delivered_even_without_a_budget(tmp_path):
    """MODEL.md D2: buyers are states with a budget or open orders; orders still arrive."""
    p = tmp_path / "orders.yaml"
    p.write_text(textwrap.dedent("""
        meta: {name: orders, title: Orders, start: 2024-01, horizon_months: 6, runs: 10, seed: 1}
        states:
          aa: {name: A, capability: 1.0, orders: {kk_arms: 1000000000}}
          bb: {name: B, capability: 1.0}
        suppliers:
          kk_arms: {state: bb, reliability: 1.0, price_quality: 0.5, lag_months: 1}
        outcomes:
          armed: {kind: capability, state: aa, above: 1.0}
        """).lstrip())
    scn = sim.load_scenario(p)
    vec = sim.run(scn, runs=10, seed=1)
    ref = run_reference(scn, runs=10, seed=1)
    assert ref["outcomes"]["armed"]["probability"] == 1.0
    assert vec.outcome_rows()[0]["probability"] == 1.0
