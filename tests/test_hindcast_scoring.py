"""Dyad-year panels, the regression baseline, scores, the paired bootstrap and the hindcast
report (issue 21), on small synthetic panels written for these tests.

Scores are checked against values computed by hand; the regression against the true
coefficients of the panel it was fitted on (within four standard errors from the Fisher
information); the bootstrap against cases whose answer is known.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis import scores as S
from sim.analysis.baseline import C_GRID, FEATURE_NAMES, cv_blocks, design, fit_baseline
from sim.analysis.forecasts import (
    BASE_RATE,
    align,
    base_rates,
    evaluate,
    read_forecasts,
    score_table,
    write_forecasts,
)
from sim.analysis.panel import FEATURES, OUTCOMES, Panel, parse_years, read_panel
from sim.scenario.errors import InputError

COLUMNS = [*FEATURES, "milex1", "milex2", "milper1", "milper2", *OUTCOMES]


def synthetic(n: int, seed: int = 0, years: tuple[int, int] = (1950, 1999), logit=None) -> pd.DataFrame:
    """A consistent panel: features drawn at random, ``onset`` from ``logit(frame)`` (or 3%),
    the other outcomes nested in it as the panel's definitions require."""
    rng = np.random.default_rng(seed)
    ny = years[1] - years[0] + 1
    per = math.ceil(n / ny)
    pairs = [(a, b) for a in range(2, 200) for b in range(a + 1, 201)][:per]
    rows = [(a, b, y) for y in range(years[0], years[1] + 1) for a, b in pairs][:n]
    df = pd.DataFrame(rows, columns=["ccode1", "ccode2", "year"])
    n = len(df)
    c1, c2 = rng.uniform(0.001, 0.2, n), rng.uniform(0.001, 0.2, n)
    mop = (rng.random(n) < 0.05).astype(int)
    df = df.assign(
        conttype=rng.choice([1, 2, 3, 4, 5, 6], n), major1=rng.integers(0, 2, n), major2=rng.integers(0, 2, n),
        cinc1=c1, cinc2=c2, milex1=np.nan, milex2=np.nan, milper1=np.nan, milper2=np.nan,
        log_cinc_ratio=np.abs(np.log(c1 / c2)), defense_pact=rng.integers(0, 2, n),
        def_major1=rng.integers(0, 2, n), def_major2=rng.integers(0, 2, n), mid_ongoing_prev=mop,
        hostlev_prev=np.where(mop == 1, rng.choice([2, 3, 4, 5], n), 0),
        fatal_prev=mop * rng.integers(0, 2, n),
        peace_years=np.where(mop == 1, 0, rng.integers(0, 51, n)),
        terr_prev=rng.integers(0, 2, n).astype(float), mids_past10=np.where(mop == 1, rng.integers(1, 11, n),
                                                                           rng.integers(0, 4, n)))
    df.loc[rng.random(n) < 0.03, ["log_cinc_ratio", "cinc1"]] = np.nan
    df.loc[rng.random(n) < 0.02, "terr_prev"] = np.nan
    p = 1 / (1 + np.exp(-logit(df))) if logit is not None else np.full(n, 0.03)
    onset = (rng.random(n) < p).astype(int)
    force = onset * (rng.random(n) < 0.6)
    df = df.assign(onset=onset, onset_force=force, onset_fatal=force * (rng.random(n) < 0.4),
                   onset_war=force * (rng.random(n) < 0.1))
    df["onset_occupation"] = onset * (rng.random(n) < 0.2)
    df["onset_occupy"] = df["onset_occupation"] * (rng.random(n) < 0.3)
    df["onset_terr"] = (onset * (rng.random(n) < 0.3)).astype(float)
    df["ongoing"] = np.maximum(onset, mop * (rng.random(n) < 0.7))
    df["hostlev"] = df["ongoing"] * rng.choice([2, 3, 4, 5], n)
    df["fatal_any"] = df["ongoing"] * (rng.random(n) < 0.3)
    df["fatal_unknown"] = df["ongoing"] * (rng.random(n) < 0.05)
    return df[COLUMNS]


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    df.to_csv(path, index=False, lineterminator="\n")
    return path


# ---------------------------------------------------------------------- scores by hand


