"""Every run's months (`--trajectories`): derived from the recorded states' declarations,
streamed to Parquet chunk by chunk with provenance, reproducing the aggregate series
exactly, and handed to EMA as TimeSeriesOutcomes."""

from __future__ import annotations

import dataclasses
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.parts import registry
from sim.replicates import parquet_metadata
from sim.trajectories import aggregate

from .conftest import MINI, write
from .test_research import levered

pytest.importorskip("pyarrow")


@pytest.mark.parametrize("dtype, backend", [("float32", "local"), ("float64", "local"), ("float32", "processes")])
def test_the_parquet_read_back_reproduces_the_aggregate_series_exactly(mini, tmp_path, dtype, backend):
    path = tmp_path / "t.parquet"
    res = sim.run(mini, runs=700, seed=5, chunk_size=300, dtype=dtype, backend=backend, workers=2,
                  oversubscribe=True, trajectories=path)
    assert path.is_file() and not (tmp_path / "t.parquet.partial").exists()
    rebuilt = aggregate(path)
    assert set(rebuilt) == set(res.series)
    for k, v in res.series.items():
        assert rebuilt[k].dtype == v.dtype and np.array_equal(rebuilt[k], v), k  # bit for bit
    again = dataclasses.replace(res, series=rebuilt)
    pd.testing.assert_frame_equal(again.timeseries(), res.timeseries(), check_exact=True)


def test_the_table_holds_every_recorded_state_per_replicate_and_month(mini, tmp_path):
    path = tmp_path / "t.parquet"
    res = sim.run(mini, runs=250, seed=2, chunk_size=100, months=9, trajectories=path, replicates=True)
    df = res.trajectories()
    recorded = [sh.state for sh in registry().shows() if sh.record in ("mean", "counts")]
    assert len(df) == 250 * 9 and list(df.columns[:2]) == ["replicate", "month"]
    assert df["replicate"].is_monotonic_increasing and (df.groupby("replicate")["month"].apply(list) ==
                                                          pd.Series([list(range(1, 10))] * 250)).all()
    states = {c.split(".", 1)[0] for c in df.columns[2:]}
    kept = {s: res.series.get(s, res.series.get(f"{s}_counts")) for s in recorded}
    assert states == {s for s, v in kept.items() if v is not None and v.size}  # (no suppliers here: no shares)
    # a mean record keeps its value at the world's precision, a counts record its level itself
    assert df["level.front"].dtype == np.int8 and df["trust.bb.pact"].dtype == np.float32
    assert df["controller.land"].dtype == np.int16 and set(df["controller.land"].unique()) <= {0, 1}
    # the file and the in-memory table agree, and say where their numbers come from
    pd.testing.assert_frame_equal(pd.read_parquet(path), df)
    meta = parquet_metadata(path)
    assert meta["table"] == "trajectories" and meta["schema_version"] == 1
    prov = meta["provenance"]
    assert prov["seed"] == 2 and prov["scenario_sha256"] == mini.sha256() and prov["chunk_size"] == 100
    assert prov["versions"]["numpy"] == np.__version__ and prov["dtype"] == "float32"
    assert meta["states"]["level"]["record"] == "counts" and meta["states"]["level"]["levels"][3] == "fatal clash"
    assert meta["states"]["controller"]["levels"] == ["aa", "bb", "cc", "dd"] and meta["start"] == "2023-07"
    # a replicate whose front stands at rung 3 or more at the end of month m had its `clash` by month m
    # (the outcome also counts a clash that flared and eased within a month: the month's peak)
    reps = res.replicates().set_index("replicate")
    hit = df[df["level.front"] >= 3].groupby("replicate")["month"].min()
    assert len(hit) >= 10  # enough replicates for the check below not to be vacuous (20 with the fitted rates)
    clash = reps.loc[hit.index, "clash.month"]
    assert clash.notna().all() and (clash.to_numpy(dtype=int) <= hit.to_numpy()).all()


def test_a_runs_parquet_files_carry_its_provenance(mini, tmp_path):
    """Before: replicates.parquet's metadata held pandas' schema only."""
    path = tmp_path / "r.parquet"
    sim.run(mini, runs=100, seed=9, replicates=path).replicates()
    meta = parquet_metadata(path)
    assert meta["table"] == "replicates" and meta["provenance"]["seed"] == 9
    assert meta["provenance"]["scenario_sha256"] == mini.sha256() and "sim" in meta["provenance"]["versions"]


