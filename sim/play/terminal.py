"""``sim play`` in a terminal: the situation, a prompt for moves, what happened, the forecast.

Plain text only (it reads the same on a projector, in a log and through a pseudo-
terminal). A :class:`Session` drives a :class:`~sim.play.game.Game` from typed commands
or from a moves file; it saves the game after every turn, so stopping at any point
(``quit``, Ctrl-D, Ctrl-C) loses at most the moves of the turn being entered.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..interrupts import Terminated
from ..scenario.errors import InputError
from .decisions import FORECAST_NOTE
from .game import Game
from .injects import find, parse_event
from .moves import MoveError, TurnMoves
from .savefile import save_game
from .situation import situation

WIDTH = 100

HELP = """Commands:
  NUMBER or ACTOR.LEVER   add a move for this turn (the numbers are in the list of your levers)
  dNUMBER or ACTOR.DECISION(ARGS)   order a decision the model takes for countries nobody plays
                          (d1 is holding back: the default, no decision this turn)
  levers                  list your levers and decisions again
  undo                    take back the last event, inject or move added (in that order)
  done                    end the turn: apply the moves, simulate, show what happened and the forecast
  situation | forecast    show the whole situation | the latest forecast as a full table
  inject                  (instructor) list the inject deck; inject NAME plays one this turn
  event TEXT | EFFECT     (instructor) add an event now, e.g.
                          event Embargo on Russian arms | {multiply: {suppliers.russia_arms.reliability: 0.5}}
  save                    save the game now (it is saved after every turn anyway)
  quit                    save and stop; resume with: sim play --resume FILE
  help                    this list"""


def pct(x: float) -> str:
    return f"{100 * x:5.1f}%"


def wrap(text: str, indent: str = "  ") -> str:
    return "\n".join(textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent + "  ")) or indent


def _line(head: str, items: list[str], sep: str = "; ") -> str:
    """A labelled line of items, wrapped at the screen's width."""
    return textwrap.fill(f"{head}  " + sep.join(items), WIDTH, subsequent_indent="    ")


def render_situation(sit: dict[str, Any], full: bool = False) -> str:
    """The situation before a turn, as text: compact (a projector shows it with what
    happened), or ``full`` with every affinity and arms-import share."""
    played = {p["state"] for p in sit["played"]}
    out = [f"=== Turn {sit['turn']} of {sit['turns']}: {sit['from']}" + (f" to {sit['to']}" if sit["to"] != sit["from"] else "")
           + f" — you play {', '.join(p['name'] for p in sit['played'])} ==="]
    out.append(_line("Flashpoints:", [
        f"{f['name']} rung {f['level']} ({f['rung']})" + (f", {f['deaths']:.0f} killed" if f["deaths"] >= 0.5 else "")
        + (f" ({f['deaths_last_turn']:.0f} last turn)" if f["deaths_last_turn"] >= 0.5 else "") for f in sit["flashpoints"]]))
    members = sit["members"] if full else [m for m in sit["members"] if m["state"] in played]
    if members:
        out.append(_line("Alliances (trust 0-1; at the start):", [
            f"{m['label']} {m['status']}, trust {m['trust']:.2f} ({m['start']:.2f})" for m in members]))
    out.append(_line("Capability (relative; at the start):", [
        f"{c['name']} {c['value']:.2f} ({c['start']:.2f})" for c in sit["capability"]]))
    if full and sit["affinity"]:
        out.append(_line("Affinity -1..1 (at the start):", [
            f"{a['label']} {a['value']:+.2f} ({a['start']:+.2f})" for a in sit["affinity"][:10]]))
    shares = sit["shares"] if full else [x for x in sit["shares"] if x["state"] in played]
    if shares:
        out.append(_line("Arms imports (share; at the start):", [
            f"{x['label']} {100 * x['share']:.0f}% ({100 * x['start']:.0f}%)" for x in shares[:8]]))
    if sit["territories"]:
        out.append(_line("Territory:", [f"{t['name']} held by {t['controller']}" for t in sit["territories"]]))
    for sec in sit.get("declared", []):
        out.append(_line(f"{sec['title']}:", [f"{r['label']} {r['value']:.2f} ({r['start']:.2f})" for r in sec["rows"]]))
    if full and sit["happened"]:
        out.append(_line("Already happened:", [f"{h['description']} ({h['date']})" for h in sit["happened"]]))
    policies = []
    for a in sit["actors"]:
        if a["played"] or not a["policies"]:
            continue
        pol = "; ".join(f"{i['key']} {i['policy']}" for i in a["levers"] if i["policy"])
        policies.append(f"{a['name']} (not played) pulls levers by its policy: {pol}")
    out.append(_line("Who decides:", policies + ["everyone else nobody plays follows the rules of the model only"]))
    return "\n".join(out)