def test_scores_by_hand():
    f, o = [0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]
    assert S.brier(f, o) == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04) / 4)
    assert S.log_score(f, o) == pytest.approx((math.log(0.9) + math.log(0.6) + math.log(0.35) + math.log(0.8)) / 4)
    assert S.auc(f, o) == pytest.approx(3 / 4)  # 0.35 beats 0.1 not 0.4; 0.8 beats both
    assert S.brier_skill(f, o, 0.5) == pytest.approx(1 - 0.158125 / 0.25)
    # ties count one half: yes {0.2, 0.6} against no {0.2, 0.2} -> (0.5 + 0.5 + 1 + 1) / 4
    assert S.auc([0.2, 0.2, 0.2, 0.6], [0, 1, 0, 1]) == pytest.approx(0.75)
    assert S.auc([0.3, 0.3], [0, 0]) != S.auc([0.3, 0.3], [0, 0])  # NaN: no yes


def test_scores_of_a_tiny_panel_through_the_pipeline(tmp_path):
    df = synthetic(6, seed=1)
    df["onset"] = [0, 0, 1, 1, 0, 0]
    for k in ("onset_force", "onset_fatal", "onset_war", "onset_occupation", "onset_occupy", "onset_terr"):
        df[k] = 0
    df["mid_ongoing_prev"] = [0, 0, 0, 0, 1, 0]
    df["hostlev_prev"] = [0, 0, 0, 0, 4, 0]
    df["fatal_prev"] = [0, 0, 0, 0, 1, 0]
    df["peace_years"] = [3, 3, 3, 3, 0, 3]
    df["mids_past10"] = [0, 0, 0, 0, 1, 0]
    df["ongoing"] = [0, 0, 1, 1, 1, 0]
    df["hostlev"] = [0, 0, 3, 4, 4, 0]
    df["fatal_any"] = [0, 0, 0, 1, 1, 0]
    df["fatal_unknown"] = 0
    panel = read_panel(write_csv(df, tmp_path / "tiny.csv"))
    fc = df[["ccode1", "ccode2", "year"]].assign(onset=[0.1, 0.4, 0.35, 0.8, 0.5, 0.5],
                                                 fatal_any=[0.1, 0.2, 0.3, 0.4, 0.99, 0.1])
    fc = read_forecasts(write_forecasts(fc.iloc[:5], tmp_path / "forecasts.csv"))
    rates = {"onset": 0.5, "fatal_any": 0.2}
    sc = align(panel, {"model": fc}, rates)
    assert len(sc.frame) == 5 and len(sc.notes) == 1 and "1 of the panel's 6 rows have no forecast" in sc.notes[0]
    t = score_table(sc, rates).set_index(["forecaster", "outcome", "period"])
    on = t.loc[("model", "onset", "all")]
    assert (on["n"], on["events"]) == (5, 2)
    f, o = np.array([0.1, 0.4, 0.35, 0.8, 0.5]), np.array([0, 0, 1, 1, 0])
    assert on["brier"] == pytest.approx(((f - o) ** 2).mean())
    assert on["log_score"] == pytest.approx(np.mean(np.log(np.where(o == 1, f, 1 - f))))
    assert on["auc"] == pytest.approx(4 / 6)  # 0.35 beats 0.1 only of {0.1, 0.4, 0.5}; 0.8 beats all three
    assert on["brier_skill"] == pytest.approx(1 - ((f - o) ** 2).mean() / 0.25)
    # fatal_any is scored only where no dispute ran the year before: not on row 4, whose fatal dispute runs on
    fa = t.loc[("model", "fatal_any", "all")]
    assert (fa["n"], fa["events"]) == (4, 1)
    f, o = np.array([0.1, 0.2, 0.3, 0.4]), np.array([0, 0, 0, 1])
    assert fa["brier"] == pytest.approx(((f - o) ** 2).mean()) and fa["auc"] == 1.0
    assert fa["brier_skill"] == pytest.approx(1 - ((f - o) ** 2).mean() / ((0.2 - o) ** 2).mean())
    assert t.loc[(BASE_RATE, "onset", "all"), "brier_skill"] == 0.0


def test_fatal_any_leaves_out_rows_with_a_dispute_the_year_before():
    df = synthetic(400, seed=2)
    panel = Panel(df, "p.csv", tuple(OUTCOMES), (1950, 1999))
    rates = base_rates(panel)
    keep = df["mid_ongoing_prev"] == 0
    assert rates["fatal_any"] == pytest.approx(df.loc[keep, "fatal_any"].mean())
    assert rates["onset"] == pytest.approx(df["onset"].mean())


# ----------------------------------------------------------------------- reliability


