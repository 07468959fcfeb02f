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
from .formulas import chance
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


EVENTS = ("offensive.launch", "offensive.seizure", "offensive.gain", "offensive.retake", "offensive.failure",
          "offensive.war", "escalation.deaths")
"""The events the month counts (:func:`sim.rules.offensive_kernel.offend`'s ``counts``), in its order."""
_STEP_STATE = ("controller", "held", "held_from", "settled", "level", "launch", "order_launch_offensive",
               "deaths", "casualties", "standing", "war_months", "peak", "offensives", "seizures", "gains", "retakes")
"""The state arrays the month updates in place."""


def _offend(w, claims: np.ndarray, held: np.ndarray, step: bool, outs: tuple, keys: np.ndarray, code: np.ndarray):
    """Call the kernel (:func:`sim.rules.offensive_kernel.offend`) on ``w``: the same
    arguments, of the same types, for its odds and its month (one compiled version)."""
    from .offensive_kernel import offend  # numba (compiled on first use, cached on disk)

    plan = w.plan
    d = Dyads.for_plan(plan)
    st = w.st
    c = np.ascontiguousarray
    lr = log_balance(w, d)
    q, _, _ = response_probability(w, d)
    D = deterrence(w, d, q, w.rp("escalation", "patron_weight"))  # declared: register(reads=...)
    rp = w.rp
    offend(step=step, claims=c(claims), stakes=c(plan.stakes, dtype=np.intp), sides=c(d.sides, dtype=np.intp),
           controller=st.controller, held=held, held_from=st.held_from, settled=st.settled, level=st.level,
           lr=c(lr), D=c(D, dtype=np.float64), resolve=c(w.par.resolve),  # lr, resolve, territorial: the world's precision
           territorial=c(w.par.territorial),
           base_rate=rp("offensive", "base_rate"), b_bal=rp("offensive", "beta_balance"),
           b_iso=rp("offensive", "beta_isolation"), b_res=rp("offensive", "beta_resolve"),
           war_risk=rp("offensive", "war_risk"), decisiveness=rp("offensive", "decisiveness"),
           b_ter=rp("offensive", "beta_territorial"),
           challenger_out=outs[0], rate_out=outs[1], p_war_out=outs[2], p_win_out=outs[3], x_out=outs[4],
           key_u=keys[0], key_z=keys[1], ids=w.ids, launch=st.launch,
           order=st.order_launch_offensive, decides=model_decides(st),
           take_all=rp("offensive", "take_all"), take_share=rp("offensive", "take_share"),
           median=rp("escalation", "casualties_major_clash"), sigma=rp("escalation", "casualty_sigma"),
           deaths=st.deaths, casualties=st.casualties, standing=st.standing, war_months=st.war_months,
           peak=st.peak, offensives=st.offensives, seizures=st.seizures, gains=st.gains, retakes=st.retakes,
           counts=tuple(w.counts[name] for name in EVENTS), keep=code.size > 0, code_out=code)
    return D


def _contiguous(st) -> None:
    for name in _STEP_STATE:  # the kernel reads and updates them in place
        if not st[name].flags.c_contiguous:
            st[name] = np.ascontiguousarray(st[name])


_NO_CODE = np.zeros((0, 0, 0), dtype=np.int8)


def odds(w, claims: np.ndarray | None = None, held: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Who may launch, and the hazards and chances of a limited offensive, (R, F, 2) per
    side (no randomness): ``challenger``, ``rate`` (lambda, 1/month), ``p_war``, ``p_win``
    (P(a gain | no war)), ``x`` (balance) and ``D`` (deterrence). A challenger (or a holder
    retaking ground: ``held``) may be ordered to launch at any rung below war; it launches of
    itself only at rungs 2-4. ``held``: :func:`held_now`, if the caller has it already. The
    month (the rule's step) works the odds out with the same compiled code."""
    st = w.st
    _contiguous(st)
    R, F = st.level.shape
    outs = (np.zeros((R, F, 2), dtype=bool), np.empty((R, F, 2)), np.empty((R, F, 2)), np.empty((R, F, 2)),
            np.empty((R, F, 2)))
    claims = claims_of(w.plan) if claims is None else claims
    held = held_now(w) if held is None else np.ascontiguousarray(held, dtype=st.held.dtype)
    D = _offend(w, claims, held, False, outs, np.zeros(2, dtype=np.uint64), _NO_CODE)
    ch, rate, p_war, p_win, x = outs
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
    claims = claims_of(plan)
    no_outs = (np.zeros((0, 0, 0), dtype=bool), *(np.empty((0, 0, 0)) for _ in range(4)))

    def step(w) -> None:
        st = w.st
        R, F = st.level.shape
        g = w.stream("offensive")  # drawn in the kernel: uniforms (R, F, 2, 4), then normals (R, F)
        keys = g.keys(2)
        _contiguous(st)
        keep = w.log is not None  # a log narrates: the kernel says where each event happened, emit counts and logs
        code = np.zeros((R, F, 2), dtype=np.int8) if keep else _NO_CODE
        _offend(w, claims, st.held, True, no_outs, keys, code)
        if keep:
            from .offensive_kernel import DEADLY, HOLDER, LAUNCH, TO_WAR, WHOLE, WON

            launch, war, won, whole, holder = ((code & bit) != 0 for bit in (LAUNCH, TO_WAR, WON, WHOLE, HOLDER))
            w.emit("offensive.launch", launch)
            w.emit("offensive.seizure", whole & ~holder)
            w.emit("offensive.gain", won & ~whole & ~holder)
            w.emit("offensive.retake", won & holder)
            w.emit("offensive.failure", launch & ~war & ~won)
            w.emit("offensive.war", war)
            w.emit("escalation.deaths", (code[..., 0] & DEADLY) != 0, deaths=st.deaths)

    return step
