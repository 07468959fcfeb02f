"""Words that make a number a figure: currencies, units, qualifiers, rates.

Data only, read by :mod:`sim.evidence.figures`. Every unit maps to a canonical
*family* (``soldiers`` and ``servicemen`` are ``troops``; ``killed`` and ``deaths``
are ``dead``) so that a figure found in an article can be compared with the unit a
fact card writes by hand (:func:`unit_family`).
"""

from __future__ import annotations

import re

# --- money -----------------------------------------------------------------------

CURRENCY_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "₹": "INR", "₽": "RUB", "₺": "TRY",
                    "₸": "KZT", "֏": "AMD", "₼": "AZN", "¥": "CNY"}
"""Symbols written before the amount."""

CURRENCY_CODES = {c: c for c in (
    "USD", "EUR", "GBP", "RUB", "KGS", "TJS", "AZN", "AMD", "TRY", "INR", "PKR", "CNY",
    "KZT", "UZS", "TMT", "UAH", "GEL", "IRR", "AFN")} | {"Rs": "INR", "INR": "INR", "US$": "USD"}
"""Codes and abbreviations written before (or after) the amount, case-sensitive."""

CURRENCY_WORDS = {
    "dollar": "USD", "dollars": "USD", "euro": "EUR", "euros": "EUR",
    "ruble": "RUB", "rubles": "RUB", "rouble": "RUB", "roubles": "RUB",
    "som": "KGS", "soms": "KGS", "somoni": "TJS", "somonis": "TJS",
    "manat": "AZN", "manats": "AZN", "dram": "AMD", "drams": "AMD",
    "lira": "TRY", "liras": "TRY", "lire": "TRY", "rupee": "INR", "rupees": "INR",
    "yuan": "CNY", "renminbi": "CNY", "tenge": "KZT", "soum": "UZS", "soums": "UZS",
    "hryvnia": "UAH", "hryvnias": "UAH", "hryvnias'": "UAH", "lari": "GEL",
    "rial": "IRR", "rials": "IRR", "afghani": "AFN", "afghanis": "AFN",
}
"""Currency names written after the amount (lower case)."""

CURRENCY_ADJECTIVES = {
    # adjective before a currency word that changes which currency it is
    ("turkmen", "manat"): "TMT", ("turkmen", "manats"): "TMT",
    ("pakistani", "rupee"): "PKR", ("pakistani", "rupees"): "PKR",
    ("uzbek", "sum"): "UZS", ("uzbek", "sums"): "UZS",
}
CURRENCY_ADJECTIVE_WORDS = {
    "us", "u.s.", "american", "armenian", "kyrgyz", "tajik", "azerbaijani", "turkmen",
    "indian", "pakistani", "russian", "turkish", "chinese", "kazakh", "uzbek", "ukrainian",
    "georgian", "iranian", "afghan", "new",
}
"""Words allowed between an amount and its currency word ("400 million US dollars")."""

SCALES = {
    "hundred": 1e2, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12,
    "mn": 1e6, "mln": 1e6, "bn": 1e9, "bln": 1e9, "tn": 1e12,
    "crore": 1e7, "crores": 1e7, "lakh": 1e5, "lakhs": 1e5, "lac": 1e5,
    "тыс": 1e3, "млн": 1e6, "млрд": 1e9,
}
"""Scale words after a number ("1.422 billion", "Rs 9,100 crore")."""

MONEY_ONLY_SCALES = {"m": 1e6, "b": 1e9, "k": 1e3}
"""Scale letters that only count straight after an amount with a currency ("$5m")."""

# --- units of quantities -----------------------------------------------------------

