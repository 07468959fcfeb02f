"""Actors and weapon systems named in a text, from the project's own actors and cards.

The actors are the states and alliances of ``scenarios/base.yaml`` and every actor id
the fact cards in ``seeds/`` use; each is found by its name, its id written as words
("karabakh_armenians" -> "Karabakh Armenians") and, for the region's usual actors, the
adjectives and capitals a text uses for them ("Armenian", "Yerevan"). Weapon systems
are the names that fact cards give before a weapon word ("Pinaka multiple rocket
launchers") and designators (``S-300``, ``Mi-17``), plus a short list of the region's
common systems; a new article's own "Name + weapon word" and designators count too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..paths import scenarios_dir
from ..scenario.errors import InputError
from ..scenario.yamlsafe import load_yaml_file

ALIASES: dict[str, tuple[str, ...]] = {
    "russia": ("Russia", "Russian", "Russians", "Russian Federation", "Moscow", "Kremlin"),
    "armenia": ("Armenia", "Armenian", "Armenians", "Yerevan"),
    "azerbaijan": ("Azerbaijan", "Azerbaijani", "Azerbaijanis", "Azeri", "Azeris", "Baku"),
    "karabakh_armenians": ("Nagorno-Karabakh", "Nagorno Karabakh", "Karabakh", "Stepanakert",
                           "Artsakh", "Karabakh Armenians"),
    "turkey": ("Turkey", "Türkiye", "Turkish", "Turks", "Ankara"),
    "israel": ("Israel", "Israeli", "Israelis"),
    "iran": ("Iran", "Iranian", "Iranians", "Tehran"),
    "pakistan": ("Pakistan", "Pakistani", "Pakistanis", "Islamabad"),
    "india": ("India", "Indian", "Indians", "New Delhi", "Delhi"),
    "china": ("China", "Chinese", "Beijing", "PRC"),
    "usa": ("United States", "US", "U.S.", "USA", "American", "Americans", "Washington"),
    "france": ("France", "French", "Paris"),
    "kyrgyzstan": ("Kyrgyzstan", "Kyrgyz", "Kyrgyzstani", "Bishkek", "Kyrgyz Republic"),
    "tajikistan": ("Tajikistan", "Tajik", "Tajiks", "Dushanbe"),
    "kazakhstan": ("Kazakhstan", "Kazakh", "Kazakhs", "Astana"),
    "uzbekistan": ("Uzbekistan", "Uzbek", "Uzbeks", "Uzbekistani", "Tashkent"),
    "turkmenistan": ("Turkmenistan", "Turkmen", "Ashgabat"),
    "belarus": ("Belarus", "Belarusian", "Minsk"),
    "afghanistan": ("Afghanistan", "Afghan", "Afghans", "Kabul"),
    "taliban": ("Taliban",),
    "ukraine": ("Ukraine", "Ukrainian", "Ukrainians", "Kyiv", "Kiev"),
    "csto": ("CSTO", "Collective Security Treaty Organization",
             "Collective Security Treaty Organisation"),
    "sco": ("SCO", "Shanghai Cooperation Organization", "Shanghai Cooperation Organisation"),
    "nato": ("NATO", "North Atlantic Treaty Organization", "ISAF"),
    "wagner_group": ("Wagner Group", "Wagner", "PMC Wagner"),
}
"""How texts name the region's usual actors (ids as in docs/FACTCARDS.md)."""

WEAPONS = (
    "Bayraktar", "Akinci", "Aksungur", "Iskander", "Pinaka", "Pechora", "Akash", "BrahMos",
    "Apache", "Smerch", "Polonez", "Harop", "Orbiter", "Kornet", "Grad", "Tornado", "Buk",
    "Pantsir", "Tor", "Osa", "Javelin", "HIMARS", "NASAMS", "Patriot", "Kalibr", "Kinzhal",
    "Lancet", "Shahed", "Krasukha", "Tochka", "Fatah", "Burq", "Shahpar", "Al-Khalid",
)
"""Weapon system names common in the region's reporting, besides those the cards give."""

