"""Limited offensive (fait accompli): a short operation to seize a disputed territory.

Model ``fait_accompli`` (docs/MODEL.md §D9), a slot of its own in the escalation phase,
run after the ladder. On a flashpoint with stakes t, a side sigma that claims t while
its opponent holds it (the *challenger*) may launch an operation of days to weeks. At
rungs 2-4 (a militarized dispute, not at war, not settled) it does so in a month with
probability 1 - exp(-lambda):

    lambda = h_o * exp(b_bal * x - b_iso * D + b_res * (r_sigma - 1/2))

with x = clip(log(c_sigma / c_opp), -3, 3) the balance of effective capability
(capability plus committed support, times supplies: a blockade wears the defender
down), D the deterrence sigma faces from expected help for the defender
(:func:`sim.rules.common.deterrence`: 1 - D is the defender's isolation) and r its
resolve. A lever or event can order an offensive (``flashpoints.F.launch``: +1 the first
side, -1 the second; it is carried out in the next escalation step if that side is the
challenger and the flashpoint is neither settled nor at war, at any rung; then reset).
The launch is a decision of the challenger (``launch_offensive``, :func:`sim.parts.declare_decision`):
for a side a person plays (``played``) the hazard is zero and only its team's order
(``order_launch_offensive``) launches it; in the game's forecast its hazard applies again
(:func:`sim.parts.model_decides`).

Once launched, it draws one major clash's toll (the escalation rule's ``casualties_major_clash``
and ``casualty_sigma``, which this rule declares it reads, as ``patron_weight`` for D:
``register(reads=...)``), the month's peak becomes at least rung 4, and it ends in one of:

* **war** with probability 1 - (1 - w_0)(1 - D): the defender fights on (w_0) or help
  arrives (D); the flashpoint goes to rung 5 and the ladder decides the war;
* **gain** with probability (1 - w_0)(1 - D) * P_k, P_k = c_sigma^k / (c_sigma^k + c_opp^k):
  with probability p_all (``take_all``) it takes everything that is left (a **seizure**: the
  territory changes hands, the dispute counts as settled and the share held resets to 0),
  else it takes a share g (``take_share``) of what is left, ``held <- held + g (1 - held)``:
  the dispute stays open and becomes a standing one (an occupation; MODEL.md D3a);
* **failure** otherwise: the attack is repulsed; the flashpoint ends the month at rung 2
  or above, as the ladder left it.

Gains can be contested: while the challenger holds part (``held`` > 0), the holder of the
territory may launch an offensive of its own at the same hazard (its balance, its
deterrence and resolve) to retake it; a success retakes everything with probability p_all,
else a share g of what is held (``held <- held (1 - g)``). One offensive per flashpoint and
month (the first side's if both would). If the territory changes hands another way (a war,
an event), the share taken goes with it (``held`` resets to 0).
"""

from __future__ import annotations

import numpy as np

from ..parts import (
    declare_attr,
    declare_decision,
    declare_event,
    declare_reading,
    declare_state,
    model_decides,
)
from ..scenario.values import P, default
from ..world.compile import Plan
from . import fitted
from .common import Dyads, deterrence, response_probability, towards_sides
from .escalation import log_balance
from .formulas import chance, toll
from .reads import declare_affinity_reads
from .registry import RuleParams, register


def _launch_changed(w, mask: np.ndarray, index: tuple, old: np.ndarray) -> None:
    """Nothing to do now: an ordered offensive is carried out in the next escalation step."""


declare_attr(
    "flashpoints", "launch", P(-1, 1, integer=True), 0, "no offensive is ordered unless a lever or event says so",
    doc="Order a limited offensive: +1 by the first side, -1 by the second (carried out next month, then reset).",
    array="launch0", state="launch", on_change=_launch_changed,
)
declare_state("launch", ("F",), "int8", lambda ctx: np.rint(ctx.par.launch0), doc="an ordered offensive (+1/-1), 0 none")
declare_state("offensives", ("F",), "int16", 0, doc="limited offensives launched so far")
declare_state("seizures", ("F",), "int16", 0, doc="limited offensives that took the (rest of the) territory")
declare_state("gains", ("F",), "int16", 0, doc="the challenger's successful offensives (part of the territory or all)")
declare_state("retakes", ("F",), "int16", 0, doc="the holder's successful offensives to retake ground it lost")
declare_state("held", ("F",), "float32", 0.0,
              doc="the share of the flashpoint's territory its controller's opponent holds after partial gains")
