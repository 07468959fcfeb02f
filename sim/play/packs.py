"""Classroom exercise packs: a folder with the teacher's ``README.md``, a ``pack.yaml``
saying what sim needs (the scenario, the inject deck, the teams, the months and the
turn timer), the deck and a sample moves file.

The packs ship with the package (``docs/classroom/`` in a source checkout, package data
``sim/_classroom`` in an installed wheel: :func:`sim.paths.classroom_dir`), so
``sim play caucasus-credibility --as armenia`` works from any folder; ``sim packs``
lists them. A pack's scenario is a file beside its ``pack.yaml`` (which may
``extends:`` a shipped scenario by name) or a shipped scenario's name.

The README stays the one text a teacher reads: the briefings take its situation,
learning goals, the teams' aims (its roles table), timing, debrief questions and limits
from it, and everything about levers from the scenario (:mod:`sim.play.briefings`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import Field

from ..scenario.errors import InputError, Mark, Problem, suggest
from ..scenario.schema import Name, Strict

PACK_FILE = "pack.yaml"


class PackSpec(Strict):
    """``pack.yaml``: what sim needs to play a pack."""

    title: str = Field(description="The exercise's title.")
    scenario: str = Field(description="A scenario file beside pack.yaml, or a shipped scenario's name.")
    injects: str | None = Field(None, description="The instructor's inject deck, a file beside pack.yaml.")
    moves: str | None = Field(None, description="A sample moves file beside pack.yaml (a preview without prompts).")
    months: int | None = Field(None, ge=1, le=600, description="Months the game lasts (default: the scenario's horizon).")
    teams: list[Name] = Field(min_length=1, description="The actors the class plays, one team each.")
    optional_teams: list[Name] = Field([], description="Further actors a larger class may play.")
    headline: list[Name] = Field([], description="The outcomes the exercise is about (its questions): none of them "
                                 "should be decided before the class's second decision (tests/test_player_decisions.py).")
    turn_minutes: float = Field(6, gt=0, le=240, description="Minutes a team has to decide each turn (the timer).")
    warning_minutes: float = Field(1, ge=0, le=240, description="The timer warns this many minutes before the end.")


def _cells(line: str) -> list[str]:
    """The cells of a Markdown table row (``\\|`` is a bar inside a cell)."""
    inner = line.strip().strip("|")
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", inner)]


def markdown_sections(text: str) -> dict[str, str]:
    """A Markdown text's ``## `` sections: title -> body."""
    out: dict[str, str] = {}
    title = None
    body: list[str] = []
    for line in text.splitlines():
        if line.startswith("## "):
            if title is not None:
                out[title] = "\n".join(body).strip()
            title, body = line[3:].strip(), []
        elif title is not None:
            body.append(line)
    if title is not None:
        out[title] = "\n".join(body).strip()
    return out


def markdown_table(body: str) -> list[list[str]]:
    """The rows of the first table in a section (header and rule left out)."""
    rows = [ln for ln in body.splitlines() if ln.strip().startswith("|")]
    return [_cells(r) for r in rows[2:]]


@dataclass
class Role:
    """A row of a pack's roles table: the team, the actor it plays, its aims, the levers listed."""

    team: str
    actor: str | None
    wants: str
    levers: list[str] = field(default_factory=list)


@dataclass
class Pack:
    """An exercise pack on disk."""

    name: str
    folder: Path
    spec: PackSpec

    @property
    def readme(self) -> str:
        p = self.folder / "README.md"
        return p.read_text(encoding="utf-8") if p.is_file() else ""

    @cached_property
    def sections(self) -> dict[str, str]:
        return markdown_sections(self.readme)

    def section(self, starts: str) -> str:
        """The README section whose title starts with ``starts`` ("" if none)."""
        return next((b for t, b in self.sections.items() if t.lower().startswith(starts.lower())), "")

    def section_title(self, starts: str) -> str:
        return next((t for t in self.sections if t.lower().startswith(starts.lower())), starts)

    def roles(self) -> list[Role]:
        """The README's roles table: team, actor (the ``plays`` cell), aims, levers listed."""
        out = []
        for cells in markdown_table(self.section("Roles")):
            if len(cells) < 4:
                continue
            actor = re.fullmatch(r"`(\w+)`", cells[1])
            out.append(Role(cells[0], actor.group(1) if actor else None, cells[2],
                            re.findall(r"`([\w.]+)`", cells[3]) if actor else []))
        return out

    def file(self, name: str | None) -> Path | None:
        return None if name is None else self.folder / name

    def scenario_ref(self) -> str:
        """What :func:`sim.load_scenario` takes: the file beside pack.yaml, else a shipped name."""
        p = self.folder / self.spec.scenario
        return str(p) if p.suffix in (".yaml", ".yml") or p.exists() else self.spec.scenario

    def load_scenario(self, overrides: list[str] | None = None) -> Any:
        from ..api import load_scenario

        return load_scenario(self.scenario_ref(), overrides=overrides or None)

    def deck(self, scn: Any) -> list[Any]:
        from .injects import load_injects

        p = self.file(self.spec.injects)
        return load_injects(p, scn) if p is not None else []

    @property
    def all_teams(self) -> list[str]:
        return list(self.spec.teams) + [t for t in self.spec.optional_teams if t not in self.spec.teams]


