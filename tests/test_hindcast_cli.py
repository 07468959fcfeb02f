"""``sim hindcast`` and ``sim calibrate`` end to end on a slice of the shared panel."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.analysis import calibration
from sim.cli import app

runner = CliRunner()
SAMPLE = Path(__file__).parent / "data" / "dyad_years_1985_1992_sample.csv"
"""Rows of the shared panel (shared/data/dyad_years_1946_2002.csv, see its SOURCES.md): every onset
row of 1985-1992 and 600 calm rows of those years (pandas ``sample(600, random_state=3)``), so
the tests need no file outside the repository: small, with events of each kind."""


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("panel") / "panel.csv"
    path.write_bytes(SAMPLE.read_bytes())
    return path


def test_sim_hindcast_writes_forecasts_and_scores(small, tmp_path):
    out = tmp_path / "h"
    r = runner.invoke(app, ["hindcast", str(small), "--years", "1991-1992", "--train", "1985-1990", "--runs", "20",
                            "--workers", "1", "--quiet", "--out", str(out)])
    assert r.exit_code == 0, r.output
    f = pd.read_csv(out / "forecasts.csv")
    n = int(((pd.read_csv(small).year >= 1991)).sum())
    assert len(f) == n and {"ccode1", "ccode2", "year", "onset", "onset_fatal", "ongoing"} <= set(f.columns)
    assert ((f.onset >= 0) & (f.onset <= 1)).all() and (f.onset_fatal <= f.onset + 1e-12).all()
    scores = pd.read_csv(out / "scores.csv")
    assert {"model", "regression", "base rate"} <= set(scores.forecaster)
    assert (out / "report.html").stat().st_size > 1000
    assert "Outputs:" in r.output and "Brier" in r.output


def test_sim_hindcast_of_a_bad_year_range_is_one_line(small, tmp_path):
    out = tmp_path / "h"
    r = runner.invoke(app, ["hindcast", str(small), "--years", "2010-2012", "--out", str(out)])
    assert r.exit_code == 2, r.output
    assert len(r.output.strip().splitlines()) == 1 and str(small) in r.output and "Traceback" not in r.output
    assert not out.exists()


@pytest.mark.slow
def test_sim_calibrate_writes_a_calibration_the_hindcast_reads(small, tmp_path):
    out = tmp_path / "c"
    r = runner.invoke(app, ["calibrate", str(small), "--boot", "10", "--runs", "20", "--years", "1989-1992", "--out", str(out)])
    assert r.exit_code == 0, r.output
    cal = json.loads((out / "calibration.json").read_text())
    assert {"escalation.beta_peace", "escalation.base_up[1]", "offensive.base_rate",
            "hindcast.persistence"} <= set(cal["values"])
    for k, v in cal["values"].items():
        assert cal["lo"][k] <= v <= cal["hi"][k], k
    assert cal["panel"]["years"] == "1989-1992" and 0 < cal["panel"]["base_rates"]["onset"] < 1
    assert "beta_peace" in (out / "parameters.md").read_text()
    # the fitted file drives a hindcast (its base rates too)
    h = tmp_path / "h"
    r = runner.invoke(app, ["hindcast", str(small), "--years", "1992-1992", "--train", "1989-1991", "--runs", "10",
                            "--workers", "1", "--quiet", "--calibration", str(out / "calibration.json"), "--out", str(h)])
    assert r.exit_code == 0, r.output
    assert (h / "forecasts.csv").exists()


@pytest.mark.slow
def test_sim_calibrate_ablation_holds_the_mechanisms_terms_at_zero(small, tmp_path):
    out = tmp_path / "a"
    r = runner.invoke(app, ["calibrate", str(small), "--boot", "5", "--runs", "10", "--years", "1991-1992", "--ablation", "--out", str(out)])
    assert r.exit_code == 0, r.output
    cal = json.loads((out / "calibration.json").read_text())
    held = {f"{rule}.{k}" for rule, vals in calibration.MECHANISMS.items() for k in vals}
    assert held.isdisjoint(cal["values"]) and "escalation.beta_peace" in cal["values"]
    assert cal["fit"]["fixed"] == calibration.MECHANISMS
    block = (out / "uncertainties.yaml").read_text()  # one declared uncertainty per unidentified coefficient
    assert block.count("  rules.") == sum(1 for k, ok in cal["identified"].items() if not ok and not k.startswith("hindcast."))
    assert json.loads((out / "manifest.json").read_text())["fixed"] == calibration.MECHANISMS


def test_a_panel_of_later_years_alone_is_scored_with_the_frozen_calibration(small, tmp_path):
    """As outside scorers will: a file holding only the years to score (no earlier years to fit a
    regression on) is forecast with the shipped calibration and scored against its base rates."""
    later = tmp_path / "later.csv"
    df = pd.read_csv(small)
    df[df.year >= 1992].to_csv(later, index=False)
    out = tmp_path / "h"
    r = runner.invoke(app, ["hindcast", str(later), "--runs", "10", "--workers", "1", "--quiet", "--out", str(out)])
    assert r.exit_code == 0, r.output
    scores = pd.read_csv(out / "scores.csv")
    assert set(scores.forecaster) == {"model", "base rate"}
    assert "base rates of the calibration's panel (1946-2002)" in r.output
    shipped = json.loads(calibration_file().read_text())["panel"]["base_rates"]["onset"]
    b = scores[(scores.forecaster == "base rate") & (scores.outcome == "onset") & (scores.period == "all")]
    assert float(b["base_rate"].iloc[0]) == pytest.approx(shipped)


def calibration_file() -> Path:
    from sim.rules import fitted

    return fitted.FILE
