"""Research workflows: sweeps in one vectorized Monte Carlo, known Sobol indices, adaptive
precision, per-replicate tables, conditional combinations, comparison, discovery, EMA."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.outcomes import Detection
from sim.parts import OutcomeSpec, declare_state, register, register_outcome, scoped
from sim.results import precise_enough
from sim.rules import RuleParams
from sim.scenario.values import P, default

from .conftest import MINI, load_text, write

LEVERED = MINI + """levers:
  cc:
    reassure: {description: Reassure the pact, effect: {set: {alliances.pact.credibility: 0.9}}}
uncertainties:
  alliances.pact.credibility: {uniform: [0.05, 0.45], source: {assumption: a wide range}}
  states.aa.resolve: {uniform: [0.4, 0.9]}
"""
CREDIBLE = '  credible: {kind: condition, when: "value(alliances.pact.credibility) > 0.5"}\n'


def levered(tmp_path):
    return load_text(tmp_path, LEVERED.replace("outcomes:\n", "outcomes:\n" + CREDIBLE))


# ----------------------------------------------------------------- sweeps


def test_a_lever_switched_across_sets_acts_only_in_the_sets_where_it_is_on(tmp_path):
    sw = sim.sweep(levered(tmp_path), "grid", 2, 50, levers=["cc.reassure"], seed=1, chunk_size=70, months=3)
    tab = sw.table()
    assert len(tab) == 8 and (tab["runs"] == 50).all()  # 2 x 2 levels x lever on/off
    on = tab["lever:cc.reassure"]
    assert (tab.loc[on, "credible"] == 1.0).all() and (tab.loc[~on, "credible"] == 0.0).all()
    assert sw.results.runs == 400 and sw.results.manifest["sweep"]["sets"] == 8


def test_a_sweep_gives_the_same_table_on_every_backend(tmp_path):
    scn = levered(tmp_path)
    kw = dict(levers=["cc.reassure"], seed=5, chunk_size=60, months=6)
    local = sim.sweep(scn, "lhs", 12, 20, backend="local", **kw)
    procs = sim.sweep(scn, "lhs", 12, 20, backend="processes", workers=2, **kw)
    pd.testing.assert_frame_equal(local.table(), procs.table())
    pd.testing.assert_frame_equal(local.indices(), procs.indices())
    assert procs.results.manifest["workers"] == 2


@pytest.mark.slow
def test_a_sweep_on_dask_matches_in_process(tmp_path):
    scn = levered(tmp_path)
    kw = dict(seed=5, chunk_size=60, months=6)
    local = sim.sweep(scn, "sobol", 4, 20, backend="local", **kw)
    dask = sim.sweep(scn, "sobol", 4, 20, backend="dask", workers=2, **kw)
    pd.testing.assert_frame_equal(local.table(), dask.table())


def test_sweep_inputs_are_checked_with_clear_errors(tmp_path):
    scn = levered(tmp_path)
    with pytest.raises(sim.InputError, match="power of 2"):
        sim.sweep(scn, "sobol", 6, 10)
    with pytest.raises(sim.InputError, match="'alliances.pact.credibilty' is not a numeric parameter.*did you mean"):
        sim.sweep(scn, "lhs", 6, 10, params=["alliances.pact.credibilty=0.1:0.3"])
    with pytest.raises(sim.InputError, match="outside the parameter's range"):
        sim.sweep(scn, "lhs", 6, 10, params={"alliances.pact.credibility": (0.1, 3.0)})
    with pytest.raises(sim.InputError, match="declares no uncertainties"):
        sim.sweep(load_text(tmp_path, MINI), "lhs", 6, 10)
    r = CliRunner().invoke(app, ["sweep", str(write(tmp_path, LEVERED, "l.yaml")), "--method", "sobl"])
    assert r.exit_code == 2 and "sim sweep: --method: must be one of sobol, morris, lhs, grid" in r.output
    r = CliRunner().invoke(app, ["sweep", str(write(tmp_path, LEVERED, "l2.yaml")), "--param", "x=1"])
    assert r.exit_code == 2 and "--param: 'x=1': give a range as PATH=LO:HI" in r.output



def test_a_whole_number_parameter_takes_whole_ranges_in_a_sweep_and_in_a_file(tmp_path):
    """Fractional bounds used to be rounded silently by `--param` and refused in a file:
    now refused in both, each with the nearest whole-number range."""
    scn = levered(tmp_path)
    path = "alliances.pact.trigger_level"
    with pytest.raises(sim.InputError) as exc:
        sim.sweep(scn, "lhs", 6, 10, params={path: (1.5, 4.2)})
    assert exc.value.problems[0].message == f"'{path}=1.5:4.2': this parameter is a whole number; use 2:4"
    out = tmp_path / "sw"
    r = CliRunner().invoke(app, ["sweep", str(write(tmp_path, LEVERED, "w.yaml")), "--method", "lhs", "--samples", "6",
                                 "--param", f"{path}=2.2:2.8", "--out", str(out)])
    assert r.exit_code == 2 and not out.exists()
    assert r.stderr.strip() == f"sim sweep: --param: '{path}=2.2:2.8': this parameter is a whole number; use 2:3"
    text = LEVERED.replace("  states.aa.resolve: {uniform: [0.4, 0.9]}", f"  {path}: {{uniform: [1.5, 4.2]}}")
    with pytest.raises(sim.InputError) as exc:
        load_text(tmp_path, text)
    (p,) = exc.value.problems
    assert p.path == f"uncertainties.{path}" and p.mark.line > 0
    assert p.message == "uniform gives fractional values; this parameter is a whole number: use {choice: [2, 3, 4]}"
    # whole bounds: the whole numbers from 2 to 4, equally likely (rounding a uniform draw gave 2 and 4 half as often)
    sw = sim.sweep(scn, "lhs", 300, 1, params={path: (2, 4)}, months=1, seed=3)
    counts = sw.table()[path].value_counts().to_dict()
    assert set(counts) == {2, 3, 4} and all(abs(n - 100) <= 15 for n in counts.values()), counts


# Known Sobol indices: a rule whose outcome happens with probability x1 * x2, x1 and x2
# uniform on [0, 1]. Var(x1 x2) = 1/9 - 1/16 = 7/144; V1 = Var(x1/2) = 3/144, so
# S1 = 3/7 for each input and ST = 1 - S1(other) = 4/7.
S1_TRUE, ST_TRUE = 3 / 7, 4 / 7


class CoinParams(RuleParams):
    """A coin whose chance of heads is x1 * x2."""

    x1: P(0, 1) = default(0.5, "first factor of the chance")
    x2: P(0, 1) = default(0.5, "second factor of the chance")


class CoinOutcome(OutcomeSpec):
    kind: Literal["coin"]


def _coin_parts():
    declare_state("coin_heads", (), dtype="bool", init=False, doc="the coin came up heads")

    @register("coin", "flip", CoinParams, phase="escalation")
    def build(plan):
        def step(w):
            draw = w.stream("coin").random(w.n)  # for every replicate (stream alignment)
            if w.elapsed == 0:
                w.st.coin_heads = draw < w.rp("coin", "x1") * w.rp("coin", "x2")

        return step

    register_outcome("coin", CoinOutcome, lambda o, plan: Detection(lambda w: w.st.coin_heads),
                     lambda o, plan, name: "the coin comes up heads")


COIN = MINI + """rules:
  coin: {model: flip}
