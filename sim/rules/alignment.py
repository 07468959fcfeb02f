"""Alignment: affinities move with arms deliveries, support, exercises; revert; take noise.

Model ``drift`` (docs/MODEL.md §D5). Each month, with x[i,k] = delivered[i,k] / (budget_i / 12)
the deliveries from supplier k to buyer i in months of i's budget (0 if no budget):

* deliveries:  affinity(i, s_k) and affinity(s_k, i) rise by g_d x (1 - affinity);
* delivery failures: with y[i,k] the amount due but not delivered this month, in months of
  i's budget, affinity(i, s_k) falls by g_x y (1 + affinity);
* third-party deals: for every adversary j of buyer i (the other side of a flashpoint),
  affinity(j, s_k) and affinity(s_k, j) fall by g_t x (1 + affinity);
* refusals to sell: a buyer refused by supplier k loses g_r z[i,k] (1 + affinity) of its
  affinity towards s_k, with z the share of its budget it would have spent there
  (``st.refused_demand``);
* support: a member whose request was refused this month loses g_f (1 + affinity) of its
  affinity towards the alliance's leader (both directions); an answered request adds
  g_s (1 - affinity);
* exercises: each collective-defence alliance holds an exercise with probability
  r_ex / 12 a month; every pair of active members i, j gains g_ex trust_i trust_j
  (1 - affinity) (members take part as far as they trust the alliance);
* reversion and noise: affinity <- affinity + rho (baseline - affinity) + sigma eps, clipped to
  [-1, 1], eps ~ N(0, 1) for every ordered pair;
* trust follows alignment: each member's trust in an alliance moves by c_t times the
  change this month of its affinity towards the alliance's leader, leaving out the change
  due to refused or answered requests (those already moved trust in the alliance rule).

Affinities feed escalation (patrons' willingness in deterrence) and membership (through
trust).
"""

from __future__ import annotations

import numpy as np

from ..scenario.values import P, default
from ..world.compile import ACTIVE, Plan
from .registry import RuleParams, register


class AlignmentParams(RuleParams):
    """Parameters of affinity dynamics."""

    delivery_gain: P(0, 1) = default(
        0.02, "a month's budget delivered by a supplier warms the buyer and supplier by 2% of the gap to full alignment"
    )
    slip_cost: P(0, 1) = default(
        0.02,
        "a delivery that is paid for but does not come sours the buyer about as much as one that comes "
        "warms it: Armenia turned to India amid Russian delays [in-am-mlrs-amid-russian-delays]",
    )
    third_party_cost: P(0, 1) = default(
        0.02,
        "arming a state's adversary cools relations with it about as fast: Azerbaijan protested India's "
        "deliveries to Armenia [az-protest-meeting-2023-07-26]",
    )
    sale_refusal_cost: P(0, 1) = default(
        0.01, "being refused arms a buyer wants sours it on the seller, slowly while the refusal lasts"
    )
    refusal_cost: P(0, 1) = default(
        0.1, "a refused request for help sours the member on the leader [am-ru-pressure-failure-view]"
    )
    support_gain: P(0, 1) = default(0.1, "help when asked warms the member towards the leader")
    exercise_rate: P(0, 12) = default(2.0, "an alliance exercises about twice a year [ru-tj-august-exercise-count]")
    exercise_gain: P(0, 1) = default(0.01, "an exercise is a small gesture of alignment")
    reversion: P(0, 1) = default(
        0.01, "without new events affinities drift back to their baseline over several years"
    )
    noise_sd: P(0, 1) = default(0.01, "small month-to-month fluctuations in relations")
    trust_coupling: P(0, 5) = default(
        0.3,
        "trust in an alliance moves with relations with its leader but is anchored by what membership brings "
        "(bases, guarantees, migrants' access: Kyrgyz remittances from Russia exceed USD 2.7 bn [kg-remittances-2022]); "
        "about a third of a change in affinity carries over",
    )


