"""sim backtest: scores against hand-computed values, forecasts against closed forms,
the reliability table, bad question files, the command line and its output folder.

Every question here is synthetic, written for these tests on a small test scenario
whose outcome probabilities are known (a calendar condition is certain; an event with
monthly probability p has happened within W months with probability 1 - (1-p)^W).
"""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from sim.analysis import backtest as B
from sim.analysis import scores as S
from sim.analysis.questions import bind_questions, read_questions
from sim.cli import app

from .conftest import MINI

COIN = """
events:
  - name: coin
    when: "month >= 2023-07"
    probability: {p}
    effect: {{set: {{states.aa.resolve: 0.1}}}}
"""


def scenario(tmp_path: Path, name: str = "mini.yaml", p: float = 0.1) -> Path:
    """The test scenario, with an event firing with probability ``p`` each month."""
    text = MINI + COIN.format(p=p)
    text = text.replace("outcomes:\n", 'outcomes:\n  coin_fired: {kind: condition, when: "fired(coin)"}\n')
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def questions(tmp_path: Path, body: str, head: str = "scenario: mini.yaml\n", name: str = "q.yaml") -> Path:
    text = "selection: every synthetic question the test needs\nmodel: HEAD\n" + head + "questions:\n"
    path = tmp_path / name
    path.write_text(text + textwrap.indent(textwrap.dedent(body).lstrip("\n"), "  "), encoding="utf-8")
    return path


def q(qid: str, outcome: str, window: int, answer: str, date: str, base: float, extra: str = "") -> str:
    return (f"- id: {qid}\n  question: Synthetic question {qid}?\n  outcome: {outcome}\n"
            f"  window_months: {window}\n  resolution: {{answer: {answer}, date: {date}, source: made up for a test}}\n"
            f"  base_rate: {{probability: {base}, source: made up for a test}}\n{extra}")


CAL = '{kind: condition, when: "month >= 2023-09"}'  # first true in month 3 (Sept 2023), in every run


# ------------------------------------------------------------------ the scores alone


def test_brier_and_log_score_by_hand():
    f, o = [0.9, 0.2, 0.5, 0.0], [1, 0, 1, 1]
    assert list(S.brier_terms(f, o)) == pytest.approx([0.01, 0.04, 0.25, 1.0])
    assert S.brier(f, o) == pytest.approx(1.30 / 4)
    # ln of the probability given to what happened; 0 is clipped to 0.001
    expect = [math.log(0.9), math.log(0.8), math.log(0.5), math.log(0.001)]
    assert list(S.log_terms(f, o)) == pytest.approx(expect)
    assert S.log_score(f, o) == pytest.approx(sum(expect) / 4)
    assert S.log_score([0.5, 0.5], [1, 0]) == pytest.approx(math.log(0.5))
    assert S.skill(0.1, 0.25) == pytest.approx(0.6)
    assert S.skill(0.3, 0.25) == pytest.approx(-0.2)
    assert math.isnan(S.skill(0.1, 0.0))


def test_brier_monte_carlo_error_by_hand():
    # f(1-f)/n: 0.25/100 and 0.16/400; weights (2(f-o)/N)^2 = (0.5)^2 and (0.8)^2 with N = 2
    se = S.brier_mc_se([0.5, 0.8], [1, 0], [100, 400])
    assert se == pytest.approx(math.sqrt(0.25 * 0.25 / 100 + 0.64 * 0.16 / 400))
    assert S.brier_mc_se([0.0, 1.0], [1, 1], [10, 10]) == 0.0


def test_scores_refuse_what_is_not_a_forecast():
    for f, o in (([1.2], [1]), ([0.5], [2]), ([0.5, 0.5], [1]), ([], []), ([float("nan")], [0])):
        with pytest.raises(ValueError):
            S.brier(f, o)


