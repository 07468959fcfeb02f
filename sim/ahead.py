"""Compiling the model's kernels ahead: in the background, from the first ``import sim``.

The stock rules' monthly steps are numba kernels kept in numba's disk cache
(:func:`sim.rules.formulas.kernel`): the first run on a machine, or after a kernel or numba
changed, compiles them, about 20 s of one core here.

They are shipped compiled (:data:`SHIPPED`, one zip per Python on Linux x86-64, built by
``python -m sim.precompile --ship``): the first run that finds no mark for this code
(:func:`settle`, under the lock) copies those whose source is unchanged into numba's cache
(:func:`seed`, a tenth of a second) and leaves a mark, so nothing is compiled; ``import sim``
then starts no compile. Where no zip matches (another machine, another numba), or for the
kernels a changed source left out, the rest of this module applies.

The shipped code is compiled for the machine family's baseline, so that it runs on any of
its machines; code compiled for this machine's processor runs the stock rules faster
(karabakh: 1.18 times the replicate-months per CPU second on the machine of the README's
figures, ``benchmarks/bench_tuning.py``). So once they were copied in, the end of a run
where a core is idle starts ``python -m sim.precompile --tune`` (:func:`after_run`),
detached as a background compile is: in a process of its own, at low priority, it
compiles the stock kernels for this processor into a cache of its own, then puts them in
place of the copied ones (:func:`sim.precompile.tune`) and notes it in the mark
(``tuned``). Runs meanwhile use the copied kernels and do not wait for it (it holds a lock of
its own, :func:`tune_lock_path`); the results are the same bits (no fast-math: the
processor's own instructions do the same arithmetic). ``SIM_TUNE_KERNELS=0`` keeps the
copied code.

So that compiling is paid as little as
possible where a user waits, the first ``import sim`` that finds no mark of a compile for
this code, this numba and this cache starts ``python -m sim.precompile`` in its own session
(not a child of the importing process, so it outlives a short command and no run counts it
among its workers). It compiles the kernels a shipped scenario's run uses, split kernel by kernel over as
many processes as there are idle cores (up to one per kernel module), into numba's usual cache,
then leaves its mark (:func:`mark_path`: a JSON summary) and ends. Until it ends it holds a
lock: a chunk that would compile a kernel meanwhile waits for it instead (:func:`settle`),
loading each kernel from the cache as it lands, so nothing is compiled twice side by side,
loading overlaps the compile, and the progress bar of ``sim run`` says it is compiling in
the background.

Compiling is the same compile numba does on a run's first call (same signatures, same
cache): the results do not depend on which process compiled. Kernels a run needs that a
shipped scenario does not use, or in another precision (``dtype="float64"``), are compiled
by the run, as before.

It starts only where at least two cores are idle (one for it, one for the run that may
follow at once): on a busy machine a second process only slows a run that needs the kernels
straight away, which then compiles them itself, as fast. ``SIM_COMPILE_AHEAD=1`` starts it
even there (worth it when the run comes later: a notebook, ``sim --help`` first);
``SIM_COMPILE_AHEAD=0`` never. Nothing here imports numba or the rules at import
time (``import sim`` stays light): starting costs a hash of the kernels' sources and a
process start. POSIX only (the lock is ``fcntl.flock``); elsewhere a run compiles its
kernels when it first needs them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .kernel_modules import EVERY_RUN

PACKAGE = Path(__file__).resolve().parent
RULES = PACKAGE / "rules"
"""The folder of the stock rules and their kernels (``*_kernel.py``, ``formulas.py``)."""
SHIPPED = PACKAGE / "shipped_kernels"
"""Where the shipped kernels are: one zip per interpreter and machine (:func:`shipped_tag`),
built by ``python -m sim.precompile --ship``."""
SHIPPED_ENV = "SIM_SHIPPED_KERNELS"
"""``SIM_SHIPPED_KERNELS=0`` never seeds numba's cache from the shipped kernels (a run compiles them)."""
TUNE_ENV = "SIM_TUNE_KERNELS"
"""``SIM_TUNE_KERNELS=0`` keeps the shipped kernels' code once copied in, rather than compile
them again for this machine's processor in the background (:func:`after_run`)."""
OFF = ("0", "false", "no", "off")
"""Values of ``SIM_COMPILE_AHEAD`` that turn compiling ahead off."""
ON = ("1", "true", "yes", "on")
"""Values of ``SIM_COMPILE_AHEAD`` that compile ahead even on a busy machine (unset: when idle)."""
IDLE_NEEDED = 2
"""Idle cores needed to compile ahead unasked: one for the compile, one left for the run."""
IDLE_TO_TUNE = 1
"""Idle cores needed to tune the copied kernels unasked (:func:`after_run`): one, for the
tuning, which runs at low priority and so gives way to any run that follows."""
INSIDE = "SIM_PRECOMPILING"
"""Set in the environment of the compiling processes (they do not start another one)."""
WAIT_S = 600.0
"""At most this long a run waits for a background compile before it compiles itself."""
LOOK_S = 0.25
"""How often a run waiting for a background compile looks whether its own kernels are cached."""
_settled = False  # this process saw no compile under way: it never looks again
_tune_looked = False  # this process looked whether to tune the kernels (after_run): it never looks again


