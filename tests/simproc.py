"""`sim run` as a real subprocess, for the signal tests: progress, signals, child processes.

The child's stderr is a pseudo-terminal, so `sim run` shows its progress bar; the
tests wait for finished runs on it (a state, not a time) before they signal. The
child starts with SIGINT at its default disposition whatever this process inherited
(a suite started in the background by a non-interactive shell ignores SIGINT, and
so would every child it starts), unless a test asks for it to be ignored.
"""

from __future__ import annotations

import os
import pty
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

SIM = str(Path(sys.executable).parent / "sim")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r")
CAP = 120.0
"""Seconds a wait may last before the test gives up (a hang, not a speed bound)."""


def wait_for(pred, cap: float = CAP, every: float = 0.05) -> bool:
    """Poll ``pred`` until it is true; False if it never was within ``cap`` seconds."""
    end = time.monotonic() + cap
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(every)
    return bool(pred())


class SimProcess:
    """`sim ARGS` with stdout to a file and stderr on a pseudo-terminal read by a thread."""

    def __init__(self, args: list[str], tmp: Path, *, sigint: str = "default", env: dict | None = None):
        disposition = signal.SIG_DFL if sigint == "default" else signal.SIG_IGN

        def child_signals() -> None:
            signal.signal(signal.SIGINT, disposition)

        master, slave = pty.openpty()
        self._stdout = open(tmp / "stdout.txt", "w+b")  # noqa: SIM115 - closed in finish()
        self.err = b""
        self.p = subprocess.Popen(
            [SIM, *args], stdin=subprocess.DEVNULL, stdout=self._stdout, stderr=slave,
            preexec_fn=child_signals, env={**os.environ, "TERM": "xterm", "COLUMNS": "120", **(env or {})},
        )
        os.close(slave)
        self._master = master
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self._master, 65536)
            except OSError:  # EIO: every holder of the terminal has closed it
                return
            if not data:
                return
            self.err += data

    @property
    def stderr(self) -> str:
        return ANSI.sub("", self.err.decode(errors="replace"))

    def runs_done(self) -> int:
        """The largest count of finished runs the progress bar has shown so far."""
        done = [int(m.group(1)) for m in re.finditer(r"(\d+)/(\d+)", self.stderr)]
        return max(done, default=0)

    def wait_runs(self, n: int) -> int:
        """Wait until the progress bar shows at least ``n`` finished runs (the child must be alive)."""
        assert wait_for(lambda: self.runs_done() >= n or self.p.poll() is not None), "no progress shown"
        assert self.p.poll() is None, f"sim ended early ({self.p.returncode}):\n{self.stderr}"
        return self.runs_done()

    def children(self) -> list[psutil.Process]:
        """Its child processes (workers, the resource tracker), recursively."""
        return psutil.Process(self.p.pid).children(recursive=True)

    def signal(self, sig: int) -> None:
        self.p.send_signal(sig)

    def finish(self) -> tuple[int, str, str]:
        """Wait for the child to end; return its exit code, stdout and stderr."""
        try:
            rc = self.p.wait(timeout=CAP)
        finally:
            if self.p.poll() is None:
                self.p.kill()
                self.p.wait()
        self._reader.join(timeout=10)
        os.close(self._master)
        self._stdout.seek(0)
        out = self._stdout.read().decode(errors="replace")
        self._stdout.close()
        return rc, out, self.stderr


def gone(proc: psutil.Process) -> bool:
    """True once a process has ended (a zombie nobody reaps counts as ended)."""
    try:
        return not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
