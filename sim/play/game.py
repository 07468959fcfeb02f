"""A game: people play some actors turn by turn; the rules play the rest.

The game's world is one replicate (R = 1) of the scenario, seeded from the game's seed.
Each turn (a month or a quarter, ``play.turn`` in the scenario) the players' moves —
the levers the scenario declares for the actors they play — and the instructor's
injects are applied with :meth:`~sim.world.model.World.apply_effect`, then the months
of the turn are simulated. Actors nobody plays follow the rules and pull their own
levers only under the scenario's policies (:mod:`sim.rules.policy`); the actors people
play have their policies switched off (the ``played`` state), and so are the decisions the
rules would take for them (a limited offensive, a request for help, a change of
membership: :mod:`sim.play.decisions`): their teams order them, or hold back.

After every turn (and before the first, turn 0) the world is snapshotted and N Monte
Carlo continuations run from it (:func:`continuations`: ``sim.montecarlo.prepare`` with
``start=snapshot``, seeded by :func:`sim.seeding.continuation` from the game's seed and
the turn number). The snapshot carries the game's history, so the forecast is the
probability that each outcome happens by the horizon *in this game*: one that already
happened counts as certain. The snapshot keeps who is played: in the continuations a
played actor's later decisions are drawn at the model's own odds (the advice its team
sees; its team's orders replace them turn by turn) and its policies stay off; the deck's
injects that fire by themselves and have not fired yet happen at their month or condition
(:mod:`sim.play.continuations`). ``sim run --from-game SAVED`` runs exactly this Monte Carlo.

Nothing here reads a terminal: :mod:`sim.play.terminal` and a browser dashboard drive
the same :class:`Game`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import arguments as A
from .. import seeding
from ..api import check_run_options, load_scenario, run
from ..arguments import what
from ..interrupts import SignalDeferral
from ..outcomes import Recorder, compile_outcomes
from ..outcomes.base import combine_order
from ..scenario.errors import InputError, Mark, Problem, option_error, suggest
from ..scenario.expr import month_text
from ..world.compile import compile_plan
from ..world.log import EventLog, lever_phrase, short_name
from ..world.predicates import compile_predicate
from .continuations import continuations  # noqa: F401 - a game's forecasts; callers find it here too
from .injects import Inject, find, still_to_come
from .moves import MoveError, TurnMoves, apply_move, check_move, conflicts
from .story import Story, labels_of, record_dict
from .track import Track

TURN_MONTHS = {"month": 1, "quarter": 3}


def summarise(res: Any, turn: int, month: str) -> dict[str, Any]:
    """A forecast as plain data: each outcome's probability and 95% interval."""
    outs = {}
    for r in res.outcome_rows():
        outs[r["outcome"]] = {"p": r["probability"], "lo": r["ci95"][0], "hi": r["ci95"][1],
                              "median_date": r["median_date"]}
    return {"turn": turn, "month": month, "runs": res.runs, "outcomes": outs,
            "seed": res.manifest.get("from_game", {}).get("continuation_seed", {"entropy": res.seed, "spawn_key": []})}


