"""Scoring `sim seeds extract` against hand annotations (gold files and test texts).

Matching rule: a figure found matches an annotated one when their character spans
overlap and they state the same value — the same number (within 1e-6 relative; both
ends of a range), the same currency for money, the same ISO string for dates and
spans of years. Each annotation matches at most one figure (in text order). Precision
= matched / found, recall = matched / annotated. Units are compared separately
(``unit_agreement``): for matched quantities and periods, the annotated unit's family
equals the found one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sim.evidence.lexicon import unit_family
from sim.evidence.numbers import Figure

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "data" / "extract" / "cases.yaml"
GOLD = ROOT / "tests" / "data" / "gold"


@dataclass
class Annotation:
    """One figure a reader marked: its span and what it states."""

    start: int
    end: int
    text: str
    kind: str
    value: float | str | None = None
    range: tuple[float, float] | None = None
    unit: str | None = None
    converted: dict | None = None
    per: str | None = None


def _ann(d: dict, start: int, end: int) -> Annotation:
    rng = tuple(float(x) for x in d["range"]) if "range" in d else None
    value = d.get("value")
    if isinstance(value, int | float):
        value = float(value)
    elif value is not None:
        value = str(value)
    return Annotation(start, end, d["text"], d["kind"], value, rng,
                      d.get("currency") or d.get("unit"), d.get("converted"), d.get("per"))


@dataclass
class Case:
    """A text and its annotations."""

    name: str
    text: str
    figures: list[Annotation]
    forbidden: list[tuple[int, int]] = field(default_factory=list)
    span: tuple[int, int] | None = None  # the part of the text that is annotated


def load_cases(path: Path = CASES) -> list[Case]:
    """The test texts; offsets are computed from each figure's text (first or ``nth``)."""
    out = []
    for d in yaml.safe_load(path.read_text(encoding="utf-8")):
        text = d["text"]
        figs, pos = [], {}
        for f in d.get("figures") or []:
            nth = f.get("nth", 1)
            i = -1
            for _ in range(nth):
                i = text.find(f["text"], i + 1)
            if i < 0:
                raise ValueError(f"case {d['name']}: '{f['text']}' is not in its text")
            pos[f["text"]] = i
            figs.append(_ann(f, i, i + len(f["text"])))
        bad = []
        for s in d.get("not") or []:
            i = text.find(s)
            if i < 0:
                raise ValueError(f"case {d['name']}: '{s}' (not) is not in its text")
            bad.append((i, i + len(s)))
        out.append(Case(d["name"], text, figs, bad))
    return out


def load_gold(path: Path, article: Path) -> Case:
    """A gold annotation and its article; the article must be the annotated one
    (same SHA-256) and every span must hold its text."""
    g = yaml.safe_load(path.read_text(encoding="utf-8"))
    data = article.read_bytes()
    if hashlib.sha256(data).hexdigest() != g["sha256"]:
        raise ValueError(f"{article} is not the article {path.name} annotates (SHA-256 differs)")
    text = data.decode("utf-8").lstrip("\ufeff")
    figs = []
    for f in g["figures"]:
        if text[f["start"]:f["end"]] != f["text"]:
            raise ValueError(f"{path.name}: [{f['start']}, {f['end']}] is not '{f['text']}'")
        figs.append(_ann(f, f["start"], f["end"]))
    return Case(f"{path.stem}", text, figs, span=tuple(g["span"]))


def _num_eq(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(abs(a), abs(b), 1.0)


def same_value(found: Figure, ann: Annotation) -> bool:
    """The value part of the matching rule (see the module docstring)."""
    if isinstance(ann.value, str):
        return isinstance(found.value, str) and found.value == ann.value
    if ann.range is not None:
        ok = found.range is not None and all(_num_eq(x, y) for x, y in zip(found.range, ann.range, strict=True))
    else:
        ok = isinstance(found.value, float | int) and not isinstance(found.value, bool) and _num_eq(float(found.value), ann.value)
    if ok and ann.kind == "money":
        ok = found.kind == "money" and found.unit == ann.unit
    return ok


def overlaps(found: Figure, ann: Annotation) -> bool:
    return found.start < ann.end and ann.start < found.end


@dataclass
class Score:
    """Matched pairs, figures found but not annotated, annotations not found."""

    matched: list[tuple[Figure, Annotation]] = field(default_factory=list)
    false_pos: list[Figure] = field(default_factory=list)
    missed: list[Annotation] = field(default_factory=list)
    forbidden_hits: list[Figure] = field(default_factory=list)

    @property
    def precision(self) -> float:
        n = len(self.matched) + len(self.false_pos)
        return len(self.matched) / n if n else 1.0

    @property
    def recall(self) -> float:
        n = len(self.matched) + len(self.missed)
        return len(self.matched) / n if n else 1.0

    def unit_agreement(self) -> tuple[int, int]:
        """(agreeing, compared): matched quantities/periods whose unit families agree."""
        pairs = [(f, a) for f, a in self.matched if a.kind in ("quantity", "period") and a.unit]
        ok = sum(unit_family(f.unit) == unit_family(a.unit) for f, a in pairs)
        return ok, len(pairs)

    def conversions(self) -> tuple[int, int]:
        """(found, annotated): bracketed conversions among matched money figures."""
        pairs = [(f, a) for f, a in self.matched if a.converted]
        ok = 0
        for f, a in pairs:
            conv = a.converted
            if f.converted is None or f.converted[1] != conv["currency"]:
                continue
            want = tuple(float(x) for x in conv["range"]) if "range" in conv else float(conv["value"])
            got = f.converted[0]
            if isinstance(want, tuple) and isinstance(got, tuple):
                ok += all(_num_eq(x, y) for x, y in zip(got, want, strict=True))
            elif not isinstance(want, tuple) and not isinstance(got, tuple):
                ok += _num_eq(got, want)
        return ok, len(pairs)

    def __iadd__(self, other: Score) -> Score:
        self.matched += other.matched
        self.false_pos += other.false_pos
        self.missed += other.missed
        self.forbidden_hits += other.forbidden_hits
        return self


def score(found: list[Figure], case: Case) -> Score:
    """Match figures found in ``case.text`` against its annotations."""
    if case.span is not None:
        a, b = case.span
        found = [f for f in found if a <= f.start < b]
    s = Score()
    used: set[int] = set()
    for ann in case.figures:
        hit = next((k for k, f in enumerate(found) if k not in used and overlaps(f, ann) and same_value(f, ann)), None)
        if hit is None:
            s.missed.append(ann)
        else:
            used.add(hit)
            s.matched.append((found[hit], ann))
    s.false_pos = [f for k, f in enumerate(found) if k not in used]
    s.forbidden_hits = [f for f in found if any(f.start < e and s0 < f.end for s0, e in case.forbidden)]
    return s