_WEAPON_WORDS = (r"(?:drones?|UAS|UAVs?|UCAVs?|missiles?|launchers?|rocket launchers?|helicopters?"
                 r"|tanks?|aircraft|fighters?|systems?|radars?|howitzers?|batteries|artillery"
                 r"|air[- ]defen[cs]e|rifles?|guns?)")
_NAME_BEFORE_WEAPON = re.compile(
    r"\b([A-Z][A-Za-z]+(?:-[A-Z][A-Za-z]*)?(?:[ -](?:[A-Z]{1,4}-?\d+[A-Z]?|I{1,3}V?))?)"
    r"(?= (?:[\w-]+ ){0,3}" + _WEAPON_WORDS + r"\b)")
_DESIGNATOR = re.compile(r"(?<![\w-])[A-Z][A-Za-z]{0,2}-\d{1,4}[A-Z]?(?:s(?=\b))?(?![\w-])")
_NOT_NAMES = {
    "The", "A", "An", "Two", "Three", "Four", "Five", "Six", "Each", "How", "Deep", "This",
    "That", "These", "Those", "Its", "Their", "Our", "New", "All", "Both", "Some",
    "Acquires", "Provides", "Supplies", "Sends", "HALE", "MALE", "UCAV", "UAV", "UAS", "SAM",
    "MLRS", "SSM", "AGM", "GBAD", "ISR", "Group", "Armed", "Air", "Army", "Navy", "Force",
    "Forces", "Ministry", "Defense", "Defence", "Military", "State", "National", "Anti",
    "Multiple", "Surface", "Ballistic", "Cruise", "Attack", "Main", "Battle", "Combat",
    "First", "Second", "Third", "Finally", "Overall", "However", "Click", "Image", "Take",
}


@dataclass(frozen=True)
class Mention:
    """An actor or a weapon system named in a text."""

    kind: str  # "actor" or "weapon"
    name: str  # the actor id, or the weapon's name as the gazetteer knows it
    start: int
    end: int
    text: str


@dataclass
class Gazetteer:
    """Names to look for: actor id -> its surface forms, and weapon system names."""

    actors: dict[str, tuple[str, ...]] = field(default_factory=dict)
    weapons: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        forms = sorted(((f, a) for a, fs in self.actors.items() for f in fs),
                       key=lambda x: -len(x[0]))
        self._actor_of = {f: a for f, a in forms}
        self._actor_rx = re.compile(
            r"(?<![\w])(" + "|".join(re.escape(f) for f, _ in forms) + r")(?:['’]s)?(?![\w])"
        ) if forms else None
        names = sorted(set(self.weapons), key=len, reverse=True)
        self._weapon_rx = re.compile(
            r"(?<![\w-])(" + "|".join(re.escape(n) for n in names) + r")(?:s\b)?(?![\w])"
        ) if names else None

    def actors_in(self, text: str, start: int = 0, end: int | None = None) -> list[Mention]:
        """Every actor named in ``text[start:end]``, with offsets into ``text``."""
        if self._actor_rx is None:
            return []
        end = len(text) if end is None else end
        return [Mention("actor", self._actor_of[m.group(1)], m.start(1), m.end(1), m.group(1))
                for m in self._actor_rx.finditer(text, start, end)]

    def weapons_in(self, text: str, start: int = 0, end: int | None = None) -> list[Mention]:
        """Weapon systems named in ``text[start:end]``: known names, designators, and
        capitalised names before a weapon word."""
        end = len(text) if end is None else end
        found: list[Mention] = []
        cov = bytearray(len(text))

        def add(m: Mention) -> None:
            if not any(cov[m.start:m.end]):
                found.append(m)
                cov[m.start:m.end] = b"\x01" * (m.end - m.start)

        if self._weapon_rx is not None:
            for m in self._weapon_rx.finditer(text, start, end):
                add(Mention("weapon", m.group(1), m.start(1), m.end(1), m.group(1)))
        for m in _DESIGNATOR.finditer(text, start, end):
            name = m.group().rstrip("s") if m.group().endswith("s") else m.group()
            add(Mention("weapon", name, m.start(), m.end(), m.group()))
        words = _words_of(text)
        for m in _NAME_BEFORE_WEAPON.finditer(text, start, end):
            if _is_name(m.group(1), self._actor_of, words):
                add(Mention("weapon", m.group(1), m.start(1), m.end(1), m.group(1)))
        out: list[Mention] = []
        for m in sorted(found, key=lambda x: x.start):
            prev = out[-1] if out else None
            if (prev is not None and text[prev.end:m.start] == " " and _DESIGNATOR.fullmatch(m.text)
                    and not _DESIGNATOR.fullmatch(prev.text)):  # "Bayraktar TB-2": one system
                s = text[prev.start:m.end]
                out[-1] = Mention("weapon", s, prev.start, m.end, s)
            else:
                out.append(m)
        return out