@register("alignment", "drift", AlignmentParams)
def build(plan: Plan):
    """Affinity dynamics from deliveries, support, exercises, reversion and noise."""
    S, K, A = plan.S, plan.K, plan.A
    sup = plan.supplier_state
    adversary = np.zeros((S, S))
    for a, b in plan.sides:
        adversary[a, b] = adversary[b, a] = 1.0
    # one-hot (K, S) of each supplier's state, to scatter per-supplier changes to states
    sup_onehot = np.zeros((K, S))
    sup_onehot[np.arange(K), sup] = 1.0
    collective = np.array([k == "collective_defence" for k in plan.alliance_kind], dtype=bool)
    leader = plan.leader
    eye = np.eye(S, dtype=bool)

    def step(w) -> None:
        st, par = w.st, w.par
        R = w.n
        g = w.stream("alignment")

        def rp(name: str) -> np.ndarray:
            return w.rp("alignment", name)

        aff = st.affinity
        before_lead = aff[:, :, leader].copy() if A else None  # (R, S, A)
        support_part = np.zeros((R, S, A))
        delta = np.zeros_like(aff)
        delivered = getattr(st, "delivered", None)
        if K and delivered is not None:
            monthly = par.budget / 12.0
            x = np.where(monthly[:, :, None] > 0, delivered / np.where(monthly > 0, monthly, 1.0)[:, :, None], 0.0)
            xs = x @ sup_onehot  # (R, S buyers, S supplier states)
            gd = rp("delivery_gain")[:, None, None]
            warm = gd * xs * (1.0 - aff)
            delta += warm + np.swapaxes(gd * xs * (1.0 - np.swapaxes(aff, 1, 2)), 1, 2)
            slipped = getattr(st, "slipped", None)
            if slipped is not None:
                y = np.where(monthly[:, :, None] > 0, slipped / np.where(monthly > 0, monthly, 1.0)[:, :, None], 0.0)
                delta -= rp("slip_cost")[:, None, None] * (y @ sup_onehot) * (1.0 + aff)
            # adversaries of the buyer cool towards the supplier state (and it towards them)
            hit = np.einsum("js,rsk->rjk", adversary, xs)  # (R, adversary j, supplier state)
            gt = rp("third_party_cost")[:, None, None]
            delta -= gt * hit * (1.0 + aff) + np.swapaxes(gt * hit * (1.0 + np.swapaxes(aff, 1, 2)), 1, 2)
            z = getattr(st, "refused_demand", None)
            if z is not None:
                zs = z @ sup_onehot  # (R, buyer, supplier state)
                delta -= rp("sale_refusal_cost")[:, None, None] * zs * (1.0 + aff)
        if A:
            refused = getattr(st, "refused_now", None)
            answered = getattr(st, "answered_now", None)
            if refused is not None:
                f = rp("refusal_cost")[:, None, None] * refused - rp("support_gain")[:, None, None] * answered
                # member i towards leader(A), and leader towards member
                to_lead = aff[:, :, leader]
                change = -np.where(f > 0, f * (1.0 + to_lead), f * (1.0 - to_lead))  # (R, S, A)
                support_part = change
                for a in range(A):  # A is small (alliances); not a loop over replicates
                    delta[:, :, leader[a]] += change[:, :, a]
                    delta[:, leader[a], :] += change[:, :, a]
            ex = (g.random((R, A)) < rp("exercise_rate")[:, None] / 12.0) & collective[None, :]
            if ex.any():
                part = (st.status == ACTIVE) * st.trust  # (R, S, A): participation
                pair = np.einsum("rsa,rta,ra->rst", part, part, ex.astype(float))
                delta += rp("exercise_gain")[:, None, None] * np.minimum(pair, 1.0) * (1.0 - aff)
        rho = rp("reversion")[:, None, None]
        delta += rho * (st.affinity_base - aff)
        delta += rp("noise_sd")[:, None, None] * g.standard_normal(aff.shape)
        new = np.clip(aff + delta, -1.0, 1.0)
        new[:, eye] = 0.0
        st.affinity = new
        if A:
            d_lead = new[:, :, leader] - before_lead - support_part
            st.trust = np.clip(st.trust + rp("trust_coupling")[:, None, None] * d_lead, 0.0, 1.0)

    return step
