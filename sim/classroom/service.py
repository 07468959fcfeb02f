"""Class games held by a server: seats, secret simultaneous moves, the facilitator's
rulings, channels, the turn timer, over the store (:mod:`.store`) and the game engine
(:class:`sim.play.game.Game`).

Who may do what is decided here, from the seat a token names, and nowhere else: a team
seat reads its own choices and acts only for itself (a payload naming another seat, or
a lever of another actor, is refused), the facilitator reads every submitted move and
the deck, the projector only reads. The clock is injected (:class:`Clock`), so tests
move time on without sleeping; the turn runs when every team has submitted or the
time is up, in a worker thread (or inline with ``synchronous=True``), and the game
after it is saved in the store in the same transaction that opens the next turn.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..scenario.errors import InputError
from .store import Conflict, Store

log = logging.getLogger("sim.classroom")

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""Join codes: six characters without 0/O, 1/I (about 10^9 codes)."""
MESSAGE_MAX = 1000


class Clock:
    """The server's clock: seconds (wall time). Tests use :class:`ManualClock`."""

    def now(self) -> float:
        return time.time()


class ManualClock(Clock):
    """A clock that moves only when told (:meth:`advance`)."""

    def __init__(self, start: float = 1_700_000_000.0):
        self.t = float(start)

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += float(seconds)


class Forbidden(Exception):
    """A seat acting beyond its rights (another seat, another actor's lever, a team doing
    the facilitator's job): HTTP 403."""


class BadRequest(Exception):
    """An action that cannot be done as asked: one line saying why (HTTP 400)."""


def _code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))