def test_reliability_table_counts_by_hand():
    f = [0.0, 0.1, 0.2, 0.39, 0.4, 0.55, 0.99, 1.0]
    o = [0, 0, 1, 0, 1, 1, 1, 0]
    t = S.reliability(f, o, bins=5)
    assert list(t["count"]) == [2, 2, 2, 0, 2]  # 0.2 opens the second bin; 1.0 is in the last
    assert list(t["yes"]) == [0, 1, 2, 0, 1]
    assert list(t["bin_low"]) == pytest.approx([0, 0.2, 0.4, 0.6, 0.8])
    assert t["mean_forecast"][0] == pytest.approx(0.05) and t["mean_forecast"][1] == pytest.approx(0.295)
    assert t["observed"][1] == 0.5 and t["observed"][2] == 1.0
    assert np.isnan(t["observed"][3]) and np.isnan(t["mean_forecast"][3])
    lo, hi = sim.results.wilson(1, 2)
    assert (t["ci_low"][1], t["ci_high"][1]) == pytest.approx((lo, hi))
    # an edge is not moved by floating-point error: 0.3 * 10 is 2.9999999999999996
    assert list(S.bin_of([0.3, 0.7, 0.1], 10)) == [3, 7, 1]


# ------------------------------------------------------------ forecasts and scoring


def test_deterministic_questions_score_exactly(tmp_path):
    """Forecasts of a calendar condition are exactly 0 or 1, so every score is known."""
    scenario(tmp_path)
    path = questions(tmp_path, q("sure_3", CAL, 3, "yes", "2023-09", 0.5)
                     + q("sure_2", CAL, 2, "no", "2023-08", 0.2)
                     + q("miss_yes", CAL, 2, "yes", "2023-08", 0.3)
                     + q("miss_no", CAL, 4, "no", "2023-10", 0.6))
    bt = sim.backtest(path, runs=300, seed=1)
    t = bt.table()
    assert list(t.index) == ["sure_3", "sure_2", "miss_yes", "miss_no"]
    assert list(t["forecast"]) == [1.0, 0.0, 0.0, 1.0]
    assert list(t["hits"]) == [300, 0, 0, 300]
    s = bt.scores
    assert (s["questions"], s["yes"], s["no"]) == (4, 2, 2)
    fc = s["forecasters"]
    assert fc["model"]["brier"] == pytest.approx(0.5)
    assert fc["base_rate"]["brier"] == pytest.approx((0.25 + 0.04 + 0.49 + 0.36) / 4)
    assert fc["half"]["brier"] == pytest.approx(0.25)
    assert fc["model"]["log"] == pytest.approx((2 * math.log(0.999) + 2 * math.log(0.001)) / 4)
    assert fc["base_rate"]["log"] == pytest.approx((math.log(0.5) + math.log(0.8) + math.log(0.3) + math.log(0.4)) / 4)
    assert fc["half"]["log"] == pytest.approx(math.log(0.5))
    assert s["brier_skill"]["vs_base_rate"] == pytest.approx(1 - 0.5 / 0.285)
    assert s["brier_skill"]["vs_half"] == pytest.approx(-1.0)
    assert s["brier_mc_se"] == 0.0
    assert list(t["brier_model"]) == [0.0, 0.0, 1.0, 1.0]
    assert list(t["brier_base_rate"]) == pytest.approx([0.25, 0.04, 0.49, 0.36])
    r = bt.reliability
    assert list(r["count"]) == [2, 0, 0, 0, 2] and list(r["yes"]) == [1, 0, 0, 0, 1]
    assert list(t["window"]) == ["2023-07 to 2023-09", "2023-07 to 2023-08", "2023-07 to 2023-08", "2023-07 to 2023-10"]


def test_forecast_counts_the_first_time_within_the_window(tmp_path):
    """An outcome that held in month 2 and no longer holds at the window's end still counts."""
    scenario(tmp_path)
    once = '{kind: condition, when: "month == 2023-08"}'
    path = questions(tmp_path, q("held_in_august", once, 5, "yes", "2023-08", 0.5)
                     + q("not_yet", once, 1, "no", "2023-07", 0.5))
    t = sim.backtest(path, runs=200, seed=2).table()
    assert list(t["forecast"]) == [1.0, 0.0]


