"""PRIM in `sim discover`: its peeling trajectory (a table and a figure), a box picked by
index, quasi-p values, and restrictions that do not matter dropped."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from sim.analysis.discover import prim
from sim.cli import app

INPUTS = [f"x{i}" for i in range(1, 6)]


def noisy_table(seed: int = 3, n: int = 300) -> pd.DataFrame:
    """Sets whose outcome is likely (75% against 25%) where x1 > 0.6, estimated from 10 runs
    each: only x1 matters, and the noise lets PRIM's late boxes restrict other inputs."""
    rng = np.random.default_rng(seed)
    tab = pd.DataFrame({x: rng.random(n) for x in INPUTS})
    tab["runs"] = 10
    tab["y"] = rng.binomial(10, np.where(tab["x1"] > 0.6, 0.75, 0.25)) / 10
    tab.index.name = "set"
    return tab


def test_prim_keeps_its_peeling_trajectory_and_states_quasi_p_values():
    f = prim(noisy_table(), INPUTS, "y")
    t = f.trajectory
    assert list(t.columns) == ["coverage", "density", "mass", "restricted", "sets", "likely_sets"]
    assert t.index.name == "box" and t["mass"].iloc[0] == 1.0 and t["coverage"].iloc[0] == 1.0
    assert t["mass"].min() < 0.5  # peeled (then pasted back a little: EMA peels and pastes)
    assert 0 < f.box < len(t) and t["density"].iloc[f.box] >= 0.8
    assert [c[:2] for c in f.conditions] == [("x1", ">=")]
    assert 0.5 < f.conditions[0][2] < 0.7
    assert f.qp[("x1", ">=")] < 1e-6  # the restriction that matters


def test_a_box_picked_by_index_and_its_trivial_restrictions_dropped():
    tab = noisy_table()
    last = len(prim(tab, INPUTS, "y").trajectory) - 1
    f = prim(tab, INPUTS, "y", box=last)
    assert f.box == last and f.trajectory["restricted"].iloc[last] == 3  # x1 and two that do not matter
    assert [d for d, _ in f.dropped] == ["x4", "x5"] and all(q > 0.05 for _, q in f.dropped)
    assert [c[:2] for c in f.conditions] == [("x1", ">=")] and f.kept == []
    assert f.likely_share >= 0.8  # the box keeps the density asked for
    # a box early on the trajectory, taken as it is: nothing to drop below its own density
    g = prim(tab, INPUTS, "y", box=1)
    assert g.box == 1 and g.sets == pytest.approx(g.trajectory["mass"].iloc[1])
    with pytest.raises(sim.InputError, match=f"--box: the peeling trajectory of 'y' has boxes 0 to {last} "
                                             "\\(got 99\\)"):
        prim(tab, INPUTS, "y", box=99)


def test_sim_discover_shows_the_trajectory_and_writes_it(tmp_path):
    tab = noisy_table()
    folder = tmp_path / "sw"
    folder.mkdir()
    tab.to_csv(folder / "sets.csv")
    (folder / "summary.json").write_text(json.dumps({  # what sim discover checks of a sweep's summary
        "sweep_version": 1, "method": "lhs", "sets": len(tab), "runs_per_set": 10, "runs": 10 * len(tab),
        "inputs": [{"name": x} for x in INPUTS], "outcomes": {"y": {"description": "it happens"}}}))
    last = len(prim(tab, INPUTS, "y").trajectory) - 1
    r = CliRunner().invoke(app, ["discover", str(folder), "--outcome", "y", "--method", "prim", "--box", str(last)])
    assert r.exit_code == 0, r.output
    assert f"PRIM (box {last} of the peeling trajectory's {last + 1})" in r.output
    assert "Dropped as not mattering (quasi-p above 0.05): x4 (qp" in r.output
    assert "PRIM's peeling trajectory (pick another box with --box I)" in r.output and "← taken" in r.output
    written = pd.read_csv(folder / "prim_trajectory_y.csv", index_col="box")
    assert len(written) == last + 1 and written["taken"].sum() == 1 and bool(written["taken"].iloc[last])
    assert (folder / "fig_prim_y.png").stat().st_size > 0
    r = CliRunner().invoke(app, ["discover", str(folder), "--outcome", "y", "--method", "prim", "--json",
                                 "--out", str(tmp_path / "elsewhere")])
    data = json.loads(r.stdout)
    assert data["prim"]["qp"][0]["input"] == "x1" and len(data["prim"]["trajectory"]) == last + 1
    assert (tmp_path / "elsewhere" / "fig_prim_y.png").is_file()
    r = CliRunner().invoke(app, ["discover", str(folder), "--outcome", "y", "--box", "-1"])
    assert r.exit_code == 2 and "sim discover: --box: the peeling trajectory of 'y' has boxes 0 to" in r.stderr
