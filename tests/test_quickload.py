"""Loading cached kernels without numba's compile set-up (:mod:`sim.quickload`).

A process whose kernels are all in numba's disk cache loads them without refreshing numba's
compile target (no registries, no ``numba.np.arraymath``, no ``scipy.linalg``); a kernel the
cache lacks is compiled as always, its target refreshed first; the numbers are the same.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from numba import njit

from sim.quickload import quick_load

from .test_shipped_kernels import SHIPPED_FOR

COUNTED = """
import json, sys
from numba.core import base
calls = []
refresh = base.BaseContext.refresh
def counted(self):
    calls.append(1)
    return refresh(self)
base.BaseContext.refresh = counted
"""

TALLY = COUNTED + """
import numpy as np
from sim.world.tally_kernel import add_rows
counts = np.zeros(3, dtype=np.int64)
mask = np.array([[1, 0, 1], [0, 0, 0], [1, 1, 1]], dtype=np.uint8)
add_rows(counts, mask)
s = add_rows.stats
print(json.dumps({"counts": counts.tolist(), "refreshed": len(calls), "hits": sum(s.cache_hits.values()),
                  "misses": sum(s.cache_misses.values()), "arraymath": "numba.np.arraymath" in sys.modules}))
"""


def _run(code: str, env: dict, *args: str) -> dict:
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True, env=env,
                       timeout=900)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_a_kernel_not_cached_is_compiled_as_always_then_loaded_without_the_set_up(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"), "SIM_COMPILE_AHEAD": "0"}
    first = _run(TALLY, env)  # an empty cache: numba's target refreshed, then the kernel compiled
    assert first["misses"] == 1 and first["hits"] == 0
    assert first["refreshed"] >= 1
    again = _run(TALLY, env)  # a new process: loaded from the cache, nothing refreshed
    assert again["hits"] == 1 and again["misses"] == 0
    assert again["refreshed"] == 0 and not again["arraymath"]
    assert first["counts"] == again["counts"] == [2, 0, 3]


RUN = COUNTED + """
from sim.rules.kernels import seed_from, counts
seed_from(sys.argv[1])
import mesa, sim  # Mesa 3.5 (Python 3.12+) imports scipy.linalg itself
linalg_before = "scipy.linalg" in sys.modules
res = sim.run("karabakh", runs=40, seed=3, months=6, workers=1, backend="local")
print(json.dumps({"refreshed": len(calls), "kernels": counts(), "arraymath": "numba.np.arraymath" in sys.modules,
                  "scipy_linalg": "scipy.linalg" in sys.modules and not linalg_before,
                  "probabilities": res.probabilities()["probability"].round(12).tolist()}))
"""


@pytest.mark.skipif(not SHIPPED_FOR, reason="kernels are shipped for Linux on x86-64 only")
def test_a_run_on_cached_kernels_loads_them_all_without_refreshing_numba(tmp_path):
    from sim import ahead

    shipped = ahead.shipped()
    assert shipped is not None
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"), "SIM_COMPILE_AHEAD": "0"}
    got = _run(RUN, env, str(shipped))
    assert got["kernels"]["compiled"] == 0 and got["kernels"]["loaded"] >= 15
    # no kernel's code names numba's array-math implementations (np.flatnonzero and the like),
    # which bring scipy.linalg: a short loop instead (sim.quickload); scipy.linalg not imported by the run
    assert got["refreshed"] == 0 and not got["arraymath"] and not got["scipy_linalg"]
    # the same numbers as with numba's own loader (a process whose target was refreshed first)
    normal = _run(RUN.replace("seed_from(sys.argv[1])", "seed_from(sys.argv[1])\nbase.BaseContext.refresh = refresh\n"
                              "from numba.core.registry import cpu_target\ncpu_target.target_context.refresh()"),
                  env, str(shipped))
    assert normal["arraymath"]  # refreshed: numba's implementations imported
    assert got["probabilities"] == normal["probabilities"]


def test_a_function_without_a_disk_cache_keeps_numbas_loader():
    def twice(x):  # pragma: no cover - compiled
        return 2 * x

    plain = njit(twice)  # no cache=True: numba's NullCache, nothing to load
    loader = plain._cache.load_overload
    assert quick_load(plain) is plain
    assert plain._cache.load_overload == loader
    assert plain(np.int64(4)) == 8
    cached = njit(cache=True)(twice)
    assert quick_load(cached) is cached
    assert cached._cache.load_overload != type(cached._cache).load_overload.__get__(cached._cache)