def test_forecasts_match_the_closed_form_within_monte_carlo_error(tmp_path):
    scenario(tmp_path, p=0.1)
    runs = 4000
    path = questions(tmp_path, q("coin_6", "coin_fired", 6, "yes", "2023-10", 0.4)
                     + q("coin_10", "coin_fired", 10, "no", "2024-04", 0.4)
                     + q("coin_10_inline", '{kind: condition, when: "fired(coin)"}', 10, "no", "2024-04", 0.4))
    bt = sim.backtest(path, runs=runs, seed=3)
    t = bt.table()
    for qid, w in (("coin_6", 6), ("coin_10", 10)):
        p = 1 - 0.9**w
        assert abs(t.loc[qid, "forecast"] - p) < 4 * math.sqrt(p * (1 - p) / runs), qid
        assert t.loc[qid, "ci_low"] <= t.loc[qid, "forecast"] <= t.loc[qid, "ci_high"]
        assert (t.loc[qid, "ci_low"], t.loc[qid, "ci_high"]) == pytest.approx(sim.results.wilson(t.loc[qid, "hits"], runs))
    # the same outcome declared by the scenario and given inline: the same runs, the same hits
    assert t.loc["coin_10", "hits"] == t.loc["coin_10_inline", "hits"]
    assert t.loc["coin_10_inline", "outcome"] == "question_coin_10_inline"
    # one run of the scenario, as long as the longest window
    (sc,) = bt.manifest["scenarios"]
    assert sc["horizon_months"] == 10 and sc["runs"] == runs and sc["questions"] == ["coin_6", "coin_10", "coin_10_inline"]
    f = np.array(t["forecast"])
    o = np.array([1, 0, 0])
    assert bt.scores["forecasters"]["model"]["brier"] == pytest.approx(np.mean((f - o) ** 2))
    se = math.sqrt(sum((2 * (fi - oi) / 3) ** 2 * fi * (1 - fi) / runs for fi, oi in zip(f, o, strict=True)))
    assert bt.scores["brier_mc_se"] == pytest.approx(se)
    # bins of 0.2: 0.469 and 0.651 (twice) are far from the edges compared with their Monte Carlo error
    assert list(bt.reliability["count"]) == [0, 0, 1, 2, 0] and list(bt.reliability["yes"]) == [0, 0, 1, 0, 0]


def test_a_forecast_is_what_sim_run_gives_at_the_window(tmp_path):
    """The same seed and runs as `sim run --months W`: hits identical, although the backtest's
    run is longer (another question's window) and has an inline outcome added."""
    path = scenario(tmp_path)
    body = q("clash_5", "clash", 5, "no", "2023-11", 0.3) + q("sure_3", CAL, 3, "yes", "2023-09", 0.5)
    body += q("long", '{kind: escalation, flashpoint: front, reaches: 4}', 9, "no", "2024-03", 0.3)
    bt = sim.backtest(questions(tmp_path, body), runs=600, seed=11)
    assert bt.manifest["scenarios"][0]["horizon_months"] == 9
    res = sim.run(sim.load_scenario(path), runs=600, seed=11, months=5)
    row = res.probabilities().loc["clash"]
    assert 0 < row["hits"] < 600  # a forecast that could differ
    assert bt.table().loc["clash_5", "hits"] == row["hits"]


def test_each_scenario_runs_once_and_questions_keep_their_order(tmp_path):
    scenario(tmp_path, "a.yaml", p=0.1)
    b = scenario(tmp_path, "b.yaml", p=0.3)
    b.write_text(b.read_text().replace("name: mini", "name: mini_b"))
    runs = 3000
    body = (q("a_6", "coin_fired", 6, "yes", "2023-09", 0.5, "  scenario: a.yaml\n")
            + q("b_3", "coin_fired", 3, "yes", "2023-08", 0.5, "  scenario: b.yaml\n")
            + q("a_2", CAL, 2, "no", "2023-08", 0.5, "  scenario: a.yaml\n"))
    bt = sim.backtest(questions(tmp_path, body, head=""), runs=runs, seed=4)
    t = bt.table()
    assert list(t.index) == ["a_6", "b_3", "a_2"]
    assert list(t["scenario"]) == ["mini", "mini_b", "mini"]
    p = 1 - 0.7**3
    assert abs(t.loc["b_3", "forecast"] - p) < 4 * math.sqrt(p * (1 - p) / runs)
    sc = {s["scenario"]: s for s in bt.manifest["scenarios"]}
    assert sc["mini"]["questions"] == ["a_6", "a_2"] and sc["mini_b"]["questions"] == ["b_3"]
    assert sc["mini"]["horizon_months"] == 6 and sc["mini_b"]["horizon_months"] == 3
    assert set(bt.resolved) == {"scenario.mini.resolved.yaml", "scenario.mini_b.resolved.yaml"}


