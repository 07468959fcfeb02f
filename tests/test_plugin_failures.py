"""A rule from a plugin (``--plugin MODULE``) that raises, when it is built or in its
monthly step: one line naming the chunk, the rule, the plugin module and the error (the
traceback with ``--debug``), exit status 1, and the chunks finished before it saved as for
any failed chunk. Run through the command line in a fresh process, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .conftest import MINI, write

PLUGIN = '''
from sim.parts import register
from sim.rules import RuleParams


class NoParams(RuleParams):
    """No parameters."""


@register("{slot}", "{model}", NoParams, phase="escalation")
def build(plan):
    """A rule that fails: {how}."""
    {build}
    def step(w):
        {step}
    return step
'''

CASES = {
    "build": ("boom_build", "cannot build", "raise ValueError('no widgets in this plan')", "pass"),
    "step": ("boom_step", "always in its step", "pass", "if w.elapsed >= 2: raise RuntimeError('divided by zero')"),
    "late": ("boom_late", "in chunks of 30 replicates only", "pass",
             "if w.n == 30: raise ZeroDivisionError('float division by zero')"),
}


def setup(tmp_path: Path, case: str) -> tuple[Path, str]:
    module, how, build, step = CASES[case]
    plugins = tmp_path / "plugins"
    plugins.mkdir(exist_ok=True)
    code = PLUGIN.format(slot=module, model="failing", how=how, build=build, step=step)
    (plugins / f"{module}.py").write_text(textwrap.dedent(code), encoding="utf-8")
    scn = write(tmp_path, MINI + f"rules:\n  {module}: {{model: failing}}\n", f"{module}.yaml")
    return scn, module


def sim_cli(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(tmp_path / "plugins")
    return subprocess.run([sys.executable, "-m", "sim.cli", *args], capture_output=True, text=True, cwd=tmp_path,
                          env=env, timeout=600)


@pytest.mark.parametrize("case, error, where", [
    ("build", "ValueError: no widgets in this plan", "while it was built (build(plan))"),
    ("step", "RuntimeError: divided by zero", "in its monthly step"),
])
def test_a_rule_that_fails_from_the_start_is_one_line_and_saves_nothing(case, error, where, tmp_path):
    scn, module = setup(tmp_path, case)
    out = tmp_path / "run"
    r = sim_cli(["run", str(scn), "--plugin", module, "--runs", "50", "--months", "4", "--no-report", "--out", str(out)],
                tmp_path)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [
        f"sim run: chunk 0 (replicates 0-49) of scenario 'mini' failed: rule {module}.failing from plugin module "
        f"'{module}' raised {error} {where} (run with --debug for the traceback)",
        "No chunk finished, so nothing was saved.",
    ]
    assert not out.exists()


def test_a_rule_that_fails_in_a_later_chunk_keeps_the_chunks_before_it(tmp_path):
    scn, module = setup(tmp_path, "late")
    for backend in ("local", "processes"):
        out = tmp_path / f"run-{backend}"
        r = sim_cli(["run", str(scn), "--plugin", module, "--runs", "80", "--chunk-size", "50", "--months", "4",
                     "--no-report", "--backend", backend, "--workers", "2" if backend == "processes" else "1",
                     "--oversubscribe", "--out", str(out)], tmp_path)
        assert r.returncode == 1, r.stderr
        m = json.loads((out / "manifest.json").read_text())
        # in-process, chunk 0 has finished; with workers it may still be running when chunk 1 fails
        done = m["runs_completed"]
        assert done == 50 if backend == "local" else done in (0, 50)
        assert r.stderr.strip().splitlines() == [
            f"sim run: chunk 1 (replicates 50-79) of scenario 'mini' failed: rule {module}.failing from plugin module "
            f"'{module}' raised ZeroDivisionError: float division by zero in its monthly step (run with --debug for "
            "the traceback)",
            f"The {done} runs finished before it are saved in {out}/ with complete=false.",
        ]
        assert m["complete"] is False and m["stopped_by"] == "chunk-failed"


def test_debug_shows_the_plugin_s_traceback(tmp_path):
    scn, module = setup(tmp_path, "step")
    r = sim_cli(["--debug", "run", str(scn), "--plugin", module, "--runs", "50", "--months", "4", "--no-report",
                 "--out", str(tmp_path / "run")], tmp_path)
    assert r.returncode == 1
    assert "Traceback (most recent call last)" in r.stderr
    assert f'{tmp_path / "plugins" / module}.py' in r.stderr and "RuntimeError: divided by zero" in r.stderr


def test_ctrl_c_inside_a_kernels_call_stops_the_run_rather_than_failing_a_chunk(tmp_path):
    """numba's dispatcher, when Ctrl-C lands while a kernel is called, hands back a result
    with the KeyboardInterrupt pending, which Python reports as a SystemError caused by it:
    the run stops as for any Ctrl-C (exit 130, the finished chunks saved), and says nothing
    of a failed rule."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    step = textwrap.indent(textwrap.dedent("""\
        if w.n == 30 and w.elapsed >= 2:
            try:
                raise KeyboardInterrupt
            except KeyboardInterrupt as k:
                raise SystemError("CPUDispatcher(<function kernel>) returned a result with an exception set") from k"""),
        " " * 8).strip()
    code = PLUGIN.format(slot="ctrl_c", model="failing", how="Ctrl-C inside a kernel", build="pass", step=step)
    (plugins / "ctrl_c.py").write_text(textwrap.dedent(code), encoding="utf-8")
    scn = write(tmp_path, MINI + "rules:\n  ctrl_c: {model: failing}\n", "ctrl_c.yaml")
    out = tmp_path / "run"
    r = sim_cli(["run", str(scn), "--plugin", "ctrl_c", "--runs", "130", "--chunk-size", "50", "--workers", "1",
                 "--months", "4", "--no-report", "--out", str(out)], tmp_path)
    assert r.returncode == 130, r.stderr
    assert "failed" not in r.stderr and "SystemError" not in r.stderr and "Traceback" not in r.stderr, r.stderr
    m = json.loads((out / "manifest.json").read_text())
    assert m["stopped_by"] == "interrupt" and m["complete"] is False and m["runs_completed"] == 100


def test_what_an_interrupt_behind_an_error_is():
    from sim.interrupts import Terminated, interrupt_behind

    def chained(stop: BaseException) -> Exception:
        try:
            try:
                raise stop
            except BaseException as k:
                raise SystemError("returned a result with an exception set") from k
        except SystemError as e:
            try:
                raise RuntimeError("rule x raised SystemError") from e
            except RuntimeError as outer:
                return outer

    k = KeyboardInterrupt()
    assert interrupt_behind(chained(k)) is k
    t = Terminated()
    assert interrupt_behind(chained(t)) is t
    assert interrupt_behind(RuntimeError("no")) is None
    loop = RuntimeError("a")
    loop.__context__ = ValueError("b")
    loop.__context__.__context__ = loop  # a cycle ends the search
    assert interrupt_behind(loop) is None
