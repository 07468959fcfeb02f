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
from .reads import affinity_reads, declare_affinity_reads
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


def uniform16(g: np.random.Generator, shape: tuple[int, int], dtype: np.dtype) -> np.ndarray:
    """Uniform numbers on (0, 1) at a resolution of 2^-16, four from each 64-bit draw of
    ``g``'s bit generator (three times cheaper than ``g.random``): (j + 1/2) / 2^16 for j
    uniform on 0..65535, so mean 1/2 and variance 1/12 (to 2^-32). Fine for small noise,
    not for rare events (no probability below 2^-16). The same on every machine (the
    draws are read as little-endian)."""
    n = shape[0] * shape[1]
    raw = g.bit_generator.random_raw((n + 3) // 4).astype("<u8", copy=False).view("<u2")[:n]
    out = raw.reshape(shape).astype(dtype)
    out += 0.5
    out *= 1.0 / 65536
    return out


def _reads(plan: Plan) -> np.ndarray:
    """Trust follows every state's affinity towards each alliance's leader."""
    out = np.zeros((plan.S, plan.S), dtype=bool)
    out[:, plan.leader] = True
    return out


declare_affinity_reads("alignment", "drift", _reads)


@register("alignment", "drift", AlignmentParams)
def build(plan: Plan):
    """Affinity dynamics from deliveries, support, exercises, reversion and noise.

    Only the pairs something reads (:func:`sim.rules.reads.affinity_reads`: buyers and
    their suppliers' states, every state towards the flashpoints' sides and the alliance
    leaders, pairs named in conditions and outcomes) are simulated; the others keep their
    value (only effects change them). The month's work is on a flat (R, P) array of those
    P pairs, each term gathered onto the pairs it moves.
    """
    S, K, A = plan.S, plan.K, plan.A
    sup = plan.supplier_state
    live = affinity_reads(plan)
    pi, pj = np.nonzero(live)  # the simulated pairs, row-major
    P = pi.size
    pf = pi * S + pj  # flat positions in (S*S)
    pos = np.full((S, S), -1, dtype=np.intp)
    pos[pi, pj] = np.arange(P)
    buyers = buyers_of(plan)  # states that can receive deliveries
    B = buyers.size
    adversary = np.zeros((S, S))
    for a, b in plan.sides:
        adversary[a, b] = adversary[b, a] = 1.0
    sup_onehot = np.zeros((K, S))  # (K, S): each supplier's state
    sup_onehot[np.arange(K), sup] = 1.0
    sup_states = np.unique(sup) if K else np.zeros(0, dtype=np.intp)

    def gather(rows: np.ndarray, cols: np.ndarray, src: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The simulated pairs among (rows[n], cols[n]): their positions in P, and the
        matching entries of ``src`` (flat indices into a term's array)."""
        p = pos[rows, cols]
        keep = p >= 0
        return p[keep], src[keep]

    def grid(first: np.ndarray, states: np.ndarray, row: bool) -> tuple[np.ndarray, np.ndarray]:
        """Pairs (first[b], s) (row=True) or (s, first[b]) for s in ``states``; sources
        b * S + s into an (R, len(first), S) term."""
        b, s = np.meshgrid(np.arange(first.size), states, indexing="ij")
        b, s = b.ravel(), s.ravel()
        f = first[b]
        return gather(f, s, b * S + s) if row else gather(s, f, b * S + s)

    # buyers' rows (share shifts, slips, refusals) and supplier states' rows towards buyers
    br_pos, br_src = grid(buyers, sup_states, True)
    bc_pos, bc_src = grid(buyers, sup_states, False)
    # adversaries of buyers, and the weights that carry buyers' deals to them
    adv_of_buyers = np.flatnonzero(adversary[:, buyers].any(axis=1)) if B else np.zeros(0, dtype=np.intp)
    adv_w = adversary[np.ix_(adv_of_buyers, buyers)]  # (J, B)
    tr_pos, tr_src = grid(adv_of_buyers, sup_states, True)
    tc_pos, tc_src = grid(adv_of_buyers, sup_states, False)
    collective = np.array([k == "collective_defence" for k in plan.alliance_kind], dtype=bool)
    coll_idx = np.flatnonzero(collective)
    leader = plan.leader
    # each state towards each leader (R, S, A): positions in P, -1 on the diagonal
    lead_pos = np.stack([pos[:, leader[a]] for a in range(A)], axis=1) if A else np.zeros((S, 0), dtype=np.intp)
    lead_s, lead_a = np.nonzero(lead_pos >= 0)
    lead_p = lead_pos[lead_s, lead_a]
    # leaders' rows towards every state: (positions, state index) per alliance
    lrow = [gather(np.full(S, leader[a]), np.arange(S), np.arange(S)) for a in range(A)]
    lcol = [gather(np.arange(S), np.full(S, leader[a]), np.arange(S)) for a in range(A)]

    def step(w) -> None:
        st, par = w.st, w.par
        R = w.n
        g = w.stream("alignment")

        def rp(name: str) -> np.ndarray:
            return w.rp("alignment", name)

        def c2(name: str) -> np.ndarray:
            return rp(name)[:, None]

        aff = st.affinity
        dt = aff.dtype
        ex = (g.random((R, A)) < rp("exercise_rate")[:, None] / 12.0) & collective[None, :] if A else None
        if ex is not None:
            w.emit("alignment.exercise", ex)
        if P == 0:
            return
        flat = aff.reshape(R, S * S)
        a = flat[:, pf]  # (R, P) this month's values of the simulated pairs
        # reversion and noise: new = a + rho (base - a) + sigma eps, with eps uniform on
        # [-sqrt 3, sqrt 3] (mean 0, variance 1: monthly shocks add up to a near-normal
        # drift within months, at a fifth of the cost of normal draws)
        new = uniform16(g, (R, P), dt)
        k = (c2("noise_sd") * np.sqrt(12.0)).astype(dt)
        new *= k
        new -= k / 2
        rho = c2("reversion").astype(dt)
        # rho * baseline changes only if an effect changes rho: keep it between months
        cached = st.__dict__.get("_rho_base")
        if cached is None or cached[0].shape != rho.shape or not np.array_equal(cached[0], rho):
            cached = (rho.copy(), (rho * st.affinity_base.reshape(R, S * S)[:, pf]).astype(dt))
            st.__dict__["_rho_base"] = cached
        new += cached[1]
        new += a * (1.0 - rho)
        if B and K and (br_pos.size or bc_pos.size or tr_pos.size or tc_pos.size):
            monthly = par.budget[:, buyers] / 12.0  # (R, B)
            inv = np.where(monthly > 0, 1.0 / np.where(monthly > 0, monthly, 1.0), 0.0)[:, :, None]
            ds = (st.share_change[:, buyers, :] @ sup_onehot).reshape(R, B * S)  # share shifts by supplier state
            gs = c2("share_gain")
            if br_pos.size:
                ys = ((st.excess_slip[:, buyers, :] * inv) @ sup_onehot).reshape(R, B * S)[:, br_src]
                zs = (st.refused_demand[:, buyers, :] @ sup_onehot).reshape(R, B * S)[:, br_src]
                d, ab = ds[:, br_src], a[:, br_pos]
                new[:, br_pos] += (gs * d * np.where(d > 0, 1.0 - ab, 1.0 + ab)  # linear in slips: no drift
                                   - c2("slip_cost") * ys - c2("sale_refusal_cost") * zs * (1.0 + ab))
            if bc_pos.size:
                d, ab = ds[:, bc_src], a[:, bc_pos]
                new[:, bc_pos] += gs * d * np.where(d > 0, 1.0 - ab, 1.0 + ab)
            if adv_of_buyers.size and (tr_pos.size or tc_pos.size):
                hit = (adv_w @ ds.reshape(R, B, S)).reshape(R, adv_w.shape[0] * S)  # (R, J*S): shifts of J's adversaries' imports
                gt = c2("third_party_cost")
                for tp, ts in ((tr_pos, tr_src), (tc_pos, tc_src)):
                    if tp.size:
                        h, ab = hit[:, ts], a[:, tp]
                        new[:, tp] -= gt * h * np.where(h > 0, 1.0 + ab, 1.0 - ab)
        support_part = None
        if A:
            f = c2("refusal_cost")[:, :, None] * st.refused_now - c2("support_gain")[:, :, None] * st.answered_now
            if f.any():
                to_lead = np.zeros((R, S, A), dtype=a.dtype)  # each state towards each leader (0 on the diagonal)
                to_lead[:, lead_s, lead_a] = a[:, lead_p]
                support_part = -np.where(f > 0, f * (1.0 + to_lead), f * (1.0 - to_lead))  # (R, S, A)
                for al in range(A):  # alliances are few; not a loop over replicates
                    (cp, cs), (rp_, rs) = lcol[al], lrow[al]
                    new[:, cp] += support_part[:, cs, al]
                    new[:, rp_] += support_part[:, rs, al]
            exr = np.flatnonzero(ex[:, coll_idx].any(axis=1)) if coll_idx.size else np.zeros(0, dtype=np.intp)
            if exr.size:
                # only the replicates that exercise this month; participation (r, S, c): active
                # members, by trust, in the alliances exercising
                e = ex[exr][:, None, coll_idx]
                part = (st.status[exr][:, :, coll_idx] == ACTIVE) * st.trust[exr][:, :, coll_idx] * e
                pair = np.minimum((part[:, pi] * part[:, pj]).sum(axis=2), 1.0)  # (r, P), summed over alliances
                pair *= 1.0 - a[exr]
                pair *= rp("exercise_gain")[exr][:, None]
                new[exr] += pair
        np.clip(new, -1.0, 1.0, out=new)
        if A:
            d_lead = np.zeros((R, S, A), dtype=new.dtype)
            d_lead[:, lead_s, lead_a] = new[:, lead_p] - a[:, lead_p]
            if support_part is not None:
                d_lead -= support_part
            st.trust = np.clip(st.trust + c2("trust_coupling")[:, :, None] * d_lead, 0.0, 1.0).astype(st.trust.dtype)
        flat[:, pf] = new
        if not np.shares_memory(flat, aff):  # not a view (a non-contiguous array): store the copy
            st.affinity = flat.reshape(aff.shape)

    return step
