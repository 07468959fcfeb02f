"""Readable labels for parameter paths: "Russia's available capacity" for
``states.russia.available_capacity``, "CSTO credibility" for ``alliances.csto.credibility``.

Actor names come from the scenario (display names, without a parenthesised aside);
mechanism parameters have a phrase each where one was written (:data:`RULE_PHRASES`),
else their kind and name. A path nothing here knows is returned as it is.
"""

from __future__ import annotations

import re
from typing import Any

RUNGS = ("calm", "tension", "display or blockade", "fatal clash", "major clash", "war")
"""The escalation ladder's rungs 0-5, in words."""

RULE_PHRASES: dict[str, str] = {
    "offensive.base_rate": "limited offensive: base rate of launches",
    "offensive.beta_balance": "limited offensive: weight of the balance of capability",
    "offensive.beta_isolation": "limited offensive: weight of the defender's isolation",
    "offensive.beta_resolve": "limited offensive: weight of resolve",
    "offensive.war_risk": "limited offensive: chance the defender fights on (a war)",
    "offensive.decisiveness": "limited offensive: decisiveness of the balance",
    "blockade.wear_rate": "blockade: monthly wear on the blockaded side's supplies",
    "blockade.recovery_rate": "blockade: monthly recovery of supplies once lifted",
    "blockade.lift_rate": "blockade: rate at which it is lifted",
    "talks.open_rate": "talks: rate at which talks open",
    "talks.stall_rate": "talks: rate at which talks stall",
    "talks.resume_rate": "talks: rate at which stalled talks resume",
    "talks.progress_rate": "talks: pace of progress",
    "talks.sign_rate": "talks: rate of signing an agreement",
    "patronage.patron_cost": "patronage: trust a member loses when its alliance lets its protégé down",
    "patronage.patron_gain": "patronage: trust a member gains when its alliance backs its protégé",
    "procurement.beta_dependence": "procurement: pull of the incumbent supplier (dependence on its stocks)",
    "alignment.third_party_cost": "alignment: how much arming a rival sours a buyer",
    "escalation.casualties_fatal_clash": "escalation: deaths in a fatal clash (median)",
    "escalation.casualties_major_clash": "escalation: deaths in a major clash (median)",
    "escalation.casualties_war": "escalation: deaths per month of war (median)",
}

STATE_ATTRS = {
    "capability": "capability",
    "resolve": "resolve",
    "available_capacity": "available capacity",
    "supplies": "supplies at the start",
    "procurement_budget_usd": "arms-import budget",
}

_VECTOR = re.compile(r"^(\w+)\[(\d+)\]$")


def actor_name(spec: Any, section: str, key: str) -> str:
    """An actor's display name without a parenthesised aside ("Karabakh Armenians")."""
    actor = getattr(spec, section, {}).get(key)
    name = getattr(actor, "name", "") or key
    return re.sub(r"\s*\(.*\)\s*$", "", name).strip() or key


def possessive(name: str) -> str:
    """``Russia`` -> ``Russia's``; ``Karabakh Armenians`` -> ``Karabakh Armenians'``."""
    return name + ("'" if name.endswith("s") else "'s")


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
    if m and kind == "escalation" and m.group(1) in ("base_up", "base_down"):
        i = int(m.group(2))
        if m.group(1) == "base_up" and i < 5:
            return f"escalation: up-rate from rung {i} ({RUNGS[i]}) to {i + 1} ({RUNGS[i + 1]})"
        if m.group(1) == "base_down" and 0 < i <= 5:
            return f"escalation: how fast a {RUNGS[i]} subsides (down-rate from rung {i})"
    phrase = RULE_PHRASES.get(f"{kind}.{param}")
    if phrase:
        return phrase
    return f"{kind}: {param.replace('_', ' ')}"


def label(path: str, spec: Any) -> str:
    """A readable label for a parameter path of scenario ``spec`` (a validated
    :class:`sim.scenario.schema.Scenario`); the path itself when nothing fits."""
    parts = path.split(".")
    try:
        if parts[0] == "rules" and len(parts) == 3:
            return _rule(parts[1], parts[2])
        if parts[0] == "states" and len(parts) in (3, 4) and parts[1] in spec.states:
            who = possessive(actor_name(spec, "states", parts[1]))
            attr = parts[2]
            if len(parts) == 3 and attr in STATE_ATTRS:
                return f"{who} {STATE_ATTRS[attr]}"
            if len(parts) == 4 and attr == "suppliers":
                return (f"{possessive(supplier_owner(spec, parts[3]))} share of "
                        f"{who} arms imports at the start")
            if len(parts) == 4 and attr == "affinity":
                return f"{who} attitude to {actor_name(spec, 'states', parts[3])}"
            if len(parts) == 4 and attr == "orders":
                return f"{who} open orders from {supplier_owner(spec, parts[3])}"
        if parts[0] == "alliances" and parts[1] in spec.alliances:
            a = alliance_name(spec, parts[1])
            if len(parts) == 3 and parts[2] == "credibility":
                return f"{a} credibility"
            if len(parts) == 4 and parts[2] == "trust":
                return f"{possessive(actor_name(spec, 'states', parts[3]))} trust in the {a}"
            if len(parts) == 3:
                return f"{a}: {parts[2].replace('_', ' ')}"
        if parts[0] == "suppliers" and len(parts) == 3 and parts[1] in spec.suppliers:
            owner = supplier_owner(spec, parts[1])
            what = {"reliability": "reliability of {} arms deliveries", "price_quality": "price and quality of {} arms",
                    "lag_months": "delivery lag of {} arms"}.get(parts[2])
            return what.format(possessive(owner)) if what else f"{owner} arms: {parts[2].replace('_', ' ')}"
        if parts[0] == "flashpoints" and len(parts) == 3 and parts[1] in spec.flashpoints:
            f = actor_name(spec, "flashpoints", parts[1])
            what = {"progress": f"share already agreed in the talks on the {f}",
                    "level": f"rung on the {f} at the start"}.get(parts[2])
            return what or f"{f}: {parts[2].replace('_', ' ')}"
        m = re.match(r"^events\[(\d+)\]\.probability$", path)
        if m and int(m.group(1)) < len(spec.events):
            return f"monthly chance of the event {spec.events[int(m.group(1))].name}"
    except (AttributeError, KeyError, IndexError):
        return path
    return path
