"""Ceasefires and local deals (sim.rules.deals, docs/MODEL.md §D3a) and their fit
(sim.analysis.dealfit, calibration ``mid-settlements-1946-1991``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.analysis import dealfit
from sim.analysis.calibrate import episodes, neutral_dyad
from sim.api import load_scenario
from sim.evidence.calibrations import calibration_key
from sim.rules.spells import SpellParams
from sim.seeding import chunk_sequence, root_sequence
from sim.world.compile import compile_plan
from sim.world.opening import opened


def _paths(escalation: dict, months: int = 60, runs: int = 400, seed: int = 7, territorial: bool = True) -> dict:
    """The neutral dyad (level 2 at the start) month by month: ladder and deal states."""
    scn = load_scenario(neutral_dyad({"escalation": escalation}, territorial=territorial))
    plan = compile_plan(scn.spec, scn.rules, months)
    out: dict[str, list] = {k: [] for k in ("level", "peak", "deaths", "settled", "deal_made", "deal_chance")}
    with opened(plan, runs, chunk_sequence(root_sequence(seed), 0), dtype=np.float64) as w:
        for _ in range(months):
            w.step()
            for k in out:
                out[k].append(np.array(getattr(w.st, k)[:, 0]))
        out = {k: np.stack(v) for k, v in out.items()}
        out["deal_events"] = int(w.counts["escalation.deal"].sum())
    return out


def test_the_deals_draw_from_their_own_stream_so_the_ladder_is_the_same_with_or_without_them():
    on = _paths({})
    off = _paths({"deal_base": -30.0, "deal_fatal": 0.0, "deal_territorial": 0.0})
    for k in ("level", "peak", "deaths", "settled"):
        np.testing.assert_array_equal(on[k], off[k], err_msg=k)
    assert on["deal_made"].sum() > 50 and on["deal_events"] == on["deal_made"].sum()
    assert off["deal_made"].sum() == 0
    # the same disputes eased in both, so a deal was drawn at the same moments
    np.testing.assert_array_equal(np.isnan(on["deal_chance"]), np.isnan(off["deal_chance"]))


def test_a_deal_ends_only_an_easing_dispute_and_leaves_the_conflict_unsettled():
    p = _paths({"deal_base": 3.0})
    none = _paths({"deal_base": -30.0})
    deal = p["deal_made"]
    assert deal.sum() > 50
    # a deal does not settle the conflict: settlements are those of a world without deals
    # (talks' agreements and seizures, which can still come later in the month of a deal)
    np.testing.assert_array_equal(p["settled"], none["settled"])
    assert (deal & p["settled"]).sum() < 0.05 * deal.sum()
    assert not (deal & np.isnan(p["deal_chance"])).any()  # only where a dispute eased
    # a deal is no ceasefire for good: disputes start again after one
    months, runs = np.nonzero(deal)
    again = [(p["level"][m + 1:, r] >= 2).any() for m, r in zip(months, runs, strict=True) if m + 1 < deal.shape[0]]
    assert np.mean(again) > 0.1  # within the months left (a quarter here)


def test_the_chance_of_a_deal_follows_its_equation():
    p = _paths({"deal_base": -1.0, "deal_fatal": 2.0, "deal_territorial": 0.5})
    q = p["deal_chance"][~np.isnan(p["deal_chance"])]
    expect = {1 / (1 + math.exp(-x)) for x in (-0.5, 1.5)}  # territorial, without and with deaths
    assert set(np.round(np.unique(q), 12)) <= {round(x, 12) for x in expect}
    assert len(np.unique(q)) == 2


@pytest.mark.parametrize("territorial", [False, True])
def test_a_higher_base_gives_more_deals_and_fewer_disputes_without_a_settlement(territorial):
    low = episodes({"escalation": {"deal_base": -3.0}}, runs=2000, seed=3, territorial=territorial)
    high = episodes({"escalation": {"deal_base": 0.0}}, runs=2000, seed=3, territorial=territorial)
    assert high.deal.mean() > low.deal.mean() + 0.2
    np.testing.assert_array_equal(low.eased, high.eased)  # same episodes (common random numbers)
    assert ((high.agreement | high.deal).mean()) > ((low.agreement | low.deal).mean())


def test_a_weight_on_deaths_raises_the_deals_of_fatal_episodes_only():
    base = episodes(runs=3000, seed=4)
    more = episodes({"escalation": {"deal_fatal": 3.0}}, runs=3000, seed=4)
    fatal = base.deaths >= 1
    assert more.deal[fatal].mean() > base.deal[fatal].mean() + 0.2
    np.testing.assert_array_equal(more.deal[~fatal], base.deal[~fatal])


def test_the_deal_coefficients_cite_their_documented_calibration():
    p = SpellParams()
    for name in ("deal_base", "deal_fatal", "deal_territorial"):
        src = getattr(p, name).source
        assert src.kind == "calibration" and calibration_key(src.note) == "mid-settlements-1946-1991", name


RUNS = 6000


@pytest.fixture(scope="module")
def sample():
    """Episodes of the shipped defaults, seeds other than the fit's (11, 12)."""
    return dealfit.simulate(RUNS, seeds=(21, 22))


def _se(s: dealfit.Sample, key: str, x: np.ndarray) -> float:
    """Standard error of a weighted share over the episodes of one subset (by component)."""
    m = {"all": np.ones_like(s.fatal), "fatal": s.fatal, "territorial": s.territorial}[key]
    var = 0.0
    for comp in (False, True):
        c = m & (s.territorial == comp)
        if not c.any():
            continue
        wc = s.weight[c].sum() / s.weight[m].sum()  # the component's weight in the subset
        p = x[c].mean()
        var += wc * wc * p * (1 - p) / c.sum()
    return math.sqrt(var)


def test_the_defaults_reproduce_the_1946_1991_negotiated_shares(sample):
    """The rule's drawn deals give the three GML-MID 1946-1991 shares the fit matched,
    within 4 Monte Carlo standard errors of this sample plus 2 of the fit's (40,000
    episodes per component)."""
    p = SpellParams()
    c = tuple(float(getattr(p, n).value) for n in ("deal_base", "deal_fatal", "deal_territorial"))
    drawn = sample.agreed | sample.deal
    got = sample.shares(negotiated=drawn)
    expected = sample.shares(c)
    lines, bad = [], []
    for key, target in dealfit.TARGETS.items():
        se = _se(sample, key, drawn.astype(float))
        tol = 4 * se + 2 * se * math.sqrt(RUNS / 40_000)
        lines.append(f"{key}: drawn {got[key]:.4f}, expected {expected[key]:.4f}, data {target:.4f}, tol {tol:.4f}")
        if abs(got[key] - target) >= tol or abs(expected[key] - target) >= tol:
            bad.append(key)
    assert not bad, "\n".join(lines)


def test_the_closed_form_fit_recovers_coefficients_that_give_the_targets(sample):
    c = dealfit.fit(sample)
    got = sample.shares(c)
    for key, target in dealfit.TARGETS.items():
        assert got[key] == pytest.approx(target, abs=1e-6)
    assert c[1] > 0 and c[2] > 0  # fatal and territorial disputes end negotiated more often (as in the data)
