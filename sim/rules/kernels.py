"""Which compiled kernels a plan's rules will compile before they first run.

The stock rules' monthly steps are numba kernels cached on disk (``cache=True``): the
first run on a machine, or after an upgrade, compiles them (seconds); later runs load
them. A rule imports its kernels when it is built, so building a plan's pipeline
names exactly the kernels that plan uses.
"""

from __future__ import annotations

import sys
from typing import Any

from .registry import build_pipeline


def uncached(plan: Any) -> list[str]:
    """The kernels ``plan``'s rules use that numba's disk cache does not hold (or holds for
    an older source): ``["spells_kernel.chain", ...]``, empty when every one is cached.

    Reads numba's cache index through its internals; where those differ (another numba),
    it says nothing rather than guess (returns an empty list).
    """
    build_pipeline(plan)  # a rule imports its kernels when it is built
    from ..world import tally_kernel  # the world's own (World.emit), used by every run
    try:
        from numba.core.dispatcher import Dispatcher
    except ImportError:  # pragma: no cover - numba is a dependency
        return []
    out = []
    roots = tuple(m.rsplit(".", 1)[0] + "." for m in (__name__, tally_kernel.__name__))  # sim.rules., sim.world.
    for name, mod in list(sys.modules.items()):
        root = next((p for p in roots if name.startswith(p)), None)
        if mod is None or root is None or not name.endswith("_kernel"):
            continue
        for attr, obj in sorted(vars(mod).items()):
            if not isinstance(obj, Dispatcher) or obj.py_func.__module__ != name:
                continue  # not a kernel, or a compiled function a kernel module imports
            try:
                cached = bool(obj._cache._cache_file._load_index())
            except Exception:  # noqa: BLE001 - numba internals: unknown layout, say nothing
                return []
            if not cached:
                out.append(f"{name[len(root):]}.{attr}")
    return sorted(out)
