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

from ..parts import custom_parts, declare_event, declare_state
from ..scenario.values import Dist, P, default
from ..world.compile import Plan
from .procurement import buyers_of, state_major
from .reads import affinity_moves, affinity_reads, declare_affinity_reads, declare_affinity_writes
from .registry import RuleParams, register


def _baseline(ctx) -> np.ndarray:
    """The starting affinities every replicate reverts to. Where they are the same in every
    replicate (no affinity drawn from a distribution or set per replicate by a study, and no
    part declared outside the package that could change them), a read-only view repeating
    the first replicate's: the rule reads only its read pairs of it (``base_of`` below), so
    a chunk need not copy all S x S pairs of every replicate. Otherwise a copy."""
    aff = ctx.st["affinity"]
    varies = (bool(custom_parts()) or any(".affinity." in path for path in ctx.fixed)
              or any(e.array == "affinity0" and isinstance(e.param.value, Dist) for e in ctx.plan.entries))
    if ctx.n and not varies:
        return np.broadcast_to(aff[0].copy(), aff.shape)  # a copy: not a view of the affinities that move
    return aff.copy()


declare_state("affinity_base", ("S", "S"), init=_baseline, doc="starting affinities, the baseline they revert to")


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
        "costs half the way to hostility", symbol="g_t", label="alignment: how much arming a rival sours a buyer")
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


def _reads(plan: Plan) -> np.ndarray:
    """Trust follows every state's affinity towards each alliance's leader."""
    out = np.zeros((plan.S, plan.S), dtype=bool)
    out[:, plan.leader] = True
    return out


declare_affinity_reads("alignment", "drift", _reads)
declare_affinity_writes("alignment", "drift", affinity_reads)  # it moves the pairs something reads, no other


