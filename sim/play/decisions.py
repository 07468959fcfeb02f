"""A played country's decisions: the choices the rules' declarations give its team.

Rules declare the decisions they take on an actor's behalf
(:func:`sim.parts.declare_decision`: a limited offensive's launch, a request for an
alliance's help, freezing, leaving, re-engaging or joining an alliance). For an actor
nobody plays the rule takes them by its own hazard; for a played one never: its team
decides. Everything here is derived from those declarations, with no list per rule:

* the decisions a team may order now (:func:`decision_choices`): each element of a
  declared decision whose decider is the team's actor and that is open in the game's
  world (an order would be carried out), with the model's own odds as advice — what
  the rule would do in that actor's place as things stand;
* "hold back" (:data:`HOLD`), every played country's move and its default: the model
  decides nothing for it this turn, nor in any later turn of the game: a played
  country's decisions are its team's. The forecast does not presume the team will never
  act: its continuations draw a played country's later decisions (after the orders given
  for the turn just played) at the model's own odds, the advice shown here
  (:func:`sim.play.continuations.start_of`, :func:`sim.parts.model_decides`);
* an order (:func:`order`): sets the decision's order state, which the rule reads at its
  next step (the turn's first month) and clears.

A decision is written ``ACTOR.NAME(ARGS)``, ARGS the other actors naming the element
(``azerbaijan.launch_offensive(lachin)``, ``armenia.ask_for_help(border,csto)``,
``armenia.freeze(csto)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import Any

import numpy as np

HOLD = "hold_back"
"""The word of every played country's "hold back" move (``armenia.hold_back``)."""

FORECAST_NOTE = ("Forecasts draw the played countries' later decisions at the model's own odds (the advice); "
                 "your orders replace them.")
"""What a game's forecast says of the played countries' future decisions."""

_SIZES = {"state": "S", "alliance": "A", "supplier": "K", "territory": "T", "flashpoint": "F"}


@dataclass(frozen=True)
class Element:
    """One decision of one actor: ``decision`` at ``pos`` of its dimensions."""

    decision: Any  # sim.parts.Decision
    pos: tuple[int, ...]
    actor: str
    args: tuple[str, ...]
    title: str

    @property
    def key(self) -> str:
        return f"{self.actor}.{self.decision.name}({','.join(self.args)})"


def declared(plan: Any) -> list[Any]:
    """The decisions the scenario's rules take (those whose slot the scenario uses)."""
    from ..parts import registry

    return [d for d in registry().decisions.values() if d.slot in plan.rules]


def elements(plan: Any, actor: str | None = None) -> list[Element]:
    """Every element of every declared decision (whose decider is ``actor``, if given)."""
    from ..world.log import actors_at

    out = []
    for d in declared(plan):
        axes = [range(2) if k == "side" else range(getattr(plan, _SIZES[k])) for k in d.over]
        for pos in product(*axes):
            keys, labels = actors_at(plan, d.over, pos)
            who = keys.get("state")
            if who is None or (actor is not None and who != actor):
                continue
            args = tuple(keys[k] for i, k in enumerate(d.over) if i != d.decider and k != "side")
            title = d.title.format_map(_Missing(labels))
            out.append(Element(d, tuple(int(p) for p in pos), who, args, title[:1].upper() + title[1:]))
    return out


class _Missing(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def find(plan: Any, actor: str, text: str) -> Element:
    """The element a move ``NAME(ARGS)`` of ``actor`` names, or :class:`ValueError` with one
    line saying what would work."""
    name, _, rest = text.partition("(")
    args = tuple(a.strip() for a in rest.rstrip(")").split(",") if a.strip()) if rest else ()
    mine = elements(plan, actor)
    names = sorted({e.decision.name for e in mine})
    if name not in names:
        from ..scenario.errors import suggest

        have = f"; {actor}'s decisions are {', '.join(names)}" if names else f"; {actor} takes no decision the rules declare"
        raise ValueError(f"'{actor}.{text}': no decision '{name}'{suggest(name, names) or have}")
    for e in mine:
        if e.decision.name == name and e.args == args:
            return e
    keys = ", ".join(e.key for e in mine if e.decision.name == name)
    raise ValueError(f"'{actor}.{text}': not one of {actor}'s decisions; write one of {keys}")


def odds_now(world: Any, e: Element) -> tuple[bool, float]:
    """Whether an order of ``e`` would be carried out now, and the probability the model,
    deciding for the actor, would take it in the coming month as things stand (replicate 0)."""
    at = (0, *e.pos)
    return bool(np.asarray(e.decision.open(world))[at]), float(np.asarray(e.decision.odds(world))[at])


def advice(p: float, months: int) -> str:
    """The model's own odds in words: "the model would do this with probability 4% a month
    as things stand (about 12% over this turn's 3 months)"."""
    if p <= 0:
        return "the model would not do this now (its chance is zero as things stand)"
    if p >= 1:
        return "the model would do this now (as things stand it does so in any month)"
    text = f"the model would do this with probability {100 * p:.0f}% a month as things stand"
    if p < 0.005:
        text = "the model would do this with probability under 1% a month as things stand"
    if months > 1:
        text += f" (about {100 * (1 - (1 - p) ** months):.0f}% over this turn's {months} months)"
    return text


def decision_choices(game: Any, actor: str) -> list[Any]:
    """A played actor's decisions open now in ``game``, as :class:`sim.play.plain.Choice`
    (kind ``decision``, the model's odds as ``advice``), after its "hold back" (kind ``hold``)."""
    from ..world.log import short_name
    from .plain import Choice

    plan = game.plan
    who = short_name(plan, "state", actor)
    out = [Choice(f"{actor}.{HOLD}", actor, "hold",
                  f"Hold back: take none of {who}'s decisions below this turn",
                  (f"the model takes no decision for {who}: no offensive, no request for help, no change of "
                   "membership unless you order it (the default when you choose nothing)",),
                  "the rules' declarations (docs/MODEL.md, played actors)")]
    for e in elements(plan, actor):
        is_open, p = odds_now(game.world, e)
        if not is_open:
            continue
        out.append(Choice(e.key, actor, "decision", e.title, (e.decision.doc,),
                          f"rule {e.decision.slot} (docs/MODEL.md)", advice(p, game.turn_months)))
    return out


def order(world: Any, plan: Any, actor: str, text: str) -> Element:
    """Order the decision ``NAME(ARGS)`` of ``actor``: its order state is set for the rule's
    next step (carried out there if it is open then)."""
    e = find(plan, actor, text)
    world.st[e.decision.order][(slice(None), *e.pos)] = True
    return e


def team_choices(game: Any, actor: str) -> list[Any]:
    """Everything a played actor's team may choose this turn: its levers
    (:func:`sim.play.plain.choices_for`), "hold back" and its decisions open now."""
    from .plain import choices_for

    return choices_for(game.scn, actor) + decision_choices(game, actor)
