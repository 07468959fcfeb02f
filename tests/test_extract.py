"""`sim seeds extract` and `sim seeds check`: figures, known facts, drafts, the CLI.

The texts are written for these tests (tests/data/extract/cases.yaml and below); the
gold annotations of source articles are scored by benchmarks/bench_extract.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from benchmarks.extract_score import GOLD, load_cases, score
from sim.cli import app
from sim.evidence.cards import load_cards
from sim.evidence.draft import extract_draft
from sim.evidence.draftcheck import check_card_file
from sim.evidence.extract import extract, sentences
from sim.evidence.figures import find_figures
from sim.evidence.gazetteer import build_gazetteer
from sim.evidence.lexicon import unit_family
from sim.evidence.numbers import read_number, tokenize
from sim.paths import seeds_dir
from sim.scenario.errors import InputError

runner = CliRunner()
CASES = load_cases()


# --- figures ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_annotated_figure_is_found_and_nothing_else(case):
    """Recall and precision on each test text (matching: spans overlap, same value)."""
    found = find_figures(case.text)
    s = score(found, case)
    assert not s.missed, [(a.text, a.value, a.range) for a in s.missed]
    assert not s.false_pos, [(f.text, f.kind, f.value) for f in s.false_pos]
    assert not s.forbidden_hits, [f.text for f in s.forbidden_hits]
    ok, n = s.unit_agreement()
    assert ok == n, [(f.text, f.unit, a.unit) for f, a in s.matched if unit_family(f.unit) != unit_family(a.unit)]
    ok, n = s.conversions()
    assert ok == n
    for f in found:
        assert case.text[f.start:f.end] == f.text


@pytest.mark.parametrize(
    "text, kind, value, unit",
    [
        ("125 billion soms ($1.422 billion)", "money", 125e9, "KGS"),
        ("12 armoured vehicles", "quantity", 12, "vehicles"),
        ("1,344 km", "quantity", 1344, "km"),
        ("10,000 troops", "quantity", 10000, "troops"),
        ("Rs 9,100 crore", "money", 9.1e10, "INR"),
        ("USD 400 million", "money", 4e8, "USD"),
        ("two battalions", "quantity", 2, "battalions"),
    ],
)
def test_the_forms_the_issue_names(text, kind, value, unit):
    figs = find_figures(f"The report says {text} were involved.")
    assert len(figs) == 1
    f = figs[0]
    assert (f.kind, f.unit, f.text) == (kind, unit, text)
    assert f.value == pytest.approx(value)


def test_conversion_in_brackets_is_the_usd_of_the_amount_before():
    (f,) = find_figures("It allocated 125 billion soms ($1.422 billion) in all.")
    assert f.converted == (pytest.approx(1.422e9), "USD")
    (f,) = find_figures("Spending ran at 3-5 billion soms ($34-56.9 million) a year.")
    assert f.range == (3e9, 5e9) and f.converted[1] == "USD" and f.per == "year"
    assert f.converted[0] == pytest.approx((34e6, 56.9e6))


@pytest.mark.parametrize(
    "words, value",
    [("three hundred", 300), ("twenty-five", 25), ("two-and-a-half", 2.5), ("a dozen", 12),
     ("one hundred and fifty thousand", 150000), ("150 thousand", 150000), ("1.422 billion", 1.422e9),
     ("9,100 crore", 9.1e10), ("50 lakh", 5e6), ("1,344", 1344)],
)
def test_numbers_in_words_and_scales(words, value):
    n = read_number(tokenize(words + " x"), 0)
    assert n is not None and n.value == pytest.approx(value)


@pytest.mark.parametrize("text", ["0800", "21st", "2+2", "one of"])
def test_not_numbers(text):
    toks = tokenize(text)
    n = read_number(toks, 0)
    assert n is None or not find_figures(text)


def test_sentences_keep_abbreviations_and_break_at_lines():
    text = ("It cost Rs. 300 crore. S. Jaishankar met U.S. officials on 5 May. See p. 12 for more.\n"
            "A headline without a full stop\nThe next line.")
    spans = [text[s:e] for s, e in sentences(text)]
    assert spans == ["It cost Rs. 300 crore.", "S. Jaishankar met U.S. officials on 5 May.",
                     "See p. 12 for more.", "A headline without a full stop", "The next line."]


# --- actors, weapons, candidates ---------------------------------------------------------


def test_gazetteer_is_built_from_the_projects_actors_and_cards():
    gaz = build_gazetteer(load_cards())
    assert "wagner_group" in gaz.actors  # an actor only the fact cards use
    assert "Russian arms exports" not in {f for fs in gaz.actors.values() for f in fs}
    assert "LOMADS" in gaz.weapons  # named before a weapon word in a card, not in the fixed list
    text = "Yerevan bought Pinaka launchers; While Armenian troops waited, an S-300 and a Mi-17 flew."
    assert [(m.name, m.text) for m in gaz.actors_in(text)] == [("armenia", "Yerevan"), ("armenia", "Armenian")]
    assert [m.name for m in gaz.weapons_in(text)] == ["Pinaka", "S-300", "Mi-17"]


def test_candidates_carry_offsets_sentence_actors_weapons_date_and_ids():
    text = ("Kyrgyzstan received two Bayraktar TB-2 drones from Turkey in 2021.\n"
            "On 9 November 2020 Russia sent 12 armoured vehicles to Tajikistan. Later 12 armoured vehicles came.")
    ex = extract(text, facts=None)
    by = {c.figure.text: c for c in ex.candidates}
    c = by["two Bayraktar TB-2 drones"]
    assert c.id == "draft-2-drones" and c.actors == ("kyrgyzstan", "turkey") and c.date == "2021"
    assert c.weapons == ("Bayraktar TB-2",) and text[c.sentence[0]:c.sentence[1]].startswith("Kyrgyzstan received")
    first, second = [c for c in ex.candidates if c.figure.text == "12 armoured vehicles"]
    assert (first.id, second.id) == ("draft-12-vehicles", "draft-12-vehicles-2")
    assert first.date == "2020-11-09" and first.actors == ("russia", "tajikistan")
    assert second.actors == ("russia", "tajikistan")  # none in its sentence: its paragraph's
    for c in ex.candidates:
        assert text[c.figure.start:c.figure.end] == c.figure.text
        assert c.sentence[0] <= c.figure.start < c.figure.end <= c.sentence[1]
    assert [c.id for c in extract(text, facts=None).candidates] == [c.id for c in ex.candidates]  # stable


# --- known facts ---------------------------------------------------------------------------

CARD = """\
card: test-card
source:
  file: "article.txt"
  outlet: "Test Outlet"
  title: "A title"
  published: "2023-07-01"