def test_a_loaded_scenario_is_the_default_and_is_not_changed(tmp_path):
    scn = sim.load_scenario(scenario(tmp_path))
    before = list(scn.spec.outcomes)
    path = questions(tmp_path, q("sure_3", CAL, 3, "yes", "2023-09", 0.5), head="")
    bt = sim.backtest(path, scn, runs=100, seed=5)
    assert bt.table().loc["sure_3", "forecast"] == 1.0
    assert list(scn.spec.outcomes) == before and "question_sure_3" not in scn.tree["outcomes"]
    assert "question_sure_3" in bt.resolved["scenario.mini.resolved.yaml"]


def test_model_and_frozen_tag_are_recorded(tmp_path, monkeypatch):
    scenario(tmp_path)
    path = questions(tmp_path, q("sure_3", CAL, 3, "yes", "2023-09", 0.5))
    real = B.git_ref
    monkeypatch.setattr(B, "git_ref", lambda name: "f" * 40 if name == B.FROZEN_TAG else real(name))
    bt = sim.backtest(path, runs=50, seed=1)
    assert bt.manifest["calibration_frozen"] == {"tag": "calibration-frozen", "commit": "f" * 40}
    monkeypatch.setattr(B, "git_ref", lambda name: None)
    bt = sim.backtest(path, runs=50, seed=1)
    assert bt.manifest["calibration_frozen"] is None


def test_model_check_says_when_the_model_scored_is_not_the_one_named(monkeypatch):
    monkeypatch.setattr(B, "git_ref", lambda name: {"calibration-frozen": "a" * 40}.get(name))
    assert B.model_check("calibration-frozen", "a" * 40) == ("a" * 40, [])
    target, w = B.model_check("calibration-frozen", "b" * 40)
    assert target == "a" * 40 and len(w) == 1 and "this is commit bbbbbbbbbbbb" in w[0]
    _, w = B.model_check("calibration-frozen", "a" * 40 + "-dirty")
    assert len(w) == 1 and "uncommitted changes" in w[0]
    target, w = B.model_check("no-such-tag", "a" * 40)
    assert target is None and "not a tag or commit of this checkout" in w[0]
    _, w = B.model_check("calibration-frozen", None)
    assert "not a git checkout" in w[0]


def test_git_ref_names_this_checkout():
    from sim.api import git_commit
    from sim.paths import repo_root

    head = B.git_ref("HEAD")
    if repo_root() is None:
        assert head is None
    else:
        assert head == git_commit().split("-")[0]
    assert B.git_ref("no-such-tag-for-a-test") is None
    assert B.git_ref("--help") is None  # never passed to git as an option


# ------------------------------------------------------------------ bad question files

GOOD = """
- id: sure_3
  question: Is it September 2023 by month 3?
  outcome: {kind: condition, when: "month >= 2023-09"}
  window_months: 3
  resolution: {answer: yes, date: 2023-09, source: the calendar}
  base_rate: {probability: 0.5, source: a guess}
- id: clash_12
  question: Does the front see a fatal clash within a year?
  outcome: clash
  window_months: 12
  resolution: {answer: no, date: 2024-06, source: a made-up record}
  base_rate: {probability: 0.3, reference_class: made up, source: a made-up table}
"""