declare_state("held_from", ("F",), "int16", -1,
              doc="the controller the share in held was taken from (-1: none held); held lapses if it changes")

_OVER = ("flashpoint", "side")
declare_event("offensive.launch", _OVER, "{state} launches a limited offensive against {opponent} at {flashpoint}",
              doc="a challenger launches a short operation to seize the disputed territory")
declare_event("offensive.seizure", _OVER, "{state} takes {territory} from {opponent} in a limited offensive",
              doc="the offensive succeeds and takes everything: the territory changes hands")
declare_event("offensive.gain", _OVER, "{state} takes part of {territory} from {opponent} in a limited offensive",
              doc="the offensive succeeds and takes part of the territory; the dispute goes on")
declare_event("offensive.retake", _OVER, "{state} retakes ground at {flashpoint} from {opponent}",
              doc="the holder's offensive succeeds: it retakes part or all of what it had lost")
declare_event("offensive.failure", _OVER, "{opponent} repulses {state}'s offensive at {flashpoint}",
              doc="the offensive fails")
declare_event("offensive.war", _OVER, "{state}'s offensive at {flashpoint} turns into war",
              doc="the offensive escalates to war (rung 5)")


declare_reading("offensives", "offensives", ("flashpoint",), "num", "offensives(lachin)", doc="limited offensives launched so far")
declare_reading("seizures", "seizures", ("flashpoint",), "num", "seizures(lachin)", doc="limited offensives that took the territory")
declare_reading("gains", "gains", ("flashpoint",), "num", "gains(lachin)",
                doc="the challenger's limited offensives that took part or all of the territory")
declare_reading("held", "held", ("flashpoint",), "num", "held(lachin) > 0.5",
                doc="the share of the territory the challenger holds after partial gains (0 to 1; 0 once it has all)")


class OffensiveParams(RuleParams):
    """Launch rate and course of limited offensives (docs/CALIBRATION.md)."""

    base_rate: P(0, 5) = fitted.fitted(
        "offensive.base_rate", "the share of disputes with an occupation or seizure", 0.02267, symbol="h_o",
        unit="1/month", label="limited offensive: base rate of launches")
    beta_balance: P(0, 5) = fitted.fitted(
        "offensive.beta_balance", "the share of disputes with an occupation or seizure by the capability ratio",
        1.0, symbol="β_bal", label="limited offensive: weight of the balance of capability")
    beta_isolation: P(0, 10) = fitted.fitted(
        "offensive.beta_isolation", "the share of disputes with an occupation or seizure by the sides' "
        "major-power allies", 2.0, symbol="β_iso", label="limited offensive: weight of the defender's isolation")
    beta_resolve: P(0, 10) = default(1.0, "as the ladder: a unit of resolve scales launches by e", symbol="β_res", label="limited offensive: weight of resolve")
    war_risk: P(0, 1) = fitted.fitted(
        "offensive.war_risk", "the shares of war and of seizures among disputes with an offensive", 0.2,
        symbol="w_0", label="limited offensive: chance the defender fights on (a war)")
    decisiveness: P(0, 10) = default(
        1.5, "the contest-success exponent of wars (a 2:1 edge wins about 74%)", symbol="k", label="limited offensive: decisiveness of the balance")
    take_all: P(0, 1) = default(
        0.5, "declared uncertainty (scenarios/base.yaml: uniform 0-1, which includes 1, every success taking "
        "everything): no reference table gives the share of limited offensives that took a whole territory; "
        "Altman 2020 (LITERATURE.md A4) finds post-1945 conquests mostly take small regions, without a figure",
        symbol="p_all", label="limited offensive: chance a success takes everything left")
    take_share: P(0, 1) = default(
        0.35, "declared uncertainty (scenarios/base.yaml: uniform 0.1-0.6): the share of what is left that a "
        "partial gain takes; no reference table gives it (Altman 2020, LITERATURE.md A4: small regions)",
        symbol="g", label="limited offensive: share of what is left a partial gain takes")
    beta_territorial: P(-10, 10) = fitted.fitted(
        "offensive.beta_territorial", "the share of disputes with an occupation or seizure over territory",
        symbol="β_ter", label="limited offensive: weight of a territorial dispute")


def claims_of(plan: Plan) -> np.ndarray:
    """(F, 2) bool: side sigma of flashpoint f claims its stakes (or nobody is listed)."""
    d = Dyads.for_plan(plan)
    claim_any = plan.claimants.any(axis=1)
    claims = np.zeros((plan.F, 2), dtype=bool)
    for f in np.flatnonzero(plan.stakes >= 0):
        t = plan.stakes[f]
        for sg in range(2):
            claims[f, sg] = plan.claimants[t, d.sides[f, sg]] or not claim_any[t]
    return claims


