"""The situation a game shows before each turn, as plain data (a terminal or a browser renders it).

It shows the state arrays declared ``track=True`` (:class:`sim.parts.Shows`), each in the
section of the screen its declaration names (``screen``): the stock sections below
(:data:`STOCK_SCREENS`) lay out the stock mechanisms' state; any other section is laid
out from its declarations: a row per element (states: the played ones and the
flashpoints' sides), labelled with the label phrase, its value now and at the start.
"""

from __future__ import annotations

from itertools import product
from typing import Any

import numpy as np

from ..parts import Shows, registry
from ..world.compile import ACTIVE, EXITED, FROZEN, LEVELS, NONE
from ..world.log import lever_phrase, short_name

STATUS = {NONE: "not a member", ACTIVE: "active member", FROZEN: "frozen", EXITED: "has left"}

STOCK_SCREENS = ("flashpoints", "members", "capability", "affinity", "shares", "territories")
"""Sections of the screen laid out here for the stock mechanisms' state."""


def situation(game: Any) -> dict[str, Any]:
    """Where the game stands: rungs, members' trust, capability, affinity, arms imports,
    territory, the story since the last turn, and who does what (played actors' levers,
    the others' policies)."""
    plan, track, scn = game.plan, game.track, game.scn
    shown = [sh for sh in registry().shows() if sh.track and track.frames.get(sh.state)]
    st0 = {sh.state: track.at(sh.state, 0) for sh in shown}
    now = {sh.state: track.at(sh.state) for sh in shown}
    last_turn = game.turns[-1] if game.turns else None
    before = track.at("casualties", last_turn["first"] - 1) if last_turn else st0["casualties"]
    name = lambda kind, key: short_name(plan, kind, key)  # noqa: E731
    si = plan.index_of("state")
    sides = sorted({int(s) for s in plan.sides.flatten()})
    focus = sorted(set(sides) | {si[a] for a in game.played})

    fps = []
    for f, key in enumerate(plan.flashpoints):
        lv = int(now["level"][f])
        fps.append({"key": key, "name": name("flashpoint", key), "level": lv, "rung": LEVELS[lv],
                    "start": int(st0["level"][f]), "deaths": float(now["casualties"][f]),
                    "deaths_last_turn": float(now["casualties"][f] - before[f]),
                    "sides": [plan.states[s] for s in plan.sides[f]]})
    members = []
    for j, a in enumerate(plan.alliances):
        for s in focus:
            code = int(now["status"][s, j])
            if code == NONE and not track.at("status", 0)[s, j]:
                continue
            members.append({"state": plan.states[s], "alliance": a, "label": f"{name('state', plan.states[s])} in "
                            f"{name('alliance', a)}", "status": STATUS[code], "trust": float(now["trust"][s, j]),
                            "start": float(st0["trust"][s, j])})
    caps = [{"state": plan.states[s], "name": name("state", plan.states[s]), "value": float(now["capability"][s]),
             "start": float(st0["capability"][s])} for s in focus]
    ratios = []
    for f, key in enumerate(plan.flashpoints):
        a, b = plan.sides[f]
        ratios.append({"flashpoint": key, "a": plan.states[a], "b": plan.states[b],
                       "ratio": float(now["capability"][a] / max(now["capability"][b], 1e-9))})
    aff = []
    for s in focus:
        row0 = st0["affinity"][s]
        for t in np.argsort(-np.abs(row0)):
            if t == s or abs(row0[t]) < 0.05 or len([x for x in aff if x["from"] == plan.states[s]]) >= 5:
                continue
            aff.append({"from": plan.states[s], "to": plan.states[t],
                        "label": f"{name('state', plan.states[s])} → {name('state', plan.states[t])}",
                        "value": float(now["affinity"][s, t]), "start": float(row0[t])})
    shares = []
    for s in focus:
        row = now["shares"][s]
        for k in np.argsort(-row):
            if row[k] >= 0.05:
                shares.append({"state": plan.states[s], "supplier": plan.suppliers[k],
                               "label": f"{name('state', plan.states[s])} from {name('supplier', plan.suppliers[k])}",
                               "share": float(row[k]), "start": float(st0["shares"][s, k])})
    terr = [{"key": t, "name": name("territory", t), "controller": name("state", plan.states[int(now["controller"][j])])}
            for j, t in enumerate(plan.territories)]
    from .decisions import decision_choices

    actors = []
    for a, levers in scn.spec.levers.items():
        played = a in game.played
        items = []
        for lv, spec in levers.items():
            pol = spec.policy
            items.append({"key": f"{a}.{lv}", "description": spec.description,
                          "phrase": lever_phrase(plan, a, lv),
                          "policy": None if pol is None else policy_words(pol)})
        decisions = ([{"key": c.key, "kind": c.kind, "description": c.title, "advice": c.advice}
                      for c in decision_choices(game, a)] if played else [])
        actors.append({"state": a, "name": name("state", a), "played": played, "levers": items,
                       "policies": sum(1 for i in items if i["policy"]), "decisions": decisions})
    first, last = game.next_months()
    story = game.story()
    since = story.text(last_turn["first"], last_turn["last"]) if last_turn else ""
    return {
        "turn": game.turn + 1, "turns": game.total_turns, "from": game.date(first), "to": game.date(last),
        "elapsed": game.elapsed, "months": game.months, "finished": game.finished,
        "played": [{"state": a, "name": name("state", a)} for a in game.played],
        "flashpoints": fps, "members": members, "capability": caps, "ratios": ratios, "affinity": aff,
        "shares": shares, "territories": terr, "actors": actors, "since": since,
        "declared": declared_sections([sh for sh in shown if sh.screen and sh.screen not in STOCK_SCREENS],
                                      st0, now, plan, focus),
        "happened": [{"name": d.name, "description": d.description, "date": game.date(m)}
                     for d in game.detectors for n, m in game.happened().items() if n == d.name],
        "deck": [{"name": i.name, "description": i.description, "at": i.at, "when": i.when, "played": i.name in game.fired}
                 for i in game.deck],
    }


