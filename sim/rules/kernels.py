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

from ..kernel_modules import EVERY_RUN
from .registry import build_pipeline

__all__ = ["EVERY_RUN", "counts", "disk_kernels", "draws_uncached", "every_draw", "label", "load_cached",
           "rule_kernel_modules", "seed_from", "stock_kernels", "uncached"]


def label(module: str, name: str) -> str:
    """A kernel's label in the marks, the uncached list and the reports: its module's last
    name and its own, ``spells_kernel.month``."""
    return f"{module.rsplit('.', 1)[-1]}.{name}"


def rule_kernel_modules() -> list[str]:
    """The stock rules' kernel modules by name (every ``*_kernel`` module of ``sim.rules``), sorted."""
    import pkgutil

    from . import __path__ as rules_path

    prefix = __name__.rsplit(".", 1)[0] + "."
    return sorted(prefix + info.name for info in pkgutil.iter_modules(rules_path) if info.name.endswith("_kernel"))


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


def draws_uncached() -> bool:
    """Whether numba's disk cache lacks one of the random draws' kernels
    (:mod:`sim.seeding_kernel`); False where numba's internals differ (say nothing)."""
    import importlib

    for obj in disk_kernels(importlib.import_module(EVERY_RUN[0])):
        try:
            if not obj._cache._cache_file._load_index():
                return True
        except Exception:  # noqa: BLE001 - numba internals: unknown layout
            return False
    return False


def every_draw() -> None:
    """One draw of each kind a stream makes (:class:`sim.seeding.Stream`), so that each of
    their kernels is compiled (or loaded): they are stock kernels whether or not a run's
    rules call them (a custom rule may draw any kind)."""
    import numpy as np

    from ..seeding import Stream

    s = Stream(0, np.zeros(1, dtype=np.int64), lambda: 0)
    s.random(1)
    s.standard_normal(1)
    s.standard_exponential(1)
    s.bits16(1)


def uncached(plan: Any, load: bool = False) -> list[str]:
    """The kernels ``plan``'s rules use, and those every run uses (:data:`EVERY_RUN`), that
    numba's disk cache does not hold (or holds for an older source):
    ``["spells_kernel.month", "tally_kernel.add_rows", ...]``, empty when every one is cached.
    With ``plan`` None: every stock kernel (each ``*_kernel`` module of the rules), not only
    those a plan's rules import when built (some import theirs when they first step).
    With ``load``, those it holds are loaded into this process now (:func:`load_cached`),
    as their first call would: a run waiting for a background compile loads each kernel
    as it lands rather than all of them once the compile ends.

    Reads numba's cache index through its internals; where those differ (another numba),
    it says nothing rather than guess (returns an empty list).
    """
    import importlib

    prefix = __name__.rsplit(".", 1)[0] + "."
    if plan is not None:
        build_pipeline(plan)  # a rule imports its kernels when it is built
    else:
        for name in rule_kernel_modules():
            importlib.import_module(name)
    every = [importlib.import_module(m) for m in EVERY_RUN]
    rules = [mod for name, mod in list(sys.modules.items())
             if mod is not None and name.startswith(prefix) and name.endswith("_kernel")]
    out = []
    for mod in [*rules, *every]:
        for obj in disk_kernels(mod):
            try:
                index = obj._cache._cache_file._load_index()
            except Exception:  # noqa: BLE001 - numba internals: unknown layout, say nothing
                return []
            if not index:
                out.append(label(mod.__name__, obj.__name__))
            elif load:
                load_cached(obj, index)
    return sorted(out)


def load_cached(obj: Any, index: dict) -> int:
    """Load into this process the compiled code numba's cache ``index`` (of kernel ``obj``)
    holds for this machine and this code and that ``obj`` has not loaded yet: what its
    first call with those argument types would load (and numba counts it so). A signature
    whose entry is not this machine's, or not this code's, is left to the call. How many
    were loaded; none where numba's internals differ."""
    n = 0
    try:
        codegen = obj.targetctx.codegen()
        for key in list(index):
            sig = key[0]
            if tuple(sig) in obj.overloads or obj._cache._index_key(sig, codegen) != key:
                continue
            obj.compile(sig)  # in the cache for this machine and code (just read): loads it, counted as a hit
            n += 1
    except Exception:  # noqa: BLE001 - numba internals: the first call loads it instead
        return n
    return n