class Game:
    """A turn-based game on a scenario.

    Args:
        scn: The loaded scenario.
        played: The actors people play (states with levers).
        seed: The game's seed (default: the scenario's ``meta.seed``).
        months: Months the game lasts (default: the scenario's horizon).
        deck: The instructor's injects (:func:`sim.play.injects.load_injects`).
        forecast_runs: Continuations after each turn (default: ``play.forecast_runs``, 2,000).
        dtype: Precision of the world's arrays (as ``sim run``).
        chunk_size: Replicates per chunk of the forecasts (their counts do not depend on it).
    """

    def __init__(self, scn: Any, played: list[str], *, seed: int | None = None, months: int | None = None,
                 deck: list[Inject] | None = None, forecast_runs: int | None = None, dtype: str = "float32",
                 chunk_size: int | None = None):
        from ..world.opening import open_world

        wrong = A.problems(scn=(A.loaded_scenario, scn), played=(A.played, played), deck=(_deck, deck),
                           forecast_runs=(lambda v: None if v is None else A.count(1)(v), forecast_runs))
        try:
            check_run_options(None, None, months, chunk_size, seed=seed, dtype=dtype)
            check_forecast_runs(forecast_runs if isinstance(forecast_runs, int) else None, "forecast_runs")
        except InputError as exc:
            wrong += exc.problems
        if wrong:
            raise InputError(wrong)
        meta = scn.spec.meta
        self.scn = scn
        self.played = check_played(scn, played)
        self.seed = int(meta.seed if seed is None else seed)
        self.months = int(meta.horizon_months if months is None else months)
        self.turn_months = TURN_MONTHS[scn.spec.play.turn]
        self.forecast_runs = int(scn.spec.play.forecast_runs if forecast_runs is None else forecast_runs)
        self.dtype = dtype
        self.chunk_size = chunk_size
        self.deck = list(deck or [])
        self.plan = compile_plan(scn.spec, scn.rules, self.months)
        self.world = open_world(self.plan, 1, seeding.root_sequence(self.seed),
                                dtype=np.dtype(dtype))
        si = self.plan.index_of("state")
        for a in self.played:
            self.world.st.played[:, si[a]] = True
        self.world.log = EventLog([0])
        self.track = Track(0).attach(self.world)
        self.detectors = compile_outcomes(self.plan)
        self.recorder = Recorder(self.world, self.detectors, 0, 0, 1, 1)
        self.records: list[dict[str, Any]] = []
        self.turns: list[dict[str, Any]] = []
        self.forecasts: list[dict[str, Any]] = []
        self.snapshots: list[dict[str, Any]] = [self.snapshot()]
        self.fired: list[str] = []  # injects played so far
        self.baseline: dict[str, Any] | None = None
        self.notes: list[str] = []  # what a resumed game's file says beside the game (its scenario file changed)
        self.explanations: list[dict[str, Any] | None] = []
        """Why the forecast moved after each turn (:func:`sim.play.explain.explain_turn`), or None."""
        self._applied: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ state

    @property
    def turn(self) -> int:
        """Turns played so far."""
        return len(self.turns)

    @property
    def total_turns(self) -> int:
        return math.ceil(self.months / self.turn_months)

    @property
    def elapsed(self) -> int:
        return self.world.elapsed

    @property
    def finished(self) -> bool:
        return self.world.elapsed >= self.months

    def date(self, elapsed: int) -> str:
        return month_text(self.plan.start + elapsed - 1)

    def next_months(self) -> tuple[int, int]:
        """First and last month (1-based) of the next turn."""
        first = self.elapsed + 1
        return first, min(self.elapsed + self.turn_months, self.months)

    def snapshot(self) -> dict[str, Any]:
        """The world now, with the game's history (what its continuations start from)."""
        snap = self.world.snapshot()
        snap["history"] = self.recorder.history()
        return snap

    def happened(self) -> dict[str, int]:
        """Outcomes that have happened in this game: name -> first month."""
        first = self.recorder.history()["first"]
        out = {n: m for n, m in first.items() if m}

        dets = self.detectors
        months = np.array([[first.get(d.name, 0)] for d in dets], dtype=np.int16)
        for i in combine_order(dets):
            months[i] = dets[i].combine(months[dets[i].of])
            if months[i, 0]:
                out[dets[i].name] = int(months[i, 0])
        return out

    # ------------------------------------------------------------------ playing

    def check_move(self, text: str) -> tuple[str, str]:
        return check_move(self.scn, self.played, text)

    def start(self) -> dict[str, Any]:
        """The forecasts not made yet (before any move: turn 0; a turn whose forecast was
        interrupted) and the no-player baseline. Returns the latest forecast."""
        while len(self.forecasts) < len(self.snapshots):
            self.forecasts.append(self.forecast(len(self.forecasts)))
        if self.baseline is None:
            self.baseline = self.run_baseline()
        return self.forecasts[-1]

    def play_turn(self, moves: TurnMoves | list[str] | None = None, *, explain: bool = False) -> dict[str, Any]:
        """Apply a turn's moves, injects and events, simulate its months, forecast.

        Every move is checked first (:class:`MoveError`, nothing applied); returns the
        turn's record (moves, injects, months, forecast). With ``explain``, the change of
        the forecast is also split into the moves', the injects' and chance's parts
        (:meth:`explain`).
        """
        if self.finished:
            raise MoveError(f"the game is over: all {self.months} months have been played")
        tm = moves if isinstance(moves, TurnMoves) else TurnMoves(moves=list(moves or []))
        pairs = []
        for m in tm.moves:
            pair = self.check_move(m)
            if pair in pairs:
                raise MoveError(f"'{m}' is listed twice in this turn")
            pairs.append(pair)
        clash = conflicts(self.scn, pairs)
        if clash:
            raise MoveError(clash)
        deck_items = []
        for name in tm.injects:
            try:
                inj = find(self.deck, name)
            except InputError as exc:
                raise MoveError(exc.problems[0].message) from None
            if name in self.fired:
                raise MoveError(f"inject '{name}' has already been played")
            deck_items.append(inj)
        self.start()

        with SignalDeferral() as deferral, deferral.hold():  # Ctrl-C or SIGTERM wait for the turn to be whole
            record = self._advance(pairs, deck_items, tm)
        self.start()  # the forecast after this turn (an interrupt leaves it to the next start)
        if explain:
            self.explain(record["turn"])
        return record

    def explain(self, turn: int | None = None) -> dict[str, Any]:
        """Why the forecast moved in turn ``turn`` (default: the last): the change in each
        outcome split into the moves', the injects', chance's and their interaction's parts
        (:func:`sim.play.explain.explain_turn`); kept in :attr:`explanations`."""
        from .explain import explain_turn

        k = self.turn if turn is None else int(turn)
        self.start()
        out = explain_turn(self, k)
        self.explanations[k - 1] = out
        return out

    def overrule(self, effect: Any, description: str, reason: str) -> dict[str, Any]:
        """The umpire overrules a result of the model: ``effect`` (the scenario's effect
        language) is applied to the world as it stands after the last turn, with the
        reason logged in the story and the turn's record, and the last forecast is made
        again from the overruled state (same seed). Returns the ruling."""
        from ..scenario.schema import Effect

        eff = effect if isinstance(effect, Effect) else Effect.model_validate(effect)
        reason = str(reason).strip()
        if not reason:
            raise MoveError("say why the result is overruled (the reason is logged and shown to the class)")
        self.start()
        self.world.apply_effect(eff)
        self.track.overwrite(self.world)
        m = max(self.elapsed, 1)
        before = self.forecasts[-1]
        ruling = {"turn": self.turn, "month": self.date(m), "description": str(description).strip() or "a result",
                  "reason": reason, "effect": eff.model_dump(mode="json")}
        self.records.append({"month": self.date(m), "elapsed": m, "replicate": 0, "event": "ruling", "actors": {},
                             "fields": {}, "routine": False, "name": "ruling",
                             "text": f"The umpire overrules the model: {ruling['description']} ({reason})"})
        self.snapshots[-1] = self.snapshot()
        self.forecasts[-1] = self.forecast(len(self.snapshots) - 1)
        ruling["before"] = {n: o["p"] for n, o in before["outcomes"].items()}
        if self.turns:
            self.turns[-1].setdefault("rulings", []).append(ruling)
            ex = self.explanations[-1]
            if ex is not None:
                from .explain import add_ruling

                add_ruling(ex, before, self.forecasts[-1])
        return ruling

    def _advance(self, pairs: list[tuple[str, str]], deck_items: list[Inject], tm: TurnMoves) -> dict[str, Any]:
        """The turn itself: moves, injects, its months, the snapshot and the turn's record.

        The record keeps what was applied and when (``applied``: each inject or event with
        the month it took effect and its effect), so the turn can be replayed from the
        snapshot before it with any part left out (:mod:`sim.play.explain`)."""
        k = self.turn + 1
        first, last = self.next_months()
        self._applied: list[dict[str, Any]] = []
        for actor, lever in pairs:
            self._pull(actor, lever, first)
        for inj in deck_items:
            self._inject(inj, first)
        for ev in tm.events:
            self._inject(Inject(name=ev.name, description=ev.description, effect=ev.effect), first, adhoc=True)
        for m in range(first, last + 1):
            self._due_injects(m)
            self.world.step()
            self._collect()
        self.snapshots.append(self.snapshot())
        record = {"turn": k, "first": first, "last": last, "from": self.date(first), "to": self.date(last),
                  "moves": [f"{a}.{lv}" for a, lv in pairs],
                  "injects": [r["name"] for r in self.records if r["event"] == "inject" and first <= r["elapsed"] <= last],
                  "events": [ev.model_dump(mode="json") for ev in tm.events],
                  "applied": self._applied}
        self.turns.append(record)
        self.explanations.append(None)
        return record

    def _pull(self, actor: str, lever: str, first: int) -> None:
        """A move at the start of the turn: a lever pulled, a decision ordered, or holding back."""
        kind = apply_move(self.world, self.scn, actor, lever)
        who = short_name(self.plan, "state", actor)
        if kind == "lever":
            what = lever_phrase(self.plan, actor, lever)
        elif kind == "decision":
            from .decisions import find

            t = find(self.plan, actor, lever).title
            what = t[:1].lower() + t[1:] + " (an order: carried out this month if still open)"
        else:
            what = "hold back (the model takes none of its decisions)"
        self.records.append({"month": self.date(first), "elapsed": first, "replicate": 0, "event": "move",
                             "actors": {"state": actor, "lever": f"{actor}.{lever}"}, "fields": {}, "routine": False,
                             "text": f"{who} (played) chooses to {what}",
                             "name": f"{actor}.{lever}"})

    def _inject(self, inj: Inject, m: int, adhoc: bool = False) -> None:
        self.world.apply_effect(inj.effect)
        if not adhoc:
            self.fired.append(inj.name)
        self._applied.append({"month": m, "name": inj.name, "kind": "event" if adhoc else "inject",
                              "description": inj.description, "effect": inj.effect.model_dump(mode="json")})
        self.records.append({"month": self.date(m), "elapsed": m, "replicate": 0, "event": "inject",
                             "actors": {}, "fields": {}, "routine": False, "name": inj.name,
                             "text": f"Inject: {inj.description.strip().rstrip('.')}"})

    def _due_injects(self, m: int) -> None:
        """Injects of the deck that fire at the start of month ``m`` (by date or condition)."""
        for inj in self.deck:
            if inj.name in self.fired:
                continue
            if inj.at is not None and inj.at == self.date(m):
                self._inject(inj, m)
            elif inj.when is not None and bool(compile_predicate(inj.when, self.plan)(self.world)[0]):
                self._inject(inj, m)

    def _collect(self) -> None:
        log = self.world.log
        self.records += [record_dict(r, self.plan) for r in log.records]
        log.records.clear()

    # ---------------------------------------------------------------- forecasts

    def forecast(self, turn: int, **backend: Any) -> dict[str, Any]:
        """The forecast after turn ``turn`` (its snapshot's continuations), as plain data."""
        res = continuations(self.scn, self.snapshots[turn], self.seed, turn, runs=self.forecast_runs,
                            months=self.months, injects=self.pending_injects(turn), chunk_size=self.chunk_size,
                            dtype=self.dtype, **backend)
        return summarise(res, turn, self.date(self.snapshots[turn]["elapsed"] + 1)
                         if self.snapshots[turn]["elapsed"] < self.months else "end")

    def pending_injects(self, turn: int) -> list[dict[str, Any]]:
        """The deck's injects that fire by themselves (``at`` a month or ``when`` a condition
        holds) and had not fired by the end of turn ``turn``: what the forecast after that
        turn expects to happen anyway, as the game would apply them
        (:attr:`sim.runner.RunSpec.month_effects`). Injects the instructor plays by hand
        are not expected."""
        return still_to_come(self.deck, self.turns[:turn])

    def deck_events(self) -> list[dict[str, Any]]:
        """The game's injects as scenario events: the deck's own that fire by themselves
        (``at`` a month or ``when`` a condition holds), and those played by hand and the
        instructor's events at the month they took effect in this game."""
        by_hand = {i.name for i in self.deck if i.at is None and i.when is None}
        src = {"assumption": "the instructor's inject deck of this game"}
        out = []
        for inj in self.deck:
            if inj.name in by_hand:
                continue
            ev = {"name": f"inject_{inj.name}", "description": inj.description, "effect": inj.effect.model_dump(mode="json"),
                  "source": src}
            ev["at" if inj.at is not None else "when"] = inj.at if inj.at is not None else inj.when
            out.append(ev)
        for t in self.turns:
            for i, a in enumerate(t.get("applied", [])):
                if a["kind"] == "event" or a["name"] in by_hand:
                    out.append({"name": f"played_{t['turn']}_{i}", "description": a["description"],
                                "at": self.date(a["month"]), "effect": a["effect"], "source": src})
        return out

    def run_baseline(self) -> dict[str, Any]:
        """The scenario's own Monte Carlo (nobody playing; every policy acts) with the game's
        injects (:meth:`deck_events`), same runs and seed: the game without the players."""
        events = self.deck_events()
        scn = self.scn
        if events:
            data = scn.resolved()
            data["events"] = list(data.get("events") or []) + events
            scn = load_scenario(data)
        res = run(scn, runs=self.forecast_runs, seed=self.seed, months=self.months, chunk_size=self.chunk_size,
                  dtype=self.dtype)
        out = summarise(res, -1, "baseline")
        out["injects"] = [e["name"] for e in events]
        return out

    def baseline_now(self) -> dict[str, Any]:
        """The baseline with every inject the game has played so far (made again if injects
        were played by hand since it was made)."""
        self.start()
        if sorted(self.baseline.get("injects", [])) != sorted(e["name"] for e in self.deck_events()):
            self.baseline = self.run_baseline()
        return self.baseline

    # ------------------------------------------------------------------ telling

    def story(self) -> Story:
        """The game so far as a story (moves and injects among the events)."""
        happened = self.happened()
        return Story(
            scenario=self.scn.name, title=self.scn.spec.meta.title, start=self.plan.start, horizon=self.months,
            seed=self.seed, replicate=None, command=f"sim play {self.scn.name} " + " ".join(f"--as {a}" for a in self.played)
            + f" --seed {self.seed}",
            records=list(self.records), track=self.track,
            outcomes=[{"name": d.name, "description": d.description, "month": happened.get(d.name, 0)} for d in self.detectors],
            labels=labels_of(self.plan),
        )


