"""A draft fact card from an :class:`~sim.evidence.extract.Extraction`.

The draft has the format of the cards in ``seeds/`` (docs/FACTCARDS.md). What a person
must supply or check is marked: values that start with ``CONFIRM`` (the statement in
their own words, the confidence, the citation) and a ``confirm:`` block under each
fact holding the evidence found (the text, its offsets, its sentence). Once every
``CONFIRM`` value is replaced and every ``confirm:`` block deleted, the file is a
fact card; ``sim seeds check`` (:mod:`sim.evidence.draftcheck`) says what is left.
"""

from __future__ import annotations

import json
import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from ..scenario.errors import option_error
from .cards import FACT_ID, load_cards
from .extract import Candidate, Extraction, extract, read_article
from .numbers import Figure

CONFIRM = "CONFIRM"
"""Values that start with this word are still to be written or checked by a person."""

_QUALIFIER_NOTE = {"min": " (minimum)", "max": " (maximum)"}
_QUALIFIER_KIND = {"more than": "min", "over": "min", "above": "min", "exceeding": "min",
                   "in excess of": "min", "at least": "min", "upwards of": "min",
                   "no fewer than": "min", "no less than": "min", "not less than": "min",
                   "as many as": "max", "up to": "max", "less than": "max", "fewer than": "max",
                   "under": "max", "at most": "max", "no more than": "max",
                   "not more than": "max", "below": "max"}
_SCALE_WORDS = {"crore": "1 crore = 10 million", "crores": "1 crore = 10 million",
                "lakh": "1 lakh = 100,000", "lakhs": "1 lakh = 100,000"}

HEADER = """\
# Draft fact card proposed by `sim seeds extract` from {article} (sim {version}).
# Each fact below is a figure found in the article, for a person to confirm:
#   1. check value, unit, date and actors against the article (the fact's `confirm:` block
#      shows the text found, its character offsets and its sentence);
#   2. write the statement in your own words (never paste the article's sentence);
#   3. replace every value that starts with CONFIRM, then delete the fact's `confirm:` block;
#   4. delete the facts you do not keep, and the card's `confirm:` block at the end.
# `sim seeds check {out}` lists what is still to confirm. When it reports a valid fact card,
# move the file to seeds/<card>.yaml (the card id must equal the file name).
# Offsets are character positions (Unicode code points) in the article read as UTF-8.
"""


def _version() -> str:
    """The installed sim version (the evidence layer does not import the package root)."""
    try:
        return version("sim")
    except PackageNotFoundError:
        return "unknown"


def q(s: str) -> str:
    """A YAML double-quoted scalar for ``s`` (JSON escapes, non-printables escaped)."""
    out = json.dumps(s, ensure_ascii=False)
    return "".join(c if c.isprintable() or c in "\n" else f"\\u{ord(c):04x}" for c in out)


def num(v: float) -> str:
    """A number as a card writes it: ``1422000000``, ``3.6``."""
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e18 else repr(float(v))


def _unit(fig: Figure) -> tuple[float | tuple[float, float] | None, str | None, str | None]:
    """(value or range, unit, conversion note) for a fact from a figure."""
    if fig.kind == "money":
        val = fig.range if fig.range else fig.value
        unit, conv = fig.unit, None
        if fig.converted is not None:
            val, unit = fig.converted
            conv = f"{unit} figure as given by the article"
            a = fig.range[0] if fig.range else fig.value
            b = val[0] if isinstance(val, tuple) else val
            if a and b:
                conv += f" (implies about {a / b:.4g} {fig.unit} per {unit})"
        scale = next((w for w in _SCALE_WORDS if re.search(rf"\b{w}\b", fig.text, re.I)), None)
        if scale and fig.converted is None:
            conv = f"written in {scale}s; {_SCALE_WORDS[scale]} {fig.unit}"
        return val, unit, conv
    if fig.kind == "date":
        return None, None, None
    if fig.kind == "period" and isinstance(fig.value, str):
        return None, None, None
    val = fig.range if fig.range else fig.value
    unit = fig.noun or fig.unit
    if fig.unit in ("dead", "wounded") and fig.noun and fig.noun not in ("dead", "wounded"):
        unit = f"{fig.unit} ({fig.noun})"
    return val, unit, None


def fact_lines(c: Candidate, ex: Extraction, with_known: bool = False) -> list[str]:
    """The YAML lines of one draft fact (a list item under ``facts:``)."""
    fig = c.figure
    s0, s1 = c.sentence
    lines = [f"  - id: {c.id}",
             "    confirm:  # the evidence found; delete this block once the fact is checked",
             f"      found: {q(fig.text)}",
             f"      at: [{fig.start}, {fig.end}]",
             f"      kind: {fig.kind}",
             f"      sentence_at: [{s0}, {s1}]",
             f"      sentence: {q(ex.text[s0:s1])}"]
    if c.weapons:
        lines.append(f"      weapons: [{', '.join(q(w) for w in c.weapons)}]")
    if with_known and c.known:
        lines.append(f"      known: {c.known}  # a fact card already holds this figure")
    what = {"date": "what happened on this date", "period": "what this period is"}.get(fig.kind, "what the figure is")
    lines.append(f"    statement: {q(f'{CONFIRM}: one sentence in your own words: {what}')}")
    val, unit, conv = _unit(fig)
    if val is not None:
        if isinstance(val, tuple):
            lines.append(f"    range: [{num(val[0])}, {num(val[1])}]")
        else:
            lines.append(f"    value: {num(val)}")
        note = _QUALIFIER_NOTE.get(_QUALIFIER_KIND.get(fig.qualifier or "", ""), "")
        per = f" per {fig.per}" if fig.per and fig.per != "each" else ""
        lines.append(f"    unit: {q(f'{unit}{per}{note}')}")
        lines.append(f"    original: {q(fig.text)}")
        if conv:
            lines.append(f"    conversion: {q(conv)}")
    date = c.date or f"{CONFIRM}: YYYY, YYYY-MM, YYYY-MM-DD, a range 2021-01/2023-06, or not stated"
    if fig.kind == "date" and isinstance(fig.value, str) and fig.value.startswith("--"):
        date = f"{CONFIRM}: the article gives no year: YYYY{fig.value[1:]}"
    lines.append(f"    date: {q(date)}")
    lines.append(f"    actors: [{', '.join(c.actors)}]")
    lines.append(f"    confidence: {q(f'{CONFIRM}: reported, claimed (then add claimed_by: who) or estimate')}")
    return lines


