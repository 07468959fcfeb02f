"""`sim play` in a real pseudo-terminal: prompts, a bad move, an instructor's event, a turn,
and quitting; then end of input (Ctrl-D) at the prompt. The game is saved whatever the way out."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import threading
import time
from pathlib import Path

import pytest

from .simproc import ANSI, SIM, wait_for

pytestmark = pytest.mark.pythons  # also run on Python 3.12 and 3.13 (.ci/run)


class Terminal:
    """`sim ARGS` with stdin, stdout and stderr on one pseudo-terminal."""

    def __init__(self, args: list[str], cwd: Path):
        master, slave = pty.openpty()
        self.p = subprocess.Popen([SIM, *args], stdin=slave, stdout=slave, stderr=slave, cwd=cwd,
                                  env={**os.environ, "TERM": "dumb", "COLUMNS": "120"}, start_new_session=True)
        os.close(slave)
        self.master = master
        self.text = ""
        self.pos = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                self.text += ANSI.sub("", data.decode(errors="replace"))

    def expect(self, pattern: str) -> str:
        """Wait until ``pattern`` appears after what was matched before; return the text up to it."""
        rx = re.compile(pattern)
        found: list[re.Match] = []

        def seen() -> bool:
            with self._lock:
                m = rx.search(self.text, self.pos)
            if m:
                found.append(m)
            return bool(m)

        assert wait_for(seen), f"never saw {pattern!r}; output so far:\n{self.text[-3000:]}"
        m = found[0]
        before = self.text[self.pos:m.end()]
        self.pos = m.end()
        return before

    def send(self, line: str) -> None:
        os.write(self.master, line.encode())

    def finish(self) -> int:
        try:
            return self.p.wait(timeout=120)
        finally:
            time.sleep(0.1)
            os.close(self.master)


def test_interactive_play_through_a_pseudo_terminal(tmp_path):
    out = tmp_path / "game"
    t = Terminal(["play", "karabakh", "--as", "armenia", "--months", "6", "--seed", "3", "--forecast-runs", "200",
                  "--out", str(out)], tmp_path)
    t.expect(r"=== Turn 1 of 2: 2023-07 to 2023-09 — you play Armenia ===")
    t.expect(r"\[1\] armenia\.appeal_to_csto")
    t.expect(r"turn 1> ")
    t.send("armenia.freez_csto\n")
    t.expect(r"! 'armenia\.freez_csto': armenia has no lever 'freez_csto' \(did you mean 'freeze_csto'\?\)")
    t.send("azerbaijan.lift_blockade\n")
    t.expect(r"Azerbaijan is not played in this game")
    t.send("1\n")
    t.expect(r"move added: armenia\.appeal_to_csto")
    t.send("event Embargo on Russian arms | {multiply: {suppliers.russia_arms.reliability: 0.5}}\n")
    t.expect(r"event added for this turn: Embargo on Russian arms")
    t.send("done\n")
    t.expect(r"--- What happened, 2023-07 to 2023-09 ---")
    t.expect(r"Armenia \(played\) chooses to invoke the CSTO's collective-defence clause")
    t.expect(r"Forecast: probability by 2023-12 \(200 continuations from this state, seed 3 turn 1\)")
    t.expect(r"turn 2> ")
    t.send("quit\n")
    t.expect(r"Game saved: .*game\.json")
    t.expect(r"Debrief: .*debrief\.html")
    assert t.finish() == 0
    saved = json.loads((out / "game.json").read_text())
    assert saved["turn"] == 1 and saved["turns"][0]["moves"] == ["armenia.appeal_to_csto"]
    assert saved["turns"][0]["events"][0]["description"] == "Embargo on Russian arms"
    assert "Debrief: South Caucasus" in (out / "debrief.html").read_text()

    # resume, then end the input (Ctrl-D) at the prompt: the game is saved, nothing lost
    t = Terminal(["play", "--resume", str(out / "game.json")], tmp_path)
    t.expect(r"=== Turn 2 of 2: 2023-10 to 2023-12")
    t.expect(r"turn 2> ")
    t.send("\x04")
    t.expect(r"\(end of input\)")
    t.expect(r"Game saved")
    assert t.finish() == 0
    again = json.loads((out / "game.json").read_text())
    assert again["turn"] == 1 and again["snapshots"] == saved["snapshots"]
