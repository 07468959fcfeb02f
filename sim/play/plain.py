"""Plain words for a class: what a lever changes in the model, outcomes grouped by what
they concern, and the situation a country would know.

Everything is derived from declarations, not written per scenario: a lever's words come
from its effect and the labels, units, bounds and docs the parts declare for the
attributes and targets it changes (:mod:`sim.report.labels`); an outcome's group from
the actors its spec names (a flashpoint's territory at stake, a member and its
alliance, a buyer's imports); its short label from its kind and fields.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from ..report.labels import RUNGS, label

# ------------------------------------------------------------------ levers in words

_CODES = re.compile(r"([+-]?\d+)\s+([^,;.()]+(?:\([^)]*\))?)")


def _codes(doc: str) -> dict[int, str]:
    """``"Talks at the start: 0 none, 1 open, 2 stalled."`` -> ``{0: "none", 1: "open", 2: "stalled"}``."""
    text = doc.split(":", 1)[1] if ":" in doc else ""
    return {int(m.group(1)): m.group(2).strip() for m in _CODES.finditer(text)}


def _number(v: float, unit: str = "") -> str:
    a = abs(v)
    if unit == "USD" or a >= 1e6:
        text = f"{v / 1e9:g} bn" if a >= 1e9 else f"{v / 1e6:g} m" if a >= 1e6 else f"{v:,.0f}"
        return f"USD {text}" if unit == "USD" else text
    return f"{v:.3g}" if a < 1000 else f"{v:,.0f}"


def _sides(scn: Any, parts: list[str], text: str) -> str:
    """"the first side"/"the second" of a flashpoint's doc as the sides' names."""
    if parts[0] != "flashpoints":
        return text
    fp = scn.spec.flashpoints.get(parts[1])
    if fp is None:
        return text
    from ..report.labels import actor_name

    a, b = (actor_name(scn.spec, "states", s) for s in fp.sides)
    text = re.sub(r"\bthe first side\b|\bthe first\b", a, text)
    return re.sub(r"\bthe second side\b|\bthe second\b", b, text)


def change_words(scn: Any, op: str, path: str, value: Any) -> str:
    """One change of an effect in words: ``add states.armenia.resolve 0.1`` ->
    "raises Armenia's resolve by 0.1 (of 0 to 1)"."""
    from ..parts import registry
    from ..report.labels import actor_name, alliance_name

    parts = path.split(".")
    reg = registry()
    attr = reg.attrs.get((parts[0], parts[2])) if len(parts) >= 3 else None
    target = reg.targets.get((parts[0], parts[2])) if len(parts) == 3 else None
    said = label(path, scn.spec)
    if said.endswith(" at the start"):  # a state's starting value: an effect changes it now
        said = said[: -len(" at the start")]
    if said.startswith("rung on the "):
        said = "the rung on the " + said[len("rung on the "):]
    generic = parts[0] in ("alliances", "flashpoints") and ":" in said  # no phrase declared: "CSTO: trigger level"
    if generic:
        owner_, what_ = said.split(": ", 1)
        said = f"the {owner_}'s {what_}" if parts[0] == "alliances" else f"the {what_} on the {owner_}"
    if target is not None:
        names = value if isinstance(value, list) else [value]
        who = ", ".join(actor_name(scn.spec, "states", n) for n in names)
        owner = alliance_name(scn.spec, parts[1]) if parts[0] == "alliances" else actor_name(scn.spec, parts[0], parts[1])
        doc = dict(re.findall(r"(add|remove|set): ([^;]+)", target.doc))
        if op in doc:
            return f"{who}: {doc[op].strip()} in the {owner}"
        what = parts[2].replace("_", " ")
        verb = {"add": f"adds {who} to the {what}", "remove": f"removes {who} from the {what}",
                "set": f"makes {who} the only {what}"}[op]
        return f"{verb} {'of' if parts[0] == 'alliances' else 'on'} the {owner}"
    unit = attr.unit if attr else ""
    gloss = ""
    if attr is not None and generic and attr.doc:  # no phrase declared: the doc says what it is
        gloss = attr.doc.split(":")[0].split(".")[0].strip()
        gloss = f" ({gloss[0].lower() + gloss[1:]})" if gloss and not _codes(attr.doc) else ""
    v = float(value)
    if op == "multiply":
        change = 100 * (v - 1)
        return (f"raises {said} by {change:.0f}%" if change > 0 else f"cuts {said} by {-change:.0f}%"
                if change < 0 else f"leaves {said} as it is")
    scale = ""
    if attr is not None and not attr.bounds.integer and math.isfinite(attr.bounds.hi) and attr.bounds.hi <= 1:
        scale = f" (on a scale of {attr.bounds.lo:g} to {attr.bounds.hi:g})"
    if op == "add":
        return (f"raises {said}{gloss} by {_number(v, unit)}{scale}" if v >= 0
                else f"lowers {said}{gloss} by {_number(-v, unit)}{scale}")
    meaning = ""
    if attr is not None:
        codes = _codes(attr.doc)
        if "rung" in attr.doc.lower() and v == int(v) and 0 <= v < len(RUNGS):
            meaning = f" ({RUNGS[int(v)]})"
        elif int(v) in codes and v == int(v):
            meaning = f" ({_sides(scn, parts, codes[int(v)])})"
    return f"sets {said}{gloss} to {_number(v, unit)}{meaning}{scale if not meaning else ''}"


def effect_words(scn: Any, effect: Any) -> list[str]:
    """What an effect changes in the model, one phrase per change, from the declarations."""
    out = []
    for op in ("set", "add", "multiply", "remove"):
        for path, value in getattr(effect, op).items():
            out.append(change_words(scn, op, path, value))
    for ev in effect.event:
        desc = next((e.description for e in scn.spec.events if e.name == ev), "") or ev.replace("_", " ")
        out.append(f"may set off: {desc.rstrip('.')}")
    return out


@dataclass(frozen=True)
class Choice:
    """A choice a team can make in a turn.

    Attributes:
        key: What is submitted (``armenia.appeal_to_csto``).
        actor: Whose choice it is.
        kind: ``lever`` (a lever the scenario declares). A played country's rule-driven
            decisions can join as another kind, applied the same way (an effect at the
            start of the turn), with the model's own odds as ``advice``.
        title: The choice in one line (the lever's description).
        changes: What it changes in the model, in plain words (:func:`effect_words`).
        source: Where its numbers come from.
        advice: The model's own view, if any (e.g. "the model would do this in 30% of months").
    """

    key: str
    actor: str
    kind: str
    title: str
    changes: tuple[str, ...] = ()
    source: str = ""
    advice: str = ""


def choices_for(scn: Any, actor: str) -> list[Choice]:
    """The choices of an actor's team: its levers, in plain words."""
    out = []
    for lever, spec in scn.spec.levers.get(actor, {}).items():
        src = spec.source.describe() if spec.source is not None else ""
        out.append(Choice(f"{actor}.{lever}", actor, "lever", spec.description.strip(),
                          tuple(effect_words(scn, spec.effect)), src))
    return out


def effect_targets(scn: Any, actors: list[str] | None = None) -> list[dict[str, Any]]:
    """What an umpire may change, as a menu (no effect syntax): the parameters and state the
    scenario declares for the flashpoints, the alliances of the actors given, those actors
    and the sides of the flashpoints, and their arms suppliers, each with its label, kind
    (``num``, ``int`` or ``names``), bounds and the operations that fit; the lists of names
    (mediators, frozen members) with the names they may hold. ``[{"path", "label", "kind",
    "lo", "hi", "ops", "names"}]``."""
    from ..parts import registry

    plan = scn.compiled()
    spec = scn.spec
    focus = set(actors or [])
    for fp in spec.flashpoints.values():
        focus |= set(fp.sides)
    alliances = {a for a, al in spec.alliances.items()
                 if any(s in focus for s in getattr(al, "members", []) or [])} or set(spec.alliances)
    suppliers = {k for k, sup in spec.suppliers.items() if getattr(sup, "state", None) in focus}
    for s in focus:
        st = spec.states.get(s)
        suppliers |= set(getattr(st, "suppliers", {}) or {}) if st is not None else set()
    keep = {"flashpoints": set(spec.flashpoints), "alliances": alliances, "states": focus, "suppliers": suppliers,
            "territories": set(spec.territories)}
    order = ("flashpoints", "alliances", "states", "suppliers", "territories")
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for r in scn.parameters():
        path = r["path"]
        parts = path.split(".")
        if parts[0] not in keep or len(parts) < 3 or parts[1] not in keep[parts[0]] or path in seen:
            continue
        if len(parts) == 4 and parts[0] == "states" and parts[3] not in focus | suppliers:
            continue  # attitudes to actors outside the game
        if len(parts) == 4 and parts[0] == "alliances" and parts[3] not in focus:
            continue
        ad = plan.address(path)
        if ad is None or ad.kind not in ("num", "int"):
            continue
        seen.add(path)
        said = label(path, spec)
        said = said[: -len(" at the start")] if said.endswith(" at the start") else said
        rows.append({"path": path, "label": said, "kind": ad.kind, "lo": float(ad.bounds.lo), "hi": float(ad.bounds.hi),
                     "ops": ["set", "add", "multiply"] if ad.kind == "num" else ["set", "add"], "names": []})
    from ..report.labels import actor_name, alliance_name

    for (section, name), t in registry().targets.items():
        if t.kind != "names" or section not in keep:
            continue
        for key in sorted(keep[section]):
            path = f"{section}.{key}.{name}"
            if plan.address(path) is None:
                continue
            owner = alliance_name(spec, key) if section == "alliances" else actor_name(spec, section, key)
            members = (list(getattr(spec.alliances[key], "members", []) or []) if section == "alliances"
                       else sorted(focus))
            rows.append({"path": path, "label": f"{owner}: {name.replace('_', ' ')}", "kind": "names",
                         "lo": None, "hi": None, "ops": ["add", "remove"], "names": members})
    rows.sort(key=lambda r: (order.index(r["path"].split(".")[0]), r["label"]))
    return rows


def target_effect(scn: Any, targets: list[dict[str, Any]], path: str, op: str, value: Any) -> dict[str, Any]:
    """An effect (as data) from a menu choice: ``{op: {path: value}}``, checked against the
    menu: :class:`ValueError` with one line saying what is wrong."""
    row = next((t for t in targets if t["path"] == path), None)
    if row is None:
        raise ValueError(f"'{path}' is not among the things this game lets the umpire change")
    if op not in row["ops"]:
        raise ValueError(f"{row['label']}: choose one of {', '.join(row['ops'])} (not '{op}')")
    if row["kind"] == "names":
        names = [value] if isinstance(value, str) else list(value or [])
        if not names or any(n not in row["names"] for n in names):
            raise ValueError(f"{row['label']}: choose among {', '.join(row['names'])}")
        return {op: {path: names}}
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{row['label']}: give a number (got {value!r})") from None
    if not math.isfinite(v):
        raise ValueError(f"{row['label']}: give a finite number")
    if op == "set" and not row["lo"] <= v <= row["hi"]:
        raise ValueError(f"{row['label']}: {v:g} is outside {row['lo']:g} to {row['hi']:g}")
    if row["kind"] == "int":
        if v != int(v):
            raise ValueError(f"{row['label']}: give a whole number (got {v:g})")
        v = int(v)
    return {op: {path: v}}


# ------------------------------------------------------------------ outcome groups

@dataclass
class Group:
    """Outcomes that concern one thing (a territory, a border, a member and its alliance)."""

    key: str
    title: str
    outcomes: list[str] = field(default_factory=list)
    short: dict[str, str] = field(default_factory=dict)


def _short(scn: Any, spec: Any, name: str) -> str:
    from ..report.labels import actor_name, supplier_owner

    kind = spec.kind
    s = scn.spec
    if kind == "escalation":
        return RUNGS[spec.reaches]
    if kind == "territory":
        return f"held by {actor_name(s, 'states', spec.controller)}"
    if kind == "offensive":
        return {"launched": "offensive launched", "gains": "offensive takes ground"}.get(spec.result,
                                                                                        "offensive takes it all")
    if kind == "monthly_deaths":
        return f"over {spec.above:,.0f} dead in a month"
    if kind == "casualties":
        return f"over {spec.above:,.0f} dead"
    if kind == "agreement":
        return "agreement"
    if kind == "settlement":
        return "settled"
    if kind == "membership":
        return {"frozen": "freezes", "exited": "leaves", "member": "joins"}[spec.becomes]
    if kind == "trust":
        for k in ("below", "above"):
            v = getattr(spec, k, None)
            if v is not None:
                return f"trust {k} {v:g}"
    if kind == "supplier_share":
        for k, w in (("above", "over"), ("below", "under")):
            v = getattr(spec, k, None)
            if v is not None:
                return f"{supplier_owner(s, spec.supplier)} {w} {100 * v:.0f}%"
    if kind == "main_supplier":
        return f"{supplier_owner(s, spec.supplier)} main supplier"
    d = spec.description or name.replace("_", " ")
    return d[0].lower() + d[1:] if d else name


def _group_key(scn: Any, spec: Any, keys: dict[str, tuple[str, str]]) -> tuple[str, str]:
    from ..report.labels import actor_name, alliance_name

    s = scn.spec
    if spec.kind in ("any", "all"):
        got = {keys[o] for o in spec.of if o in keys}
        return got.pop() if len(got) == 1 else ("all", "Across the region")
    fp = getattr(spec, "flashpoint", None)
    terr = getattr(spec, "territory", None)
    if fp is not None:
        stakes = getattr(s.flashpoints[fp], "stakes", None)
        if stakes:
            terr = stakes
        else:
            return (f"flashpoint:{fp}", actor_name(s, "flashpoints", fp))
    if terr is not None:
        return (f"territory:{terr}", actor_name(s, "territories", terr))
    state, alliance = getattr(spec, "state", None), getattr(spec, "alliance", None)
    if state and alliance:
        return (f"member:{state}:{alliance}", f"{actor_name(s, 'states', state)} and the {alliance_name(s, alliance)}")
    if state and getattr(spec, "supplier", None):
        return (f"imports:{state}", f"{actor_name(s, 'states', state)}'s arms imports")
    if state:
        return (f"state:{state}", actor_name(s, "states", state))
    return ("all", "Across the region")


def outcome_groups(scn: Any) -> list[Group]:
    """The scenario's outcomes grouped by what they concern, in the order they are declared."""
    specs = scn.spec.outcomes
    keys: dict[str, tuple[str, str]] = {}
    for name, spec in specs.items():  # parts come before the combinations that use them
        if spec.kind not in ("any", "all"):
            keys[name] = _group_key(scn, spec, keys)
    for name, spec in specs.items():
        if spec.kind in ("any", "all"):
            keys[name] = _group_key(scn, spec, keys)
    groups: dict[str, Group] = {}
    for name, spec in specs.items():
        k, title = keys[name]
        g = groups.setdefault(k, Group(k, title))
        g.outcomes.append(name)
        short = _short(scn, spec, name)
        if spec.kind in ("any", "all") and k == "all":
            parts = {_short(scn, specs[o], o) for o in spec.of if o in specs}
            short = (f"{parts.pop()} anywhere" if len(parts) == 1 and spec.kind == "any"
                     else (spec.description or name.replace("_", " ")).rstrip("."))
        g.short[name] = short
    out = list(groups.values())
    for g in out:  # the same short label twice in a group (two borders' wars): say which
        seen: dict[str, int] = {}
        for n in g.outcomes:
            seen[g.short[n]] = seen.get(g.short[n], 0) + 1
        for n in g.outcomes:
            if seen[g.short[n]] > 1:
                g.short[n] = (specs[n].description or n).rstrip(".")
    return out


def outcome_status(game: Any, name: str, forecast: dict[str, Any] | None = None) -> dict[str, Any]:
    """Where an outcome stands in a game: ``{"state": "happened" | "over" | "open", "p",
    "date"}`` — happened (with its month), over (the game has ended without it: it can no
    longer happen), or open with its forecast."""
    happened = game.happened()
    fc = forecast or (game.forecasts[-1] if game.forecasts else None)
    p = fc["outcomes"][name]["p"] if fc else None
    if name in happened:
        return {"state": "happened", "p": 1.0, "date": game.date(happened[name])}
    if game.finished:
        return {"state": "over", "p": 0.0, "date": None}
    return {"state": "open", "p": p, "date": None}


# ------------------------------------------------------------------ what a country knows

def known_to(sit: dict[str, Any], actor: str) -> dict[str, Any]:
    """The situation (:func:`sim.play.situation.situation`) as one country would know it:
    every flashpoint, territory and outcome that happened (public), but only its own
    standing in its alliances, its own and its opponents' capability, its own attitudes and
    arms imports; the instructor's deck left out."""
    opponents = {s for f in sit["flashpoints"] if actor in f["sides"] for s in f["sides"]} | {actor}
    out = dict(sit)
    out["members"] = [m for m in sit["members"] if m["state"] == actor]
    out["capability"] = [c for c in sit["capability"] if c["state"] in opponents]
    out["ratios"] = [r for r in sit["ratios"] if actor in (r["a"], r["b"])]
    out["affinity"] = [a for a in sit["affinity"] if a["from"] == actor]
    out["shares"] = [s for s in sit["shares"] if s["state"] == actor]
    out["declared"] = [{**sec, "rows": [r for r in sec["rows"] if actor in r["keys"]]} for sec in sit["declared"]]
    out["declared"] = [sec for sec in out["declared"] if sec["rows"]]
    out["deck"] = []
    return out
