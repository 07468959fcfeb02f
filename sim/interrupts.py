"""How a run is stopped from outside, and how its worker processes end.

- SIGTERM (sent by ``timeout`` and job schedulers) becomes :class:`Terminated`, which
  the run handles like Ctrl-C's KeyboardInterrupt (the CLI installs the handler; a
  library leaves SIGTERM to its host program).
- :class:`SignalDeferral` holds SIGINT and SIGTERM back while a chunk is merged or the
  run folder written, so neither is ever left half done.
- Worker processes leave both signals to the main process, which stops them, and end
  by themselves when the main process dies (:func:`worker_init`).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class Terminated(BaseException):
    """SIGTERM arrived: stop the run like Ctrl-C (raised by :func:`stop_on_sigterm`'s handler)."""


def interrupt_behind(exc: BaseException) -> BaseException | None:
    """The Ctrl-C (KeyboardInterrupt) or SIGTERM (:class:`Terminated`) behind an error, or None.

    C code that runs Python code as it goes can turn an interrupt raised meanwhile into
    another error: numba's dispatcher, when Ctrl-C lands while a kernel is called, returns
    its result with the KeyboardInterrupt pending, which Python reports as
    ``SystemError: ... returned a result with an exception set`` caused by it (a run then
    said that a rule failed). Looks along the error's causes and contexts."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, (KeyboardInterrupt, Terminated)):
            return e
        e = e.__cause__ or e.__context__
    return None


@contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """While active, SIGTERM raises :class:`Terminated` in the main thread, so that a run
    stops as on Ctrl-C: finished chunks saved, exit status 143. For programs (the CLI),
    not libraries. A SIGTERM inherited as ignored stays ignored, as SIGINT does
    (``nohup``, background jobs of scripts). The previous handler is restored after."""
    install = threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    if install:
        signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        if install:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated()


def worker_init(parent: int) -> None:
    """In each worker process: leave SIGINT and SIGTERM to the main process (which stops
    the workers itself), and end this worker when the main process ends, however it ends
    (a SIGKILL leaves no one to stop the workers)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent,), name="sim-parent-watch", daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """Wait on the pipe from the parent (it closes when the parent dies), checking the
    parent pid as well; then end this process at once."""
    import multiprocessing as mp

    watched = mp.parent_process()
    while True:
        if watched is not None:
            watched.join(timeout=1.0)  # returns as soon as the parent's end of the pipe closes
        else:  # pragma: no cover - not started by multiprocessing
            time.sleep(1.0)
        if os.getppid() != parent or (watched is not None and not watched.is_alive()):
            os._exit(70)


class SignalDeferral:
    """Holds SIGINT and SIGTERM back while a critical section runs, then acts on them.

    Python-level handlers (Ctrl-C's KeyboardInterrupt, the CLI's SIGTERM handler) are
    wrapped while the deferral is active; inside ``with deferral.hold():`` a signal is
    only recorded, and its handler runs when the block ends. So a chunk is merged, or a
    file written, whole or not at all. Ignored signals stay ignored. Only the main thread
    can install handlers; elsewhere this does nothing.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self._saved: dict[int, Any] = {}
        self._pending: list[tuple[int, Any]] = []
        self._holding = 0

    def __enter__(self) -> SignalDeferral:
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                handler = signal.getsignal(sig)
                if callable(handler):
                    self._saved[sig] = handler
                    signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._saved.items():
            signal.signal(sig, handler)
        self._saved.clear()
        self._fire()

    def _handle(self, signum: int, frame: Any) -> None:
        if self._holding:
            self._pending.append((signum, frame))
        else:
            self._saved[signum](signum, frame)

    def _fire(self) -> None:
        if self._pending and not self._holding:
            signum, frame = self._pending[0]
            self._pending.clear()
            handler = self._saved.get(signum) or signal.getsignal(signum)
            if callable(handler):
                handler(signum, frame)

    def hold(self) -> _Hold:
        return _Hold(self)


class _Hold:
    def __init__(self, d: SignalDeferral):
        self.d = d

    def __enter__(self) -> None:
        self.d._holding += 1

    def __exit__(self, *exc: object) -> None:
        self.d._holding -= 1
        self.d._fire()
