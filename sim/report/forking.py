"""When a run's figures may be drawn by a forked process: the checks shared by the figures'
second process (:func:`sim.report.canvas.drawn_shared`) and the painter forked before the
run (:mod:`sim.report.early`). Imports no matplotlib, so the painter's checks cost nothing
before it is forked."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Collection

SHARE_ENV = "SIM_FIGURES_FORK"
"""``SIM_FIGURES_FORK=0``: a run's figures are all drawn in its own process (:func:`drawn_shared`)."""


def turned_off(env: str) -> str | None:
    """``NAME=value`` where environment variable ``env`` turns something off (0, false, no, off), else None."""
    if os.environ.get(env, "").strip().lower() in ("0", "false", "no", "off"):
        return f"{env}={os.environ[env]}"
    return None


def share_unsafe(ignore: Collection[threading.Thread] = ()) -> str | None:
    """Why the figures should not be shared with a forked child now, or None: turned off
    (``SIM_FIGURES_FORK=0``), a platform that does not fork (or forks badly: macOS), or
    another thread running here (a child would inherit any lock it holds: a notebook's
    kernel, a kept pool's timer). ``ignore``: threads not to count (the tests': those
    earlier tests left idle)."""
    off = turned_off(SHARE_ENV)
    if off is not None:
        return off
    if not hasattr(os, "fork") or sys.platform == "darwin":
        return "the platform does not fork"
    others = [t for t in threading.enumerate() if t is not threading.current_thread() and t not in ignore]
    if others or threading.current_thread() is not threading.main_thread():
        return "other threads are running"
    return None
