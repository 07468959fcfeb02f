"""The class games' database: one SQLite file (stdlib ``sqlite3``) holding every game's
seats, choices, rulings, queued injects, messages, log and the saved game after each turn.

Everything a screen shows is read from here and every change is written here, in a
transaction, so a reload, a second browser on the same seat or a server restart sees
the same game. Writes that depend on what a screen saw carry a check: the turn it
acted on (a stale turn is refused) and, for a team's choices, the seat's own version
(two browsers on one seat cannot overwrite each other's ticks unseen). ``games.version``
counts every change of a game: screens poll it to know when to redraw.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS games (
    id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    title TEXT NOT NULL,
    config TEXT NOT NULL,            -- JSON: scenario, seed, played, months, runs, timer, folder
    phase TEXT NOT NULL,             -- starting | open | running | over | failed
    turn INTEGER NOT NULL DEFAULT 0, -- turns played; the open turn is turn + 1
    version INTEGER NOT NULL DEFAULT 0,
    deadline REAL,                   -- when the open turn's time is up (the service's clock)
    remaining REAL,                  -- seconds left while paused
    paused INTEGER NOT NULL DEFAULT 1,
    busy TEXT NOT NULL DEFAULT '',   -- what the server is computing, in words ('' when idle)
    error TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS seats (
    game TEXT NOT NULL,
    seat TEXT NOT NULL,              -- an actor's key for a team; 'facilitator'; 'projector'
    role TEXT NOT NULL,              -- team | facilitator | projector
    label TEXT NOT NULL,
    token TEXT NOT NULL UNIQUE,
    code TEXT NOT NULL UNIQUE,
    version INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (game, seat)
);
CREATE TABLE IF NOT EXISTS choices (
    game TEXT NOT NULL, turn INTEGER NOT NULL, seat TEXT NOT NULL,
    keys TEXT NOT NULL DEFAULT '[]', -- JSON list of choice keys (ACTOR.LEVER)
    status TEXT NOT NULL DEFAULT 'draft',  -- draft | submitted
    at REAL,
    PRIMARY KEY (game, turn, seat)
);
CREATE TABLE IF NOT EXISTS rulings (
    game TEXT NOT NULL, turn INTEGER NOT NULL, seat TEXT NOT NULL, key TEXT NOT NULL,
    ruling TEXT NOT NULL,            -- accept | reject | delay
    reason TEXT NOT NULL DEFAULT '', at REAL,
    PRIMARY KEY (game, turn, seat, key)
);
CREATE TABLE IF NOT EXISTS carried (
    game TEXT NOT NULL, turn INTEGER NOT NULL, seat TEXT NOT NULL, key TEXT NOT NULL, from_turn INTEGER NOT NULL,
    PRIMARY KEY (game, turn, seat, key)
);
CREATE TABLE IF NOT EXISTS queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    game TEXT NOT NULL, turn INTEGER NOT NULL,
    kind TEXT NOT NULL,              -- inject (the deck's) | event (the facilitator's own)
    name TEXT NOT NULL, description TEXT NOT NULL, effect TEXT, at REAL
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    game TEXT NOT NULL, turn INTEGER NOT NULL,
    sender TEXT NOT NULL, recipient TEXT NOT NULL,  -- a seat, 'all' or 'facilitator'
    kind TEXT NOT NULL,              -- message | request (for information) | answer
    text TEXT NOT NULL, at REAL
);
CREATE TABLE IF NOT EXISTS log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    game TEXT NOT NULL, turn INTEGER NOT NULL,
    kind TEXT NOT NULL, text TEXT NOT NULL, data TEXT, at REAL
);
CREATE TABLE IF NOT EXISTS saves (
    game TEXT NOT NULL, turn INTEGER NOT NULL,
    rev INTEGER NOT NULL DEFAULT 0,  -- rewritten (an explanation added, a ruling): +1
    data TEXT NOT NULL,              -- the saved game (sim.play.savefile.game_data), JSON
    PRIMARY KEY (game, turn)
);
CREATE INDEX IF NOT EXISTS messages_game ON messages (game, id);
CREATE INDEX IF NOT EXISTS log_game ON log (game, id);
"""


class Conflict(Exception):
    """A write refused because the screen acted on a state that has changed since."""


