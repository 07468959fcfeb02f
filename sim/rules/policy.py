"""Lever policies: actors nobody plays pull their own levers by a declared rule.

Model ``levers`` (docs/MODEL.md §D1b). A scenario's lever may carry a policy::

    levers:
      azerbaijan:
        lift_blockade:
          effect: {set: {flashpoints.lachin.level: 1}}
          policy: {when: "level(border) >= 4", probability: 0.2, once: true}

Each month, after the scenario's events, every lever with a policy is *eligible* where
its condition holds, its actor is not played (``played``, set by a game for the actors
people play) and, if ``once``, it has not been pulled yet; it is pulled with its
probability ``p_l`` (one uniform draw per replicate and policy lever every month, drawn
for everyone and then masked). Pulling applies the lever's effect at once; events it
names fire next month, as for any effect applied between months. In a plain Monte
Carlo run nobody is played, so every policy acts; a scenario without policies draws
nothing and behaves exactly as before.
"""

from __future__ import annotations

import numpy as np

from ..parts import ADVISED, declare_event, declare_state
from ..world.compile import Plan
from ..world.effects import compile_effect
from ..world.predicates import compile_predicate
from .reads import declare_affinity_reads
from .registry import RuleParams, register


def _pulled_at_start(ctx) -> np.ndarray:
    """Levers pulled from the start (``sim run --lever``) count as pulled."""
    plan = ctx.plan
    out = np.zeros((ctx.n, len(plan.lever_keys)), dtype=bool)
    for i, key in enumerate(plan.lever_keys):
        if key in plan.levers:
            out[:, i] = True
    return out


declare_state("played", ("S",), "bool", False,
              doc="the state is played by a person (its policies do not act, nor do the rules take its decisions)")
declare_state(ADVISED, ("S",), "bool", False,
              doc="a played state whose declared decisions the rules take at their own odds (a game's forecast: "
                  "sim.parts.model_decides)")
declare_state("lever_pulled", ("L",), "bool", _pulled_at_start, doc="the lever has been pulled (by a player or a policy)")

declare_event("policy.pulled", ("lever",), "{state} acts by its own policy: {lever}",
              doc="an actor nobody plays pulls one of its levers under the scenario's policy")


class PolicyParams(RuleParams):
    """Lever policies have no parameters of their own; each policy carries its probability."""


declare_affinity_reads("policy", "levers", None)


@register("policy", "levers", PolicyParams, phase="events")
def build(plan: Plan):
    """Policies of levers: pulled where their condition holds, with their probability."""
    scn = plan.scenario
    si = plan.index_of("state")
    table = []
    for i, (actor, name) in enumerate(plan.lever_keys):
        lever = scn.levers[actor][name]
        pol = lever.policy
        if pol is None:
            continue
        ops, triggers = compile_effect(lever.effect, plan)
        table.append({
            "i": i,
            "state": si[actor],
            "when": compile_predicate(pol.when, plan) if pol.when else None,
            "once": pol.once,
            "ops": ops,
            "triggers": [plan.index_of("event")[t] for t in triggers],
        })
    if not table:
        return lambda w: None
    L = len(plan.lever_keys)

    def step(w) -> None:
        u = w.stream("policy").random((w.n, len(table)))
        fired = np.zeros((w.n, L), dtype=bool)
        for j, row in enumerate(table):
            i = row["i"]
            mask = ~w.st.played[:, row["state"]] & (u[:, j] < w.par.policy_p[:, i])
            if row["once"]:
                mask &= ~w.st.lever_pulled[:, i]
            if row["when"] is not None:
                mask &= row["when"](w)
            if not mask.any():
                continue
            for op in row["ops"]:
                op(w, mask)
            for t in row["triggers"]:
                w.st.triggered[:, t] |= mask
            w.st.lever_pulled[:, i] |= mask
            fired[:, i] = mask
        if fired.any():
            w.emit("policy.pulled", fired)

    return step