def test_reliability_bins_by_hand():
    f = [0.1] * 5 + [0.9] * 5
    o = [0, 0, 0, 0, 1, 1, 1, 1, 1, 0]
    t = S.reliability_equal(f, o, bins=2)
    assert list(t["count"]) == [5, 5] and list(t["events"]) == [1, 4]
    assert list(t["mean_forecast"]) == pytest.approx([0.1, 0.9])
    # Binomial(5, 0.1): 2.5% and 97.5% quantiles 0 and 2 events; Binomial(5, 0.9): 3 and 5
    assert list(t["expected_low"]) == pytest.approx([0.0, 0.6]) and list(t["expected_high"]) == pytest.approx([0.4, 1.0])
    assert list(t["inside"]) == [True, True]
    # 10 events in 100 rows forecast at 1%: Binomial(100, 0.01) has 97.5% quantile 3
    t = S.reliability_equal([0.01] * 100, [1] * 10 + [0] * 90, bins=1)
    assert t["expected_high"].iloc[0] == pytest.approx(0.03) and not t["inside"].iloc[0]


def test_reliability_bins_have_equal_counts_in_forecast_order():
    rng = np.random.default_rng(3)
    f = rng.random(1003) * 0.2
    o = (rng.random(1003) < f).astype(int)
    t = S.reliability_equal(f, o, bins=10)
    assert t["count"].sum() == 1003 and set(t["count"]) == {100, 101}
    assert (t["forecast_low"].to_numpy()[1:] >= t["forecast_high"].to_numpy()[:-1]).all()
    assert t["events"].sum() == o.sum()
    assert (t["expected_low"] <= t["mean_forecast"]).all() and (t["mean_forecast"] <= t["expected_high"]).all()


# ------------------------------------------------------------------------ bootstrap


def _two_forecasters(n: int = 6000, seed: int = 4):
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, 600, n)
    x = rng.normal(size=n)
    p = 1 / (1 + np.exp(-(-3 + 1.5 * x)))
    o = (rng.random(n) < p).astype(int)
    return p, o, groups


def test_bootstrap_of_identical_forecasters_is_exactly_zero():
    p, o, g = _two_forecasters()
    b = S.paired_bootstrap(p, p.copy(), o, g, o.mean(), replicates=300, seed=1)
    for m in ("brier_skill", "auc"):
        assert b[m]["difference"] == 0 and b[m]["ci_low"] == 0 and b[m]["ci_high"] == 0
        assert b[m]["a_ci"] == b[m]["b_ci"] and b[m]["a_ci"][0] < b[m]["a_ci"][1]


def test_bootstrap_sees_a_clearly_better_forecaster():
    p, o, g = _two_forecasters()
    noise = np.random.default_rng(9).normal(0, 1.5, len(p))
    worse = 1 / (1 + np.exp(-(np.log(p / (1 - p)) + noise)))  # the truth blurred: ranks and calibrates worse
    b = S.paired_bootstrap(p, worse, o, g, o.mean(), replicates=500, seed=2)
    for m in ("brier_skill", "auc"):
        assert b[m]["ci_low"] > 0 and b[m]["ci_low"] <= b[m]["difference"] <= b[m]["ci_high"]
    assert b["groups"] == len(np.unique(g))
    same = S.paired_bootstrap(p, worse, o, g, o.mean(), replicates=500, seed=2)
    assert same["auc"] == b["auc"]  # fixed seed: the same draws


def test_weighted_auc_equals_the_auc_of_the_resampled_rows():
    p, o, g = _two_forecasters(800, seed=5)
    f = np.round(p, 2)  # many ties
    gi, w = S._weights(g, 5, seed=3)
    got = S._weighted_auc(f, o.astype(float), gi, w)
    for r in range(5):
        rows = np.repeat(np.arange(len(f)), w[r][gi].astype(int))
        assert got[r] == pytest.approx(S.auc(f[rows], o[rows]), abs=1e-12)


# ------------------------------------------------------------------------- regression

TRUE = {"log_cinc_ratio": -0.3, "cont6": -1.5, "mids_past10": 0.35, "defense_pact": -0.6}
INTERCEPT = -2.5


def _true_logit(df: pd.DataFrame) -> np.ndarray:
    x = design(df, float(np.nanmedian(df["log_cinc_ratio"])))
    return INTERCEPT + sum(c * x[:, FEATURE_NAMES.index(k)] for k, c in TRUE.items())