_FAMILIES: dict[str, tuple[str, ...]] = {
    "troops": ("troops", "troop", "soldiers", "soldier", "servicemen", "serviceman",
               "servicemembers", "personnel", "military personnel", "service members",
               "militants", "insurgents", "combatants", "fighters", "men", "infantry",
               "infantry troops", "paratroopers", "marines", "reservists", "conscripts",
               "recruits", "mercenaries", "contract soldiers"),
    "battalions": ("battalions", "battalion"),
    "brigades": ("brigades", "brigade"),
    "regiments": ("regiments", "regiment"),
    "divisions": ("divisions", "division"),
    "companies": ("companies",),
    "platoons": ("platoons", "platoon"),
    "squadrons": ("squadrons", "squadron"),
    "vehicles": ("vehicles", "vehicle", "armoured vehicles", "armored vehicles",
                 "armoured personnel carriers", "armored personnel carriers", "apcs", "ifvs",
                 "bmps", "trucks", "lorries", "cars", "buses"),
    "tanks": ("tanks", "tank", "main battle tanks"),
    "aircraft": ("aircraft", "planes", "plane", "jets", "fighter jets", "warplanes",
                 "bombers", "airplanes"),
    "helicopters": ("helicopters", "helicopter", "gunships"),
    "drones": ("drones", "drone", "uavs", "uav", "uas", "ucavs", "ucav",
               "unmanned aerial vehicles", "unmanned aerial systems", "loitering munitions"),
    "missiles": ("missiles", "missile", "rockets", "rocket"),
    "launchers": ("launchers", "launcher", "multiple rocket launchers"),
    "artillery": ("howitzers", "howitzer", "guns", "artillery pieces", "mortars", "cannons"),
    "shells": ("shells", "rounds", "munitions", "projectiles", "warheads"),
    "radars": ("radars", "radar"),
    "ships": ("ships", "ship", "vessels", "warships", "submarines", "boats", "frigates",
              "corvettes"),
    "km": ("km", "kms", "kilometres", "kilometers", "kilometre", "kilometer"),
    "km2": ("km2", "sq km", "square kilometres", "square kilometers"),
    "miles": ("miles", "mile"),
    "m": ("metres", "meters", "metre", "meter"),
    "mm": ("mm", "millimetre", "millimeter"),
    "kg": ("kg", "kilograms", "kilogrammes", "kilogram"),
    "tonnes": ("tonnes", "tons", "tonne", "ton", "t"),
    "lbs": ("lbs", "lb", "pounds"),
    "hectares": ("hectares", "hectare", "ha"),
    "dead": ("dead", "killed", "deaths", "fatalities", "died", "dead bodies", "bodies"),
    "wounded": ("wounded", "injured", "injuries", "hurt"),
    "casualties": ("casualties",),
    "missing": ("missing",),
    "captured": ("captured", "prisoners of war", "pows"),
}
"""Unit family -> the ways a text writes it (lower case; several words allowed)."""

PERIOD_UNITS = {
    "day": "days", "days": "days", "week": "weeks", "weeks": "weeks", "month": "months",
    "months": "months", "year": "years", "years": "years", "decade": "decades",
    "decades": "decades", "hour": "hours", "hours": "hours", "minute": "minutes",
    "minutes": "minutes",
}
"""Durations: a number with one of these is a period ("three months", "2.5 years")."""

UNIT_WORDS: dict[str, str] = {w: fam for fam, words in _FAMILIES.items() for w in words}
MAX_UNIT_WORDS = max(len(w.split()) for w in UNIT_WORDS)
SINGULAR_OK = {"aircraft", "personnel", "infantry", "uas", "km", "kms", "km2", "mm", "kg", "t",
               "lbs", "lb", "ha", "dead", "killed", "wounded", "injured", "missing", "captured",
               "hurt", "died", "sq km", "military personnel", "infantry troops"}
"""Units that are the same in the singular and plural ("12 aircraft", "22 km")."""
ABBREVIATED = {"km", "kms", "km2", "mm", "kg", "t", "lbs", "lb", "ha", "sq km"}
"""Unit abbreviations that may be glued to the number ("450kg", "3,000-kg")."""

CASUALTY_AFTER = {  # "three police officers were killed"
    "killed": "dead", "died": "dead", "dead": "dead", "wounded": "wounded", "injured": "wounded",
    "hurt": "wounded", "perished": "dead",
}
CASUALTY_BEFORE = {  # "killing 12", "the deaths of 84 workers"
    "killing": "dead", "killed": "dead", "deaths": "dead", "death": "dead", "toll": "dead",
    "wounding": "wounded", "injuring": "wounded", "wounded": "wounded", "injured": "wounded",
    "lives": "dead",
}

IRREGULAR_PLURALS = {"people", "men", "women", "children", "police", "staff", "cattle",
                     "personnel", "aircraft", "infantry", "sheep", "fish", "militia"}
NOT_COUNTED = {
    # plural-looking words that are not what a number counts, or idioms ("the two sides")
    "always", "perhaps", "towards", "besides", "sometimes", "afterwards", "nevertheless",
    "whereas", "unless", "thus", "plus", "minus", "versus", "various", "across", "alongside",
    "others", "ones", "sides", "ways", "things", "thanks", "means", "news", "series", "species",
    "lots", "tens", "hundreds", "thousands", "millions", "billions", "dozens", "scores",
    "its", "his", "hers", "ours", "yours", "theirs", "this", "does", "has", "was", "is", "as",
    "us", "less", "regardless", "nonetheless", "yes", "basis", "crisis",
    "analysis", "thesis", "status", "focus", "bonus", "census", "campus", "virus", "bus",
    "percent", "seconds", "moments", "occasions", "words", "terms", "hands",
}
"""Words after a number that do not make it a counted figure."""

FUNCTION_WORDS = {
    "and", "or", "of", "the", "a", "an", "to", "from", "in", "on", "at", "by", "for", "with",
    "that", "which", "who", "whom", "whose", "were", "was", "are", "is", "had", "have", "has",
    "been", "be", "will", "would", "could", "should", "can", "may", "might", "must", "as",
    "than", "into", "onto", "per", "each", "but", "if", "when", "while", "where", "after",
    "before", "since", "until", "during", "over", "under", "about", "against", "between",
    "among", "through", "it", "its", "they", "their", "them", "he", "she", "his", "her",
    "we", "our", "you", "your", "i", "this", "these", "those", "there", "here", "not", "no",
    "so", "such", "also", "only", "all", "both", "some", "any", "other", "another", "most",
    "out", "up", "down", "off", "did", "do", "does", "being", "like", "via", "within",
    "without", "including", "toward", "towards", "upon", "because", "though", "although",
}
"""Words that end the noun phrase after a number."""

