"""The calibrations a ``{calibration: NOTE}`` source may name (documented in docs/CALIBRATION.md).

A calibration note starts with one of these keys (``"sipri-milex-2022: Russia 2022, ..."``);
``sim validate`` rejects an unknown key.
"""

from __future__ import annotations

CALIBRATIONS: dict[str, str] = {
    "sipri-milex-2022": "capability = 2022 military expenditure, USD bn current (SIPRI Military Expenditure Database)",
    "sipri-tiv-memory-36": "initial arms-import shares = SIPRI TIV deliveries 2010-2022 weighed as the procurement "
                           "rule's 36-month share memory weighs them (the state its recursion would hold in July "
                           "2023); a Beta from a Bayesian bootstrap of the delivery records where too few deliveries "
                           "place a share against a threshold (sim.evidence.arms_imports)",
    "sipri-tiv-2016-2020": "initial arms-import shares = SIPRI TIV supplier shares, 2016-2020 (SIPRI Arms Transfers Database)",
    "sipri-tiv-2018-2022": "initial arms-import shares = SIPRI TIV supplier shares, 2018-2022 (SIPRI Arms Transfers "
                           "Database, January 2025 export; SIPRI's March 2023 figure where one is known)",
    "mid-durations-1946-1991": "the share of militarized disputes that stand and the exit rates of incidents and "
                               "standing disputes, fitted to the durations of GML-MID 2.2.1 disputes of 1946-1991 "
                               "(sim.analysis.durations)",
    "mid-ladder": "escalation up-rates of the monthly ladder fitted to GML-MID 2.2.1 dispute outcomes, 1946-2014",
    "mid-spells": "escalation up-rates of the continuous-time ladder fitted to GML-MID 2.2.1 disputes of 1992-2010 "
                  "(fatal, more than 25 dead, war)",
    "mid-offensive": "limited offensives' base rate fitted to GML-MID 2.2.1 territorial disputes of 1992-2010 "
                     "whose highest action was occupation of territory",
    "mid-settlements-1946-1991": "ceasefire and local-deal coefficients of the continuous-time ladder fitted to the "
                                 "negotiated shares of GML-MID 2.2.1 disputes of 1946-1991 (all, fatal, territorial)",
    "hindcast-dyad-years": "generic hazard coefficients fitted to the politically relevant dyad-years of 1946-2002 "
                           "(COW capabilities and contiguity, ATOP alliances, COW-MID 5.0, GML-MID 2.2.1) by "
                           "`sim calibrate`; the template a row becomes (sim.analysis.dyadyear)",
    "alliance-prior": "alliance credibility = a Beta prior from published rates of honouring commitments "
                      "(Leeds 2003; Berkemeier & Fuhrmann 2018) updated with the alliance's own record",
}


def calibration_key(note: str) -> str | None:
    """The key a calibration note starts with, if it is a known one."""
    words = note.strip().split(":", 1)[0].split()
    head = words[0] if words else ""  # a note starting with ':' has no key
    return head if head in CALIBRATIONS else None