class Classroom:
    """The class games of one server.

    Args:
        store: The database.
        outputs: The folder games write their files in (``OUTPUTS/class/GAME``: the saved
            game ``sim play --resume`` reads, the debrief); paths stay under it.
        clock: The clock deadlines are kept by.
        synchronous: Run turns and forecasts inline instead of in worker threads (tests).
    """

    def __init__(self, store: Store, outputs: str | Path, clock: Clock | None = None, *, synchronous: bool = False):
        self.store = store
        self.outputs = Path(outputs)
        self.clock = clock or Clock()
        self.synchronous = synchronous
        self._games: dict[str, tuple[Any, Any]] = {}
        self._locks: dict[str, threading.RLock] = {}
        self._guard = threading.Lock()
        self._workers: list[threading.Thread] = []
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()
        self._active: set[str] = set()
        """Games with work under way in this process (a restart's recovery leaves them alone)."""

    # ------------------------------------------------------------------ set-up

    def create_game(self, scn: Any, played: list[str], *, deck: list[Any] | None = None, seed: int | None = None,
                    months: int | None = None, forecast_runs: int | None = None, turn_minutes: float = 6,
                    warning_minutes: float = 1, title: str | None = None, pack: str | None = None,
                    chunk_size: int | None = None) -> str:
        """A new class game: its seats (a team per played actor, the facilitator, the
        projector) with their tokens and join codes; the forecast before the first move is
        made in the background (phase ``starting``). Returns the game's id."""
        from ..api import check_run_options
        from ..play.game import TURN_MONTHS, check_forecast_runs, check_played
        from ..report.labels import actor_name

        check_run_options(None, None, months, None, seed=seed)
        check_forecast_runs(forecast_runs)
        who = check_played(scn, list(played))
        if not 0 < float(turn_minutes) <= 240:
            raise BadRequest(f"a turn lasts more than 0 and at most 240 minutes (got {turn_minutes})")
        meta = scn.spec.meta
        gid = secrets.token_hex(4)
        folder = self.outputs / "class" / f"{scn.name}-{gid}"
        config = {
            "scenario": {"name": scn.name, "file": str(scn.path), "overrides": dict(scn.overrides),
                         "resolved": scn.resolved(), "sha256": scn.sha256()},
            "pack": pack,
            "played": who,
            "seed": int(meta.seed if seed is None else seed),
            "months": int(meta.horizon_months if months is None else months),
            "turn_months": TURN_MONTHS[scn.spec.play.turn],
            "forecast_runs": forecast_runs,
            "chunk_size": chunk_size,
            "deck": [inj.model_dump(mode="json") for inj in (deck or [])],
            "turn_seconds": round(60 * float(turn_minutes), 3),
            "warning_seconds": round(60 * float(warning_minutes), 3),
            "folder": str(folder),
        }
        title = title or meta.title
        import json

        seats = ([("facilitator", "facilitator", "Facilitator"), ("projector", "projector", "Projector")]
                 + [(a, "team", actor_name(scn.spec, "states", a)) for a in who])
        with self.store.tx() as db:
            db.execute("INSERT INTO games (id, created, title, config, phase, turn, version, paused, remaining, busy) "
                       "VALUES (?,?,?,?,?,?,?,?,?,?)",
                       (gid, self.clock.now(), title, json.dumps(config), "starting", 0, 1, 1, config["turn_seconds"],
                        "the forecast before the first move"))
            for seat, role, label in seats:
                while True:
                    code = _code()
                    if db.execute("SELECT 1 FROM seats WHERE code=?", (code,)).fetchone() is None:
                        break
                db.execute("INSERT INTO seats (game, seat, role, label, token, code) VALUES (?,?,?,?,?,?)",
                           (gid, seat, role, label, secrets.token_urlsafe(18), code))
            self.store.log(db, gid, 0, "start", f"Game started: {title}; teams: {', '.join(label for _, r, label in seats if r == 'team')}",
                           at=self.clock.now())
        self._work(gid, self._start)
        return gid

    def _start(self, gid: str) -> None:
        from ..play.game import Game
        from ..play.injects import Inject
        from ..play.savefile import game_data, scenario_of

        g = self.store.game(gid)
        c = g["config"]
        scn = scenario_of({"scenario": c["scenario"]}, f"class game {gid}")
        game = Game(scn, c["played"], seed=c["seed"], months=c["months"],
                    deck=[Inject.model_validate(d) for d in c["deck"]], forecast_runs=c["forecast_runs"],
                    chunk_size=c.get("chunk_size"))
        game.start()
        with self.store.tx() as db:
            Store.put_save(db, gid, 0, game_data(game))
            db.execute("UPDATE games SET phase='open', busy='' WHERE id=?", (gid,))
            Store.bump(db, gid)
        self._cache(gid, game)
        self._mirror(gid, game)

    # ------------------------------------------------------------------ the game object

    def lock(self, gid: str) -> threading.RLock:
        with self._guard:
            return self._locks.setdefault(gid, threading.RLock())

    def _cache(self, gid: str, game: Any) -> None:
        self._games[gid] = (self.store.save_rev(gid), game)

    def game_obj(self, gid: str) -> Any | None:
        """The game as last saved (loaded once, kept while the save is unchanged)."""
        from ..play.savefile import game_from_data

        rev = self.store.save_rev(gid)
        if rev is None:
            return None
        got = self._games.get(gid)
        if got is not None and got[0] == rev:
            return got[1]
        with self.lock(gid):
            got = self._games.get(gid)
            if got is not None and got[0] == rev:
                return got[1]
            save = self.store.save(gid)
            game = game_from_data(save["data"], f"class game {gid}")
            self._games[gid] = ((save["turn"], save["rev"]), game)
            return game

    def _fresh(self, gid: str) -> Any:
        """A game of its own for work that changes it (a turn, its split, a ruling): the
        screens keep reading the cached one meanwhile, which nothing changes."""
        from ..play.savefile import game_from_data

        return game_from_data(self.store.save(gid)["data"], f"class game {gid}")

    def _forget(self, gid: str) -> None:
        self._games.pop(gid, None)

    def _mirror(self, gid: str, game: Any, debrief: bool = True) -> None:
        """The saved game as a file too (``sim play --resume`` reads it), and the debrief at the end."""
        from ..play.savefile import save_game

        folder = Path(self.store.game(gid)["config"]["folder"])
        try:
            save_game(game, folder / "game.json")
            if game.finished and debrief:
                self.write_debrief(gid)
        except OSError as exc:  # the database holds the game; the file is a convenience
            log.warning("class game %s: could not write its files in %s: %s", gid, folder, exc)

    def write_debrief(self, gid: str) -> Path:
        """The debrief page, quoting the game's messages and the umpire's rulings (made from a
        game of its own: the debrief may work out what is missing, a turn's split, the baseline)."""
        from ..play.debrief import write_debrief

        with self.lock(gid):
            game = self._fresh(gid)
        g = self.store.game(gid)
        labels = {s["seat"]: s["label"] for s in self.store.seats(gid)}
        labels.update({"all": "everyone", "facilitator": "the facilitator"})
        channels = [{"turn": m["turn"], "from": labels.get(m["sender"], m["sender"]),
                     "to": labels.get(m["recipient"], m["recipient"]), "kind": m["kind"], "text": m["text"]}
                    for m in self.store.messages(gid)]
        umpire = [{"turn": r["turn"], "kind": r["kind"], "text": r["text"]} for r in self.store.log_rows(gid)
                  if r["kind"] in ("ruling", "overrule", "undo", "inject", "event", "pause", "timer")]
        with self.lock(gid):
            return write_debrief(game, Path(g["config"]["folder"]), channels=channels, umpire=umpire)

    # ------------------------------------------------------------------ work in the background

    def _work(self, gid: str, fn: Callable[[str], None]) -> None:
        def run() -> None:
            try:
                with self.lock(gid):
                    fn(gid)
            except Exception as exc:  # noqa: BLE001 - a failed turn is said in the page, the game is kept
                log.error("class game %s: %s", gid, traceback.format_exc())
                message = exc.problems[0].message if isinstance(exc, InputError) else f"{type(exc).__name__}: {exc}"
                self._forget(gid)
                with self.store.tx() as db:
                    row = db.execute("SELECT phase FROM games WHERE id=?", (gid,)).fetchone()
                    phase = "failed" if row["phase"] == "starting" else "open" if row["phase"] == "running" else row["phase"]
                    # paused: a turn that failed does not run again by itself until the facilitator says so
                    db.execute("UPDATE games SET phase=?, busy='', error=?, paused=1, remaining=COALESCE(remaining, ?) "
                               "WHERE id=?", (phase, message, 60.0, gid))
                    self.store.log(db, gid, 0, "error", f"The server could not finish: {message}", at=self.clock.now())
                    Store.bump(db, gid)
            finally:
                self._active.discard(gid)

        self._active.add(gid)
        if self.synchronous:
            run()
            return
        t = threading.Thread(target=run, name=f"sim-class-{gid}", daemon=True)
        self._workers = [w for w in self._workers if w.is_alive()] + [t]
        t.start()

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the background work started so far (tests, shutdown)."""
        for t in list(self._workers):
            t.join(timeout)

    def start_ticker(self, interval: float = 1.0) -> None:
        """Check every game's timer every ``interval`` seconds (real time) in a thread."""
        if self._ticker is not None:
            return

        def loop() -> None:
            while not self._stop.wait(interval):
                for g in self.store.games():
                    if g["phase"] == "open":
                        try:
                            self.tick(g["id"])
                        except Exception:  # noqa: BLE001 - the next tick tries again
                            log.error("class game %s: tick failed:\n%s", g["id"], traceback.format_exc())

        self._ticker = threading.Thread(target=loop, name="sim-class-ticker", daemon=True)
        self._ticker.start()

    def stop(self) -> None:
        self._stop.set()

    def recover(self) -> None:
        """After a restart: a turn that was running is run again from the saved game (its
        moves are in the store); a game whose first forecast was not made is started again."""
        for g in self.store.games():
            if g["id"] in self._active:
                continue
            if g["phase"] == "running":
                self._work(g["id"], lambda gid, k=g["turn"] + 1: self._play(gid, k))
            elif g["phase"] == "starting":
                self._work(g["id"], self._start)
            elif g["busy"]:
                with self.store.tx() as db:
                    db.execute("UPDATE games SET busy='' WHERE id=?", (g["id"],))
                if g["phase"] in ("open", "over") and g["turn"] > 0:
                    self._work(g["id"], self._explain_last)

    # ------------------------------------------------------------------ timer

    def timer(self, g: dict[str, Any]) -> dict[str, Any]:
        """The open turn's timer: remaining seconds, the warning threshold, and its state
        (``paused``, ``running``, ``warning``, ``up``, or ``none`` when no turn is open)."""
        c = g["config"]
        if g["phase"] != "open":
            return {"remaining": None, "warning": c["warning_seconds"], "state": "none", "total": c["turn_seconds"]}
        if g["paused"]:
            rem = float(g["remaining"] if g["remaining"] is not None else c["turn_seconds"])
            return {"remaining": rem, "warning": c["warning_seconds"], "state": "paused", "total": c["turn_seconds"]}
        rem = max(0.0, float(g["deadline"]) - self.clock.now())
        state = "up" if rem <= 0 else "warning" if rem <= c["warning_seconds"] else "running"
        return {"remaining": rem, "warning": c["warning_seconds"], "state": state, "total": c["turn_seconds"]}

    def tick(self, gid: str) -> bool:
        """Run the open turn if every team has submitted or its time is up (and the game is
        not paused). Returns True if a turn was started."""
        g = self.store.game(gid)
        if g is None or g["phase"] != "open" or g["paused"] or g["busy"]:
            return False
        k = g["turn"] + 1
        teams = [s["seat"] for s in self.store.seats(gid) if s["role"] == "team"]
        ch = self.store.choices(gid, k)
        done = [s for s in teams if ch.get(s, {}).get("status") == "submitted"]
        if len(done) == len(teams):
            return self._begin_turn(gid, k, "every team submitted")
        if self.timer(g)["state"] == "up":
            late = [s for s in teams if s not in done]
            return self._begin_turn(gid, k, "the time was up", late)
        return False

    # ------------------------------------------------------------------ a turn

    def _begin_turn(self, gid: str, k: int, why: str, late: list[str] | None = None) -> bool:
        labels = {s["seat"]: s["label"] for s in self.store.seats(gid)}
        try:
            with self.store.tx() as db:
                Store.check_turn(db, gid, k)
                g = db.execute("SELECT busy FROM games WHERE id=?", (gid,)).fetchone()
                if g["busy"]:
                    raise Conflict("the server is busy")
                db.execute("UPDATE games SET phase='running', busy=? WHERE id=?", (f"turn {k}", gid))
                text = f"Turn {k} runs: {why}"
                if late:
                    text += (f"; {', '.join(labels[s] for s in late)} had not submitted "
                             "(their ticked moves, if any, were not played)")
                self.store.log(db, gid, k, "turn", text, at=self.clock.now())
                Store.bump(db, gid)
        except Conflict:
            return False
        self._work(gid, lambda gid: self._play(gid, k))
        return True

    def moves_of_turn(self, gid: str, k: int) -> tuple[list[str], list[dict[str, Any]]]:
        """The moves played in turn ``k``: each team's submitted choices the facilitator did not
        reject or delay, and the moves delayed into this turn; and every move's fate."""
        seats = [s for s in self.store.seats(gid) if s["role"] == "team"]
        ch = self.store.choices(gid, k)
        rul = self.store.rulings(gid, k)
        moves: list[str] = []
        fates: list[dict[str, Any]] = []
        for c in self.store.carried(gid, k):
            if c["key"] not in moves:
                moves.append(c["key"])
                fates.append({"seat": c["seat"], "key": c["key"], "fate": "played", "reason": "",
                              "note": f"delayed from turn {c['from_turn']}"})
        for s in seats:
            mine = ch.get(s["seat"])
            if mine is None or mine["status"] != "submitted":
                continue
            for key in mine["keys"]:
                r = rul.get((s["seat"], key))
                ruling = r["ruling"] if r else "accept"
                if ruling == "accept" and key not in moves:
                    moves.append(key)
                fates.append({"seat": s["seat"], "key": key, "reason": r["reason"] if r else "", "note": "",
                              "fate": {"accept": "played", "reject": "rejected", "delay": "delayed"}[ruling]})
        return moves, fates

    def _play(self, gid: str, k: int) -> None:
        from ..play.moves import AdhocEvent, TurnMoves
        from ..play.savefile import game_data

        game = self._fresh(gid)
        if game.turn != k - 1:  # a restart after the turn was saved: nothing to do again
            return
        moves, fates = self.moves_of_turn(gid, k)
        moves = _held_back(game, moves)
        queue = self.store.queue(gid, k)
        injects = [q["name"] for q in queue if q["kind"] == "inject"]
        events = [AdhocEvent(name="facilitator_event", description=q["description"], effect=q["effect"])
                  for q in queue if q["kind"] == "event"]
        game.play_turn(TurnMoves(moves=moves, injects=injects, events=events))
        game.turns[-1]["fates"] = fates
        data = game_data(game)
        g = self.store.game(gid)
        now = self.clock.now()
        with self.store.tx() as db:
            Store.put_save(db, gid, k, data)
            over = game.finished
            db.execute("UPDATE games SET turn=?, phase=?, deadline=?, paused=0, remaining=NULL, busy=?, error='' "
                       "WHERE id=?", (k, "over" if over else "open", now + g["config"]["turn_seconds"],
                                      "why the forecast moved", gid))
            for f in fates:
                if f["fate"] == "delayed":
                    db.execute("INSERT OR IGNORE INTO carried (game, turn, seat, key, from_turn) VALUES (?,?,?,?,?)",
                               (gid, k + 1, f["seat"], f["key"], k))
            self.store.log(db, gid, k, "result", f"Turn {k} played: {', '.join(moves) or 'no moves'}"
                           + (f"; injects {', '.join(injects)}" if injects else "")
                           + (f"; events {'; '.join(e.description for e in events)}" if events else ""), at=now)
            Store.bump(db, gid)
        self._cache(gid, game)
        self._mirror(gid, game, debrief=False)  # the debrief once the last turn's split is worked out
        self._explain_last(gid)

    def _explain_last(self, gid: str) -> None:
        from ..play.savefile import game_data

        game = self._fresh(gid)
        k = game.turn
        if k == 0 or (len(game.explanations) >= k and game.explanations[k - 1] is not None):
            with self.store.tx() as db:
                db.execute("UPDATE games SET busy='' WHERE id=?", (gid,))
                Store.bump(db, gid)
            return
        game.explain(k)
        with self.store.tx() as db:
            Store.put_save(db, gid, k, game_data(game))
            db.execute("UPDATE games SET busy='' WHERE id=?", (gid,))
            Store.bump(db, gid)
        self._cache(gid, game)
        if game.finished:
            self._mirror(gid, game)

    # ------------------------------------------------------------------ who is asking

    def seat(self, token: str) -> dict[str, Any]:
        s = self.store.seat_by_token(token)
        if s is None:
            raise Forbidden("no seat has this link; ask the facilitator for your team's link or join code")
        return s

    def act(self, token: str, action: str, payload: dict[str, Any]) -> None:
        """Do ``action`` for the seat the token names (see :data:`ACTIONS`)."""
        s = self.seat(token)
        named = payload.get("seat")
        if named is not None and s["role"] == "team" and named != s["seat"]:
            raise Forbidden(f"this link is {s['label']}'s seat: it cannot act for {named}")
        rights = ACTIONS.get(action)
        if rights is None:
            raise BadRequest(f"no action '{action}'")
        if s["role"] not in rights:
            raise Forbidden(f"the {s['role']} screen cannot {action.replace('_', ' ')}")
        getattr(self, f"_do_{action}")(s, payload)
        if action in ("submit", "resume", "rule"):
            self.tick(s["game"])

    # ------------------------------------------------------------------ a team's actions

    def _mine(self, db: Any, s: dict[str, Any], payload: dict[str, Any]) -> int:
        """Check a team write: the open turn it acted on and its seat's version."""
        g = Store.check_turn(db, s["game"], payload.get("turn"))
        row = db.execute("SELECT version FROM seats WHERE game=? AND seat=?", (s["game"], s["seat"])).fetchone()
        try:
            seen = int(payload.get("seat_version"))
        except (TypeError, ValueError):
            seen = -1
        if seen != row["version"]:
            raise Conflict("another screen on your seat changed your moves since this one was drawn; "
                           "it has been brought up to date")
        if g["busy"] and g["busy"].startswith("turn"):
            raise Conflict("the turn is running")
        return g["turn"] + 1

    def _keys_of(self, s: dict[str, Any]) -> list[str]:
        from ..play.decisions import team_choices

        game = self.game_obj(s["game"])
        return [c.key for c in team_choices(game, s["seat"])] if game is not None else []

    def _do_tick(self, s: dict[str, Any], payload: dict[str, Any]) -> None:
        import json

        if self.store.save_rev(s["game"]) is None:
            raise Conflict("the game is starting: its first forecast is being made")
        key = str(payload.get("key", ""))
        if key not in self._keys_of(s):
            raise Forbidden(f"'{key}' is not one of {s['label']}'s levers or decisions this turn")
        on = bool(payload.get("on"))
        with self.store.tx() as db:
            k = self._mine(db, s, payload)
            row = db.execute("SELECT keys, status FROM choices WHERE game=? AND turn=? AND seat=?",
                             (s["game"], k, s["seat"])).fetchone()
            if row is not None and row["status"] == "submitted":
                raise BadRequest("your moves are submitted; take them back to change them")
            keys = json.loads(row["keys"]) if row else []
            keys = [x for x in keys if x != key] + ([key] if on else [])
            order = self._keys_of(s)
            keys.sort(key=order.index)
            db.execute("INSERT INTO choices (game, turn, seat, keys, status) VALUES (?,?,?,?, 'draft') "
                       "ON CONFLICT (game, turn, seat) DO UPDATE SET keys=excluded.keys",
                       (s["game"], k, s["seat"], json.dumps(keys)))
            db.execute("UPDATE seats SET version=version+1 WHERE game=? AND seat=?", (s["game"], s["seat"]))
            Store.bump(db, s["game"])

    def _do_submit(self, s: dict[str, Any], payload: dict[str, Any]) -> None:
        with self.store.tx() as db:
            k = self._mine(db, s, payload)
            db.execute("INSERT INTO choices (game, turn, seat, keys, status, at) VALUES (?,?,?,'[]','submitted',?) "
                       "ON CONFLICT (game, turn, seat) DO UPDATE SET status='submitted', at=excluded.at",
                       (s["game"], k, s["seat"], self.clock.now()))
            db.execute("UPDATE seats SET version=version+1 WHERE game=? AND seat=?", (s["game"], s["seat"]))
            self.store.log(db, s["game"], k, "submit", f"{s['label']} submitted", at=self.clock.now())
            Store.bump(db, s["game"])

    def _do_withdraw(self, s: dict[str, Any], payload: dict[str, Any]) -> None:
        with self.store.tx() as db:
            k = self._mine(db, s, payload)
            db.execute("UPDATE choices SET status='draft' WHERE game=? AND turn=? AND seat=?", (s["game"], k, s["seat"]))
            db.execute("DELETE FROM rulings WHERE game=? AND turn=? AND seat=?", (s["game"], k, s["seat"]))
            db.execute("UPDATE seats SET version=version+1 WHERE game=? AND seat=?", (s["game"], s["seat"]))
            self.store.log(db, s["game"], k, "submit", f"{s['label']} took its moves back", at=self.clock.now())
            Store.bump(db, s["game"])

    def _do_message(self, s: dict[str, Any], payload: dict[str, Any]) -> None:
        text = " ".join(str(payload.get("text", "")).split())
        if not text:
            raise BadRequest("write a message first")
        if len(text) > MESSAGE_MAX:
            raise BadRequest(f"a message holds at most {MESSAGE_MAX} characters (this one {len(text)})")
        to = str(payload.get("to", ""))
        seats = {x["seat"]: x for x in self.store.seats(s["game"])}
        teams = [x for x, v in seats.items() if v["role"] == "team"]
        if s["role"] == "team":
            allowed = [t for t in teams if t != s["seat"]] + ["all", "facilitator"]
            kind = "request" if to == "facilitator" else "message"
        else:
            allowed = teams + ["all"]
            kind = "answer"
        if to not in allowed:
            raise BadRequest(f"send to one of: {', '.join(allowed)}")
        g = self.store.game(s["game"])
        with self.store.tx() as db:
            db.execute("INSERT INTO messages (game, turn, sender, recipient, kind, text, at) VALUES (?,?,?,?,?,?,?)",
                       (s["game"], g["turn"] + 1, s["seat"], to, kind, text, self.clock.now()))
            Store.bump(db, s["game"])

    # ------------------------------------------------------------------ the facilitator's actions

    def _control(self, db: Any, s: dict[str, Any], payload: dict[str, Any], phases: tuple[str, ...] = ("open",)) -> dict:
        g = Store.check_turn(db, s["game"], payload.get("turn"), phases)
        if g["busy"]:
            raise Conflict(f"the server is working ({g['busy']}); try again in a moment")
        return g

    def _do_pause(self, s: dict[str, Any], payload: dict[str, Any]) -> None:
        with self.store.tx() as db:
            g = Store.check_turn(db, s["game"], payload.get("turn"))
            if g["paused"]:
                return
            rem = max(0.0, g["deadline"] - self.clock.now())
            db.execute("UPDATE games SET paused=1, remaining=?, deadline=NULL WHERE id=?", (rem, s["game"]))
            self.store.log(db, s["game"], g["turn"] + 1, "pause", f"Paused with {rem / 60:.1f} minutes left",
                           at=self.clock.now())
            Store.bump(db, s["game"])

    def _do_resume(self, s: dict[str, Any], payload: dict[str, Any]) -> None:
        with self.store.tx() as db:
            g = Store.check_turn(db, s["game"], payload.get("turn"))
            if not g["paused"]:
                return
            rem = float(g["remaining"] if g["remaining"] is not None else self.store.game(s["game"])["config"]["turn_seconds"])
            db.execute("UPDATE games SET paused=0, remaining=NULL, deadline=? WHERE id=?",
                       (self.clock.now() + rem, s["game"]))
            self.store.log(db, s["game"], g["turn"] + 1, "pause", "The clock runs", at=self.clock.now())
            Store.bump(db, s["game"])

    def _do_set_timer(self, s: dict[str, Any], payload: dict[str, Any]) -> None:
        try:
            minutes = float(payload.get("minutes"))
        except (TypeError, ValueError):
            raise BadRequest("give the minutes left as a number") from None
        if not 0 < minutes <= 240:
            raise BadRequest("the minutes left are more than 0 and at most 240")
        with self.store.tx() as db:
            g = Store.check_turn(db, s["game"], payload.get("turn"))
            if g["paused"]:
                db.execute("UPDATE games SET remaining=? WHERE id=?", (60 * minutes, s["game"]))
            else:
                db.execute("UPDATE games SET deadline=? WHERE id=?", (self.clock.now() + 60 * minutes, s["game"]))
            self.store.log(db, s["game"], g["turn"] + 1, "timer", f"The clock is set to {minutes:g} minutes left",
                           at=self.clock.now())
            Store.bump(db, s["game"])

    def _do_run_now(self, s: dict[str, Any], payload: dict[str, Any]) -> None:
        g = self.store.game(s["game"])
        if g["busy"]:
            raise Conflict(f"the server is working ({g['busy']}); try again in a moment")
        k = g["turn"] + 1
        if str(payload.get("turn")) != str(k) or g["phase"] != "open":
            raise Conflict("the game has moved on since this screen was drawn; it has been brought up to date")
        teams = [x for x in self.store.seats(s["game"]) if x["role"] == "team"]
        ch = self.store.choices(s["game"], k)
        late = [x["seat"] for x in teams if ch.get(x["seat"], {}).get("status") != "submitted"]
        self._begin_turn(s["game"], k, "the facilitator ran it", late)

    def _do_rule(self, s: dict[str, Any], payload: dict[str, Any]) -> None:
        seat, key = str(payload.get("target_seat", "")), str(payload.get("key", ""))
        ruling = str(payload.get("ruling", ""))
        reason = " ".join(str(payload.get("reason", "")).split())[:MESSAGE_MAX]
        if ruling not in ("accept", "reject", "delay"):
            raise BadRequest("a ruling is accept, reject or delay")
        labels = {x["seat"]: x["label"] for x in self.store.seats(s["game"])}
        with self.store.tx() as db:
            g = self._control(db, s, payload)
            k = g["turn"] + 1
            row = db.execute("SELECT keys, status FROM choices WHERE game=? AND turn=? AND seat=?",
                             (s["game"], k, seat)).fetchone()
            import json

            if row is None or row["status"] != "submitted" or key not in json.loads(row["keys"]):
                raise Conflict(f"{labels.get(seat, seat)} has not submitted {key} (any more); the screen has been "
                               "brought up to date")
            db.execute("INSERT INTO rulings (game, turn, seat, key, ruling, reason, at) VALUES (?,?,?,?,?,?,?) "
                       "ON CONFLICT (game, turn, seat, key) DO UPDATE SET ruling=excluded.ruling, "
                       "reason=excluded.reason, at=excluded.at", (s["game"], k, seat, key, ruling, reason, self.clock.now()))
            word = {"accept": "accepts", "reject": "rejects", "delay": "delays to the next turn"}[ruling]
            self.store.log(db, s["game"], k, "ruling", f"The umpire {word} {labels.get(seat, seat)}'s move {key}"
                           + (f": {reason}" if reason else ""), at=self.clock.now())
            Store.bump(db, s["game"])

    def _do_queue_inject(self, s: dict[str, Any], payload: dict[str, Any]) -> None:
        name = str(payload.get("name", ""))
        game = self.game_obj(s["game"])
        inj = next((i for i in game.deck if i.name == name), None)
        if inj is None:
            raise BadRequest(f"no inject '{name}' in the deck")
        if name in game.fired:
            raise BadRequest(f"inject '{name}' has already been played")
        if inj.at is not None or inj.when is not None:
            raise BadRequest(f"inject '{name}' fires by itself ({inj.at or inj.when})")
        with self.store.tx() as db:
            g = self._control(db, s, payload)
            k = g["turn"] + 1
            if db.execute("SELECT 1 FROM queue WHERE game=? AND turn=? AND kind='inject' AND name=?",
                          (s["game"], k, name)).fetchone():
                raise BadRequest(f"inject '{name}' is already queued for this turn")
            db.execute("INSERT INTO queue (game, turn, kind, name, description, at) VALUES (?,?,?,?,?,?)",
                       (s["game"], k, "inject", name, inj.description, self.clock.now()))
            self.store.log(db, s["game"], k, "inject", f"Inject queued for turn {k}: {inj.description}",
                           at=self.clock.now())
            Store.bump(db, s["game"])

    def _menu_effect(self, game: Any, payload: dict[str, Any]) -> tuple[dict[str, Any], str]:
        from ..play.injects import check_effect
        from ..play.plain import change_words, effect_targets, target_effect

        path, op = str(payload.get("path", "")), str(payload.get("op", ""))
        value = payload.get("value")
        if isinstance(value, str) and payload.get("kind") == "names":
            value = [value]
        try:
            effect = target_effect(game.scn, effect_targets(game.scn, game.played), path, op, value)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        problems = check_effect(game.scn, effect, effect, "effect", "<facilitator>")
        if problems:
            raise BadRequest(problems[0].message)
        return effect, change_words(game.scn, op, path, effect[op][path])

    def _do_queue_event(self, s: dict[str, Any], payload: dict[str, Any]) -> None:
        import json

        game = self.game_obj(s["game"])
        effect, words = self._menu_effect(game, payload)
        desc = " ".join(str(payload.get("description", "")).split())[:MESSAGE_MAX] or words[0].upper() + words[1:]
        with self.store.tx() as db:
            g = self._control(db, s, payload)
            k = g["turn"] + 1
            db.execute("INSERT INTO queue (game, turn, kind, name, description, effect, at) VALUES (?,?,?,?,?,?,?)",
                       (s["game"], k, "event", "facilitator_event", desc, json.dumps(effect), self.clock.now()))
            self.store.log(db, s["game"], k, "event", f"Event queued for turn {k}: {desc} ({words})", at=self.clock.now())
            Store.bump(db, s["game"])

    def _do_unqueue(self, s: dict[str, Any], payload: dict[str, Any]) -> None:
        with self.store.tx() as db:
            g = self._control(db, s, payload)
            cur = db.execute("DELETE FROM queue WHERE id=? AND game=? AND turn=?", (int(payload.get("id", -1)), s["game"],
                                                                                     g["turn"] + 1))
            if cur.rowcount:
                self.store.log(db, s["game"], g["turn"] + 1, "inject", "A queued inject or event was taken back",
                               at=self.clock.now())
                Store.bump(db, s["game"])

    def _do_overrule(self, s: dict[str, Any], payload: dict[str, Any]) -> None:
        from ..play.savefile import game_data

        reason = " ".join(str(payload.get("reason", "")).split())[:MESSAGE_MAX]
        if not reason:
            raise BadRequest("say why the result is overruled (the reason is logged and shown to the class)")
        gid = s["game"]
        with self.lock(gid):
            g = self.store.game(gid)
            if g["busy"] or g["phase"] not in ("open", "over") or str(payload.get("turn")) != str(g["turn"] + 1):
                raise Conflict("the game has moved on since this screen was drawn; it has been brought up to date")
            game = self._fresh(gid)
            effect, words = self._menu_effect(game, payload)
            desc = " ".join(str(payload.get("description", "")).split())[:MESSAGE_MAX] or words
            game.overrule(effect, desc, reason)
            with self.store.tx() as db:
                Store.check_turn(db, gid, payload.get("turn"), ("open", "over"))
                Store.put_save(db, gid, game.turn, game_data(game))
                self.store.log(db, gid, game.turn, "overrule", f"The umpire overrules the model after turn "
                               f"{game.turn}: {desc} ({words}). Reason: {reason}", at=self.clock.now())
                Store.bump(db, gid)
            self._cache(gid, game)
            self._mirror(gid, game)

    def _do_undo(self, s: dict[str, Any], payload: dict[str, Any]) -> None:
        gid = s["game"]
        with self.lock(gid):
            with self.store.tx() as db:
                g = self._control(db, s, payload, ("open", "over"))
                k = g["turn"]
                if k < 1:
                    raise BadRequest("no turn has been played yet")
                db.execute("DELETE FROM saves WHERE game=? AND turn=?", (gid, k))
                db.execute("UPDATE choices SET status='draft' WHERE game=? AND turn=?", (gid, k))
                db.execute("DELETE FROM choices WHERE game=? AND turn=?", (gid, k + 1))
                db.execute("DELETE FROM rulings WHERE game=? AND turn=?", (gid, k))
                db.execute("DELETE FROM carried WHERE game=? AND turn=?", (gid, k + 1))
                db.execute("UPDATE queue SET turn=? WHERE game=? AND turn=?", (k, gid, k + 1))
                cfg = self.store.game(gid)["config"]
                db.execute("UPDATE games SET turn=?, phase='open', paused=1, remaining=?, deadline=NULL, error='' "
                           "WHERE id=?", (k - 1, cfg["turn_seconds"], gid))
                db.execute("UPDATE seats SET version=version+1 WHERE game=?", (gid,))
                self.store.log(db, gid, k, "undo", f"The umpire undid turn {k}: the game is back before it, with the "
                               "teams' moves as drafts", at=self.clock.now())
                Store.bump(db, gid)
            self._forget(gid)
            game = self.game_obj(gid)
            if game is not None:
                self._mirror(gid, game)


ACTIONS: dict[str, tuple[str, ...]] = {
    "tick": ("team",), "submit": ("team",), "withdraw": ("team",),
    "message": ("team", "facilitator"),
    "pause": ("facilitator",), "resume": ("facilitator",), "set_timer": ("facilitator",), "run_now": ("facilitator",),
    "rule": ("facilitator",), "queue_inject": ("facilitator",), "queue_event": ("facilitator",),
    "unqueue": ("facilitator",), "overrule": ("facilitator",), "undo": ("facilitator",),
}
"""Each action and the seats' roles that may do it."""


def _held_back(game: Any, moves: list[str]) -> list[str]:
    """A team's "hold back" beside a decision it ordered (one delayed from an earlier turn,
    say): the order stands, and holding back is dropped, so the turn runs."""
    from ..play.moves import check_move, kind_of

    pairs = [check_move(game.scn, game.played, m) for m in moves]
    ordering = {a for a, w in pairs if kind_of(game.scn, a, w) == "decision"}
    return [m for m, (a, w) in zip(moves, pairs, strict=True) if not (kind_of(game.scn, a, w) == "hold" and a in ordering)]
