"""The event log: what the rules report happening, in words, for a few replicates.

Rules emit declared events (:meth:`World.emit`); the world counts them for every
replicate. When a log is attached (``world.log = EventLog([0])``), the events of the
replicates it follows are also kept as records with a sentence each, from the event
type's template — the raw material of a narrated run.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..parts import registry
from ..scenario.expr import month_text
from .compile import LEVELS

if TYPE_CHECKING:
    from .model import World

_SECTION = {
    "state": "states",
    "alliance": "alliances",
    "supplier": "suppliers",
    "territory": "territories",
    "flashpoint": "flashpoints",
}


@dataclass
class Record:
    """One event in one replicate."""

    month: str  # YYYY-MM
    elapsed: int  # 1-based simulated month
    replicate: int
    event: str
    actors: dict[str, str]  # kind -> actor key
    fields: dict[str, float]
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"month": self.month, "elapsed": self.elapsed, "replicate": self.replicate, "event": self.event,
                "actors": dict(self.actors), "fields": dict(self.fields), "text": self.text}


@dataclass
class EventLog:
    """Keeps the records of the replicates in ``replicates`` (default: the first)."""

    replicates: list[int] = field(default_factory=lambda: [0])
    records: list[Record] = field(default_factory=list)
    limit: int = 200_000

    def record(self, world: World, name: str, mask: np.ndarray, fields: dict[str, Any], where: tuple | None = None) -> None:
        et = registry().events[name]
        reps = [r for r in self.replicates if r < world.n]
        if not reps or len(self.records) >= self.limit:
            return
        m = mask.reshape(world.n, *mask.shape[1:]) if mask.ndim else mask
        sub = m[reps]
        if not sub.any():
            return
        plan = world.plan
        full = {k: np.broadcast_to(np.asarray(v), m.shape) for k, v in fields.items()}
        for row in np.argwhere(sub):
            r = reps[row[0]]
            pos = tuple(int(x) for x in row[1:])
            vals = {k: float(v[(r, *pos)]) for k, v in full.items()}
            if where is not None:  # axes over a subset of actors
                pos = tuple(int(ix[p]) if ix is not None else p for p, ix in zip(pos, (*where, *[None] * len(pos)), strict=False))
            actors, labels = actors_at(plan, et.over, pos)
            try:
                text = _FORMATTER.format(et.template, **labels, **vals)
            except (KeyError, ValueError, IndexError) as exc:  # a template that does not fit its fields
                text = f"{name} ({exc})"
            self.records.append(Record(month_text(world.month), world.elapsed + 1, r, name, actors, vals, text))

    def for_replicate(self, r: int) -> list[Record]:
        return [x for x in self.records if x.replicate == r]


def rung(level: float) -> str:
    """``3`` -> ``rung 3 (fatal clash)``."""
    k = int(round(float(level)))
    return f"rung {k} ({LEVELS[k]})" if 0 <= k < len(LEVELS) else f"rung {k}"


class _Formatter(string.Formatter):
    """``str.format`` with one more format: ``{after:rung}`` names the rung."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "rung":
            return rung(value)
        return super().format_field(value, format_spec)


_FORMATTER = _Formatter()


def short_name(plan: Any, kind: str, key: str) -> str:
    """An actor's name as a sentence uses it.

    An organisation whose name's initials are its key is called by them ("the CSTO" for
    the Collective Security Treaty Organization); a trailing parenthesis is dropped
    ("Karabakh Armenians (de facto authorities)" -> "Karabakh Armenians").
    """
    spec = getattr(plan.scenario, _SECTION[kind]).get(key)
    name = getattr(spec, "name", "") or key
    if kind == "alliance":
        initials = "".join(w[0] for w in re.findall(r"[A-Za-z]+", name) if w[0].isupper())
        if initials.lower() == key.replace("_", "").lower() and len(initials) >= 2:
            return f"the {initials}"
    return re.sub(r"\s*\([^)]*\)\s*$", "", name) or key


def lever_phrase(plan: Any, actor: str, lever: str) -> str:
    """A lever's description as a phrase: first letter lowered (unless a name), no final stop."""
    text = plan.scenario.levers[actor][lever].description.strip().rstrip(".")
    first = text.split(" ", 1)[0]
    if first[:1].isupper() and first[1:2].islower() and not _is_name(plan, first):
        text = text[0].lower() + text[1:]
    return text


def _is_name(plan: Any, word: str) -> bool:
    for section in _SECTION.values():
        for key, spec in getattr(plan.scenario, section).items():
            if word.lower() in (key, (getattr(spec, "name", "") or "").split(" ", 1)[0].lower()):
                return True
    return False


def _label(plan: Any, kind: str, key: str) -> str:
    if kind == "event":
        for ev in plan.scenario.events:
            if ev.name == key:
                return ev.description or key.replace("_", " ")
        return key
    if kind == "lever":
        actor, _, lever = key.partition(".")
        return lever_phrase(plan, actor, lever)
    return short_name(plan, kind, key)


def actors_at(plan: Any, over: tuple[str, ...], pos: tuple[int, ...]) -> tuple[dict[str, str], dict[str, str]]:
    """Actor keys and display names of an event at ``pos`` of its ``over`` dimensions."""
    keys: dict[str, str] = {}
    fp = None
    for kind, i in zip(over, pos, strict=False):
        if kind == "side":
            if fp is None:
                continue
            s, o = plan.sides[fp, i], plan.sides[fp, 1 - i]
            keys["state"] = plan.states[s]
            keys["opponent"] = plan.states[o]
            continue
        if kind == "lever":
            actor, lever = plan.lever_keys[i]
            keys["lever"] = f"{actor}.{lever}"
            keys.setdefault("state", actor)
            continue
        seq = plan.events if kind == "event" else plan.section(_SECTION[kind])
        keys[kind] = seq[i]
        if kind == "flashpoint":
            fp = i
            t = plan.stakes[i]
            if t >= 0:
                keys.setdefault("territory", plan.territories[t])
    labels = {k: _label(plan, "state" if k == "opponent" else k, v) for k, v in keys.items()}
    return keys, labels
