"""Find the figures in an article: money, quantities, percentages, dates and periods.

Rule-based: a number (digits or words, with its scale) becomes a figure only with
something that says what it counts — a currency before or after it, a unit or a
counted noun after it, a casualty word around it, ``%`` or ``percent``. Dates come
from :mod:`sim.evidence.dates`; what must never be read as a number (clock times,
designators such as ``S-300``, phone numbers, footnote markers) from
:mod:`sim.evidence.masks`; labels ("Article 4", "p. 12") and bare years are refused
here. Each figure keeps its character offsets in the source.
"""

from __future__ import annotations

from .dates import find_dates
from .lexicon import (
    ABBREVIATED,
    CASUALTY_AFTER,
    CASUALTY_BEFORE,
    COMPARATIVES,
    CURRENCY_ADJECTIVE_WORDS,
    CURRENCY_ADJECTIVES,
    CURRENCY_CODES,
    CURRENCY_SYMBOLS,
    CURRENCY_WORDS,
    FUNCTION_WORDS,
    IRREGULAR_PLURALS,
    LABELS,
    MAX_QUALIFIER_WORDS,
    MAX_UNIT_WORDS,
    MODIFIERS_OK,
    NOT_COUNTED,
    PERIOD_UNITS,
    QUALIFIERS,
    RATES,
    SINGULAR_OK,
    UNIT_WORDS,
)
from .masks import coverage, designators, masks
from .numbers import Figure, Number, Token, adjacent, read_number, tokenize

_DASHES = {"-", "–", "—", "‑"}
_DETERMINERS = {"the", "these", "those", "its", "their", "his", "her", "our", "all", "both",
                "each", "every", "my", "your"}
_MEASURES = {"km", "km2", "miles", "m", "mm", "kg", "tonnes", "lbs", "hectares"}


def find_figures(text: str) -> list[Figure]:
    """Every figure in ``text``, in text order, without overlaps."""
    dates = find_dates(text)
    date_spans = [(f.start, f.end) for f in dates]
    blocked_spans = masks(text) + date_spans
    tokens = tokenize(text, merge=designators(text, blocked_spans))
    cov = coverage(len(text), blocked_spans)
    blocked = [any(cov[t.start:t.end]) for t in tokens]
    out: list[Figure] = []
    i = 0
    while i < len(tokens):
        if blocked[i] or tokens[i].kind == "code":
            i += 1
            continue
        got = _Reader(text, tokens, blocked).figure(i)
        if got is None:
            i += 1
            continue
        fig, j = got
        out.append(fig)
        i = max(j, i + 1)
    out += dates
    out.sort(key=lambda f: (f.start, f.end))
    keep: list[Figure] = []
    for f in out:
        if keep and f.start < keep[-1].end:
            continue
        keep.append(f)
    return keep