def enabled() -> bool:
    """Whether this process may start a background compile: not turned off, not itself a
    compiling process or a worker process (multiprocessing's, Dask's), and on POSIX."""
    if os.environ.get("SIM_COMPILE_AHEAD", "").strip().lower() in OFF or os.environ.get(INSIDE):
        return False
    argv = list(getattr(sys, "orig_argv", []))
    at = argv.index("-m") + 1 if "-m" in argv else len(argv)
    if argv[at:at + 1] == ["sim.precompile"]:  # `python -m sim.precompile` compiles in the foreground itself
        return False
    mp = sys.modules.get("multiprocessing")
    if mp is not None and mp.parent_process() is not None:  # a spawned worker: its parent decided
        return False
    if not sys.executable:
        return False
    try:
        import fcntl  # noqa: F401
    except ImportError:  # pragma: no cover - Windows
        return False
    return True


def idle_cores() -> int:
    """Cores this process may use that nobody is using: those available less the load
    average of the last minute, rounded (all of them where there is no load average)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - macOS
        cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # pragma: no cover - no load average here
        return cores
    return max(0, min(cores, round(cores - load)))


def kernel_sources() -> list[Path]:
    """The files whose content the compiled kernels depend on: every ``*_kernel.py`` of the
    stock rules, ``formulas.py``, and those every run uses: the random draws'
    ``sim/seeding_kernel.py`` and the counts' ``sim/world/tally_kernel.py``."""
    every = [PACKAGE.joinpath(*m.split(".")[1:]).with_suffix(".py") for m in EVERY_RUN]
    return sorted([*RULES.glob("*_kernel.py"), RULES / "formulas.py", *every])


