"""Which compiled kernels a plan's rules will compile before they first run, and how many
this process has loaded and compiled.

The stock rules' monthly steps are numba kernels cached on disk (``cache=True``): the
first run on a machine, or after an upgrade, compiles them (seconds; :mod:`sim.ahead`
compiles them in the background from the first ``import sim``); later runs load them, once
per process: a loaded kernel stays in memory for every later call. A rule imports its
kernels when it is built, so building a plan's pipeline names exactly the kernels that
plan uses.
"""

from __future__ import annotations

import sys
from typing import Any

from .registry import build_pipeline

_PKG = __name__.split(".", 1)[0]
EVERY_RUN = (f"{_PKG}.seeding_kernel", f"{_PKG}.world.tally_kernel")
"""The kernel modules outside the rules that every run uses: the random draws
(:mod:`sim.seeding_kernel`) and the event and level counts (:mod:`sim.world.tally_kernel`)."""


def disk_kernels(mod: Any) -> list[Any]:
    """The kernels ``mod`` defines that numba caches on disk (not its inlined helpers, nor
    what it imports); none for a module not imported."""
    if mod is None:
        return []
    from numba.core.dispatcher import Dispatcher

    return [obj for _, obj in sorted(vars(mod).items())
            if isinstance(obj, Dispatcher) and obj.py_func.__module__ == mod.__name__
            and type(getattr(obj, "_cache", None)).__name__ != "NullCache"]


def counts() -> dict[str, int]:
    """How many times this process has loaded a kernel from numba's disk cache
    (``loaded``) and compiled one (``compiled``), over every kernel made with
    :func:`sim.rules.formulas.kernel` and those of :data:`EVERY_RUN` (numba's own counts of
    each kernel's cache hits and misses). A run's manifest gives the difference over its
    chunks (``kernels``). Imports nothing: a kernel module not imported yet has loaded none."""
    formulas = sys.modules.get(f"{__name__.rsplit('.', 1)[0]}.formulas")
    loaded = compiled = 0
    for k in [*getattr(formulas, "KERNELS", ()), *(k for m in EVERY_RUN for k in disk_kernels(sys.modules.get(m)))]:
        stats = k.stats
        loaded += sum(stats.cache_hits.values())
        compiled += sum(stats.cache_misses.values())
    return {"loaded": loaded, "compiled": compiled}


def uncached(plan: Any) -> list[str]:
    """The kernels ``plan``'s rules use, and those every run uses (:data:`EVERY_RUN`), that
    numba's disk cache does not hold (or holds for an older source):
    ``["spells_kernel.chain", "tally_kernel.add_rows", ...]``, empty when every one is cached.

    Reads numba's cache index through its internals; where those differ (another numba),
    it says nothing rather than guess (returns an empty list).
    """
    import importlib

    build_pipeline(plan)  # a rule imports its kernels when it is built
    every = [importlib.import_module(m) for m in EVERY_RUN]
    prefix = __name__.rsplit(".", 1)[0] + "."
    rules = [mod for name, mod in list(sys.modules.items())
             if mod is not None and name.startswith(prefix) and name.endswith("_kernel")]
    out = []
    for mod in [*rules, *every]:
        for obj in disk_kernels(mod):
            try:
                cached = bool(obj._cache._cache_file._load_index())
            except Exception:  # noqa: BLE001 - numba internals: unknown layout, say nothing
                return []
            if not cached:
                out.append(f"{mod.__name__.rsplit('.', 1)[-1]}.{obj.__name__}")
    return sorted(out)
