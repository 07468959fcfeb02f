"""The escalation ladder in continuous time: clashes that flare and subside within days.

Model ``spells`` of the ``escalation`` slot (the default; docs/MODEL.md §D3a). The rungs,
hazards and covariates are those of the monthly ``ladder`` (:func:`sim.rules.escalation.rates`),
but moves happen at exponentially distributed moments *inside* the month: each month,
for every flashpoint, the chain of moves is simulated exactly (competing risks, with the
covariates held at their start-of-month values), so a month can hold a two-day major
clash and end at rung 2. What a month records:

* ``level`` — the rung at the end of the month; ``peak`` — the highest rung in it;
* ``deaths`` — a toll for every clash that breaks out (each entry into rung 3 or 4:
  lognormal with median ``casualties_fatal_clash`` / ``casualties_major_clash``, at
  least one death), plus ``casualties_war`` per month of war, in proportion to the time
  at war;
* ``calm_at`` — the moment (a fraction of the month) the flashpoint first stepped below
  rung 2, NaN if it did not (for dispute durations, docs/CALIBRATION.md).

A war ends at rate 1 / ``war_mean_months`` (flat hazard); the winner is drawn as in the
monthly ladder and takes the stakes if it claims them (the dispute is then settled).
Momentum is updated at the start of each month from the previous month's peak, so a
clash added after the ladder (a limited offensive) counts. At most ``MAX_MOVES`` moves
are simulated per flashpoint and month; a flashpoint that would move more stays at the
rung it reached for the rest of the month (``escalation.busy_month``, counted).
"""

from __future__ import annotations

import numpy as np

from ..parts import declare_event, declare_state
from ..scenario.values import P, default
from ..seeding import Stream
from ..world.compile import Plan
from . import deals, fitted
from .common import Dyads, towards_sides
from .escalation import CAL, LadderParams, Stakes, column, rates
from .formulas import contest_success, ema, toll
from .reads import declare_affinity_reads
from .registry import register

MAX_MOVES = 16
"""Moves simulated at most per flashpoint and month."""
FIRST_MOVES = 4
"""Moves whose random numbers are drawn every month for every flashpoint, from the rule's stream."""
MORE_MOVES = 4
"""Further moves are drawn in batches of this many, for every flashpoint, from a stream of their
own (``escalation.more_moves``: so the rule's stream draws the same calls every month, whatever
happens; batch b of a month is that stream's calls 3(b-1) .. 3(b-1)+2 of the month)."""

DAYS_PER_MONTH = 365.25 / 12

# Incidents and standing disputes (MODEL.md D3a), fitted by sim.analysis.durations to the
# durations of GML-MID 2.2.1 disputes of 1946-1991 (mid_durations.csv): the share of disputes
# that stand, and the exit rates (1/month) of an incident and of a standing dispute.
STANDING_SHARE = 0.559
INCIDENT_DOWN = 25.0
STANDING_DOWN = 0.152

declare_state("calm_at", ("F",), init=np.nan,
              doc="fraction of the month at which the flashpoint first stepped below rung 2 (NaN: it did not)")
declare_state("standing", ("F",), "bool", lambda ctx: ctx.st["level"] >= 2,
              doc="the dispute is a standing posture, not an incident (drawn as it starts; a dispute running "
                  "at the start is standing)")
declare_state("onset_factor", ("F",), "float64", 1.0,
              doc="the month's factor of the up-rates from rungs 0-1, shock included (u0[L] times it is the rate)")
declare_state("down_factor", ("F",), "float64", 1.0, doc="the month's factor of the down-rates")
declare_event("escalation.spike", ("flashpoint",),
              "a clash flares at {flashpoint} (rung {peak:.0f}) and subsides within the month (rung {after:.0f})",
              ("peak", "after"), doc="the month's peak is above both its starting and its ending rung")
declare_event("escalation.busy_month", ("flashpoint",),
              "{flashpoint} moved more than the moves simulated in one month; it stays at rung {after:.0f}",
              ("after",), doc=f"more than {MAX_MOVES} moves in a month (the rest of the month is not simulated)")


