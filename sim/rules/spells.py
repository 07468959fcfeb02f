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

The month runs compiled (:mod:`sim.rules.spells_kernel`): :func:`month_moves` computes
every flashpoint's hazards and runs its chain of moves, drawing the random numbers it uses
at the addresses of the streams' calls (``Stream.keys``); a war's transfer of the stakes is
made in numpy (:class:`sim.rules.escalation.Stakes`), then the kernel's ``finish`` makes the
month's updates, the deals (:mod:`sim.rules.deals`) and the event counts. The hazards are
those of :func:`sim.rules.escalation.rates` (tests/test_spells_kernel.py pins the two).
"""

from __future__ import annotations

import numpy as np

from ..parts import declare_event, declare_state
from ..scenario.values import P, default
from ..world.compile import Plan
from . import deals, fitted
from .common import Dyads, deterrence, response_probability, towards_sides
from .escalation import CAL, CONTIGUITY_TERMS, LadderParams, Stakes
from .reads import declare_affinity_reads
from .registry import register

MAX_MOVES = 16
"""Moves simulated at most per flashpoint and month."""
FIRST_MOVES = 4
"""Moves whose random numbers are calls of the rule's stream every month (each flashpoint's
drawn in the kernel only as far as it moves)."""
MORE_MOVES = 4
"""Further moves take their random numbers in batches of this many from a stream of their own
(``escalation.more_moves``: so the rule's stream makes the same calls every month, whatever
happens; batch b of a month is that stream's calls 3(b-1) .. 3(b-1)+2 of the month, for every
flashpoint, of which the kernel draws only the numbers a flashpoint still moving uses)."""

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


EVENTS = ("escalation.rise", "escalation.fall", "escalation.spike", "escalation.war", "escalation.war_end",
          "escalation.settlement", "escalation.deaths", "escalation.busy_month", "escalation.deal")
"""The events :func:`sim.rules.spells_kernel.finish` counts, in the order of its bits (RISE .. DEAL)."""


N_MORE_KEYS = 3 * -(-(MAX_MOVES - FIRST_MOVES) // MORE_MOVES)
"""The calls of ``escalation.more_moves`` a month holds: three a batch of further moves."""


class _Static:
    """What the compiled month reads of a plan, built once per plan (kept on it)."""

    def __init__(self, plan: Plan):
        # numba: imported (and the kernels compiled, or loaded from their cache) when a run uses the rule
        from . import spells_kernel

        self.K = spells_kernel
        self.d = d = Dyads.for_plan(plan)
        self.stakes = Stakes(plan)
        self.stake_of = plan.stakes.astype(np.intp)  # (F,) territory at stake, -1 none
        self.has_stakes = np.ascontiguousarray(self.stake_of >= 0)
        self.a_idx = np.ascontiguousarray(d.sides[:, 0], dtype=np.intp)
        self.b_idx = np.ascontiguousarray(d.sides[:, 1], dtype=np.intp)
        self.claimants = np.ascontiguousarray(plan.claimants)
        self.collective = np.ascontiguousarray(d.collective)
        self.cterm = np.zeros(7, dtype=np.int8)  # COW contiguity code -> the record term it adds
        for term, name in ((spells_kernel.LAND, "beta_land"), (spells_kernel.SEA, "beta_sea"),
                           (spells_kernel.FAR, "beta_far")):
            self.cterm[list(CONTIGUITY_TERMS[name])] = term

    @classmethod
    def of(cls, plan: Plan) -> _Static:
        s = plan.__dict__.get("_spells")
        if s is None:
            s = plan.__dict__["_spells"] = cls(plan)
        return s


def _columns(w) -> np.ndarray:
    """The per-replicate parameter table the kernels read, (R, len(COLUMNS)): built once
    and kept while the parameters stay as they are (:meth:`sim.world.model.World.per_parameters`)."""
    from .spells_kernel import COLUMNS  # imported by _Static.of already

    cp = np.empty((w.n, len(COLUMNS)))
    for j, name in enumerate(COLUMNS):
        cp[:, j] = w.rp("escalation", name)
    return cp


def month_moves(w, keys: np.ndarray, more_keys: np.ndarray) -> dict[str, np.ndarray]:
    """The month's factors and moves of every flashpoint of every replicate, compiled
    (:func:`sim.rules.spells_kernel.month`); the world's state is not changed.

    ``keys``: the keys of six calls of the rule's stream (shocks, the first moves' waiting
    times, uniforms and normals, a war's toll, relapse: ``Stream.keys(6)``); ``more_keys``:
    :data:`N_MORE_KEYS` calls of ``escalation.more_moves``. Returns (R, F) arrays: this
    month's ``momentum``; the factors ``onset`` (f_up g_on: the up-rates from rungs 0-1),
    ``escalate`` (f_up g_esc: from rungs 2-4), ``down`` (f_down), ``settle`` (f_settle),
    ``lr`` (log c_a / c_b), as :func:`sim.rules.escalation.rates` computes them; and the
    moves: ``level``, ``tau``, ``peak``, ``deaths``, ``war_time``, ``calm_at``,
    ``settle_now``, ``ended``, ``claim``, ``winner``, ``entries``, ``busy``, ``standing``.
    """
    s = _Static.of(w.plan)
    d = s.d
    from .spells_kernel import month  # imported by _Static.of already
    c = np.ascontiguousarray
    st, par = w.st, w.par
    R, F = st.level.shape
    N = R * F
    q, _, _ = response_probability(w, d)
    D = deterrence(w, d, q, w.rp("escalation", "patron_weight"))
    cp = w.per_parameters(("spells", "columns"), _columns)
    u0, d0, s0 = (w.rp("escalation", name) for name in ("base_up", "base_down", "base_settle"))
    o = {"momentum": np.empty((R, F), dtype=st.momentum.dtype), "standing": st.standing.copy(),
         "entries": np.empty((R, F), dtype=np.int16), "cp": cp}
    for name in ("onset", "escalate", "down", "settle", "lr", "tau", "deaths", "war_time", "calm_at"):
        o[name] = np.empty((R, F))
    for name in ("level", "peak", "winner"):
        o[name] = np.empty((R, F), dtype=np.intp)
    for name in ("settle_now", "ended", "claim", "busy"):
        o[name] = np.empty((R, F), dtype=bool)
    flat = {k: v.reshape(N) for k, v in o.items() if k not in ("momentum", "cp")}
    month(ids=w.ids, keys=keys, more_keys=more_keys, first=FIRST_MOVES, more=MORE_MOVES, max_moves=MAX_MOVES,
            level=c(st.level), peak0=c(st.peak), settled=c(st.settled), momentum=c(st.momentum), lr_ema=c(st.lr_ema),
            floor=c(st.rung_floor).reshape(N), standing=flat["standing"], cap=c(st.capability),
            support=c(st.support), supply=c(st.supply), resolve=c(par.resolve), capacity=c(par.capacity),
            mediators=c(st.mediators), D=D, status=c(st.status), collective=s.collective, peace=c(st.peace),
            dispute_years=c(st.dispute_years), fatal_last=c(st.fatal_last), hostility_last=c(st.hostility_last),
            contiguity=c(par.contiguity), territorial=c(par.territorial), major_power=c(par.major_power),
            cterm=s.cterm, cp=cp, u0=u0, d0=d0, s0=s0, a_idx=s.a_idx, b_idx=s.b_idx, stake_of=s.stake_of,
            claimants=s.claimants, claim_any=s.stakes.claim_any, ctrl=c(st.controller), mom_out=o["momentum"],
            fu0=flat["onset"], fu1=flat["escalate"], fd=flat["down"], fst=flat["settle"], lr=flat["lr"],
            lv=flat["level"], tau=flat["tau"], peak=flat["peak"], deaths=flat["deaths"], war_time=flat["war_time"],
            calm_at=flat["calm_at"], settle_now=flat["settle_now"], ended=flat["ended"], claim=flat["claim"],
            winner=flat["winner"], entries=flat["entries"], busy=flat["busy"])
    return o


@register("escalation", "spells", SpellParams, default=True)
def build(plan: Plan):
    """The six-rung ladder simulated in continuous time within each month."""
    if plan.F == 0:
        return lambda w: None
    s = _Static.of(plan)
    from .spells_kernel import finish  # imported by _Static.of already

    fs = s.stakes.fs
    c = np.ascontiguousarray

    def step(w) -> None:
        st = w.st
        R, F = st.level.shape
        # the month's random numbers, drawn in the kernels where they are used, at the addresses of
        # these calls: the rule's stream (shocks, the first FIRST_MOVES moves, a war's toll, relapse),
        # further moves (three calls a batch of MORE_MOVES) and the deals' stream
        keys = w.stream("escalation").keys(6)
        more_keys = w.stream("escalation.more_moves").keys(N_MORE_KEYS)
        deal_key = w.stream(deals.STREAM).keys(1)[0]
        m = month_moves(w, keys, more_keys)
        # a war's winner takes the stakes it claims (rare; crosses flashpoints that stake one territory)
        transferred = np.zeros((R, F), dtype=bool)
        if fs.size and m["claim"].any():
            transferred[:, fs] = s.stakes.hand_over(w, m["claim"][:, fs], m["winner"][:, fs])
        out = {name: np.empty((R, F), dtype=st[name].dtype)
               for name in ("level", "peak", "settled", "war_months", "deaths", "calm_at", "lr_ema", "deal_made",
                            "deal_chance", "episode_deaths")}
        ev = np.empty((R, F), dtype=np.uint16)
        tally = np.zeros((len(EVENTS), R), dtype=np.int32)
        st.casualties = c(st.casualties)  # added to in place
        n = {k: m[k].reshape(R * F) for k in ("busy", "level", "tau", "peak", "deaths", "war_time", "calm_at",
                                              "settle_now", "ended", "claim", "lr")}
        finish(ids=w.ids, keys=keys, deal_key=deal_key, busy=n["busy"], q_deal=deals.table(w),
               has_stakes=s.has_stakes, cp=m["cp"], level=c(st.level), settled=c(st.settled),
               war_months0=c(st.war_months), deaths0=c(st.deaths), episode0=c(st.episode_deaths), casualties=st.casualties,
               lr_ema=c(st.lr_ema), transferred=transferred, lv=n["level"], tau=n["tau"], peak=n["peak"],
               deaths=n["deaths"], war_time=n["war_time"], calm_at=n["calm_at"], settle_now=n["settle_now"],
               ended=n["ended"], claim=n["claim"], lr=n["lr"],
               level_out=out["level"], peak_out=out["peak"], settled_out=out["settled"],
               war_months=out["war_months"], deaths_out=out["deaths"], calm_out=out["calm_at"],
               lr_ema_out=out["lr_ema"], deal_made=out["deal_made"], deal_chance=out["deal_chance"],
               episode_out=out["episode_deaths"], ev=ev, tally=tally)
        L0 = st.level
        for name, arr in out.items():
            st[name] = arr
        st.momentum = m["momentum"]
        st.standing = m["standing"]
        st.entries = m["entries"]
        st.onset_factor = m["onset"]  # the month's factors below rung 2 (for exact per-month odds)
        st.down_factor = m["down"]
        _emit(w, ev, tally, L0, transferred, m["winner"], s.a_idx)

    return step


def _emit(w, ev: np.ndarray, tally: np.ndarray, L0: np.ndarray, transferred: np.ndarray, winner: np.ndarray,
          a_idx: np.ndarray) -> None:
    """The month's events: counted per replicate by the kernel (``tally``); the places and
    fields of each (from the bits ``ev``) only for an event log narrating replicates."""
    st = w.st
    if w.log is None:
        for k in np.flatnonzero(tally.any(axis=1)):  # the events that happened somewhere (few a month)
            w.counts[EVENTS[k]] += tally[k]
        if transferred.any():  # counted only: a transfer is one event, whichever side won it
            w.emit("escalation.transfer", transferred)
        return
    transfer = None
    if transferred.any():
        won_a = winner == a_idx[None, :]
        transfer = np.stack([transferred & won_a, transferred & ~won_a], axis=2)
    lv = st.level.astype(np.intp)
    fields = {"escalation.rise": {"before": L0, "after": lv}, "escalation.fall": {"before": L0, "after": lv},
              "escalation.spike": {"peak": st.peak, "after": lv}, "escalation.deaths": {"deaths": st.deaths},
              "escalation.busy_month": {"after": lv}}
    for k, name in enumerate(EVENTS):  # in the order the events happen in the month (as numpy emitted them)
        if name == "escalation.settlement" and transfer is not None:
            w.emit("escalation.transfer", transfer)
        w.emit(name, (ev & (1 << k)) != 0, **fields.get(name, {}))


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
