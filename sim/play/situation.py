"""The situation a game shows before each turn, as plain data (a terminal or a browser renders it)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..world.compile import ACTIVE, EXITED, FROZEN, LEVELS, NONE

STATUS = {NONE: "not a member", ACTIVE: "active member", FROZEN: "frozen", EXITED: "has left"}


def situation(game: Any) -> dict[str, Any]:
    """Where the game stands: rungs, members' trust, capability, affinity, arms imports,
    territory, the story since the last turn, and who does what (played actors' levers,
    the others' policies)."""
    from ..world.log import lever_phrase, short_name

    plan, track, scn = game.plan, game.track, game.scn
    st0 = {k: track.at(k, 0) for k in ("level", "trust", "capability", "affinity", "shares", "casualties")}
    now = {k: track.at(k) for k in ("level", "trust", "status", "capability", "affinity", "shares", "casualties",
                                    "controller")}
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
    actors = []
    for a, levers in scn.spec.levers.items():
        played = a in game.played
        items = []
        for lv, spec in levers.items():
            pol = spec.policy
            items.append({"key": f"{a}.{lv}", "description": spec.description,
                          "phrase": lever_phrase(plan, a, lv),
                          "policy": None if pol is None else policy_words(pol)})
        actors.append({"state": a, "name": name("state", a), "played": played, "levers": items,
                       "policies": sum(1 for i in items if i["policy"])})
    first, last = game.next_months()
    story = game.story()
    since = story.text(last_turn["first"], last_turn["last"]) if last_turn else ""
    return {
        "turn": game.turn + 1, "turns": game.total_turns, "from": game.date(first), "to": game.date(last),
        "elapsed": game.elapsed, "months": game.months, "finished": game.finished,
        "played": [{"state": a, "name": name("state", a)} for a in game.played],
        "flashpoints": fps, "members": members, "capability": caps, "ratios": ratios, "affinity": aff,
        "shares": shares, "territories": terr, "actors": actors, "since": since,
        "happened": [{"name": d.name, "description": d.description, "date": game.date(m)}
                     for d in game.detectors for n, m in game.happened().items() if n == d.name],
        "deck": [{"name": i.name, "description": i.description, "at": i.at, "when": i.when, "played": i.name in game.fired}
                 for i in game.deck],
    }


def policy_words(pol: Any) -> str:
    """A lever policy in words: "when level(lachin) >= 4, 20% a month, once"."""
    p = pol.probability
    v = p.value.mean() if hasattr(p.value, "mean") else float(p.value)
    cond = f"when {pol.when}" if pol.when else "any month"
    return f"{cond}, {100 * v:.0f}% a month" + (", at most once" if pol.once else "")
