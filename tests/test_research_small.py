"""Smaller research items: a constant event difference in `sim compare`, bracketed words in
--help, the plugin hint for unknown parts. (A SALib ProblemSpec with named outputs:
test_evaluate.py; provenance in the Parquet files: test_trajectories.py.)"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from typer.main import get_command
from typer.testing import CliRunner

import sim
from sim.cli import app

from .conftest import MINI, write

SCHEDULED = MINI + """events:
  - name: note
    at: 2023-09
    effect: {add: {states.aa.resolve: 0.0}}
    source: {assumption: "a scheduled event: it fires once in every run"}
"""


@pytest.mark.parametrize("independent", [False, True])
def test_an_event_that_differs_by_the_same_amount_in_every_run_leads_the_counts(tmp_path, independent):
    """B schedules an event A does not: one more `events.fired` in every run. Its difference
    has no spread; it used to get t = 0 (sorted last, left out of the words) and scipy's
    precision-loss warning."""
    a, b = write(tmp_path, MINI, "a.yaml"), write(tmp_path, SCHEDULED, "b.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scipy's RuntimeWarning would fail the test
        cmp = sim.compare(a, b, runs=120, seed=3, independent=independent)
        counts = cmp.counts()
        words = cmp.words()
    first = counts.iloc[0]
    assert counts.index[0] == "events.fired"
    assert first["diff"] == 1.0 and first["ci_low"] == first["ci_high"] == 1.0
    assert first["t"] == np.inf and 0 < first["p_value"] < 1e-30
    assert any("events.fired 0.00 → 1.00" in w for w in words), words
    same = counts.drop(index="events.fired")
    if not independent:  # common random numbers and a no-op effect: nothing else moves
        assert (same["diff"] == 0).all() and (same["t"] == 0).all() and (same["p_value"] == 1).all()


def test_a_constant_difference_p_value_is_the_sign_test():
    from sim.analysis.compare import _paired_test, _welch_test

    t, p = _paired_test(np.full(10, -2.0))
    assert t == -np.inf and p == pytest.approx(2 / 2**10)
    assert _paired_test(np.zeros(5)) == (0.0, 1.0)
    t, p = _welch_test(np.zeros(3), np.ones(2))
    assert t == np.inf and p == pytest.approx(2 / 10)  # 2 / C(5, 2)
    assert _welch_test(np.ones(3), np.ones(4)) == (0.0, 1.0)


def _options():
    for name, cmd in get_command(app).commands.items():
        for param in cmd.params:
            if getattr(param, "param_type_name", "") == "option" and getattr(param, "help", None):
                yield name, param


def test_bracketed_words_in_option_help_are_shown():
    """rich reads `[research]` as markup and dropped it: --help said "needs sim." Every
    bracketed word in an option's help must be escaped and then shown."""
    raw = [(name, p.opts[0], m.group(0)) for name, p in _options() for m in re.finditer(r"(?<!\\)\[[a-z]\w*\]", p.help)]
    assert raw == [], "escape these as \\[...] in the help text"
    escaped = [(name, m.group(1)) for name, p in _options() for m in re.finditer(r"\\(\[[^\]]+\])", p.help)]
    assert ("run", "[research]") in escaped and ("sweep", "[research]") in escaped
    for name, text in escaped:
        r = CliRunner().invoke(app, [name, "--help"], env={"COLUMNS": "200"})
        assert text in r.output, (name, text)
    r = CliRunner().invoke(app, ["run", "--help"], env={"COLUMNS": "200"})
    assert "needs sim[research]." in r.output


@pytest.mark.parametrize("yaml, message", [
    ("rules:\n  weariness: {model: fatigue}\n", "unknown mechanism 'weariness'; mechanisms are"),
    ("rules:\n  escalation: {model: hazard9}\n", "unknown model 'hazard9'; models are"),
])
def test_an_unknown_part_suggests_loading_its_plugin(tmp_path, yaml, message):
    path = write(tmp_path, yaml + MINI)
    r = CliRunner().invoke(app, ["validate", str(path)])
    assert r.exit_code == 2
    line = r.stderr.strip()
    assert message in line and line.endswith("if a plugin registers it, load the plugin (--plugin MODULE; "
                                             "in Python, import it first)"), line


def test_an_unknown_outcome_kind_suggests_its_plugin_and_a_typo_its_neighbour(tmp_path):
    weary = write(tmp_path, MINI.replace("{kind: escalation, flashpoint: front, reaches: 3}",
                                         "{kind: weary, state: aa, above: 0.5}"), "w.yaml")
    with pytest.raises(sim.InputError) as exc:
        sim.load_scenario(weary)
    assert "unknown kind 'weary'; kinds are" in str(exc.value) and "--plugin MODULE" in str(exc.value)
    typo = write(tmp_path, MINI.replace("kind: escalation, flashpoint: front, reaches: 3",
                                        "kind: escalaton, flashpoint: front, reaches: 3"), "t.yaml")
    with pytest.raises(sim.InputError) as exc:
        sim.load_scenario(typo)
    assert "(did you mean 'escalation'?)" in str(exc.value) and "--plugin" not in str(exc.value)


def test_command_help_paragraphs_are_reflowed_to_the_terminal():
    """A docstring's own line breaks are joined (a source line longer than the terminal no
    longer leaves one word on a line of its own); list items keep their lines."""
    from sim.cli.common import reflow

    assert reflow("One line.\n\n  First part of a\n  paragraph, continued.\n\n- item one\n- item two") == (
        "One line.\n\nFirst part of a paragraph, continued.\n\n- item one\n- item two")
    r = CliRunner().invoke(app, ["optimize", "--help"], env={"COLUMNS": "80"})
    assert r.exit_code == 0
    assert not any(line.strip() in ("evaluated on", "NSGA-II", "policies.csv,") for line in r.output.splitlines())