def check_played(scn: Any, played: list[str]) -> list[str]:
    """The actors to play, checked: states of the scenario with levers, each once."""
    problems = [Problem(Mark("<options>", option="--as"), "", msg) for _, msg in played_problems(scn, played)]
    if problems:
        raise InputError(problems)
    return list(dict.fromkeys(played))


def played_problems(scn: Any, played: list[Any]) -> list[tuple[int | None, str]]:
    """What is wrong with the actors a game plays: ``(index in played or None, message)``.

    Shared by ``sim play --as`` and the check of a saved game's ``played`` list."""
    levers = scn.spec.levers
    with_levers = [a for a in levers if levers[a]]
    out: list[tuple[int | None, str]] = []
    seen: list[Any] = []
    if not played:
        out.append((None, "say which actor you play (--as ACTOR); actors with levers: "
                          f"{', '.join(with_levers) or 'none (the scenario declares no levers)'}"))
    for i, a in enumerate(played):
        if not isinstance(a, str) or a not in scn.spec.states:
            out.append((i, f"no actor '{a}'{suggest(str(a), list(scn.spec.states))}; actors with levers: "
                           f"{', '.join(with_levers)}"))
        elif a not in with_levers:
            out.append((i, f"{a} has no levers in this scenario, so it has no moves; actors with levers: "
                           f"{', '.join(with_levers) or 'none'}"))
        elif a in seen:
            out.append((i, f"{a} is given twice"))
        seen.append(a)
    return out


def check_forecast_runs(n: int | None, option: str = "--forecast-runs") -> None:
    if n is not None and not 1 <= n <= 1_000_000:
        raise option_error(option, f"must be between 1 and 1,000,000 (got {n})")


def _deck(v: Any) -> str | None:
    """The ``deck`` argument: None or a list of :class:`Inject` (:func:`sim.play.injects.load_injects`)."""
    if v is None or (isinstance(v, list | tuple) and all(isinstance(x, Inject) for x in v)):
        return None
    return f"expected a list of injects (sim.play.injects.load_injects), got {what(v)}"
