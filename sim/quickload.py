"""Loading a cached kernel without numba's whole compiler set-up.

Before it loads a function from its disk cache, numba refreshes its compile target: it
imports every implementation module it could need to compile anything (numba's numpy and
linear algebra implementations, which import ``scipy.linalg`` to find a BLAS, the typed
containers, the random generators...) and installs their registries. Loading machine code
that was compiled already needs none of that, only numba's runtime (NRT) for the arrays a
kernel allocates. In a fresh process the refresh took about 0.25 s and the imports it pulled
in (``numba.np.arraymath``, ``scipy.linalg``) another 0.2 s, every ``sim run`` and every
spawned worker (measured: the first small run of a process, karabakh, 0.63-0.90 s -> 0.37-0.56 s).

:func:`quick_load` gives a kernel (a numba dispatcher made with ``cache=True``) a cache
loader that starts numba's runtime and loads; only when the cache does not hold the kernel
(a first run, an upgrade) does it refresh, so that the compile that follows finds numba as
it always does. Results are the same: the machine code loaded is the same.

A kernel's compiled code also names the modules whose code it inlined, imported when it is
loaded; a kernel should not call numba's implementations of ``np.flatnonzero``,
``np.sort`` and the like (``numba.np.arraymath``, and with it ``scipy.linalg``) where a
short loop does (``tests/test_quickload.py`` checks that a run loads none: drift once called
``np.flatnonzero``).

Where numba's internals differ from those this relies on, the kernel keeps numba's own
loader. Imports nothing of sim: the kernel modules below the rules use it too.
"""

from __future__ import annotations

from typing import Any


def quick_load(dispatcher: Any) -> Any:
    """Give ``dispatcher`` (``njit(cache=True)``) a cache loader that skips numba's target
    refresh when the cache holds the kernel (see the module); returns ``dispatcher``."""
    cache = getattr(dispatcher, "_cache", None)
    load = getattr(cache, "_load_overload", None)
    guard = getattr(cache, "_guard_against_spurious_io_errors", None)
    if load is None or guard is None or not callable(getattr(cache, "load_overload", None)):
        return dispatcher  # another numba, or no disk cache (NullCache): numba's own loader
    try:
        from numba.core.runtime import rtsys
    except ImportError:  # pragma: no cover - another numba layout
        return dispatcher

    def load_overload(sig: Any, target_context: Any) -> Any:
        rtsys.initialize(target_context)  # the runtime every kernel's arrays use (once a process)
        cres = None
        with guard():  # as numba's loader: a spurious I/O error reads as "not cached"
            cres = load(sig, target_context)
        if cres is None:  # not cached: numba compiles it next, with its target refreshed as always
            target_context.refresh()
        return cres

    cache.load_overload = load_overload
    return dispatcher
