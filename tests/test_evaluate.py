"""Your own designs through the vectorized engine (sim.evaluate, sim sweep --design), eFAST
and delta wired through it, and honest indices (flags, drivers, second order on request)."""

from __future__ import annotations

import math
import warnings
from typing import Literal

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.outcomes import Detection
from sim.parts import OutcomeSpec, declare_state, register, register_outcome, scoped
from sim.rules import RuleParams
from sim.scenario.values import P, default

from .conftest import MINI, load_text, write
from .test_research import CREDIBLE, LEVERED, levered

# ------------------------------------------------------------ sim.evaluate


def test_evaluate_on_a_design_equals_sweep_on_the_same_sets(tmp_path):
    scn = levered(tmp_path)
    kw = dict(seed=5, months=4, chunk_size=70)
    sw = sim.sweep(scn, "lhs", 12, 25, levers=["cc.reassure"], **kw)
    ev = sim.evaluate(scn, sw.experiments(), runs=25, **kw)
    assert ev.method == "design" and ev.sets == 12
    pd.testing.assert_frame_equal(ev.table(), sw.table(), check_exact=True)
    pd.testing.assert_frame_equal(ev.events(), sw.events(), check_exact=True)
    # experiments and outcomes on one index
    assert ev.experiments().index.equals(ev.outcomes_table().index) and ev.experiments().index.name == "set"
    assert ev.results.manifest["sweep"]["method"] == "design"
    assert ev.indices().empty and ev.ranking("clash") == [] and "a design of your own" in ev.words("clash")