def first_line(text: str) -> str:
    """The first line with words: usually the article's title."""
    for line in text.splitlines():
        if re.search(r"\w{2,}", line):
            return line.strip()[:200]
    return ""


def draft_yaml(ex: Extraction, *, article: str | Path, card_id: str, out_name: str = "draft.yaml",
               include_known: bool = False) -> str:
    """The draft card's YAML text.

    Args:
        ex: what :func:`~sim.evidence.extract.extract` found.
        article: the article's path (its file name goes to ``source.file``).
        card_id: the card id (the file name the card will have, without ``.yaml``).
        out_name: the draft's file name, for the instructions in its header.
        include_known: also list candidates a fact card already holds as draft facts
            (marked ``known:``); by default they are only listed in the card's
            ``confirm:`` block.
    """
    name = Path(article).name
    title = first_line(ex.text)
    lines = HEADER.format(article=name, version=_version(), out=out_name).splitlines()
    lines += [
        f"card: {card_id}",
        "source:",
        f"  file: {q(name)}",
        "  # part: 1    # if the file holds several articles: which one, and `parts:` how many",
        f"  outlet: {q(f'{CONFIRM}: the outlet as the file shows it')}",
        f"  title: {q(f'{CONFIRM}: the title as the file shows it' + (f' (its first line: {title})' if title else ''))}",
        f"  author: {q(f'{CONFIRM}: the author as the file states it, else not stated')}",
        f"  published: {q(f'{CONFIRM}: YYYY-MM-DD, YYYY-MM or YYYY as stated, else not stated')}",
        f"summary: {q(f'{CONFIRM}: two lines in your own words: what the article is about and why it matters here')}",
        "facts:",
    ]
    shown = [c for c in ex.candidates if include_known or c.known is None]
    for c in shown:
        lines += fact_lines(c, ex, with_known=include_known)
    if not shown:
        lines.append("  []  # no new figure found; add facts by hand (see confirm.known for those already in cards)")
    lines += ["confirm:  # working notes; delete this block when the card is done",
              f"  article: {q(str(article))}",
              f"  candidates: {len(ex.candidates)}  # figures found; {len(ex.new)} new, "
              f"{len(ex.candidates) - len(ex.new)} already in fact cards"]
    known = [c for c in ex.candidates if c.known]
    if known:
        lines.append("  known:  # same figure, same actors as a fact in seeds/ (`--all` lists them as facts)")
        for c in known:
            f = c.figure
            lines.append(f"    - {{found: {q(f.text)}, at: [{f.start}, {f.end}], known: {c.known}}}")
    for kind in ("actor", "weapon"):
        ms = [m for m in ex.mentions if m.kind == kind]
        if ms:
            lines.append(f"  {kind}s:  # every mention, with its sentence")
            for m in ms:
                s0, s1 = ex.sentence_of(m.start)
                lines.append(f"    - {{{kind}: {q(m.name)}, text: {q(m.text)}, at: [{m.start}, {m.end}], "
                             f"sentence_at: [{s0}, {s1}]}}")
    return "\n".join(lines) + "\n"


def extract_draft(article: str | Path, *, seeds: str | Path | None = None, prefix: str = "draft",
                  card_id: str | None = None, out_name: str | None = None,
                  include_known: bool = False) -> tuple[str, Extraction]:
    """Read an article, find its candidate facts, and write the draft card's YAML.

    Args:
        article: a plain-text article (UTF-8).
        seeds: the fact cards to mark known figures against (default: ``seeds/``).
        prefix: first word of the draft fact ids (lowercase letters, digits, ``-``).
        card_id: the card id (default ``draft-<article file name>``).
        out_name: the file the draft will be saved as, for its instructions.
        include_known: list known candidates as draft facts too.

    Returns:
        The YAML text and the :class:`~sim.evidence.extract.Extraction`.
    """
    if not FACT_ID.match(prefix):
        raise option_error("--prefix", f"'{prefix}' must be lowercase letters and digits joined by '-'")
    path = Path(article)
    text = read_article(path)
    base = load_cards(seeds)
    ex = extract(text, facts=base, source_file=path.name, prefix=prefix)
    card = card_id or slug_id("draft-" + path.stem)
    return draft_yaml(ex, article=path, card_id=card, out_name=out_name or "DRAFT.yaml",
                      include_known=include_known), ex


def slug_id(name: str) -> str:
    """A card id from a file name: ``My Draft.yaml`` stem -> ``my-draft``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "draft"
