"""A run's figures drawn by a process forked before the run simulates.

Importing matplotlib and the figure module takes about 0.3 s, a third of what ``sim run``
spends on its figures and report, and until now it came after the simulation. Its set-up
(numba loading the kernels) keeps one core busy and leaves the other idle.
:func:`start` forks a painter then, before the run's set-up: the painter imports the figure
module on the idle core and waits. When the run's folder is written, :func:`draw` hands it
the results (pickled, a few tens of milliseconds for 10,000 karabakh runs) and the folder;
it draws and writes the figures there (:func:`sim.report.figures.write_figures`, in two
processes as ever), answers with their paths and ends.

Whatever goes wrong on the way (the painter could not be forked, has died, could not be
sent the results, or failed on a figure) ends in :func:`draw` returning None: the caller
then draws every figure itself, as without a painter, so a figure's error is raised in the
run's own process as before, and every file a painter wrote is written again. The figures
are the same bytes either way (the same code draws them from the same numbers).

The painter ignores Ctrl-C (the run saves what it finished, report included, and asks the
painter for its figures then) and ends when the run's process closes its end of the pipe:
at :func:`draw`, at :func:`stop`, or when the process ends. Processes this one forks after
:func:`start` (the run's workers, the figures' second process) close their copies of the
pipes at once, so that the painter sees that end. ``SIM_FIGURES_EARLY=0`` turns it off; it
is never forked where :func:`sim.report.forking.share_unsafe` would not share the figures
with a forked child (another thread running, a platform that does not fork) or where
``SIM_FIGURES_FORK=0``.

Its CPU time counts as the run's own where the run measures how busy the machine is
(:func:`sim.runner.side_process`): the painter's import on the second core does not make
the run think another program took that core.
"""

from __future__ import annotations

import os
import pickle
import signal
import threading
from collections.abc import Collection
from pathlib import Path
from typing import Any

ENV = "SIM_FIGURES_EARLY"
"""``SIM_FIGURES_EARLY=0``: no painter; the figures are drawn after the run, as before."""

_LEN = 8  # bytes of a message's length, before it


class Painter:
    """A forked process that has imported the figure module and draws one run's figures."""

    def __init__(self, pid: int, to_painter: int, from_painter: int):
        self.pid = pid
        self.to_painter = to_painter
        self.from_painter = from_painter

    def close(self) -> None:
        """Close this process's ends; the painter ends (it reads the end of its pipe). Reaped
        if it has ended, else killed and reaped: a painter never outlives its use."""
        for fd in (self.to_painter, self.from_painter):
            try:
                os.close(fd)
            except OSError:
                pass
        self.to_painter = self.from_painter = -1
        _forget(self)
        try:
            if os.waitpid(self.pid, os.WNOHANG)[0] == 0:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
        except (ChildProcessError, ProcessLookupError):
            pass


_current: Painter | None = None
_hooked = False


def why_not(ignore: Collection[threading.Thread] = ()) -> str | None:
    """Why no painter is forked now, or None: ``SIM_FIGURES_EARLY=0``, the figures' own
    checks (:func:`sim.report.forking.share_unsafe`; ``ignore``: threads not to count), and
    a second core (on one, the painter's import would only take turns with the run)."""
    from ..runner import available_cores
    from .forking import share_unsafe, turned_off

    why = turned_off(ENV) or share_unsafe(ignore)
    if why is not None:
        return why
    if available_cores() < 2:
        return "one core"
    return None


def start(ignore: Collection[threading.Thread] = ()) -> Painter | None:
    """Fork the painter now (once: a second call keeps the first), where :func:`why_not`
    allows; it imports the figure module while this process goes on. Returns it, or None."""
    global _current, _hooked
    if _current is not None:
        return _current
    if why_not(ignore) is not None:
        return None
    req_r, req_w = os.pipe()
    rep_r, rep_w = os.pipe()
    try:
        pid = os.fork()
    except OSError:  # out of memory, too many processes: drawn here after the run
        for fd in (req_r, req_w, rep_r, rep_w):
            os.close(fd)
        return None
    if pid == 0:  # the painter
        code = 1
        try:
            os.close(req_w)
            os.close(rep_r)
            code = _paint(req_r, rep_w)
        finally:
            os._exit(code)  # no exit handlers, no flushing of the run's buffers
    os.close(req_r)
    os.close(rep_w)
    _current = Painter(pid, req_w, rep_r)
    if not _hooked:  # children forked from here on (workers, the figures' second process) drop the pipes
        os.register_at_fork(after_in_child=_drop_in_child)
        _hooked = True
    from ..runner import side_process

    side_process(pid)
    return _current


