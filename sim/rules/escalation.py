"""Escalation on the six-rung ladder, casualties, and wars that decide territory.

Model ``ladder`` (docs/MODEL.md §D3). Rungs: 0 calm, 1 tension/incident,
2 militarized display or blockade, 3 fatal clash, 4 major clash, 5 war.

Each month, for every flashpoint f at rung L below war, three competing hazards
(monthly rates) act::

    lambda_up     = u0[L] * U * exp(b_shift |Delta| + b_mom m - b_med M + sigma_eps eps)
    lambda_down   = d0[L] * exp(b_med M - b_mom m)
    lambda_settle = s0[L] * exp(b_med M - b_res (rbar - 1/2))

with the initiation term U = (exp(eta_a) + exp(eta_b)) / 2 over the two sides,

    eta_a = b_res (r_a - 1/2) + b_adv x - b_det D_a,   eta_b = b_res (r_b - 1/2) - b_adv x - b_det D_b,

x = clip(log(c_a / c_b), -3, 3) the capability balance, Delta = log(c_a/c_b) minus its
exponential moving average (recent shift), r the sides' resolve, D the deterrence
from expected intervention (:func:`sim.rules.common.deterrence`), m the momentum of
recent fatal clashes, M the mediation in place (sum over mediators present of their
available capacity), eps a standard-normal shock. With Lambda the sum of the rates,
the flashpoint moves with probability 1 - exp(-Lambda), and the move is up, down or
settlement in proportion to the rates (competing risks). A settled flashpoint stays
at rung 0 and does not move unless the relapse rate is positive.

At war (rung 5) the war ends each month with probability 1 / war_mean_months (a
flat hazard, so durations are geometric); the winner is side a with probability
c_a^k / (c_a^k + c_b^k) (capabilities including committed allied support). If the
flashpoint has stakes and the winner claims the territory (or nobody is listed as
claimant), control passes to the winner and the dispute counts as settled;
otherwise the ladder drops to ``post_war_level``.

Deaths in a month at rung L >= 3 are lognormal with median ``casualties_fatal_clash``,
``casualties_major_clash`` or ``casualties_war`` and log-sd ``casualty_sigma``.
"""

from __future__ import annotations

import numpy as np
from pydantic import model_validator

from ..parts import (
    declare_attr,
    declare_event,
    declare_reading,
    declare_state,
    declare_target,
)
from ..scenario.values import P, default
from ..world.compile import Plan
from ..world.effects import list_target
from .common import Dyads, deterrence, response_probability, towards_sides
from .formulas import balance, chance, climbs, contest_success, ema, log_ratio, steps_down, toll
from .reads import declare_affinity_reads
from .registry import RuleParams, register

CAL = "calibration"

# ------------------------------------------------------------------ declarations


def _level_changed(w, mask: np.ndarray, index: tuple, old: np.ndarray) -> None:
    """After an effect sets a rung: a dispute that flares up again is no longer settled,
    a war that starts now starts its count of months, and the rung counts as reached
    this month (the month's peak)."""
    f = index[0]
    lv = w.st.level[:, f]
    w.st.settled[mask & (lv > 0), f] = False
    w.st.war_months[mask & (lv == 5) & (old != 5), f] = 0
    w.st.peak[mask, f] = np.maximum(w.st.peak[mask, f], lv[mask])


declare_attr(
    "states", "resolve", P(0, 1), 0.5, "neutral resolve unless the scenario says otherwise",
    doc="Willingness to run risks over its disputes, 0..1 (scales initiation and settlement).",
    label="{state's} resolve",
)
declare_attr(
    "flashpoints", "level", P(0, 5, integer=True),
    doc="Starting rung: 0 calm, 1 tension, 2 display/blockade, 3 fatal clash, 4 major clash, 5 war.",
    array="level0", state="level", on_change=_level_changed, label="rung on the {flashpoint} at the start",
)


def _mediators(ctx) -> np.ndarray:
    plan = ctx.plan
    si = plan.index_of("state")
    out = np.zeros((ctx.n, plan.F, plan.S), dtype=bool)
    for j, f in enumerate(plan.flashpoints):
        for m in plan.scenario.flashpoints[f].mediators:
            out[:, j, si[m]] = True
    return out