summary: "A card written for the tests of the extractor, with a few figures."
facts:
  - id: "t-armour"
    statement: "Russia delivered twelve armoured vehicles to Tajikistan."
    value: 12
    unit: "armoured vehicles"
    date: "not stated"
    actors: [russia, tajikistan]
    confidence: reported
  - id: "t-spend"
    statement: "Kyrgyzstan spent about USD 1.42 billion on equipment."
    value: 1422000000
    unit: "USD"
    original: "125 billion soms ($1.422 billion)"
    date: "2021-01/2023-06"
    actors: [kyrgyzstan]
    confidence: reported
  - id: "t-pay"
    statement: "Workers were offered 300 roubles an hour."
    value: 300
    unit: "RUB per hour"
    date: "2023"
    actors: [russia]
    confidence: reported
  - id: "t-width"
    statement: "The corridor is 22 km wide."
    value: 22
    unit: "km"
    date: "2023-03-05"
    actors: [armenia]
    confidence: reported
"""


@pytest.fixture()
def seeds(tmp_path):
    folder = tmp_path / "seeds"
    folder.mkdir()
    (folder / "test-card.yaml").write_text(CARD, encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    "text, source, known",
    [
        ("Russia sent 12 armoured vehicles to Tajikistan.", None, "t-armour"),
        ("Turkey sent 12 armoured vehicles to Azerbaijan.", None, None),  # other actors
        ("Russia sent 14 armoured vehicles to Tajikistan.", None, None),  # another figure
        ("Russia sent 12 tanks to Tajikistan.", None, None),  # another unit
        ("Bishkek allocated 125 billion soms ($1.422 billion).", None, "t-spend"),  # via `original`
        ("Kyrgyzstan spent $1.422 billion.", None, "t-spend"),
        ("Russia paid 300 rubles a day.", None, None),  # another rate
        ("Russia paid 300 rubles per hour.", None, "t-pay"),
        ("The corridor is 22 km wide.", "other.txt", None),  # no actor, another source
        ("The corridor is 22 km wide.", "article.txt", "t-width"),  # no actor, the card's source
        ("On 5 March 2023 Armenian police were fired on.", None, "t-width"),  # a date
    ],
)
def test_known_means_same_figure_and_same_actors(seeds, text, source, known):
    ex = extract(text, facts=load_cards(seeds), source_file=source)
    assert [c.known for c in ex.candidates] == [known]


def _card(cid: str, title: str, part: int, fact: str) -> str:
    return f"""\
