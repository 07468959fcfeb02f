"""The shipped kernels (sim/shipped_kernels/<tag>.zip, built by ``python -m sim.precompile
--ship``): a new install's first run copies them into numba's cache instead of compiling.

That they are this code's, for the Python and numba pip gives (each CI leg checks its own),
and that a kernel whose source changed since they were built is compiled while the others
are copied. That a run on them gives the same results as a run on kernels compiled here is
tests/test_kernels_ahead.py's background-compile test.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import platform
import subprocess
import sys
import textwrap
import zipfile

import pytest

from sim import ahead

REBUILD = ("rebuild them on every supported Python (3.11, 3.12, 3.13) with `python -m sim.precompile --ship` "
           "and commit sim/shipped_kernels/")
SHIPPED_FOR = sys.platform == "linux" and platform.machine().lower() in ("x86_64", "amd64")
"""Where the kernels are shipped: Linux on x86-64 (other machines compile them on first use)."""


@pytest.mark.pythons
@pytest.mark.skipif(not SHIPPED_FOR, reason="kernels are shipped for Linux on x86-64 only")
def test_the_shipped_kernels_are_this_codes_for_this_python_and_numba():
    from importlib.metadata import version

    from sim.precompile import labelled, stock_kernels

    path = ahead.SHIPPED / f"{ahead.shipped_tag()}.zip"
    assert path.is_file(), f"no shipped kernels for {ahead.shipped_tag()}: {REBUILD}"
    with zipfile.ZipFile(path) as z:
        manifest = json.loads(z.read("manifest.json"))
    assert manifest["numba"] == version("numba"), f"built with numba {manifest['numba']}: {REBUILD}"
    changed = sorted(k for k in set(manifest["sources"]) | set(ahead.source_hashes())
                     if manifest["sources"].get(k) != ahead.source_hashes().get(k))
    assert not changed, f"kernel sources changed since the shipped kernels were built ({', '.join(changed)}): {REBUILD}"
    assert set(manifest["kernels"]) == set(labelled(stock_kernels())), REBUILD
    assert manifest["target"][1] == "generic"  # built for the machine family's baseline: runs on any of its machines
    assert ahead.shipped(complete=True) == path


SEED = """
import json, sys
from sim.rules.kernels import seed_from, uncached
first = seed_from(sys.argv[1])
again = seed_from(sys.argv[1])
print(json.dumps({"first": first, "again": again, "uncached": uncached(None)}))
"""


@pytest.mark.skipif(not SHIPPED_FOR, reason="kernels are shipped for Linux on x86-64 only")
def test_a_kernel_whose_source_changed_is_left_to_compile_the_others_are_copied(tmp_path):
    # a copy of the shipped zip in which one kernel's source stamp is another's (as if its
    # file changed after the zip was built): that kernel is not copied, every other one is,
    # once; numba's cache then holds all but that one
    src = ahead.shipped()
    assert src is not None
    changed = "sim.rules.talks_kernel/"
    out = tmp_path / "changed.zip"
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(out, "w") as w:
        for info in z.infolist():
            data = z.read(info)
            if info.filename.startswith(changed) and info.filename.endswith(".nbi"):
                f = io.BytesIO(data)
                version = pickle.load(f)
                _, overloads = pickle.loads(f.read())
                data = pickle.dumps(version, protocol=-1) + pickle.dumps((b"another source", overloads), protocol=-1)
            w.writestr(info, data)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"), "SIM_COMPILE_AHEAD": "0"}
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(SEED), str(out)], capture_output=True, text=True,
                       env=env, timeout=600)
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout.strip().splitlines()[-1])
    first, again = got["first"], got["again"]
    assert first["stale"] == ["talks_kernel.negotiate"] and first["failed"] == []
    assert len(first["seeded"]) >= 17 and "spells_kernel.month" in first["seeded"]
    assert again["seeded"] == [] and sorted(again["kept"]) == sorted(first["seeded"])  # copied once
    assert got["uncached"] == ["talks_kernel.negotiate"]


REPLACE = """
import json, sys
from sim.rules.kernels import seed_from, stock_kernels

def index():
    return {f"{m}.{a}": sorted(d._cache._cache_file._load_index().values()) for m, found in stock_kernels().items()
            for a, d in found}

first = seed_from(sys.argv[1])
names = index()
tuned = seed_from(sys.argv[1], replace=True)
print(json.dumps({"first": first, "tuned": tuned, "before": names, "after": index()}))
"""


@pytest.mark.skipif(not SHIPPED_FOR, reason="kernels are shipped for Linux on x86-64 only")
def test_replacing_points_the_index_at_new_files_and_leaves_the_old_ones(tmp_path):
    # what a tuning does with the zip it built (sim.precompile.tune), done here with the shipped
    # zip itself: every cached entry is written to a data file of a new name and the index
    # points there; the old files stay, for a process that read the index before
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"), "SIM_COMPILE_AHEAD": "0"}
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(REPLACE), str(ahead.shipped())], capture_output=True,
                       text=True, env=env, timeout=600)
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout.strip().splitlines()[-1])
    assert got["first"]["failed"] == [] and "tuned" not in got["first"]
    assert sorted(got["tuned"]["tuned"]) == sorted(got["first"]["seeded"]) and got["tuned"]["seeded"] == []
    files = {f.name for f in (tmp_path / "cache").rglob("*.nbc")}
    for k, names in got["before"].items():
        if names:
            assert not set(names) & set(got["after"][k]) and len(got["after"][k]) == len(names), k
            assert set(names) | set(got["after"][k]) <= files, k