def fingerprint() -> str:
    """What a compile is good for: the kernels' sources, numba (its files' place, size and
    time), Python, the machine and numba's settings (``NUMBA_*``, the cache's place among
    them). A mark for another fingerprint says nothing about this one."""
    h = hashlib.sha256()
    spec = importlib.util.find_spec("numba")  # finds numba without importing it
    origin = spec.origin if spec is not None and spec.origin else ""
    parts: list[Any] = [sys.version, sys.platform, os.uname().machine if hasattr(os, "uname") else "", str(RULES),
                        origin]
    if origin:
        st = os.stat(origin)
        parts += [st.st_size, st.st_mtime_ns]
    parts += sorted((k, v) for k, v in os.environ.items() if k.startswith("NUMBA_"))
    h.update(repr(parts).encode())
    for p in kernel_sources():
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def state_dir() -> Path:
    """Where the lock and the marks are kept: beside numba's cache of the kernels where it
    is known (``$NUMBA_CACHE_DIR/sim-ahead``, or the rules' ``__pycache__``), else in the
    user's cache folder."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return Path(os.environ["NUMBA_CACHE_DIR"]) / "sim-ahead"
    tree = RULES / "__pycache__"
    if os.access(tree if tree.is_dir() else RULES, os.W_OK):
        return tree
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sim" / "kernels"


def mark_path(fp: str | None = None) -> Path:
    """The mark a finished background compile leaves for this fingerprint."""
    return state_dir() / f"kernels-{sys.implementation.cache_tag}-{(fp or fingerprint())[:24]}.json"


def lock_path() -> Path:
    """The lock a background compile holds while it runs."""
    return state_dir() / "kernels.lock"


def tune_lock_path() -> Path:
    """The lock a tuning (:func:`sim.precompile.tune`) holds while it runs: not
    :func:`lock_path`, so that no run waits for it (it takes that one only to put the
    kernels in place)."""
    return state_dir() / "tune.lock"


def read_mark(fp: str | None = None) -> dict[str, Any] | None:
    """The mark for fingerprint ``fp`` (this code's by default), or None: none, or unreadable."""
    import json

    try:
        mark = json.loads(mark_path(fp).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return mark if isinstance(mark, dict) else None


def wants_tuning(mark: dict[str, Any]) -> bool:
    """Whether the kernels a mark says were copied from the shipped zip (``seeded``), or found
    in the cache already when it was to copy them (``kept``: copied under an earlier mark, or
    compiled here; which, the cache does not say), are to be compiled for this processor:
    not done (or tried) yet, and not turned off (``SIM_TUNE_KERNELS=0``)."""
    return (bool(mark.get("seeded") or mark.get("kept")) and "tuned" not in mark
            and os.environ.get(TUNE_ENV, "").strip().lower() not in OFF)


def write_mark(mark: dict[str, Any], fp: str) -> None:
    """Write the mark of a compile (or a seeding) for fingerprint ``fp`` atomically; remove
    the marks of other fingerprints of this interpreter beside it (and those of an older sim
    that named no interpreter). Another Python's marks stay: Pythons sharing a checkout (its
    ``__pycache__``) keep their own kernels there, and should not copy or tune them again
    each time the other ran."""
    import json

    path = mark_path(fp)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(mark, indent=1), encoding="utf-8")
    os.replace(tmp, path)
    tag = f"kernels-{sys.implementation.cache_tag}-"
    for old in path.parent.glob("kernels-*.json"):
        if old != path and (old.name.startswith(tag) or old.name.count("-") == 1):
            old.unlink(missing_ok=True)


def shipped_tag() -> str:
    """The interpreter and machine a shipped zip is for: ``cpython-311-linux-x86_64``."""
    import platform

    return f"{sys.implementation.cache_tag}-{sys.platform}-{platform.machine().lower()}"


def source_hashes() -> dict[str, str]:
    """Each kernel source's SHA-256, by its path in the package (``rules/spells_kernel.py``):
    what a shipped zip was built from."""
    return {p.relative_to(PACKAGE).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in kernel_sources()}


def shipped(complete: bool = False) -> Path | None:
    """The shipped kernels' zip for this interpreter, machine and numba, or None: none
    shipped for them, another numba, turned off (``SIM_SHIPPED_KERNELS=0``), or, with
    ``complete``, a kernel source changed since it was built (then only the kernels of the
    unchanged sources can be seeded). Reads the zip's manifest only; never raises."""
    if os.environ.get(SHIPPED_ENV, "").strip().lower() in OFF:
        return None
    path = SHIPPED / f"{shipped_tag()}.zip"
    if not path.is_file():
        return None
    try:
        import json
        import zipfile
        from importlib.metadata import version

        with zipfile.ZipFile(path) as z:
            manifest = json.loads(z.read("manifest.json"))
        if manifest.get("numba") != version("numba"):
            return None
        if complete and manifest.get("sources") != source_hashes():
            return None
    except Exception:  # noqa: BLE001 - a saving only: a run compiles what it needs without it
        return None
    return path


def seed() -> dict[str, Any] | None:
    """Fill numba's cache from the shipped kernels, once per fingerprint: where no mark says
    the kernels were compiled (or seeded) and a shipped zip matches (:func:`shipped`), take
    the lock, copy in the kernels whose source is unchanged
    (:func:`sim.rules.kernels.seed_from`) and leave a mark saying what was seeded. The
    summary, or None if nothing was done. A kernel not seeded is compiled by the run that
    needs it, as without a zip. Never raises."""
    path = shipped()
    if path is None or os.environ.get(INSIDE):
        return None
    try:
        import fcntl

        fp = fingerprint()
        if mark_path(fp).exists():
            return None
        lock = lock_path()
        lock.parent.mkdir(parents=True, exist_ok=True)
        with open(lock, "a+b") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)  # one process seeds; the others wait, then find its mark
            if mark_path(fp).exists():
                return None
            result = copy_shipped(path, fp)
            if not result["failed"]:  # the kernels it left (a changed source) are compiled by the runs that need them
                write_mark(result, fp)
            return result
    except Exception:  # noqa: BLE001 - a saving only: a run compiles what it needs without it
        return None