def stock_kernels() -> dict[str, list[tuple[str, Any]]]:
    """The stock kernels by module: ``{"sim.rules.spells_kernel": [("finish", dispatcher), ("month", ...)], ...,
    "sim.seeding_kernel": [...], "sim.world.tally_kernel": [...]}``: every ``*_kernel`` module of
    the rules, and those of :data:`EVERY_RUN`."""
    import importlib

    out: dict[str, list[tuple[str, Any]]] = {}
    for name in [*rule_kernel_modules(), *EVERY_RUN]:
        mod = importlib.import_module(name)
        found = [(obj.__name__, obj) for obj in disk_kernels(mod)]
        if found:
            out[mod.__name__] = found
    return out


def seed_from(path: Any, replace: bool = False) -> dict[str, Any]:
    """Copy into numba's cache the compiled kernels of the shipped zip ``path`` (built by
    ``python -m sim.precompile --ship``) whose source is this code's, for this numba and this
    interpreter: each entry goes where numba would have cached it on its first compile, under
    the key numba looks up on this machine. ``{"seeded": [...], "stale": [...], "kept": [...],
    "failed": [...]}``, each ``module.kernel``: ``stale`` not seeded (its source changed since
    the zip was built: a run compiles it), ``kept`` already cached here.

    The zip's code is compiled for the machine family's baseline (``NUMBA_CPU_NAME=generic``:
    x86-64 without the newer instruction sets), which runs on every machine of that family;
    numba keys a cache entry on the compiling machine's processor, so each entry is filed
    under this machine's key (the rest of the key, the signature and the hashes of the
    kernel's bytecode, must match as they are). A kernel this machine compiles later
    (another signature, a changed source) is compiled for it, as always. Reads and writes
    numba's cache files through numba's own cache objects (internals: where they differ,
    the kernel is reported failed and compiled by the run).

    With ``replace`` (tuning: :func:`sim.precompile.tune`, the zip built on this machine for
    it), an entry this cache holds already for the same signature and bytecode is replaced
    too: its code is written to a data file of a new name and the index points there
    (replaced atomically, as numba writes it), so a process that read the old index still
    finds the old file. Such a kernel is listed in ``tuned``.
    """
    import zipfile

    out: dict[str, list[str]] = {"seeded": [], "stale": [], "kept": [], "failed": [], **({"tuned": []} if replace else {})}
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        for mod_name, found in stock_kernels().items():
            for attr, disp in found:
                try:
                    out[_seed_one(z, names, mod_name, disp, replace)].append(label(mod_name, attr))
                except Exception as exc:  # noqa: BLE001 - numba internals: the run compiles this kernel
                    out["failed"].append(f"{label(mod_name, attr)}: {type(exc).__name__}: {exc}")
    return out


def _seed_one(z: Any, names: set[str], mod_name: str, disp: Any, replace: bool = False) -> str:
    """Copy kernel ``disp``'s entries of the open shipped zip ``z`` into numba's cache (see
    :func:`seed_from`): ``"seeded"``, ``"kept"`` (every entry cached here already),
    ``"tuned"`` (with ``replace``: an entry cached here replaced) or ``"stale"`` (not in the
    zip, or built from another source or numba)."""
    import io
    import itertools
    import os
    import pickle

    import numba

    cache = disp._cache
    cf = cache._cache_file
    arc = f"{mod_name}/{cf._index_name}"
    if arc not in names:
        return "stale"
    f = io.BytesIO(z.read(arc))
    version = pickle.load(f)
    stamp, shipped = pickle.loads(f.read())
    if version != numba.__version__ or stamp != cf._source_stamp:
        return "stale"
    codegen = disp.targetctx.codegen()
    triple = codegen.magic_tuple()[0]
    local = cf._load_index()
    added = replaced = 0
    for (sig, magic, hashes), data_name in shipped.items():
        mine = cache._index_key(sig, codegen)  # this machine's key for the signature
        if magic[0] != triple or mine[2] != hashes or (mine in local and not replace):
            continue  # another target triple, another bytecode, or cached here already
        # a name neither the index nor the folder holds: a process that read the index before
        # it is replaced below reads the file it names, unchanged
        taken = set(local.values())
        name = next(n for n in (cf._data_name(i) for i in itertools.count(1))
                    if n not in taken and not os.path.exists(cf._data_path(n)))
        cf._save_data(name, pickle.loads(z.read(f"{mod_name}/{data_name}")))
        replaced += mine in local
        added += mine not in local
        local[mine] = name
    if added or replaced:
        cf._save_index(local)
    return "tuned" if replaced else "seeded" if added else "kept"
