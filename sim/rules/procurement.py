"""Procurement: budgets split across suppliers by a logit choice; lagged, unreliable deliveries.

Model ``logit_choice`` (docs/MODEL.md §D2). Each month, for every buyer i (a state with
a procurement budget) and supplier k whose state is not i:

* utility  V[i,k] = b_pq pq_k + b_rel rel_k + b_aff affinity(i, s_k) + b_dep share[i,k]
  (s_k the supplier's state); supplier k is unavailable to i if it lists i in
  ``refuses`` or its state's affinity towards i is below ``refuse_below`` (a supplier
  will not arm its partner's adversary);
* choice   p[i,k] = exp(V[i,k]) / sum over available k' of exp(V[i,k'])  (multinomial logit);
* orders   backlog[i,k] += p[i,k] * budget_i / 12;
* delivery the month's due amount backlog[i,k] / max(lag_k, 1) arrives with
  probability rel_k (one draw per buyer and supplier), else it slips;
* equipment E_i <- E_i (1 - dep/12) + conv * delivered_i / 1e9 and capability changes by
  the change in E_i (so events that change capability are kept);
* shares   flow[i,k] <- (1 - 1/T) flow[i,k] + (1/T) delivered[i,k]; share = flow / (sum of
  flow + other), where "other" is imports from suppliers not modelled, which decays.

For the alignment mechanism, which reacts to departures from the situation at the
start: ``st.share_change`` (this month's change of import shares), ``st.excess_slip``
(what was due but slipped beyond what the supplier's starting reliability implies), and
``st.refused_demand`` (the share of its budget a buyer would have spent with a supplier
that refuses it now but did not at the start).
"""

from __future__ import annotations

import numpy as np

from ..parts import (
    declare_attr,
    declare_event,
    declare_reading,
    declare_state,
    declare_target,
)
from ..scenario.values import Dist, P, default
from ..world.compile import Plan
from ..world.effects import list_target
from .common import affinity_rows
from .reads import declare_affinity_reads
from .registry import RuleParams, register

# ------------------------------------------------------------------ declarations

declare_attr("states", "procurement_budget_usd", P(0), 0.0, "no arms imports unless stated",
             doc="Annual arms-import budget.", unit="USD/year", array="budget", label="{state's} arms-import budget")
declare_attr("states", "suppliers", P(0, 1), keyed_by="suppliers",
             doc="Initial shares of arms imports by supplier (sum <= 1).", array="shares0", state="shares",
             label="{supplier's} share of {state's} arms imports at the start")
declare_attr("states", "orders", P(0), keyed_by="suppliers",
             doc="Arms ordered but not yet delivered at the start, by supplier.", unit="USD",
             array="orders0", state="backlog", label="{state's} open orders from {supplier}")
declare_attr("suppliers", "reliability", P(0, 1), doc="P(a delivery due this month arrives).",
             label="reliability of {supplier's} arms deliveries")
declare_attr("suppliers", "price_quality", P(0, 1), doc="Value for money, 0..1.",
             label="price and quality of {supplier's} arms")
declare_attr("suppliers", "lag_months", P(0, 120, integer=True), 12, "typical order-to-delivery time of a year",
             doc="Months from order to delivery.", unit="months", array="lag",
             label="delivery lag of {supplier's} arms")


def _refuses(ctx) -> np.ndarray:
    plan = ctx.plan
    si = plan.index_of("state")
    out = np.zeros((ctx.n, plan.K, plan.S), dtype=bool)
    for j, k in enumerate(plan.suppliers):
        for c in plan.scenario.suppliers[k].refuses:
            out[:, j, si[c]] = True
    return out


def _refused_at_start(ctx) -> np.ndarray:
    """(R, S, K): supplier k refuses state i at the start (by list or hostility)."""
    sup = ctx.plan.supplier_state
    out = np.swapaxes(ctx.st["refuses"], 1, 2).copy()
    key = "rule:procurement.refuse_below"
    if key in ctx.par.__dict__:
        out |= np.swapaxes(ctx.st["affinity"][:, sup, :], 1, 2) < ctx.par[key][:, None, None]
    return out


