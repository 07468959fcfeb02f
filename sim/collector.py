"""Python's cyclic garbage collector paused while a run's outputs are made.

Importing matplotlib, drawing figures and building tables make tens of thousands of
short-lived objects; in a process that holds a run (a quarter of a million objects), the
full collections they set off walk all of the run's objects again and again. With a
10,000-run karabakh run in memory, importing the figure module took 0.337 s of CPU with
the collector on and 0.250 s with it paused (medians of 5, alternating), and the objects
made meanwhile cost one young collection of about 0.012 s once it is back; the figures'
time varied by a tenth with it on. :func:`collector_paused` is around the data files
(:meth:`sim.results.Results.save`) and the figures and report, matplotlib's import
included (:func:`sim.report.write_report`).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_paused = {"holders": 0, "was_enabled": True}
_paused_lock = threading.Lock()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off inside, as it was after.

    Nested and concurrent holders (the dashboard's threads) are counted: the collector
    comes back when the last is done, and only if it was on before the first.
    """
    with _paused_lock:
        if _paused["holders"] == 0:
            _paused["was_enabled"] = gc.isenabled()
            gc.disable()
        _paused["holders"] += 1
    try:
        yield
    finally:
        with _paused_lock:
            _paused["holders"] -= 1
            if _paused["holders"] == 0 and _paused["was_enabled"]:
                gc.enable()
