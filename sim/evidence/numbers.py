"""Numbers as articles write them: tokens, digits, words and scales.

``1,344``, ``1.422 billion``, ``150 thousand``, ``three hundred``, ``two-and-a-half``,
``a dozen``, ``Rs 9,100 crore``: :func:`read_number` reads one at a token position
and says how many tokens it used. Tokens keep their character offsets in the source,
so everything built from them can point back at the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .lexicon import MONEY_ONLY_SCALES, SCALES

_TOKEN = re.compile(
    r"\d+(?:[.,]\d+)*(?:st|nd|rd|th)?(?![\w])|\d+(?:[.,]\d+)*|[^\W\d_]+(?:['’][^\W\d_]+)*|\S",
    re.U,
)


@dataclass(frozen=True)
class Token:
    """A word, a number or one symbol, with its place in the source text."""

    text: str
    start: int
    end: int
    kind: str  # "num", "word", "sym" or "code" (a designator such as S-300, merged)

    @property
    def low(self) -> str:
        return self.text.lower()


def tokenize(text: str, merge: list[tuple[int, int]] = ()) -> list[Token]:
    """Split ``text`` into tokens; each span in ``merge`` becomes one ``code`` token."""
    spans = sorted(merge)
    out: list[Token] = []
    k = 0
    for m in _TOKEN.finditer(text):
        s, e = m.span()
        while k < len(spans) and spans[k][1] <= s:
            k += 1
        if k < len(spans) and spans[k][0] <= s < spans[k][1]:
            a, b = spans[k]
            if out and out[-1].kind == "code" and out[-1].start == a:
                continue
            out.append(Token(text[a:b], a, b, "code"))
            continue
        t = m.group()
        kind = "num" if t[0].isdigit() else "word" if t[0].isalpha() else "sym"
        out.append(Token(t, s, e, kind))
    return out


def adjacent(a: Token, b: Token) -> bool:
    """No space between two tokens."""
    return a.end == b.start


_ONES = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * (i + 2) for i, w in enumerate(
    "twenty thirty forty fifty sixty seventy eighty ninety".split())}


@dataclass(frozen=True)
class Number:
    """A number read from tokens ``[i, j)``."""

    value: float
    i: int
    j: int
    spelled: bool  # written in words ("two", "three hundred"), wholly or in part
    scaled: bool  # has a scale word ("billion", "crore")


def digits_value(t: str) -> float | None:
    """``1,344`` -> 1344, ``1.422`` -> 1.422, ``2,5`` -> 2.5 (a decimal comma); else None."""
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", t):
        return float(t.replace(",", ""))
    if re.fullmatch(r"\d+(?:\.\d+)?", t):
        return float(t)
    if re.fullmatch(r"\d+,\d{1,2}", t):
        return float(t.replace(",", "."))
    return None


def _word(tokens: list[Token], i: int) -> str:
    return tokens[i].low if i < len(tokens) and tokens[i].kind == "word" else ""


def _hyphen(tokens: list[Token], i: int) -> bool:
    return (i < len(tokens) and tokens[i].text in "-‑" and i > 0
            and adjacent(tokens[i - 1], tokens[i]) and i + 1 < len(tokens)
            and adjacent(tokens[i], tokens[i + 1]))


def _read_words(tokens: list[Token], i: int) -> tuple[float, int] | None:
    """A number in words from token i: ``three hundred``, ``twenty-five``, ``a dozen``.

    Returns the value and the index after its last token, or None.
    """
    total = current = 0.0
    j = i
    last = ""  # what the previous word was: one, ten, hundred, scale
    if _word(tokens, j) in ("a", "an") and _word(tokens, j + 1) in ("hundred", "thousand",
                                                                     "million", "billion",
                                                                     "dozen"):
        current, j, last = 1.0, j + 1, "one"
    while j < len(tokens):
        w = _word(tokens, j)
        if w in _ONES:
            if last == "one" or (last == "ten" and _ONES[w] >= 10) or (last == "ten" and _ONES[w] == 0):
                break
            current += _ONES[w]
            last = "one"
        elif w in _TENS:
            if last in ("one", "ten"):
                break
            current += _TENS[w]
            last = "ten"
        elif w == "hundred" and last in ("one",):
            current *= 100
            last = "hundred"
        elif w in ("thousand", "million", "billion") and last in ("one", "ten", "hundred"):
            total += current * SCALES[w]
            current, last = 0.0, "scale"
        elif w == "dozen" and last == "one":
            current *= 12
            last = "hundred"
        elif w == "and" and last in ("hundred", "scale") and (
                _word(tokens, j + 1) in _ONES or _word(tokens, j + 1) in _TENS):
            j += 1
            continue
        elif w == "and" and last and _word(tokens, j + 1) == "a" and _word(tokens, j + 2) == "half":
            return total + current + 0.5, j + 3
        elif tokens[j].text in "-‑" and last and _hyphen(tokens, j):
            nxt = _word(tokens, j + 1)
            if (nxt == "and" and _word(tokens, j + 3) == "a" and _word(tokens, j + 5) == "half"
                    and _hyphen(tokens, j + 2) and _hyphen(tokens, j + 4)):
                return total + current + 0.5, j + 6  # two-and-a-half
            if last == "ten" and nxt in _ONES and 0 < _ONES[nxt] < 10:
                j += 1
                continue
            break
        else:
            break
        j += 1
    if not last:
        return None
    return total + current, j


def read_number(tokens: list[Token], i: int, *, money: bool = False) -> Number | None:
    """The number that starts at token ``i``, with its scale word, or None.

    ``money`` allows the single-letter scales of amounts (``$5m``, ``$2bn``).
    """
    t = tokens[i]
    if t.kind == "num":
        if re.search(r"(st|nd|rd|th)$", t.text) or (len(t.text) > 1 and t.text[0] == "0"
                                                    and "." not in t.text[:2]):
            return None  # an ordinal (21st) or a clock time / code (0800)
        v = digits_value(t.text)
        if v is None:
            return None
        j = i + 1
        spelled = False
        if j < len(tokens) and tokens[j].kind == "word":
            w = tokens[j].low
            if w in SCALES and w != "hundred":
                return Number(v * SCALES[w], i, j + 1, False, True)
            if w == "hundred":
                return Number(v * 100, i, j + 1, False, True)
            if money and w in MONEY_ONLY_SCALES and adjacent(t, tokens[j]):
                return Number(v * MONEY_ONLY_SCALES[w], i, j + 1, False, True)
        return Number(v, i, j, spelled, False)
    if t.kind != "word":
        return None
    got = _read_words(tokens, i)
    if got is None:
        return None
    value, j = got
    if value == 0 and _word(tokens, i) != "zero":
        return None
    scaled = any(_word(tokens, k) in ("thousand", "million", "billion") for k in range(i, j))
    if j < len(tokens) and _word(tokens, j) in SCALES and _word(tokens, j) not in ("hundred",):
        value *= SCALES[_word(tokens, j)]
        j += 1
        scaled = True
    return Number(value, i, j, True, scaled)


@dataclass(frozen=True)
class Figure:
    """One figure found in a text.

    Attributes:
        kind: ``money``, ``quantity``, ``percent``, ``date`` or ``period``.
        start, end: character offsets of the figure as written (qualifier, number,
            unit and any bracketed conversion) in the source text: ``text[start:end]``.
        value: the number (in ``unit``), or for dates an ISO 8601 string
            (``2023-03-05``, ``2023-03``, ``--03-05`` when the text gives no year), or
            for a span of years ``2016/2020``. None when ``range`` is given.
        range: ``(low, high)`` for "3-5 billion soms", "two to five years".
        unit: currency code (money), unit family (quantity: ``troops``, ``km``,
            ``dead``...), ``percent``, or the period's unit (``months``).
        noun: the unit as the text writes it (``armoured vehicles``, ``police officers``).
        converted: ``(value or (low, high), currency)`` given in brackets after an
            amount ("125 billion soms ($1.422 billion)").
        per: a rate (``day``, ``month``, ``person``...).
        qualifier: the words that bound the figure (``more than``, ``up to``, ``about``).
    """

    kind: str
    start: int
    end: int
    text: str
    value: float | str | None = None
    range: tuple[float, float] | None = None
    unit: str | None = None
    noun: str | None = None
    converted: tuple[float | tuple[float, float], str] | None = None
    per: str | None = None
    qualifier: str | None = None

    def numbers(self) -> list[tuple[float | tuple[float, float], str | None]]:
        """The (value or range, unit) pairs this figure states, conversion included."""
        out: list[tuple[float | tuple[float, float], str | None]] = []
        if isinstance(self.value, float | int):
            out.append((float(self.value), self.unit))
        if self.range is not None:
            out.append((self.range, self.unit))
        if self.converted is not None:
            out.append(self.converted)
        return out
