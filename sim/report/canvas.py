"""Figures laid out once, drawn once, and written while the next is drawn.

What a run's report costs is almost all matplotlib measuring and drawing text. So:

- :func:`panels` lays panels out in inches with generous margins instead of
  ``tight_layout`` and ``bbox_inches="tight"`` (which lay a figure out two or three
  times and measure every text each time), and :func:`render` draws the figure once and
  crops it to what was drawn, falling back to the tight bounding box only when something
  reaches the edge of the canvas;
- :func:`save` hands the PNG encoding and the file to a thread inside
  :func:`written_behind` (Pillow's encoder lets go of the interpreter lock, so on a
  second core it overlaps the drawing of the next figure);
- :func:`collector_paused` (:mod:`sim.collector`) keeps Python's cyclic garbage collector
  from walking a whole run's objects again and again while figures make and drop tens of
  thousands of their own;
- :func:`drawn_shared` draws a run's figures in two processes where it can fork: this one
  and a child forked from it (matplotlib imported already), taking the figures one at a
  time in turn, so that a report's few figures take the time of about half of them.
"""

from __future__ import annotations

import io
import os
import signal
import sys
import threading
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.image  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ..collector import collector_paused  # noqa: E402, F401 - where the figures (and tests) find it
from .forking import SHARE_ENV, share_unsafe  # noqa: E402, F401 - drawn_shared's checks (and the tests')

PAD_IN = 0.1
"""White kept around what a figure draws, in inches (as ``bbox_inches="tight"`` keeps)."""
PNG = {"compress_level": 3}
"""Pillow's PNG settings: zlib level 3, not its default 6. The pixels are the same (PNG is
lossless); a run's five karabakh figures encode in 80 ms of CPU instead of 117, and come
out 6% smaller (benchmarks/results/2026-12-07-report-outputs.txt)."""


def panels(rows: int, cols: int, width: float, height: float, *, left: float, right: float, top: float,
           bottom: float, hgap: float = 0.0, wgap: float = 0.0, sharex: bool = False,
           sharey: bool = False) -> tuple[Figure, np.ndarray]:
    """A figure of ``rows`` x ``cols`` panels of ``width`` x ``height`` inches each, ``hgap``
    and ``wgap`` inches apart, with margins (inches) around them for what is drawn outside
    the axes: tick labels, titles, legends beside them.

    The outer margins are generous rather than measured: :func:`render` keeps what was
    drawn and :data:`PAD_IN` around it. The gaps between panels must hold what is drawn
    between them (the titles of the panels below: :func:`title_height`), so the caller
    sizes them from what it puts there.
    """
    W = left + cols * width + (cols - 1) * wgap + right
    H = top + rows * height + (rows - 1) * hgap + bottom
    fig = Figure(figsize=(W, H), facecolor="white")
    FigureCanvasAgg(fig)  # not pyplot's: nothing to close, no registry shared across threads
    gs = fig.add_gridspec(rows, cols, left=left / W, right=1 - right / W, bottom=bottom / H, top=1 - top / H,
                          wspace=wgap / width, hspace=hgap / height)
    return fig, gs.subplots(sharex=sharex, sharey=sharey, squeeze=False)


def suptitle(fig: Figure, text: str, left: float) -> None:
    """A title over the whole figure, in bold, its top 0.15 in below the figure's top and its
    left ``left`` inches from the figure's left edge."""
    fig.text(left, fig.get_figheight() - 0.15, text, transform=fig.dpi_scale_trans, ha="left", va="top",
             fontsize=12, fontweight="bold")


def title_height(title: str, fontsize: float) -> float:
    """Inches an axes title of ``fontsize`` points takes above its axes, with its pad."""
    return (title.count("\n") + 1) * fontsize * 1.25 / 72 + 6 / 72


def render(fig) -> Callable[[], bytes]:
    """Draw ``fig`` once and crop it to what it draws, with :data:`PAD_IN` of white around
    it; returns what encodes the crop as PNG (a copy: the figure may be closed first).

    Something that reaches the edge of the canvas was drawn partly outside it (a label
    longer than :func:`panels`' margins, a legend beside the axes of a figure laid out by
    pyplot): then matplotlib's tight bounding box, which grows the figure to hold it all
    (drawing it again), as every figure was saved before.
    """
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    fig.patch.set_facecolor("white")
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    box = crop_box(rgba, round(PAD_IN * fig.dpi))
    if box is None:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", bbox_inches="tight", facecolor="white", pil_kwargs=dict(PNG))
        return buf.getvalue
    top, bottom, left, right = box
    crop, dpi = rgba[top:bottom, left:right].copy(), fig.dpi

    def encode() -> bytes:
        buf = io.BytesIO()
        matplotlib.image.imsave(buf, crop, format="png", dpi=dpi, pil_kwargs=dict(PNG))
        return buf.getvalue()

    return encode


def crop_box(rgba: np.ndarray, pad: int) -> tuple[int, int, int, int] | None:
    """Rows ``top:bottom`` and columns ``left:right`` of an (H, W, 4) image that hold every
    pixel that is not opaque white, with ``pad`` pixels more on each side (as far as the
    image goes); None when nothing is drawn or something reaches the image's edge (and
    may go on beyond it)."""
    ink = rgba.view(np.uint32)[..., 0] != 0xFFFFFFFF
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    h, w = ink.shape
    if rows.size == 0 or rows[0] == 0 or cols[0] == 0 or rows[-1] == h - 1 or cols[-1] == w - 1:
        return None
    return (max(int(rows[0]) - pad, 0), min(int(rows[-1]) + pad + 1, h),
            max(int(cols[0]) - pad, 0), min(int(cols[-1]) + pad + 1, w))


