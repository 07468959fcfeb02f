"""What a turn did and where the forecast stands, as plain data a screen lays out: the
terminal's compact turn, the class game's projector and team screens, the debrief.

* :func:`turn_summary` — the moves (and the umpire's fate of each), injects, events and
  rulings of a turn, its notable events month by month, the outcomes that happened in it.
* :func:`forecast_groups` — the forecast grouped by what outcomes concern
  (:func:`sim.play.plain.outcome_groups`): one row for Karabakh, not six; each outcome
  with its state (happened, can no longer happen, open), probability, change since the
  previous turn and, where the turn was explained, why it moved.
"""

from __future__ import annotations

from typing import Any

from .plain import outcome_groups

QUIET_EVENTS = ("move", "inject", "ruling", "escalation.deaths")
"""Records a turn's summary lists apart (moves, injects, rulings) or leaves to the totals (deaths)."""


def _who(game: Any, actor: str) -> str:
    from ..world.log import short_name

    return short_name(game.plan, "state", actor)


def turn_summary(game: Any, k: int | None = None, *, most: int = 8) -> dict[str, Any] | None:
    """Turn ``k`` (default: the last) in plain data, or None before the first turn."""
    k = game.turn if k is None else k
    if k < 1 or k > len(game.turns):
        return None
    t = game.turns[k - 1]
    first, last = t["first"], t["last"]
    story = game.story()
    moves = []
    for key in t["moves"]:
        actor, _, lever = key.partition(".")
        spec = game.scn.spec.levers.get(actor, {}).get(lever)
        from ..world.log import lever_phrase

        moves.append({"key": key, "actor": actor, "who": _who(game, actor),
                      "text": spec.description.strip().rstrip(".") if spec else key,
                      "phrase": lever_phrase(game.plan, actor, lever) if spec else key})
    injects = [r["text"].removeprefix("Inject: ") for r in story.records
               if r["event"] == "inject" and first <= r["elapsed"] <= last]
    rulings = [r["text"] for r in story.records if r["event"] == "ruling" and first <= r["elapsed"] <= last]
    events = []
    for m, recs in story.months(first, last):
        texts = [r["text"] for r in recs if r["event"] not in QUIET_EVENTS]
        if texts:
            events.append({"month": story.date(m), "texts": texts})
    flat = [(e["month"], x) for e in events for x in e["texts"]]
    deaths = {}
    level = game.track.series("casualties") if len(game.track) else None
    if level is not None and level.ndim == 2 and level.shape[0] > last:
        for f, key in enumerate(game.plan.flashpoints):
            d = float(level[last, f] - level[first - 1, f])
            if d >= 0.5:
                from ..world.log import short_name

                deaths[short_name(game.plan, "flashpoint", key)] = d
    happened = game.happened()
    where = {n: (g.title, g.short[n]) for g in outcome_groups(game.scn) for n in g.outcomes}
    new = [{"name": d.name, "description": d.description, "date": game.date(happened[d.name]),
            "group": where.get(d.name, ("", d.description))[0], "short": where.get(d.name, ("", d.description))[1]}
           for d in game.detectors if first <= happened.get(d.name, 0) <= last]
    return {"turn": k, "from": t["from"], "to": t["to"], "moves": moves, "fates": t.get("fates", []),
            "injects": injects, "rulings": rulings,
            "events": flat[:most], "more": max(0, len(flat) - most), "deaths": deaths, "new": new}


def forecast_groups(game: Any, turn: int | None = None) -> list[dict[str, Any]]:
    """The forecast after ``turn`` (default: the latest) grouped: ``[{"title", "items":
    [{"name", "short", "description", "state", "p", "lo", "hi", "date", "change", "why"}]}]``.
    ``state`` is ``happened`` (with its ``date``), ``over`` (the game ended without it: it
    can no longer happen), or ``open``; ``change`` is the change since the previous
    forecast (None for turn 0); ``why`` the turn's split (:mod:`sim.play.explain`) when
    it was worked out."""
    k = len(game.forecasts) - 1 if turn is None else turn
    if k < 0 or k >= len(game.forecasts):
        return []
    now = game.forecasts[k]["outcomes"]
    before = game.forecasts[k - 1]["outcomes"] if k >= 1 else None
    ex = game.explanations[k - 1] if k >= 1 and len(game.explanations) >= k else None
    snap_first = game.snapshots[k]["history"]["first"] if k < len(game.snapshots) else {}
    months_done = game.snapshots[k]["elapsed"] if k < len(game.snapshots) else game.elapsed
    happened = _happened_at(game, snap_first)
    out = []
    for g in outcome_groups(game.scn):
        items = []
        for n in g.outcomes:
            o = now[n]
            if n in happened:
                state, date = "happened", game.date(happened[n])
            elif months_done >= game.months:
                state, date = "over", None
            else:
                state, date = "open", None
            items.append({"name": n, "short": g.short[n], "description": _desc(game, n), "state": state,
                          "p": o["p"], "lo": o["lo"], "hi": o["hi"], "date": date,
                          "change": None if before is None else o["p"] - before[n]["p"],
                          "why": None if ex is None else ex["outcomes"].get(n)})
        out.append({"title": g.title, "key": g.key, "items": items})
    return out


def _desc(game: Any, name: str) -> str:
    return next((d.description for d in game.detectors if d.name == name), name)


def _happened_at(game: Any, first: dict[str, int]) -> dict[str, int]:
    """Outcomes that had happened by a snapshot (its history's first months), combined ones
    included."""
    import numpy as np

    from ..outcomes.base import combine_order

    dets = game.detectors
    months = np.array([[first.get(d.name, 0)] for d in dets], dtype=np.int16)
    for i in combine_order(dets):
        months[i] = dets[i].combine(months[dets[i].of])
    return {d.name: int(months[i, 0]) for i, d in enumerate(dets) if months[i, 0]}


def happened_turns(game: Any) -> dict[str, int]:
    """For each outcome that happened, the first turn after which it had (0: before any move)."""
    out: dict[str, int] = {}
    for k, snap in enumerate(game.snapshots):
        for n in _happened_at(game, snap["history"]["first"]):
            out.setdefault(n, k)
    return out


def moved_most(groups: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The open outcome whose forecast moved most this turn (None when none moved)."""
    best = None
    for g in groups:
        for it in g["items"]:
            if it["change"] is None or it["state"] != "open":
                continue
            if best is None or abs(it["change"]) > abs(best["change"]):
                best = {**it, "group": g["title"]}
    return best if best is not None and abs(best["change"]) >= 0.005 else None