def test_sim_sweep_design_runs_a_csv_and_matches_the_sweep(tmp_path):
    p = write(tmp_path, LEVERED.replace("outcomes:\n", "outcomes:\n" + CREDIBLE))
    scn = sim.load_scenario(p)
    sw = sim.sweep(scn, "lhs", 8, 20, levers=["cc.reassure"], seed=4, months=3)
    design = tmp_path / "design.csv"
    sw.experiments().to_csv(design)  # the set column and levers as True/False, as sets.csv writes them
    out = tmp_path / "ev"
    r = CliRunner().invoke(app, ["sweep", str(p), "--design", str(design), "--runs", "20", "--seed", "4", "--months",
                                 "3", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "design of your own: 8 parameter sets × 20 runs" in r.output
    got = pd.read_csv(out / "sets.csv", index_col="set")
    for o in sw.outcomes:
        assert np.array_equal(got[o].to_numpy(), sw.table()[o].to_numpy()), o
    assert (out / "report.html").is_file() and (out / "fig_inputs_credible.png").is_file()
    assert not list(out.glob("fig_indices_*"))  # a design has no indices
    r = CliRunner().invoke(app, ["discover", str(out), "--outcome", "credible"])
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("text, message", [
    ("alliances.pact.credibilty\n0.3\n", "design.csv:1:1: alliances.pact.credibilty: is not a numeric parameter of "
                                         "mini (did you mean 'alliances.pact.credibility'?)"),
    ("set,alliances.pact.credibility\n0,0.3\n1,1.7\n", "design.csv:3:3: alliances.pact.credibility: 1.7 is not a "
                                                       "number from 0 to 1; correct it or drop the set"),
    ("alliances.pact.credibility,lever:cc.reassure\n0.3,yes\n", "design.csv:2:5: lever:cc.reassure: 'yes' is not 0 "
                                                               "or 1 (off or on, False or True)"),
    ("alliances.pact.credibility\nabc\n", "design.csv:2:1: alliances.pact.credibility: 'abc' is not a number; every "
                                          "set needs a value"),
    ("cc.reassure\n1\n", "cc.reassure: is not a numeric parameter of mini; a lever is written lever:cc.reassure"),
])
def test_a_bad_design_is_one_line_naming_the_cell_and_nothing_runs(tmp_path, text, message):
    p = write(tmp_path, LEVERED)
    design = tmp_path / "design.csv"
    design.write_text(text, encoding="utf-8")
    out = tmp_path / "ev"
    r = CliRunner().invoke(app, ["sweep", str(p), "--design", str(design), "--out", str(out)])
    assert r.exit_code == 2 and not out.exists()
    assert r.stderr.strip().endswith(message), r.stderr
    assert r.stderr.strip().startswith(str(design)) or "sim sweep" in r.stderr


def test_design_does_not_go_with_sampling_options(tmp_path):
    p = write(tmp_path, LEVERED)
    design = tmp_path / "design.csv"
    design.write_text("alliances.pact.credibility\n0.3\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["sweep", str(p), "--design", str(design), "--method", "lhs", "--lever", "cc.reassure"])
    assert r.exit_code == 2
    assert r.stderr.strip() == ("sim sweep: --design: --method, --lever cannot go with --design: the design's columns "
                                "say what varies and its rows are the sets")


def test_a_salib_problem_spec_is_a_design_and_takes_the_outputs_back(tmp_path):
    """scenario.problem() names SALib's outputs after the outcomes (it used to leave them
    Y1, Y2...: named by hand), and sim.evaluate runs its samples."""
    scn = levered(tmp_path)
    assert scn.problem().get("outputs") == list(scn.spec.outcomes)
    sp = scn.problem(outputs=["credible", "clash"])
    sp.sample_latin(40, seed=3)
    ev = sim.evaluate(scn, sp, runs=30, seed=2, months=2)
    y = ev.outputs(sp)
    assert y.shape == (40, 2)
    assert np.array_equal(y[:, 0], ev.table()["credible"].to_numpy())
    sp.set_results(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sp.analyze_rbd_fast(M=2, seed=1)
    assert set(sp.analysis) == {"credible", "clash"}
    with pytest.raises(sim.InputError, match="no outcome 'clsh' \\(did you mean 'clash'\\?\\)"):
        scn.problem(outputs=["clsh"])


# ----------------------------------------------------- eFAST and delta

ISHIGAMI_S1 = (0.3139, 0.4424, 0.0)  # a = 7, b = 0.1 (Saltelli et al. 2008)
ISHIGAMI_ST = (0.5576, 0.4424, 0.2437)


def ishigami(x: np.ndarray) -> np.ndarray:
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_efast_recovers_the_ishigami_indices_through_the_sweep_analysis():
    """The sampler and analyser the sweep wires (sample(..., "fast"), analyze("fast")), on a
    function evaluated directly: its indices are known in closed form."""
    from sim.analysis.design import Input, problem, sample
    from sim.analysis.sweep import analyze
    from sim.scenario.values import Dist

    inputs = [Input(f"x{i}", Dist("uniform", (-math.pi, math.pi))) for i in (1, 2, 3)]
    X, values = sample(inputs, "fast", 1000, 1)
    assert X.shape == (3000, 3)
    prob = {k: v for k, v in problem(inputs).items() if k in ("num_vars", "names", "bounds", "dists")}
    cols, _ = analyze("fast", prob, X, ishigami(values), 1)
    assert np.allclose(cols["S1"], ISHIGAMI_S1, atol=0.02), cols["S1"]
    assert np.allclose(cols["ST"], ISHIGAMI_ST, atol=0.03), cols["ST"]


def test_delta_recovers_the_first_order_indices_of_a_linear_function():
    from sim.analysis.design import Input, problem, sample
    from sim.analysis.sweep import analyze
    from sim.scenario.values import Dist

    inputs = [Input(f"x{i}", Dist("uniform", (0.0, 1.0))) for i in (1, 2, 3)]
    X, values = sample(inputs, "delta", 1000, 2)
    prob = {k: v for k, v in problem(inputs).items() if k in ("num_vars", "names", "bounds", "dists")}
    cols, _ = analyze("delta", prob, X, values[:, 0] + 2 * values[:, 1], 2)
    true = np.array([1 / 5, 4 / 5, 0.0])  # Var(x1) : Var(2 x2) = 1 : 4
    assert np.all(np.abs(cols["S1"] - true) <= 2 * cols["S1_conf"]), (cols["S1"], cols["S1_conf"])
    assert cols["delta"][1] > cols["delta"][0] > cols["delta"][2]


class IshiParams(RuleParams):
    """A coin whose chance of heads is the Ishigami function, mapped onto 0..1."""

    x1: P(-4, 4) = default(0.0, "first input")
    x2: P(-4, 4) = default(0.0, "second input")
    x3: P(-4, 4) = default(0.0, "third input")


class IshiOutcome(OutcomeSpec):
    kind: Literal["ishi"]


LO, HI = -10.75, 17.75  # the Ishigami function's range over [-pi, pi]^3, a little widened


def _ishi_parts():
    declare_state("ishi_heads", (), dtype="bool", init=False, doc="the Ishigami coin came up heads")

    @register("ishi", "coin", IshiParams, phase="escalation")
    def build(plan):
        def step(w):
            draw = w.stream("ishi").random(w.n)
            if w.elapsed == 0:
                x = np.column_stack([w.rp("ishi", k) for k in ("x1", "x2", "x3")])
                w.st.ishi_heads = draw < (ishigami(x) - LO) / (HI - LO)

        return step

    register_outcome("ishi", IshiOutcome, lambda o, plan: Detection(lambda w: w.st.ishi_heads),
                     lambda o, plan, name: "the Ishigami coin comes up heads")


ISHI = MINI.replace("outcomes:\n", "outcomes:\n  heads: {kind: ishi}\n") + """rules:
  ishi: {model: coin}
uncertainties:
  rules.ishi.x1: {uniform: [-3.14159265, 3.14159265]}
  rules.ishi.x2: {uniform: [-3.14159265, 3.14159265]}
  rules.ishi.x3: {uniform: [-3.14159265, 3.14159265]}
"""


def test_efast_through_the_engine_ranks_the_ishigami_inputs(tmp_path):
    """A rule whose outcome happens with probability (f(x) - lo) / (hi - lo), f the Ishigami
    function: an affine map leaves its Sobol indices as they are, and the sets' Monte Carlo
    noise (about 3% of the variance at 400 runs per set) lowers S1 and raises ST by about
    that share. eFAST with 257 sets per input (at 65 or 129 its estimate of x2 is off by
    0.2 to 0.4 even on the function itself: sin^2 aliases), every set 400 runs, in one
    Monte Carlo."""
    with scoped():
        _ishi_parts()
        scn = load_text(tmp_path, ISHI)
        sw = sim.sweep(scn, "fast", 257, 400, seed=3, months=1, chunk_size=20_000, backend="local")
        ind = sw.indices("heads").loc["heads"]
        share = sw.noise().loc["heads", "mc_share"]
    assert sw.sets == 257 * 3 and 0.01 < share < 0.1
    names = ["rules.ishi.x1", "rules.ishi.x2", "rules.ishi.x3"]
    s1, st = ind.loc[names, "S1"].to_numpy(), ind.loc[names, "ST"].to_numpy()
    assert np.all(np.abs(s1 - np.array(ISHIGAMI_S1)) < 0.1), s1
    assert np.all(np.abs(st - np.array(ISHIGAMI_ST)) < 0.1 + share), st
    assert s1[1] > s1[0] > s1[2] and st[0] > st[1] > st[2]
    assert [n for n, _, _ in sw.drivers("heads")][:2] == ["rules.ishi.x1", "rules.ishi.x2"]


def test_fast_needs_enough_sets_per_input(tmp_path):
    with pytest.raises(sim.InputError, match="an eFAST sample needs more than 64 sets per input \\(got 10; try 65"):
        sim.sweep(levered(tmp_path), "fast", 10, 5)


# ----------------------------------------------------------- honest indices


def test_indices_that_are_mostly_noise_are_flagged_and_never_named(tmp_path):
    """Two runs per set: the variance across sets is mostly Monte Carlo noise. Every index of
    such an outcome is flagged, no input is named as a driver, in the words, the table and
    the summary (before: "driven most by ... (total Sobol index 2.97 ± 1.02)")."""
    text = MINI.replace("outcomes:\n", "outcomes:\n" + CREDIBLE) + """uncertainties:
  alliances.pact.credibility: {uniform: [0.3, 0.7]}
  states.aa.resolve: {uniform: [0.4, 0.9]}
  states.bb.resolve: {uniform: [0.4, 0.9]}
"""
    sw = sim.sweep(load_text(tmp_path, text), "sobol", 16, 2, seed=1, months=6)
    nz = sw.noise()
    noisy = [o for o in sw.outcomes if nz.loc[o, "mc_share"] > 0.5]
    assert "clash" in noisy
    for o in noisy:
        df = sw.indices(o).loc[o]
        assert df["flag"].str.startswith("Monte Carlo noise is").all() and not df["driver"].any()
        assert sw.drivers(o) == []
        words = sw.words(o)
        assert "no input is named as a driver" in words and "driven most" not in words
        assert sw.summary()["outcomes"][o]["drivers"] == []
    # credibility alone decides `credible` (a threshold at 0.5): little noise, a clear driver
    assert "credible" not in noisy
    assert [n for n, _, _ in sw.drivers("credible")][:1] == ["alliances.pact.credibility"]


def test_an_index_outside_zero_to_one_beyond_its_interval_is_flagged():
    from sim.analysis.sweep import _flags

    assert _flags("sobol", {"S1": -0.3, "S1_conf": 0.1, "ST": 0.2, "ST_conf": 0.1}, 0.1) == ["S1 -0.30 ± 0.10 is below 0"]
    assert _flags("sobol", {"S1": 0.2, "S1_conf": 0.1, "ST": 2.94, "ST_conf": 1.0}, 0.1) == ["ST 2.94 ± 1.00 is above 1"]
    assert _flags("sobol", {"S1": -0.05, "S1_conf": 0.1, "ST": 2.94, "ST_conf": 5.9}, 0.1) == []  # within their intervals
    assert _flags("sobol", {"S1": 0.2, "S1_conf": 0.1, "ST": 0.3, "ST_conf": 0.1}, 0.7) == [
        "Monte Carlo noise is 70% of the variance"]


def test_flagged_indices_show_in_the_table_the_figure_and_the_report(tmp_path):
    from sim.report.sweep import index_bars, write_sweep_report

    text = MINI + """uncertainties:
  alliances.pact.credibility: {uniform: [0.3, 0.7]}
  states.aa.resolve: {uniform: [0.4, 0.9]}
"""
    sw = sim.sweep(load_text(tmp_path, text), "sobol", 8, 2, seed=1, months=6)
    fig = index_bars(sw, "clash")
    ax = fig.axes[0]
    assert "FLAGGED: Monte Carlo noise is" in ax.get_title().replace("\n", " ")
    assert all(p.get_hatch() == "///" for p in ax.patches if p.get_width() != 0)
    assert "flagged: not to be trusted" in [t.get_text() for t in ax.get_legend().get_texts()]
    folder = sw.save(tmp_path / "sw", report=write_sweep_report)
    html = (folder / "report.html").read_text()
    assert "<h2>Indices</h2>" in html and "Monte Carlo noise is" in html
    idx = pd.read_csv(folder / "indices.csv")
    assert {"flag", "driver"} <= set(idx.columns)
    r = CliRunner().invoke(app, ["sweep", str(write(tmp_path, text, "n.yaml")), "--samples", "8", "--runs", "2",
                                 "--months", "6", "--seed", "1", "--no-report", "--out", str(tmp_path / "cli")])
    assert r.exit_code == 0, r.output
    assert "flagged]" in r.output and "Flagged: indices not to be trusted" in r.output


# ------------------------------------------------------------ sim rerun of the new designs


def test_a_fast_sweep_reruns_and_a_design_of_your_own_says_how_to_run_it_again(tmp_path):
    """sim rerun reads a sweep's manifest (sim.manifests): an eFAST sweep is drawn again from its
    seed and reproduces byte for byte; a design of your own is not a sample, so its folder
    cannot be rerun and the one line says what to do instead."""
    p = write(tmp_path, LEVERED)
    out = tmp_path / "fast"
    r = CliRunner().invoke(app, ["sweep", str(p), "--method", "fast", "--samples", "65", "--runs", "4", "--months", "2",
                                 "--seed", "3", "--no-report", "--out", str(out)])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["rerun", str(out), "--out", str(tmp_path / "again")])
    assert r.exit_code == 0, r.output
    assert "Reproduced: sets.csv, sample.csv, indices.csv, noise.csv, summary.json are identical" in r.output
    design = tmp_path / "design.csv"
    design.write_text("alliances.pact.credibility\n0.3\n0.6\n", encoding="utf-8")
    own = tmp_path / "own"
    r = CliRunner().invoke(app, ["sweep", str(p), "--design", str(design), "--runs", "4", "--months", "2",
                                 "--no-report", "--out", str(own)])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["rerun", str(own), "--out", str(tmp_path / "own-again")])
    assert r.exit_code == 2 and not (tmp_path / "own-again").exists()
    assert r.stderr.strip() == (f"{own / 'manifest.json'}: sweep.method: 'design': a sweep of a design of your own "
                                f"({design}) is not drawn from a seed, so it cannot be rerun from its folder; run "
                                "`sim sweep SCENARIO --design FILE.csv` again with the same --seed and --runs")


def test_a_design_that_is_no_table_is_one_problem_not_a_traceback(tmp_path):
    """{path: value} (a value where a column of them goes): pandas cannot make a table of it."""
    scn = levered(tmp_path)
    with pytest.raises(sim.InputError) as info:
        sim.evaluate(scn, {"alliances.pact.credibility": 0.3}, runs=5, months=2)
    assert str(info.value).startswith("sim: design: expected a DataFrame (or a mapping of columns) with one row per "
                                      "parameter set, the path of such a CSV, or a SALib ProblemSpec with samples; "
                                      "pandas cannot make a table of it (")
