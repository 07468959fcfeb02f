"""Alignment: affinities move with arms deliveries, support, exercises; revert; take noise.

Model ``drift`` (docs/MODEL.md §D5). Starting affinities already reflect the arms
trade, support and ties as they were at the vantage point, so affinities react to
*departures* from that situation. Each month, for buyer i and supplier k (state s_k):

* arms shifts: with ds = this month's change of k's share of i's imports,
  affinity(i, s_k) and affinity(s_k, i) change by g_s ds (1 - a) when ds > 0, g_s ds (1 + a)
  when ds < 0 (a buyer warms to a supplier it turns to, cools on one it turns from);
* third-party deals: for every adversary j of buyer i (the other side of a flashpoint),
  affinity(j, s_k) and affinity(s_k, j) change by -g_t ds (with the same bounding factor);
* delivery failures: with y the amount due but slipped beyond what k's starting
  reliability implied (in months of i's budget; negative when k delivers better),
  affinity(i, s_k) changes by -g_x y;
* new refusals to sell: a buyer refused by a supplier that did not refuse it at the start
  loses g_r z (1 + a) of its affinity towards s_k, z the share of its budget it would have
  spent there;
* support: a member whose request was refused this month loses g_f (1 + affinity) of its
  affinity towards the alliance's leader (both directions); an answered request adds
  g_s (1 - affinity);
* exercises: each collective-defence alliance holds an exercise with probability
  r_ex / 12 a month; every pair of active members i, j gains g_ex trust_i trust_j
  (1 - affinity) (members take part as far as they trust the alliance);
* reversion and noise: affinity <- affinity + rho (baseline - affinity) + sigma eps, clipped to
  [-1, 1], eps uniform on [-sqrt 3, sqrt 3] (mean 0, variance 1) for every ordered pair;
* trust follows alignment: each member's trust in an alliance moves by c_t times the
  change this month of its affinity towards the alliance's leader, leaving out the change
  due to refused or answered requests (those already moved trust in the alliance rule).

Affinities feed escalation (patrons' willingness in deterrence) and membership (through
trust).
"""

from __future__ import annotations

import numpy as np

from ..parts import declare_event, declare_state
from ..scenario.values import P, default
from ..world.compile import ACTIVE, Plan
from .procurement import buyers_of
from .registry import RuleParams, register

declare_state("affinity_base", ("S", "S"), init=lambda ctx: ctx.st["affinity"].copy(),
              doc="starting affinities, the baseline they revert to")


declare_event("alignment.exercise", ("alliance",), "{alliance} holds a joint exercise",
              doc="an alliance exercise: active members draw closer")


class AlignmentParams(RuleParams):
    """Parameters of affinity dynamics."""

    share_gain: P(0, 2) = default(
        0.5, "a buyer that moves its whole arms trade to a supplier closes half the gap to full alignment with it", symbol="g_s")
    slip_cost: P(0, 1) = default(
        0.05,
        "deliveries worse than expected sour the buyer: Armenia turned to India amid Russian delays "
        "[in-am-mlrs-amid-russian-delays]; a month's budget slipping beyond expectation costs 5% of the gap", symbol="g_x", unit="per month of budget")
    third_party_cost: P(0, 2) = default(
        0.5,
        "arming a state's adversary cools relations with it: Azerbaijan protested India's deliveries to "
        "Armenia [az-protest-meeting-2023-07-26]; a full switch of the adversary's imports to the seller "
        "costs half the way to hostility", symbol="g_t")
    sale_refusal_cost: P(0, 1) = default(
        0.02, "a new refusal of arms a buyer wants sours it on the seller, a little each month it lasts", symbol="g_r")
    refusal_cost: P(0, 1) = default(
        0.1, "a refused request for help sours the member on the leader [am-ru-pressure-failure-view]", symbol="g_f")
    support_gain: P(0, 1) = default(0.1, "help when asked warms the member towards the leader", symbol="g_a")
    exercise_rate: P(0, 12) = default(2.0, "an alliance exercises about twice a year [ru-tj-august-exercise-count]", symbol="r_ex", unit="1/year")
    exercise_gain: P(0, 1) = default(0.01, "an exercise is a small gesture of alignment", symbol="g_ex")
    reversion: P(0, 1) = default(
        0.01, "without new events affinities drift back to their baseline over several years", symbol="ρ", unit="1/month")
    noise_sd: P(0, 1) = default(0.01, "small month-to-month fluctuations in relations", symbol="σ_a", unit="per month")
    trust_coupling: P(0, 5) = default(
        0.3,
        "trust in an alliance moves with relations with its leader but is anchored by what membership brings "
        "(bases, guarantees, migrants' access: Kyrgyz remittances from Russia exceed USD 2.7 bn [kg-remittances-2022]); "
        "about a third of a change in affinity carries over", symbol="c_t")