@register("alignment", "drift", AlignmentParams)
def build(plan: Plan):
    """Affinity dynamics from deliveries, support, exercises, reversion and noise.

    Only the pairs something reads (:func:`sim.rules.reads.affinity_reads`: buyers and
    their suppliers' states, every state towards the flashpoints' sides and the alliance
    leaders, pairs named in conditions and outcomes) are simulated; the others keep their
    value (only effects change them). The month's update is one compiled pass over those
    pairs (:func:`sim.rules.alignment_kernel.drift`), which draws the month's exercises and
    noise itself, at the addresses the rule's stream gives them, and counts the exercises.
    It also writes the read pairs' new values into a contiguous (R, P) copy, kept on the
    world (:attr:`sim.world.model.World.latest`): the recorder, deterrence and procurement
    read them there (P numbers a replicate) rather than from S rows of the (S, S) matrix.
    """
    # numba: imported (and the kernel compiled, or loaded from its cache) when a run uses the rule
    from .alignment_kernel import drift

    S, A = plan.S, plan.A
    live = affinity_reads(plan)
    pi, pj = np.nonzero(live)  # the simulated pairs, row-major
    P = pi.size
    pf = (pi * S + pj).astype(np.intp)
    buyers = buyers_of(plan).astype(np.intp)  # states that can receive deliveries
    adversary = np.zeros((S, S), dtype=bool)
    for a, b in plan.sides:
        adversary[a, b] = adversary[b, a] = True
    adv = np.flatnonzero(adversary[:, buyers].any(axis=1)) if buyers.size else np.zeros(0, dtype=np.intp)
    adv_w = adversary[np.ix_(adv, buyers)].astype(np.float64)  # (J, B): adversary j faces buyer b

    pos = np.full((S, S), -1, dtype=np.intp)
    pos[pi, pj] = np.arange(P)
    terms = []  # (kind, pair, index, state): see alignment_kernel.drift
    sup_states = np.unique(plan.supplier_state)  # arms terms are zero towards other states

    def both_ways(kind: int, i: int, index: int) -> None:
        """Terms on i's affinity towards each supplier state (kind) and back (kind + 1)."""
        for s_ in sup_states:
            if pos[i, s_] >= 0:
                terms.append((kind, pos[i, s_], index, s_))
            if pos[s_, i] >= 0:
                terms.append((kind + 1, pos[s_, i], index, s_))

    for b, i in enumerate(buyers):
        both_ways(0, i, b)
    for jj, j in enumerate(adv):
        both_ways(2, j, jj)
    for al in range(A):
        la = plan.leader[al]
        for s_ in range(S):
            if pos[s_, la] >= 0:
                terms.append((4, pos[s_, la], al, s_))
            if pos[la, s_] >= 0:
                terms.append((5, pos[la, s_], al, s_))
    terms = np.array(terms, dtype=np.intp).reshape(-1, 4)
    lead_pos = np.ascontiguousarray(pos[:, plan.leader]) if A else np.zeros((S, 0), dtype=np.intp)
    sup = plan.supplier_state.astype(np.intp)
    leader = plan.leader.astype(np.intp)
    collective = np.array([k == "collective_defence" for k in plan.alliance_kind], dtype=bool)
    baseline: list = [None, None]  # the last world's affinity_base array, and its read pairs (R, P)

    def base_of(st) -> np.ndarray:
        """The read pairs' baselines, contiguous (R, P): the kernel then reads P numbers a
        replicate, not a pair's cache line of the (S, S) matrix each. ``affinity_base`` is
        set at the start and never changed; a world restored or made anew has another
        array, and gets its own copy."""
        if baseline[0] is not st.affinity_base:
            baseline[:] = [st.affinity_base, np.ascontiguousarray(st.affinity_base.reshape(-1, S * S)[:, pf])]
        return baseline[1]

    none_ex = np.zeros((0, 0), dtype=bool)
    # the read pairs' new values, contiguous, for the recorder and deterrence (World.latest); not
    # offered when a part declared outside the package runs (it could write affinities unseen)
    publish = affinity_moves(plan) is not None

    def step(w) -> None:
        st, par = w.st, w.par
        R = w.n
        g = w.stream("alignment")
        # the stream's calls: a uniform for every replicate and alliance (does it exercise?),
        # then, when pairs are simulated, a 16-bit uniform for every replicate and read pair
        # (the noise); the kernel draws the numbers it uses
        keys = g.keys(2 if P else 1)
        for name in ("affinity", "trust"):
            if not st[name].flags.c_contiguous:
                st[name] = np.ascontiguousarray(st[name])
        keep = w.log is not None and A > 0  # a log narrates: the kernel says where exercises were held, emit counts and logs
        ex = np.empty((R, A), dtype=bool) if keep else none_ex
        was = w.latest.get("affinity")
        latest = was[2] if was is not None and was[2].shape == (R, P) and was[2].dtype == st.affinity.dtype \
            else np.empty((R, P), dtype=st.affinity.dtype)
        drift(aff=st.affinity.reshape(R, S * S), base=base_of(st),
              pf=pf, terms=terms, lead_pos=lead_pos, buyers=buyers, sup=sup, adv_w=adv_w,
              budget=np.ascontiguousarray(par.budget), share_change=state_major(st, "share_change"),
              excess_slip=state_major(st, "excess_slip"), refused_demand=state_major(st, "refused_demand"),
              leader=leader, refused_now=st.refused_now,
              answered_now=st.answered_now, coll=collective, status=st.status, trust=st.trust,
              key_ex=keys[0], key_noise=keys[-1], ids=g.ids, rate=w.rp("alignment", "exercise_rate"),
              k=w.rp("alignment", "noise_sd") * np.sqrt(12.0),
              rho=w.rp("alignment", "reversion"), gs=w.rp("alignment", "share_gain"),
              gx=w.rp("alignment", "slip_cost"), gr=w.rp("alignment", "sale_refusal_cost"),
              gt=w.rp("alignment", "third_party_cost"), gf=w.rp("alignment", "refusal_cost"),
              ga=w.rp("alignment", "support_gain"), gex=w.rp("alignment", "exercise_gain"),
              ct=w.rp("alignment", "trust_coupling"), n_ex=w.counts["alignment.exercise"], keep=keep, ex_out=ex,
              latest=latest)
        if publish:
            w.latest["affinity"] = (st.affinity, pf, latest, w.elapsed + 1)  # the month being simulated
        if keep:
            w.emit("alignment.exercise", ex)

    return step
