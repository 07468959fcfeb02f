"""Is a figure found in an article already in a fact card?

Rule (docs/FACTCARDS.md, "Drafting a card from a new article"): a candidate is
*known* when some fact states the **same figure** and concerns the **same actors**.

- Same figure: the same number (within 0.5%, both ends of a range) in the same unit
  family (:func:`~sim.evidence.lexicon.unit_family`: a currency code, ``troops``,
  ``dead``, ``km``...) and at the same rate ("per hour", "a year", or none). A fact's figures are its ``value``/``range`` with its
  ``unit``, and every figure its ``original`` writes (so "125 billion soms ($1.422
  billion)" in a card matches both amounts). A conversion the article gives counts
  as the figure too. A date matches a fact's ``date`` (a date without a year matches
  the same month and day).
- Same actors: the actors named in the candidate's sentence (or, if it names none,
  in its paragraph) and the fact's actors share at least one; where neither names
  one, only facts of a card that cites the same source match. The same source is the
  card citing the same file — in a file of several articles, the card whose title
  comes last before the figure.

When several facts fit, the one that matches more of the candidate's figures (amount
and conversion), comes from the same source, and shares more actors wins.
"""

from __future__ import annotations

import re

from .figures import find_figures
from .lexicon import unit_family
from .numbers import Figure

_QUOTES = str.maketrans("‘’“”", "''\"\"")
REL_TOL = 0.005
"""Two numbers are the same figure within this relative difference."""

Number = float | tuple[float, float]


def _same(a: Number, b: Number) -> bool:
    if isinstance(a, tuple) != isinstance(b, tuple):
        return False
    pairs = zip(a, b, strict=True) if isinstance(a, tuple) else [(a, b)]
    return all(abs(x - y) <= REL_TOL * max(abs(x), abs(y), 1e-12) for x, y in pairs)


def _family(unit: str | None) -> str | None:
    return unit_family(unit) if unit else None


_RATE_WORDS = {"annum": "year", "year": "year", "month": "month", "day": "day", "week": "week",
               "hour": "hour", "person": "person", "head": "person", "capita": "person"}


def _rate(unit: str | None) -> str | None:
    """The rate a card's unit states: ``"USD per year"`` -> ``year``."""
    m = re.search(r"\bper\s+(.+)$", re.sub(r"\(.*?\)", "", unit or "").strip())
    if not m:
        return None
    word = m.group(1).split()[-1].rstrip("s")
    return _RATE_WORDS.get(word, m.group(1))


class KnownIndex:
    """The figures and dates of every fact in a fact base, for :meth:`match`."""

    def __init__(self, facts: object):
        self.base = facts
        self.numbers: list[tuple[str, Number, str | None, str | None]] = []
        self.dates: list[tuple[str, str]] = []
        for fid, fact in getattr(facts, "facts", {}).items():
            fam, rate = _family(fact.unit), _rate(fact.unit)
            if fact.value is not None:
                self.numbers.append((fid, float(fact.value), fam, rate))
            if fact.range is not None:
                self.numbers.append((fid, (float(fact.range[0]), float(fact.range[1])), fam, rate))
            for fig in find_figures(fact.original or ""):
                for num, unit in fig.numbers():
                    self.numbers.append((fid, num, _family(unit), _RATE_WORDS.get(fig.per or "", fig.per)))
            if fact.date != "not stated":
                self.dates.append((fid, fact.date))

    def _actors_fit(self, fid: str, actors: tuple[str, ...], source_file: str | None,
                    card_id: str | None) -> tuple[bool, int, bool]:
        """(fits, shared actors, same source) for one fact."""
        fact = self.base.facts[fid]
        card = self.base.cards[self.base.card_of[fid]]
        if card_id is not None:
            same = card.card == card_id
        else:
            same = source_file is not None and card.source.file == source_file
        shared = len(set(actors) & set(fact.actors))
        return (shared > 0 if actors else same), shared, same

    def cards_by_title(self, text: str, source_file: str | None) -> list[tuple[int, str]]:
        """Where the cards citing ``source_file`` start in ``text``: (offset of the card's
        title, card id), in text order. A file of several articles has one card per
        article; a figure belongs to the card whose title comes last before it."""
        if source_file is None:
            return []
        norm = text.translate(_QUOTES)
        out = []
        for cid, card in self.base.cards.items():
            if card.source.file == source_file:
                pos = norm.find(card.source.title.translate(_QUOTES))
                if pos >= 0:
                    out.append((pos, cid))
        return sorted(out)

    def match(self, fig: Figure, actors: tuple[str, ...], source_file: str | None = None,
              card_id: str | None = None) -> str | None:
        """The id of a fact holding ``fig`` for these actors, or None.

        ``actors`` are those of the figure's sentence (or paragraph); ``source_file``
        the article's file name; ``card_id`` the card of the article the figure is in,
        when the file holds several (:meth:`cards_by_title`): it stands for "the same
        source" in place of the file.
        """
        hits: dict[str, int] = {}
        if fig.kind in ("date", "period") and isinstance(fig.value, str):
            v = fig.value
            for fid, d in self.dates:
                if d == v or (v.startswith("--") and len(v) == 7 and len(d) == 10 and d.endswith(v[1:])):
                    hits[fid] = 1
        else:
            per = _RATE_WORDS.get(fig.per or "", fig.per)
            for k, (num, unit) in enumerate(fig.numbers()):
                fam = _family(unit)
                for fid, n, f, rate in self.numbers:
                    if f == fam and rate == per and _same(num, n):
                        hits.setdefault(fid, 0)
                        hits[fid] |= 1 << k
        best, best_key = None, None
        for fid, mask in hits.items():
            fits, shared, same_file = self._actors_fit(fid, actors, source_file, card_id)
            if not fits:
                continue
            key = (bin(mask).count("1"), same_file, shared)
            if best_key is None or key > best_key:
                best, best_key = fid, key
        return best
