"""Fact cards: the evidence base that scenario parameters cite.

One YAML file per source article lives in ``seeds/``. A card records the article's
citation (as the source file states it), a two-line summary written here, and the
facts it gives, each with a stable id that scenarios cite as ``source: {fact: ID}``.
The format is documented in docs/FACTCARDS.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from ..paths import seeds_dir
from ..scenario.errors import InputError, Mark, Problem
from ..scenario.validation import validate_model
from ..scenario.yamlsafe import PDict, load_yaml_file, mark_of

FACT_ID = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
DATE = re.compile(r"^(\d{4})(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")


def _fact_id(v: str) -> str:
    if not FACT_ID.match(v):
        raise ValueError(
            f"fact id '{v}' must be lowercase letters and digits joined by '-' or '_'"
        )
    return v


def _date(v: str) -> str:
    """A date a card may give: YYYY, YYYY-MM, YYYY-MM-DD, a range A/B, or 'not stated'."""
    if v == "not stated":
        return v
    parts = v.split("/")
    if len(parts) > 2 or not all(DATE.match(p) for p in parts):
        raise ValueError(
            f"'{v}' is not a date; write YYYY, YYYY-MM, YYYY-MM-DD, a range "
            "'2021-01/2023-06', or 'not stated'"
        )
    return v


FactId = Annotated[str, AfterValidator(_fact_id)]
Date = Annotated[str, AfterValidator(_date)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Excerpt(_Strict):
    """An original article quoted inside a compiled source (e.g. an OE Watch item)."""

    outlet: str
    title: str
    author: str = "not stated"
    published: Date


class Citation(_Strict):
    """Where a card's facts come from, exactly as the source file states it."""

    file: str = Field(description="Source file name in shared/seeds/.")
    part: int | None = Field(None, ge=1, description="Article number inside a multi-article file.")
    parts: int | None = Field(None, ge=1, description="How many articles that file holds.")
    outlet: str
    title: str
    author: str = "not stated"
    published: Date = Field(description="Publication date as the file states it, or 'not stated'.")
    excerpts: list[Excerpt] = []
    note: str | None = None


class Fact(_Strict):
    """One fact: a sentence, and the figure where there is one."""

    id: FactId
    statement: str = Field(min_length=10)
    value: float | None = None
    range: tuple[float, float] | None = None
    unit: str | None = None
    original: str | None = Field(None, description="The figure as the article gives it.")
    conversion: str | None = Field(None, description="How value was converted from original.")
    date: Date = Field(description="The date the fact refers to.")
    actors: list[str] = []
    confidence: Literal["reported", "claimed", "estimate"]
    claimed_by: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Fact:
        if (self.value is not None or self.range is not None) and not self.unit:
            raise ValueError("a fact with a value or range needs a unit")
        if self.range is not None and self.range[0] > self.range[1]:
            raise ValueError("range must be [low, high] with low <= high")
        if self.confidence == "claimed" and not self.claimed_by:
            raise ValueError("a claimed fact must say who claims it (claimed_by)")
        return self

    def figures(self) -> dict[str, float]:
        """The numbers a ``derive`` expression may use: ``ID``, ``ID.low``, ``ID.high``."""
        out: dict[str, float] = {}
        if self.value is not None:
            out[""] = self.value
        if self.range is not None:
            out["low"], out["high"] = self.range
        return out


class FactCard(_Strict):
    """One source article: citation, summary and facts."""

    card: FactId
    source: Citation
    summary: str = Field(min_length=20)
    facts: list[Fact] = Field(min_length=1)


@dataclass
class FactBase:
    """All fact cards of a folder, indexed by fact id."""

    cards: dict[str, FactCard] = field(default_factory=dict)
    facts: dict[str, Fact] = field(default_factory=dict)
    card_of: dict[str, str] = field(default_factory=dict)
    folder: Path | None = None

    def get(self, fact_id: str) -> Fact | None:
        return self.facts.get(fact_id)

    def citation(self, fact_id: str) -> str:
        """A one-line citation for the card a fact comes from."""
        card = self.cards[self.card_of[fact_id]]
        s = card.source
        who = f"{s.author}, " if s.author != "not stated" else ""
        date = s.published if s.published != "not stated" else "n.d."
        ex = ""
        if s.excerpts:
            ex = " (excerpting " + "; ".join(
                f"{e.outlet}, {e.published if e.published != 'not stated' else 'n.d.'}" for e in s.excerpts
            ) + ")"
        part = f", item {s.part} of {s.parts}" if s.part and s.parts else ""
        return f"{who}\u201c{s.title}\u201d, {s.outlet}, {date}{ex} [{s.file}{part}]"