class SpellParams(LadderParams, deals.DealParams):
    """The ladder's parameters with continuous-time defaults (see docs/CALIBRATION.md); the
    deal coefficients are :class:`sim.rules.deals.DealParams`."""

    base_up: P(0, 50, vector=True) = default(
        (fitted.value("escalation.base_up[0]", 0.03), fitted.value("escalation.base_up[1]", 0.05),
         fitted.value("escalation.base_up[2]", 0.02172), 5.101, fitted.value("escalation.base_up[4]", 0.4149), 0.0),
        # a calibration note starts with its key (the first; rung 3's own key is named where it applies)
        fitted.KEY + " (rungs 0, 1, 2, 4) and mid-spells (rung 3): rungs 0-1: "
        + fitted.note("escalation.base_up[0]", "how often tension starts")
        + "; " + fitted.note("escalation.base_up[1]", "how often tension turns militarized (an onset)")
        + "; rung 2: " + fitted.note("escalation.base_up[2]", "the share of disputes that kill")
        + "; rung 3: mid-spells: fitted so that neutral dyads' militarized episodes kill more than 25 as often as "
        "GML-MID 2.2.1 disputes of 1992-2010 (41/526); rung 4: "
        + fitted.note("escalation.base_up[4]", "the share of disputes that reach war"),
        CAL, symbol="u0[L]", unit="1/month")
    beta_peace: P(-10, 10) = fitted.fitted("escalation.beta_peace", "onset by years at peace (ln(1 + years))",
                                           symbol="β_py", label="escalation: weight of years at peace")
    beta_recent: P(-10, 10) = fitted.fitted("escalation.beta_recent", "onset by disputes in the past ten years",
                                            symbol="β_p10", label="escalation: weight of recent disputes")
    beta_fatal_last: P(-10, 10) = fitted.fitted("escalation.beta_fatal_last", "onset after a year of deaths",
                                                symbol="β_fat", label="escalation: weight of last year's deaths")
    beta_force_last: P(-10, 10) = fitted.fitted("escalation.beta_force_last", "onset after a year of force",
                                                symbol="β_for", label="escalation: weight of last year's force")
    beta_territorial: P(-10, 10) = fitted.fitted(
        "escalation.beta_territorial", "onset when the dispute is over territory", symbol="β_ter",
        label="escalation: weight of a territorial dispute")
    beta_land: P(-10, 10) = fitted.fitted("escalation.beta_land", "onset of land neighbours", symbol="β_land",
                                          label="escalation: weight of a land border")
    beta_sea: P(-10, 10) = fitted.fitted("escalation.beta_sea", "onset across up to 24 miles of water",
                                         symbol="β_sea", label="escalation: weight of a narrow sea")
    beta_far: P(-10, 10) = fitted.fitted("escalation.beta_far", "onset across up to 400 miles of water",
                                         symbol="β_far", label="escalation: weight of a wide sea")
    beta_major: P(-10, 10) = fitted.fitted("escalation.beta_major", "onset by major powers among the sides",
                                           symbol="β_maj", label="escalation: weight of a major power")
    beta_allied: P(-10, 10) = fitted.fitted("escalation.beta_allied", "onset between treaty allies",
                                            symbol="β_all", label="escalation: weight of an alliance between the sides")
    beta_preponderance: P(-10, 10) = fitted.fitted(
        "escalation.beta_preponderance", "onset by the capability ratio (|x|)", symbol="β_pre",
        label="escalation: weight of preponderance")
    beta_deterrence: P(0, 10) = fitted.fitted(
        "escalation.beta_deterrence", "onset by each side's major-power ally (expected help)", 1.5, symbol="β_det",
        label="escalation: weight of deterrence")
    gamma_fatal_last: P(-10, 10) = fitted.fitted(
        "escalation.gamma_fatal_last", "the share of disputes that kill, after a year of deaths", symbol="γ_fat",
        label="escalation: weight of last year's deaths on escalating")
    gamma_territorial: P(-10, 10) = fitted.fitted(
        "escalation.gamma_territorial", "the share of disputes that kill, over territory", symbol="γ_ter",
        label="escalation: weight of territory on escalating")
    gamma_sea: P(-10, 10) = fitted.fitted(
        "escalation.gamma_sea", "the share of disputes that kill, across up to 24 miles of water", symbol="γ_sea",
        label="escalation: weight of a narrow sea on escalating")
    gamma_far: P(-10, 10) = fitted.fitted(
        "escalation.gamma_far", "the share of disputes that kill, across up to 400 miles of water", symbol="γ_far",
        label="escalation: weight of a wide sea on escalating")
    base_down: P(0, 100, vector=True) = default(
        (0.0, 0.12, STANDING_DOWN, 20.0, 10.0, 0.0),
        "mid-durations-1946-1991 (rung 2; rungs 1, 3 and 4 are assumptions): a standing dispute (see "
        "standing_share) steps down from rung 2 at 0.152 a month, a mean of 200 days, fitted with the incidents' "
        "share and pace to the durations of GML-MID 2.2.1 disputes of 1946-1991; tension eases within about "
        "eight months (assumption); a fatal clash is an incident "
        "over within a day or two (mean 1.5 days: the 2023 Lachin and Tegh incidents took hours "
        "[lachin-clash-2023-03-05-police-killed] [tegh-incident-2023-04-11] [tegh-situation-2023-04-12]); a "
        "major clash lasts days (mean 3: the regions' major clashes before 2023 - April 2016 and "
        "September 2022 on the Armenia-Azerbaijan line, April 2021 and September 2022 on the "
        "Kyrgyz-Tajik border - each ended within two to four days)", symbol="d0[L]", unit="1/month")
    standing_share: P(0, 1) = default(
        STANDING_SHARE, "mid-durations-1946-1991: the share of militarized disputes that become a standing posture "
        "rather than an incident, fitted with the two exit rates to the quartiles, 90th percentile and share under "
        "31 days of the 993 GML-MID 2.2.1 disputes of 1946-1991 (mid_durations.csv); a dispute running at the "
        "start of a run is standing", CAL, symbol="π_s", label="escalation: share of disputes that become standing")
    incident_down: P(0, 1000) = default(
        INCIDENT_DOWN, "mid-durations-1946-1991: an incident (a dispute that is not standing) ends at 25 a month, "
        "a mean of 1.2 days: the quarter of disputes coded as lasting one day (mid_durations.csv, 1946-1991)", CAL,
        symbol="d_inc", unit="1/month", label="escalation: how fast an incident ends")
    base_settle: P(0, 1, vector=True) = default(
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
        "no settlement outside talks: agreements come from the talks mechanism (MODEL.md D10)",
        symbol="s0[L]", unit="1/month")
    casualties_fatal_clash: P(0) = default(
        4.0, "median deaths of a fatal clash: a handful (3-5 dead in the 2023 Lachin and Tegh incidents "
        "[lachin-clash-2023-03-05-police-killed] [tegh-armenian-dead])", symbol="median_3", unit="deaths/clash")
    casualties_major_clash: P(0) = default(
        40.0, "median deaths of a major clash: dozens (the September 2022 Kyrgyz-Tajik fighting "
        "[kg-tj-clash-2022-09-deaths])", symbol="median_4", unit="deaths/clash")
    casualties_war: P(0) = default(
        1500.0, "median deaths in a month of war: above the 1,000 battle deaths that define a war, for a short "
        "regional war", symbol="median_5", unit="deaths/month at war")
    casualty_sigma: P(0, 5) = default(0.8, "a clash's toll varies about 2.2x either way", symbol="σ_c")


