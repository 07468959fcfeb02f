"""Fact cards, provenance checks, `sim sources`, calibration keys."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.evidence.calibrations import CALIBRATIONS
from sim.evidence.cards import load_cards
from sim.evidence.sources import coverage, provenance_rows

from .conftest import MINI, write

runner = CliRunner()
DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_fact_cards_load_one_per_article():
    base = load_cards()
    assert len(base.cards) == 14 and len(base.facts) >= 150
    files = {c.source.file for c in base.cards.values()}
    assert len(files) == 5  # the five source files
    parts = sorted(c.source.part for c in base.cards.values() if c.source.file.startswith("000_"))
    assert parts == list(range(1, 11))  # ten articles in the first file
    for fid, f in base.facts.items():
        if f.confidence == "claimed":
            assert f.claimed_by
        assert "[" not in base.citation(fid)[:1]


def test_every_calibration_key_is_documented():
    text = (DOCS / "CALIBRATION.md").read_text()
    for key in CALIBRATIONS:
        assert f"## `{key}`" in text, key


def test_unknown_calibration_key_and_cited_fact_are_rejected(tmp_path):
    bad = MINI.replace("credibility: 0.3", 'credibility: {value: 0.3, source: {calibration: "my-data: something"}}')
    with pytest.raises(sim.InputError) as ei:
        sim.load_scenario(write(tmp_path, bad))
    assert "starts with a documented key" in ei.value.format()
    # a note that starts with ':' (found by the property tests: it crashed the key lookup)
    bad = MINI.replace("credibility: 0.3", 'credibility: {value: 0.3, source: {calibration: ":level("}}')
    with pytest.raises(sim.InputError) as ei:
        sim.load_scenario(write(tmp_path, bad))
    assert "starts with a documented key" in ei.value.format()
    bad = MINI.replace("credibility: 0.3", 'credibility: {value: 0.3, source: {assumption: "see [no-such-fact-id]"}}')
    with pytest.raises(sim.InputError) as ei:
        sim.load_scenario(write(tmp_path, bad))
    assert "cites unknown fact [no-such-fact-id]" in ei.value.format()


def test_fact_value_must_match_without_derive(tmp_path):
    bad = MINI.replace("credibility: 0.3", "credibility: {value: 0.3, source: {fact: csto-am-nonintervention-episodes}}")
    with pytest.raises(sim.InputError) as ei:
        sim.load_scenario(write(tmp_path, bad))
    assert "differs from fact 'csto-am-nonintervention-episodes' (3)" in ei.value.format()


@pytest.mark.parametrize("name", [s["name"] for s in sim.list_scenarios()])
def test_shipped_scenarios_are_fully_sourced_and_not_all_assumptions(name):
    scn = sim.load_scenario(name)
    cov = coverage(provenance_rows(scn))
    assert cov["share"] == 1.0
    by = cov["set_by_scenario_by_kind"]
    # coverage is not reached by labelling everything an assumption
    assert by["calibration"] + by["fact"] >= 10, by
    assert len(cov["facts_cited"]) >= 10


def test_sources_command_formats():
    r = runner.invoke(app, ["sources", "karabakh", "--kind", "fact"])
    assert r.exit_code == 0 and "in-am-contract-value" in r.output
    r = runner.invoke(app, ["sources", "karabakh", "--format", "json"])
    data = json.loads(r.output)
    assert data["coverage"]["share"] == 1.0
    rows = {p["path"]: p for p in data["parameters"]}
    cred = rows["alliances.csto.credibility"]  # a calibration (alliance-prior) citing the record it updates on
    assert cred["kind"] == "calibration" and cred["cited_refs"][0]["id"] == "csto-am-nonintervention-episodes"
    assert "OE Watch" in cred["cited_refs"][0]["citation"]
    toll = rows["rules.escalation.casualties_fatal_clash"]  # derived from two fact cards
    assert toll["kind"] == "fact" and [f["id"] for f in toll["fact_refs"]] == [
        "tegh-armenian-dead", "lachin-clash-2023-03-05-police-killed"]
    r = runner.invoke(app, ["sources", "karabakh", "--format", "csv"])
    assert r.output.splitlines()[0].startswith("path,value,kind")
    r = runner.invoke(app, ["sources", "karabakh", "--format", "xml"])
    assert r.exit_code == 2 and r.output.strip() == "sim sources: --format: must be table, csv or json (got 'xml')"


def test_validate_reports_the_split():
    r = runner.invoke(app, ["validate", "kyrgyz_tajik"])
    assert r.exit_code == 0
    assert re.search(r"provenance: (\d+)/\1 numeric parameters have a source \(100%\)", r.output)
    assert "set by the scenario" in r.output and "fact cards cited" in r.output


def test_report_has_a_provenance_appendix(tmp_path):
    scn = sim.load_scenario("kyrgyz_tajik")
    res = sim.run(scn, runs=200, seed=1, months=6)
    from sim.report import write_report

    res.save(tmp_path, report=write_report)
    html = (tmp_path / "report.html").read_text()
    assert "Provenance appendix" in html and "kg-equipment-spend-2023h1" in html and "Facts cited" in html