uncertainties:
  rules.coin.x1: {uniform: [0, 1]}
  rules.coin.x2: {uniform: [0, 1]}
""" + "  heads: {kind: coin}\n"


def test_sobol_indices_of_a_known_function_are_recovered(tmp_path):
    with scoped():
        _coin_parts()
        scn = load_text(tmp_path, COIN.replace("  heads: {kind: coin}\n", "").replace("outcomes:\n", "outcomes:\n  heads: {kind: coin}\n"))
        sw = sim.sweep(scn, "sobol", 128, 200, seed=11, months=1, chunk_size=5000, backend="local")
        ind = sw.indices("heads").loc["heads"]
        assert sw.sets == 128 * 4  # first and total order only, by default: N(D+2) sets
        assert len(sw.interactions()) == 0
        for x in ("rules.coin.x1", "rules.coin.x2"):
            r = ind.loc[x]
            assert abs(r["S1"] - S1_TRUE) <= r["S1_conf"], (x, r["S1"], r["S1_conf"])
            assert abs(r["ST"] - ST_TRUE) <= r["ST_conf"], (x, r["ST"], r["ST_conf"])
            assert r["S1_conf"] < 0.2  # precise enough that the check means something
            assert r["driver"] and r["flag"] == ""
        # second order on request: N(2D+2) sets, and then reported: S2 = 1 - 2 S1 = 1/7
        sw2 = sim.sweep(scn, "sobol", 128, 200, seed=11, months=1, chunk_size=5000, backend="local", second_order=True)
        assert sw2.sets == 128 * 6
        inter = sw2.interactions("heads").loc["heads"].loc["rules.coin.x1"].loc["rules.coin.x2"]
        assert abs(inter["S2"] - (1 - 2 * S1_TRUE)) <= inter["S2_conf"], (inter["S2"], inter["S2_conf"])
        assert "interactions" in sw2.summary()["outcomes"]["heads"] and "interactions" not in sw.summary()["outcomes"]["heads"]
        nz = sw.noise().loc["heads"]
        # noise variance p(1-p)/(R-1) averaged: E[p(1-p)] = 1/4 - 1/9 = 5/36 -> share ~ (5/36/199) / (7/144)
        assert nz["mc_share"] == pytest.approx((5 / 36 / 199) / (7 / 144), rel=0.35)
        # the table's probabilities follow x1 * x2 within Monte Carlo error
        tab = sw.table()
        err = tab["heads"] - tab["rules.coin.x1"] * tab["rules.coin.x2"]
        assert abs(err.mean()) < 4 * np.sqrt(5 / 36 / 200 / len(tab))


def test_morris_and_the_sweep_folder(tmp_path):
    from sim.analysis.sweep_io import read_sweep
    from sim.report.sweep import write_sweep_report

    sw = sim.sweep(levered(tmp_path), "morris", 4, 20, levers=["cc.reassure"], seed=2, months=4)
    ind = sw.indices("credible").loc["credible"]
    # the lever alone decides it: every Morris step (2/3 of the unit range at 4 levels) crosses 0.5,
    # so each elementary effect is 1 / (2/3)
    assert ind.loc["lever:cc.reassure", "mu_star"] == pytest.approx(1.5)
    assert ind.loc["states.aa.resolve", "mu_star"] == 0.0
    folder = sw.save(tmp_path / "sweep", report=write_sweep_report)
    for f in ("sets.csv", "indices.csv", "noise.csv", "sample.csv", "summary.json", "manifest.json", "report.html"):
        assert (folder / f).is_file(), f
    sets, summary = read_sweep(folder)
    assert summary["method"] == "morris" and summary["sets"] == len(sets) == 4 * 4
    assert summary["outcomes"]["credible"]["ranking"][0]["input"] == "lever:cc.reassure"
    assert "driven most by lever cc.reassure" in summary["outcomes"]["credible"]["words"]


@pytest.mark.pythons
def test_sim_sweep_writes_a_folder_and_replicates(tmp_path):
    p = write(tmp_path, LEVERED.replace("outcomes:\n", "outcomes:\n" + CREDIBLE))
    out = tmp_path / "sw"
    r = CliRunner().invoke(app, ["sweep", str(p), "--method", "lhs", "--samples", "10", "--runs", "15", "--lever",
                                 "cc.reassure", "--months", "3", "--out", str(out), "--replicates", "--no-report"])
    assert r.exit_code == 0, r.output
    assert "lhs sweep: 10 parameter sets × 15 runs" in r.output
    reps = pd.read_parquet(out / "replicates.parquet")
    sets = pd.read_csv(out / "sets.csv", index_col="set")
    assert len(reps) == 150 and reps["set"].max() == 9
    by_set = reps.groupby("set")["credible"].mean()
    assert np.allclose(by_set.to_numpy(), sets["credible"].to_numpy())
    assert (reps.groupby("set")["lever:cc.reassure"].nunique() == 1).all()


# ------------------------------------------------------- adaptive precision


def test_adaptive_precision_stops_at_the_first_chunk_that_reaches_the_target(tmp_path):
    scn = load_text(tmp_path, MINI)
    res = sim.run(scn, runs=20_000, seed=4, chunk_size=250, months=12, ci_halfwidth=0.03)
    assert res.complete and res.runs < 20_000 and res.runs % 250 == 0
    assert precise_enough(res, 0.03) and res.manifest["ci_target_reached"]
    before = sim.run(scn, runs=res.runs - 250, seed=4, chunk_size=250, months=12)
    assert not precise_enough(before, 0.03)
    plain = sim.run(scn, runs=res.runs, seed=4, chunk_size=250, months=12)
    assert plain.summary()["outcomes"] == res.summary()["outcomes"]
    procs = sim.run(scn, runs=20_000, seed=4, chunk_size=250, months=12, ci_halfwidth=0.03, backend="processes", workers=2)
    assert procs.runs == res.runs and procs.summary()["outcomes"] == res.summary()["outcomes"]
    with pytest.raises(sim.InputError, match="ci_halfwidth: must be a number between 0 and 0.5"):
        sim.run(scn, ci_halfwidth=0.7)


def test_sim_run_adaptive_with_replicates_and_its_rerun(tmp_path):
    p = write(tmp_path, MINI)
    out = tmp_path / "a"
    r = CliRunner().invoke(app, ["run", str(p), "--ci-halfwidth", "0.04", "--chunk-size", "200", "--months", "12",
                                 "--replicates", "--out", str(out), "--no-report"])
    assert r.exit_code == 0, r.output
    import json

    s = json.loads((out / "summary.json").read_text())
    m = json.loads((out / "manifest.json").read_text())
    assert m["ci_halfwidth"] == 0.04 and m["ci_target_reached"] and s["runs"] < m["runs_requested"] == 1_000_000
    assert len(pd.read_parquet(out / "replicates.parquet")) == s["runs"]
    r = CliRunner().invoke(app, ["rerun", str(out), "--out", str(tmp_path / "b")])
    assert r.exit_code == 0 and "Reproduced" in r.output, r.output
    r = CliRunner().invoke(app, ["run", str(p), "--ci-halfwidth", "2"])
    assert r.exit_code == 2 and "sim run: --ci-halfwidth: must be a number between 0 and 0.5" in r.output


def test_an_adaptive_sweep_adds_rounds_until_every_set_is_precise(tmp_path):
    sw = sim.sweep(levered(tmp_path), "lhs", 4, 100, seed=3, months=2, ci_halfwidth=0.09)
    runs = sw.table()["runs"]
    assert (runs == runs.iloc[0]).all() and runs.iloc[0] % 100 == 0 and runs.iloc[0] > 100
    assert sw.results.manifest["sweep"]["rounds"] == runs.iloc[0] // 100


# ----------------------------------------------------- per-replicate data


def test_the_replicates_table_agrees_with_the_summary(tmp_path):
    scn = load_text(tmp_path, MINI.replace("credibility: 0.3", "credibility: {uniform: [0.1, 0.5]}"))
    res = sim.run(scn, runs=900, seed=8, chunk_size=200, replicates=True)
    df = res.replicates()
    probs = res.probabilities()
    assert len(df) == 900 and df["replicate"].tolist() == list(range(900))
    for o in probs.index:
        assert df[o].sum() == probs.loc[o, "hits"]
        assert df[f"{o}.month"].notna().sum() == probs.loc[o, "hits"]
        if probs.loc[o, "hits"]:
            assert df[f"{o}.month"].median() == pytest.approx(df.loc[df[o], f"{o}.month"].median())
    counts = res.counts()
    for ev in counts.index:
        assert df[f"events.{ev}"].sum() == counts.loc[ev, "total"]
    cred = df["alliances.pact.credibility"]
    assert cred.between(0.1, 0.5).all() and cred.nunique() > 800
    streamed = sim.run(scn, runs=900, seed=8, chunk_size=200, replicates=tmp_path / "r.parquet")
    table = next(c for c in streamed.consumers if hasattr(c, "frame"))
    assert table.frames == []  # nothing kept in memory: streamed to the file per chunk
    pd.testing.assert_frame_equal(streamed.replicates(), df)
    with pytest.raises(ValueError, match="replicates=True"):
        sim.run(scn, runs=10).replicates()


def test_conditional_on_combinations_of_outcomes(tmp_path):
    res = sim.run(load_text(tmp_path, MINI), runs=3000, seed=2, replicates=True)
    df = res.replicates()
    both = res.conditional(["clash", "not war"])
    sel = df[df["clash"] & ~df["war"]]
    assert both["given_runs"].iloc[0] == len(sel)
    assert both.loc["frozen", "probability"] == pytest.approx(sel["frozen"].mean())
    either = res.conditional(["war", "taken"], how="any")
    assert either["given_runs"].iloc[0] == int((df["war"] | df["taken"]).sum())
    assert res.conditional("clash").equals(res.conditional(["clash"]))
    with pytest.raises(KeyError, match="no outcome 'clsh'"):
        res.conditional(["clsh"])


# -------------------------------------------------------------- compare


def test_a_scenario_compared_with_itself_differs_by_exactly_zero(tmp_path):
    cmp = sim.compare(load_text(tmp_path, MINI), runs=800, seed=3)
    df = cmp.outcomes()
    assert cmp.paired and (df["diff"] == 0).all()
    # no replicate differs: Newcombe's paired interval is symmetric about 0 and narrow (under half a point at
    # 800 runs; it says how far apart the two probabilities could still be, so it is not [0, 0])
    assert np.allclose(df["ci_low"], -df["ci_high"]) and (df["ci_high"] > 0).all() and (df["ci_high"] < 0.006).all()
    assert (df["p_value"] == 1).all() and not df["significant"].any()
    assert (df["only_a"] == 0).all() and (df["only_b"] == 0).all()


def test_a_lever_that_makes_an_outcome_certain_is_detected_with_the_right_sign(tmp_path):
    cmp = sim.compare(levered(tmp_path), b_levers=["cc.reassure"], runs=500, seed=3, months=6)
    r = cmp.outcomes().loc["credible"]
    assert r["p_a"] == 0 and r["p_b"] == 1 and r["diff"] == 1 and r["significant"]
    assert r["p_value"] < 1e-100 and r["only_b"] == 500
    back = sim.compare(levered(tmp_path), a_levers=["cc.reassure"], runs=500, seed=3, months=6).outcomes().loc["credible"]
    assert back["diff"] == -1 and back["ci_high"] < 0


def test_an_effect_below_monte_carlo_resolution_is_not_called_significant(tmp_path):
    cmp = sim.compare(load_text(tmp_path, MINI), b_set={"alliances.pact.credibility": 0.302}, runs=1500, seed=3)
    df = cmp.outcomes()
    assert not df["significant"].any(), df[["diff", "p_value"]]
    indep = sim.compare(load_text(tmp_path, MINI), runs=1500, seed=3, independent=True)
    assert not indep.paired and not indep.outcomes()["significant"].any()
    assert (indep.outcomes()["diff"] != 0).any()  # different seeds: the noise is there, and not called an effect


@pytest.mark.pythons
def test_sim_compare_writes_a_report(tmp_path):
    p = write(tmp_path, LEVERED.replace("outcomes:\n", "outcomes:\n" + CREDIBLE))
    out = tmp_path / "cmp"
    r = CliRunner().invoke(app, ["compare", str(p), "--b-lever", "cc.reassure", "--runs", "300", "--months", "4",
                                 "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "different" in r.output and "value(alliances.pact.credibility) > 0.5: +100.0 points" in r.output
    for f in ("comparison.csv", "counts.csv", "summary.json", "manifest.json", "report.html", "fig_side_by_side.png"):
        assert (out / f).is_file(), f
    r = CliRunner().invoke(app, ["compare", str(p), "--b-lever", "cc.nope"])
    assert r.exit_code == 2 and "--b-lever: 'cc.nope': cc has no lever 'nope'" in r.output


# ------------------------------------------------------------- discover


@pytest.mark.pythons
def test_discovery_finds_the_region_where_the_outcome_happens(tmp_path):
    text = MINI.replace("outcomes:\n", "outcomes:\n" + CREDIBLE) + """uncertainties:
  alliances.pact.credibility: {uniform: [0.0, 1.0]}
  states.aa.resolve: {uniform: [0.4, 0.9]}