def lever_menu(sit: dict[str, Any]) -> tuple[str, list[str]]:
    """The played actors' levers, numbered, then their decisions ("hold back" first), numbered
    d1, d2...; and the keys in that order (the levers' first)."""
    lines, keys = ["Your levers:"], []
    for a in sit["actors"]:
        if not a["played"]:
            continue
        for item in a["levers"]:
            keys.append(item["key"])
            lines.append(wrap(f"[{len(keys)}] {item['key']} — {item['description']}", "  "))
    decisions = [d for a in sit["actors"] if a["played"] for d in a.get("decisions", [])]
    if decisions:
        lines.append("Your decisions (the model takes none of them for a country you play: holding back is the "
                     "default; type d1, d2... or the move):")
        for i, d in enumerate(decisions, 1):
            advice = f" [advice: {d['advice']}]" if d["advice"] else ""
            lines.append(wrap(f"[d{i}] {d['key']} — {d['description']}{advice}", "  "))
    return "\n".join(lines), keys + [d["key"] for d in decisions]


def _chip(it: dict[str, Any], change: bool = True) -> str:
    if it["state"] == "happened":
        return f"{it['short']} happened {it['date']}"
    if it["state"] == "over":
        return f"{it['short']} did not happen"
    ch = it["change"]
    text = f"{it['short']} {100 * it['p']:.1f}%"
    if change and ch is not None and abs(ch) >= 0.0005:
        text += f" ({100 * ch:+.1f})"
    return text


def render_forecast(game: Game, now: dict[str, Any], before: dict[str, Any] | None) -> str:
    """The forecast to the horizon, grouped by what the outcomes concern (one row each),
    with the change since the last turn in points and, when the turn was explained, why
    the outcomes that moved most moved."""
    from .explain import parts_words
    from .summary import forecast_groups

    end = game.date(game.months)
    rows = [f"Forecast: probability by {end} ({now['runs']:,} continuations from this state, seed {game.seed}"
            f" turn {now['turn']})" + (";\n  in brackets: its change in points since the last turn" if now["turn"] else "")]
    rows.append(wrap(FORECAST_NOTE, "  "))
    groups = forecast_groups(game, now["turn"])
    for g in groups:
        rows.append(textwrap.fill(f"  {g['title']}: " + " · ".join(_chip(it) for it in g["items"]), WIDTH,
                                  subsequent_indent="      "))
    k = now["turn"]
    ex = game.explanations[k - 1] if k >= 1 and len(game.explanations) >= k else None
    if ex is not None:
        movers = sorted(({**it, "group": g["title"]} for g in groups for it in g["items"]
                         if it["state"] == "open" and it["why"]), key=lambda it: -abs(it["why"]["total"]))
        shown = [it for it in movers if abs(it["why"]["total"]) >= 0.01][:3]
        for it in shown:
            rows.append(wrap(f"Why {it['group']}: {it['short']} moved {100 * it['why']['total']:+.1f} pts — "
                             f"{parts_words(it['why'])}", "  "))
        idle = [m for m in ex["moves"] if m["nothing"]]
        for m in idle:
            what = "changed nothing in the model" if m["nothing"] == "model" else \
                "moved no forecast beyond Monte Carlo error"
            rows.append(wrap(f"Note: {m['move']} {what}", "  "))
    return "\n".join(rows)


def render_forecast_table(game: Game, now: dict[str, Any], before: dict[str, Any] | None) -> str:
    """The forecast as a full table: every outcome with its interval and its change."""
    end = game.date(game.months)
    head = (f"Forecast: probability by {end} ({now['runs']:,} continuations from this state, seed {game.seed}"
            f" turn {now['turn']})")
    rows = [head, wrap(FORECAST_NOTE, "  ")]
    happened = game.happened()
    for d in game.detectors:
        o = now["outcomes"][d.name]
        desc = d.description if len(d.description) <= 52 else d.description[:51] + "…"
        if d.name in happened:
            rows.append(f"  {desc:<53} happened {game.date(happened[d.name])}")
            continue
        line = f"  {desc:<53} {pct(o['p'])} [{100 * o['lo']:.1f}-{100 * o['hi']:.1f}]"
        if before is not None:
            b = before["outcomes"][d.name]["p"]
            ch = 100 * (o["p"] - b)
            line += f"   was {pct(b)}  ({ch:+.1f} pts)" if abs(ch) >= 0.05 else f"   was {pct(b)}  (no change)"
        rows.append(line)
    return "\n".join(rows)


EVENT_LINES = 8
"""Lines a turn's notable events take at most in the terminal (the rest: "and N more")."""