def _drop_in_child() -> None:
    """In a process forked from the run's after :func:`start`: its copies of the painter's
    pipes closed (the painter must see its end when the run's process closes them)."""
    global _current
    p = _current
    if p is not None:
        for fd in (p.to_painter, p.from_painter):
            try:
                os.close(fd)
            except OSError:
                pass
        _current = None


def _forget(p: Painter) -> None:
    global _current
    if _current is p:
        _current = None
    from ..runner import side_process

    side_process(p.pid, False)


def stop() -> None:
    """End the painter unused (no report: ``--no-report``, a run that failed)."""
    if _current is not None:
        _current.close()


def draw(res: Any, folder: Path) -> dict[str, Path] | None:
    """The figures of ``res`` drawn into ``folder`` by the painter: {name: path}, as
    :func:`sim.report.figures.write_figures` returns; None where there is no painter or it
    did not draw them all (then draw them here). The painter is used once and ended."""
    p = _current
    if p is None:
        return None
    try:
        light = _without_consumers(res)
        data = pickle.dumps((light, os.fspath(folder)), protocol=pickle.HIGHEST_PROTOCOL)
        _send(p.to_painter, data)
        reply = _receive(p.from_painter)
        answer = pickle.loads(reply) if reply is not None else None
    except Exception:  # noqa: BLE001 - an unpicklable part, a painter gone: drawn here instead
        answer = None
    finally:
        p.close()
    if not isinstance(answer, dict):
        return None
    return {name: Path(path) for name, path in answer.items()}


def _without_consumers(res: Any) -> Any:
    """A shallow copy of the results without what takes their chunks (open Parquet writers:
    the figures do not read them, and they do not pickle)."""
    import copy

    light = copy.copy(res)
    if getattr(light, "consumers", None):
        light.consumers = []
    return light


def _send(fd: int, data: bytes) -> None:
    view = memoryview(len(data).to_bytes(_LEN, "little") + data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _receive(fd: int) -> bytes | None:
    """One message, or None at the pipe's end before a whole one."""
    head = _read(fd, _LEN)
    if head is None:
        return None
    return _read(fd, int.from_bytes(head, "little"))


def _read(fd: int, n: int) -> bytes | None:
    parts, got = [], 0
    while got < n:
        b = os.read(fd, min(n - got, 1 << 20))
        if not b:
            return None
        parts.append(b)
        got += len(b)
    return b"".join(parts)


def _warm() -> None:
    """Draw a small figure with plain and bold text and throw it away: the fonts are loaded
    and the renderer set up before the run's first figure (about 15 ms less for it)."""
    from . import canvas

    fig, ax = canvas.panels(1, 1, 1.0, 0.5, left=0.3, right=0.1, top=0.3, bottom=0.3)
    ax[0, 0].plot([0, 1], [0, 1], label="a")
    ax[0, 0].legend()
    canvas.suptitle(fig, "b", 0.1)
    canvas.render(fig)()


def _paint(req: int, rep: int) -> int:
    """The painter's life: import, wait for the run, draw, answer. Returns its exit code."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the run decides what Ctrl-C stops; its end ends this
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    import gc

    gc.disable()  # a short life: the collector would walk the run's inherited objects again and again
    try:
        from .figures import write_figures  # matplotlib: what this process is for

        _warm()
        msg = _receive(req)
        if msg is None:  # the run ended without a report
            return 0
        res, folder = pickle.loads(msg)
        drawn = write_figures(res, Path(folder))
        answer: Any = {name: os.fspath(path) for name, path in drawn.items()}
    except BaseException as exc:  # noqa: BLE001 - the run draws the figures itself, and raises the error there
        answer = f"failed: {type(exc).__name__}"
    try:
        _send(rep, pickle.dumps(answer))
    except OSError:
        return 1
    return 0
