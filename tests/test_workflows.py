"""What the command line and the dashboard share (sim.workflows), and the one way to open a
world (sim.world.opening)."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim import seeding
from sim.outputs import out_or_new
from sim.play.story import tell
from sim.workflows import (
    UNCERTAINTY_STAGE,
    run_story,
    run_with_uncertainty,
    save_run,
    uncertainty_stopped,
)
from sim.world.compile import compile_plan
from sim.world.model import World
from sim.world.opening import open_world, opened

from .conftest import MINI, load_text

UNCERTAIN = MINI + """uncertainties:
  alliances.pact.credibility: {uniform: [0.05, 0.45]}
  states.aa.resolve: {uniform: [0.4, 0.9]}
"""
LEVERS = MINI + """levers:
  bb:
    leave_pact: {description: Leave the pact, effect: {remove: {alliances.pact.members: [bb]}}}
"""


def test_a_run_with_uncertainty_is_the_plain_run_with_the_ranges_beside_it(tmp_path):
    scn = load_text(tmp_path, UNCERTAIN)
    stages = []
    res = run_with_uncertainty(scn, uncertainty=(8, 20), stage=lambda what, total: stages.append((what, total)),
                               runs=200, seed=3)
    plain = sim.run(scn, runs=200, seed=3)
    assert res.probabilities().equals(plain.probabilities())  # the headline is the plain run's
    assert res.manifest["uncertainty"] == {"sets": 8, "runs": 20}
    assert set(res.uncertainty["outcomes"]) == set(scn.spec.outcomes)
    assert res.uncertainty["sets"] == 8 and res.uncertainty["runs_per_set"] == 20
    assert stages == [(UNCERTAINTY_STAGE, 160)]
    assert run_with_uncertainty(scn, runs=200, seed=3).uncertainty is None  # none asked: a plain run


def test_a_cancel_keeps_the_run_without_its_uncertainty(tmp_path):
    scn = load_text(tmp_path, UNCERTAIN)
    asked = []

    def cancelled() -> bool:  # the dashboard's Cancel, pressed once the run is done
        asked.append(True)
        return True

    res = run_with_uncertainty(scn, uncertainty=(8, 20), cancelled=cancelled, runs=100, seed=3)
    assert res.complete and res.uncertainty is None and "uncertainty" not in res.manifest and asked

    def interrupt(done: int, total: int) -> None:  # Cancel pressed during the sweep: its progress raises
        if total == 160:
            raise KeyboardInterrupt

    res = run_with_uncertainty(scn, uncertainty=(8, 20), cancelled=lambda: False, progress=interrupt, runs=100, seed=3)
    assert res.complete and res.uncertainty is None
    assert uncertainty_stopped(res) == "interrupt"


def test_a_stopped_uncertainty_sweep_gives_no_ranges(tmp_path):
    """Ctrl-C during the sweep stops it as it stops a run (its chunks so far kept); ranges
    from the sets that happened to finish were NaN before, reported as if whole."""
    scn = load_text(tmp_path, UNCERTAIN)

    def interrupt(done: int, total: int) -> None:
        if total == 160 and done >= 40:
            raise KeyboardInterrupt

    res = run_with_uncertainty(scn, uncertainty=(8, 20), progress=interrupt, runs=100, seed=3, chunk_size=20)
    assert res.complete and res.uncertainty is None
    assert res.manifest["uncertainty"] == {"sets": 8, "runs": 20, "stopped_by": "interrupt", "runs_finished": 40,
                                           "runs_requested": 160}


def test_save_run_writes_the_report_and_the_stories_when_asked(tmp_path):
    scn = load_text(tmp_path, MINI)
    res = sim.run(scn, runs=100, seed=3)
    folder = save_run(res, tmp_path / "with", stories=scn)
    assert (folder / "report.html").is_file() and res.manifest["stories"]
    assert all((folder / s["file"]).is_file() for s in res.manifest["stories"])
    bare = save_run(sim.run(scn, runs=100, seed=3), tmp_path / "bare", report=False, stories=scn)
    assert not (bare / "report.html").exists() and not list(bare.glob("story_*"))


def test_a_replicates_story_is_the_run_it_was_in_the_monte_carlo(tmp_path):
    scn = load_text(tmp_path, LEVERS)
    res = sim.run(scn, runs=60, seed=5, levers=["bb.leave_pact"])
    st = run_story(scn, res, 17)
    assert (st.seed, st.replicate) == (5, 17) and "--lever bb.leave_pact" in st.command
    # the story told from the run is the one `sim story --seed 5 --replicate 17 --runs 60 --lever ...` tells
    direct = tell(scn, seed=5, replicate=17, runs=60, levers=["bb.leave_pact"])
    assert st.text() == direct.text() and st.happened() == direct.happened()


def test_out_or_new_falls_back_to_a_new_folder_and_says_why(tmp_path):
    made = tmp_path / "new"
    folder, problem = out_or_new(tmp_path / "out", lambda: made)
    assert folder == tmp_path / "out" and folder.is_dir() and problem is None
    (folder / "x").write_text("taken")
    folder, problem = out_or_new(tmp_path / "out", lambda: made)  # filled up meanwhile
    assert folder == made and "is not empty" in problem.format("sim run")
    assert out_or_new(None, lambda: made) == (made, None)


def _plan(tmp_path, text=MINI, levers=()):
    scn = load_text(tmp_path, text)
    return compile_plan(scn.spec, scn.rules, None, list(levers))


def test_opened_releases_the_world_however_the_block_ends(tmp_path, monkeypatch):
    plan = _plan(tmp_path)
    released = []
    real = World.release
    monkeypatch.setattr(World, "release", lambda self: released.append(self) or real(self))
    with opened(plan, 5, seeding.chunk_sequence(seeding.root_sequence(1), 0)) as w:
        w.step()
    assert released == [w]
    with pytest.raises(RuntimeError), opened(plan, 5, seeding.chunk_sequence(seeding.root_sequence(1), 0)) as w2:
        raise RuntimeError("a rule failed")
    assert released == [w, w2]


def test_a_world_opened_is_the_one_a_run_steps(tmp_path):
    """Same seed, same chunk: the world opened here and the run's chunk end in the same state."""
    scn = load_text(tmp_path, MINI)
    plan = compile_plan(scn.spec, scn.rules)
    res = sim.run(scn, runs=50, seed=9, chunk_size=50, dtype="float64")
    with opened(plan, 50, seeding.chunk_sequence(seeding.root_sequence(9), 0)) as w:
        while w.elapsed < plan.horizon:
            w.step()
        mean_rung = float(w.st.level[:, 0].mean())
    assert np.isclose(mean_rung, res.timeseries()["front.mean_rung"].iloc[-1])