def test_the_regression_recovers_the_coefficients_of_a_synthetic_panel():
    df = synthetic(30000, seed=6, logit=_true_logit)
    panel = Panel(df, "synthetic.csv", tuple(OUTCOMES), (1950, 1999))
    reg = fit_baseline(panel, outcomes=("onset",), C=1e4)
    coef = reg.coefficients().query("outcome == 'onset'").set_index("feature")["per_unit"]
    # standard errors from the Fisher information at the fitted probabilities, per unit of each feature
    x = np.column_stack([np.ones(len(df)), design(df, reg.scaling.lcr_median)])
    p = reg.predict(panel)["onset"].to_numpy()
    se = np.sqrt(np.diag(np.linalg.inv(x.T @ (x * (p * (1 - p))[:, None]))))
    truth = {"(intercept)": INTERCEPT, **{k: TRUE.get(k, 0.0) for k in FEATURE_NAMES}}
    for i, (name, value) in enumerate(truth.items()):
        assert abs(coef[name] - value) < 4 * se[i], (name, coef[name], value, se[i])
    fit = reg.fits["onset"]
    assert fit.events == df["onset"].sum() and fit.base_rate == pytest.approx(df["onset"].mean())


def test_penalty_is_chosen_by_time_ordered_validation_inside_the_training_years():
    assert cv_blocks(np.arange(1946, 1993)) == [(1969, 1976), (1977, 1984), (1985, 1992)]
    df = synthetic(6000, seed=7, logit=_true_logit)
    reg = fit_baseline(Panel(df, "s.csv", tuple(OUTCOMES), (1950, 1999)), outcomes=("onset", "onset_war"))
    for fit in reg.fits.values():
        assert fit.C in C_GRID and set(fit.cv_log_loss) == set(C_GRID)
        assert fit.cv_log_loss[fit.C] == min(fit.cv_log_loss.values())
    forecasts = reg.predict(Panel(df, "s.csv", tuple(OUTCOMES), (1950, 1999)))
    assert list(forecasts.columns) == ["ccode1", "ccode2", "year", "onset", "onset_war"]
    assert S.auc(forecasts["onset"], df["onset"]) > 0.7


def test_the_regression_without_scikit_learn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    df = synthetic(200, seed=8)
    with pytest.raises(InputError) as exc:
        fit_baseline(Panel(df, "s.csv", tuple(OUTCOMES), (1950, 1999)))
    text = exc.value.format("sim hindcast")
    assert "\n" not in text and "sim[research]" in text and "scikit-learn" in text


# ------------------------------------------------------------------------ bad panels


def _mutate(df: pd.DataFrame, row: int, col: str, value) -> pd.DataFrame:
    df = df.copy().astype({col: object})
    df.loc[row, col] = value
    return df


