"""The kernels' cost paid once: compiled ahead in the background on a new install
(sim.ahead, sim.precompile), loaded once per process, worker processes kept across runs.

Asserts on what the code does (numba's counts of kernels loaded and compiled, which
processes ran, what the lock and the mark say), never on elapsed time: the times are
printed by benchmarks/bench_firstrun.py.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import psutil
import pytest

import sim
from sim import ahead, runner
from sim.precompile import compile_part, estimate, labelled, shares, stock_kernels

from .simproc import gone, wait_for


def _pid(_task) -> int:
    """Run in a worker process: its id (module level, so that spawned workers import it)."""
    return os.getpid()


def _same(a, b) -> None:
    pa, pb = a.probabilities(), b.probabilities()
    assert list(pa.index) == list(pb.index)
    assert np.array_equal(pa["hits"].to_numpy(), pb["hits"].to_numpy())
    assert np.array_equal(a.series["level_counts"], b.series["level_counts"])


# ------------------------------------------------------------------ once per process


SCRIPT = """
import json, sim
scn = sim.load_scenario({path!r})
out = []
for _ in range(2):
    res = sim.run(scn, runs=300, seed=4, workers=1)
    out.append(res.manifest["kernels"])
print(json.dumps(out))
"""


def test_a_second_run_in_a_process_loads_no_kernel(mini_path, tmp_path):
    # a fresh process: the first run loads (or compiles) each kernel of its rules, the second none
    p = subprocess.run([sys.executable, "-c", textwrap.dedent(SCRIPT.format(path=str(mini_path)))],
                       capture_output=True, text=True, timeout=600, cwd=tmp_path,
                       env={**os.environ, "SIM_COMPILE_AHEAD": "0"})
    assert p.returncode == 0, p.stderr
    first, second = json.loads(p.stdout.strip().splitlines()[-1])
    assert first["loaded"] + first["compiled"] >= 1, first
    assert second == {"loaded": 0, "compiled": 0}


def test_worker_processes_are_kept_for_the_next_run(mini):
    runner.close_workers()
    a = sim.run(mini, runs=1200, seed=3, chunk_size=100, workers=2, backend="processes", oversubscribe=True)
    kept = runner.kept_workers()
    assert len(kept) == 2
    assert a.manifest["kernels"]["loaded"] + a.manifest["kernels"]["compiled"] >= 1  # new workers load them
    b = sim.run(mini, runs=1200, seed=3, chunk_size=100, workers=2, backend="processes", oversubscribe=True)
    assert runner.kept_workers() == kept  # the same processes ran the second run
    assert b.manifest["kernels"] == {"loaded": 0, "compiled": 0}  # and loaded nothing again
    _same(a, b)
    _same(a, sim.run(mini, runs=1200, seed=3, chunk_size=100, workers=1))  # as in one process
    runner.close_workers()
    assert runner.kept_workers() == [] and not any(psutil.pid_exists(p) for p in kept)


@pytest.mark.pythons  # a kept pool broken while idle hung the first submit on 3.12+ only
def test_other_environments_other_parts_and_dead_workers_get_new_workers(mini, monkeypatch):
    runner.close_workers()
    kw = dict(runs=600, seed=5, chunk_size=100, workers=2, backend="processes", oversubscribe=True)
    first = sim.run(mini, **kw)
    kept = runner.kept_workers()
    monkeypatch.setenv("SIM_TEST_SOMETHING", "1")  # a spawned worker copies the environment when it starts
    again = sim.run(mini, **kw)
    now = runner.kept_workers()
    assert set(now).isdisjoint(kept) and again.manifest["kernels"]["loaded"] + again.manifest["kernels"]["compiled"] >= 1
    _same(first, again)
    victim = psutil.Process(now[0])
    victim.kill()  # a kept worker dies while idle (the OOM killer, say)
    assert wait_for(lambda: gone(victim))
    _same(first, sim.run(mini, **kw))  # the next run starts new workers rather than fail
    assert now[0] not in runner.kept_workers()
    # the same when the pool finds out only as the run starts: the run starts again on new workers
    later = runner.kept_workers()
    victim = psutil.Process(later[1])
    victim.kill()
    assert wait_for(lambda: getattr(runner._Kept.pool, "_broken", False))  # the pool knows, the check below not
    monkeypatch.setattr(runner, "_alive", lambda pool: True)
    _same(first, sim.run(mini, **kw))
    assert set(runner.kept_workers()).isdisjoint(later)
    monkeypatch.undo()
    # custom parts stay registered in a worker: a run with other parts never gets its workers
    pool = runner.ProcessPool(2)
    task = runner.Task(spec=runner.RunSpec(key="k", name="n", scenario={}, horizon=1, dtype="float32"), chunk=0, n=1,
                       offset=0)
    pids = set(pool.run(_pid, [task] * 4))
    pool.close()
    import dataclasses

    other = dataclasses.replace(task, spec=dataclasses.replace(task.spec, parts=b"other parts"))
    pool = runner.ProcessPool(2)
    assert set(pool.run(_pid, [other] * 4)).isdisjoint(pids)
    pool.close()
    runner.close_workers()


# ------------------------------------------------------------------ compiling ahead


def test_the_shares_cover_every_kernel_once_the_largest_first_and_balanced():
    costs = {label: estimate(disp) for label, disp in labelled(stock_kernels()).items()}
    assert len(costs) >= 17 and all(c > 0 for c in costs.values())
    assert costs["alignment_kernel.drift"] > costs["tally_kernel.add_rows"]  # more code, more to compile
    for n in (1, 2, 3, len(costs), len(costs) + 2):
        parts = shares(costs, n)
        flat = [k for p in parts for k in p]
        assert sorted(flat) == sorted(costs) and len(flat) == len(set(flat))
    two = shares(costs, 2)
    assert two[0][0] == max(costs, key=costs.get)
    assert shares(costs, 2) == two  # every process computes the same shares
    load = [sum(costs[k] for k in p) for p in two]
    assert abs(load[0] - load[1]) <= max(costs.values())  # balanced to within one kernel
    some = ["tally_kernel.add_rows", "spells_kernel.month"]
    assert sorted(k for p in shares({k: costs[k] for k in some}, 2) for k in p) == sorted(some)


def test_a_share_compiles_its_kernels_and_runs_the_others_as_python():
    kernels = stock_kernels()
    report = compile_part(1, 2)
    costs = {label: estimate(disp) for label, disp in labelled(kernels).items()}
    mine = set(shares(costs, 2)[1])
    assert set(report["compiled"]) | set(report["loaded"]) == mine and report["not_reached"] == []
    from numba.core.dispatcher import Dispatcher

    for m, found in kernels.items():  # the kernels are the module's again afterwards
        for attr, disp in found:
            assert getattr(sys.modules[m], attr) is disp and isinstance(disp, Dispatcher)


def test_no_compile_starts_when_turned_off_marked_or_already_under_way(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "cache"))  # where the lock and the marks go
    monkeypatch.setenv(ahead.SHIPPED_ENV, "0")  # no shipped kernels: compiled here (the end of the test has them)
    launched = []
    monkeypatch.setattr(ahead, "_launch", lambda fd, *args: launched.append(fd))
    monkeypatch.setenv("SIM_COMPILE_AHEAD", "0")
    assert ahead.start() is False
    monkeypatch.delenv("SIM_COMPILE_AHEAD")
    monkeypatch.delenv(ahead.INSIDE, raising=False)
    monkeypatch.setattr(sys, "orig_argv", [sys.executable, "-m", "pytest"])
    assert ahead.enabled() is True
    monkeypatch.setattr(sys, "orig_argv", [sys.executable, "-m", "sim.precompile"])
    assert ahead.enabled() is False  # python -m sim.precompile compiles in the foreground
    monkeypatch.setattr(sys, "orig_argv", [sys.executable, "-m", "pytest"])
    monkeypatch.setattr(ahead, "idle_cores", lambda: 1)  # a busy machine: the run compiles them itself
    assert ahead.start() is False and launched == []
    monkeypatch.setattr(ahead, "idle_cores", lambda: 2)  # one core for the compile, one for the run
    assert ahead.start() is True and len(launched) == 1  # no mark for this code yet
    holder = open(ahead.lock_path(), "a+b")  # noqa: SIM115 - another process's compile, under way
    fcntl.flock(holder.fileno(), fcntl.LOCK_EX)
    try:
        assert ahead.in_progress() is True
        assert ahead.start() is False and len(launched) == 1
    finally:
        holder.close()
    assert ahead.in_progress() is False
    ahead.mark_path().write_text("{}")
    assert ahead.start() is False and len(launched) == 1  # compiled already
    monkeypatch.setenv("NUMBA_OPT", "1")  # another numba setting: another fingerprint, no mark for it
    assert ahead.start() is True and len(launched) == 2
    monkeypatch.setattr(ahead, "idle_cores", lambda: 0)
    monkeypatch.setenv("SIM_COMPILE_AHEAD", "1")  # asked for: even on a busy machine
    monkeypatch.setenv("NUMBA_OPT", "2")
    assert ahead.start() is True and len(launched) == 3
    monkeypatch.delenv(ahead.SHIPPED_ENV)  # shipped kernels of this code: the run copies them in, nothing to compile
    monkeypatch.setenv("NUMBA_OPT", "3")
    assert ahead.shipped(complete=True) is not None  # (tests/test_shipped_kernels.py: shipped for this Python)
    assert ahead.start() is False and len(launched) == 3


def test_a_run_waits_for_a_compile_under_way_rather_than_compile_beside_it(tmp_path, monkeypatch, mini):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv(ahead.INSIDE, raising=False)
    ahead.reset()
    import sim.rules.kernels as rk

    monkeypatch.setattr(rk, "uncached", lambda plan, load=False: ["spells_kernel.month"])  # as on a new install
    ahead.lock_path().parent.mkdir(parents=True)
    holder = open(ahead.lock_path(), "a+b")  # noqa: SIM115
    fcntl.flock(holder.fileno(), fcntl.LOCK_EX)
    released = threading.Event()

    def finish() -> None:  # the compile ends once the run is seen waiting
        while not waiting.is_set():
            waiting.wait(0.05)
        released.set()
        holder.close()

    waiting = threading.Event()
    real_wait = ahead.wait

    def wait(timeout: float = ahead.WAIT_S, until=None) -> bool:
        waiting.set()
        return real_wait(timeout, until)

    monkeypatch.setattr(ahead, "wait", wait)
    t = threading.Thread(target=finish)
    t.start()
    try:
        assert ahead.settle(mini.compiled()) is True  # it waited ...
        assert released.is_set()  # ... until the compile let go of its lock
    finally:
        waiting.set()  # (should settle have failed before waiting: let the thread end)
        t.join()
        ahead.reset()
    assert ahead.settle(mini.compiled()) is False  # none under way: no wait, and no look after that
    assert ahead._settled is True
    ahead.reset()


def test_a_run_waits_until_every_kernel_is_cached_not_for_the_whole_compile(tmp_path, monkeypatch, mini):
    # a background compile under way: the run goes on once every stock kernel is cached
    # (loading each as it lands), even while the compile is still under way
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv(ahead.INSIDE, raising=False)
    monkeypatch.setattr(ahead, "LOOK_S", 0.0)
    ahead.reset()
    import sim.rules.kernels as rk

    looks = []

    def uncached(plan, load=False):
        looks.append((plan is None, load))
        return [] if len(looks) >= 3 else ["spells_kernel.month"]  # cached at the third look

    monkeypatch.setattr(rk, "uncached", uncached)
    ahead.lock_path().parent.mkdir(parents=True)
    holder = open(ahead.lock_path(), "a+b")  # noqa: SIM115 - never let go during this test
    fcntl.flock(holder.fileno(), fcntl.LOCK_EX)
    try:
        assert ahead.settle(mini.compiled()) is True
        assert ahead.in_progress() is True  # went on while the compile is still under way
        assert looks[0] == (False, False)  # the plan's kernels first: some missing
        assert all(look == (True, True) for look in looks[1:])  # then every kernel, loading those cached
    finally:
        holder.close()
        ahead.reset()


def test_kernels_cached_meanwhile_are_loaded_as_a_first_call_would(tmp_path):
    # a process that has not called a kernel loads what another process compiled into the
    # cache; counted as a load, and the kernel gives the same numbers
    code = textwrap.dedent("""
        import json, sys
        import numpy as np
        from sim import seeding_kernel as sk
        from sim.rules.kernels import load_cached, uncached
        out = np.empty(6)
        if sys.argv[1] == "compile":
            sk.uniform(np.uint64(5), np.arange(3, dtype=np.int64), 2, out)
            print(json.dumps(out.tolist()))
        else:
            index = sk.uniform._cache._cache_file._load_index()
            n = load_cached(sk.uniform, index)
            again = load_cached(sk.uniform, index)
            hits = sum(sk.uniform.stats.cache_hits.values())
            sk.uniform(np.uint64(5), np.arange(3, dtype=np.int64), 2, out)
            print(json.dumps({"n": n, "again": again, "hits": hits, "misses": sum(sk.uniform.stats.cache_misses.values()),
                              "out": out.tolist(), "uncached": "seeding_kernel.uniform" in uncached(None, load=True)}))
    """)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"), "SIM_COMPILE_AHEAD": "0"}
    run = [subprocess.run([sys.executable, "-c", code, mode], capture_output=True, text=True, env=env, timeout=600)
           for mode in ("compile", "load")]
    assert all(p.returncode == 0 for p in run), run[0].stderr + run[1].stderr
    compiled = json.loads(run[0].stdout.strip().splitlines()[-1])
    loaded = json.loads(run[1].stdout.strip().splitlines()[-1])
    assert loaded["n"] == 1 and loaded["again"] == 0  # loaded once, before any call
    assert loaded["hits"] == 1 and loaded["misses"] == 0 and loaded["uncached"] is False
    assert loaded["out"] == compiled


FRESH = """
import json, os, psutil, sim
children = [" ".join(c.cmdline()) for c in psutil.Process().children(recursive=True)]
scn = sim.load_scenario("karabakh")
res = sim.run(scn, runs=400, seed=11, months=6)
print(json.dumps({"kernels": res.manifest["kernels"], "hits": res.probabilities()["hits"].tolist(),
                  "children": children, "left": sim.api.kernels_to_compile(scn)}))
