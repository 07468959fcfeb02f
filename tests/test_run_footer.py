"""The `sim run` footer's times and the table's width.

Times come from an injected clock (``sim.cli.common.clock``) that moves only when a test says:
no test here measures elapsed time. Start-up counts from the program's own start
(``sim.STARTED``, recorded by the entry point), not from the process's: under
``bash -c "pip install ... && sim run ..."`` the shell runs ``sim`` in the process that
ran pip. The time is the whole command's, ``--uncertainty`` sweep included.
"""

from __future__ import annotations

import sys

import pytest
from typer.testing import CliRunner

import sim
import sim.analysis.headline as headline
from sim import api, cli
from sim.cli import app

from .conftest import MINI, write

UNCERTAIN = MINI.replace("outcomes:\n", """outcomes:
  long_one:
    kind: escalation
    flashpoint: front
    reaches: 4
    description: A major clash on the front between A and B, with artillery and dozens killed in one month
""") + """uncertainties:
  alliances.pact.credibility: {uniform: [0.05, 0.45]}
  states.aa.resolve: {uniform: [0.4, 0.9]}
"""


class Clock:
    """A clock that stands still until a test moves it."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _footer(text: str) -> str:
    return " ".join(text.split()).split("Seed ", 1)[1].split(" Outputs:")[0]


@pytest.fixture()
def clock(monkeypatch):
    c = Clock(1000.0)
    monkeypatch.setattr(cli.common, "clock", c)
    monkeypatch.setitem(cli._state, "started", None)  # whatever main() records is undone after the test
    return c


def test_start_up_counts_from_the_programs_own_start(tmp_path, monkeypatch, capsys, clock):
    monkeypatch.setattr(sim, "STARTED", 997.0)  # the package began loading 3 s before the command
    real = api.run

    def run_4s(*args, **kwargs):
        clock.advance(4.0)
        return real(*args, **kwargs)

    monkeypatch.setattr(api, "run", run_4s)
    out = tmp_path / "run"
    monkeypatch.setattr(sys, "argv", ["sim", "run", str(write(tmp_path, MINI)), "--runs", "100", "--no-report",
                                      "--out", str(out)])
    with pytest.raises(SystemExit) as done:
        cli.main()  # the console script's entry point
    assert done.value.code == 0
    # the process (pytest) started long before the program: none of that is start-up
    assert _footer(capsys.readouterr().out) == ("7; 1 worker(s) (in-process); time 7.0 s: start-up and imports 3.0 s, "
                                               "simulation 4.0 s, figures and report 0.0 s.")


def test_the_time_of_a_run_with_uncertainty_is_the_whole_command(tmp_path, monkeypatch, clock):
    real = headline.model_uncertainty

    def sweep_20s(*args, **kwargs):
        clock.advance(20.0)
        return real(*args, **kwargs)

    monkeypatch.setattr(headline, "model_uncertainty", sweep_20s)
    real_run = api.run

    def run_4s(*args, **kwargs):
        clock.advance(4.2)
        return real_run(*args, **kwargs)

    monkeypatch.setattr(api, "run", run_4s)
    r = CliRunner().invoke(app, ["run", str(write(tmp_path, UNCERTAIN)), "--runs", "100", "--no-report", "--uncertainty",
                                 "--uncertainty-sets", "8", "--uncertainty-runs", "20", "--out", str(tmp_path / "u")])
    assert r.exit_code == 0, r.output
    # was "time 4.2 s" (the headline run alone) for a command that took 24.2 s
    assert _footer(r.stdout) == ("7; 1 worker(s) (in-process); time 24.2 s: start-up and imports 0.0 s, "
                                 "simulation 24.2 s, figures and report 0.0 s.")


@pytest.mark.parametrize("columns, uncertainty", [(80, True), (80, False), (60, False)])
def test_the_table_fits_a_narrow_terminal(tmp_path, monkeypatch, columns, uncertainty):
    monkeypatch.chdir(tmp_path)  # short paths: a path longer than the terminal is the one thing left whole
    more = ["--uncertainty", "--uncertainty-sets", "8", "--uncertainty-runs", "20"] if uncertainty else []
    r = CliRunner(env={"COLUMNS": str(columns)}).invoke(
        app, ["run", write(tmp_path, UNCERTAIN).name, "--runs", "100", "--no-report", "--given", "clash", *more,
              "--out", "n"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert max(len(line) for line in lines) <= columns, "\n".join(line for line in lines if len(line) > columns)
    words = " ".join(" ".join(line.strip("│┃ ") for line in lines).split())
    assert "dozens killed in one month" in words and "Outputs: n/" in r.stdout  # wrapped, not cut
    if columns == 80:
        assert all(h in r.stdout for h in ("Outcome", "Probability", "95% interval", "(median)", "Given: clash"))


def test_output_to_a_file_or_a_pipe_keeps_the_wide_table(tmp_path):
    r = CliRunner().invoke(app, ["run", str(write(tmp_path, UNCERTAIN)), "--runs", "100", "--no-report",
                                 "--out", str(tmp_path / "w")])
    assert r.exit_code == 0, r.output
    assert 80 < max(len(line) for line in r.stdout.splitlines()) <= 120  # no terminal to fit: 120 columns
