"""The command line, in-process (CliRunner) and through the installed entry point."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app

from .conftest import MINI, write

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.mark.pythons
def test_run_writes_the_run_folder(mini_path, tmp_path):
    out = tmp_path / "run"
    r = invoke("run", str(mini_path), "--runs", "300", "--seed", "2", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert "Probability" in r.output and "95% interval" in r.output and str(out) in r.output
    for f in ("manifest.json", "scenario.resolved.yaml", "summary.json", "outcomes.csv", "timeseries.csv", "report.html", "fig_outcomes.png"):
        assert (out / f).is_file(), f
    s = json.loads((out / "summary.json").read_text())
    assert {"scenario", "runs", "seed", "start", "horizon_months", "outcomes"} <= set(s)
    assert s["runs"] == 300 and s["seed"] == 2 and s["start"] == "2023-07"
    for o in s["outcomes"].values():
        assert {"probability", "ci95", "median_month", "median_date"} <= set(o)
    m = json.loads((out / "manifest.json").read_text())
    assert m["complete"] is True and len(m["scenario_sha256"]) == 64 and m["versions"]["mesa"].startswith("3.")


def test_run_json_and_given(mini_path, tmp_path):
    r = invoke("run", str(mini_path), "--runs", "200", "--json", "--out", str(tmp_path / "j"))
    assert r.exit_code == 0
    assert json.loads(r.output)["runs"] == 200
    r = invoke("run", str(mini_path), "--runs", "200", "--given", "clash", "--out", str(tmp_path / "g"), "--no-report")
    assert r.exit_code == 0 and "Given: clash" in r.output
    assert not (tmp_path / "g" / "report.html").exists()


@pytest.mark.pythons
def test_resolved_scenario_reproduces_the_run(mini_path, tmp_path):
    invoke("run", str(mini_path), "--runs", "300", "--seed", "5", "--out", str(tmp_path / "a"), "--no-report", "--set", "flashpoints.front.level=3")
    invoke("run", str(tmp_path / "a" / "scenario.resolved.yaml"), "--runs", "300", "--seed", "5", "--out", str(tmp_path / "b"), "--no-report")
    a = json.loads((tmp_path / "a" / "summary.json").read_text())
    b = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert a["outcomes"] == b["outcomes"]
    ma = json.loads((tmp_path / "a" / "manifest.json").read_text())
    mb = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert ma["scenario_sha256"] == mb["scenario_sha256"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--runs", "0"], "sim run: --runs: must be at least 1 (got 0)"),
        (["--runs", "-5"], "sim run: --runs: must be at least 1 (got -5)"),
        (["--workers", "0"], "sim run: --workers: must be at least 1 (got 0)"),
        (["--set", "flashpoints.frnt.level=3"], "sim run: --set flashpoints.frnt.level: no such path (did you mean flashpoints.front.level?)"),
        (["--set", "flashpoints.front.level=9"], "sim run: --set flashpoints.front.level: value 9 is out of range; expected a number in [0, 5]"),
        (["--given", "wr"], "sim run: --given: no outcome 'wr' (did you mean 'war'?); outcomes are clash, war, taken, frozen"),
    ],
)
def test_option_errors_exit_2_without_traceback(mini_path, args, message):
    r = runner.invoke(app, ["run", str(mini_path), *args])
    assert r.exit_code == 2
    assert r.output.strip() == message
    assert "Traceback" not in r.output


def test_out_into_non_empty_folder_is_refused(mini_path, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("precious")
    r = runner.invoke(app, ["run", str(mini_path), "--out", str(tmp_path / "full")])
    assert r.exit_code == 2 and "is not empty" in r.output
    assert (tmp_path / "full" / "keep.txt").read_text() == "precious"


def test_file_errors_and_debug(tmp_path):
    bad = write(tmp_path, MINI.replace("credibility: 0.3", "credibility: 3"))
    r = runner.invoke(app, ["run", str(bad)])
    assert r.exit_code == 2
    assert r.output.strip() == f"{bad}:18:18: alliances.pact.credibility: value 3 is out of range; expected a probability or share in [0, 1]"
    r = runner.invoke(app, ["--debug", "run", str(bad)])
    assert r.exit_code != 0 and r.exception is not None  # the traceback is shown with --debug


def test_validate_list_schema(mini_path):
    r = invoke("validate", str(mini_path))
    assert r.exit_code == 0 and "valid" in r.output and "provenance:" in r.output
    r = invoke("list")
    assert r.exit_code == 0 and "karabakh" in r.output
    r = invoke("schema")
    schema = json.loads(r.output)
    assert schema["title"] == "sim scenario" and "flashpoints" in schema["properties"]


def test_unknown_scenario_name():
    r = runner.invoke(app, ["run", "karabak"])
    assert r.exit_code == 2 and "did you mean 'karabakh'" in r.output


def _sim_exe() -> str:
    exe = Path(sys.executable).parent / "sim"
    return str(exe) if exe.exists() else shutil.which("sim") or "sim"


@pytest.mark.pythons
def test_installed_entry_point_end_to_end(tmp_path):
    """The real `sim` console script, from another folder, on a shipped scenario name."""
    out = tmp_path / "k"
    env = {k: v for k, v in os.environ.items() if k not in ("SIM_SCENARIOS", "SIM_SEEDS")}
    p = subprocess.run(
        [_sim_exe(), "run", "karabakh", "--runs", "400", "--seed", "1", "--out", str(out)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env,
    )
    assert p.returncode == 0, p.stderr
    assert "Armenia freezes its participation in the CSTO" in p.stdout
    s = json.loads((out / "summary.json").read_text())
    assert s["scenario"] == "karabakh" and s["runs"] == 400
    bad = subprocess.run([_sim_exe(), "run", "karabakh", "--runs", "0"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.strip() == "sim run: --runs: must be at least 1 (got 0)"
    assert "Traceback" not in bad.stderr


def test_the_program_ends_without_teardown_yet_with_its_exit_handlers_output_and_status(mini_path, tmp_path):
    """sim.cli.leave: the command's process ends at once when done (no interpreter teardown),
    and still runs its exit handlers, flushes its output and keeps its exit status."""
    code = ("import atexit, sys; atexit.register(lambda: print('exit handlers ran', file=sys.stderr)); "
            "from sim.cli import main; main()")
    p = subprocess.run([sys.executable, "-c", code, "run", str(mini_path), "--runs", "50", "--json", "--no-report",
                        "--out", str(tmp_path / "j")], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["runs"] == 50 and "exit handlers ran" in p.stderr
    bad = subprocess.run([sys.executable, "-c", code, "run", str(mini_path), "--runs", "0"], capture_output=True,
                         text=True, timeout=300)
    assert bad.returncode == 2 and "--runs: must be at least 1" in bad.stderr and "exit handlers ran" in bad.stderr


def test_the_program_collects_garbage_less_often_and_a_caller_keeps_its_own_setting(mini_path, tmp_path):
    """sim.cli._collect_less: the `sim` process's first collection threshold is GC_GEN0; main()
    called by a program of its own (a test, a script) leaves the caller's setting, and a
    collector switched off stays off."""
    from sim.cli import GC_GEN0

    said = "atexit.register(lambda: print('threshold', gc.get_threshold()[0], gc.isenabled(), file=sys.stderr)); "
    args = ["run", str(mini_path), "--runs", "20", "--json", "--no-report"]
    cases = {"program": "from sim.cli import main; main()",
             "caller": "import sim.cli; sim.cli.main()",
             "off": "gc.disable(); gc.set_threshold(0); from sim.cli import main; main()"}
    got = {}
    for name, tail in cases.items():
        p = subprocess.run([sys.executable, "-c", "import atexit, gc, sys; " + said + tail, *args, "--out",
                            str(tmp_path / name)], capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stderr
        got[name] = p.stderr.strip().splitlines()[-1]
    import gc

    assert got == {"program": f"threshold {GC_GEN0} True", "caller": f"threshold {gc.get_threshold()[0]} True",
                   "off": "threshold 0 False"}


@pytest.mark.slow
def test_the_first_run_on_a_machine_says_it_compiles_the_kernels_and_the_next_does_not(tmp_path):
    # an empty numba cache stands for a fresh install; the progress bar is on a terminal
    from .simproc import SimProcess

    env = {"NUMBA_CACHE_DIR": str(tmp_path / "numba-cache"), "SIM_SHIPPED_KERNELS": "0"}  # no shipped kernels
    said = []
    for i in range(2):
        proc = SimProcess(["run", "kyrgyz_tajik", "--runs", "300", "--out", str(tmp_path / f"run{i}")], tmp_path, env=env)
        rc, _, err = proc.finish()
        assert rc == 0, err
        assert "simulating" in err or "compiling" in err, err  # a bar was shown
        # a new install: compiled by the run, or in the background from its import sim (sim.ahead)
        said.append("compiling the model's kernels" in err and "(first run only)" in err)
    assert said == [True, False]
    assert (tmp_path / "numba-cache").is_dir()
    # with the shipped kernels (as installed), a new install's first run copies them in and compiles nothing
    proc = SimProcess(["run", "kyrgyz_tajik", "--runs", "300", "--out", str(tmp_path / "shipped")], tmp_path,
                      env={"NUMBA_CACHE_DIR": str(tmp_path / "numba-cache-2")})
    rc, _, err = proc.finish()
    assert rc == 0, err
    assert "simulating" in err and "compiling" not in err, err
    manifest = json.loads((tmp_path / "shipped" / "manifest.json").read_text())
    assert manifest["kernels"]["compiled"] == 0 and manifest["kernels"]["loaded"] > 0
