"""Moves: what players may do, and a file of moves that plays a whole game.

A move is ``ACTOR.LEVER`` — a lever the scenario declares (``levers:``) for an actor
someone plays —, ``ACTOR.DECISION(ARGS)`` — a decision the rules take for an actor nobody
plays, which a played actor's team orders (``azerbaijan.launch_offensive(lachin)``,
:mod:`sim.play.decisions`) — or ``ACTOR.hold_back``, the default: no decision this turn.
A moves file plays a game without prompts::

    turns:
      1: [armenia.appeal_to_csto]          # a list: that turn's moves
      3:
        moves: [armenia.invite_eu_monitors, azerbaijan.mobilise]
        injects: [convoy_fired_on]         # from the inject deck (--injects)
        events:                            # the instructor's own events
          - {description: Embargo on Russian arms, effect: {multiply: {suppliers.russia_arms.reliability: 0.5}}}

Turns not listed pass without moves. Every move, inject and event is checked before the
game starts; a bad one is one ``file:line:col`` line and nothing is played.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from ..scenario.errors import InputError, Mark, Problem, suggest
from ..scenario.schema import Effect, Name, Strict
from ..scenario.yamlsafe import mark_of
from ..world.log import short_name
from .injects import check_effect, read_checked


class MoveError(ValueError):
    """A move that cannot be played: one line saying why and what would work."""


def check_move(scn: Any, played: list[str], text: str) -> tuple[str, str]:
    """``"armenia.appeal_to_csto"`` -> ``("armenia", "appeal_to_csto")``, or :class:`MoveError`;
    a decision ``"armenia.freeze(csto)"`` -> ``("armenia", "freeze(csto)")``; ``"armenia.hold_back"``
    -> ``("armenia", "hold_back")``."""
    from .decisions import HOLD, find

    levers = scn.spec.levers
    plan = scn.compiled()
    move = "".join(str(text).split())  # a decision's arguments may be written with spaces
    actor, dot, lever = move.partition(".")
    mine = ", ".join(f"{a}.{lv}" for a in played for lv in levers.get(a, {}))
    if not dot or not actor or not lever:
        raise MoveError(f"'{move}' is not a move; write ACTOR.LEVER, e.g. {mine.split(', ')[0] if mine else 'armenia.freeze_csto'}")
    if actor not in scn.spec.states:
        raise MoveError(f"'{move}': no actor '{actor}'{suggest(actor, played or list(scn.spec.states))}; "
                        f"you play {', '.join(played)}")
    if actor not in played:
        who = short_name(plan, "state", actor)
        raise MoveError(f"'{move}': {who} is not played in this game (played: {', '.join(played)}); "
                        "it follows the rules and its declared policies")
    if lever == HOLD and lever not in levers.get(actor, {}):
        return actor, lever
    if "(" in lever:
        try:
            find(plan, actor, lever)
        except ValueError as exc:
            raise MoveError(str(exc)) from None
        return actor, lever
    if lever not in levers.get(actor, {}):
        have = list(levers.get(actor, {}))
        hint = suggest(lever, have)
        listing = f"; {actor}'s levers are {', '.join(have)}" if have else f"; the scenario declares no levers for {actor}"
        raise MoveError(f"'{move}': {actor} has no lever '{lever}'{hint}{listing if not hint else ''}")
    return actor, lever


def kind_of(scn: Any, actor: str, what: str) -> str:
    """``lever``, ``decision`` or ``hold`` (what :func:`check_move` returned)."""
    from .decisions import HOLD

    if what in scn.spec.levers.get(actor, {}):
        return "lever"
    return "decision" if "(" in what else "hold" if what == HOLD else "lever"


def conflicts(scn: Any, pairs: list[tuple[str, str]]) -> str | None:
    """What is wrong with a turn's moves together (a team that holds back and orders a
    decision), or None."""
    for actor, what in pairs:
        if kind_of(scn, actor, what) == "hold":
            ordered = [f"{a}.{w}" for a, w in pairs if a == actor and kind_of(scn, a, w) == "decision"]
            if ordered:
                return (f"'{actor}.{what}' and {', '.join(repr(o) for o in ordered)} contradict each other: "
                        f"holding back means taking none of {actor}'s decisions this turn; drop one")
    return None


def apply_move(world: Any, scn: Any, actor: str, what: str) -> str:
    """Apply a checked move to ``world`` at the start of a turn: a lever's effect (and the
    lever counted as pulled), a decision's order (carried out by its rule in the turn's
    first month), or nothing for "hold back". Returns its kind."""
    kind = kind_of(scn, actor, what)
    plan = world.plan
    if kind == "lever":
        world.apply_effect(scn.spec.levers[actor][what].effect)
        world.st.lever_pulled[:, plan.lever_keys.index((actor, what))] = True
    elif kind == "decision":
        from .decisions import order

        order(world, plan, actor, what)
    return kind


class AdhocEvent(Strict):
    """An event the instructor writes into a moves file."""

    description: str
    effect: Effect
    name: Name = "instructor_event"


def _listed(v: Any) -> Any:
    return {"moves": v} if isinstance(v, list) else v


class TurnMoves(Strict):
    """What happens at the start of one turn."""

    moves: list[str] = Field([], description="ACTOR.LEVER, ACTOR.DECISION(ARGS) or ACTOR.hold_back of played actors.")
    injects: list[Name] = Field([], description="Injects from the deck (--injects) to play now.")
    events: list[AdhocEvent] = Field([], description="The instructor's own events.")


class MovesFile(Strict):
    """A whole game's moves, by turn number (1 = the first turn)."""

    turns: dict[int, Annotated[TurnMoves, BeforeValidator(_listed)]] = Field(default_factory=dict)


