"""Readable labels for parameter paths: "Russia's available capacity" for
``states.russia.available_capacity``, "CSTO credibility" for ``alliances.csto.credibility``.

The phrases are declared with the parts (:func:`sim.parts.declare_attr`'s ``label``,
:func:`sim.scenario.values.default`'s ``label`` for a mechanism's parameter), with actor
placeholders this module fills: actor names come from the scenario (display names,
without a parenthesised aside; an alliance by its acronym; a supplier by the state
behind it). A parameter without a phrase is named by its kind and name; a path nothing
here knows is returned as it is.
"""

from __future__ import annotations

import re
from typing import Any

from ..parts import SECTIONS, phrase, possessive, registry

__all__ = ["RUNGS", "actor_name", "alliance_name", "label", "possessive", "supplier_owner"]

RUNGS = ("calm", "tension", "display or blockade", "fatal clash", "major clash", "war")
"""The escalation ladder's rungs 0-5, in words."""

_VECTOR = re.compile(r"^(\w+)\[(\d+)\]$")


def actor_name(spec: Any, section: str, key: str) -> str:
    """An actor's display name without a parenthesised aside ("Karabakh Armenians")."""
    actor = getattr(spec, section, {}).get(key)
    name = getattr(actor, "name", "") or key
    return re.sub(r"\s*\(.*\)\s*$", "", name).strip() or key


def alliance_name(spec: Any, key: str) -> str:
    """The alliance's acronym when its key is one (CSTO, SCO), else its display name."""
    name = actor_name(spec, "alliances", key)
    initials = "".join(w[0] for w in name.split() if w[:1].isupper())
    return key.upper() if initials.lower() == key.lower() else name


def supplier_owner(spec: Any, key: str) -> str:
    """The state behind a supplier (``russia_arms`` -> Russia), else the supplier's name."""
    sup = spec.suppliers.get(key)
    state = getattr(sup, "state", None)
    return actor_name(spec, "states", state) if state else actor_name(spec, "suppliers", key)


def _rule(kind: str, param: str) -> str:
    m = _VECTOR.match(param)
    name, i = (m.group(1), int(m.group(2))) if m else (param, None)
    for rd in registry().rules.get(kind, {}).values():
        f = rd.params.model_fields.get(name)
        extra = getattr(f, "json_schema_extra", None)
        said = extra.get("label") if isinstance(extra, dict) else None
        if isinstance(said, list) and i is not None and i < len(said) and said[i]:
            return said[i]
        if isinstance(said, str) and said and i is None:
            return said
    return f"{kind}: {param.replace('_', ' ')}"


_NAMER = {
    "states": lambda spec, key: actor_name(spec, "states", key),
    "alliances": alliance_name,
    "suppliers": supplier_owner,
    "territories": lambda spec, key: actor_name(spec, "territories", key),
    "flashpoints": lambda spec, key: actor_name(spec, "flashpoints", key),
}
"""How a label names an actor of each section."""


def _attr(parts: list[str], spec: Any) -> str | None:
    """The declared label of an actor's attribute (``states.armenia.resolve``), filled in."""
    section, key, name = parts[0], parts[1], parts[2]
    a = registry().attrs.get((section, name))
    if a is None or not a.label or (len(parts) == 4) != (a.keyed_by is not None):
        return None
    keys = [(section, key)] + ([(a.keyed_by, parts[3])] if a.keyed_by else [])
    if any(k not in getattr(spec, sect) for sect, k in keys):
        return None
    return phrase(a.label, **dict(zip(a.placeholders, (_NAMER[sect](spec, k) for sect, k in keys), strict=True)))


def label(path: str, spec: Any) -> str:
    """A readable label for a parameter path of scenario ``spec`` (a validated
    :class:`sim.scenario.schema.Scenario`); the path itself when nothing fits."""
    parts = path.split(".")
    try:
        if parts[0] == "rules" and len(parts) == 3:
            return _rule(parts[1], parts[2])
        if parts[0] in SECTIONS and len(parts) in (3, 4) and parts[1] in getattr(spec, parts[0]):
            said = _attr(parts, spec)
            if said is not None:
                return said
            if len(parts) == 3 and parts[0] != "states":  # an attribute without a phrase
                what = parts[2].replace("_", " ")
                if parts[0] == "suppliers":
                    return f"{supplier_owner(spec, parts[1])} arms: {what}"
                return f"{_NAMER[parts[0]](spec, parts[1])}: {what}"
        m = re.match(r"^events\[(\d+)\]\.probability$", path)
        if m and int(m.group(1)) < len(spec.events):
            return f"monthly chance of the event {spec.events[int(m.group(1))].name}"
    except (AttributeError, KeyError, IndexError):
        return path
    return path
