"""Outcomes, results, determinism across workers, snapshots."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import sim
from sim.outcomes import Recorder, compile_outcomes
from sim.results import runs_for_halfwidth, wilson

from .conftest import MINI, load_text, make_world


def test_wilson_interval_known_values():
    lo, hi = wilson(0, 10)
    assert lo == 0.0 and abs(hi - 0.2775) < 1e-3
    lo, hi = wilson(50, 100)
    assert abs(lo - 0.4038) < 1e-3 and abs(hi - 0.5962) < 1e-3
    assert runs_for_halfwidth(0.5) == 9604


def test_detectors_record_first_hit_months_and_combinations(tmp_path):
    text = MINI + "  either: {kind: any, of: [war, frozen]}\n  both: {kind: all, of: [clash, frozen]}\n"
    scn = load_text(tmp_path, text)
    w = make_world(scn, n=3, rules=False)
    rec = Recorder(w, compile_outcomes(w.plan), chunk=0, offset=0)
    # month 1: replicate 0 clashes; month 2: replicate 1 at war; month 3: replicate 0 freezes
    # (no rules run: the month's peak, which escalation outcomes read, is set with the rung)
    w.st.level[:, 0] = w.st.peak[:, 0] = [3, 2, 2]
    w.step()
    w.st.level[:, 0] = w.st.peak[:, 0] = [2, 5, 2]
    w.step()
    w.st.status[0, 1, 0] = 2
    w.step()
    res = rec.result()
    names = list(scn.spec.outcomes)
    first = {n: res.hist[i] for i, n in enumerate(names)}
    assert first["clash"][1] == 1 and first["clash"][2] == 1  # rep 0 in month 1, rep 1 (war) in month 2
    assert first["war"][2] == 1 and first["war"][0] == 2
    assert first["frozen"][3] == 1
    assert first["either"][2] == 1 and first["either"][3] == 1  # rep1 war m2, rep0 frozen m3
    assert first["both"][3] == 1 and first["both"][0] == 2
    co = res.co
    assert co[names.index("clash"), names.index("war")] == 1


def _summary(res) -> str:
    return json.dumps(res.summary(), sort_keys=True)


def test_same_seed_same_results_and_different_seed_differs(mini):
    a = sim.run(mini, runs=600, seed=3, chunk_size=200)
    b = sim.run(mini, runs=600, seed=3, chunk_size=200)
    c = sim.run(mini, runs=600, seed=4, chunk_size=200)
    assert _summary(a) == _summary(b)
    assert _summary(a) != _summary(c)
    assert np.array_equal(a.series["level_counts"], b.series["level_counts"])


def test_workers_do_not_change_results(mini, tmp_path):
    one = sim.run(mini, runs=1200, seed=11, chunk_size=200, workers=1)
    two = sim.run(mini, runs=1200, seed=11, chunk_size=200, workers=2, oversubscribe=True)
    assert one.manifest["workers"] == 1 and two.manifest["workers"] == 2
    one.save(tmp_path / "one")
    two.save(tmp_path / "two")
    for f in ("summary.json", "outcomes.csv", "timeseries.csv"):
        assert (tmp_path / "one" / f).read_bytes() == (tmp_path / "two" / f).read_bytes(), f


def test_runs_not_multiple_of_chunk_and_single_replicate(mini):
    res = sim.run(mini, runs=450, seed=1, chunk_size=200)
    assert res.runs == 450 and res.manifest["chunks"] == 3
    one = sim.run(mini, runs=1, seed=1)
    assert one.runs == 1
    assert all(r["probability"] in (0.0, 1.0) for r in one.outcome_rows())


def test_months_shortens_the_horizon(mini):
    res = sim.run(mini, runs=200, seed=1, months=6)
    assert res.horizon == 6 and res.cumulative().shape[0] == 6
    s = res.summary()
    assert s["horizon_months"] == 6
    for o in s["outcomes"].values():
        assert o["median_month"] is None or o["median_month"] <= 6


def test_probabilities_match_a_closed_form(tmp_path):
    """An event with monthly probability p fires within H months with 1 - (1-p)^H."""
    text = MINI + (
        "events:\n  - name: e\n    when: \"month >= 2023-07\"\n    probability: 0.05\n"
        "    effect: {set: {alliances.pact.credibility: 0.2}}\n"
    ) + ""
    text = text.replace("outcomes:\n", "outcomes:\n  fired: {kind: condition, when: \"fired(e)\"}\n")
    scn = load_text(tmp_path, text)
    n = 20_000
    res = sim.run(scn, runs=n, seed=5)
    p = 1 - 0.95**24
    got = res.probabilities().loc["fired", "probability"]
    assert abs(got - p) < 4 * math.sqrt(p * (1 - p) / n)
    lo, hi = res.probabilities().loc["fired", ["ci_low", "ci_high"]]
    assert lo < p < hi or abs(got - p) < 4 * math.sqrt(p * (1 - p) / n)
    # timing: the median month of a geometric(0.05) truncated at 24
    med = res.summary()["outcomes"]["fired"]["median_month"]
    cdf = [(1 - 0.95**m) / p for m in range(1, 25)]
    assert med == next(m for m, c in enumerate(cdf, 1) if c >= 0.5)


def test_conditional_probabilities(mini):
    res = sim.run(mini, runs=3000, seed=2)
    cond = res.conditional("war")
    assert cond.loc["war", "probability"] == 1.0
    assert cond.loc["clash", "probability"] == 1.0  # a war passes through a clash
    with pytest.raises(KeyError, match="did you mean 'war'"):
        res.conditional("wr")


def test_snapshot_and_restore_continue_identically(mini):
    w = make_world(mini, n=300, seed=9)
    for _ in range(5):
        w.step()
    snap = w.snapshot()
    for _ in range(7):
        w.step()
    first = (w.st.level.copy(), w.st.trust.copy(), w.st.casualties.copy())
    w.restore(snap)
    assert w.elapsed == 5
    for _ in range(7):
        w.step()
    assert np.array_equal(first[0], w.st.level)
    assert np.array_equal(first[1], w.st.trust)
    assert np.array_equal(first[2], w.st.casualties)


def test_one_replicate_is_the_same_code(mini):
    w = make_world(mini, n=1, seed=1)
    for _ in range(24):
        w.step()
    assert w.st.level.shape == (1, 1) and w.elapsed == 24


def test_rule_streams_are_independent(tmp_path):
    """Switching membership off leaves the escalation draws (and levels) unchanged."""
    scn = load_text(tmp_path, MINI)
    off = load_text(tmp_path, MINI + "rules:\n  membership: {model: off}\n")
    assert "membership" not in off.rules
    a = make_world(scn, n=200, seed=3)
    b = make_world(off, n=200, seed=3)
    for _ in range(3):
        a.step()
        b.step()
    assert np.array_equal(a.st.level, b.st.level)


@pytest.mark.slow
def test_float32_agrees_with_float64_within_monte_carlo_error():
    scn = sim.load_scenario("karabakh")
    n = 8000
    a = sim.run(scn, runs=n, seed=11, dtype="float64")
    b = sim.run(scn, runs=n, seed=12, dtype="float32")  # other seed: compare distributions
    for ra, rb in zip(a.outcome_rows(), b.outcome_rows(), strict=True):
        p1, p2 = ra["probability"], rb["probability"]
        se = math.sqrt(p1 * (1 - p1) / n + p2 * (1 - p2) / n)
        assert abs(p1 - p2) <= 4 * se + 1e-9, (ra["outcome"], p1, p2)


def test_at_least_k_of_and_main_supplier(tmp_path):
    text = MINI + (
        "  two: {kind: any, of: [clash, frozen, war], at_least: 2}\n"
    )
    scn = load_text(tmp_path, text)
    w = make_world(scn, n=3, rules=False)
    rec = Recorder(w, compile_outcomes(w.plan), chunk=0, offset=0)
    w.st.level[:, 0] = w.st.peak[:, 0] = [3, 3, 2]
    w.step()
    w.st.status[0, 1, 0] = 2  # replicate 0 also freezes in month 2
    w.step()
    res = rec.result()
    i = list(scn.spec.outcomes).index("two")
    assert res.hist[i][2] == 1 and res.hist[i][0] == 2  # only replicate 0, in month 2
    bad = MINI + "  three: {kind: any, of: [clash], at_least: 2}\n"
    with pytest.raises(sim.InputError, match="at_least is 2 but only 1"):
        load_text(tmp_path, bad)
