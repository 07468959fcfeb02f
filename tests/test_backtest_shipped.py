"""The shipped question set: well formed, chosen as stated, and `sim backtest` runs on it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import sim
from sim.analysis.questions import read_questions

ROOT = Path(sim.__file__).resolve().parent.parent
QUESTIONS = ROOT / "backtest" / "questions-2023-07.yaml"


def test_the_shipped_question_set_is_valid_and_as_the_issue_asks():
    qs = read_questions(QUESTIONS)
    raw = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
    assert len(qs.questions) >= 20
    answers = [q["resolution"]["answer"] for q in raw["questions"]]
    assert answers.count("no") / len(answers) >= 0.30
    assert {q["scenario"] for q in raw["questions"]} >= {"karabakh", "kyrgyz_tajik"}
    for q in raw["questions"]:
        assert len(q["resolution"]["source"]) > 20 and len(q["base_rate"]["source"]) > 10, q["id"]
    assert raw["model"] == "calibration-frozen" and "before any resolution was looked up" in raw["selection"]


@pytest.mark.slow
def test_sim_backtest_runs_on_the_shipped_questions_and_draws_the_reliability_diagram(tmp_path):
    bt = sim.backtest(QUESTIONS, runs=300, seed=5)
    folder = bt.save(tmp_path / "bt")
    scores = json.loads((folder / "scores.json").read_text())
    assert scores["questions"] == len(read_questions(QUESTIONS).questions)
    assert (folder / "fig_reliability.png").stat().st_size > 10_000
    assert 0 <= scores["forecasters"]["model"]["brier"] <= 1