"""
    sw = sim.sweep(load_text(tmp_path, text), "lhs", 200, 10, seed=1, months=1)
    sw.save(tmp_path / "sw")
    r = CliRunner().invoke(app, ["discover", str(tmp_path / "sw"), "--outcome", "credible"])
    assert r.exit_code == 0, r.output
    from sim.analysis.discover import discover

    found = discover(tmp_path / "sw", "credible")
    box = found["prim"]
    assert [c[:2] for c in box.conditions] == [("alliances.pact.credibility", ">=")]
    # the box keeps every set where it happens (credibility > 0.5), peeled in steps of 5% of the sets
    assert 0.4 < box.conditions[0][2] <= 0.5
    assert box.coverage == 1.0 and box.density > 0.9
    best = found["cart"][0]
    assert best.density == 1.0 and best.coverage == 1.0 and best.conditions[0][:2] == ("alliances.pact.credibility", ">")
    assert "When alliances.pact.credibility >= 0.4" in r.output and "in 100% of runs" in r.output
    r = CliRunner().invoke(app, ["discover", str(tmp_path / "sw"), "--outcome", "credibel"])
    assert r.exit_code == 2 and "did you mean 'credible'" in r.output
    r = CliRunner().invoke(app, ["discover", str(tmp_path), "--outcome", "credible"])
    assert r.exit_code == 2 and "not a sweep folder" in r.output


# ------------------------------------------------------------------ EMA


@pytest.mark.pythons
def test_ema_workbench_runs_sim_as_a_model(tmp_path):
    ema = pytest.importorskip("ema_workbench")
    import sim.ema

    scn = levered(tmp_path)
    model = sim.ema.model(scn, outcomes=["credible", "clash"], runs=100, seed=2, levers=["cc.reassure"])
    assert [u.name for u in model.uncertainties] == ["alliances__pact__credibility", "states__aa__resolve"]
    experiments, outcomes = ema.perform_experiments(model, 3, policies=2)
    assert len(experiments) == 6 and set(outcomes) == {"credible", "clash"}
    on = experiments["lever__cc__reassure"].astype(bool).to_numpy()
    assert (outcomes["credible"][on] == 1).all() and (outcomes["credible"][~on] == 0).all()
    # one experiment is one Monte Carlo with the set's values fixed
    row = experiments.iloc[0]
    fixed = {"alliances.pact.credibility": np.full(100, row["alliances__pact__credibility"]),
             "states.aa.resolve": np.full(100, row["states__aa__resolve"])}
    from sim import montecarlo

    job = montecarlo.prepare(scn, runs=100, seed=2, fixed=fixed, switch={"cc.reassure": np.full(100, float(on[0]))})
    direct = montecarlo.execute(job, *montecarlo.backend_for(job, backend="local"))
    assert outcomes["clash"][0] == direct.probabilities().loc["clash", "probability"]


@pytest.mark.pythons
def test_a_sweep_exports_as_emas_experiments_and_outcomes(tmp_path):
    pytest.importorskip("ema_workbench")
    import sim.ema

    sw = sim.sweep(levered(tmp_path), "lhs", 6, 10, seed=1, months=2)
    experiments, outcomes = sim.ema.from_sweep(sw)
    assert list(experiments.columns[:2]) == ["alliances__pact__credibility", "states__aa__resolve"]
    assert len(experiments) == 6 and outcomes["clash"].shape == (6,)
    assert {"scenario", "policy", "model"} <= set(experiments.columns)


def test_scenario_problem_is_a_salib_problem_spec(tmp_path):
    spec = levered(tmp_path).problem(levers=["cc.reassure"])
    assert spec["names"] == ["alliances.pact.credibility", "states.aa.resolve", "lever:cc.reassure"]
    assert spec["bounds"] == [[0.05, 0.45], [0.4, 0.9], [0.0, 1.0]]


# -------------------------------------------------- headline uncertainty


def test_sim_run_uncertainty_shows_the_range_across_inputs(tmp_path):
    import json

    p = write(tmp_path, LEVERED.replace("outcomes:\n", "outcomes:\n" + CREDIBLE))
    out = tmp_path / "u"
    r = CliRunner().invoke(app, ["run", str(p), "--runs", "300", "--months", "6", "--uncertainty",
                                 "--uncertainty-sets", "16", "--uncertainty-runs", "50", "--out", str(out), "--no-report"])
    assert r.exit_code == 0, r.output
    s = json.loads((out / "summary.json").read_text())
    assert s["uncertainty"]["sets"] == 16 and len(s["uncertainty"]["inputs"]) == 2
    clash = s["outcomes"]["clash"]["across_inputs"]
    assert clash["p10"] <= clash["p90"] and "across plausible inputs" in clash["words"]
    assert "Across inputs" in r.output and "Moved most by" in r.output
    r = CliRunner().invoke(app, ["rerun", str(out), "--out", str(tmp_path / "again")])
    assert r.exit_code == 0 and "Reproduced" in r.output, r.output
    plain = tmp_path / "plain"
    r = CliRunner().invoke(app, ["run", str(p), "--runs", "300", "--months", "6", "--out", str(plain), "--no-report"])
    s2 = json.loads((plain / "summary.json").read_text())
    assert "uncertainty" not in s2 and "across_inputs" not in s2["outcomes"]["clash"]
    none = tmp_path / "none"
    r = CliRunner().invoke(app, ["run", str(write(tmp_path, MINI, "m.yaml")), "--runs", "100", "--uncertainty",
                                 "--out", str(none), "--no-report"])
    assert r.exit_code == 0 and "declares no uncertainties" in r.output


def test_replicates_record_drawn_event_and_policy_probabilities(tmp_path):
    """An event's or a lever policy's probability drawn from a distribution is a sampled
    input like any other: per-replicate runs and sweeps record it (they stopped with a
    KeyError traceback on the shipped suppliers and alignment scenarios)."""
    text = MINI + """events:
  - name: shock
    when: "true"
    once: false
    probability: {uniform: [0.1, 0.3]}
    effect: {add: {states.aa.resolve: 0.01}}
levers:
  aa:
    push:
      description: Push.
      effect: {add: {states.aa.resolve: 0.05}}
      policy: {probability: {beta: [2, 5]}}
"""
    scn = load_text(tmp_path, text)
    df = sim.run(scn, runs=300, seed=4, replicates=True).replicates()
    ev, pol = df["events[0].probability"], df["levers.aa.push.policy.probability"]
    assert ev.between(0.1, 0.3).all() and ev.nunique() > 250
    assert pol.between(0, 1).all() and pol.nunique() > 250
    sw = sim.sweep(scn, "lhs", 8, 20, params={"alliances.pact.credibility": (0.1, 0.5)}, seed=4)
    assert sw.table()["runs"].tolist() == [20] * 8