def test_sim_run_trajectories_writes_the_file_into_the_run_folder(mini_path, tmp_path):
    out = tmp_path / "run"
    r = CliRunner().invoke(app, ["run", str(mini_path), "--runs", "120", "--chunk-size", "50", "--trajectories",
                                 "--out", str(out), "--no-report"])
    assert r.exit_code == 0, r.output
    assert "trajectories.parquet" in r.output
    df = pd.read_parquet(out / "trajectories.parquet")
    assert df["replicate"].nunique() == 120
    m = json.loads((out / "manifest.json").read_text())
    meta = parquet_metadata(out / "trajectories.parquet")
    assert meta["provenance"]["scenario_sha256"] == m["scenario_sha256"] and meta["provenance"]["seed"] == m["seed"]
    ts = pd.read_csv(out / "timeseries.csv")
    shares = df.groupby("month")["level.front"].apply(lambda x: (x == 2).mean()).to_numpy()
    assert np.allclose(ts["front.rung2"].to_numpy(), shares, atol=5e-7)  # timeseries.csv writes 6 digits


def test_a_design_keeps_trajectories_with_their_set(tmp_path):
    scn = levered(tmp_path)
    ev = sim.evaluate(scn, {"alliances.pact.credibility": [0.1, 0.9], "lever:cc.reassure": [0, 1]}, runs=20,
                      months=3, seed=1, trajectories=True)
    df = ev.results.trajectories()
    assert list(df.columns[:3]) == ["replicate", "set", "month"] and sorted(df["set"].unique()) == [0, 1]


# ------------------------------------------------------------------- EMA


def test_emas_time_series_outcomes_receive_the_trajectories(tmp_path):
    ema = pytest.importorskip("ema_workbench")
    import sim.ema

    scn = levered(tmp_path)
    model = sim.ema.model(scn, outcomes=["clash"], runs=1, seed=2, series=["level", "trust.bb.pact"], months=8)
    names = [o.name for o in model.outcomes]
    assert names == ["clash", "TIME", "level__front", "trust__bb__pact"]
    assert [type(o).__name__ for o in model.outcomes] == ["ScalarOutcome"] + ["TimeSeriesOutcome"] * 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        experiments, outcomes = ema.perform_experiments(model, 3)
    assert outcomes["level__front"].shape == (3, 8) and outcomes["TIME"][0].tolist() == list(range(1, 9))
    # experiment 0 is one replicate with its parameter values: the same run through sim.evaluate
    row = experiments.iloc[0]
    ev = sim.evaluate(scn, {"alliances.pact.credibility": [row["alliances__pact__credibility"]],
                            "states.aa.resolve": [row["states__aa__resolve"]]}, runs=1, seed=2, months=8,
                      trajectories=True)
    df = ev.results.trajectories()
    assert np.array_equal(outcomes["level__front"][0], df["level.front"].to_numpy(dtype=float))
    assert np.allclose(outcomes["trust__bb__pact"][0], df["trust.bb.pact"].to_numpy(dtype=float))
    with pytest.raises(sim.InputError, match="no recorded series 'levl' \\(did you mean 'level'\\?\\)"):
        sim.ema.model(scn, series=["levl"])


def test_per_replicate_trajectories_go_to_emas_analysis(mini, tmp_path):
    pytest.importorskip("ema_workbench")
    import matplotlib

    matplotlib.use("Agg")
    import sim.ema

    path = tmp_path / "t.parquet"
    res = sim.run(mini, runs=60, seed=3, months=10, trajectories=path)
    exp, out = sim.ema.from_trajectories(path, series=["level", "deaths"])
    assert len(exp) == 60 and set(out) == {"TIME", "level__front", "deaths__front"}
    assert out["level__front"].shape == (60, 10) and out["TIME"].shape == (60, 10)
    df = res.trajectories()
    assert np.array_equal(out["deaths__front"][7], df[df["replicate"] == 7]["deaths.front"].to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import plotting

        fig, axes = plotting.lines(exp, out, outcomes_to_show=["level__front"], density=None)
    assert fig is not None
    exp2, out2 = sim.ema.from_trajectories(res)
    assert np.array_equal(out2["level__front"], out["level__front"]) and exp2["model"].iloc[0] == "mini"


def test_trajectories_need_pyarrow_only_for_a_file(mini):
    res = sim.run(mini, runs=30, seed=1, months=2, trajectories=True)
    assert len(res.trajectories()) == 60
    with pytest.raises(ValueError, match="kept no trajectories"):
        sim.run(mini, runs=10, months=1).trajectories()
    other = write(mini.path.parent, MINI, "other.yaml")
    assert other.exists()