def pack_names() -> list[str]:
    """The shipped packs' names (folders holding a ``pack.yaml``)."""
    from ..paths import classroom_dir

    root = classroom_dir()
    return sorted(p.parent.name for p in root.glob(f"*/{PACK_FILE}")) if root.is_dir() else []


def load_pack(folder: str | Path) -> Pack:
    """A pack from its folder (its ``pack.yaml`` checked: one ``file:line:col`` line a problem)."""
    from ..scenario.validation import validate_model
    from ..scenario.yamlsafe import load_yaml_file

    folder = Path(folder)
    file = folder / PACK_FILE
    if not file.is_file():
        raise InputError([Problem(Mark(str(file)), "", "no pack.yaml here: a pack is a folder with pack.yaml, "
                                  "README.md and its inject deck (sim packs lists the shipped ones)")])
    spec = validate_model(PackSpec, load_yaml_file(file), file=str(file))
    problems = []
    for key in ("injects", "moves"):
        name = getattr(spec, key)
        if name is not None and not (folder / name).is_file():
            problems.append(Problem(Mark(str(file)), key, f"no file {name} beside pack.yaml"))
    if problems:
        raise InputError(problems)
    return Pack(folder.name, folder, spec)


def find_pack(ref: str) -> Pack | None:
    """The pack a ``sim play`` argument names: a shipped pack's name, or a folder with a
    ``pack.yaml``; None when it names neither (then it is a scenario)."""
    from ..paths import classroom_dir

    p = Path(ref)
    try:
        if p.is_dir() and (p / PACK_FILE).is_file():
            return load_pack(p)
    except OSError:
        return None
    if "/" in ref or "\\" in ref or p.suffix:
        return None
    here = classroom_dir() / ref
    return load_pack(here) if (here / PACK_FILE).is_file() else None


def unknown(ref: str) -> str:
    """A hint for a name that is neither a scenario nor a pack."""
    return suggest(ref, pack_names())


def list_packs() -> list[dict[str, Any]]:
    """The shipped packs: name, title, scenario, teams, months, folder."""
    out = []
    for name in pack_names():
        from ..paths import classroom_dir

        try:
            pk = load_pack(classroom_dir() / name)
        except InputError:
            continue
        out.append({"name": name, "title": pk.spec.title, "scenario": pk.spec.scenario, "teams": pk.spec.teams,
                    "optional_teams": pk.spec.optional_teams, "months": pk.spec.months, "folder": str(pk.folder)})
    return out


def check_headline(pack: Pack, scn: Any) -> None:
    """The pack's ``headline`` outcomes are outcomes of its scenario (one line each if not)."""
    have = list(scn.spec.outcomes)
    bad = [Problem(Mark(str(pack.folder / PACK_FILE)), f"headline[{i}]",
                   f"no outcome '{n}' in the pack's scenario{suggest(n, have) or '; its outcomes are ' + ', '.join(have)}")
           for i, n in enumerate(pack.spec.headline) if n not in have]
    if bad:
        raise InputError(bad)


@dataclass
class Setup:
    """A game to start from a pack or a scenario: the scenario, the deck, who is played, the months."""

    scn: Any
    deck: list[Any]
    played: list[str]
    months: int | None
    pack: Pack | None = None


def game_setup(ref: str, played: list[str] | None = None, *, injects: str | Path | None = None,
               months: int | None = None, overrides: list[str] | None = None, default_teams: bool = False) -> Setup:
    """What ``sim play REF`` starts: a pack (its scenario, its deck unless ``injects`` is
    given, its months unless ``months`` is, its teams when ``default_teams`` and none are
    given) or a scenario (a path or a shipped name)."""
    from ..api import load_scenario
    from .injects import load_injects

    pack = find_pack(ref)
    if pack is not None:
        scn = pack.load_scenario(overrides)
        check_headline(pack, scn)
        deck = load_injects(injects, scn) if injects is not None else pack.deck(scn)
        who = list(played or []) or (list(pack.spec.teams) if default_teams else [])
        return Setup(scn, deck, who, months if months is not None else pack.spec.months, pack)
    scn = load_scenario(ref, overrides=overrides or None)
    deck = load_injects(injects, scn) if injects is not None else []
    return Setup(scn, deck, list(played or []), months)