_behind = threading.local()


def save(fig, path: Path) -> Path:
    """Write ``fig`` to ``path`` as PNG (drawn now; encoded and written now, or by
    :func:`written_behind`'s thread inside it). The file is whole or absent."""
    from ..results import atomic_write

    encode = render(fig)
    pyplot = sys.modules.get("matplotlib.pyplot")  # not imported for a run's figures (13 ms): none is pyplot's
    if pyplot is not None:
        pyplot.close(fig)  # a pyplot figure (sim.play's) leaves pyplot's registry; others are not in it
    jobs: list[Future] | None = getattr(_behind, "jobs", None)
    if jobs is None:
        atomic_write(path, encode())
        return path
    for job in jobs:
        if job.done() and job.exception() is not None:
            raise job.exception()  # a full disk: stop drawing
    jobs.append(_behind.pool.submit(lambda: atomic_write(path, encode())))
    return path


@contextmanager
def written_behind() -> Iterator[None]:
    """Inside, :func:`save` encodes and writes each figure in a thread while the next one is
    drawn; every file is written (or has failed) when it ends, and the first failure (a
    full disk: an :class:`OSError`) is raised there, so the folder is tidied after the
    last write, never during one."""
    if getattr(_behind, "jobs", None) is not None:  # nested: the outer one waits
        yield
        return
    jobs: list[Future] = []
    with ThreadPoolExecutor(1, thread_name_prefix="sim-figures") as pool:
        _behind.pool, _behind.jobs = pool, jobs
        try:
            yield
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            _behind.pool = _behind.jobs = None
    for job in jobs:
        job.result()


def drawn_shared(jobs: list[tuple[str, Callable[[], Path | None]]],
                 ignore: Collection[threading.Thread] = ()) -> dict[str, Path | None]:
    """Run ``jobs`` (name, draw: each draws and saves one figure, returning its path or
    None) and return {name: path}, in the jobs' order.

    Where :func:`share_unsafe` allows and there are two or more, a child forked from this
    process draws some of them: the two take job numbers one at a time from a pipe until
    it is empty, so whichever finishes a figure first draws the next. The child writes its
    files itself (whole, as :func:`save` does), reports each figure done, and ends with
    ``os._exit`` (it runs no exit handlers and flushes none of this process's buffers). A
    figure the child took and did not report (it failed, or was killed) is drawn here, so
    that its error, if any, is raised here as without the child; on any exit from here the
    child is killed and reaped. Inside :func:`written_behind`, this process's own figures
    are encoded and written while the next is drawn, as before."""
    why = share_unsafe(ignore) if len(jobs) > 1 else "one figure"
    if why is not None:
        with written_behind():
            return {name: draw() for name, draw in jobs}
    todo_r, todo_w = os.pipe()
    done_r, done_w = os.pipe()
    os.write(todo_w, bytes(range(len(jobs))))  # one byte a job: fewer than 256 figures
    os.close(todo_w)  # an empty pipe then reads as its end
    pid = os.fork()
    if pid == 0:  # the child: draw what it takes, report each one done, end
        code = 1
        try:
            os.close(done_r)
            _behind.jobs = _behind.pool = None  # no writer thread here: each figure written as it is drawn
            while b := os.read(todo_r, 1):
                path = jobs[b[0]][1]()
                os.write(done_w, f"{b[0]}\t{'' if path is None else os.fspath(path)}\n".encode())
            code = 0
        finally:  # an error or a Ctrl-C here: what it took and did not report is drawn by the parent
            os._exit(code)
    os.close(done_w)
    out: dict[int, Path | None] = {}
    try:
        with written_behind():
            while b := os.read(todo_r, 1):
                out[b[0]] = jobs[b[0]][1]()
        reported = b""
        while chunk := os.read(done_r, 1 << 16):  # its end: the child has ended
            reported += chunk
        os.waitpid(pid, 0)
        pid = 0
        for line in reported.decode().splitlines():
            i, path = line.split("\t", 1)
            out[int(i)] = Path(path) if path else None
        left = [i for i in range(len(jobs)) if i not in out]  # the child took them and did not report them
        if left:
            with written_behind():
                for i in left:
                    out[i] = jobs[i][1]()
    finally:
        if pid:  # leaving early: empty the queue, so that the child ends after the figure it draws
            os.set_blocking(todo_r, False)
            try:
                while os.read(todo_r, 256):
                    pass
            except BlockingIOError:
                pass
        os.close(todo_r)
        os.close(done_r)
        if pid:
            _end_child(pid)
    return {jobs[i][0]: out[i] for i in range(len(jobs))}


def _end_child(pid: int, grace: float = 2.0) -> None:
    """End the figures' child ``pid`` as this process leaves :func:`drawn_shared` early (an
    error, a Ctrl-C), its queue emptied: an interrupt first, so that a file it is writing is
    removed whole (as :func:`sim.files.atomic_write` does on any error; where the interrupt
    is held back, as while ``sim run`` writes its folder, the child ends once the figure it
    draws is written), then SIGKILL after ``grace`` seconds; reaped either way."""
    import time

    try:
        os.kill(pid, signal.SIGINT)
        end = time.monotonic() + grace
        while time.monotonic() < end:
            if os.waitpid(pid, os.WNOHANG)[0]:
                return
            time.sleep(0.01)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ChildProcessError, ProcessLookupError):
        pass