def _log_ratio(ctx) -> np.ndarray:
    cap = ctx.st["capability"] * ctx.st["supply"]  # supplies: 1 unless the scenario starts a state short
    a_idx, b_idx = ctx.plan.sides[:, 0], ctx.plan.sides[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return log_ratio(cap[:, a_idx], cap[:, b_idx])


RUNG_WORDS = ("calm", "tension", "display or blockade", "fatal clash", "major clash", "war")
"""The rungs 0-5 of the ladder, in words."""

declare_state("level", ("F",), "int8", lambda ctx: np.rint(ctx.par.level0), doc="rung 0-5",
              record="counts", levels=RUNG_WORDS, label="{flashpoint}: escalation rung", chart="escalation",
              trajectories=True, track=True, screen="flashpoints",
              column="{flashpoint}.rung{level}", mean_column="{flashpoint}.mean_rung")
declare_state("settled", ("F",), "bool", False, doc="the dispute is settled",
              record="mean", label="{flashpoint}: settled", column="{flashpoint}.settled")
declare_state("casualties", ("F",), init=0.0, doc="deaths so far",
              label="deaths at the {flashpoint} so far", final=True, chart="casualties", track=True,
              screen="flashpoints")
declare_state("deaths", ("F",), init=0.0, doc="deaths this month",
              record="mean", label="deaths at the {flashpoint} this month", trajectories=True,
              column="{flashpoint}.deaths")
declare_state("momentum", ("F",), init=lambda ctx: ctx.st["level"] >= 3, doc="m: recent fatal clashes (EMA)")
declare_state("lr_ema", ("F",), init=_log_ratio, doc="EMA of the log capability ratio (for the shift)")
declare_state("war_months", ("F",), "int16", 0, doc="months the current war has lasted")
declare_state("peak", ("F",), "int8", lambda ctx: np.rint(ctx.par.level0),
              doc="highest rung this month (a clash may flare and subside within a month)",
              label="{flashpoint}: the month's highest rung", track=True)
declare_state("entries", ("F",), "int16", 0,
              doc="times the flashpoint climbed from rung 1 to rung 2 this month (militarized disputes starting)")
declare_state("rung_floor", ("F",), "int8", 0,
              doc="the ladder cannot step below this rung this month (a blockade holds it at 2)")
declare_state("mediators", ("F", "S"), "bool", _mediators, doc="mediators / monitors present")
declare_target("flashpoints", "mediators", "names", list_target("mediators"), doc="mediators present")


declare_event("escalation.rise", ("flashpoint",), "{flashpoint} rises from {before:rung} to {after:rung}",
              ("before", "after"), doc="the flashpoint climbs the ladder")
declare_event("escalation.fall", ("flashpoint",), "{flashpoint} eases from {before:rung} to {after:rung}",
              ("before", "after"), doc="the flashpoint steps down the ladder")
declare_event("escalation.war", ("flashpoint",), "war breaks out at {flashpoint}", doc="rung 5 reached")
declare_event("escalation.war_end", ("flashpoint",), "the war at {flashpoint} ends", doc="a war ends")
declare_event("escalation.transfer", ("flashpoint", "side"), "{state} takes control of {territory} from {opponent}",
              doc="a war's winner takes the disputed territory")
declare_event("escalation.settlement", ("flashpoint",), "the dispute at {flashpoint} is settled",
              doc="a negotiated settlement")
declare_event("escalation.deaths", ("flashpoint",), "{deaths:.0f} killed at {flashpoint} this month", ("deaths",),
              doc="a month with deaths (counted per month)")


declare_reading("level", "level", ("flashpoint",), "num", "level(lachin)", doc="escalation rung 0-5")
declare_reading("peak", "peak", ("flashpoint",), "num", "peak(lachin)", doc="highest rung reached in the month just simulated")
declare_reading("deaths", "deaths", ("flashpoint",), "num", "deaths(lachin)", doc="deaths in the month just simulated")
declare_reading("casualties", "casualties", ("flashpoint",), "num", "casualties(lachin)", doc="deaths so far")
declare_reading("settled", "settled", ("flashpoint",), "bool", "settled(lachin)", doc="dispute settled")
declare_reading("war", "level", ("flashpoint",), "bool", "war(lachin)", test=lambda v: v == 5, doc="at rung 5")


class LadderParams(RuleParams):
    """Parameters of the escalation ladder (monthly rates; see docs/CALIBRATION.md)."""

    base_up: P(0, 5, vector=True) = default(
        (0.03, 0.05, 0.0348, 0.0449, 0.0102, 0.0),
        "mid-ladder: up-rates from rungs 2-4 fitted so that a neutral dyad's militarized episodes "
        "reach a fatal clash, >25 dead and war as often as GML-MID 2.2.1 disputes of 1946-2014 "
        "(26.8%, 10.6%, 2.6%); rungs 0-1 (0.03, 0.05) are assumptions: a live dispute turns tense "
        "about every three years and tension turns militarized within about two years",
        CAL, symbol="u0[L]", unit="1/month",
        label=tuple(f"escalation: up-rate from rung {i} ({RUNG_WORDS[i]}) to {i + 1} ({RUNG_WORDS[i + 1]})"
                    if i < 5 else "" for i in range(6)))
    base_down: P(0, 5, vector=True) = default(
        (0.0, 0.12, 0.10, 0.40, 0.45, 0.0),
        "tension eases within about eight months and displays or blockades within ten; "
        "clashes are short episodes that subside within two or three months", symbol="d0[L]", unit="1/month",
        label=tuple(f"escalation: how fast a {RUNG_WORDS[i]} subsides (down-rate from rung {i})" if i else ""
                    for i in range(6)))
    base_settle: P(0, 1, vector=True) = default(
        (0.004, 0.002, 0.0005, 0.0, 0.0, 0.0),
        "negotiated settlements of territorial disputes are rare: of the order of one per "
        "several decades of calm, and rarer under tension", symbol="s0[L]", unit="1/month")
    beta_resolve: P(0, 10) = default(1.0, "one unit of resolve (0..1) scales a side's initiation rate by e", symbol="β_res")
    beta_advantage: P(0, 5) = default(
        0.3, "a side with e times its opponent's capability is 35% more likely to initiate", symbol="β_adv")
    beta_deterrence: P(0, 10) = default(
        1.5, "certain, decisive outside help for the opponent cuts a side's initiation rate ~4.5x", symbol="β_det")
    beta_shift: P(0, 10) = default(1.0, "a fast shift in the balance (either way) destabilizes the dyad", symbol="β_shift")
    beta_momentum: P(0, 10) = default(1.0, "recent fatal clashes make further escalation likelier", symbol="β_mom")
    beta_mediation: P(0, 10) = default(
        0.7,
        "one fully available mediator halves the up-rate and doubles the down-rate "
        "(peacekeeping cuts renewed-war risk by 50-75%, Fortna 2004)", symbol="β_med")
    shock_sd: P(0, 5) = default(0.3, "month-to-month shocks of about 35% in the up-rate", symbol="σ")
    momentum_decay: P(0, 1) = default(0.7, "momentum halves in about two months without clashes", symbol="δ")
    shift_memory: P(0, 1) = default(0.9, "the balance is compared with its average over about ten months", symbol="s")
    war_mean_months: P(0.5, 240) = default(
        4.0,
        "the 2020 Karabakh war lasted about six weeks; the 1990s war years; wars end at a flat "
        "hazard (Bennett & Stam 1996)", unit="months")
    decisiveness: P(0, 10) = default(1.5, "contest-success exponent: a 2:1 edge wins about 74% of wars", symbol="k")
    post_war_level: P(0, 4, integer=True) = default(2, "an undecided war leaves a militarized standoff", unit="rung")
    casualties_fatal_clash: P(0) = default(
        4.0, "median deaths in a month at rung 3: a handful (3-5 dead in the 2023 Lachin and Tegh incidents "
        "[lachin-clash-2023-03-05-police-killed] [tegh-armenian-dead])", symbol="median_3", unit="deaths/month", label="escalation: deaths in a fatal clash (median)")
    casualties_major_clash: P(0) = default(
        40.0, "median deaths in a month at rung 4: dozens (the September 2022 Kyrgyz-Tajik fighting [kg-tj-clash-2022-09-deaths])", symbol="median_4", unit="deaths/month", label="escalation: deaths in a major clash (median)")
    casualties_war: P(0) = default(
        1500.0, "median deaths in a month of war: above the 1,000 battle deaths that define a war, for a short regional war", symbol="median_5", unit="deaths/month", label="escalation: deaths per month of war (median)")
    casualty_sigma: P(0, 5) = default(0.8, "monthly deaths vary about 2.2x either way", symbol="σ_c")
    patron_weight: P(0, 1) = default(
        0.3, "a fully aligned outside power with full capacity steps in about a third of the time", symbol="κ")
    relapse: P(0, 1) = default(0.0, "a settled dispute stays settled within the horizon", unit="1/month")
    # the record and setting of a dyad (sim.rules.history): fitted for the default model `spells` on the
    # dyad-year panel (sim.rules.fitted); the monthly ladder was not fitted there, so they have no effect in it
    beta_peace: P(-10, 10) = default(0.0, "not fitted for the monthly ladder (fitted for spells): no effect", symbol="β_py",
                              label="escalation: beta peace")
    beta_recent: P(-10, 10) = default(0.0, "not fitted for the monthly ladder (fitted for spells): no effect", symbol="β_p10",
                              label="escalation: beta recent")
    beta_fatal_last: P(-10, 10) = default(0.0, "not fitted for the monthly ladder (fitted for spells): no effect", symbol="β_fat",
                              label="escalation: beta fatal last")
    beta_force_last: P(-10, 10) = default(0.0, "not fitted for the monthly ladder (fitted for spells): no effect", symbol="β_for",
                              label="escalation: beta force last")
    beta_territorial: P(-10, 10) = default(0.0, "not fitted for the monthly ladder (fitted for spells): no effect", symbol="β_ter",
                              label="escalation: beta territorial")
    beta_land: P(-10, 10) = default(0.0, "not fitted for the monthly ladder (fitted for spells): no effect", symbol="β_land",
                              label="escalation: beta land")
    beta_sea: P(-10, 10) = default(0.0, "not fitted for the monthly ladder (fitted for spells): no effect", symbol="β_sea",
                              label="escalation: beta sea")
    beta_far: P(-10, 10) = default(0.0, "not fitted for the monthly ladder (fitted for spells): no effect", symbol="β_far",
                              label="escalation: beta far")
    beta_major: P(-10, 10) = default(0.0, "not fitted for the monthly ladder (fitted for spells): no effect", symbol="β_maj",
                              label="escalation: beta major")
    beta_allied: P(-10, 10) = default(0.0, "not fitted for the monthly ladder (fitted for spells): no effect", symbol="β_all",
                              label="escalation: beta allied")
    beta_preponderance: P(-10, 10) = default(0.0, "not fitted for the monthly ladder (fitted for spells): no effect", symbol="β_pre",
                              label="escalation: beta preponderance")
    gamma_fatal_last: P(-10, 10) = default(0.0, "not fitted for the monthly ladder (fitted for spells): no effect", symbol="γ_fat",
                              label="escalation: gamma fatal last")
    gamma_territorial: P(-10, 10) = default(0.0, "not fitted for the monthly ladder (fitted for spells): no effect", symbol="γ_ter",
                              label="escalation: gamma territorial")
    gamma_sea: P(-10, 10) = default(0.0, "not fitted for the monthly ladder (fitted for spells): no effect", symbol="γ_sea",
                              label="escalation: gamma sea")
    gamma_far: P(-10, 10) = default(0.0, "not fitted for the monthly ladder (fitted for spells): no effect", symbol="γ_far",
                              label="escalation: gamma far")

    @model_validator(mode="after")
    def _lengths(self) -> LadderParams:
        for name in ("base_up", "base_down", "base_settle"):
            v = getattr(self, name).value
            if isinstance(v, tuple) and len(v) != 6:
                raise ValueError(f"{name} needs 6 entries, one per rung 0..5 (got {len(v)})")
        return self


def rates(w, d: Dyads, eps: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The monthly hazards of every flashpoint in every replicate (no randomness but eps).
    The monthly ladder's; the default model ``spells`` computes the same factors cell by
    cell in its compiled month (:func:`sim.rules.spells_kernel.month`; tests/test_spells_kernel.py
    pins the two together).

    Returns ``up``, ``down``, ``settle`` (each (R, F)), the log capability ratio ``lr``,
    the deterrence ``D`` (R, F, 2) and the mediation ``M`` (R, F). ``eps`` is the
    month's standard-normal shock (zero if omitted).
    """
    st, par = w.st, w.par
    L = st.level.astype(np.intp)
    lr = log_balance(w, d)
    x = balance(lr)
    shift = lr - st.lr_ema
    q, _, _ = response_probability(w, d)
    D = deterrence(w, d, q, w.rp("escalation", "patron_weight"))
    res = par.resolve[:, d.sides]  # (R, F, 2)
    b_res, b_adv, b_det = column(w, "beta_resolve"), column(w, "beta_advantage"), column(w, "beta_deterrence")
    eta_a = b_res * (res[..., 0] - 0.5) + b_adv * x - b_det * D[..., 0]
    eta_b = b_res * (res[..., 1] - 0.5) - b_adv * x - b_det * D[..., 1]
    U = 0.5 * (np.exp(eta_a) + np.exp(eta_b))
    M = np.einsum("rfs,rs->rf", st.mediators, par.capacity)
    m = st.momentum
    b_med, b_mom = column(w, "beta_mediation"), column(w, "beta_momentum")
    shock = 0.0 if eps is None else column(w, "shock_sd") * eps
    f_up = U * np.exp(column(w, "beta_shift") * np.abs(shift) + b_mom * m - b_med * M + shock)
    f_down = np.exp(b_med * M - b_mom * m)
    f_settle = np.exp(b_med * M - b_res * (res.mean(axis=2) - 0.5))
    g_on, g_esc = record_terms(w, d, x)
    up = (np.take_along_axis(w.rp("escalation", "base_up", w.dtype), L, axis=1) * f_up
          * np.where(L < 2, g_on, np.where(L < 5, g_esc, 1.0)))
    down = np.take_along_axis(w.rp("escalation", "base_down", w.dtype), L, axis=1) * f_down
    settle = np.take_along_axis(w.rp("escalation", "base_settle", w.dtype), L, axis=1) * f_settle
    stuck = ~climbs(L) | st.settled
    up[stuck] = 0.0
    down[~steps_down(L, st.rung_floor) | st.settled] = 0.0
    settle[stuck] = 0.0
    return {"up": up, "down": down, "settle": settle, "lr": lr, "D": D, "M": M,
            "f_up": f_up, "f_down": f_down, "f_settle": f_settle, "g_on": g_on, "g_esc": g_esc}


CONTIGUITY_TERMS = {"beta_land": (1,), "beta_sea": (2, 3), "beta_far": (4, 5)}
"""COW contiguity codes each coefficient applies to (6, no contiguity, is the reference)."""


def record_terms(w, d: Dyads, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The factors the record and the setting of a dyad put on its up-rates (R, F) each:
    ``g_on`` on the rates from rungs 0 and 1 (how often disputes start), ``g_esc`` on those
    from rungs 2-4 (how far they go). docs/MODEL.md §D3b::

        g_on  = exp(b_py ln(1 + peace) + b_p10 past10 + b_fat fatal_last + b_for [hostility_last >= 4]
                    + b_ter territorial + b_land [land] + b_sea [water <= 24 mi] + b_far [water <= 400 mi]
                    + b_maj (major_a + major_b) + b_all allied - b_pre |x|)
        g_esc = exp(g_fat fatal_last + g_ter territorial + g_sea [water <= 24 mi] + g_far [water <= 400 mi])

    x is the clipped log capability ratio; ``allied``: the sides are active members of one
    collective-defence alliance.
    """
    from .history import past_disputes

    st, par = w.st, w.par

    col = lambda name: column(w, name)  # noqa: E731

    contig = np.rint(par.contiguity)
    eta = (col("beta_peace") * np.log1p(st.peace) + col("beta_recent") * past_disputes(st)
           + col("beta_fatal_last") * st.fatal_last + col("beta_force_last") * (st.hostility_last >= 4)
           + col("beta_territorial") * par.territorial
           + col("beta_major") * (par.major_power[:, d.sides[:, 0]] + par.major_power[:, d.sides[:, 1]])
           + col("beta_allied") * allied(w, d) - col("beta_preponderance") * np.abs(x))
    for name, codes in CONTIGUITY_TERMS.items():
        eta = eta + col(name) * np.isin(contig, codes)
    g_esc = np.exp(col("gamma_fatal_last") * st.fatal_last + col("gamma_territorial") * par.territorial
                   + col("gamma_sea") * np.isin(contig, CONTIGUITY_TERMS["beta_sea"])
                   + col("gamma_far") * np.isin(contig, CONTIGUITY_TERMS["beta_far"]))
    return np.exp(eta), g_esc


def allied(w, d: Dyads) -> np.ndarray:
    """(R, F) bool: both sides are active members of one collective-defence alliance."""
    if not d.collective.any():
        return np.zeros(w.st.level.shape, dtype=bool)
    status = w.st.status
    out = np.zeros(w.st.level.shape, dtype=bool)
    for a in np.flatnonzero(d.collective):  # the sides' statuses only, not the (R, S, A) whole
        col = status[:, :, a]
        out |= (col[:, d.sides[:, 0]] == 1) & (col[:, d.sides[:, 1]] == 1)
    return out


def column(w, name: str) -> np.ndarray:
    """An escalation parameter as a column (R, 1), in the world's precision: the monthly
    ladder's hazards and updates (and :func:`rates`, :func:`record_terms`) are computed in
    it. The compiled month of ``spells`` (:mod:`sim.rules.spells_kernel`) reads the same
    parameters as float64 (``w.rp``) and computes its hazards in float64."""
    return w.rp("escalation", name, w.dtype)[:, None]


def log_balance(w, d: Dyads) -> np.ndarray:
    """log(c_a / c_b) of every flashpoint (R, F): each side's capability plus the support
    alliances committed to it, times its supplies (1 unless blockaded; MODEL.md D8)."""
    st = w.st
    ca = (st.capability[:, d.sides[:, 0]] + st.support[:, :, 0]) * st.supply[:, d.sides[:, 0]]
    cb = (st.capability[:, d.sides[:, 1]] + st.support[:, :, 1]) * st.supply[:, d.sides[:, 1]]
    return log_ratio(ca, cb)


declare_affinity_reads("escalation", "ladder", towards_sides)


class Stakes:
    """What a plan's flashpoints fight over, for the rules that move control of territory."""

    def __init__(self, plan: Plan):
        self.fs = np.flatnonzero(plan.stakes >= 0)  # flashpoints with a territory at stake
        self.ts = plan.stakes[self.fs]  # that territory, per entry of fs
        ts = self.ts
        # territories staked by several flashpoints: their positions in fs
        self.contested = [np.flatnonzero(ts == t) for t in np.unique(ts) if (ts == t).sum() > 1]
        self.claim_any = plan.claimants.any(axis=1)

    def hand_over(self, w, move: np.ndarray, win: np.ndarray) -> np.ndarray:
        """Give each territory whose move is set (replicates x len(fs)) to its winner; return
        the moves made. Several wars over one territory ending in the same month: one of the
        winners takes it, each with equal chance (not the one listed last)."""
        R = move.shape[0]
        if self.contested:
            v = w.stream("escalation.territory").random((R, self.fs.size))
            for group in self.contested:
                pick = np.argmax(np.where(move[:, group], v[:, group], -1.0), axis=1)
                keep = np.zeros((R, group.size), dtype=bool)
                keep[np.arange(R), pick] = True
                move[:, group] &= keep
        for j, t in enumerate(self.ts):  # few flashpoints; at most one move per territory
            w.st.controller[move[:, j], t] = win[move[:, j], j]
        return move


@register("escalation", "ladder", LadderParams)
def build(plan: Plan):
    """Six-rung escalation ladder with competing up/down/settlement hazards."""
    if plan.F == 0:
        return lambda w: None
    d = Dyads.for_plan(plan)
    a_idx, b_idx = d.sides[:, 0], d.sides[:, 1]
    stakes = Stakes(plan)
    fs, ts, claim_any = stakes.fs, stakes.ts, stakes.claim_any

    def step(w) -> None:
        g = w.stream("escalation")
        st = w.st
        R, F = st.level.shape
        L = st.level.astype(np.intp)
        eps = g.standard_normal((R, F))
        u = g.random((R, F, 4))
        zc = g.standard_normal((R, F))
        h = rates(w, d, eps)
        up, down, settle, lr = h["up"], h["down"], h["settle"], h["lr"]
        war = L == 5
        total = up + down + settle
        p_any = chance(total)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(total > 0, p_any / total, 0.0)
        t1 = up * scale
        t2 = t1 + down * scale
        u0 = u[..., 0]
        go_up = u0 < t1
        go_down = (u0 >= t1) & (u0 < t2)
        go_settle = (u0 >= t2) & (u0 < p_any)

        # wars end at a flat hazard; the winner takes the stakes if it claims them
        ending = war & (u[..., 1] < 1.0 / column(w, "war_mean_months"))
        pa = contest_success(column(w, "decisiveness"), lr)  # = c_a^k / (c_a^k + c_b^k)
        winner = np.where(u[..., 2] < pa, a_idx, b_idx)
        transferred = np.zeros((R, F), dtype=bool)
        if fs.size:
            ctrl = st.controller[:, ts]
            win = winner[:, fs]
            ok = plan.claimants[ts[None, :], win] | ~claim_any[ts][None, :]
            move = ending[:, fs] & ok & (ctrl != win)
            transferred[:, fs] = stakes.hand_over(w, move, win)

        new = L + go_up - go_down
        new = np.where(ending, w.rp("escalation", "post_war_level").astype(np.intp)[:, None], new)
        settled_now = go_settle | transferred
        new = np.where(settled_now, 0, new)
        relapse = st.settled & (u[..., 3] < column(w, "relapse"))
        new = np.where(relapse, 1, new)
        st.settled = (st.settled | settled_now) & ~relapse
        st.war_months = np.where(new == 5, st.war_months + 1, 0).astype(np.int16)

        med = np.where(new == 3, column(w, "casualties_fatal_clash"), np.where(new == 4, column(w, "casualties_major_clash"), column(w, "casualties_war")))
        deaths = np.where(new >= 3, toll(med, column(w, "casualty_sigma"), zc, 0.0), 0.0)
        st.deaths = deaths.astype(st.casualties.dtype)
        st.casualties += st.deaths
        st.peak = new.astype(np.int8)  # a month holds one rung in this model
        st.entries = ((new >= 2) & (L < 2)).astype(np.int16)
        w.emit("escalation.rise", new > L, before=L, after=new)
        w.emit("escalation.fall", (new < L) & ~settled_now & ~ending, before=L, after=new)
        w.emit("escalation.war", (new == 5) & (L < 5))
        w.emit("escalation.war_end", ending)
        if fs.size and transferred.any():
            won_a = winner == a_idx[None, :]
            w.emit("escalation.transfer", np.stack([transferred & won_a, transferred & ~won_a], axis=2))
        w.emit("escalation.settlement", settled_now & ~transferred)
        w.emit("escalation.deaths", deaths > 0, deaths=deaths)
        st.level = new.astype(np.int8)
        st.momentum = ema(column(w, "momentum_decay"), st.momentum, new >= 3)
        st.lr_ema = ema(column(w, "shift_memory"), st.lr_ema, lr)

    return step