_CACHE: dict[tuple, FactBase] = {}


def load_cards(folder: str | Path | None = None) -> FactBase:
    """Load and check every ``*.yaml`` fact card in ``folder`` (default: shipped seeds).

    A ``folder`` given that is not a folder is an :class:`InputError` (argument ``seeds``).
    Cached per folder while no card file changes (name, size, modification time).
    """
    if folder is not None and not Path(folder).is_dir():
        from ..scenario.errors import option_error

        what = "is a file, not a folder" if Path(folder).exists() else "no such folder"
        raise option_error("seeds", f"{folder}: {what}; give the folder that holds the fact cards "
                                    "(*.yaml), or leave it out for the shipped seeds/")
    folder = Path(folder) if folder is not None else seeds_dir()
    stamp = (str(folder.resolve()),) + tuple(
        (p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.glob("*.yaml"))
    ) if folder.is_dir() else (str(folder),)
    hit = _CACHE.get(stamp)
    if hit is not None:
        return hit
    base = _load_cards(folder)
    _CACHE.clear()
    _CACHE[stamp] = base
    return base


def check_card(raw: object, path: Path) -> tuple[FactCard | None, list[Problem]]:
    """Check one fact card's loaded YAML (positioned, see ``load_yaml_file``).

    Returns the card (None if it does not validate) and the problems found: the
    schema's, a card id that differs from the file name, and a fact id used twice in
    the card. :func:`load_cards` and ``sim seeds check`` both check a card with this.
    """
    try:
        card = validate_model(FactCard, raw, file=str(path))
    except InputError as exc:
        return None, list(exc.problems)
    problems: list[Problem] = []
    if card.card != path.stem:
        problems.append(
            Problem(
                mark_of(raw, "card") or Mark(str(path)),
                "card",
                f"card id '{card.card}' must match the file name '{path.stem}'",
            )
        )
    first: dict[str, int] = {}
    for i, fact in enumerate(card.facts):
        if fact.id in first:
            problems.append(Problem(_fact_mark(raw, i, path), f"facts[{i}].id",
                                    f"fact id '{fact.id}' is used twice in this card (also facts[{first[fact.id]}]); "
                                    "fact ids must be unique"))
        first.setdefault(fact.id, i)
    return card, problems


def clashes(card: FactCard, raw: object, path: Path, base: FactBase) -> list[Problem]:
    """Fact ids of ``card`` that another card of ``base`` already uses (a card may
    keep its own ids: the same card id is not a clash)."""
    problems = []
    for i, fact in enumerate(card.facts):
        other = base.card_of.get(fact.id)
        if other is not None and other != card.card:
            problems.append(Problem(_fact_mark(raw, i, path), f"facts[{i}].id",
                                    f"fact id '{fact.id}' is already used in card '{other}'; fact ids must be unique"))
    return problems


def _fact_mark(raw: object, i: int, path: Path) -> Mark:
    facts_raw = raw.get("facts") if isinstance(raw, PDict) else None
    where = mark_of(facts_raw[i], "id") if isinstance(facts_raw, list) and i < len(facts_raw) else None
    return where or Mark(str(path))


def _load_cards(folder: Path) -> FactBase:
    base = FactBase(folder=folder)
    problems: list[Problem] = []
    if not folder.is_dir():
        return base
    for path in sorted(folder.glob("*.yaml")):
        try:
            raw = load_yaml_file(path)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        card, found = check_card(raw, path)
        problems.extend(found)
        if card is None:
            continue
        problems.extend(clashes(card, raw, path, base))
        base.cards[card.card] = card
        for fact in card.facts:
            if fact.id not in base.facts:  # a clash, reported above: the first card keeps it
                base.facts[fact.id] = fact
                base.card_of[fact.id] = card.card
    if problems:
        raise InputError(problems)
    return base