def declared_sections(shows: list[Shows], st0: dict, now: dict, plan: Any, focus: list[int],
                      most: int = 12) -> list[dict[str, Any]]:
    """Sections of the screen laid out from declarations: ``[{"title", "rows": [{"label",
    "value", "start"}]}]``, a row per element (the states among them: ``focus``),
    labelled with the state's label phrase; at most ``most`` rows a section."""
    sections: dict[str, list[dict[str, Any]]] = {}
    for sh in shows:
        if len(sh.dims) != np.ndim(now[sh.state]):
            continue  # not an array over actors
        axes = [focus if kind == "state" else range(len(plan.section(sect)))
                for kind, sect in zip(sh.dims, sh.sections, strict=True)]
        rows = sections.setdefault(sh.screen, [])
        for e in product(*axes):
            keys = [plan.section(sect)[i] for sect, i in zip(sh.sections, e, strict=True)]
            names = [short_name(plan, kind, k) for kind, k in zip(sh.dims, keys, strict=True)]
            value, start = now[sh.state][e], st0[sh.state][e]
            rows.append({"state": sh.state, "keys": keys, "label": sh.describe(names),
                         "value": float(value), "start": float(start)})
    return [{"title": title, "rows": rows[:most]} for title, rows in sections.items() if rows]


def policy_words(pol: Any) -> str:
    """A lever policy in words: "when level(lachin) >= 4, 20% a month, once"."""
    p = pol.probability
    v = p.value.mean() if hasattr(p.value, "mean") else float(p.value)
    cond = f"when {pol.when}" if pol.when else "any month"
    return f"{cond}, {100 * v:.0f}% a month" + (", at most once" if pol.once else "")
