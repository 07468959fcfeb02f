"""The calibrations a ``{calibration: NOTE}`` source may name (documented in docs/CALIBRATION.md).

A calibration note starts with one of these keys (``"sipri-milex-2022: Russia 2022, ..."``);
``sim validate`` rejects an unknown key.
"""

from __future__ import annotations

CALIBRATIONS: dict[str, str] = {
    "sipri-milex-2022": "capability = 2022 military expenditure, USD bn current (SIPRI Military Expenditure Database)",
    "sipri-tiv-2016-2020": "initial arms-import shares = SIPRI TIV supplier shares, 2016-2020 (SIPRI Arms Transfers Database)",
    "mid-ladder": "escalation up-rates fitted to GML-MID 2.2.1 dispute outcomes, 1946-2014",
}


def calibration_key(note: str) -> str | None:
    """The key a calibration note starts with, if it is a known one."""
    words = note.strip().split(":", 1)[0].split()
    head = words[0] if words else ""  # a note starting with ':' has no key
    return head if head in CALIBRATIONS else None
