"""Candidate facts in a new article, for a person to confirm (``sim seeds extract``).

:func:`extract` reads a plain-text article and returns every figure in it
(:mod:`sim.evidence.figures`) as a :class:`Candidate`: the figure with its character
offsets, the sentence it stands in (offsets too), the actors and weapon systems that
sentence names (:mod:`sim.evidence.gazetteer`), a date proposed for it, a readable
draft id, and — when a fact card already holds the same figure for the same actors —
the id of that fact (:mod:`sim.evidence.known`). :mod:`sim.evidence.draft` turns the
result into a draft fact card.

Offsets are Python string indices (Unicode code points) into the text as read from
the file (UTF-8, a byte-order mark dropped): ``text[start:end]`` is the figure.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from pathlib import Path

from ..scenario.yamlsafe import read_text
from .figures import find_figures
from .gazetteer import Gazetteer, Mention, build_gazetteer
from .known import KnownIndex
from .numbers import Figure

MAX_ARTICLE_BYTES = 5_000_000
"""Largest article accepted (bytes); news articles are a few tens of kilobytes."""

_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "st", "gen", "lt", "col", "maj", "capt", "sgt", "prof", "no",
    "nos", "p", "pp", "vol", "fig", "art", "sec", "ch", "para", "etc", "vs", "approx", "jan",
    "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "rs",
    "inc", "ltd", "co", "corp", "govt", "dept", "est", "ca", "cf", "al", "ed", "eds",
}
_END = re.compile(r"[.!?]+[\"”’)\]]*(?=\s+[\"“‘(\[]?[A-Z0-9])|…+[\"”’)\]]*(?=\s*[\"“‘(\[]?[A-Z])")


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans ``(start, end)`` of ``text``; a line break always ends one."""
    out: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        start = line.start()
        for m in _END.finditer(text, line.start(), line.end()):
            before = re.search(r"([\w.]+)[.!?]*$", text[start:m.start() + 1])
            word = before.group(1).rstrip(".").lower() if before else ""
            if m.group().startswith(".") and (word in _ABBREVIATIONS or re.fullmatch(r"[a-z]", word)
                                              or re.fullmatch(r"(?:[a-z]\.)+[a-z]", word)):
                continue  # "Rs. 300", "S. Jaishankar", "U.S. forces"
            out.append((start, m.end()))
            start = m.end()
        out.append((start, line.end()))
    spans = []
    for s, e in out:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            spans.append((s, e))
    return spans


@dataclass
class Candidate:
    """A figure found in the article, with its context, ready to become a draft fact."""

    id: str
    figure: Figure
    sentence: tuple[int, int]
    actors: tuple[str, ...] = ()
    weapons: tuple[str, ...] = ()
    date: str | None = None  # a date for the fact, proposed from its sentence (card format)
    known: str | None = None  # the id of a fact that already holds this figure


@dataclass
class Extraction:
    """What :func:`extract` found in one article."""

    text: str
    candidates: list[Candidate] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    sentences: list[tuple[int, int]] = field(default_factory=list)
    file: str | None = None
    _starts: list[int] | None = field(default=None, repr=False)

    def sentence_of(self, pos: int) -> tuple[int, int]:
        """The sentence that holds character ``pos``."""
        k = bisect_right(self.sentences, (pos, float("inf"))) - 1
        if k >= 0 and self.sentences[k][0] <= pos < self.sentences[k][1]:
            return self.sentences[k]
        return pos, pos

    def mentions_in(self, start: int, end: int) -> list[Mention]:
        """The mentions that start in ``[start, end)``."""
        starts = [m.start for m in self.mentions] if self._starts is None else self._starts
        self._starts = starts
        return self.mentions[bisect_left(starts, start):bisect_left(starts, end)]

    @property
    def new(self) -> list[Candidate]:
        """Candidates no fact card holds yet."""
        return [c for c in self.candidates if c.known is None]


def read_article(path: str | Path) -> str:
    """An article's text, read as UTF-8 (bad input is an :class:`InputError`)."""
    return read_text(Path(path), max_bytes=MAX_ARTICLE_BYTES)