BAD = [
    ("unknown outcome", "outcome: clash", "outcome: clsh",
     "q.yaml:13:14: questions[1].outcome: unknown outcome 'clsh' (did you mean 'clash'?)"),
    ("outcome with no near name", "outcome: clash", "outcome: zebra",
     "q.yaml:13:14: questions[1].outcome: unknown outcome 'zebra'; the scenario's outcomes are one of 'clash', 'coin_fired', 'frozen', 'taken', 'war'"),
    ("window zero", "window_months: 12", "window_months: 0",
     "q.yaml:14:20: questions[1].window_months: a window is 1 to 600 months from the scenario's start (got 0)"),
    ("window not whole", "window_months: 12", "window_months: 2.5",
     "q.yaml:14:20: questions[1].window_months: a window is a whole number of months from the scenario's start, 1 to 600 (got 2.5)"),
    ("window in words", "window_months: 12", "window_months: a year",
     "q.yaml:14:20: questions[1].window_months: a window is a whole number of months from the scenario's start, 1 to 600 (got 'a year')"),
    ("missing resolution source", ", source: a made-up record}", "}",
     "q.yaml:15:17: questions[1].resolution: missing required key 'source'"),
    ("empty base-rate source", "source: a made-up table}", 'source: ""}',
     "q.yaml:16:70: questions[1].base_rate.source: is empty; cite where it comes from (author, title, date, page or address)"),
    ("probability above 1", "probability: 0.3", "probability: 1.3",
     "q.yaml:16:30: questions[1].base_rate.probability: a probability is between 0 and 1 (got 1.3)"),
    ("probability below 0", "probability: 0.3", "probability: -0.1",
     "q.yaml:16:30: questions[1].base_rate.probability: a probability is between 0 and 1 (got -0.1)"),
    ("probability in percent", "probability: 0.3", "probability: 30%",
     "q.yaml:16:30: questions[1].base_rate.probability: a probability is a number between 0 and 1, e.g. 0.15 for 15% (got '30%')"),
    ("answer not yes or no", "answer: no", "answer: maybe",
     "q.yaml:15:26: questions[1].resolution.answer: the answer is yes or no (got 'maybe')"),
    ("date in words", "date: 2024-06", "date: June 2024",
     "q.yaml:15:36: questions[1].resolution.date: write the date as YYYY-MM-DD or YYYY-MM (got June 2024)"),
    ("impossible date", "date: 2024-06", "date: 2024-06-31",
     "q.yaml:15:36: questions[1].resolution.date: 2024-06-31 is not a date; write YYYY-MM-DD or YYYY-MM"),
    ("no before the window ends", "date: 2024-06", "date: 2024-05",
     "q.yaml:15:36: questions[1].resolution.date: a 'no' is known when the window ends (2024-06), not on 2024-05; give the window's end (window 2023-07 to 2024-06)"),
    ("yes after the window", "date: 2023-09", "date: 2023-10",
     "q.yaml:9:37: questions[0].resolution.date: resolved yes on 2023-10, after the window (2023-07 to 2023-09): for this window the answer is no (or give a longer window)"),
    ("yes before the start", "date: 2023-09", "date: 2023-06-30",
     "q.yaml:9:37: questions[0].resolution.date: resolved yes on 2023-06-30, before the scenario starts (window 2023-07 to 2023-09); a question asks what happens after the start"),
    ("duplicate id", "id: clash_12", "id: sure_3",
     "q.yaml:11:9: questions[1].id: id 'sure_3' is used twice (first at line 5); give each question its own id"),
    ("misspelt key", "window_months: 12", "window_month: 12",
     "q.yaml:14:5: questions[1].window_month: unknown key 'window_month' (did you mean 'window_months'?)"),
    ("inline outcome's unknown flashpoint", 'outcome: {kind: condition, when: "month >= 2023-09"}',
     "outcome: {kind: escalation, flashpoint: frnt, reaches: 3}",
     "q.yaml:7:45: questions[0].outcome.flashpoint: unknown flashpoint 'frnt' (did you mean 'front'?)"),
    ("inline outcome's unknown kind", 'outcome: {kind: condition, when: "month >= 2023-09"}',
     "outcome: {kind: escalate, flashpoint: front, reaches: 3}",
     "q.yaml:7:21: questions[0].outcome.kind: unknown kind 'escalate' (did you mean 'escalation'?)"),
    ("inline outcome's bad condition", '"month >= 2023-09"', '"month >> 2023-09"',
     None),
    ("unknown scenario", "id: clash_12", "id: clash_12\n  scenario: karabak",
     "q.yaml:12:15: questions[1].scenario: scenario 'karabak': no such file, and no shipped scenario 'karabak' (did you mean 'karabakh'?); `sim list` shows the shipped ones"),
    ("question without text", "question: Does the front see a fatal clash within a year?", 'question: ""',
     "q.yaml:12:16: questions[1].question: is empty; write it out"),
]


