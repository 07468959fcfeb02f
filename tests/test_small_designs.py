"""A sweep design too small for its sensitivity analysis says so in one line; the sets
still run and are saved. RBD-FAST (Latin hypercube) needs at least 6 sets; every design
size from there on is analysed (sizes 9, 13, 17... used to divide by zero in SALib's
bootstrap)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from sim.analysis.sweep import MIN_RBD_SETS
from sim.cli import app

from .conftest import MINI, write

runner = CliRunner()
PARAM = "alliances.pact.credibility=0.05:0.95"
CREDIBLE = '  credible: {kind: condition, when: "value(alliances.pact.credibility) > 0.5"}\n'


@pytest.fixture(scope="module")
def scn_path(tmp_path_factory):
    return write(tmp_path_factory.mktemp("small"), MINI.replace("outcomes:\n", "outcomes:\n" + CREDIBLE))


def test_sim_sweep_with_too_few_sets_saves_them_and_says_so(scn_path, tmp_path):
    out = tmp_path / "sw"
    r = runner.invoke(app, ["sweep", str(scn_path), "--method", "lhs", "--samples", "4", "--runs", "10", "--months",
                            "2", "--param", PARAM, "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert ("sim sweep: no indices: 4 parameter sets are too few for RBD-FAST indices (it needs at least 6: raise "
            f"--samples); the sets ran and are saved in {out}/sets.csv") in r.output
    assert "Traceback" not in r.output
    assert len(pd.read_csv(out / "sets.csv")) == 4
    assert pd.read_csv(out / "indices.csv")["S1"].isna().all()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["no_indices"].startswith("4 parameter sets are too few for RBD-FAST indices")
    assert summary["outcomes"]["credible"]["words"].endswith("no indices: 4 parameter sets are too few for RBD-FAST "
                                                             "indices (it needs at least 6: raise --samples).")


@pytest.mark.parametrize("sets", range(1, 18))
def test_every_latin_hypercube_size_is_analysed_or_said_too_small(sets, scn_path):
    sw = sim.sweep(sim.load_scenario(scn_path), "lhs", samples=sets, runs=10, months=1, params=[PARAM], seed=3)
    s1 = sw.indices("credible")["S1"].to_numpy()
    if sets < MIN_RBD_SETS:
        assert sw.too_small() is not None and np.isnan(s1).all()
    else:
        assert sw.too_small() is None and np.isfinite(s1).all()
        assert "no_indices" not in sw.summary()