MODIFIERS_OK = {"more", "additional", "further", "new", "extra", "other", "old", "former"}
"""Function-like words that may still sit between a number and its noun ("6 more months")."""

COMPARATIVES = {"less", "more", "higher", "lower", "larger", "greater", "smaller", "bigger",
                "fewer", "as", "faster", "cheaper", "longer", "shorter"}
"""After "N times": a factor ("three times less"), not a count of occasions."""

# --- what stands around a figure ---------------------------------------------------

QUALIFIERS: dict[str, str] = {
    "more than": "min", "over": "min", "above": "min", "exceeding": "min",
    "in excess of": "min", "at least": "min", "upwards of": "min", "no fewer than": "min",
    "no less than": "min", "not less than": "min", "as many as": "max", "up to": "max",
    "less than": "max", "fewer than": "max", "under": "max", "at most": "max",
    "no more than": "max", "not more than": "max", "below": "max", "almost": "approx",
    "nearly": "approx", "about": "approx", "around": "approx", "approximately": "approx",
    "roughly": "approx", "some": "approx", "an estimated": "approx", "estimated": "approx",
    "approx.": "approx", "circa": "approx", "~": "approx", "close to": "approx",
}
"""Words before a figure that bound it; kept in the figure's text."""
MAX_QUALIFIER_WORDS = max(len(q.split()) for q in QUALIFIERS)

RATES = {
    ("a", "day"): "day", ("per", "day"): "day", ("daily",): "day", ("a", "week"): "week",
    ("per", "week"): "week", ("a", "month"): "month", ("per", "month"): "month",
    ("monthly",): "month", ("a", "year"): "year", ("per", "year"): "year",
    ("annually",): "year", ("per", "annum"): "year", ("a", "head"): "person",
    ("an", "hour"): "hour", ("per", "hour"): "hour", ("per", "person"): "person",
    ("per", "capita"): "person", ("per", "head"): "person", ("each",): "each",
    ("apiece",): "each", ("per", "unit"): "unit", ("per", "piece"): "unit",
}
"""Rates after a figure ("6,000 rubles a day")."""

LABELS = {
    "article", "art", "section", "sec", "chapter", "ch", "paragraph", "para", "clause",
    "part", "item", "no", "nos", "number", "page", "pages", "p", "pp", "figure", "fig",
    "table", "annex", "appendix", "vol", "volume", "issue", "resolution", "protocol", "rule",
    "step", "phase", "stage", "point", "level", "group", "grade", "block", "tranche", "line",
    "lines", "footnote", "note", "version", "v", "cc", "cca", "by-sa", "sa", "article's",
    "edition", "ed", "book", "verse", "row", "column", "box", "room", "flight", "route",
    "highway", "unit", "tier", "category", "class", "type", "mark", "mk", "batch", "lot",
    "episode", "season", "session", "round", "sitting", "meeting", "summit", "plenum",
    "congress", "convocation", "term",
}
"""A number straight after one of these is a label ("Article 4", "p. 12"), not a figure."""


def unit_family(unit: str | None) -> str | None:
    """The canonical family of a unit as a card or an article writes it.

    ``"troops (maximum)"`` -> ``troops``, ``"deaths"`` -> ``dead``, ``"EUR per person"``
    -> ``EUR``, ``"armoured vehicles"`` -> ``vehicles``, ``"member states"`` -> ``state``
    (a unit it does not know: its last word, lower case, plural ``s`` dropped;
    qualifiers in brackets and rates are dropped first).
    """
    if not unit:
        return None
    u = re.sub(r"\(.*?\)", " ", unit).strip()
    u = re.split(r"\s+per\s+|\s*/\s*", u)[0].strip()
    if u.upper() in CURRENCY_CODES or u in CURRENCY_CODES:
        return CURRENCY_CODES.get(u, CURRENCY_CODES.get(u.upper()))
    low = re.sub(r"ense(s?)\b", r"ence\1", u.lower())  # offense -> offence, defense -> defence
    low = re.sub(r"armored", "armoured", low)
    for phrase in (low, low.split(" of ")[0]):  # "prisoners of war"; "years of prison" -> years
        if phrase in ("percent", "per cent", "%", "percentage points"):
            return "percent"
        if phrase in UNIT_WORDS:
            return UNIT_WORDS[phrase]
        if phrase in PERIOD_UNITS:
            return PERIOD_UNITS[phrase]
    words = low.split(" of ")[0].split()
    for n in range(min(len(words), MAX_UNIT_WORDS), 0, -1):  # "armoured vehicles (minimum)"
        tail = " ".join(words[-n:])
        if tail in UNIT_WORDS:
            return UNIT_WORDS[tail]
    if not words:
        return None
    last = words[-1]
    return last[:-1] if last.endswith("s") and len(last) > 3 else last