class Store:
    """The database of class games (one file; ``:memory:`` for a throwaway one).

    One connection shared by the server's threads behind a lock; each write is a
    transaction (``BEGIN IMMEDIATE``), so concurrent writers queue and none is lost.
    """

    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self.db.row_factory = sqlite3.Row
        with self.lock:
            if self.path != ":memory:":
                self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.executescript(SCHEMA)

    def close(self) -> None:
        with self.lock:
            self.db.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed whole, or rolled back whole on any error."""
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def one(self, sql: str, *args: Any) -> sqlite3.Row | None:
        with self.lock:
            return self.db.execute(sql, args).fetchone()

    def all(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        with self.lock:
            return self.db.execute(sql, args).fetchall()

    # ------------------------------------------------------------------ games

    def game(self, gid: str) -> dict[str, Any] | None:
        row = self.one("SELECT * FROM games WHERE id=?", gid)
        if row is None:
            return None
        g = dict(row)
        g["config"] = json.loads(g["config"])
        return g

    def games(self) -> list[dict[str, Any]]:
        return [g for g in (self.game(r["id"]) for r in self.all("SELECT id FROM games ORDER BY created")) if g]

    def seat_by_token(self, token: str) -> dict[str, Any] | None:
        row = self.one("SELECT * FROM seats WHERE token=?", str(token))
        return dict(row) if row else None

    def seat_by_code(self, code: str) -> dict[str, Any] | None:
        row = self.one("SELECT * FROM seats WHERE code=?", str(code).strip().upper().replace("-", "").replace(" ", ""))
        return dict(row) if row else None

    def seats(self, gid: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.all("SELECT * FROM seats WHERE game=? ORDER BY rowid", gid)]

    @staticmethod
    def bump(db: sqlite3.Connection, gid: str) -> None:
        db.execute("UPDATE games SET version=version+1 WHERE id=?", (gid,))

    @staticmethod
    def check_turn(db: sqlite3.Connection, gid: str, turn: Any, phases: tuple[str, ...] = ("open",)) -> dict[str, Any]:
        """The game row, if its phase is one of ``phases`` and its open turn is ``turn``
        (the turn the screen acted on); :class:`Conflict` otherwise."""
        row = db.execute("SELECT * FROM games WHERE id=?", (gid,)).fetchone()
        if row is None:
            raise Conflict("no such game")
        try:
            t = int(turn)
        except (TypeError, ValueError):
            raise Conflict("the screen did not say which turn it acted on; it has been brought up to date") from None
        if row["phase"] not in phases or t != row["turn"] + 1:
            raise Conflict(f"the game has moved on (turn {row['turn'] + 1}, {row['phase']}) since this screen "
                           "was drawn; it has been brought up to date")
        return dict(row)

    def log(self, db: sqlite3.Connection, gid: str, turn: int, kind: str, text: str, data: Any = None,
            at: float | None = None) -> None:
        db.execute("INSERT INTO log (game, turn, kind, text, data, at) VALUES (?,?,?,?,?,?)",
                   (gid, turn, kind, text, None if data is None else json.dumps(data), at))

    # ------------------------------------------------------------------ reads

    def choices(self, gid: str, turn: int) -> dict[str, dict[str, Any]]:
        out = {}
        for r in self.all("SELECT * FROM choices WHERE game=? AND turn=?", gid, turn):
            out[r["seat"]] = {"keys": json.loads(r["keys"]), "status": r["status"], "at": r["at"]}
        return out

    def rulings(self, gid: str, turn: int) -> dict[tuple[str, str], dict[str, Any]]:
        return {(r["seat"], r["key"]): dict(r) for r in self.all("SELECT * FROM rulings WHERE game=? AND turn=?", gid, turn)}

    def carried(self, gid: str, turn: int) -> list[dict[str, Any]]:
        return [dict(r) for r in self.all("SELECT * FROM carried WHERE game=? AND turn=? ORDER BY rowid", gid, turn)]

    def queue(self, gid: str, turn: int) -> list[dict[str, Any]]:
        out = []
        for r in self.all("SELECT * FROM queue WHERE game=? AND turn=? ORDER BY id", gid, turn):
            d = dict(r)
            d["effect"] = json.loads(d["effect"]) if d["effect"] else None
            out.append(d)
        return out

    def messages(self, gid: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.all("SELECT * FROM messages WHERE game=? ORDER BY id", gid)]

    def log_rows(self, gid: str) -> list[dict[str, Any]]:
        out = []
        for r in self.all("SELECT * FROM log WHERE game=? ORDER BY id", gid):
            d = dict(r)
            d["data"] = json.loads(d["data"]) if d["data"] else None
            out.append(d)
        return out

    def save(self, gid: str, turn: int | None = None) -> dict[str, Any] | None:
        """The saved game after ``turn`` (default: the latest): ``{"turn", "rev", "data"}``."""
        if turn is None:
            row = self.one("SELECT * FROM saves WHERE game=? ORDER BY turn DESC LIMIT 1", gid)
        else:
            row = self.one("SELECT * FROM saves WHERE game=? AND turn=?", gid, turn)
        return None if row is None else {"turn": row["turn"], "rev": row["rev"], "data": json.loads(row["data"])}

    def save_rev(self, gid: str) -> tuple[int, int] | None:
        row = self.one("SELECT turn, rev FROM saves WHERE game=? ORDER BY turn DESC LIMIT 1", gid)
        return None if row is None else (row["turn"], row["rev"])

    @staticmethod
    def put_save(db: sqlite3.Connection, gid: str, turn: int, data: dict[str, Any]) -> None:
        db.execute("INSERT INTO saves (game, turn, rev, data) VALUES (?,?,0,?) "
                   "ON CONFLICT (game, turn) DO UPDATE SET rev=rev+1, data=excluded.data",
                   (gid, turn, json.dumps(data, separators=(",", ":"))))