def _plural(w: str) -> bool:
    """Does ``w`` look like a plural noun ("troops", "servicemen", "people")?"""
    return w in IRREGULAR_PLURALS or (len(w) > 4 and w.endswith("men")) or (
        len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is", "ous", "'s", "’s")))


class _Reader:
    """Reads one figure at a token position (see :meth:`figure`)."""

    def __init__(self, text: str, tokens: list[Token], blocked: list[bool]):
        self.text, self.t, self.blocked = text, tokens, blocked

    def w(self, k: int) -> str:
        t = self.t
        return t[k].low if 0 <= k < len(t) and t[k].kind in ("word", "code") else ""

    def sym(self, k: int) -> str:
        t = self.t
        return t[k].text if 0 <= k < len(t) and t[k].kind == "sym" else ""

    # --- the parts of a figure ------------------------------------------------------

    def prefix_currency(self, i: int) -> tuple[str, int] | None:
        """``$``, ``US$``, ``€``, ``USD``, ``Rs``/``Rs.`` at ``i``: (code, index after)."""
        t = self.t
        if i >= len(t):
            return None
        if t[i].text in CURRENCY_SYMBOLS and t[i].kind == "sym":
            return CURRENCY_SYMBOLS[t[i].text], i + 1
        if t[i].kind == "word" and t[i].text in CURRENCY_CODES:
            k = i + 1
            if t[i].text in ("US", "U") and self.sym(k) == "$" and adjacent(t[i], t[k]):
                return "USD", k + 1
            if t[i].text == "US":
                return None
            if self.sym(k) == "." and t[i].text == "Rs":
                k += 1
            return CURRENCY_CODES[t[i].text], k
        return None

    def number_or_range(self, i: int, money: bool) -> tuple[Number, float | None, int] | None:
        """A number at ``i``, and the high end if a range follows ("3-5", "45,000 to 180,000").

        Returns (the first number, its value scaled like the high end, the high end or
        None, index after): "3-5 billion" is 3e9 to 5e9.
        """
        n = read_number(self.t, i, money=money)
        if n is None:
            return None
        j = n.j
        between = self.w(i - 1) == "between" or (self.w(i - 1) in QUALIFIERS and self.w(i - 2) == "between")
        link = self.sym(j) in _DASHES or self.w(j) == "to" or (between and self.w(j) == "and")
        if link and j + 1 < len(self.t):
            k = j + 1
            cur = self.prefix_currency(k) if money else None
            if cur:
                k = cur[1]
            m = read_number(self.t, k, money=money)
            if m is not None and m.spelled == n.spelled and not self.blocked[k]:
                lo = n.value
                if m.scaled and not n.scaled:
                    base = read_number(self.t[: m.j - 1], m.i)
                    if base is not None and base.value:
                        lo = n.value * m.value / base.value
                if lo < m.value:
                    return Number(lo, n.i, n.j, n.spelled, n.scaled or m.scaled), m.value, m.j
        return n, None, j

    def suffix_currency(self, k: int) -> tuple[str, int] | None:
        """``soms``, ``US dollars``, ``[Armenian] drams``, ``USD`` after an amount."""
        t = self.t
        if k < len(t) and t[k].kind == "word" and t[k].text in CURRENCY_CODES and t[k].text != "Rs":
            return CURRENCY_CODES[t[k].text], k + 1
        adj = ""
        for _ in range(2):
            if self.sym(k) in ("[", "(") and self.w(k + 1) in CURRENCY_ADJECTIVE_WORDS and self.sym(k + 2) in ("]", ")"):
                adj, k = self.w(k + 1), k + 3
            elif self.w(k) in CURRENCY_ADJECTIVE_WORDS and self.w(k + 1):
                adj, k = self.w(k), k + 1
            elif self.w(k) == "u" and self.sym(k + 1) == ".":  # "U.S. dollars"
                k += 4 if self.sym(k + 3) == "." else 2
        w = self.w(k)
        if (adj, w) in CURRENCY_ADJECTIVES:
            return CURRENCY_ADJECTIVES[(adj, w)], k + 1
        if w in CURRENCY_WORDS and t[k].kind == "word":
            return CURRENCY_WORDS[w], k + 1
        return None

    def qualifier(self, i: int) -> tuple[str | None, int]:
        """Bounding words just before token ``i``: ("more than", index of the first)."""
        for n in range(MAX_QUALIFIER_WORDS, 0, -1):
            k = i - n
            if k < 0 or not all(self.t[x].kind in ("word", "sym") for x in range(k, i)):
                continue
            phrase = " ".join(self.t[x].low for x in range(k, i))
            if phrase in QUALIFIERS and not any(self.blocked[x] for x in range(k, i)):
                return phrase, k
        return None, i

    def rate(self, k: int) -> tuple[str | None, int]:
        for words, per in RATES.items():
            if all(self.w(k + x) == words[x] for x in range(len(words))):
                return per, k + len(words)
        return None, k

    def conversion(self, k: int) -> tuple[tuple, int] | None:
        """``($1.422 billion)``, ``[about €360]`` after an amount: ((value, code), index after)."""
        if self.sym(k) not in ("(", "["):
            return None
        close = ")" if self.sym(k) == "(" else "]"
        _, q = k + 1, k + 1
        for n in range(MAX_QUALIFIER_WORDS, 0, -1):
            phrase = " ".join(self.t[x].low for x in range(k + 1, min(k + 1 + n, len(self.t))))
            if phrase in QUALIFIERS:
                q = k + 1 + n
                break
        got = self.money_core(q)
        if got is None:
            return None
        value, code, j = got
        if self.sym(j) != close:
            return None
        return (value, code), j + 1

    def money_core(self, i: int) -> tuple[float | tuple[float, float], str, int] | None:
        """An amount with its currency at ``i``: (value or range, code, index after)."""
        pre = self.prefix_currency(i)
        k = pre[1] if pre else i
        got = self.number_or_range(k, money=pre is not None)
        if got is None:
            return None
        n, hi, j = got
        code = pre[0] if pre else None
        suf = self.suffix_currency(j)
        if suf is not None:
            code, j = (code or suf[0]), suf[1]
        if code is None:
            return None
        if pre is None and not n.scaled and _yearlike(self.t[n.i]) and hi is None:
            return None
        value = n.value if hi is None else (n.value, hi)
        return value, code, j

    def unit(self, i: int, j: int, n: Number) -> tuple[str, str, str, int] | None:
        """What the number at ``[i, j)`` counts: (kind, unit, noun as written, index after)."""
        t = self.t
        k = j
        hyphen = False
        if self.sym(k) in _DASHES and k + 1 < len(t) and adjacent(t[k - 1], t[k]) and adjacent(t[k], t[k + 1]):
            k, hyphen = k + 1, True  # six-month, 3,000-kg
        if (not hyphen and self.w(k) == "of" and self.w(k + 1) in ("the", "its", "their", "these", "those")
                and n.value >= 2 and self.t[k + 2:k + 3] and self.t[k + 2].kind == "word"
                and read_number(t, k + 2) is None):
            k += 2  # "four of the disputed points"
        first = k
        comma = False
        while k < len(t) and sum(x.kind == "word" for x in t[first:k]) <= 5:
            tok = t[k]
            if tok.kind == "code":
                k += 1
                continue
            if tok.kind == "sym":
                if tok.text in _DASHES and k > first and adjacent(t[k - 1], tok) and k + 1 < len(t) and adjacent(tok, t[k + 1]):
                    k += 1  # regional-scale
                    continue
                if tok.text == "," and k > first and "-" in self.text[t[k - 1].start - 12:t[k - 1].end] \
                        and self.w(k + 1) and self.w(k + 1) not in FUNCTION_WORDS:
                    k, comma = k + 1, True  # "two high-altitude, long-endurance drones"
                    continue
                return None
            for m in range(MAX_UNIT_WORDS, 0, -1):
                if k + m > len(t) or any(x.kind != "word" for x in t[k:k + m]):
                    continue
                phrase = " ".join(x.low for x in t[k:k + m])
                if phrase in UNIT_WORDS or (m == 1 and phrase in PERIOD_UNITS):
                    singular = not _plural(phrase.split()[-1]) and phrase not in SINGULAR_OK
                    if phrase in PERIOD_UNITS:
                        singular = not phrase.endswith("s")
                    if singular and n.value != 1 and not hyphen:
                        return None
                    if phrase in ABBREVIATED and k > first:
                        return None  # "5 Russian km" is not a length
                    noun = self.text[t[first].start:t[k + m - 1].end]
                    if phrase in PERIOD_UNITS:
                        if self.w(k + 1) == "of" and self.w(k + 2) == "age" or self.w(k + 1) == "old":
                            end = k + 3 if self.w(k + 1) == "of" else k + 2
                            return "quantity", "years of age", self.text[t[first].start:t[end - 1].end], end
                        return "period", PERIOD_UNITS[phrase], noun, k + 1
                    if phrase == "times":
                        break
                    return "quantity", UNIT_WORDS[phrase], noun, k + m
            w = tok.low
            if w == "times":
                if self.w(k + 1) in COMPARATIVES and k == first:
                    return "quantity", "times", "times", k + 1
                return None
            if w in CURRENCY_WORDS or (w in FUNCTION_WORDS and w not in MODIFIERS_OK):
                return None
            if _plural(w) and w not in NOT_COUNTED and not tok.text.isupper():
                nxt = self.w(k + 1)
                if nxt and t[k + 1].kind == "word" and _plural(nxt) and nxt not in NOT_COUNTED \
                        and nxt not in FUNCTION_WORDS and nxt not in CASUALTY_AFTER:
                    k += 1
                    continue  # "police officers": the head is the last noun
                if n.spelled and (n.value < 2 or (n.value < 4 and self.w(i - 1) in _DETERMINERS)) or comma:
                    return None  # "the two sides": anaphora; a noun after a list of adjectives: too loose
                if _yearlike(t[i]):
                    return None
                return "quantity", w, self.text[t[first].start:tok.end], k + 1
            k += 1
        return None

    def casualty_after(self, k: int) -> tuple[str, int] | None:
        """``were killed``, ``died`` after a noun: (dead or wounded, index after)."""
        for skip in range(3):
            w = self.w(k + skip)
            if w in CASUALTY_AFTER and skip <= 2:
                if all(self.w(k + x) in ("were", "was", "have", "had", "been", "reportedly", "later", "all")
                       for x in range(skip)):
                    return CASUALTY_AFTER[w], k + skip + 1
        return None

    def casualty_before(self, i: int) -> tuple[str, int] | None:
        """``killing``, ``the deaths of`` before a number: (dead or wounded, first index)."""
        k = i - 1
        while k >= 0 and self.w(k) in ("of", "at", "least", "to", "the", "some", "about", "over",
                                       "more", "than", "nearly", "almost", "rose", "reached"):
            k -= 1
        if k >= 0 and self.w(k) in CASUALTY_BEFORE and k >= i - 5:
            return CASUALTY_BEFORE[self.w(k)], k
        return None

    # --- one figure -----------------------------------------------------------------

    def figure(self, i: int) -> tuple[Figure, int] | None:
        """The figure that starts at token ``i`` (after any qualifier), or None."""
        t = self.t
        if self._label(i):
            return None
        money = self.money_core(i)
        if money is not None:
            value, code, j = money
            conv = self.conversion(j)
            converted = None
            if conv is not None:
                converted, j = conv
            per, j = self.rate(j)
            if converted is None and per is not None:  # "6,000 rubles a day (about $80)"
                conv = self.conversion(j)
                if conv is not None:
                    converted, j = conv
            return self._make("money", i, j, value, code, None, converted, per), j
        if self.prefix_currency(i) or t[i].kind not in ("num", "word"):
            return None
        got = self.number_or_range(i, money=False)
        if got is None:
            return None
        n, hi, j = got
        if _yearlike(t[i]) and hi is None and not n.scaled:
            return None
        value = n.value if hi is None else (n.value, hi)
        if self.sym(j) == "%" or self.w(j) == "percent" or (self.w(j) == "per" and self.w(j + 1) == "cent"):
            end = j + (2 if self.w(j) == "per" else 1)
            return self._make("percent", i, end, value, "percent", None, None, None), end
        u = self.unit(i, j, n if hi is None else Number(hi, n.i, j, n.spelled, n.scaled))
        if u is None:
            cb = self.casualty_before(i)
            if cb is not None and not n.spelled or cb is not None and n.value >= 2:
                return self._make("quantity", cb[1], j, value, cb[0], None, None, None, start_tok=cb[1]), j
            return None
        kind, unit, noun, j = u
        start_tok = None
        if kind == "quantity" and unit not in _MEASURES and unit not in ("dead", "wounded", "times", "years of age"):
            ca = self.casualty_after(j)
            if ca is not None:
                unit, j = ca[0], ca[1]
            else:
                cb = self.casualty_before(i)
                if cb is not None:
                    unit, start_tok = cb[0], cb[1]
        per, j = self.rate(j)
        return self._make(kind, i, j, value, unit, noun, None, per, start_tok=start_tok), j

    def _label(self, i: int) -> bool:
        """Is the number at ``i`` a label: "Article 4", "p. 12", "No. 5", "[1]"?"""
        k = i - 1
        if self.sym(k) == ".":
            k -= 1
        w = self.w(k)
        if w in LABELS and self.t[i].kind == "num":
            return not (w in ("no", "number") and self.t[k].text.islower() and self.sym(i - 1) != ".")
        return False

    def _make(self, kind, i, j, value, unit, noun, converted, per, start_tok=None) -> Figure:
        t = self.t
        q, qi = self.qualifier(i)
        first = min(qi, start_tok) if start_tok is not None else qi
        s, e = t[first].start, t[j - 1].end
        rng = value if isinstance(value, tuple) else None
        val = None if rng else value
        return Figure(kind, s, e, self.text[s:e], value=val, range=rng, unit=unit, noun=noun,
                      converted=converted, per=per, qualifier=q)


def _yearlike(tok: Token) -> bool:
    """A bare year: four digits 1800-2099, no separator."""
    return tok.kind == "num" and len(tok.text) == 4 and tok.text.isdigit() and 1800 <= int(tok.text) <= 2099