def start_shares(ctx) -> np.ndarray:
    """(R, S, K) import shares at the start (docs/MODEL.md D2, "Start").

    A buyer's shares drawn from a distribution (or set per replicate by a study) keep their
    draws; its other declared shares take up the difference between what its declared
    shares add up to (a distribution counting at its mean) and the drawn ones, in
    proportion to their values and never below 0, so that in every run they add up as
    declared and the imports from suppliers not modelled stay as declared. Shares that
    still add up to more than 1 are scaled to add up to 1. A buyer with no drawn share
    starts at its declared shares exactly.
    """
    plan = ctx.plan
    out = np.array(ctx.par.shares0, copy=True)
    si, ki = plan.index_of("state"), plan.index_of("supplier")
    for s, spec in plan.scenario.states.items():
        i = si[s]
        declared = np.zeros(plan.K)
        drawn = np.array([f"states.{s}.suppliers.{k}" in ctx.fixed for k in plan.suppliers], dtype=bool)
        for k, p in spec.suppliers.items():
            declared[ki[k]] = p.mean()
            drawn[ki[k]] |= isinstance(p.value, Dist)
        if not drawn.any():
            continue
        row = out[:, i, :]  # (R, K), a view
        points = ~drawn & (declared > 0)
        if points.any():
            room = np.clip(declared.sum() - row[:, drawn].sum(axis=1), 0.0, None)  # (R,)
            row[:, points] = declared[points] * (room / declared[points].sum())[:, None]
        total = row.sum(axis=1)
        row /= np.where(total > 1.0, total, 1.0)[:, None]
    return out


declare_state("shares", ("S", "K"), init=start_shares, doc="import shares by supplier",
              record="mean", label="{supplier} in {state's} imports", chart="relations", trajectories=True,
              track=True, screen="shares", column="{state}.share.{supplier}", sparse="columns")
declare_state("backlog", ("S", "K"), init=lambda ctx: ctx.par.orders0.copy(), doc="USD ordered, not yet delivered")
declare_state("delivered", ("S", "K"), init=0.0, doc="this month's deliveries (USD)")
declare_state("slipped", ("S", "K"), init=0.0, doc="due this month but not delivered (USD)")
declare_state("refused_demand", ("S", "K"), init=0.0,
              doc="budget share refused by suppliers that did not refuse at the start")
declare_state("share_change", ("S", "K"), init=0.0, doc="this month's change of import shares")
declare_state("excess_slip", ("S", "K"), init=0.0, doc="slipped beyond what the starting reliability implies")
declare_state("reliability0", ("K",), init=lambda ctx: ctx.par.reliability.copy(),
              doc="each supplier's reliability at the start (buyers' expectation)")
declare_state("refuses", ("K", "S"), "bool", _refuses, doc="supplier refuses to sell to the state")
declare_state("refused_start", ("S", "K"), "bool", _refused_at_start, doc="refused at the start")
declare_state("equipment", ("S",), init=0.0, doc="capability added by deliveries, depreciating")
declare_state("flow", ("S", "K"), init=lambda ctx: ctx.st["shares"] * (ctx.par.budget / 12.0)[:, :, None],
              doc="delivery-weighted import flows behind the shares")
declare_state("flow_other", ("S",),
              init=lambda ctx: np.clip(1.0 - ctx.st["shares"].sum(axis=2), 0.0, 1.0) * (ctx.par.budget / 12.0),
              doc="imports from suppliers not modelled")
declare_target("suppliers", "refuses", "names", list_target("refuses"), doc="clients the supplier will not sell to")
declare_reading("share", "shares", ("state", "supplier"), "num", "share(armenia, india_arms)", doc="0-1")


declare_event("procurement.delivery", ("state", "supplier"), "{state} receives USD {usd_m:.0f}m of arms from {supplier}",
              ("usd_m",), doc="a month's delivery arrives", routine=True)
declare_event("procurement.slip", ("state", "supplier"), "USD {usd_m:.0f}m of arms due to {state} from {supplier} do not arrive",
              ("usd_m",), doc="a delivery due this month does not arrive", routine=True)
declare_event("procurement.refusal", ("state", "supplier"), "{supplier} will not sell to {state}",
              doc="a supplier that sold at the start refuses a buyer (counted per month)", routine=True)


STATE_MAJOR = ("backlog", "delivered", "slipped", "refused_demand", "share_change", "excess_slip", "flow",
               "refused_start", "flow_other")
