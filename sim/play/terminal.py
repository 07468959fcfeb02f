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
from .game import Game
from .injects import find, parse_event
from .moves import MoveError, TurnMoves
from .savefile import save_game
from .situation import situation

WIDTH = 100

HELP = """Commands:
  NUMBER or ACTOR.LEVER   add a move for this turn (the numbers are in the list of your levers)
  undo                    take back the last event, inject or move added (in that order)
  done                    end the turn: apply the moves, simulate, show what happened and the forecast
  situation | forecast    show the situation | the latest forecast again
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


def render_situation(sit: dict[str, Any]) -> str:
    """The situation before a turn, as text."""
    out = [f"=== Turn {sit['turn']} of {sit['turns']}: {sit['from']}" + (f" to {sit['to']}" if sit["to"] != sit["from"] else "")
           + f" — you play {', '.join(p['name'] for p in sit['played'])} ==="]
    out.append("Flashpoints:")
    for f in sit["flashpoints"]:
        extra = f", {f['deaths_last_turn']:.0f} killed last turn" if f["deaths_last_turn"] else ""
        out.append(f"  {f['name']:<42} rung {f['level']} ({f['rung']}); {f['deaths']:.0f} killed since the start{extra}")
    if sit["members"]:
        out.append("Alliances (status, trust 0-1; at the start):")
        for m in sit["members"]:
            out.append(f"  {m['label']:<42} {m['status']}, trust {m['trust']:.2f} ({m['start']:.2f})")
    out.append("Capability (relative; at the start):  " + "; ".join(
        f"{c['name']} {c['value']:.2f} ({c['start']:.2f})" for c in sit["capability"]))
    if sit["affinity"]:
        out.append("Affinity -1..1 (at the start):  " + "; ".join(
            f"{a['label']} {a['value']:+.2f} ({a['start']:+.2f})" for a in sit["affinity"][:10]))
    if sit["shares"]:
        out.append("Arms imports (share; at the start):  " + "; ".join(
            f"{s['label']} {100 * s['share']:.0f}% ({100 * s['start']:.0f}%)" for s in sit["shares"][:8]))
    if sit["territories"]:
        out.append("Territory:  " + "; ".join(f"{t['name']} held by {t['controller']}" for t in sit["territories"]))
    for sec in sit.get("declared", []):
        out.append(f"{sec['title']}:  " + "; ".join(f"{r['label']} {r['value']:.2f} ({r['start']:.2f})"
                                                    for r in sec["rows"]))
    if sit["happened"]:
        out.append("Already happened:  " + "; ".join(f"{h['description']} ({h['date']})" for h in sit["happened"]))
    out.append("Who decides:")
    for a in sit["actors"]:
        if a["played"]:
            continue
        if a["policies"]:
            pol = "; ".join(f"{i['key']} {i['policy']}" for i in a["levers"] if i["policy"])
            out.append(wrap(f"{a['name']} (not played) follows the rules and pulls levers by its policy: {pol}"))
        else:
            out.append(wrap(f"{a['name']} (not played) follows the rules and pulls none of its levers."))
    out.append(wrap("Everyone else follows the rules of the model only."))
    return "\n".join(out)


def lever_menu(sit: dict[str, Any]) -> tuple[str, list[str]]:
    """The played actors' levers, numbered; and the keys in that order."""
    lines, keys = ["Your levers:"], []
    for a in sit["actors"]:
        if not a["played"]:
            continue
        for item in a["levers"]:
            keys.append(item["key"])
            lines.append(wrap(f"[{len(keys)}] {item['key']} — {item['description']}", "  "))
    return "\n".join(lines), keys


def render_forecast(game: Game, now: dict[str, Any], before: dict[str, Any] | None) -> str:
    """The forecast to the horizon, with intervals and the change since the last one."""
    end = game.date(game.months)
    head = (f"Forecast: probability by {end} ({now['runs']:,} continuations from this state, seed {game.seed}"
            f" turn {now['turn']})")
    rows = [head]
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
                 debrief: Callable[[Game], Path] | None = None):
        self.game, self.save_path, self.ask, self.say, self.debrief = game, Path(save), ask, say, debrief
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
        story = g.story()
        span = record["from"] + (f" to {record['to']}" if record["to"] != record["from"] else "")
        self.say(f"\n--- What happened, {span} ---")
        self.say(story.text(record["first"], record["last"], routine_limit=3))
        self.say("")
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
        menu, keys = lever_menu(sit)
        self.say(menu)
        self.say("Type a lever's number or name to add it, 'done' to end the turn, 'help' for more.")
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
                self.say(render_situation(sit))
                self.say(menu)
            elif w in ("forecast", "f"):
                self.say(render_forecast(g, g.forecasts[-1], g.forecasts[-2] if len(g.forecasts) > 1 else None))
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