def copy_shipped(path: Path, fp: str) -> dict[str, Any]:
    """Copy the shipped kernels of zip ``path`` into numba's cache, the caller holding the
    lock (:func:`sim.rules.kernels.seed_from`): its summary (``seeded``, ``stale``, ``kept``,
    ``failed``) with the fingerprint ``fp``, the zip's name and the seconds it took: the mark
    a seeding leaves. Never raises: a failure is listed in ``failed``."""
    t0 = time.perf_counter()
    try:
        from .rules.kernels import seed_from  # lazy: the kernels import numba

        result: dict[str, Any] = seed_from(path)
    except Exception as exc:  # noqa: BLE001 - then the kernels are compiled, as without a zip
        result = {"seeded": [], "stale": [], "kept": [], "failed": [f"{type(exc).__name__}: {exc}"]}
    result.update(fingerprint=fp, shipped=path.name, seconds=round(time.perf_counter() - t0, 2))
    return result


def start() -> bool:
    """Start compiling the kernels in the background unless this code's are marked compiled
    or a compile is under way, or the machine is busy: fewer than :data:`IDLE_NEEDED` idle
    cores, unless ``SIM_COMPILE_AHEAD=1`` (a second process there would only take time from
    a run that follows at once, which compiles them itself as fast). True if one was
    started. Never raises: compiling ahead is a saving, and a run compiles what it needs
    without it."""
    if not enabled():
        return False
    if os.environ.get("SIM_COMPILE_AHEAD", "").strip().lower() not in ON and idle_cores() < IDLE_NEEDED:
        return False
    try:
        fp = fingerprint()
        if mark_path(fp).exists():
            return False
        if shipped(complete=True) is not None:  # the first run seeds the cache from them (settle): no compile
            return False
        if not _launch_locked(lock_path()):  # another process's compile is under way
            return False
    except (OSError, ValueError, subprocess.SubprocessError):
        return False
    return True


def after_run() -> bool:
    """At the end of a run (:func:`sim.montecarlo.execute`, in the run's own process): start
    tuning the kernels (``python -m sim.precompile --tune``, detached, at low priority) if
    the mark says they were copied from the shipped zip and not tuned yet
    (:func:`wants_tuning`), no tuning is under way, and a core is idle (:data:`IDLE_TO_TUNE`;
    ``SIM_COMPILE_AHEAD=1`` even when none is, ``0`` never). At the end of a run
    rather than at ``import sim``: the user has the run's answer, and the compile does not
    take a core from the run. Looks once per process (a sweep's thousand runs look once).
    True if one was started. Never raises."""
    global _tune_looked
    if _tune_looked or not enabled():
        return False
    _tune_looked = True
    if os.environ.get(TUNE_ENV, "").strip().lower() in OFF:
        return False
    if os.environ.get("SIM_COMPILE_AHEAD", "").strip().lower() not in ON and idle_cores() < IDLE_TO_TUNE:
        return False
    try:
        mark = read_mark()
        return mark is not None and wants_tuning(mark) and _start_tune()
    except (OSError, ValueError, subprocess.SubprocessError):
        return False


def _start_tune() -> bool:
    """Start ``python -m sim.precompile --tune`` unless a tuning is under way; True if started."""
    return _launch_locked(tune_lock_path(), "--tune")


def _launch_locked(lock: Path, *args: str) -> bool:
    """Take ``lock`` if no other process holds it and start ``python -m sim.precompile``
    (with ``args``) holding it until it ends (:func:`_launch`); False if it was held."""
    import fcntl

    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held by the started process until it ends
        except BlockingIOError:
            return False
        _launch(fd, *args)
    finally:
        os.close(fd)  # the started process holds its own copy of the locked file
    return True