BAD = [
    # (name, change to the frame or text, expected "line:col"-free parts of the message)
    ("conttype", lambda d: _mutate(d, 3, "conttype", 7), ":5:", "conttype", "7 is not a COW contiguity type"),
    ("not a number", lambda d: _mutate(d, 4, "peace_years", "many"), ":6:", "peace_years", "'many' is not a number"),
    ("binary", lambda d: _mutate(d, 5, "onset", 2), ":7:", "onset", "2 is not 0 or 1"),
    ("negative", lambda d: _mutate(d, 6, "peace_years", -3), ":8:", "peace_years", "-3 is not"),
    ("empty cell", lambda d: _mutate(d, 2, "defense_pact", ""), ":4:", "defense_pact", "the cell is empty"),
    ("duplicate", lambda d: pd.concat([d, d.iloc[[2]]]), ":12:", "year", "already on line 4"),
    ("order", lambda d: d.assign(ccode1=d["ccode2"] + 1), ":2:", "ccode1", "is not below ccode2"),
    ("missing column", lambda d: d.drop(columns="terr_prev"), ":1:1:", "terr_prev", "no such column"),
    ("misspelt", lambda d: d.rename(columns={"mids_past10": "mids_past_10"}), ":1:1:", "mids_past10",
     "did you mean 'mids_past_10'?"),
    ("contradiction", lambda d: _mutate(d, 3, "onset_war", 1), ":5:", "onset_war", "where onset_force is 0"),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_panels_get_one_line_naming_line_and_column(tmp_path, case):
    _, change, where, col, words = case
    df = synthetic(10, seed=9)
    df[[k for k in OUTCOMES if k != "hostlev"]] = 0
    df["hostlev"] = df["ongoing"] = df["mid_ongoing_prev"] * 0
    path = write_csv(change(df), tmp_path / "panel.csv")
    with pytest.raises(InputError) as exc:
        read_panel(path)
    lines = exc.value.format("sim hindcast").splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{path}{where}") and f": {col}: " in lines[0] and words in lines[0], lines[0]


@pytest.mark.parametrize("text,words", [
    ("", "is empty"),
    (",".join(COLUMNS) + "\n", "has a header but no rows"),
    (None, "has 3 cells where the header has"),
    ("blank", "the line is blank"),
])
def test_bad_panel_files(tmp_path, text, words):
    path = tmp_path / "panel.csv"
    good = synthetic(4, seed=10).to_csv(index=False, lineterminator="\n")
    if text is None:
        text = good + "1,2,3\n"
    elif text == "blank":
        lines = good.splitlines()
        text = "\n".join([*lines[:2], "", *lines[2:]]) + "\n"
    path.write_text(text)
    with pytest.raises(InputError) as exc:
        read_panel(path)
    assert len(exc.value.problems) == 1 and words in exc.value.format(), exc.value.format()


def test_years_filter_and_years_outside_the_file(tmp_path):
    path = write_csv(synthetic(500, seed=11, years=(1980, 1999)), tmp_path / "panel.csv")
    panel = read_panel(path, years="1990-1995")
    assert panel.years == (1990, 1995) and panel.file_years == (1980, 1999)
    assert parse_years("1995") == (1995, 1995)
    for years, words in (("1975-1990", "reaches outside the years of"), ("2000-2002", "(1980-1999)"),
                         ("1990-", "is not a range of years"), ("1999-1990", "ends before it starts")):
        with pytest.raises(InputError) as exc:
            read_panel(path, years=years)
        text = exc.value.format("sim hindcast")
        assert text.startswith("sim hindcast: --years: ") and words in text and "\n" not in text


def test_a_panel_without_outcomes_reads_and_empty_outcome_columns_are_dropped(tmp_path):
    df = synthetic(50, seed=12)
    path = write_csv(df[list(FEATURES)], tmp_path / "later.csv")
    assert read_panel(path).outcomes == ()
    df["onset_terr"] = np.nan
    panel = read_panel(write_csv(df, tmp_path / "p.csv"))
    assert "onset_terr" not in panel.outcomes and "onset_terr" not in panel.frame.columns
    assert panel.frame["conttype"].dtype == np.int64 and panel.frame["log_cinc_ratio"].dtype == np.float64


def test_bad_forecast_files(tmp_path):
    key = synthetic(3, seed=13)[["ccode1", "ccode2", "year"]]
    path = write_csv(key.assign(onset=[0.1, 1.5, 0.2]), tmp_path / "f.csv")
    with pytest.raises(InputError, match=r"f\.csv:3:\d+: onset: 1\.5 is not a probability"):
        read_forecasts(path)
    path = write_csv(key.assign(onsett=0.1), tmp_path / "g.csv")
    with pytest.raises(InputError, match=r"onsett: is not a column of a forecasts table \(did you mean 'onset'\?\)"):
        read_forecasts(path)


# --------------------------------------------------------------------------- report


def test_evaluation_and_report_with_synthetic_forecasts(tmp_path):
    from sim.report.hindcast import write_report

    df = synthetic(6000, seed=14, logit=_true_logit)
    panel = Panel(df, "synthetic.csv", tuple(OUTCOMES), (1950, 1999))
    train, test = panel.select("1950-1984"), panel.select("1985-1999")
    reg = fit_baseline(train, outcomes=("onset", "onset_force"), C=1.0)
    truth = test.frame[["ccode1", "ccode2", "year"]].assign(onset=1 / (1 + np.exp(-_true_logit(test.frame))))
    ev = evaluate(test, {"truth": truth, "regression": reg.predict(test)}, reg.base_rates, reference="regression",
                  replicates=200, seed=3, details={"train_years": train.years})
    assert list(ev.comparisons["outcome"]) == ["onset"]  # the truth forecasts onset only
    all_rows = ev.scores[ev.scores["period"] == "all"].set_index(["forecaster", "outcome"])
    assert set(ev.scores["period"]) == {"all", "1985-1989", "1990-1999"}
    assert all_rows.loc[("regression", "onset_force"), "brier_skill_low"] < all_rows.loc[
        ("regression", "onset_force"), "brier_skill"] < all_rows.loc[("regression", "onset_force"), "brier_skill_high"]
    page = write_report(ev, tmp_path / "out")
    html = page.read_text()
    assert (tmp_path / "out" / "fig_reliability.png").stat().st_size > 10_000
    assert "truth − regression: Brier skill" in html and "data:image/png;base64," in html
    assert "1985-1989" in html and "Training years" in html and "1950–1984" in html