def render_turn(game: Game, k: int | None = None) -> str:
    """What a turn did, compact: moves, injects, notable events, deaths, outcomes now happened."""
    from .summary import turn_summary

    t = turn_summary(game, k, most=8)
    if t is None:
        return ""
    span = t["from"] + (f" to {t['to']}" if t["to"] != t["from"] else "")
    out = [f"--- What happened, {span} ---"]
    out.append(_line("Moves:", [f"{m['who']} (played) chooses to {m['phrase']}"
                                for m in t["moves"]] or ["none"]))
    if t["injects"]:
        out.append(_line("Injects:", t["injects"]))
    for text in t["rulings"]:
        out.append(wrap(text, ""))
    used, more = 0, t["more"]
    for i, (month, text) in enumerate(t["events"]):
        block = textwrap.fill(f"{month}  {text}", WIDTH, subsequent_indent="         ")
        if used + block.count("\n") + 1 > EVENT_LINES:  # the rest would scroll a projector's screen
            more += len(t["events"]) - i
            break
        out.append(block)
        used += block.count("\n") + 1
    if more:
        out.append(f"         and {more} more (the debrief has them all)")
    if not t["events"]:
        out.append("  Quiet.")
    if t["deaths"]:
        out.append(_line("Killed this turn:", [f"{n} {d:,.0f}" for n, d in t["deaths"].items()]))
    if t["new"]:
        by: dict[str, list[str]] = {}
        for n in t["new"]:
            by.setdefault(n["group"], []).append(f"{n['short']} ({n['date']})")
        out.append(_line("Now happened:", [f"{grp}: {', '.join(items)}" for grp, items in by.items()]))
    return "\n".join(out)