card: {cid}
source: {{file: "multi.txt", part: {part}, parts: 2, outlet: "Test", title: "{title}", published: "not stated"}}
summary: "A card written for the tests of the extractor on a file of two articles."
facts:
  - {{id: "{fact}", statement: "A stretch of 22 km, stated without actors.", value: 22, unit: "km",
     date: "not stated", confidence: reported}}
"""


def test_in_a_file_of_several_articles_the_same_source_is_the_items_card(tmp_path):
    folder = tmp_path / "seeds"
    folder.mkdir()
    (folder / "aa-first.yaml").write_text(_card("aa-first", "First Item’s Title", 1, "p1-width"), encoding="utf-8")
    (folder / "zz-second.yaml").write_text(_card("zz-second", "Second Item", 2, "p2-length"), encoding="utf-8")
    text = "First Item's Title\n\nThe road is 22 km wide.\n\nSecond Item\n\nThe wall is 22 km long.\n"
    ex = extract(text, facts=load_cards(folder), source_file="multi.txt")
    assert [c.known for c in ex.candidates] == ["p1-width", "p2-length"]


def test_shipped_fact_cards_mark_what_they_hold():
    text = "Moscow has delivered 12 armoured vehicles to Dushanbe, and 40 tanks to Minsk."
    ex = extract(text, facts=load_cards())
    assert [(c.figure.text, c.known) for c in ex.candidates] == [
        ("12 armoured vehicles", "ru-tj-armour-delivery"), ("40 tanks", None)]


# --- drafts and their check -------------------------------------------------------------------

ARTICLE = """\
Border build-up near the Tajik frontier

