"""Long work off the page: a job runs in a worker thread, reports progress, and can be cancelled.

A run is cancelled the way Ctrl-C stops ``sim run``: the progress callback the library
calls after each chunk raises :class:`Cancelled` (a ``KeyboardInterrupt``), the run stops
there and keeps the chunks that finished (``complete`` False, ``stopped_by`` "interrupt").
Work that takes no progress callback (a game's turn, whose world must stay whole) runs to
its end; the page stays live meanwhile.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..files import OutputError
from ..play.moves import MoveError
from ..runner import ChunkFailed
from ..scenario.errors import InputError

log = logging.getLogger("sim.dashboard")

FLAGS = {"runs": "--runs", "seed": "--seed", "months": "--months", "workers": "--workers", "chunk_size": "--chunk-size",
         "dtype": "--precision", "levers": "--lever", "replicate": "--replicate", "samples": "--samples",
         "pull": "--pull"}
"""The ``sim`` flag for each library argument, so that errors read as the CLI's do."""


class Cancelled(KeyboardInterrupt):
    """The user pressed Cancel: raised from a run's progress callback (stops it like Ctrl-C)."""


def error_lines(exc: InputError, command: str = "sim dashboard", hide: str | None = None) -> list[str]:
    """The one-line problems the CLI prints for ``exc`` (library arguments named by their
    flags); ``hide``, a temporary folder, is removed from file names."""
    probs = [replace(p, mark=replace(p.mark, option=FLAGS.get(p.mark.option, p.mark.option)))
             if p.mark.option is not None else p for p in exc.problems]
    explained = [p for p in exc.problems if (p.mark, p.path, p.message) in exc.explained]
    lines = InputError(probs, cause=exc.cause, explained=explained).format(command).splitlines()
    if hide:
        lines = [ln.replace(hide.rstrip("/") + "/", "") for ln in lines]
    return lines


class Job:
    """One piece of long work in a worker thread.

    Args:
        fn: Called in the thread as ``fn(job)``; returns the job's result. It passes
            :meth:`progress` to the library as the progress callback.
        label: What the job does, for the page ("Monte Carlo").
        on_change: Called (from the worker thread) whenever the state or progress changes.

    Attributes:
        state: ``running``, ``done``, ``cancelled`` or ``failed``.
        done, total: Progress of the current stage (replicates, as the library counts them).
        stage: What is being done now.
        result: What ``fn`` returned (also when a run was cancelled and returned a part).
        errors: One line per problem when it failed (the CLI's lines for bad input).
    """

    def __init__(self, fn: Callable[[Job], Any], label: str, on_change: Callable[[], None] | None = None):
        self.fn, self.label, self.on_change = fn, label, on_change
        self.state = "idle"
        self.stage = label
        self.done = 0
        self.total = 0
        self.result: Any = None
        self.errors: list[str] = []
        self._cancel = threading.Event()
        self._finished = threading.Event()
        self.thread: threading.Thread | None = None

    # ------------------------------------------------------------------ control

    def start(self) -> Job:
        self.state = "running"
        self.thread = threading.Thread(target=self._main, name=f"sim-dashboard-{self.label}", daemon=True)
        self.thread.start()
        return self

    def cancel(self) -> None:
        """Ask the job to stop at the next chunk boundary."""
        self._cancel.set()
        self._notify()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    @property
    def running(self) -> bool:
        return self.state == "running"

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job has finished (for tests and scripts); True if it has."""
        return self._finished.wait(timeout)

    # ------------------------------------------------------------------ reporting

    def progress(self, done: int, total: int) -> None:
        """The library's progress callback: records progress; raises :class:`Cancelled` once
        the user has cancelled."""
        self.done, self.total = int(done), int(total)
        self._notify()
        if self._cancel.is_set():
            raise Cancelled()

    def begin(self, stage: str, total: int = 0) -> None:
        """A new stage of the job (progress starts again)."""
        self.stage, self.done, self.total = stage, 0, int(total)
        self._notify()

    def check(self) -> None:
        """Raise :class:`Cancelled` if the user has cancelled (between stages)."""
        if self._cancel.is_set():
            raise Cancelled()

    @property
    def fraction(self) -> float | None:
        return self.done / self.total if self.total else None

    def _notify(self) -> None:
        if self.on_change is not None:
            try:
                self.on_change()
            except Exception:  # noqa: BLE001 - a page that went away must not stop the work
                log.debug("progress notification failed", exc_info=True)

    def _main(self) -> None:
        try:
            self.result = self.fn(self)
            self.state = "cancelled" if self._cancel.is_set() else "done"
        except Cancelled:
            self.state = "cancelled"
        except InputError as exc:
            self.errors, self.state = error_lines(exc), "failed"
        except MoveError as exc:
            self.errors, self.state = [str(exc)], "failed"
        except ChunkFailed as exc:
            self.result = getattr(exc, "partial", None)
            self.errors, self.state = [f"{exc}"], "failed"
        except OutputError as exc:  # a full disk, a read-only folder
            self.errors, self.state = [f"sim dashboard: {exc}"], "failed"
        except Exception as exc:  # noqa: BLE001 - shown in the page, logged with its traceback
            log.error("%s failed:\n%s", self.label, traceback.format_exc())
            self.errors, self.state = [f"internal error in {self.label}: {type(exc).__name__}: {exc} "
                                       "(the server's log has the traceback; please report it)"], "failed"
        finally:
            self._finished.set()
            self._notify()