class Session:
    """A game played from a terminal (or a moves file), saved after every turn.

    Args:
        game: The game.
        save: Where the game is saved (after every turn, on ``save`` and on stopping).
        ask: Reads one command (``input``); raises EOFError when input ends.
        say: Prints text.
        debrief: Writes the debrief when the session ends: ``debrief(game) -> path``.
    """

    def __init__(self, game: Game, save: Path, ask: Callable[[str], str] = input, say: Callable[[str], None] = print,
                 debrief: Callable[[Game], Path] | None = None, explain: bool = True):
        self.game, self.save_path, self.ask, self.say, self.debrief = game, Path(save), ask, say, debrief
        self.explain = explain
        self.menu_shown = False
        """Split each turn's change of the forecast into moves, injects and chance (:mod:`sim.play.explain`)."""
        self.saved_turn: int | None = game.turn if self.save_path.is_file() else None
        """The turn the game file on disk holds (None: none yet): what is left if a save fails."""

    def save(self) -> None:
        """Save the game; a save that fails (an :class:`~sim.files.OutputError`: a full disk)
        leaves the previous one whole (:attr:`saved_turn`)."""
        save_game(self.game, self.save_path)
        self.saved_turn = self.game.turn

    def begin(self) -> None:
        g = self.game
        if len(g.forecasts) < len(g.snapshots) or g.baseline is None:
            self.say("Computing the forecast from the current state and the scenario's own Monte Carlo ...")
            g.start()
            self.save()
        self.say(render_forecast(g, g.forecasts[-1], g.forecasts[-2] if len(g.forecasts) > 1 else None))

    def after_turn(self, record: dict[str, Any]) -> None:
        g = self.game
        if self.explain and g.explanations[record["turn"] - 1] is None:
            g.explain(record["turn"])
            self.save()
        self.say("\n" + render_turn(g, record["turn"]))
        self.say(render_forecast(g, g.forecasts[-1], g.forecasts[-2]))

    def finish(self) -> Path | None:
        self.save()
        self.say(f"\nGame saved: {self.save_path}" + ("" if self.game.finished else
                                                        f"  (resume with: sim play --resume {self.save_path})"))
        if self.debrief is not None:
            path = self.debrief(self.game)
            self.say(f"Debrief: {path}")
            return path
        return None

    # -------------------------------------------------------------- scripted

    def script(self, turns: dict[int, TurnMoves], stop_after: int | None = None) -> None:
        """Play turns from a moves file (already checked) until the end or ``stop_after`` turns."""
        try:
            self._script(turns, stop_after)
        except (KeyboardInterrupt, Terminated):
            self.say("\n(stopped)")
            self.finish()
            raise
        self.finish()

    def _script(self, turns: dict[int, TurnMoves], stop_after: int | None) -> None:
        g = self.game
        self.begin()
        while not g.finished and (stop_after is None or g.turn < stop_after):
            k = g.turn + 1
            tm = turns.get(k, TurnMoves())
            self.say("\n" + render_situation(situation(g)))
            self.say(f"Moves for turn {k}: " + (", ".join(tm.moves) or "none")
                     + (f"; injects: {', '.join(tm.injects)}" if tm.injects else "")
                     + (f"; events: {'; '.join(e.description for e in tm.events)}" if tm.events else ""))
            record = g.play_turn(tm)
            self.save()
            self.after_turn(record)

    # ----------------------------------------------------------- interactive

    def interact(self, stop_after: int | None = None) -> None:
        """Prompt for moves turn after turn until the game ends, ``quit``, end of input, or
        ``stop_after`` turns in all."""
        g = self.game
        self.begin()
        try:
            while not g.finished and (stop_after is None or g.turn < stop_after):
                if not self._turn():
                    break
        except EOFError:
            self.say("\n(end of input)")
        except (KeyboardInterrupt, Terminated):
            self.say("\n(stopped)")
            self.finish()
            raise
        self.finish()

    def _turn(self) -> bool:
        """One turn at the prompt; False when the players stop."""
        g = self.game
        sit = situation(g)
        self.say("\n" + render_situation(sit))
        menu, everything = lever_menu(sit)
        n_levers = sum(len(a["levers"]) for a in sit["actors"] if a["played"])
        keys, dkeys = everything[:n_levers], everything[n_levers:]
        if not self.menu_shown:  # once: later turns keep what happened on the screen ('levers' shows it again)
            self.say(menu)
            self.menu_shown = True
            self.say("Type a lever's number or name to add it, 'done' to end the turn, 'help' for more.")
        else:
            self.say(f"Your levers are numbered 1 to {len(keys)} ('levers' lists them); 'done' ends the turn.")
        tm = TurnMoves()
        while True:
            line = self.ask(f"turn {g.turn + 1}> ").strip()
            if not line:
                continue
            word, _, rest = line.partition(" ")
            w = word.lower()
            if w in ("done", "end", "go"):
                try:
                    record = g.play_turn(tm)
                except MoveError as exc:
                    self.say(f"! {exc}")
                    continue
                self.save()
                self.after_turn(record)
                return True
            if w in ("quit", "exit", "q"):
                return False
            if w in ("help", "?"):
                self.say(HELP)
            elif w == "undo":
                if tm.events:
                    self.say(f"taken back: event {tm.events.pop().description}")
                elif tm.injects:
                    self.say(f"taken back: inject {tm.injects.pop()}")
                elif tm.moves:
                    self.say(f"taken back: {tm.moves.pop()}")
                else:
                    self.say("nothing to take back")
            elif w in ("situation", "s"):
                self.say(render_situation(sit, full=True))
            elif w in ("levers", "l"):
                self.say(menu)
            elif w in ("forecast", "f"):
                self.say(render_forecast_table(g, g.forecasts[-1], g.forecasts[-2] if len(g.forecasts) > 1 else None))
            elif w == "save":
                self.save()
                self.say(f"saved: {self.save_path}")
            elif w == "inject":
                self._inject(rest.strip(), tm)
            elif w == "event":
                try:
                    ev = parse_event(rest, g.scn)
                except InputError as exc:
                    self.say("! " + exc.problems[0].message)
                    continue
                from .moves import AdhocEvent

                tm.events.append(AdhocEvent(description=ev.description, effect=ev.effect))
                self.say(f"event added for this turn: {ev.description}")
            else:
                move = keys[int(line) - 1] if line.isdigit() and 1 <= int(line) <= len(keys) else line
                low = line.lower()
                if low[:1] == "d" and low[1:].isdigit():
                    if not 1 <= int(low[1:]) <= len(dkeys):
                        self.say(f"! no decision {line}; your decisions are numbered d1 to d{len(dkeys)}")
                        continue
                    move = dkeys[int(low[1:]) - 1]
                if line.isdigit() and move == line:
                    self.say(f"! no lever number {line}; your levers are numbered 1 to {len(keys)}")
                    continue
                try:
                    g.check_move(move)
                except MoveError as exc:
                    self.say(f"! {exc}")
                    continue
                if move in tm.moves:
                    self.say(f"! {move} is already among this turn's moves")
                    continue
                tm.moves.append(move)
                self.say(f"move added: {move}   (this turn: {', '.join(tm.moves)})")

    def _inject(self, name: str, tm: TurnMoves) -> None:
        g = self.game
        if not name:
            if not g.deck:
                self.say("no inject deck (start the game with --injects FILE); 'event TEXT | EFFECT' adds one now")
            for inj in g.deck:
                when = f"at {inj.at}" if inj.at else f"when {inj.when}" if inj.when else "when the instructor plays it"
                state = "played" if inj.name in g.fired else when
                self.say(wrap(f"{inj.name} — {inj.description} [{state}]"))
            return
        try:
            find(g.deck, name)
        except InputError as exc:
            self.say("! " + exc.problems[0].message)
            return
        if name in g.fired or name in tm.injects:
            self.say(f"! inject '{name}' has already been played")
            return
        tm.injects.append(name)
        self.say(f"inject added for this turn: {name}")