def load_moves(path: str | Path, scn: Any, played: list[str], turns: int, deck: list[Any]) -> dict[int, TurnMoves]:
    """Read and check a moves file for a game: every problem as one ``file:line:col`` line."""
    file, parsed, problems, raw = read_checked(path, MovesFile, "turns")
    names = [i.name for i in deck]
    for key, entry in (raw.items() if isinstance(raw, dict) else []):
        where = mark_of(raw, key, prefer_key=True) or Mark(file)
        try:
            t = int(key)
        except (TypeError, ValueError):
            continue  # the schema reports it
        if not 1 <= t <= turns:
            problems.append(Problem(where, f"turns.{key}", f"turn {t} is not in this game; its turns are 1 to {turns}"))
        body = {"moves": entry} if isinstance(entry, list) else entry if isinstance(entry, dict) else {}
        mv = body.get("moves")
        seen: set[str] = set()
        for i, m in enumerate(mv if isinstance(mv, list) else []):
            if not isinstance(m, str):
                continue
            try:
                check_move(scn, played, m)
            except MoveError as exc:
                problems.append(Problem(mark_of(mv, i) or where, f"turns.{key}.moves[{i}]", str(exc)))
            if m in seen:
                problems.append(Problem(mark_of(mv, i) or where, f"turns.{key}.moves[{i}]", f"'{m}' is listed twice in this turn"))
            seen.add(m)
        ij = body.get("injects")
        for i, n in enumerate(ij if isinstance(ij, list) else []):
            if isinstance(n, str) and n not in names:
                hint = suggest(n, names) or (f"; the deck holds {', '.join(names)}" if names else
                                              "; give the inject file with --injects")
                problems.append(Problem(mark_of(ij, i) or where, f"turns.{key}.injects[{i}]", f"no inject '{n}'{hint}"))
        ev = body.get("events")
        for i, e in enumerate(ev if isinstance(ev, list) else []):
            if isinstance(e, dict) and isinstance(e.get("effect"), dict):
                problems += check_effect(scn, e["effect"], e, f"turns.{key}.events[{i}].effect", file)
    if problems or parsed is None:
        raise InputError(problems)
    return dict(parsed.turns)