"""The rule's own arrays (and what it hands the alignment rule), kept state by state: each
state's (R, K) block (its (R,) column for ``flow_other``) is contiguous in memory, the
array a view of that buffer with the replicates first, as declared (:func:`state_major`).
The kernels touch the rows of a few buyers only: one contiguous stream per buyer and array
rather than a 24-byte piece of every replicate's (S, K) block (karabakh: 2 buyers of 15
states). Measured in karabakh runs (2,000 replicates, medians of 10 alternated rounds): the
procurement rule 1.10 -> 0.90 ms a month, alignment 1.25 -> 1.12, with results the same to the
bit (benchmarks/results/2026-12-07-state-major.txt)."""


def state_major(st, name: str) -> np.ndarray:
    """State array ``name`` as its state-major buffer: (S, R, K) (or (S, R)), C-contiguous,
    for a kernel. The world holds a view of it with the replicates first, as declared; an
    array set otherwise (at the start, by an effect that replaced it, a restored game) is
    laid out so once, and kept so."""
    x = st[name]
    buf = np.swapaxes(x, 0, 1)
    if not buf.flags.c_contiguous:
        buf = np.ascontiguousarray(buf)
        st[name] = np.swapaxes(buf, 0, 1)
    return buf


def buyers_of(plan: Plan) -> np.ndarray:
    """States that can buy arms: a budget, open orders, or an effect that can give them one."""
    scn = plan.scenario
    si = plan.index_of("state")
    buyer = np.zeros(plan.S, dtype=bool)
    for s_name, spec in scn.states.items():
        b = spec.procurement_budget_usd
        hi = b.value.support()[1] if isinstance(b.value, Dist) else b.mean()
        if hi > 0 or any(p.mean() > 0 or isinstance(p.value, Dist) for p in spec.orders.values()):
            buyer[si[s_name]] = True
    effects = [ev.effect for ev in scn.events] + [lv.effect for acts in scn.levers.values() for lv in acts.values()]
    for eff in effects:
        for op in (eff.set, eff.add, eff.multiply):
            for path in op:
                parts = path.split(".")
                if parts[0] == "states" and len(parts) >= 3 and parts[2] in ("procurement_budget_usd", "orders"):
                    buyer[si[parts[1]]] = True
    return np.flatnonzero(buyer)


class ProcurementParams(RuleParams):
    """Parameters of the supplier choice and delivery model."""

    beta_price_quality: P(0, 20) = default(2.0, "value for money matters as much as reliability", symbol="β_pq")
    beta_reliability: P(0, 20) = default(
        2.0,
        "buyers turn away from late suppliers: India ended Russian deals over delivery problems "
        "[in-ru-deals-ended-reason] and Armenia bought Indian rockets amid Russian delays "
        "[in-am-mlrs-amid-russian-delays]", symbol="β_rel")
    beta_affinity: P(0, 20) = default(
        3.0, "arms follow alignment: buyers mostly buy from friends, rarely from states they are indifferent to", symbol="β_aff")
    beta_dependence: P(0, 20) = default(
        3.0,
        "existing stocks, spares and training tie small buyers with Soviet-standard inventories to the "
        "incumbent (interoperability); a buyer with all its imports from one supplier gives it e^3 = 20x the weight", symbol="β_dep", label="procurement: pull of the incumbent supplier (dependence on its stocks)")
    refuse_below: P(-1, 1) = default(
        -0.4, "a supplier whose state is hostile to the buyer (affinity below -0.4) will not sell", symbol="θ_refuse")
    share_memory_months: P(1, 240) = default(
        36.0, "import shares are judged over about three years of deliveries, like SIPRI's periods", symbol="T", unit="months")
    capability_per_usd_bn: P(0, 10) = default(
        0.1,
        "capability is measured in USD bn of annual military spending, which in steady state sustains a "
        "stock about 1/depreciation times larger; so USD 1 bn of equipment adds 0.1, and a buyer importing "
        "Y a year gains Y in steady state (= depreciation_per_year)", symbol="conv", unit="per USD bn")
    depreciation_per_year: P(0, 1) = default(0.1, "equipment loses about a tenth of its value a year", symbol="dep", unit="1/year")