Russia sent 12 armoured vehicles to Tajikistan on 3 May 2023, a ministry statement said.
Around 400 Russian troops joined a drill near the border, and the exercise cost 2 billion rubles ($25 million).
"""


@pytest.fixture()
def article(tmp_path):
    p = tmp_path / "article.txt"
    p.write_text(ARTICLE, encoding="utf-8")
    return p


def test_draft_lists_new_figures_as_facts_and_known_ones_apart(article, seeds):
    text, ex = extract_draft(article, seeds=seeds, card_id="border-buildup")
    data = yaml.safe_load(text)
    ids = [f["id"] for f in data["facts"]]
    assert ids == ["draft-date-2023-05-03", "draft-400-troops", "draft-rub-2bn"]
    assert [k["known"] for k in data["confirm"]["known"]] == ["t-armour"]
    money = data["facts"][2]
    assert (money["value"], money["unit"], money["original"]) == (25000000, "USD", "2 billion rubles ($25 million)")
    assert money["conversion"].startswith("USD figure as given by the article (implies about 80 RUB per USD")
    s, e = money["confirm"]["at"]
    assert ARTICLE[s:e] == "2 billion rubles ($25 million)"
    s, e = money["confirm"]["sentence_at"]
    assert ARTICLE[s:e] == money["confirm"]["sentence"] and ARTICLE[s:e].startswith("Around 400")
    assert data["facts"][1]["unit"] == "Russian troops" and data["facts"][1]["value"] == 400
    assert data["facts"][1]["actors"] == ["russia"]
    assert data["source"]["file"] == "article.txt" and data["card"] == "border-buildup"
    assert all(f["statement"].startswith("CONFIRM") for f in data["facts"])
    assert {m["actor"] for m in data["confirm"]["actors"]} == {"russia", "tajikistan"}
    text_all, _ = extract_draft(article, seeds=seeds, include_known=True)
    assert [f["id"] for f in yaml.safe_load(text_all)["facts"]][0] == "draft-12-vehicles"
    assert "known: t-armour" in text_all
    assert extract_draft(article, seeds=seeds, card_id="border-buildup")[0] == text  # stable


def _fill(text: str) -> dict:
    """What a person does: write statements, confirm fields, delete the confirm blocks."""
    data = yaml.safe_load(text)
    del data["confirm"]
    data["source"].update(outlet="Test Outlet", title="Border build-up near the Tajik frontier",
                          author="not stated", published="not stated")
    data["summary"] = "Russia reinforced Tajikistan with armour and an exercise; written for the tests."
    for f in data["facts"]:
        del f["confirm"]
        f["statement"] = f"A statement written by a person for {f['id']}."
        f["confidence"] = "reported"
        if str(f["date"]).startswith("CONFIRM"):
            f["date"] = "2023-05"
    return data


def test_a_filled_in_draft_is_exactly_a_fact_card(article, seeds, tmp_path):
    text, _ = extract_draft(article, seeds=seeds, card_id="border-buildup")
    draft = tmp_path / "border-buildup.yaml"
    draft.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        check_card_file(draft, seeds)
    msgs = [p.format("sim seeds check") for p in exc.value.problems]
    todo = [m for m in msgs if ": to confirm:" in m]
    assert len(todo) == len(msgs)  # nothing but what is marked
    assert any(re.match(r".*border-buildup\.yaml:\d+:\d+: facts\[0\]\.statement: to confirm: one sentence", m) for m in msgs)
    assert any(re.match(r".*border-buildup\.yaml:\d+:\d+: facts\[1\]\.confirm: to confirm: the evidence", m) for m in msgs)
    assert any(re.match(r".*:\d+:1: confirm: to confirm: the card's working notes", m) for m in msgs)
    draft.write_text(yaml.safe_dump(_fill(text), sort_keys=False, allow_unicode=True), encoding="utf-8")
    card = check_card_file(draft, seeds)
    assert card.card == "border-buildup" and len(card.facts) == 3
    (seeds / draft.name).write_text(draft.read_text(encoding="utf-8"), encoding="utf-8")
    base = load_cards(seeds)  # the project's own loader takes it as it is
    assert base.card_of["draft-rub-2bn"] == "border-buildup"


def test_check_reports_other_problems_and_id_clashes(article, seeds, tmp_path):
    text, _ = extract_draft(article, seeds=seeds, card_id="border-buildup")
    data = _fill(text)
    data["facts"][0]["date"] = "2023-13"
    data["facts"][1]["id"] = "t-armour"
    path = tmp_path / "border-buildup.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        check_card_file(path, seeds)
    msgs = [p.format() for p in exc.value.problems]
    assert len(msgs) == 1 and re.search(r":\d+:\d+: facts\[0\]\.date: '2023-13' is not a date", msgs[0])
    data["facts"][0]["date"] = "2023-05"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        check_card_file(path, seeds)
    (p,) = exc.value.problems
    assert p.path == "facts[1].id" and "already used in card 'test-card'" in p.message and p.mark.line > 0



def test_a_fact_id_used_twice_in_one_card_is_refused_by_check_and_loader_alike(tmp_path):
    """One check (cards.check_card) for both: `sim seeds check` used to call this card valid."""
    folder = tmp_path / "dup"
    folder.mkdir()
    card = folder / "test-card2.yaml"
    text = CARD.replace("card: test-card", "card: test-card2").replace('"t-pay"', '"t-width"').replace(
        '"t-armour"', '"u-armour"').replace('"t-spend"', '"u-spend"')
    card.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        check_card_file(card, seeds=folder)  # against a folder holding only itself
    (p,) = exc.value.problems
    assert p.path == "facts[3].id" and p.mark.line > 0
    assert p.message == "fact id 't-width' is used twice in this card (also facts[2]); fact ids must be unique"
    with pytest.raises(InputError) as loaded:
        load_cards(folder)
    assert [q.format() for q in loaded.value.problems] == [q.format() for q in exc.value.problems]
    r = runner.invoke(app, ["seeds", "check", str(card), "--seeds", str(folder)])
    assert r.exit_code == 2 and "valid" not in r.stdout
    assert r.stderr.splitlines() == [p.format(), f"{card}: not yet a fact card: 0 to confirm, 1 other problem(s)."]


def test_seeds_that_is_not_a_folder_is_one_line(article, seeds, tmp_path):
    missing = tmp_path / "no-such-seeds"
    for cmd in (["seeds", "extract", str(article)], ["seeds", "check", str(seeds / "test-card.yaml")]):
        r = runner.invoke(app, [*cmd, "--seeds", str(missing)])
        assert r.exit_code == 2, r.output
        assert r.stderr.strip() == (f"sim {' '.join(cmd[:2])}: --seeds: {missing}: no such folder; give the folder "
                                    "that holds the fact cards (*.yaml), or leave it out for the shipped seeds/")
        assert r.stdout == ""
    r = runner.invoke(app, ["seeds", "extract", str(article), "--seeds", str(article)])
    assert r.exit_code == 2 and f"--seeds: {article}: is a file, not a folder" in r.stderr
    with pytest.raises(InputError, match="no such folder"):
        load_cards(missing)  # the library says it too (argument seeds)
    assert load_cards(None).facts  # the shipped seeds by default


# --- the command line -----------------------------------------------------------------------


def test_cli_extract_writes_a_draft_and_keeps_an_existing_file(article, seeds, tmp_path):
    out = tmp_path / "draft.yaml"
    r = runner.invoke(app, ["seeds", "extract", str(article), "--out", str(out), "--seeds", str(seeds)])
    assert r.exit_code == 0, r.output
    assert "4 figures found: 3 new, 1 already in fact cards" in r.stdout and f"sim seeds check {out}" in r.stdout
    first = out.read_text(encoding="utf-8")
    assert yaml.safe_load(first)["card"] == "draft"
    r = runner.invoke(app, ["seeds", "extract", str(article), "--out", str(out), "--seeds", str(seeds)])
    assert r.exit_code == 2
    assert r.stderr.strip() == f"sim seeds extract: --out: {out} already exists; choose another file or add --force to overwrite it"
    assert out.read_text(encoding="utf-8") == first
    r = runner.invoke(app, ["seeds", "extract", str(article), "--out", str(out), "--seeds", str(seeds), "--force", "--all"])
    assert r.exit_code == 0 and "known: t-armour" in out.read_text(encoding="utf-8")


def test_cli_extract_to_stdout_and_bad_input(article, seeds, tmp_path):
    r = runner.invoke(app, ["seeds", "extract", str(article), "--seeds", str(seeds), "--prefix", "tj"])
    assert r.exit_code == 0 and r.stdout.startswith("# Draft fact card proposed by `sim seeds extract`")
    assert "- id: tj-400-troops" in r.stdout and "3 new" in r.stderr
    r = runner.invoke(app, ["seeds", "extract", str(tmp_path / "missing.txt")])
    assert r.exit_code == 2 and r.stderr.strip() == f"{tmp_path / 'missing.txt'}: no such file; check the path"
    r = runner.invoke(app, ["seeds", "extract", str(article), "--prefix", "Bad Prefix"])
    assert r.exit_code == 2 and "sim seeds extract: --prefix: 'Bad Prefix' must be lowercase" in r.stderr
    r = runner.invoke(app, ["seeds", "extract", str(article), "--out", str(tmp_path / "no" / "d.yaml")])
    assert r.exit_code == 2
    assert r.stderr.strip() == f"sim seeds extract: --out: cannot write {tmp_path / 'no' / 'd.yaml'}: No such file or directory"
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe\x00abc")
    r = runner.invoke(app, ["seeds", "extract", str(tmp_path / "bin.txt")])
    assert r.exit_code == 2 and "not valid UTF-8" in r.stderr and "Traceback" not in r.output


def test_cli_check_lists_what_is_left_and_passes_when_done(article, seeds, tmp_path):
    out = tmp_path / "border-buildup.yaml"
    runner.invoke(app, ["seeds", "extract", str(article), "--out", str(out), "--seeds", str(seeds)])
    r = runner.invoke(app, ["seeds", "check", str(out), "--seeds", str(seeds)])
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert all(re.match(rf"{re.escape(str(out))}:\d+:\d+: \S+: to confirm: ", ln) for ln in lines[:-1])
    assert lines[-1] == f"{out}: not yet a fact card: {len(lines) - 1} to confirm, 0 other problem(s)."
    out.write_text(yaml.safe_dump(_fill(out.read_text(encoding="utf-8")), sort_keys=False), encoding="utf-8")
    r = runner.invoke(app, ["seeds", "check", str(out), "--seeds", str(seeds)])
    assert r.exit_code == 0 and r.stdout.strip() == f"{out}: a valid fact card ('border-buildup', 3 facts)."


def test_cli_check_on_shipped_cards_and_through_the_installed_command():
    card = seeds_dir() / "lachin-clashes-2023.yaml"
    r = runner.invoke(app, ["seeds", "check", str(card)])
    assert r.exit_code == 0 and "a valid fact card ('lachin-clashes-2023', 25 facts)" in r.stdout
    exe = Path(sys.executable).parent / "sim"
    p = subprocess.run([str(exe), "seeds", "check", str(seeds_dir() / "kg-turkish-uas-2023.yaml")],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    bad = subprocess.run([str(exe), "seeds", "check", "nope.yaml"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.startswith("nope.yaml: no such file; check the path")


# --- the gold annotations ---------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(GOLD.glob("*.yaml")), ids=lambda p: p.stem)
def test_gold_annotations_are_well_formed(path):
    """Offsets against the article itself are checked by benchmarks/bench_extract.py
    (the articles live outside the repository)."""
    g = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert re.fullmatch(r"[0-9a-f]{64}", g["sha256"]) and g["article"].endswith(".txt")
    a, b = g["span"]
    last = a
    for f in g["figures"]:
        assert a <= f["start"] < f["end"] <= b and f["end"] - f["start"] == len(f["text"])
        assert f["start"] >= last
        last = f["start"]
        assert f["kind"] in ("money", "quantity", "percent", "date", "period")
        assert ("value" in f) != ("range" in f)
        if f["kind"] == "money":
            assert re.fullmatch(r"[A-Z]{3}", f["currency"])