@register("alignment", "drift", AlignmentParams)
def build(plan: Plan):
    """Affinity dynamics from deliveries, support, exercises, reversion and noise.

    Only the rows and columns that can move for a reason other than reversion and noise
    are touched by the structured terms: buyers (deliveries, slips, refusals), their
    adversaries (third-party deals), alliance members and leaders (support, exercises).
    """
    S, K, A = plan.S, plan.K, plan.A
    sup = plan.supplier_state
    buyers = buyers_of(plan)  # states that can receive deliveries
    adversary = np.zeros((S, S))
    for a, b in plan.sides:
        adversary[a, b] = adversary[b, a] = 1.0
    sup_onehot = np.zeros((K, S))  # (K, S): each supplier's state
    sup_onehot[np.arange(K), sup] = 1.0
    # adversaries of buyers, and the weights that carry buyers' deals to them
    adv_of_buyers = np.flatnonzero(adversary[:, buyers].any(axis=1)) if buyers.size else np.zeros(0, dtype=np.intp)
    adv_w = adversary[np.ix_(adv_of_buyers, buyers)]  # (J, B)
    collective = np.array([k == "collective_defence" for k in plan.alliance_kind], dtype=bool)
    # states that can ever take part in an exercise: members, frozen members, candidates
    possible = np.zeros(S, dtype=bool)
    for a, spec in enumerate(plan.scenario.alliances.values()):
        if collective[a]:
            possible[plan.index_of("state")[spec.leader]] = True
            for m in (*spec.members, *spec.frozen, *spec.candidates):
                possible[plan.index_of("state")[m]] = True
    U = np.flatnonzero(possible)  # non-empty when some collective alliance exists
    coll_idx = np.flatnonzero(collective)
    leader = plan.leader
    diag = np.arange(S)

    def step(w) -> None:
        st, par = w.st, w.par
        R = w.n
        g = w.stream("alignment")

        def rp(name: str) -> np.ndarray:
            return w.rp("alignment", name)

        def c3(name: str) -> np.ndarray:
            return rp(name)[:, None, None]

        aff = st.affinity
        dt = aff.dtype
        ex = (g.random((R, A)) < rp("exercise_rate")[:, None] / 12.0) & collective[None, :] if A else None
        if ex is not None:
            w.emit("alignment.exercise", ex)
        # reversion and noise on every pair: new = a + rho (base - a) + sigma eps, with eps
        # uniform on [-sqrt 3, sqrt 3] (mean 0, variance 1: monthly shocks add up to a
        # near-normal drift within months, at a fifth of the cost of normal draws)
        new = g.random(aff.shape, dtype=dt)
        k = (c3("noise_sd") * np.sqrt(12.0)).astype(dt)
        new *= k
        new -= k / 2
        rho = c3("reversion").astype(dt)
        # rho * baseline changes only if an effect changes rho: keep it between months
        cached = st.__dict__.get("_rho_base")
        if cached is None or cached[0].shape != rho.shape or not np.array_equal(cached[0], rho):
            cached = (rho.copy(), (rho * st.affinity_base).astype(dt))
            st.__dict__["_rho_base"] = cached
        new += cached[1]
        scratch = np.multiply(aff, 1.0 - rho, dtype=dt)
        new += scratch
        if buyers.size and K:
            monthly = par.budget[:, buyers] / 12.0  # (R, B)
            inv = np.where(monthly > 0, 1.0 / np.where(monthly > 0, monthly, 1.0), 0.0)[:, :, None]
            ds = st.share_change[:, buyers, :] @ sup_onehot  # (R, B, S): share shifts by supplier state
            ys = (st.excess_slip[:, buyers, :] * inv) @ sup_onehot
            zs = st.refused_demand[:, buyers, :] @ sup_onehot
            aB = aff[:, buyers, :]
            room_B = np.where(ds > 0, 1.0 - aB, 1.0 + aB)
            rows = c3("share_gain") * ds * room_B
            rows -= c3("slip_cost") * ys  # linear: zero drift when deliveries are as expected
            rows -= c3("sale_refusal_cost") * zs * (1.0 + aB)
            gs = rp("share_gain")[:, None]
            for b, i in enumerate(buyers):  # buyers are few actors (not replicates): views, in place
                new[:, i, :] += rows[:, b, :]
                d, a = ds[:, b, :], aff[:, :, i]  # supplier states' rows towards buyer i
                new[:, :, i] += gs * d * np.where(d > 0, 1.0 - a, 1.0 + a)
            if adv_of_buyers.size:
                hit = adv_w @ ds  # (R, J, S): share shifts of J's adversaries, by supplier state
                gt = rp("third_party_cost")[:, None]
                for jj, j in enumerate(adv_of_buyers):
                    h = hit[:, jj, :]
                    a_row, a_col = aff[:, j, :], aff[:, :, j]
                    new[:, j, :] -= gt * h * np.where(h > 0, 1.0 + a_row, 1.0 - a_row)
                    new[:, :, j] -= gt * h * np.where(h > 0, 1.0 + a_col, 1.0 - a_col)
        support_part = None
        if A:
            f = c3("refusal_cost") * st.refused_now - c3("support_gain") * st.answered_now  # (R, S, A)
            if f.any():
                to_lead = aff[:, :, leader]
                support_part = -np.where(f > 0, f * (1.0 + to_lead), f * (1.0 - to_lead))  # (R, S, A)
                for a in range(A):  # alliances are few; not a loop over replicates
                    new[:, :, leader[a]] += support_part[:, :, a]
                    new[:, leader[a], :] += support_part[:, :, a]
            exr = np.flatnonzero(ex[:, coll_idx].any(axis=1)) if U.size else np.zeros(0, dtype=np.intp)
            if exr.size:
                # only the replicates that exercise this month; participation (r, S, c): active
                # members, by trust, in the alliances exercising
                e = ex[exr][:, None, coll_idx]
                part = (st.status[exr][:, :, coll_idx] == ACTIVE) * st.trust[exr][:, :, coll_idx] * e
                pair = part @ np.swapaxes(part, 1, 2)  # (r, S, S): summed over exercising alliances
                np.minimum(pair, 1.0, out=pair)
                pair *= 1.0 - aff[exr]
                pair *= rp("exercise_gain")[exr][:, None, None]
                new[exr] += pair
        np.clip(new, -1.0, 1.0, out=new)
        new[:, diag, diag] = 0.0
        if A:
            d_lead = new[:, :, leader] - aff[:, :, leader]
            if support_part is not None:
                d_lead -= support_part
            st.trust = np.clip(st.trust + c3("trust_coupling") * d_lead, 0.0, 1.0).astype(st.trust.dtype)
        st.affinity = new

    return step