@pytest.mark.parametrize("old,new,expect", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_a_bad_question_file_gets_one_clear_line(tmp_path, monkeypatch, old, new, expect):
    scenario(tmp_path)
    monkeypatch.chdir(tmp_path)
    body = textwrap.dedent(GOOD).lstrip("\n")
    assert old in body
    questions(tmp_path, body.replace(old, new, 1))
    with pytest.raises(sim.InputError) as err:
        bind_questions(read_questions("q.yaml"))
    lines = [p.format() for p in err.value.problems]
    assert len(lines) == 1, lines
    if expect is None:  # the condition language's own message, placed in the question file
        assert lines[0].startswith("q.yaml:7:") and "questions[0].outcome.when" in lines[0]
    else:
        assert lines[0] == expect


def test_file_level_problems(tmp_path, monkeypatch):
    scenario(tmp_path)
    monkeypatch.chdir(tmp_path)
    body = textwrap.dedent(GOOD).lstrip("\n")
    p = questions(tmp_path, body)
    p.write_text(p.read_text().replace("model: HEAD\n", ""))
    with pytest.raises(sim.InputError) as err:
        read_questions("q.yaml")
    assert [x.format() for x in err.value.problems] == [
        "q.yaml:1:1: missing required key 'model': the git tag or commit the questions are scored against, e.g. calibration-frozen"]
    Path("l.yaml").write_text("- a\n- b\n")
    with pytest.raises(sim.InputError) as err:
        read_questions("l.yaml")
    assert err.value.problems[0].format() == "l.yaml:1:1: a question file is a mapping (selection:, model:, questions:), not a list"
    questions(tmp_path, "[]\n", name="e.yaml")
    with pytest.raises(sim.InputError) as err:
        read_questions("e.yaml")
    assert "questions: needs at least 1 entry" in err.value.problems[0].format()


def test_every_problem_at_once_and_a_question_without_scenario(tmp_path, monkeypatch):
    scenario(tmp_path)
    monkeypatch.chdir(tmp_path)
    body = textwrap.dedent(GOOD).lstrip("\n").replace("outcome: clash", "outcome: clsh").replace("date: 2023-09", "date: 2023-10")
    questions(tmp_path, body, head="")
    with pytest.raises(sim.InputError) as err:
        bind_questions(read_questions("q.yaml"))
    assert len(err.value.problems) == 2 and all("names no scenario" in p.message for p in err.value.problems)
    with pytest.raises(sim.InputError) as err:
        bind_questions(read_questions("q.yaml"), "mini.yaml")
    assert [p.path for p in err.value.problems] == ["questions[0].resolution.date", "questions[1].outcome"]


# ------------------------------------------------------------------------- the CLI

runner = CliRunner()


def test_cli_prints_the_scores_and_writes_the_folder(tmp_path, monkeypatch):
    scenario(tmp_path)
    path = questions(tmp_path, q("sure_3", CAL, 3, "yes", "2023-09", 0.5)
                     + q("sure_2", CAL, 2, "no", "2023-08", 0.2)
                     + q("coin_6", "coin_fired", 6, "yes", "2023-10", 0.4))
    out = tmp_path / "bt"
    r = runner.invoke(app, ["backtest", "--questions", str(path), "--runs", "500", "--seed", "7", "--out", str(out)])
    assert r.exit_code == 0, r.output
    for word in ("sure_3", "coin_6", "Brier", "Log score", "base rate", "50% for all", "Model's Brier skill"):
        assert word in r.output, word
    files = {f.name for f in out.iterdir()}
    assert files == {"questions.csv", "scores.json", "reliability.csv", "fig_reliability.png", "summary.md",
                     "questions.yaml", "scenario.mini.resolved.yaml", "manifest.json"}
    assert (out / "fig_reliability.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    t = pd.read_csv(out / "questions.csv", index_col="id")
    assert list(t.index) == ["sure_3", "sure_2", "coin_6"] and list(t["resolved"]) == [1, 0, 1]
    s = json.loads((out / "scores.json").read_text())
    assert s["forecasters"]["model"]["brier"] == pytest.approx(np.mean((t["forecast"] - t["resolved"]) ** 2), abs=1e-6)
    assert s["forecasters"]["half"]["brier"] == 0.25 and s["questions"] == 3 and s["model"] == "HEAD"
    rel = pd.read_csv(out / "reliability.csv")
    assert rel["count"].sum() == 3 and len(rel) == 5
    m = json.loads((out / "manifest.json").read_text())
    assert m["kind"] == "backtest" and m["seed"] == 7 and m["runs"] == 500 and "calibration_frozen" in m
    assert m["questions_sha256"] == __import__("hashlib").sha256(path.read_bytes()).hexdigest()
    assert m["scenarios"][0]["scenario_sha256"] and m["versions"]["sim"] == sim.__version__
    assert "git_commit" in m and m["model"] == "HEAD"
    assert (out / "questions.yaml").read_text() == path.read_text()
    again = sim.load_scenario(out / "scenario.mini.resolved.yaml")  # the scenario as run, loadable
    assert "question_sure_3" in again.spec.outcomes
    md = (out / "summary.md").read_text()
    assert "| the model |" in md and "![Reliability diagram](fig_reliability.png)" in md


def test_cli_scenario_argument_and_bad_input(tmp_path):
    mini = scenario(tmp_path)
    path = questions(tmp_path, q("sure_3", CAL, 3, "yes", "2023-09", 0.5), head="")
    r = runner.invoke(app, ["backtest", str(mini), "--questions", str(path), "--runs", "100", "--out", str(tmp_path / "o"), "--no-figures"])
    assert r.exit_code == 0, r.output
    assert not (tmp_path / "o" / "fig_reliability.png").exists() and (tmp_path / "o" / "summary.md").is_file()
    r = runner.invoke(app, ["backtest", "--questions", str(path), "--out", str(tmp_path / "never")])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert r.output.strip().endswith("questions[0]: names no scenario; add scenario: to the question or to the file, "
                                     "or give the scenario on the command line")
    assert not (tmp_path / "never").exists()
    r = runner.invoke(app, ["backtest", str(mini)])
    assert r.exit_code == 2 and r.output.strip() == "sim backtest: --questions: give the question file: sim backtest [SCENARIO] --questions FILE.yaml"
    r = runner.invoke(app, ["backtest", str(mini), "--questions", str(path), "--bins", "0"])
    assert r.exit_code == 2 and r.output.strip() == "sim backtest: --bins: must be from 1 to 100 (got 0)"
    r = runner.invoke(app, ["backtest", str(mini), "--questions", str(path), "--runs", "0"])
    assert r.exit_code == 2 and r.output.strip() == "sim backtest: --runs: must be at least 1 (got 0)"
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("precious")
    r = runner.invoke(app, ["backtest", str(mini), "--questions", str(path), "--out", str(tmp_path / "full")])
    assert r.exit_code == 2 and "is not empty" in r.output
    assert [f.name for f in (tmp_path / "full").iterdir()] == ["keep.txt"]


def test_a_stopped_run_scores_nothing_and_writes_nothing(tmp_path, monkeypatch):
    """Ctrl-C (or SIGTERM) during a scenario's run: no partial score, no folder, exit 130."""
    import sim.api

    mini = scenario(tmp_path)
    path = questions(tmp_path, q("sure_3", CAL, 3, "yes", "2023-09", 0.5))
    real = sim.api.run

    def stopped(*a, **k):
        res = real(*a, **k)
        res.stopped_by, res.complete = "interrupt", False
        return res

    monkeypatch.setattr(sim.api, "run", stopped)
    with pytest.raises(KeyboardInterrupt):
        sim.backtest(path, runs=50)
    r = runner.invoke(app, ["backtest", str(mini), "--questions", str(path), "--runs", "50", "--out", str(tmp_path / "o")])
    assert r.exit_code == 130 and r.output.strip() == "Interrupted."
    assert not (tmp_path / "o").exists()