def stakes_controller(w) -> np.ndarray:
    """(R, F) who controls each flashpoint's territory (-1: no stakes; a scenario may have no territory)."""
    st, stakes = w.st, w.plan.stakes
    ctrl = np.full(st.held.shape, -1, dtype=st.controller.dtype)
    fs = np.flatnonzero(stakes >= 0)
    ctrl[:, fs] = st.controller[:, stakes[fs]]
    return ctrl


def held_now(w, ctrl: np.ndarray | None = None) -> np.ndarray:
    """(R, F) the share of each flashpoint's territory its controller's opponent holds: ``held``,
    or 0 where the territory has changed hands since (a war or an event took all of it)."""
    st = w.st
    ctrl = stakes_controller(w) if ctrl is None else ctrl
    return np.where((ctrl == st.held_from) & (st.held_from >= 0), st.held, 0.0).astype(st.held.dtype)


def odds(w, claims: np.ndarray | None = None, held: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Who may launch, and the hazards and chances of a limited offensive, (R, F, 2) per
    side (no randomness): ``challenger``, ``rate`` (lambda, 1/month), ``p_war``, ``p_win``
    (P(a gain | no war)), ``x`` (balance) and ``D`` (deterrence). A challenger (or a holder
    retaking ground: ``held``) may be ordered to launch at any rung below war; it launches of
    itself only at rungs 2-4. ``held``: :func:`held_now`, if the caller has it already."""
    from .offensive_kernel import odds as compiled  # numba (compiled on first use, cached on disk)

    plan = w.plan
    d = Dyads.for_plan(plan)
    st = w.st
    c = np.ascontiguousarray
    claims = claims_of(plan) if claims is None else claims
    lr = log_balance(w, d)
    q, _, _ = response_probability(w, d)
    D = deterrence(w, d, q, w.rp("escalation", "patron_weight"))  # declared: register(reads=...)

    ch, rate, p_war, p_win, x = compiled(
        claims=c(claims), stakes=c(plan.stakes, dtype=np.intp), sides=c(d.sides, dtype=np.intp),
        controller=c(st.controller), held=c(held_now(w) if held is None else held, dtype=np.float64), settled=c(st.settled), level=c(st.level), lr=c(lr, dtype=np.float64),
        D=c(D, dtype=np.float64), resolve=c(w.par.resolve, dtype=np.float64),
        base_rate=w.rp("offensive", "base_rate"), b_bal=w.rp("offensive", "beta_balance"),
        b_iso=w.rp("offensive", "beta_isolation"), b_res=w.rp("offensive", "beta_resolve"),
        war_risk=w.rp("offensive", "war_risk"), decisiveness=w.rp("offensive", "decisiveness"))
    rate = rate * np.exp(w.rp("offensive", "beta_territorial")[:, None, None] * w.par.territorial[:, :, None])
    return {"challenger": ch, "rate": rate, "p_war": p_war, "p_win": p_win, "x": x, "D": D}


def _launch_odds(w) -> np.ndarray:
    """(R, F, 2): the chance the model launches in the coming month, as things stand."""
    if "escalation" not in w.plan.rules:
        return np.zeros((w.n, w.plan.F, 2))
    o = odds(w)
    return np.where(o["challenger"], chance(o["rate"]), 0.0)


def _launch_open(w) -> np.ndarray:
    """(R, F, 2): an ordered offensive would be carried out (the side is the challenger)."""
    if "escalation" not in w.plan.rules:
        return np.zeros((w.n, w.plan.F, 2), dtype=bool)
    return odds(w)["challenger"]


declare_decision(
    "launch_offensive", "offensive", ("flashpoint", "side"),
    "launch a limited offensive against {opponent} at {flashpoint}", odds=_launch_odds, open=_launch_open,
    event="offensive.launch",
    doc="a challenger's limited offensive: the model launches it at its hazard lambda for a side nobody plays; "
        "a played side launches only when its team orders it (at any rung below war, as a lever's order)")

declare_affinity_reads("offensive", "fait_accompli", towards_sides)


def either(x: np.ndarray) -> np.ndarray:
    """(R, F, 2) -> (R, F): true for either side (``x.any(axis=2)``, without numpy's reduction
    over a two-long axis, which costs tens of microseconds a call)."""
    return x[..., 0] | x[..., 1]


@register("offensive", "fait_accompli", OffensiveParams, phase="escalation", order=10,
          reads=("escalation.patron_weight", "escalation.casualties_major_clash", "escalation.casualty_sigma"))
def build(plan: Plan):
    """Short operations to seize disputed territory: tried and won more against weak, isolated defenders."""
    fs = np.flatnonzero(plan.stakes >= 0)
    if fs.size == 0 or "escalation" not in plan.rules:
        def idle(w) -> None:
            w.st.launch[:] = 0
            w.st.order_launch_offensive[:] = False
        return idle
    d = Dyads.for_plan(plan)
    ts = plan.stakes[fs]
    claims = claims_of(plan)

    def step(w) -> None:
        st = w.st
        R, F = st.level.shape
        g = w.stream("offensive")
        u = g.random((R, F, 2, 4))
        z = g.standard_normal((R, F))
        ctrl = stakes_controller(w)
        st.held = held_now(w, ctrl)  # the share taken goes with the territory if a war or an event moved it
        st.held_from = np.where(st.held > 0, st.held_from, -1).astype(st.held_from.dtype)
        o = odds(w, claims, st.held)
        ordered = np.stack([st.launch == 1, st.launch == -1], axis=2) | st.order_launch_offensive
        free = model_decides(st)[:, d.sides]  # a played side launches only when its team orders it (in the game)
        launch = o["challenger"] & (ordered | (free & (u[..., 0] < chance(o["rate"]))))
        launch[..., 1] &= ~launch[..., 0]  # one offensive per flashpoint and month: the first side's if both would
        st.launch[:] = 0
        st.order_launch_offensive[:] = False
        if not launch.any():
            return
        holder = ctrl[:, :, None] == d.sides[None, :, :]  # the side launching holds the land: a retake
        war = launch & (u[..., 1] < o["p_war"])
        won = launch & ~war & (u[..., 2] < o["p_win"])
        whole = won & (u[..., 3] < w.rp("offensive", "take_all")[:, None, None])
        lost = launch & ~war & ~won
        any_l, any_war = either(launch), either(war)
        took_all, took_part = either(whole & ~holder), either(won & ~whole & ~holder)
        back_all, back_part = either(whole & holder), either(won & ~whole & holder)
        median, sigma = (w.rp("escalation", name)[:, None] for name in ("casualties_major_clash", "casualty_sigma"))
        clash = toll(median, sigma, z, 1.0)
        deaths = np.where(any_l, clash, 0.0).astype(st.deaths.dtype)
        quiet = st.deaths == 0  # a month the ladder already counted as deadly is not counted twice
        st.deaths += deaths
        st.casualties += deaths
        if took_all.any():
            side = np.argmax(won, axis=2)  # one side launches per flashpoint
            taker = d.sides[np.arange(F)[None, :], side]
            for f, t in zip(fs, ts, strict=True):
                m = took_all[:, f]
                st.controller[m, t] = taker[m, f]
        share = w.rp("offensive", "take_share")[:, None]
        held = np.where(took_part, st.held + share * (1 - st.held), st.held)
        held = np.where(back_part, held * (1 - share), held)
        held = np.where(took_all | back_all, 0.0, held)
        st.held = held.astype(st.held.dtype)
        st.held_from = np.where(st.held > 0, ctrl, -1).astype(st.held_from.dtype)
        st.level = np.where(any_war, 5, np.where(took_all, 0, np.where(took_part, np.maximum(st.level, 2),
                                                                        st.level))).astype(np.int8)
        st.standing = st.standing | took_part  # an occupation is a standing dispute (MODEL.md D3a)
        st.war_months = np.where(any_war & (st.war_months == 0), 1, st.war_months).astype(np.int16)
        st.settled = st.settled | took_all
        st.peak = np.maximum(st.peak, np.where(any_war, 5, np.where(any_l, 4, 0))).astype(np.int8)
        st.offensives += any_l.astype(np.int16)
        st.seizures += took_all.astype(np.int16)
        st.gains += (took_all | took_part).astype(np.int16)
        st.retakes += (back_all | back_part).astype(np.int16)
        w.emit("offensive.launch", launch)
        w.emit("offensive.seizure", whole & ~holder)
        w.emit("offensive.gain", won & ~whole & ~holder)
        w.emit("offensive.retake", won & holder)
        w.emit("offensive.failure", lost)
        w.emit("offensive.war", war)
        w.emit("escalation.deaths", any_l & quiet, deaths=st.deaths)

    return step