def _words_of(text: str) -> set[str]:
    """The words of ``text`` as written (hyphenated words whole)."""
    return set(re.findall(r"\w+(?:-\w+)*", text))


def _is_name(name: str, actor_forms: object, words: set[str]) -> bool:
    """Is a capitalised word before a weapon word a system's name ("Pinaka"), not a
    common word that starts a sentence ("While"), an acronym of a class ("SAMs") or an
    actor ("Russian")?"""
    head = name.split()[0].split("-")[0]
    bare = head[:-1] if head.endswith("s") and head[:-1].isupper() else head
    if bare in _NOT_NAMES or head in actor_forms or name in actor_forms:
        return False
    return head.lower() not in words  # "While" is a name only if "while" is not a word here


def _words(actor_id: str) -> str:
    return " ".join(w.capitalize() for w in actor_id.split("_"))


def weapon_names(texts: Iterable[str], actor_forms: Iterable[str] = ()) -> set[str]:
    """Weapon system names in ``texts`` (fact statements): names before weapon words
    and designators, without actor names and generic words."""
    forms = set(actor_forms)
    out: set[str] = set()
    for text in texts:
        for m in _DESIGNATOR.finditer(text):
            out.add(m.group().rstrip("s") if m.group().endswith("s") else m.group())
        words = _words_of(text)
        for m in _NAME_BEFORE_WEAPON.finditer(text):
            if _is_name(m.group(1), forms, words):
                out.add(m.group(1))
    return out


def build_gazetteer(facts: object | None = None, base: str | Path | None = None) -> Gazetteer:
    """The gazetteer of this project: actors of ``base`` (default scenarios/base.yaml)
    and of the fact cards ``facts`` (a :class:`~sim.evidence.cards.FactBase`), weapon
    names from the cards' statements and originals plus :data:`WEAPONS`."""
    actors: dict[str, list[str]] = {a: list(fs) for a, fs in ALIASES.items()}
    path = Path(base) if base is not None else scenarios_dir() / "base.yaml"
    if path.is_file():
        try:
            raw = load_yaml_file(path)
        except InputError:
            raw = {}
        for section in ("states", "alliances"):
            for aid, spec in (raw.get(section) or {}).items() if isinstance(raw, dict) else ():
                forms = actors.setdefault(str(aid), [])
                name = spec.get("name") if isinstance(spec, dict) else None
                for f in (name, _words(str(aid))):
                    if isinstance(f, str) and f and f not in forms:
                        forms.append(f)
    texts: list[str] = []
    for fact in getattr(facts, "facts", {}).values():
        for aid in fact.actors:
            forms = actors.setdefault(aid, [])
            if _words(aid) not in forms and aid not in ALIASES:
                forms.append(_words(aid))
        texts += [fact.statement, fact.original or ""]
    all_forms = {f for fs in actors.values() for f in fs}
    weapons = set(WEAPONS) | weapon_names(texts, all_forms)
    return Gazetteer({a: tuple(fs) for a, fs in actors.items()}, tuple(sorted(weapons)))
