"""docs/SCENARIO-GUIDE.md: generated from the scenarios and fresh runs, checked for staleness."""

from __future__ import annotations

import pytest

import sim
from sim import guide
from sim.report.guide_text import page, section
from sim.report.html import render
from sim.report.labels import label

from .conftest import MINI, load_text

DRIVEN = MINI.replace("  title: Mini world\n", """  title: Mini world
  description: Two sides and a pact.
  questions:
    - Will the pact look credible?
  caveats:
    - No domestic politics <here> & nowhere.
    - A second caveat.
""").replace("outcomes:\n", """outcomes:
  credible: {kind: condition, when: "value(alliances.pact.credibility) > 0.5", description: The pact looks credible}
""") + """uncertainties:
  alliances.pact.credibility: {uniform: [0.0, 1.0], source: {assumption: "anything"}}
  states.dd.capability: {uniform: [0.5, 2.0]}
"""


@pytest.fixture(scope="module")
def entry(tmp_path_factory):
    scn = load_text(tmp_path_factory.mktemp("guide"), DRIVEN)
    res = sim.run(scn, runs=300, seed=7)
    sw = sim.sweep(scn, "lhs", 64, 40, seed=7)
    return guide.Entry("mini", scn, res, sw)


def test_a_section_says_what_the_scenario_is_and_which_input_drives_an_outcome(entry):
    text = "\n".join(section(entry))
    assert "## Mini world" in text and "Two sides and a pact." in text
    assert "- Will the pact look credible?" in text
    assert "`sim run mini --runs 300 --seed 7`" in text
    assert "`sim sweep mini --method lhs --samples 64 --runs 40 --seed 7`" in text
    row = next(line for line in text.splitlines() if line.startswith("| The pact looks credible |"))
    # the outcome is a step in the credibility: it drives it, upwards; D's capability does not
    assert "Pact credibility (" in row and "the higher, the likelier" in row
    assert "D's capability" not in row
    assert "No outcome depends measurably on: D's capability" in text
    assert "| Pact credibility | `alliances.pact.credibility` | 0 to 1 | anything |" in text
    assert "| D's capability | `states.dd.capability` | 0.5 to 2 | not stated |" in text
    assert "- No domestic politics <here> & nowhere.\n- A second caveat." in text


def test_the_page_is_the_same_text_every_time(entry):
    a = page([entry])
    assert a == page([entry])
    assert a.startswith("# Scenario guide\n") and a.endswith("\n") and not a.endswith("\n\n")
    assert "- [Mini world](#mini-world) (`mini`)" in a
    assert "/tmp" not in a and str(entry.scn.path) not in a  # no absolute paths


def test_stale_names_the_command_and_shows_the_difference():
    assert guide.stale("a\nb\n", "a\nb\n") is None
    msg = guide.stale("a\nb\n", "a\nc\n")
    assert "run python -m sim.guide and commit the page" in msg
    assert "-b" in msg and "+c" in msg


def test_guide_command_writes_checks_and_reports_a_stale_page(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(guide, "build", lambda **_kw: "# Scenario guide\nfresh\n")
    out = tmp_path / "g.md"
    assert guide.main(["--check", "--out", str(out)]) == 2  # nothing to check yet
    assert "does not exist" in capsys.readouterr().err
    assert guide.main(["--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == "# Scenario guide\nfresh\n"
    assert guide.main(["--check", "--out", str(out)]) == 0
    out.write_text("# Scenario guide\nedited by hand\n", encoding="utf-8")
    assert guide.main(["--check", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "run python -m sim.guide" in err and "+fresh" in err
    assert guide.main(["--out", str(tmp_path / "no" / "g.md")]) == 2


def test_parameter_paths_read_as_words():
    spec = sim.load_scenario("karabakh").spec
    assert label("states.russia.available_capacity", spec) == "Russia's available capacity"
    assert label("alliances.csto.credibility", spec) == "CSTO credibility"
    assert label("states.karabakh_armenians.supplies", spec) == "Karabakh Armenians' supplies at the start"
    assert label("rules.escalation.base_up[2]", spec) == "escalation: up-rate from rung 2 (display or blockade) to 3 (fatal clash)"
    assert label("rules.escalation.base_down[3]", spec).startswith("escalation: how fast a fatal clash subsides")
    assert label("suppliers.russia_arms.reliability", spec) == "reliability of Russia's arms deliveries"
    assert label("states.armenia.suppliers.india_arms", spec) == "India's share of Armenia's arms imports at the start"
    assert label("alliances.csto.trust.armenia", spec) == "Armenia's trust in the CSTO"
    assert label("rules.talks.some_new_rate", spec) == "talks: some new rate"
    assert label("nowhere.at.all", spec) == "nowhere.at.all"


def test_every_shipped_scenario_states_its_caveats():
    for s in sim.list_scenarios():
        meta = sim.load_scenario(s["name"]).spec.meta
        assert meta.caveats, f"{s['name']}: meta.caveats is empty"
        assert all(len(c.split()) >= 8 for c in meta.caveats), s["name"]


def test_the_report_shows_the_scenarios_caveats(entry, tmp_path):
    html = render(entry.res, {})
    assert "<h2>Caveats</h2>" in html
    assert "<li>No domestic politics &lt;here&gt; &amp; nowhere.</li>" in html
    plain = sim.run(load_text(tmp_path, MINI), runs=50, seed=1)
    assert "Caveats" not in render(plain, {})


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_the_committed_scenario_guide_is_up_to_date():
    """Regenerates docs/SCENARIO-GUIDE.md (every shipped scenario's default run and sweep,
    a few minutes) and compares it with the committed page."""
    assert guide.PAGE.is_file(), f"{guide.PAGE} is missing: run python -m sim.guide"
    problem = guide.stale(guide.PAGE.read_text(encoding="utf-8"), guide.build())
    assert problem is None, problem
