"""Narrated runs: one replicate of a run month by month in words (sim story), and the
stories a run's report links."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.parts import registry
from sim.play.story import follow, tell, typical_replicates
from sim.world.log import _FORMATTER, rung, short_name

runner = CliRunner()


@pytest.fixture(scope="module")
def karabakh():
    return sim.load_scenario("karabakh")


def test_every_declared_event_has_a_sentence_that_formats(karabakh):
    """Each rule's event template fills with its actors and declared fields."""
    labels = {"state": "Armenia", "opponent": "Azerbaijan", "alliance": "the CSTO", "supplier": "Indian arms exports",
              "territory": "Karabakh", "flashpoint": "the border", "event": "an event", "lever": "mobilise"}
    for name, et in registry().events.items():
        fields = {f: 3.0 for f in et.fields}
        text = _FORMATTER.format(et.template, **labels, **fields)
        assert text and "{" not in text and "}" not in text, name


def test_rungs_and_organisations_are_named(karabakh):
    assert rung(3) == "rung 3 (fatal clash)" and rung(5.0) == "rung 5 (war)"
    plan = karabakh.compiled()
    assert short_name(plan, "alliance", "csto") == "the CSTO"
    assert short_name(plan, "state", "karabakh_armenians") == "Karabakh Armenians"


def test_a_story_tells_refusals_with_the_trust_they_cost(karabakh):
    stories = follow(karabakh, list(range(120)), seed=11, runs=120)
    texts = [r["text"] for st in stories for r in st.records]
    pat = re.compile(r"^the CSTO declines to help Armenia against Azerbaijan \(Armenia's trust (\d\.\d\d) → (\d\.\d\d)\)$")
    refusals = [m for t in texts if (m := pat.match(t))]
    assert refusals, "no refusal told in 120 runs"
    assert all(float(a) >= float(b) for a, b in (m.groups() for m in refusals))
    assert any(re.match(r"^.+ rises from rung \d \([a-z ]+\) to rung \d \([a-z ]+\)$", t) for t in texts)


def test_same_seed_same_story_and_another_seed_another(karabakh):
    a = tell(karabakh, seed=5, replicate=3).text()
    b = tell(karabakh, seed=5, replicate=3).text()
    c = tell(karabakh, seed=6, replicate=3).text()
    assert a == b
    assert a != c


def test_the_story_of_replicate_k_is_the_run_s_replicate_k(karabakh):
    """Replicates in the first, a middle and a short last chunk: the story's rungs and
    trust month by month, and the months its outcomes happened, are those the run recorded."""
    res = sim.run(karabakh, runs=600, seed=4, chunk_size=250, keep_trajectories=600)
    ks = [0, 17, 260, 599]
    stories = follow(karabakh, ks, seed=4, runs=600, chunk_size=250)
    for k, st in zip(ks, stories, strict=True):
        assert np.array_equal(st.track.series("level")[1:], res.traj["level"][k]), k
        assert np.allclose(st.track.series("trust")[1:], res.traj["trust"][k]), k
        months = [o["month"] for o in st.outcomes]
        assert months == [int(m) for m in res.first_hit_sample[k]], k


def test_typical_replicate_happens_near_the_median(karabakh):
    res = sim.run(karabakh, runs=400, seed=9)
    pick = typical_replicates(res)
    rows = {r["outcome"]: r for r in res.outcome_rows()}
    assert pick
    for name, k in pick.items():
        i = [o.name for o in res.outcomes].index(name)
        m = int(res.first_hit_sample[k, i])
        assert m > 0
        hits = res.first_hit_sample[:, i]
        hits = hits[hits > 0].astype(int)
        assert abs(m - rows[name]["median_month"]) == np.abs(hits - rows[name]["median_month"]).min()


def test_sim_story_writes_the_story_and_its_page(tmp_path):
    out = tmp_path / "st"
    r = runner.invoke(app, ["story", "karabakh", "--seed", "5", "--replicate", "3", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "South Caucasus" in r.output and "Outcomes:" in r.output
    page = (out / "story.html").read_text()
    assert "Month by month" in page and "data:image/png;base64," in page
    assert "sim story" in page and "--seed 5 --replicate 3" in page
    assert (out / "story_timeline.png").stat().st_size > 10_000
    again = runner.invoke(app, ["story", "karabakh", "--seed", "5", "--replicate", "3", "--out", str(tmp_path / "b")])
    assert again.exit_code == 0
    assert (tmp_path / "b" / "story.txt").read_text() == (out / "story.txt").read_text()


def test_sim_story_bad_replicate_is_one_line(tmp_path):
    r = runner.invoke(app, ["story", "karabakh", "--runs", "50", "--replicate", "50", "--out", str(tmp_path / "x")])
    assert r.exit_code == 2
    assert r.output.strip() == "sim story: --replicate: 50 is not a replicate of a 50-run run; give 0 to 49"
    assert not (tmp_path / "x").exists()


def test_a_run_report_links_a_typical_story_per_outcome(tmp_path):
    out = tmp_path / "run"
    r = runner.invoke(app, ["run", "kyrgyz_tajik", "--runs", "300", "--seed", "2", "--stories", "--out", str(out)])
    assert r.exit_code == 0, r.output
    manifest = json.loads((out / "manifest.json").read_text())
    stories = manifest["stories"]
    assert stories
    report = (out / "report.html").read_text()
    for st in stories:
        assert (out / st["file"]).is_file()
        assert f"href='{st['file']}'" in report
    # the linked run is the one the report counted: its story's outcomes include the outcome
    first = stories[0]
    text = (out / first["file"]).read_text()
    assert first["description"] in text.split("Did not happen")[0]