def extract(text: str, *, facts: object | None = None, gazetteer: Gazetteer | None = None,
            source_file: str | None = None, prefix: str = "draft") -> Extraction:
    """Every candidate fact in ``text``.

    Args:
        text: the article.
        facts: a :class:`~sim.evidence.cards.FactBase` to mark candidates it already
            holds (None: mark nothing).
        gazetteer: actors and weapon systems to look for (default: built from the
            project's actors and ``facts``).
        source_file: the article's file name; a candidate whose sentence names no
            actor counts as known only against facts of a card citing this file (in
            a file of several articles, of the card whose title comes last before it).
        prefix: the first word of every draft id (lowercase letters and digits).
    """
    gaz = gazetteer if gazetteer is not None else build_gazetteer(facts)
    ex = Extraction(text, sentences=sentences(text), file=source_file)
    ex.mentions = sorted(gaz.actors_in(text) + gaz.weapons_in(text), key=lambda m: m.start)
    figures = find_figures(text)
    index = KnownIndex(facts) if facts is not None else None
    used: dict[str, int] = {}
    starts = [f.start for f in figures]
    titles = index.cards_by_title(text, source_file) if index is not None else []
    title_at = [p for p, _ in titles]
    for fig in figures:
        sent = ex.sentence_of(fig.start)
        in_sentence = figures[bisect_left(starts, sent[0]):bisect_left(starts, sent[1])]
        inside = ex.mentions_in(*sent)
        actors = tuple(dict.fromkeys(m.name for m in inside if m.kind == "actor"))
        if not actors:  # "the country's authorities allocated ...": the paragraph says who
            actors = tuple(dict.fromkeys(m.name for m in ex.mentions_in(*_paragraph(text, fig.start))
                                         if m.kind == "actor"))
        weapons = tuple(dict.fromkeys(m.name for m in inside if m.kind == "weapon"))
        cand = Candidate(_draft_id(prefix, fig, used), fig, sent, actors, weapons,
                         _date_for(fig, in_sentence, text, sent))
        if index is not None:
            k = bisect_right(title_at, fig.start) - 1
            cand.known = index.match(fig, actors, source_file, titles[k][1] if k >= 0 else None)
        ex.candidates.append(cand)
    return ex


def _paragraph(text: str, pos: int) -> tuple[int, int]:
    """The line (paragraph) that holds character ``pos``."""
    s = text.rfind("\n", 0, pos) + 1
    e = text.find("\n", pos)
    return s, len(text) if e < 0 else e


def _compact(v: float) -> str:
    """1422000000 -> 1-422bn, 10000 -> 10k, 1344 -> 1344, 3.6 -> 3-6."""
    if v >= 1e9:
        s = f"{v / 1e9:.4g}bn"
    elif v >= 1e6:
        s = f"{v / 1e6:.4g}m"
    elif v >= 1e4 and v % 1000 == 0:
        s = f"{v / 1e3:g}k"
    else:
        s = f"{v:.6g}"
    return s.replace(".", "-")


def _slug(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


def _draft_id(prefix: str, fig: Figure, used: dict[str, int]) -> str:
    """A readable id from the figure: ``draft-usd-400m``, ``draft-12-vehicles``,
    ``draft-date-2023-03-05``; a repeat gets ``-2``, ``-3``."""
    if fig.kind == "date":
        body = "date-" + str(fig.value).lstrip("-")
    elif fig.kind == "period" and isinstance(fig.value, str):
        body = "period-" + fig.value.replace("/", "-")
    else:
        num = _compact(fig.range[0]) + "-to-" + _compact(fig.range[1]) if fig.range else _compact(float(fig.value))
        unit = fig.unit or "figure"
        body = f"{unit}-{num}" if fig.kind == "money" else f"{num}-{unit}"
    base = _slug(f"{prefix}-{body}")
    used[base] = used.get(base, 0) + 1
    return base if used[base] == 1 else f"{base}-{used[base]}"


_YEAR = re.compile(r"(?<![\w.,/-])(1[89]\d\d|20\d\d)(?![\w/-]|[.,]\d)")


def _date_for(fig: Figure, figures: list[Figure], text: str, sent: tuple[int, int]) -> str | None:
    """A date for the fact in card format, from the figure or its sentence (``figures``
    are those of the sentence): the nearest date or span of years before the figure,
    else after it, else the nearest bare year."""
    if fig.kind in ("date", "period") and isinstance(fig.value, str):
        return fig.value if not fig.value.startswith("--") else None
    around = [f for f in figures if f.kind in ("date", "period") and isinstance(f.value, str)
              and not f.value.startswith("--") and sent[0] <= f.start < sent[1]]
    before = [f for f in around if f.end <= fig.start]
    if before:
        return str(before[-1].value)
    if around:
        return str(around[0].value)
    taken = [(f.start, f.end) for f in figures]
    years = [m for m in _YEAR.finditer(text, sent[0], sent[1])
             if not any(a <= m.start() < b for a, b in taken)]
    prior = [m for m in years if m.end() <= fig.start]
    if prior:
        return prior[-1].group(1)
    return years[0].group(1) if years else None