def _reads(plan: Plan) -> np.ndarray:
    """Buyers towards their suppliers' states (choice) and back (refusals)."""
    out = np.zeros((plan.S, plan.S), dtype=bool)
    b = buyers_of(plan)
    out[np.ix_(b, plan.supplier_state)] = True
    out[np.ix_(plan.supplier_state, b)] = True
    return out


declare_affinity_reads("procurement", "logit_choice", _reads)


@register("procurement", "logit_choice", ProcurementParams)
def build(plan: Plan):
    """Multinomial-logit supplier choice, lagged deliveries, capability and shares.

    Works on the rows of the buyers only (states with a budget, open orders, or an
    effect that can give them one); other states' shares stay as they are.
    """
    K = plan.K
    buyers = buyers_of(plan)
    if K == 0 or buyers.size == 0:
        return lambda w: None
    B = buyers.size
    own = plan.supplier_state[None, :] == buyers[:, None]  # (B, K): supplier is the buyer's own

    # numba: imported (and the kernel compiled, or loaded from its cache) when a run uses the rule
    from .procurement_kernel import procure

    sup = plan.supplier_state.astype(np.intp)
    buyers = buyers.astype(np.intp)
    names = ("shares", "equipment", "capability")  # updated in place, with the replicates first

    none_f, none_b = np.empty((0, 0, 0)), np.empty((0, 0, 0), dtype=bool)
    S = plan.S
    # (B, K, 2): each buyer towards each supplier's state and back, flat in the (S, S) matrix
    pairs = np.stack([buyers[:, None] * S + sup[None, :], sup[None, :] * S + buyers[:, None]], axis=2)
    read = np.repeat(~own[:, :, None], 2, axis=2)  # not towards the buyer's own supplier (it buys from it unasked)

    def step(w) -> None:
        st, par = w.st, w.par
        R = w.n
        c = np.ascontiguousarray

        g = w.stream("procurement")  # one draw per buyer and supplier: does the due delivery arrive? (drawn in the kernel)
        for name in names:  # updated in place by the kernel
            if not st[name].flags.c_contiguous:
                st[name] = c(st[name])
        m = {name: state_major(st, name) for name in STATE_MAJOR}  # updated in place too, state by state
        keep = w.log is not None  # a log narrates: the kernel says where each event happened, emit counts and logs
        got, due, refusal = (np.empty((R, B, K)), np.empty((R, B, K)), np.empty((R, B, K), dtype=bool)) if keep \
            else (none_f, none_f, none_b)
        rows, at = affinity_rows(w, c(st.affinity), "_procurement_pairs", pairs, read)
        procure(buyers=buyers, sup=sup, own=own, key=g.keys(1)[0], ids=g.ids, aff=rows, at=at,
                price_quality=c(par.price_quality), reliability=c(par.reliability), budget=c(par.budget),
                lag=c(par.lag), refuses=c(st.refuses), refused_start=m["refused_start"],
                reliability0=c(st.reliability0), shares=st.shares, backlog=m["backlog"], delivered=m["delivered"],
                slipped=m["slipped"], refused_demand=m["refused_demand"], share_change=m["share_change"],
                excess_slip=m["excess_slip"], equipment=st.equipment, capability=st.capability, flow=m["flow"],
                flow_other=m["flow_other"],
                b_pq=w.rp("procurement", "beta_price_quality"), b_rel=w.rp("procurement", "beta_reliability"),
                b_aff=w.rp("procurement", "beta_affinity"), b_dep=w.rp("procurement", "beta_dependence"),
                refuse_below=w.rp("procurement", "refuse_below"),
                memory=w.rp("procurement", "share_memory_months"),
                conv=w.rp("procurement", "capability_per_usd_bn"),
                dep=w.rp("procurement", "depreciation_per_year"), n_delivery=w.counts["procurement.delivery"],
                n_slip=w.counts["procurement.slip"], n_refusal=w.counts["procurement.refusal"], keep=keep,
                got_out=got, due_out=due, refusal_out=refusal)
        if keep:
            rows = (buyers, None)  # the masks are over the buyers' rows only
            w.emit("procurement.delivery", got > 0, rows, usd_m=got / 1e6)
            w.emit("procurement.slip", due > got, rows, usd_m=(due - got) / 1e6)
            w.emit("procurement.refusal", refusal, rows)

    return step