declare_affinity_reads("escalation", "spells", towards_sides)


@register("escalation", "spells", SpellParams, default=True)
def build(plan: Plan):
    """The six-rung ladder simulated in continuous time within each month."""
    if plan.F == 0:
        return lambda w: None
    d = Dyads.for_plan(plan)
    a_idx, b_idx = d.sides[:, 0], d.sides[:, 1]
    stakes = Stakes(plan)
    fs, claim_any = stakes.fs, stakes.claim_any
    stake_of = plan.stakes.astype(np.intp)  # (F,) territory at stake, -1 none
    a_idx, b_idx = np.ascontiguousarray(a_idx, dtype=np.intp), np.ascontiguousarray(b_idx, dtype=np.intp)
    # numba: imported (and the kernel compiled, or loaded from its cache) when a run uses the rule
    from .spells_kernel import chain

    def step(w) -> None:
        g = w.stream("escalation")
        st = w.st
        R, F = st.level.shape
        st.momentum = ema(column(w, "momentum_decay"), st.momentum, st.peak >= 3).astype(st.momentum.dtype)
        L0 = st.level.astype(np.intp)
        N = R * F
        eps = g.standard_normal((R, F))
        draws = [_moves(g, R, F)]  # the first FIRST_MOVES moves of every cell, from the rule's stream
        zw = g.standard_normal((R, F))
        ur = g.random((R, F))
        h = rates(w, d, eps)
        lr = h["lr"]
        pa = contest_success(column(w, "decisiveness"), lr)  # in the world's precision, as the factors
        fd, fst, pa = (np.asarray(x, np.float64).ravel() for x in (h["f_down"], h["f_settle"], pa))
        # the up-rates' factor from rungs 0-1 (disputes starting) and from rungs 2-4, per cell
        fu = np.ascontiguousarray(np.stack([(h["f_up"] * h["g_on"]).ravel(), (h["f_up"] * h["g_esc"]).ravel()],
                                           axis=1), dtype=np.float64)
        u0, d0, s0 = (w.rp("escalation", name) for name in ("base_up", "base_down", "base_settle"))
        end_rate = 1.0 / w.rp("escalation", "war_mean_months")
        med3, med4, sig = (w.rp("escalation", name)
                           for name in ("casualties_fatal_clash", "casualties_major_clash", "casualty_sigma"))
        post = w.rp("escalation", "post_war_level").astype(np.intp)
        floor = st.rung_floor.astype(np.intp).ravel()
        ctrl = np.ascontiguousarray(st.controller)
        pi_s, d_inc = w.rp("escalation", "standing_share"), w.rp("escalation", "incident_down")
        standing = st.standing.ravel().copy()

        # the month's chain of moves, on flat cells (replicate r, flashpoint f) -> r * F + f,
        # compiled (sim.rules.spells_kernel), batch by batch of random numbers
        lv = L0.ravel().copy()
        tau = np.zeros(N)
        peak = lv.copy()
        deaths = np.zeros(N)
        war_time = np.zeros(N)
        calm_at = np.full(N, np.nan)
        settle_now = np.zeros(N, dtype=bool)
        ended = np.zeros(N, dtype=bool)
        claim = np.zeros(N, dtype=bool)
        winner = np.zeros(N, dtype=np.intp)
        entries = np.zeros(N, dtype=np.int16)
        act = np.flatnonzero(~st.settled.ravel())
        done, batch = 0, 0
        while act.size and done < MAX_MOVES:
            if batch == len(draws):  # some cell moves more: this month's further moves, for every cell
                draws.append(_moves(w.stream("escalation.more_moves"), R, F, MORE_MOVES))
            E, U, Z = draws[batch]
            m = min(E.shape[1], MAX_MOVES - done)
            act = chain(act=act, E=E, U=U, Z=Z, m=m, F=F, u0=u0, d0=d0, s0=s0, pi_s=pi_s, d_inc=d_inc,
                        standing=standing, fu=fu, fd=fd, fst=fst,
                        end_rate=end_rate, pa=pa, med3=med3, med4=med4, sig=sig, post=post, floor=floor,
                        a_idx=a_idx, b_idx=b_idx, stake_of=stake_of, claimants=plan.claimants, claim_any=claim_any,
                        ctrl=ctrl, lv=lv, tau=tau, peak=peak, deaths=deaths, war_time=war_time, calm_at=calm_at,
                        settle_now=settle_now, ended=ended, claim=claim, winner=winner, entries=entries)
            done += m
            batch += 1
        busy = np.zeros(N, dtype=bool)
        if act.size:  # still moving after MAX_MOVES moves: stays put for the rest of the month
            busy[act] = True
            war_time[act] += np.where(lv[act] == 5, 1.0 - tau[act], 0.0)
        episode_before = deals.carried(w, L0)  # before `deaths` becomes this month's
        lv, tau, peak, deaths, war_time, calm_at, settle_now, ended, claim, winner, busy, entries = (
            x.reshape(R, F) for x in (lv, tau, peak, deaths, war_time, calm_at, settle_now, ended, claim, winner, busy,
                                      entries))
        post = post[:, None]
        sig = sig[:, None]

        transferred = np.zeros((R, F), dtype=bool)
        if fs.size:
            move = claim[:, fs]
            transferred[:, fs] = stakes.hand_over(w, move, winner[:, fs])
        lv = np.where(claim & ~transferred, post, lv)
        settled_now = settle_now | transferred
        lv = np.where(settled_now, 0, lv)
        calm_at = np.where(settled_now & np.isnan(calm_at), tau, calm_at)
        relapse = st.settled & (ur < column(w, "relapse"))
        lv = np.where(relapse, 1, lv)
        st.settled = (st.settled | settled_now) & ~relapse
        st.war_months = np.where(lv == 5, st.war_months + 1, 0).astype(np.int16)
        deaths += np.where(war_time > 0, toll(column(w, "casualties_war") * war_time, sig, zw, 0.0), 0.0)
        st.deaths = deaths.astype(st.casualties.dtype)
        st.casualties += st.deaths
        st.calm_at = calm_at.astype(st.calm_at.dtype)
        st.standing = standing.reshape(R, F)
        st.entries = entries
        st.onset_factor = fu[:, 0].reshape(R, F)  # the month's factors below rung 2 (for exact per-month odds)
        st.down_factor = fd.reshape(R, F)
        w.emit("escalation.rise", lv > L0, before=L0, after=lv)
        w.emit("escalation.fall", (lv < L0) & ~settled_now & ~ended, before=L0, after=lv)
        w.emit("escalation.spike", (peak >= 3) & (peak > np.maximum(L0, lv)), peak=peak, after=lv)
        w.emit("escalation.war", (peak == 5) & (L0 < 5))
        w.emit("escalation.war_end", ended)
        if transferred.any():
            won_a = winner == a_idx[None, :]
            w.emit("escalation.transfer", np.stack([transferred & won_a, transferred & ~won_a], axis=2))
        w.emit("escalation.settlement", settled_now & ~transferred)
        w.emit("escalation.deaths", deaths > 0, deaths=deaths)
        w.emit("escalation.busy_month", busy, after=lv)
        st.level = lv.astype(np.int8)
        st.peak = peak.astype(np.int8)
        st.lr_ema = ema(column(w, "shift_memory"), st.lr_ema, lr)
        deals.conclude(w, episode_before, deaths, calm_at, settled_now, stake_of >= 0)

    return step


def _moves(g: Stream, R: int, F: int, m: int = FIRST_MOVES) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random numbers of m moves of the R * F cells (flat: replicate r, flashpoint f ->
    r * F + f): waiting times (standard exponential), the move's kind and a war's winner
    (uniform), a clash's toll (standard normal). Three calls of the stream."""
    N = R * F
    return (g.standard_exponential((R, F, m)).reshape(N, m), g.random((R, F, m, 2)).reshape(N, m, 2),
            g.standard_normal((R, F, m)).reshape(N, m))


def new_disputes(w) -> None:
    """Make every dispute of the world start now: each is standing with probability
    ``standing_share``, else an incident. For worlds whose disputes start at rung 2 rather
    than climb to it (calibration episodes, the hindcast's disputes); the draw comes from a
    stream of its own, so no other random number moves. Nothing to do when the escalation
    rule is not ``spells`` (the monthly ladder has no kinds of dispute)."""
    if "standing_share" not in w.plan.rules["escalation"].params:
        return
    u = w.stream("escalation.new_disputes").random(w.st.standing.shape)
    w.st.standing = u < w.rp("escalation", "standing_share")[:, None]
