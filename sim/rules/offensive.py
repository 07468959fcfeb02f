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
* **seizure** with probability (1 - w_0)(1 - D) * P_k, P_k = c_sigma^k / (c_sigma^k + c_opp^k):
  the territory changes hands and the dispute counts as settled;
* **failure** otherwise: the attack is repulsed; the flashpoint ends the month at rung 2
  or above, as the ladder left it.
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
declare_state("seizures", ("F",), "int16", 0, doc="limited offensives that took the territory")

_OVER = ("flashpoint", "side")
declare_event("offensive.launch", _OVER, "{state} launches a limited offensive against {opponent} at {flashpoint}",
              doc="a challenger launches a short operation to seize the disputed territory")
declare_event("offensive.seizure", _OVER, "{state} takes {territory} from {opponent} in a limited offensive",
              doc="the offensive succeeds: the territory changes hands")
declare_event("offensive.failure", _OVER, "{opponent} repulses {state}'s offensive at {flashpoint}",
              doc="the offensive fails")
declare_event("offensive.war", _OVER, "{state}'s offensive at {flashpoint} turns into war",
              doc="the offensive escalates to war (rung 5)")


declare_reading("offensives", "offensives", ("flashpoint",), "num", "offensives(lachin)", doc="limited offensives launched so far")
declare_reading("seizures", "seizures", ("flashpoint",), "num", "seizures(lachin)", doc="limited offensives that took the territory")


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


def odds(w, claims: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Who may launch, and the hazards and chances of a limited offensive, (R, F, 2) per
    side (no randomness): ``challenger``, ``rate`` (lambda, 1/month), ``p_war``, ``p_win``
    (P(seizure | no war)), ``x`` (balance) and ``D`` (deterrence). A challenger may be
    ordered to launch at any rung below war; it launches of itself only at rungs 2-4."""
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
        controller=c(st.controller), settled=c(st.settled), level=c(st.level), lr=c(lr, dtype=np.float64),
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
        u = g.random((R, F, 2, 3))
        z = g.standard_normal((R, F))
        o = odds(w, claims)
        ordered = np.stack([st.launch == 1, st.launch == -1], axis=2) | st.order_launch_offensive
        free = model_decides(st)[:, d.sides]  # a played side launches only when its team orders it (in the game)
        launch = o["challenger"] & (ordered | (free & (u[..., 0] < chance(o["rate"]))))
        st.launch[:] = 0
        st.order_launch_offensive[:] = False
        if not launch.any():
            return
        war = launch & (u[..., 1] < o["p_war"])
        won = launch & ~war & (u[..., 2] < o["p_win"])
        lost = launch & ~war & ~won
        any_l, any_war, any_won = launch.any(axis=2), war.any(axis=2), won.any(axis=2)
        median, sigma = (w.rp("escalation", name)[:, None] for name in ("casualties_major_clash", "casualty_sigma"))
        clash = toll(median, sigma, z, 1.0)
        deaths = np.where(any_l, clash, 0.0).astype(st.deaths.dtype)
        quiet = st.deaths == 0  # a month the ladder already counted as deadly is not counted twice
        st.deaths += deaths
        st.casualties += deaths
        if any_won.any():
            side = np.argmax(won, axis=2)  # one challenger per flashpoint
            taker = d.sides[np.arange(F)[None, :], side]
            for f, t in zip(fs, ts, strict=True):
                m = any_won[:, f]
                st.controller[m, t] = taker[m, f]
        st.level = np.where(any_war, 5, np.where(any_won, 0, st.level)).astype(np.int8)
        st.war_months = np.where(any_war & (st.war_months == 0), 1, st.war_months).astype(np.int16)
        st.settled = st.settled | any_won
        st.peak = np.maximum(st.peak, np.where(any_war, 5, np.where(any_l, 4, 0))).astype(np.int8)
        st.offensives += any_l.astype(np.int16)
        st.seizures += any_won.astype(np.int16)
        w.emit("offensive.launch", launch)
        w.emit("offensive.seizure", won)
        w.emit("offensive.failure", lost)
        w.emit("offensive.war", war)
        w.emit("escalation.deaths", any_l & quiet, deaths=st.deaths)

    return step
