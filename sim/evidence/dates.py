"""Dates and spans of years in English text.

``5 March 2023``, ``March 1, 2011``, ``December 2022``, ``July-2021``, ``05-2022``,
``2023-07-21``, ``11 April`` (no year: ``--04-11``) are dates; ``2005-2020`` and
``from 2016 to 2020`` are periods (``2005/2020``). A bare year ("the 2020 war"), a bare
month ("In February") and relative dates ("last September") are not: they carry no
day or month-and-year a card could use. Clock times ("16:00", "0800") are never read
as numbers.
"""

from __future__ import annotations

import re

from .numbers import Figure

_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}
_MONTH = (r"(?P<{n}>(?:January|February|March|April|May|June|July|August|September|October"
          r"|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)(?:\.(?!\w))?)")
_YEAR = r"(?P<{n}>1[89]\d\d|20\d\d)"
_DAY = r"(?P<{n}>0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?"
_DASH = r"\s*[-–—]\s*"

_PATTERNS = [
    # 2023-07-21
    ("ymd", re.compile(r"(?<![\d-])" + _YEAR.format(n="y") + r"-(?P<mo>0[1-9]|1[0-2])-"
                       r"(?P<d>0[1-9]|[12]\d|3[01])(?![\d-])")),
    # 5 March 2023, 5th of March, 2023, 11 April
    ("dmy", re.compile(r"(?<![\w.,])" + _DAY.format(n="d") + r"\s+(?:of\s+)?" + _MONTH.format(n="m")
                       + r"(?:,?\s+" + _YEAR.format(n="y") + r")?(?![\w-])")),
    # March 1, 2011; Apr 17, 2009; April 11
    ("mdy", re.compile(r"(?<![\w-])" + _MONTH.format(n="m") + r"\s+" + _DAY.format(n="d")
                       + r"(?![\d:%\w]|\s*(?:%|per\s?cent|km|kg))(?:,?\s+" + _YEAR.format(n="y")
                       + r"(?![\d]))?")),
    # December 2022; July-2021; March of 2023
    ("my", re.compile(r"(?<![\w-])" + _MONTH.format(n="m") + r"(?:\s+of\s+|\s*[-–]\s*|\s+)"
                      + _YEAR.format(n="y") + r"(?![\d]|[-–]\d)")),
    # 05-2022, 9/2022 (a month and a year, as citations write it)
    ("mmyyyy", re.compile(r"(?<![\w.,/-])(?P<mo>0?[1-9]|1[0-2])[-/]" + _YEAR.format(n="y")
                          + r"(?![\w-]|[.,]\d)")),
]

_YEAR_SPANS = [
    re.compile(r"(?<![\w.,/+-])(?P<a>1[89]\d\d|20\d\d)(?:" + _DASH
               + r"(?P<b>1[89]\d\d|20\d\d)|[-–](?P<b2>\d\d))(?![\w/-]|[.,]\d)"),
    re.compile(r"\b(?:[Ff]rom|[Bb]etween)\s+(?P<a>1[89]\d\d|20\d\d)\s+(?:to|and|until|till|through)\s+"
               r"(?P<b>1[89]\d\d|20\d\d)\b"),
]

_TIMES = re.compile(
    r"(?<![\d:])(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?(?:\s*[ap]\.?m\.?)?(?![\d:])"
    r"|(?<![\w.,])(?:[01]\d|2[0-3])[0-5]\d(?=\s*(?:hours?|hrs|h\b|GMT|UTC|local|[A-Z][a-z]+\s+\d))"
    r"|(?<![\w.,])\d{1,2}\s*[ap]\.?m\.?(?!\w)",
)


def clock_times(text: str) -> list[tuple[int, int]]:
    """Spans of clock times: ``16:00``, ``12:02pm``, ``0800`` before a date or ``hours``."""
    return [m.span() for m in _TIMES.finditer(text)]


def _iso(y: str | None, mo: int, d: str | None) -> str:
    day = f"-{int(d):02d}" if d else ""
    return f"{y}-{mo:02d}{day}" if y else f"--{mo:02d}{day}"


def find_dates(text: str) -> list[Figure]:
    """Every date and span of years in ``text``, without overlaps, in text order."""
    found: list[Figure] = []
    taken = bytearray(len(text))

    def free(s: int, e: int) -> bool:
        return not any(taken[s:e])

    def add(fig: Figure) -> None:
        found.append(fig)
        taken[fig.start:fig.end] = b"\x01" * (fig.end - fig.start)

    for kind, rx in _PATTERNS:
        for m in rx.finditer(text):
            s, e = m.span()
            if not free(s, e):
                continue
            g = m.groupdict()
            y = g.get("y")
            if kind in ("ymd", "mmyyyy"):
                mo = int(g["mo"])
            else:
                month = g["m"].rstrip(".")
                if month == "May" and not (y or g.get("d")):
                    continue
                mo = _MONTHS[month.lower()]
            d = g.get("d")
            if kind == "mdy" and not y and month in ("May", "March") and _verb_use(text, s):
                continue
            add(Figure("date", s, e, text[s:e], value=_iso(y, mo, d)))
    for rx in _YEAR_SPANS:
        for m in rx.finditer(text):
            s, e = m.span()
            a, b = m.group("a"), m.group("b") or m.groupdict().get("b2")
            if len(b) == 2:
                b = a[:2] + b
            if not free(s, e) or not int(a) < int(b) <= int(a) + 200:
                continue
            add(Figure("period", s, e, text[s:e], value=f"{a}/{b}"))
    found.sort(key=lambda f: f.start)
    return found


def _verb_use(text: str, s: int) -> bool:
    """Is the month name at ``s`` the verb (``they may 5``) or a sentence-initial modal?"""
    before = text[max(0, s - 12):s].rstrip().lower()
    return before.endswith(("they", "we", "you", "i", "it", "who", "will", "to"))