def test_switched_levers_apply_to_their_replicates_only(tmp_path):
    plan = _plan(tmp_path, LEVERS)
    on = np.array([True, False, True, False])
    w = open_world(plan, 4, np.random.SeedSequence(1), switch={("bb", "leave_pact"): on})
    try:
        assert list(w.st.status[:, 1, 0] == 3) == list(on)  # bb left the pact where the lever is on
    finally:
        w.release()


def test_sim_run_stopped_during_its_uncertainty_sweep_says_so_and_keeps_the_run(tmp_path, monkeypatch):
    """Before: exit status 0, "- – -" across inputs in the table and null ranges in
    summary.json, and in words "across plausible inputs -–-; the inputs do not move it"."""
    import json

    from typer.testing import CliRunner

    import sim.analysis.headline as headline
    from sim.cli import app

    from .conftest import write

    real = headline.sweep

    def stopped_sweep(*args, **kwargs):  # Ctrl-C after the sweep's first chunk
        def stop(done: int, total: int) -> None:
            if done:
                raise KeyboardInterrupt

        return real(*args, **{**kwargs, "progress": stop})

    monkeypatch.setattr(headline, "sweep", stopped_sweep)
    out = tmp_path / "run"
    r = CliRunner().invoke(app, ["run", str(write(tmp_path, UNCERTAIN)), "--runs", "100", "--no-report", "--uncertainty",
                                 "--uncertainty-sets", "8", "--uncertainty-runs", "20", "--chunk-size", "20",
                                 "--out", str(out)])
    assert r.exit_code == 130, r.output
    assert r.stderr.strip() == (f"Interrupted: the --uncertainty sweep stopped after 20 of 160 runs; the run is saved in "
                                f"{out}/ without its range across inputs.")
    assert "Across inputs" not in r.stdout and "nan" not in r.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert "uncertainty" not in summary and all("across_inputs" not in o for o in summary["outcomes"].values())
    m = json.loads((out / "manifest.json").read_text())
    assert m["complete"] is True and m["uncertainty"]["stopped_by"] == "interrupt"
