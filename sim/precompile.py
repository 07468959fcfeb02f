"""``python -m sim.precompile``: compile the stock kernels into numba's disk cache now.

What the first ``import sim`` starts in the background (:mod:`sim.ahead`), and what an image
build or an install script can run itself after ``pip install`` so that no run compiles::

    python -m sim.precompile              # as many processes as idle cores (up to one per kernel module)
    python -m sim.precompile --parts 1    # in this process only

It runs one replicate for one month of each shipped scenario (``karabakh`` first) until
every stock kernel has been called once, in the default precision (float32): numba compiles
each kernel for exactly the argument types a run gives it, and caches it as a run's first
call would. With several processes the kernels are shared out between them by their
estimated compile time (:func:`estimate`: the largest first, each to the process that would
finish first), and in each process the kernels of the other shares run as plain Python (one
replicate: milliseconds), so each kernel is compiled once, by one process. It holds the lock
of :func:`sim.ahead.lock_path` while it runs (a run that needs a kernel meanwhile waits for
that kernel, then loads it) and leaves :func:`sim.ahead.mark_path`: what it compiled, loaded
or did not reach, and how long it took.

Where shipped kernels match (:func:`sim.ahead.shipped`), it first copies in those whose
source is unchanged and compiles only the others. A run that finds its kernels not compiled,
and no compile under way, copies the shipped kernels in itself (:func:`sim.ahead.seed`) and
compiles the rest as it calls them.

``python -m sim.precompile --tune`` compiles the kernels copied from the shipped zip again,
for this machine's processor, and puts them in their place (:func:`tune`): what the end of
a run starts in the background once they were copied (:func:`sim.ahead.after_run`).

``python -m sim.precompile --ship`` builds the shipped kernels for the Python it runs on
(:func:`ship`): after changing a kernel or numba, on each supported Python."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

from .ahead import (
    INSIDE,
    SHIPPED,
    SHIPPED_ENV,
    copy_shipped,
    fingerprint,
    idle_cores,
    kernel_sources,
    lock_path,
    mark_path,
    read_mark,
    seed,
    shipped,
    shipped_tag,
    source_hashes,
    state_dir,
    tune_lock_path,
    wants_tuning,
    write_mark,
)

FIRST = "karabakh"
"""The shipped scenario run first (the README's first command); the others follow by name."""


def stock_kernels() -> dict[str, list[tuple[str, Any]]]:
    """The stock kernels by module (:func:`sim.rules.kernels.stock_kernels`)."""
    from .rules.kernels import stock_kernels as found

    return found()


def labelled(kernels: dict[str, list[tuple[str, Any]]]) -> dict[str, Any]:
    """``{"spells_kernel.month": dispatcher, ...}``: each stock kernel by the label the marks,
    :func:`sim.rules.kernels.uncached` and the reports use (its module's last name, its name)."""
    from .rules.kernels import label

    return {label(m, attr): disp for m, found in kernels.items() for attr, disp in found}


PER_KERNEL_S = 0.08
"""A kernel's compile time beside its code (:func:`estimate`): numba's fixed cost of one
compile and its cache (measured: the smallest kernels take 0.08-0.1 s)."""
PER_INSTRUCTION_S = 0.002
"""A kernel's compile time per instruction of its Python bytecode (:func:`estimate`;
measured on the stock kernels: 0.5 s for 190 instructions, 1.8 s for 880)."""


def estimate(disp: Any) -> float:
    """A kernel's compile time, estimated from the size of its code (seconds of one core,
    roughly): numba's time goes into typing, lowering and optimizing each of its statements."""
    import dis

    return PER_KERNEL_S + PER_INSTRUCTION_S * sum(1 for _ in dis.get_instructions(disp.py_func))


def shares(costs: dict[str, float], n: int) -> list[list[str]]:
    """The kernels ``costs`` (label: estimated compile seconds) shared out between ``n``
    processes: the largest first, each to the process with the least so far. The same in
    every process: each computes its own share."""
    out: list[list[str]] = [[] for _ in range(max(1, n))]
    load = [0.0] * len(out)
    for label in sorted(costs, key=lambda k: (-costs[k], k)):
        i = min(range(len(out)), key=lambda j: (load[j], j))
        out[i].append(label)
        load[i] += costs[label]
    return out


def _costs(kernels: dict[str, Any]) -> dict[str, float]:
    """The estimated compile time of each kernel of ``kernels`` (labelled)."""
    return {k: estimate(d) for k, d in kernels.items()}


def scenario_order() -> list[str]:
    """The shipped scenarios to run, :data:`FIRST` first."""
    from .loading import list_scenarios

    names = [s["name"] for s in list_scenarios()]
    return sorted(names, key=lambda n: (n != FIRST, n))


def run_one(name: str) -> None:
    """One replicate, one month of shipped scenario ``name``, in this process: every kernel
    its rules call is compiled (or loaded) on the way."""
    from . import montecarlo, runner
    from .loading import load_scenario

    job = montecarlo.prepare(load_scenario(name), runs=1, seed=0, months=1)
    runner.simulate_chunk(job.tasks[0])


def compile_part(k: int, n: int) -> dict[str, list[str]]:
    """Compile (or load) the kernels of share ``k`` of ``n`` (:func:`shares`): ``{"compiled":
    [...], "loaded": [...], "not_reached": [...]}``, each ``module.kernel``."""
    from .rules.kernels import every_draw, label

    kernels = stock_kernels()
    by_label = labelled(kernels)
    mine = set(shares(_costs(by_label), n)[k])
    swapped = []
    for mod_name, found in kernels.items():
        for attr, disp in found:
            if label(mod_name, attr) in mine:
                continue
            setattr(sys.modules[mod_name], attr, disp.py_func)  # another process compiles it: Python here
            swapped.append((sys.modules[mod_name], attr, disp))
    targets = [(lab, disp) for lab, disp in by_label.items() if lab in mine]
    try:
        for name in scenario_order():
            if all(disp.signatures for _, disp in targets):
                break
            run_one(name)
        if not all(disp.signatures for _, disp in targets):
            every_draw()
    finally:
        for mod, attr, disp in swapped:
            setattr(mod, attr, disp)
    out: dict[str, list[str]] = {"compiled": [], "loaded": [], "not_reached": []}
    for lab, disp in targets:
        stats = disp.stats
        key = ("compiled" if sum(stats.cache_misses.values()) else "loaded") if disp.signatures else "not_reached"
        out[key].append(lab)
    return out


def _helpers(n: int) -> list[subprocess.Popen]:
    """Start the helper processes of shares 1..n-1 (each computes its own share)."""
    env = {**os.environ, INSIDE: "1"}
    return [subprocess.Popen([sys.executable, "-m", "sim.precompile", "--part", f"{k}/{n}"], env=env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
            for k in range(1, n)]


def coordinate(n: int | None = None) -> dict[str, Any]:
    """Compile every stock kernel over ``n`` processes (default: :func:`sim.ahead.idle_cores`,
    at least one, at most one per kernel module), this one among them: on a machine already
    busy, more processes only make each slower. The helpers start first, so that their
    start overlaps this process's imports. Write the mark and return it."""
    t0 = time.perf_counter()
    fp = fingerprint()
    seeded: dict[str, Any] = {}
    zip_path = shipped()
    if zip_path is not None:  # the kernels whose source is unchanged since the zip was built: copied, not compiled
        seeded = copy_shipped(zip_path, fp)
        if not seeded["stale"] and not seeded["failed"]:  # nothing left to compile
            write_mark(seeded, fp)
            return seeded
    n = max(1, min(n or idle_cores(), len(kernel_sources())))  # idle_cores() may be 0: then one
    helpers = _helpers(n)
    kernels = stock_kernels()
    result: dict[str, Any] = {"fingerprint": fp, "processes": n, "compiled": [], "loaded": [], "not_reached": [],
                              "failed": [], "seeded": seeded.get("seeded", []), "seed_failed": seeded.get("failed", [])}
    reports = []
    try:
        reports.append(compile_part(0, n))
    except Exception as exc:  # noqa: BLE001 - a run compiles what this did not; say what happened
        result["failed"].append(f"process 0: {type(exc).__name__}: {exc}")
    for k, h in enumerate(helpers, start=1):
        out, _ = h.communicate()
        try:
            reports.append(json.loads(out.strip().splitlines()[-1]))
        except (ValueError, IndexError):
            result["failed"].append(f"process {k}: exit status {h.returncode}")
    for r in reports:
        for key in ("compiled", "loaded", "not_reached"):
            result[key] += r.get(key, [])
    for key in ("compiled", "loaded", "not_reached"):
        result[key].sort()
    result["seconds"] = round(time.perf_counter() - t0, 2)
    result["estimated_s"] = {k: round(v, 2) for k, v in sorted(_costs(labelled(kernels)).items())}
    write_mark(result, fp)
    return result


ZIP_TIME = (2020, 1, 1, 0, 0, 0)
"""The time stamped on every member of a shipped zip: the same files give the same zip."""


def ship(folder: Path = SHIPPED) -> Path:
    """Build the shipped kernels for this interpreter and machine (``python -m sim.precompile
    --ship``): every stock kernel compiled as the shipped scenarios' runs call it, in a fresh
    process with an empty numba cache and ``NUMBA_CPU_NAME=generic`` (code for the machine
    family's baseline, which runs on any machine of the family), zipped with a manifest (numba,
    Python, the kernels' sources' hashes) into ``folder/<tag>.zip`` (:func:`sim.ahead.shipped_tag`).
    Rebuild it, on each supported Python, after a kernel or numba changes: a zip older than a
    kernel's source seeds the others, and the run compiles that one."""
    import tempfile

    target = Path(folder) / f"{shipped_tag()}.zip"
    with tempfile.TemporaryDirectory(prefix="sim-ship-") as tmp:
        env = {**os.environ, "NUMBA_CPU_NAME": "generic", "NUMBA_CACHE_DIR": tmp, INSIDE: "1", "SIM_COMPILE_AHEAD": "0"}
        env.pop("NUMBA_CPU_FEATURES", None)
        subprocess.run([sys.executable, "-m", "sim.precompile", "--build-zip", str(target)], env=env, check=True)
    return target


def build_zip(target: Path) -> dict[str, Any]:
    """In the compiling process of :func:`ship`: compile every stock kernel (one replicate, one
    month of every shipped scenario, then one draw of each kind) and write the zip and its
    manifest. Raises if a stock kernel was not compiled."""
    import numba

    from .rules.kernels import every_draw, label

    for name in scenario_order():
        run_one(name)
    every_draw()
    files: dict[str, Path] = {}
    kernels: dict[str, int] = {}
    missing = []
    codegen = None
    for mod_name, found in stock_kernels().items():
        for attr, disp in found:
            cf = disp._cache._cache_file
            index = cf._load_index()
            if not index:
                missing.append(label(mod_name, attr))
                continue
            codegen = disp.targetctx.codegen()
            kernels[label(mod_name, attr)] = len(index)
            files[f"{mod_name}/{cf._index_name}"] = Path(cf._index_path)
            for data_name in index.values():
                files[f"{mod_name}/{data_name}"] = Path(cf._data_path(data_name))
    if missing:
        raise RuntimeError(f"not compiled by the shipped scenarios' runs: {', '.join(missing)}")
    manifest = {"tag": shipped_tag(), "numba": numba.__version__, "python": sys.version.split()[0],
                "target": list(codegen.magic_tuple()) if codegen is not None else [], "sources": source_hashes(),
                "kernels": kernels}
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr(zipfile.ZipInfo("manifest.json", ZIP_TIME), json.dumps(manifest, indent=1, sort_keys=True))
        for arc in sorted(files):
            info = zipfile.ZipInfo(arc, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, files[arc].read_bytes())
    os.replace(tmp, target)
    return manifest


TUNE_NICE = 10
"""How much lower than the importing process's priority a tuning runs: it is a saving for
later runs, and yields the cores to the runs under way."""


def tune() -> dict[str, Any]:
    """Compile every stock kernel for this machine's processor and put the code in place of
    the kernels the mark says were copied from the shipped zip (compiled for the family's
    baseline): in a fresh process with a numba cache of its own and no ``NUMBA_CPU_NAME``
    set by sim (numba compiles for the processor it runs on), as :func:`build_zip` builds
    the shipped zip, then copied into numba's cache over the copied entries
    (:func:`sim.rules.kernels.seed_from` with ``replace``), under the compile's lock. The
    summary, also written to the mark as ``tuned`` (a failure too, so it is not tried again
    for this code): ``{"tuned": [...], "seeded": [...], "stale": [...], "kept": [...],
    "failed": [...], "seconds": ...}``. Nothing is written when the mark has gone meanwhile
    (the cache was emptied, a kernel source changed). The caller holds
    :func:`sim.ahead.tune_lock_path`."""
    import fcntl
    import tempfile

    t0 = time.perf_counter()
    fp = fingerprint()
    try:
        os.nice(TUNE_NICE)  # this process and the compiling one it starts
    except OSError:  # pragma: no cover - not allowed here: at the same priority
        pass
    nothing: dict[str, Any] = {"tuned": [], "seeded": [], "stale": [], "kept": [], "failed": []}
    with tempfile.TemporaryDirectory(prefix="sim-tune-") as tmp:
        target = Path(tmp) / "tuned.zip"
        env = {**os.environ, "NUMBA_CACHE_DIR": str(Path(tmp) / "cache"), INSIDE: "1", "SIM_COMPILE_AHEAD": "0",
               SHIPPED_ENV: "0"}
        p = subprocess.run([sys.executable, "-m", "sim.precompile", "--build-zip", str(target)], env=env,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if p.returncode != 0:
            why = (p.stderr.strip().splitlines() or [f"exit status {p.returncode}"])[-1]
            return _note_tuned(fp, {**nothing, "failed": [f"compiling: {why}"]}, t0)
        from .rules.kernels import seed_from  # lazy: the kernels import numba

        lock = lock_path()
        lock.parent.mkdir(parents=True, exist_ok=True)
        with open(lock, "a+b") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)  # no seeding or compile writes the cache meanwhile
            if read_mark(fp) is None:
                return {**nothing, "failed": ["no mark for this code"], "seconds": round(time.perf_counter() - t0, 2)}
            try:
                result = seed_from(target, replace=True)
            except Exception as exc:  # noqa: BLE001 - the copied kernels stay: a saving only
                result = {**nothing, "failed": [f"{type(exc).__name__}: {exc}"]}
            return _note_tuned(fp, result, t0)


def _note_tuned(fp: str, result: dict[str, Any], t0: float) -> dict[str, Any]:
    """Add the seconds since ``t0`` to a tuning's summary and write it to the mark of ``fp``
    as ``tuned`` (if the mark is still there); the summary."""
    result["seconds"] = round(time.perf_counter() - t0, 2)
    mark = read_mark(fp)
    if mark is not None:
        mark["tuned"] = result
        write_mark(mark, fp)
    return result


def tune_now() -> dict[str, Any]:
    """``python -m sim.precompile --tune`` in the foreground: copy the shipped kernels in if no
    mark says the kernels are here (:func:`sim.ahead.seed`), then tune them (:func:`tune`)
    if the mark asks for it, holding the tuning's lock (waiting for a tuning under way). The
    mark's ``tuned`` summary (with ``"before": True`` when it was tuned before), or ``{}``
    when there was nothing to tune."""
    import fcntl

    seed()
    lock = tune_lock_path()
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a+b") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        mark = read_mark()
        if mark is None or not wants_tuning(mark):
            return {**(mark or {}).get("tuned", {}), "before": True} if mark and "tuned" in mark else {}
        return tune()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.precompile", description=__doc__.splitlines()[0])
    ap.add_argument("--parts", type=int, default=None, help="processes (default: the idle cores, at most one "
                                                           "per kernel module)")
    ap.add_argument("--part", default=None, help=argparse.SUPPRESS)  # "k/n": one helper's share
    ap.add_argument("--lock-fd", type=int, default=None, help=argparse.SUPPRESS)  # inherited, already locked
    ap.add_argument("--ship", action="store_true",
                    help="build the shipped kernels for this Python and machine (sim/shipped_kernels/<tag>.zip), "
                         "compiled for the machine family's baseline; for maintainers, after a kernel or numba changes")
    ap.add_argument("--build-zip", default=None, help=argparse.SUPPRESS)  # the compiling process of --ship
    ap.add_argument("--tune", action="store_true",
                    help="compile the kernels copied from the shipped zip again for this machine's processor, and "
                         "put them in their place (what the end of a run starts in the background once they were copied)")
    a = ap.parse_args(argv)
    os.environ[INSIDE] = "1"  # this process and its helpers wait for no compile and start none
    if a.ship:
        target = ship()
        with zipfile.ZipFile(target) as z:
            manifest = json.loads(z.read("manifest.json"))
        print(f"sim.precompile: {len(manifest['kernels'])} kernels for {manifest['tag']}, numba {manifest['numba']}, "
              f"in {target} ({target.stat().st_size / 1e6:.2f} MB)", flush=True)
        return 0
    if a.build_zip:
        build_zip(Path(a.build_zip))
        return 0
    if a.tune:
        summary = tune() if a.lock_fd is not None else tune_now()  # with --lock-fd: started by sim.ahead.start()
        if not summary:
            print("sim.precompile: nothing to tune (no kernels copied from a shipped zip here, or SIM_TUNE_KERNELS=0)")
            return 0
        print(f"sim.precompile: {len(summary.get('tuned', []))} kernel(s) compiled for this processor and put in "
              f"place, in {summary.get('seconds', 0):.1f} s" + (" (before now: see the mark)" if summary.get("before") else "")
              + (f"; failed: {'; '.join(summary['failed'])}" if summary.get("failed") else ""), flush=True)
        return 0 if not summary.get("failed") else 1
    if a.part:
        k, n = (int(x) for x in a.part.split("/"))
        print(json.dumps(compile_part(k, n)), flush=True)
        return 0
    if a.lock_fd is not None:  # started by sim.ahead.start(), which took the lock
        mark = coordinate(a.parts)
    else:
        import fcntl

        lock = lock_path()
        state_dir().mkdir(parents=True, exist_ok=True)
        with open(lock, "a+b") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)  # a compile under way: wait for it, then look
            if mark_path().exists():
                print(f"sim.precompile: the kernels are compiled already ({mark_path()})")
                return 0
            mark = coordinate(a.parts)
    print(f"sim.precompile: {len(mark.get('compiled', []))} kernel(s) compiled, {len(mark.get('loaded', []))} loaded "
          f"from the cache, {len(mark.get('seeded', []))} copied from the shipped kernels, "
          f"in {mark.get('processes', 1)} process(es), {mark['seconds']:.1f} s"
          + (f"; not reached: {', '.join(mark['not_reached'])}" if mark.get("not_reached") else "")
          + (f"; failed: {'; '.join(mark['failed'])}" if mark["failed"] else ""), flush=True)
    return 0 if not mark["failed"] else 1


if __name__ == "__main__":
    sys.exit(main())
