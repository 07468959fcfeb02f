"""Numbers that are not figures: what :mod:`sim.evidence.figures` must not read.

Clock times, phone numbers and ISBNs, web addresses, designators of weapons and codes
(``S-300``, ``Mi-17``, ``TB-2``, ``RG1``, ``Covid-19``, ``2+2``), footnote and list
markers. Labels ("Article 4", "p. 12") and bare years are handled where numbers are read,
since they need the words around the number.
"""

from __future__ import annotations

import re

from .dates import clock_times
from .lexicon import CURRENCY_CODES

_URL = re.compile(r"https?://\S+|www\.\S+|[\w.+-]+@[\w-]+\.[\w.]+")
_PHONE = re.compile(
    r"(?<![\w.,/])(?:ISBN(?:-1[03])?:?\s*)?\+?\(?\d{1,5}\)?(?:[\s.‑-]\(?\d{1,5}\)?){2,}(?![\w,/]|[.,]\d)"
)
_CODE = re.compile(r"(?<![\w-])[A-Z][A-Za-z]{0,5}-?\d+[A-Za-z]*(?:-\d+[A-Za-z]*)?(?![\w-])"
                   r"|(?<![\w])\d+\+\d+(?![\w])")
_MARKER = re.compile(r"\[\d{1,3}\]|\(\d{1,2}\)|^[ \t]*\d{1,3}[.)](?=\s)", re.M)


def _phone_like(s: str) -> bool:
    digits = sum(c.isdigit() for c in s)
    seps = len(re.findall(r"[\s.‑-]", s.strip()))
    return digits >= 7 and (s.lstrip().startswith(("+", "(", "ISBN")) or seps >= 3
                            or (seps >= 2 and "-" in s))


def masks(text: str) -> list[tuple[int, int]]:
    """Spans where no figure may start: times, phones, ISBNs, URLs, markers."""
    out = list(clock_times(text))
    out += [m.span() for m in _URL.finditer(text)]
    out += [m.span() for m in _PHONE.finditer(text) if _phone_like(m.group())]
    out += [m.span() for m in _MARKER.finditer(text)]
    return out


def coverage(n: int, spans: list[tuple[int, int]]) -> bytearray:
    """One byte per character of a text of length ``n``: 1 where a span covers it."""
    cov = bytearray(n)
    for a, b in spans:
        cov[a:b] = b"\x01" * (b - a)
    return cov


def designators(text: str, taken: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans of designators and codes (``S-300``, ``Mi-17``, ``RG1``), outside ``taken``."""
    cov = coverage(len(text), taken)
    out = []
    for m in _CODE.finditer(text):
        s, e = m.span()
        letters = re.match(r"[A-Za-z]+", m.group())
        if letters and letters.group() in CURRENCY_CODES:
            continue  # USD400 is an amount
        if any(cov[s:e]):
            continue
        out.append((s, e))
    return out