"""


@pytest.mark.slow
def test_a_background_compile_gives_the_run_the_same_kernels_as_its_own_compile(tmp_path):
    # a new install (an empty numba cache): with compiling ahead (asked for: the machine may
    # be busy), the run compiles nothing itself and loads what the background compiled;
    # without, it compiles; the same results
    out = {}
    for mode in ("1", "0", "shipped"):
        env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / f"cache{mode}"), "SIM_COMPILE_AHEAD": mode,
               ahead.SHIPPED_ENV: "0"}
        if mode == "shipped":  # as a new install finds it: the shipped kernels, compiling ahead when idle
            env.pop("SIM_COMPILE_AHEAD")
            env.pop(ahead.SHIPPED_ENV)
        env.pop(ahead.INSIDE, None)
        p = subprocess.run([sys.executable, "-c", textwrap.dedent(FRESH)], capture_output=True, text=True,
                           timeout=900, env=env, cwd=tmp_path)
        assert p.returncode == 0, p.stderr
        out[mode] = json.loads(p.stdout.strip().splitlines()[-1])
    ahead_run, own = out["1"], out["0"]
    n = 12 + 4 + 3  # karabakh's rules' kernels, the random draws' (sim.seeding_kernel), the counts' and sums' (sim.world.tally_kernel)
    # a kernel called with two kinds of array (the counts of int8 and int16 levels) compiles once for each; the
    # first run compiles every draw's kernel, the normals' too, which karabakh's rules draw in their own kernels
    assert own["kernels"]["compiled"] >= n and own["kernels"]["loaded"] == 0
    assert ahead_run["kernels"] == {"loaded": own["kernels"]["compiled"], "compiled": 0}
    assert own["left"] == [] and ahead_run["left"] == []  # so the next run does not say it compiles
    assert ahead_run["hits"] == own["hits"]
    assert not any("-m sim.precompile" in c for c in ahead_run["children"])  # not a child of the importing process
    marks = list((tmp_path / "cache1" / "sim-ahead").glob("kernels-*.json"))
    assert len(marks) == 1
    mark = json.loads(marks[0].read_text())
    assert len(mark["compiled"]) == n and sum(k.startswith("seeding_kernel.") for k in mark["compiled"]) == 4
    assert mark["failed"] == [] and mark["not_reached"] == []
    assert not list((tmp_path / "cache0" / "sim-ahead").glob("kernels-*.json"))  # turned off: nothing started
    # with the shipped kernels: copied into the cache by the run, nothing compiled, no process started, same results
    seeded = out["shipped"]
    assert seeded["kernels"]["compiled"] == 0 and seeded["kernels"]["loaded"] >= 12 + 3, seeded["kernels"]
    assert seeded["left"] == [] and seeded["hits"] == own["hits"] and seeded["children"] == []
    mark = json.loads(next((tmp_path / "cacheshipped" / "sim-ahead").glob("kernels-*.json")).read_text())
    assert len(mark["seeded"]) == n and mark["stale"] == mark["failed"] == [] and mark["shipped"].endswith(".zip")


def test_copied_kernels_are_tuned_after_a_run_once_when_idle_unless_turned_off(tmp_path, monkeypatch):
    # the end of a run starts `python -m sim.precompile --tune` where the mark says the kernels
    # were copied from the shipped zip and not tuned yet, the machine is idle and no tuning is
    # under way; it looks once per process
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "cache"))  # where the lock and the marks go
    for name in (ahead.INSIDE, "SIM_COMPILE_AHEAD", ahead.TUNE_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "orig_argv", [sys.executable, "-m", "pytest"])
    launched = []
    monkeypatch.setattr(ahead, "_launch", lambda fd, *args: launched.append(args))
    idle = [2]
    monkeypatch.setattr(ahead, "idle_cores", lambda: idle[0])

    def looks() -> bool:
        ahead.reset()  # a new process
        return ahead.after_run()

    assert looks() is False  # no mark: nothing copied here
    fp = ahead.fingerprint()
    ahead.write_mark({"seeded": ["spells_kernel.month"], "stale": [], "kept": [], "failed": [], "shipped": "x.zip"}, fp)
    idle[0] = 0
    assert looks() is False  # a busy machine
    idle[0] = 1  # one core for the tuning, at low priority
    monkeypatch.setenv(ahead.TUNE_ENV, "0")
    assert looks() is False  # turned off
    monkeypatch.setenv(ahead.TUNE_ENV, "1")
    monkeypatch.setenv("SIM_COMPILE_AHEAD", "0")
    assert looks() is False  # compiling in the background turned off
    monkeypatch.delenv("SIM_COMPILE_AHEAD")
    holder = open(ahead.tune_lock_path(), "a+b")  # noqa: SIM115 - another process's tuning, under way
    fcntl.flock(holder.fileno(), fcntl.LOCK_EX)
    try:
        assert looks() is False
    finally:
        holder.close()
    assert launched == []
    assert looks() is True and launched == [("--tune",)]
    assert ahead.after_run() is False and len(launched) == 1  # once per process
    assert ahead.in_progress() is False  # its lock is not the compile's: no run waits for it
    idle[0] = 0
    monkeypatch.setenv("SIM_COMPILE_AHEAD", "1")  # asked for: even on a busy machine
    assert looks() is True and len(launched) == 2
    mark = ahead.read_mark(fp)
    mark["tuned"] = {"tuned": [], "failed": ["compiling: it failed"]}
    ahead.write_mark(mark, fp)
    assert looks() is False and len(launched) == 2  # tried once for this code, failed or not
    ahead.write_mark({"compiled": ["spells_kernel.month"], "seeded": []}, fp)
    assert looks() is False and len(launched) == 2  # compiled here: for this processor already
    ahead.write_mark({"seeded": [], "kept": ["spells_kernel.month"], "shipped": "x.zip"}, fp)
    assert looks() is True and len(launched) == 3  # found in the cache when copying: copied before, maybe


TUNE_RUN = """
import json, sys, sim
scn = sim.load_scenario("karabakh")
res = sim.run(scn, runs=400, seed=11, months=6)
print(json.dumps({"kernels": res.manifest["kernels"], "hits": res.probabilities()["hits"].tolist()}))
"""


@pytest.mark.slow
@pytest.mark.pythons
@pytest.mark.skipif(ahead.shipped() is None, reason="no shipped kernels for this Python and machine")
def test_a_runs_end_tunes_the_copied_kernels_in_the_background_with_the_same_results(tmp_path):
    # a new install: the first run copies the shipped kernels in (baseline code); the end of
    # a run on an idle machine (here asked for: SIM_COMPILE_AHEAD=1) starts the tuning, which
    # compiles every kernel for this processor and puts it in place; the next run loads it,
    # compiles nothing, and gives the same results to the bit
    cache = tmp_path / "cache"
    base = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    for name in (ahead.INSIDE, ahead.SHIPPED_ENV, "SIM_COMPILE_AHEAD"):
        base.pop(name, None)

    def run(**env: str) -> dict:
        p = subprocess.run([sys.executable, "-c", textwrap.dedent(TUNE_RUN)], capture_output=True, text=True,
                           timeout=600, env={**base, **env}, cwd=tmp_path)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout.strip().splitlines()[-1])

    def data_files() -> set[str]:
        return {p.name for p in cache.rglob("*.nbc")}

    copied = run(SIM_TUNE_KERNELS="0")
    assert copied["kernels"]["compiled"] == 0
    mark_file = next((cache / "sim-ahead").glob("kernels-*.json"))
    seeded = json.loads(mark_file.read_text())["seeded"]
    assert len(seeded) >= 12 + 4 + 3 and "tuned" not in json.loads(mark_file.read_text())
    before = data_files()
    again = run(SIM_TUNE_KERNELS="1", SIM_COMPILE_AHEAD="1")  # its end starts the tuning, detached
    assert again["hits"] == copied["hits"]
    assert wait_for(lambda: "tuned" in json.loads(mark_file.read_text()), cap=600, every=0.5), "no tuning"
    tuned = json.loads(mark_file.read_text())["tuned"]
    assert tuned["failed"] == [] and sorted(tuned["tuned"]) == sorted(seeded), tuned
    assert before < data_files()  # new files for the tuned code; the copied ones stay for a process reading them

    def tuning_ended() -> bool:
        with open(cache / "sim-ahead" / "tune.lock", "a+b") as f:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # the tuning holds it until it ends
            except BlockingIOError:
                return False
            return True

    assert wait_for(tuning_ended, cap=60)
    after = run(SIM_TUNE_KERNELS="1")
    assert after["kernels"]["compiled"] == 0 and after["kernels"]["loaded"] == copied["kernels"]["loaded"]
    assert after["hits"] == copied["hits"]
    p = subprocess.run([sys.executable, "-m", "sim.precompile", "--tune"], capture_output=True, text=True,
                       timeout=600, env=base)
    assert p.returncode == 0 and "before now" in p.stdout, p.stdout + p.stderr  # once for this code


def test_a_mark_replaces_this_pythons_older_marks_and_leaves_another_pythons(tmp_path, monkeypatch):
    # two Pythons sharing a checkout's cache: each keeps its own mark, so neither copies (or
    # tunes) its kernels again because the other ran; an older mark of this one goes
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "cache"))
    folder = ahead.state_dir()
    folder.mkdir(parents=True)
    tag = sys.implementation.cache_tag
    other = "cpython-399" if tag != "cpython-399" else "cpython-398"
    (folder / f"kernels-{other}-{'a' * 24}.json").write_text("{}")  # another Python's
    (folder / f"kernels-{tag}-{'b' * 24}.json").write_text("{}")  # this one's, for older code
    (folder / f"kernels-{'c' * 24}.json").write_text("{}")  # an older sim's, which named no Python
    ahead.write_mark({"seeded": []}, "d" * 64)
    assert sorted(p.name for p in folder.glob("kernels-*.json")) == sorted(
        [f"kernels-{other}-{'a' * 24}.json", f"kernels-{tag}-{'d' * 24}.json"])
    assert ahead.read_mark("d" * 64) == {"seeded": []}