_LAUNCHER = (
    "import os, subprocess, sys\n"
    "fd = int(sys.argv[1])\n"
    "subprocess.Popen([sys.executable, '-m', 'sim.precompile', '--lock-fd', str(fd), *sys.argv[3:]],\n"
    "                 pass_fds=(fd,), start_new_session=True, stdin=subprocess.DEVNULL,\n"
    "                 stdout=open(sys.argv[2], 'wb'), stderr=subprocess.STDOUT, close_fds=True)\n"
)


def _launch(fd: int, *args: str) -> None:
    """Start the compiling process (``python -m sim.precompile``, with ``args``) through a
    short-lived launcher, so that it is not this process's child (a run that counts its
    worker processes, or waits for its children, does not see it), in a session of its own
    (a Ctrl-C here does not stop it). It inherits the locked file ``fd``."""
    import threading

    log = state_dir() / ("tune.log" if "--tune" in args else "precompile.log")
    env = {**os.environ, INSIDE: "1"}
    p = subprocess.Popen([sys.executable, "-c", _LAUNCHER, str(fd), str(log), *args], pass_fds=(fd,), env=env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True, close_fds=True)
    threading.Thread(target=p.wait, name="sim-precompile-launcher", daemon=True).start()  # reaped, no zombie


def in_progress() -> bool:
    """Whether a background compile of the kernels (for any fingerprint, in any process) is
    under way now. Its lock is taken before the compiling process starts (:func:`start`) and
    held until it ends, however it ends."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return False
    try:
        fd = os.open(lock_path(), os.O_RDONLY)
    except OSError:  # no lock file: no compile was ever started here
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # closing releases a shared lock taken above
    return False


def wait(timeout: float = WAIT_S, until: Callable[[], bool] | None = None) -> bool:
    """Wait until no background compile is under way, or ``until()`` is true (checked every
    :data:`LOOK_S` seconds), at most ``timeout`` seconds; True if the wait ended so. A Ctrl-C
    stops the wait like any other."""
    end = time.monotonic() + timeout
    pause = 0.02
    looked = time.monotonic()
    while in_progress():
        if until is not None and time.monotonic() - looked >= LOOK_S:
            looked = time.monotonic()
            if until():
                return True
        if time.monotonic() >= end:
            return False
        time.sleep(pause)
        pause = min(pause * 1.5, 0.25)
    return True


def settle(plan: Any) -> bool:
    """Before a chunk of ``plan`` runs: if a background compile is under way and a kernel
    the plan's rules use is not in numba's cache yet, wait for the compile (rather than
    compile the same kernels beside it), loading each kernel into this process as it lands
    (so that loading them overlaps the compile), until every stock kernel is cached or the
    compile ends (a plan does not name all it uses: some rules import their kernels when
    they first step); True if this waited. Once a process has seen no compile under way
    it does not look again; that first time it copies the shipped kernels into numba's cache
    if no mark says they are there (:func:`seed`)."""
    global _settled
    if _settled or os.environ.get(INSIDE):  # the compiling processes wait for no one
        return False
    if not in_progress():
        _settled = True
        seed()
        _every_draw()
        return False
    from .rules.kernels import uncached  # lazy: the rules import numba

    if not uncached(plan):
        return False
    wait(until=lambda: not uncached(None, load=True))
    uncached(None, load=True)  # the last ones, if the compile ended between two looks
    return True


def _every_draw() -> None:
    """Compile the random draws' kernels a stream may call (:mod:`sim.seeding_kernel`) if the
    disk cache lacks one: every run counts them as its own (:data:`sim.rules.kernels.EVERY_RUN`),
    but the stock rules draw some kinds only in their own kernels (the spells month its
    normals), so a run would otherwise leave one uncompiled and every later run would say it
    compiles the model's kernels. The first run on a machine only; later ones read the cache's
    index and load nothing."""
    from .rules.kernels import draws_uncached, every_draw  # lazy: the kernels import numba

    if draws_uncached():
        every_draw()


def reset() -> None:
    """Forget what this process saw (tests)."""
    global _settled, _tune_looked
    _settled = _tune_looked = False
