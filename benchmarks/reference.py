"""Reference implementation of the model: one plain ``mesa.Model`` per replicate.

The vectorized world (``sim.world.model.World``) evolves R replicates in lockstep with
NumPy arrays. This module implements the same model, written from docs/MODEL.md
(§1.3 schedule, §3.1 initialization, §3.3 submodels D1-D7) and docs/SCENARIOS.md
(predicates, effects, outcomes), for ONE replicate at a time: agents hold plain Python
floats and ints, and every mechanism is an explicit loop over actors. It imports
nothing from ``sim.world`` (except the membership status codes), ``sim.rules``,
``sim.outcomes``, ``sim.runner`` or ``sim.results``; it reads scenarios through
``sim.load_scenario`` and parses predicates with ``sim.scenario.expr``, and has its own
predicate evaluator, effect interpreter and outcome detectors.

Its job is to keep the vectorized code honest: ``tests/test_reference.py`` runs both on
the same scenario and checks that outcome probabilities and mean final values agree in
distribution (the random streams differ, so only distributions can be compared), and
``benchmarks/bench_reference.py`` compares their throughput.

Usage::

    from benchmarks.reference import run_reference
    out = run_reference("tests/data/diff_small.yaml", runs=2000, seed=1)
    out["outcomes"]["border_fatal_clash"]["probability"]
    out["outcomes"]["border_fatal_clash"]["first_month"]   # per replicate, 0 = never
    out["outcomes"]["north_distrust"]["final"]             # per-replicate final values

Randomness: replicate r uses ``numpy.random.SeedSequence(seed).spawn(runs)[r]``; it
seeds the model's NumPy generator (Mesa's ``model.rng``, used to sample the scenario's
parameter distributions) and, through it, Mesa's ``model.random`` (a ``random.Random``
used for the dynamics).

Where docs/MODEL.md is silent or ambiguous, the choice made is marked ``AMBIGUITY`` in
the code, and where the docs and the vectorized code disagree, ``DOC/CODE`` marks which
one this implementation follows.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import mesa
import numpy as np

import sim
from sim.api import LoadedScenario
from sim.scenario import expr as X
from sim.scenario.expr import month_index, parse_predicate
from sim.scenario.values import Dist, Param
from sim.world.agents import forget
from sim.world.compile import ACTIVE, EXITED, FROZEN, NONE

try:
    from benchmarks.reference_validity import ValidityMixin
except ImportError:  # pragma: no cover - run as a script from benchmarks/
    from reference_validity import ValidityMixin  # type: ignore[no-redef]

INF = math.inf
SQRT3 = math.sqrt(3.0)
STATUS_CODE = {"none": NONE, "active": ACTIVE, "frozen": FROZEN, "exited": EXITED}

# Ranges of the scenario parameters (docs/SCENARIOS.md: "Values are clipped to each
# parameter's range"); rule parameters carry their own bounds.
RANGE = {
    "capability": (0.0, INF, False),
    "resolve": (0.0, 1.0, False),
    "available_capacity": (0.0, 1.0, False),
    "procurement_budget_usd": (0.0, INF, False),
    "affinity": (-1.0, 1.0, False),
    "suppliers": (0.0, 1.0, False),
    "orders": (0.0, INF, False),
    "credibility": (0.0, 1.0, False),
    "outside_zone": (0.0, 1.0, False),
    "trigger_level": (1.0, 5.0, True),
    "trust": (0.0, 1.0, False),
    "reliability": (0.0, 1.0, False),
    "price_quality": (0.0, 1.0, False),
    "lag_months": (0.0, 120.0, True),
    "level": (0.0, 5.0, True),
    "probability": (0.0, 1.0, False),
    "blockade": (-1.0, 1.0, True),
    "launch": (-1.0, 1.0, True),
    "talks": (0.0, 2.0, True),
    "progress": (0.0, 1.0, False),
    "supplies": (0.0, 1.0, False),
    # D3b: a flashpoint's record and setting, a state's major-power status
    "peace_years": (0.0, 50.0, False),
    "disputes_past10": (0.0, 10.0, True),
    "last_fatal": (0.0, 1.0, True),
    "last_hostility": (0.0, 5.0, True),
    "fatal_this_year": (0.0, 1.0, True),
    "territorial": (0.0, 1.0, False),
    "contiguity": (1.0, 6.0, True),
    "major_power": (0.0, 1.0, True),
}


def clip(x: float, lo: float, hi: float) -> float:
    return lo if x < lo else hi if x > hi else x


def weight(c_x: float, c_self: float) -> float:
    """Helper weight w_X = c_X / (c_X + c_sigma) (0 if both are 0)."""
    tot = c_x + c_self
    return c_x / tot if tot > 0 else 0.0


def fit(x: float, rng: tuple[float, float, bool]) -> float:
    """Clip to a parameter's range (and round whole-number parameters)."""
    lo, hi, integer = rng
    x = clip(x, lo, hi)
    return float(round(x)) if integer else x


# =========================================================================== scenario data


class ScenarioData:
    """What is the same for every replicate of a scenario: names, structure, parsed text."""

    def __init__(self, loaded: LoadedScenario, months: int | None = None):
        spec = loaded.spec
        self.loaded = loaded
        self.spec = spec
        self.start = month_index(spec.meta.start)
        self.horizon = int(months if months is not None else spec.meta.horizon_months)
        self.state_names = list(spec.states)
        self.si = {s: i for i, s in enumerate(self.state_names)}
        self.alliance_names = list(spec.alliances)
        self.supplier_names = list(spec.suppliers)
        self.territory_names = list(spec.territories)
        self.flashpoint_names = list(spec.flashpoints)
        self.rule_settings = dict(loaded.rules)  # kind -> RuleSetting (absent = off)
        # adversaries (MODEL.md D5: ADV[i,j] = 1 when i and j are the two sides of a flashpoint)
        self.adversaries: dict[str, set[str]] = {s: set() for s in self.state_names}
        for f in spec.flashpoints.values():
            a, b = f.sides
            self.adversaries[a].add(b)
            self.adversaries[b].add(a)
        # events
        self.event_names = [e.name for e in spec.events]
        ei = {n: i for i, n in enumerate(self.event_names)}
        self.events = []
        for ev in spec.events:
            self.events.append(
                {
                    "name": ev.name,
                    "at": month_index(ev.at) if ev.at else None,
                    "when": parse_predicate(ev.when) if ev.when else None,
                    "once": ev.once,
                    "probability": ev.probability,
                    "ops": effect_ops(ev.effect),
                    "triggers": [ei[t] for t in ev.effect.event],
                }
            )
        # lever policies (MODEL.md D1b): levers in file order, those with a policy act
        self.lever_keys = [(a, lv) for a, levers in spec.levers.items() for lv in levers]
        self.policies = []
        for i, (a, lv) in enumerate(self.lever_keys):
            lever = spec.levers[a][lv]
            if lever.policy is None:
                continue
            self.policies.append(
                {
                    "lever": i,
                    "actor": a,
                    "when": parse_predicate(lever.policy.when) if lever.policy.when else None,
                    "once": lever.policy.once,
                    "probability": lever.policy.probability,
                    "ops": effect_ops(lever.effect),
                    "triggers": [ei[t] for t in lever.effect.event],
                }
            )
        # outcomes: primary ones have a condition; any/all combine others
        self.outcome_names = list(spec.outcomes)
        self.outcomes = []
        for name, o in spec.outcomes.items():
            d = {"name": name, "kind": o.kind, "spec": o}
            if o.kind == "condition":
                d["when"] = parse_predicate(o.when)
            self.outcomes.append(d)

    def is_on(self, kind: str) -> bool:
        return kind in self.rule_settings


def effect_ops(effect) -> list[tuple[str, str, Any]]:
    """(op, path, value) in the order they are applied: set, add, multiply, remove.

    AMBIGUITY: docs/SCENARIOS.md does not say in which order the four kinds of change of
    one effect apply; this follows the order the docs list them in.
    """
    ops = []
    for op in ("set", "add", "multiply", "remove"):
        for path, value in getattr(effect, op).items():
            ops.append((op, path, value))
    return ops


# ================================================================================ agents


class StateAgent(mesa.Agent):
    """A state (or de facto / non-state armed actor) in one replicate."""

    def __init__(self, model: ReferenceModel, name: str, index: int, spec):
        super().__init__(model)
        self.name = name
        self.index = index
        draw = model.draw
        self.capability = draw(spec.capability, RANGE["capability"])
        self.resolve = draw(spec.resolve, RANGE["resolve"])
        self.capacity = draw(spec.available_capacity, RANGE["available_capacity"])
        self.capacity_ref = self.capacity  # D4: answers scale with the leader's capacity relative to this
        self.supply = draw(spec.supplies, RANGE["supplies"])  # D8
        self.major_power = draw(spec.major_power, RANGE["major_power"])  # D3b
        self.budget = draw(spec.procurement_budget_usd, RANGE["procurement_budget_usd"])
        self.given_affinity = {t: draw(p, RANGE["affinity"]) for t, p in spec.affinity.items()}
        self.affinity: list[float] = []  # towards each state, by index (filled by the model)
        self.affinity_base: list[float] = []
        k_names = model.data.supplier_names
        self.shares = {k: 0.0 for k in k_names}
        for k, p in spec.suppliers.items():
            self.shares[k] = draw(p, RANGE["suppliers"])
        # D2 start: drawn shares keep their draws; the declared point shares take up the rest
        # of the declared total, in proportion, not below 0; more than 1 in all is scaled to 1
        drawn = {k for k, p in spec.suppliers.items() if isinstance(p.value, Dist)}
        if drawn:
            declared = {k: p.mean() for k, p in spec.suppliers.items()}
            points = [k for k in declared if k not in drawn and declared[k] > 0]
            if points:
                room = max(0.0, sum(declared.values()) - sum(self.shares[k] for k in drawn))
                weight = sum(declared[k] for k in points)
                for k in points:
                    self.shares[k] = declared[k] * room / weight
            total = sum(self.shares.values())
            if total > 1.0:
                self.shares = {k: v / total for k, v in self.shares.items()}
        self.backlog = {k: 0.0 for k in k_names}
        for k, p in spec.orders.items():
            self.backlog[k] = draw(p, RANGE["orders"])
        monthly = self.budget / 12.0
        # D2: flows start at the initial shares times B/12; flow_other is the rest
        self.flow = {k: self.shares[k] * monthly for k in k_names}
        self.flow_other = clip(1.0 - sum(self.shares.values()), 0.0, 1.0) * monthly
        self.equipment = 0.0
        self.delivered = {k: 0.0 for k in k_names}
        self.slipped = {k: 0.0 for k in k_names}  # due this month but not delivered
        self.refused_demand = {k: 0.0 for k in k_names}  # refused by suppliers not refusing at the start
        self.share_change = {k: 0.0 for k in k_names}  # this month's change of import shares
        self.excess_slip = {k: 0.0 for k in k_names}  # slipped beyond what reliability at the start implied
        self.refused_start = {k: False for k in k_names}


class AllianceAgent(mesa.Agent):
    """An alliance: statuses and trust of every state towards it, in one replicate."""

    def __init__(self, model: ReferenceModel, name: str, spec):
        super().__init__(model)
        self.name = name
        self.kind = spec.kind
        self.leader = spec.leader
        self.respond_between_members = spec.member_vs_member == "respond"
        self.candidates = set(spec.candidates)
        draw = model.draw
        self.credibility = draw(spec.credibility, RANGE["credibility"])
        self.outside_zone = draw(spec.outside_zone, RANGE["outside_zone"])
        self.trigger = draw(spec.trigger_level, RANGE["trigger_level"])
        self.status = {s: NONE for s in model.data.state_names}
        for m in spec.members:
            self.status[m] = ACTIVE
        for m in spec.frozen:
            self.status[m] = FROZEN
        given = {s: draw(p, RANGE["trust"]) for s, p in spec.trust.items()}
        # MODEL.md §3.1: members without a stated trust get the alliance's default_trust
        default_trust = draw(spec.default_trust, RANGE["trust"])
        self.trust = {}
        for s in model.data.state_names:
            if s in given:
                self.trust[s] = given[s]
            elif self.status[s] != NONE:
                self.trust[s] = default_trust
            else:
                self.trust[s] = 0.0  # AMBIGUITY: non-members without a stated trust
        self.trust0 = dict(self.trust)  # D6: trust reverts towards its starting value
        self.initial_status = dict(self.status)
        self.refused_now = {s: 0 for s in model.data.state_names}
        self.answered_now = {s: 0 for s in model.data.state_names}
        self.requests = {s: 0 for s in model.data.state_names}  # requests made so far
        self.responses = {s: 0 for s in model.data.state_names}  # ... and answered

    @property
    def collective(self) -> bool:
        return self.kind == "collective_defence"

    def is_member(self, s: str) -> bool:
        return self.status[s] in (ACTIVE, FROZEN)


class SupplierAgent(mesa.Agent):
    """An arms supplier in one replicate."""

    def __init__(self, model: ReferenceModel, name: str, spec):
        super().__init__(model)
        self.name = name
        self.state = spec.state
        draw = model.draw
        self.reliability = draw(spec.reliability, RANGE["reliability"])
        self.reliability0 = self.reliability  # buyers' expectation
        self.price_quality = draw(spec.price_quality, RANGE["price_quality"])
        self.lag = draw(spec.lag_months, RANGE["lag_months"])
        self.refuses = set(spec.refuses)


class TerritoryAgent(mesa.Agent):
    """Land whose control can change hands."""

    def __init__(self, model: ReferenceModel, name: str, spec):
        super().__init__(model)
        self.name = name
        self.controller = spec.controller
        self.claimants = set(spec.claimants)
        self.held_before = spec.controller  # D4a: controller at the end of the previous month


class FlashpointAgent(mesa.Agent):
    """A disputed dyad on the escalation ladder, in one replicate."""

    def __init__(self, model: ReferenceModel, name: str, spec):
        super().__init__(model)
        self.name = name
        self.sides = (spec.sides[0], spec.sides[1])
        self.stakes = spec.stakes
        self.location = spec.location
        self.level = int(model.draw(spec.level, RANGE["level"]))
        self.peak = self.level  # highest rung this month (D3a)
        self.calm_at: float | None = None
        self.standing = self.level >= 2  # D3a: a dispute running at the start is standing
        self.war_months = 0
        self.rung_floor = 0  # D8
        self.blockade = int(model.draw(spec.blockade, RANGE["blockade"]))
        self.launch = int(model.draw(spec.launch, RANGE["launch"]))  # D9
        self.offensives = 0
        self.seizures = 0
        self.gains = 0  # D9: the challenger's successes, part or all
        self.retakes = 0
        self.held = 0.0  # D9: the share of the stakes the controller's opponent holds
        self.held_from: str | None = None  # ... taken from this controller (held lapses if it changes)
        self.talks = int(model.draw(spec.talks, RANGE["talks"]))  # D10
        self.progress = model.draw(spec.progress, RANGE["progress"])
        self.agreement = False
        self.patron_wait: dict[tuple[str, str, str], int] = {}  # D4a
        self.settled = False
        self.casualties = 0.0
        self.deaths = 0.0
        self.momentum = 1.0 if self.level >= 3 else 0.0  # §3.1
        self.mediators = set(spec.mediators)
        self.support = [0.0, 0.0]  # committed allied support for side 0 / side 1
        self.lr_ema = 0.0  # set by the model once capabilities exist
        self.request_wait: dict[tuple[int, str], int] = {}  # (side, alliance) -> months since last request
        # D3b: the record before the start, in calendar years, and the setting
        draw = model.draw
        self.peace = draw(spec.peace_years, RANGE["peace_years"])
        k = int(round(draw(spec.disputes_past10, RANGE["disputes_past10"])))
        quiet = min(int(math.floor(self.peace)), 10)
        k = min(k, 10 - quiet)
        # bit j: a dispute j calendar years ago (the k most recent the years at peace allow); bit 0: this year
        self.dispute_years = (((1 << k) - 1) << (quiet + 1)) | (1 if self.level >= 2 else 0)
        self.fatal_last = draw(spec.last_fatal, RANGE["last_fatal"]) > 0.5
        self.hostility_last = int(round(draw(spec.last_hostility, RANGE["last_hostility"])))
        self.year_top = self.level
        self.year_fatal = draw(spec.fatal_this_year, RANGE["fatal_this_year"]) > 0.5
        self.territorial = draw(spec.territorial, RANGE["territorial"])
        self.contiguity = int(round(draw(spec.contiguity, RANGE["contiguity"])))

    def past_disputes(self) -> int:
        """Dispute years among the last ten completed ones."""
        return bin((self.dispute_years >> 1) & ((1 << 10) - 1)).count("1")


# ================================================================================= model


class ReferenceModel(ValidityMixin, mesa.Model):
    """One replicate of a scenario, advanced one month per :meth:`step`.

    Args:
        data: The scenario's :class:`ScenarioData`.
        seed_seq: This replicate's seed sequence.
        keep_trace: Keep a per-month record of the state (for per-month averages).
    """

    def __init__(self, data: ScenarioData, seed_seq: np.random.SeedSequence, keep_trace: bool = False):
        super().__init__(rng=np.random.Generator(np.random.PCG64(seed_seq)))
        self.data = data
        self.keep_trace = keep_trace
        self.alliance_replies = False  # the alliance rule ran this month (D5 support term)
        self.elapsed = 0  # months simulated so far
        self.calendar_month = data.start  # the month being simulated (year * 12 + month - 1)
        spec = data.spec
        # rule parameters, sampled once per replicate
        self.rule: dict[str, dict[str, Any]] = {}
        for kind, rs in data.rule_settings.items():
            vals = {}
            for pname, p in rs.params.items():
                b = rs.bounds.get(pname)
                rng = (b.lo, b.hi, b.integer) if b is not None else (-INF, INF, False)
                vals[pname] = self.draw(p, rng)
            self.rule[kind] = vals
        # actors
        self.state_by_name = {s: StateAgent(self, s, i, spec.states[s]) for i, s in enumerate(data.state_names)}
        self.state_list = [self.state_by_name[s] for s in data.state_names]
        self._init_affinity()
        self.supplier_by_name = {k: SupplierAgent(self, k, spec.suppliers[k]) for k in data.supplier_names}
        if data.is_on("procurement"):  # who is refused arms at the start (by list or hostility)
            theta = self.rule["procurement"]["refuse_below"]
            for st in self.state_list:
                for k, sup in self.supplier_by_name.items():
                    st.refused_start[k] = st.name in sup.refuses or self.aff(sup.state, st.name) < theta
        self.alliance_by_name = {a: AllianceAgent(self, a, spec.alliances[a]) for a in data.alliance_names}
        self.territory_by_name = {t: TerritoryAgent(self, t, spec.territories[t]) for t in data.territory_names}
        self.flashpoint_by_name = {f: FlashpointAgent(self, f, spec.flashpoints[f]) for f in data.flashpoint_names}
        for fp in self.flashpoint_by_name.values():
            fp.lr_ema = self.log_ratio(fp, with_support=False)  # §3.1: no shift at the start
        self.event_p = [self.draw(ev["probability"], RANGE["probability"]) for ev in data.events]
        self.fired = [False] * len(data.events)
        self.policy_p = [self.draw(pol["probability"], RANGE["probability"]) for pol in data.policies]
        self.pulled = [False] * len(data.lever_keys)
        self.played: set[str] = set()  # actors played by people: their policies do not act
        self.pending: list[int] = []  # events triggered between months (by a lever), fired next month
        # observation
        self.first = {o["name"]: 0 for o in data.outcomes}
        self.trace: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ helpers

    def draw(self, p: Param, rng: tuple[float, float, bool]) -> Any:
        """A parameter's value in this replicate (a distribution is sampled once)."""
        v = p.value
        if isinstance(v, Dist):
            return fit(float(v.sample(self.rng, 1)[0]), rng)
        if isinstance(v, tuple):
            return tuple(float(x) for x in v)
        return float(v)

    def _init_affinity(self) -> None:
        """§3.1: a direction not given takes the other direction's value; else 0."""
        names = self.data.state_names
        for s in self.state_list:
            row = []
            for t in names:
                if t == s.name:
                    row.append(0.0)
                elif t in s.given_affinity:
                    row.append(s.given_affinity[t])
                elif s.name in self.state_by_name[t].given_affinity:
                    row.append(self.state_by_name[t].given_affinity[s.name])
                else:
                    row.append(0.0)
            s.affinity = row
            s.affinity_base = list(row)

    def aff(self, i: str, j: str) -> float:
        """Affinity of state i towards state j."""
        return self.state_by_name[i].affinity[self.data.si[j]]

    def log_ratio(self, fp: FlashpointAgent, with_support: bool = True) -> float:
        """log(c_a / c_b): capabilities (plus committed support) times supplies (D8)."""
        a, b = self.state_by_name[fp.sides[0]], self.state_by_name[fp.sides[1]]
        ca, cb = a.capability, b.capability
        if with_support:
            ca += fp.support[0]
            cb += fp.support[1]
        ca *= a.supply
        cb *= b.supply
        return math.log(max(ca, 1e-9) / max(cb, 1e-9))

    # ----------------------------------------------------------------- schedule

    def step(self) -> None:
        """One month, mechanisms in the order of MODEL.md §1.3, then observation."""
        self.calendar_month = self.data.start + self.elapsed
        on = self.data.is_on
        if on("events"):
            self.events_step()
        if on("policy"):
            self.policy_step()
        if on("procurement"):
            self.procurement_step()
        if on("history"):
            self.history_step()
        if on("blockade"):
            self.blockade_step()
        if on("escalation"):
            if self.data.rule_settings["escalation"].model == "spells":
                self.spells_step()
            else:
                self.escalation_step()
        if on("offensive") and on("escalation"):
            self.offensive_step()
        elif on("offensive"):
            for fp in self.flashpoint_by_name.values():
                fp.launch = 0
        if on("talks"):
            self.talks_step()
        self.alliance_replies = False
        if on("alliance"):
            self.alliance_step()
        if on("patronage"):
            self.patronage_step(on("alliance"))
            self.alliance_replies = True
        if on("alignment"):
            self.alignment_step()
        if on("membership"):
            self.membership_step()
        self.elapsed += 1
        self.observe()

    def run_months(self, months: int | None = None) -> None:
        for _ in range(self.data.horizon if months is None else months):
            self.step()

    # ----------------------------------------------------------------- D1 events

    def events_step(self) -> None:
        data = self.data
        u = [self.random.random() for _ in data.events]  # one uniform per event and month
        self.fired_now = [False] * len(data.events)  # an event fires at most once a month
        pending, self.pending = self.pending, []
        for e in sorted(set(pending)):  # triggered since last month: first, on this month's draw
            self.fire(e, u, 0)
        for e, ev in enumerate(data.events):
            if ev["at"] is not None:
                if ev["at"] != self.calendar_month:
                    continue
            elif ev["when"] is not None:
                if not self.evaluate(ev["when"]):
                    continue
            else:
                continue  # triggered only
            self.fire(e, u, 0)

    def fire(self, e: int, u: list[float], depth: int) -> None:
        ev = self.data.events[e]
        if not u[e] < self.event_p[e] or self.fired_now[e]:
            return
        if ev["once"] and self.fired[e]:
            return
        for op, path, value in ev["ops"]:
            self.apply(op, path, value)
        self.fired[e] = True
        self.fired_now[e] = True
        if depth < 16:  # guard against trigger cycles of events that may fire repeatedly
            for t in ev["triggers"]:
                self.fire(t, u, depth + 1)  # same u: "with their own probabilities (same u)"

    # ---------------------------------------------------------- D1b policies

    def policy_step(self) -> None:
        """Levers with a policy: pulled where the condition holds, with their probability,
        at most once if ``once``, never for a played actor. Events the effect names fire
        next month."""
        u = [self.random.random() for _ in self.data.policies]
        for j, pol in enumerate(self.data.policies):
            if pol["actor"] in self.played or not u[j] < self.policy_p[j]:
                continue
            if pol["once"] and self.pulled[pol["lever"]]:
                continue
            if pol["when"] is not None and not self.evaluate(pol["when"]):
                continue
            for op, path, value in pol["ops"]:
                self.apply(op, path, value)
            self.pulled[pol["lever"]] = True
            self.pending += pol["triggers"]

    # ---------------------------------------------------------------- effects

    def apply(self, op: str, path: str, value: Any) -> None:
        """Apply one change of an effect (docs/SCENARIOS.md, Effects)."""
        parts = path.split(".")
        head = parts[0]
        if head == "alliances" and parts[2] in ("members", "frozen"):
            self._membership_effect(self.alliance_by_name[parts[1]], parts[2], op, value)
            return
        if (head == "suppliers" and parts[2] == "refuses") or (head == "flashpoints" and parts[2] == "mediators"):
            obj = self.supplier_by_name[parts[1]] if head == "suppliers" else self.flashpoint_by_name[parts[1]]
            attr = parts[2]
            names = set(value if isinstance(value, list) else [value])
            cur = getattr(obj, attr)
            if op == "set":
                setattr(obj, attr, names)
            elif op == "add":
                cur |= names
            elif op == "remove":
                cur -= names
            return
        if head == "territories":
            self.territory_by_name[parts[1]].controller = value
            return
        get, put, rng = self._number(parts)
        cur = get()
        v = float(value)
        new = v if op == "set" else cur + v if op == "add" else cur * v
        new = fit(new, rng)
        if head == "flashpoints" and parts[2] == "level":
            fp = self.flashpoint_by_name[parts[1]]
            if int(new) == 5 and fp.level != 5:
                fp.war_months = 0
            fp.level = int(new)
            # AMBIGUITY: not stated in the docs; a settled dispute is one at rung 0, so a
            # rung set above 0 re-opens it (as the vectorized world does).
            if fp.level > 0:
                fp.settled = False
            return
        if head == "flashpoints" and parts[2] == "blockade":
            fp = self.flashpoint_by_name[parts[1]]
            fp.blockade = int(new)
            fp.rung_floor = 2 if fp.blockade != 0 else 0  # D8: a blockade holds it at rung 2
            if fp.blockade != 0:
                fp.level = max(fp.level, 2)
                fp.settled = False
            return
        put(new)

    def _membership_effect(self, al: AllianceAgent, which: str, op: str, value: Any) -> None:
        names = set(value if isinstance(value, list) else [value])
        for s in self.data.state_names:
            st = al.status[s]
            listed = s in names
            if which == "members":  # add = accession, remove = exit
                if op in ("add", "set") and listed and st in (NONE, EXITED):
                    al.status[s] = ACTIVE
                elif op == "remove" and listed and st in (ACTIVE, FROZEN):
                    al.status[s] = EXITED
                elif op == "set" and not listed and st in (ACTIVE, FROZEN):
                    al.status[s] = EXITED
            else:  # frozen: add = freeze, remove = re-engage
                if op in ("add", "set") and listed and st in (ACTIVE, FROZEN):
                    al.status[s] = FROZEN
                elif op == "remove" and listed and st == FROZEN:
                    al.status[s] = ACTIVE
                elif op == "set" and not listed and st == FROZEN:
                    al.status[s] = ACTIVE

    def _number(self, parts: list[str]):
        """(getter, setter, range) of a numeric path."""
        head = parts[0]
        if head == "states":
            s = self.state_by_name[parts[1]]
            field = parts[2]
            if field == "affinity":
                j = self.data.si[parts[3]]
                return (lambda: s.affinity[j]), (lambda v: s.affinity.__setitem__(j, v)), RANGE["affinity"]
            if field in ("suppliers", "orders"):
                d = s.shares if field == "suppliers" else s.backlog
                k = parts[3]
                return (lambda: d[k]), (lambda v: d.__setitem__(k, v)), RANGE[field]
            attr = {"capability": "capability", "resolve": "resolve", "available_capacity": "capacity",
                    "procurement_budget_usd": "budget", "supplies": "supply"}[field]
            return (lambda: getattr(s, attr)), (lambda v: setattr(s, attr, v)), RANGE[field]
        if head == "alliances":
            al = self.alliance_by_name[parts[1]]
            field = parts[2]
            if field == "trust":
                m = parts[3]
                return (lambda: al.trust[m]), (lambda v: al.trust.__setitem__(m, v)), RANGE["trust"]
            attr = {"credibility": "credibility", "outside_zone": "outside_zone", "trigger_level": "trigger"}[field]
            return (lambda: getattr(al, attr)), (lambda v: setattr(al, attr, v)), RANGE[field]
        if head == "suppliers":
            k = self.supplier_by_name[parts[1]]
            attr = {"reliability": "reliability", "price_quality": "price_quality", "lag_months": "lag"}[parts[2]]
            return (lambda: getattr(k, attr)), (lambda v: setattr(k, attr, v)), RANGE[parts[2]]
        if head == "flashpoints":
            fp = self.flashpoint_by_name[parts[1]]
            field = parts[2]
            if field == "progress":
                return (lambda: fp.progress), (lambda v: setattr(fp, "progress", v)), RANGE["progress"]
            return (lambda: float(getattr(fp, field))), (lambda v: setattr(fp, field, int(v))), RANGE[field]
        if head == "rules":
            kind, pname = parts[1], parts[2]
            b = self.data.rule_settings[kind].bounds.get(pname)
            rng = (b.lo, b.hi, b.integer) if b is not None else (-INF, INF, False)
            d = self.rule[kind]
            return (lambda: d[pname]), (lambda v: d.__setitem__(pname, v)), rng
        raise KeyError(".".join(parts))

    # -------------------------------------------------------------- predicates

    def evaluate(self, node: X.Node) -> Any:
        """Evaluate a parsed predicate on this replicate (docs/SCENARIOS.md, Predicates)."""
        if isinstance(node, X.Num):
            return node.value
        if isinstance(node, X.BoolLit):
            return node.value
        if isinstance(node, X.MonthLit):
            return node.index
        if isinstance(node, X.MonthVar):
            return self.calendar_month  # "the simulated month"
        if isinstance(node, X.Name):
            return node.name
        if isinstance(node, X.Neg):
            return -self.evaluate(node.operand)
        if isinstance(node, X.Arith):
            a, b = self.evaluate(node.left), self.evaluate(node.right)
            if node.op == "+":
                return a + b
            if node.op == "-":
                return a - b
            if node.op == "*":
                return a * b
            if b == 0:
                return math.nan if a == 0 else math.copysign(INF, a)
            return a / b
        if isinstance(node, X.Compare):
            a, b = self.evaluate(node.left), self.evaluate(node.right)
            op = node.op
            if op == "<":
                return a < b
            if op == "<=":
                return a <= b
            if op == ">":
                return a > b
            if op == ">=":
                return a >= b
            if op == "==":
                return a == b
            return a != b
        if isinstance(node, X.Logic):
            if node.op == "and":
                return bool(self.evaluate(node.left)) and bool(self.evaluate(node.right))
            return bool(self.evaluate(node.left)) or bool(self.evaluate(node.right))
        if isinstance(node, X.Not):
            return not self.evaluate(node.operand)
        if isinstance(node, X.Call):
            return self._call(node.fn, [a.name for a in node.args])
        raise TypeError(f"cannot evaluate {node!r}")

    def _call(self, fn: str, a: list[str]) -> Any:
        if fn == "level":
            return self.flashpoint_by_name[a[0]].level
        if fn == "casualties":
            return self.flashpoint_by_name[a[0]].casualties
        if fn == "settled":
            return self.flashpoint_by_name[a[0]].settled
        if fn == "war":
            return self.flashpoint_by_name[a[0]].level == 5
        if fn in ("peak", "deaths", "talks", "progress", "agreement", "offensives", "seizures", "gains", "held"):
            return getattr(self.flashpoint_by_name[a[0]], fn)
        if fn == "blockaded":
            return self.flashpoint_by_name[a[0]].blockade != 0
        if fn == "supply":
            return self.state_by_name[a[0]].supply
        if fn == "trust":
            return self.alliance_by_name[a[1]].trust[a[0]]
        if fn == "member":
            st = self.alliance_by_name[a[1]].status[a[0]]
            if len(a) < 3 or a[2] == "member":
                return st in (ACTIVE, FROZEN)
            return st == STATUS_CODE[a[2]]
        if fn == "requests":
            return self.alliance_by_name[a[1]].requests[a[0]]
        if fn == "responses":
            return self.alliance_by_name[a[1]].responses[a[0]]
        if fn == "capability":
            return self.state_by_name[a[0]].capability
        if fn == "affinity":
            return self.aff(a[0], a[1])
        if fn == "share":
            return self.state_by_name[a[0]].shares[a[1]]
        if fn == "controller":
            return self.territory_by_name[a[0]].controller
        if fn == "fired":
            return self.fired[self.data.event_names.index(a[0])]
        if fn == "value":
            get, _, _ = self._number(a[0].split("."))
            return get()
        raise KeyError(fn)

    # ------------------------------------------------------------ D2 procurement

    def procurement_step(self) -> None:
        p = self.rule["procurement"]
        b_pq, b_rel, b_aff, b_dep = (p["beta_price_quality"], p["beta_reliability"], p["beta_affinity"],
                                     p["beta_dependence"])
        theta = p["refuse_below"]
        T = p["share_memory_months"]
        conv, dep = p["capability_per_usd_bn"], p["depreciation_per_year"]
        rnd = self.random.random
        for buyer in self.state_list:
            for k in buyer.delivered:
                buyer.delivered[k] = 0.0
                buyer.slipped[k] = 0.0
                buyer.refused_demand[k] = 0.0
                buyer.share_change[k] = 0.0
                buyer.excess_slip[k] = 0.0
            if not buyer.budget > 0 and not any(v > 0 for v in buyer.backlog.values()):
                continue  # no budget and nothing on order: nothing happens (MODEL.md D2)
            i = buyer.name
            utility: dict[str, float] = {}
            refused: dict[str, bool] = {}
            for k, sup in self.supplier_by_name.items():
                if sup.state == i:
                    continue
                utility[k] = (b_pq * sup.price_quality + b_rel * sup.reliability
                              + b_aff * self.aff(i, sup.state) + b_dep * buyer.shares[k])
                refused[k] = i in sup.refuses or self.aff(sup.state, i) < theta
            if not utility:
                continue
            monthly = buyer.budget / 12.0
            # multinomial logit over the available suppliers
            avail = [k for k in utility if not refused[k]]
            if avail and monthly > 0:
                vmax = max(utility[k] for k in avail)
                ex = {k: math.exp(utility[k] - vmax) for k in avail}
                tot = sum(ex.values())
                for k in avail:
                    buyer.backlog[k] += ex[k] / tot * monthly
            # demand refused by suppliers that did not refuse this buyer at the start:
            # the logit share k would have had in a choice with no refusals at all
            if monthly > 0 and any(refused[k] and not buyer.refused_start[k] for k in utility):
                wmax = max(utility.values())
                ew = {k: math.exp(v - wmax) for k, v in utility.items()}
                wt = sum(ew.values())
                for k in utility:
                    if refused[k] and not buyer.refused_start[k]:
                        buyer.refused_demand[k] = ew[k] / wt
            # lagged, unreliable deliveries: one draw per (buyer, supplier)
            got = 0.0
            for k in utility:
                sup = self.supplier_by_name[k]
                due = buyer.backlog[k] / max(sup.lag, 1.0)
                if rnd() < sup.reliability:
                    buyer.backlog[k] -= due
                    buyer.delivered[k] = due
                    got += due
                    buyer.excess_slip[k] = -(1.0 - sup.reliability0) * due
                else:
                    buyer.slipped[k] = due
                    buyer.excess_slip[k] = due - (1.0 - sup.reliability0) * due
            dE = conv * got / 1e9 - dep / 12.0 * buyer.equipment
            buyer.equipment += dE
            # capability's range is [0, inf) (the docs' equation does not clip)
            buyer.capability = max(buyer.capability + dE, 0.0)
            a = 1.0 / T
            for k in buyer.flow:
                buyer.flow[k] = (1.0 - a) * buyer.flow[k] + a * buyer.delivered[k]
            buyer.flow_other = (1.0 - a) * buyer.flow_other
            total = sum(buyer.flow.values()) + buyer.flow_other
            if total > 0:
                for k in buyer.flow:
                    new = buyer.flow[k] / total
                    buyer.share_change[k] = new - buyer.shares[k]
                    buyer.shares[k] = new

    # ------------------------------------------------------------- D3 escalation

    def response_probability(self, al: AllianceAgent, fp: FlashpointAgent, side: int) -> tuple[float, bool, bool]:
        """(q, may ask, abstains) for side `side` of `fp` and alliance `al` (D4)."""
        me, opp = fp.sides[side], fp.sides[1 - side]
        eligible = al.collective and al.status[me] == ACTIVE and me != al.leader
        if not eligible:
            return 0.0, False, False
        abstain = al.is_member(opp) and not al.respond_between_members
        if abstain:
            return 0.0, True, True
        zone = 1.0 if (fp.location is None or fp.location == me) else al.outside_zone
        q = self.answer_probability(al) * zone  # credibility x change of the leader's capacity (D4)
        return q, True, False

    def deterrence(self, fp: FlashpointAgent, side: int, kappa: float) -> float:
        """D_sigma: how strongly side `side` is deterred by expected help for its opponent."""
        me = self.state_by_name[fp.sides[side]]
        opp = fp.sides[1 - side]
        # AMBIGUITY: c_sigma in the helper weights is read as the side's own
        # capability without committed support, and an alliance's c_X as its
        # leader's capability (as the vectorized world does).
        c_self = me.capability
        keep = 1.0
        for al in self.alliance_by_name.values():
            q, _, _ = self.response_probability(al, fp, 1 - side)
            if q > 0:
                keep *= 1.0 - q * weight(self.state_by_name[al.leader].capability, c_self)
        j = self.data.si[opp]
        for p in self.state_list:
            if p.name in fp.sides:
                continue
            k = kappa * max(0.0, p.affinity[j]) * p.capacity
            if k > 0:
                keep *= 1.0 - k * weight(p.capability, c_self)
        s_opp = fp.support[1 - side]
        keep *= 1.0 - weight(s_opp, c_self)
        return 1.0 - keep

    def dyad_terms(self, fp: FlashpointAgent, p: dict) -> tuple[float, float, float, float]:
        """What both escalation mechanisms read of a dyad at the start of the month: the log
        capability ratio, its shift from the recent average, the initiation factor U and the
        mediators' capacity M (docs/MODEL.md, the escalation ladder)."""
        a, b = self.state_by_name[fp.sides[0]], self.state_by_name[fp.sides[1]]
        lr = self.log_ratio(fp)
        x = clip(lr, -3.0, 3.0)
        Da = self.deterrence(fp, 0, p["patron_weight"])
        Db = self.deterrence(fp, 1, p["patron_weight"])
        eta_a = p["beta_resolve"] * (a.resolve - 0.5) + p["beta_advantage"] * x - p["beta_deterrence"] * Da
        eta_b = p["beta_resolve"] * (b.resolve - 0.5) - p["beta_advantage"] * x - p["beta_deterrence"] * Db
        U = 0.5 * (math.exp(eta_a) + math.exp(eta_b))
        M = sum(self.state_by_name[m].capacity for m in fp.mediators)
        return lr, lr - fp.lr_ema, U, M

    def escalation_step(self) -> None:
        p = self.rule["escalation"]
        b_res = p["beta_resolve"]
        b_shift, b_mom, b_med = p["beta_shift"], p["beta_momentum"], p["beta_mediation"]
        u0, d0, s0 = p["base_up"], p["base_down"], p["base_settle"]
        rnd, gauss = self.random.random, self.random.gauss
        # synchronous: every flashpoint's moves from the state at the start of the mechanism
        plans = []
        for fp in self.flashpoint_by_name.values():
            a, b = self.state_by_name[fp.sides[0]], self.state_by_name[fp.sides[1]]
            L = fp.level
            lr, shift, U, M = self.dyad_terms(fp, p)
            m = fp.momentum
            eps = gauss(0.0, 1.0)
            if L == 5 or fp.settled:
                up = down = settle = 0.0
            else:
                up = u0[L] * U * math.exp(b_shift * abs(shift) + b_mom * m - b_med * M + p["shock_sd"] * eps)
                down = d0[L] * math.exp(b_med * M - b_mom * m) if L > 0 else 0.0
                rbar = 0.5 * (a.resolve + b.resolve)
                settle = s0[L] * math.exp(b_med * M - b_res * (rbar - 0.5))
            # competing risks: move w.p. 1 - exp(-total); which move in proportion to the rates
            total = up + down + settle
            new, settles = L, False
            if total > 0:
                p_any = -math.expm1(-total)
                u = rnd()
                if u < p_any:
                    r = u / p_any * total
                    if r < up:
                        new = L + 1
                    elif r < up + down:
                        new = L - 1
                    else:
                        new, settles = 0, True
            transfer = None
            if L == 5 and rnd() < 1.0 / p["war_mean_months"]:
                # the war ends; side a wins w.p. c_a^k / (c_a^k + c_b^k), support included
                pa = 1.0 / (1.0 + math.exp(-p["decisiveness"] * lr))
                winner = fp.sides[0] if rnd() < pa else fp.sides[1]
                new = int(p["post_war_level"])
                if fp.stakes is not None:
                    t = self.territory_by_name[fp.stakes]
                    if (winner in t.claimants or not t.claimants) and t.controller != winner:
                        transfer = (t, winner)
                        new, settles = 0, True
            relapse = fp.settled and rnd() < p["relapse"]  # AMBIGUITY: read as a monthly probability
            plans.append((fp, new, settles, transfer, relapse, lr))
        # several wars over one territory ending in the same month: one winner, each
        # with equal chance, takes it; the other wars end without the transfer
        claims: dict[int, list[int]] = {}
        for i, (_fp, _new, _settles, transfer, _relapse, _lr) in enumerate(plans):
            if transfer is not None:
                claims.setdefault(id(transfer[0]), []).append(i)
        for idx in claims.values():
            if len(idx) > 1:
                keep = idx[int(rnd() * len(idx))]
                for i in idx:
                    if i != keep:
                        fp_, _n, _s, _t, rel_, lr_ = plans[i]
                        plans[i] = (fp_, int(p["post_war_level"]), False, None, rel_, lr_)
        for fp, new, settles, transfer, relapse, lr in plans:
            if transfer is not None:
                transfer[0].controller = transfer[1]
            if settles:
                fp.settled = True
            if relapse:
                new, fp.settled = 1, False
            fp.level = new
            fp.peak = new  # the monthly ladder holds one rung a month
            if new >= 3:  # casualties in a month ending at rung >= 3
                med = {3: p["casualties_fatal_clash"], 4: p["casualties_major_clash"], 5: p["casualties_war"]}[new]
                fp.deaths = float(round(med * math.exp(p["casualty_sigma"] * gauss(0.0, 1.0))))
            else:
                fp.deaths = 0.0
            fp.casualties += fp.deaths
            dm = p["momentum_decay"]
            fp.momentum = dm * fp.momentum + (1.0 - dm) * (1.0 if new >= 3 else 0.0)
            sm = p["shift_memory"]
            fp.lr_ema = sm * fp.lr_ema + (1.0 - sm) * lr

    # ---------------------------------------------------------- D4 alliance response

    def alliance_step(self) -> None:
        p = self.rule["alliance"]
        rnd = self.random.random
        for al in self.alliance_by_name.values():
            for s in al.refused_now:
                al.refused_now[s] = 0
                al.answered_now[s] = 0
        dtrust: dict[tuple[str, str], float] = {}
        committed: dict[tuple[str, int], float] = {}
        for fp in self.flashpoint_by_name.values():
            for side in (0, 1):
                me = fp.sides[side]
                for al in self.alliance_by_name.values():
                    q, may_ask, abstain = self.response_probability(al, fp, side)
                    key = (side, al.name)
                    wait = fp.request_wait.get(key, 10_000)
                    asking = (may_ask and fp.peak >= al.trigger and wait >= p["cooldown_months"]
                              and not fp.settled)
                    if not asking:
                        fp.request_wait[key] = wait + 1
                        continue
                    fp.request_wait[key] = 0
                    al.requests[me] += 1
                    t = al.trust[me]  # trust at the start of the mechanism (synchronous)
                    if rnd() < q:
                        dtrust[(me, al.name)] = dtrust.get((me, al.name), 0.0) + p["response_gain"] * (1.0 - t)
                        al.answered_now[me] += 1
                        al.responses[me] += 1
                        leader = self.state_by_name[al.leader]
                        c = leader.capability * leader.capacity
                        committed[(fp.name, side)] = committed.get((fp.name, side), 0.0) + c
                    else:
                        cost = p["abstain_cost"] if abstain else p["refusal_cost"]
                        dtrust[(me, al.name)] = dtrust.get((me, al.name), 0.0) - cost
                        # AMBIGUITY: D5's refused[i,A] is read as including abstentions
                        al.refused_now[me] += 1
        for (s, a), d in dtrust.items():
            al = self.alliance_by_name[a]
            al.trust[s] = clip(al.trust[s] + d, 0.0, 1.0)
        # AMBIGUITY: D4 writes s <- max(s * decay, share * c_leader * capacity_leader) for
        # an answer; support is read as decaying every month (support_decay "a month").
        for fp in self.flashpoint_by_name.values():
            for side in (0, 1):
                c = committed.get((fp.name, side), 0.0)
                fp.support[side] = max(fp.support[side] * p["support_decay"], p["support_share"] * c)
        self.alliance_replies = True

    # ------------------------------------------------------------------ D5 alignment

    def alignment_step(self) -> None:
        p = self.rule["alignment"]
        names = self.data.state_names
        si = self.data.si
        S = len(names)
        old = [list(s.affinity) for s in self.state_list]
        delta = [[0.0] * S for _ in range(S)]
        if self.data.is_on("procurement"):
            g_s, g_t, g_r, g_x = p["share_gain"], p["third_party_cost"], p["sale_refusal_cost"], p["slip_cost"]
            for buyer in self.state_list:
                i = buyer.index
                monthly = buyer.budget / 12.0
                D_: dict[int, float] = {}
                Y_: dict[int, float] = {}
                Z_: dict[int, float] = {}
                for k, sup in self.supplier_by_name.items():
                    j = si[sup.state]
                    D_[j] = D_.get(j, 0.0) + buyer.share_change[k]
                    if monthly > 0:
                        Y_[j] = Y_.get(j, 0.0) + buyer.excess_slip[k] / monthly
                    Z_[j] = Z_.get(j, 0.0) + buyer.refused_demand[k]
                for j, d in D_.items():  # arms shifts, bounded towards +1 or -1
                    if d == 0:
                        continue
                    delta[i][j] += g_s * d * ((1.0 - old[i][j]) if d > 0 else (1.0 + old[i][j]))
                    delta[j][i] += g_s * d * ((1.0 - old[j][i]) if d > 0 else (1.0 + old[j][i]))
                    # third-party deals: the buyer's adversaries and the seller move apart
                    for adv in self.data.adversaries[buyer.name]:
                        jp = si[adv]
                        delta[jp][j] -= g_t * d * ((1.0 + old[jp][j]) if d > 0 else (1.0 - old[jp][j]))
                        delta[j][jp] -= g_t * d * ((1.0 + old[j][jp]) if d > 0 else (1.0 - old[j][jp]))
                for j, y in Y_.items():  # slippage beyond expectation (negative: better), linear
                    delta[i][j] -= g_x * y
                for j, z in Z_.items():
                    if z:
                        delta[i][j] -= g_r * z * (1.0 + old[i][j])
        support_part: dict[tuple[int, str], float] = {}
        if self.alliance_replies:
            g_f, g_s = p["refusal_cost"], p["support_gain"]
            for al in self.alliance_by_name.values():
                L = si[al.leader]
                for s in names:
                    f = g_f * al.refused_now[s] - g_s * al.answered_now[s]
                    if f == 0:
                        continue
                    i = si[s]
                    c = -f * (1.0 + old[i][L]) if f > 0 else -f * (1.0 - old[i][L])
                    delta[i][L] += c
                    delta[L][i] += c
                    support_part[(i, al.name)] = c
        # exercises: each collective-defence alliance w.p. r_ex / 12 a month; active
        # members take part as far as they trust it (trust at the start of the mechanism)
        weight: dict[tuple[int, int], float] = {}
        for al in self.alliance_by_name.values():
            if self.random.random() < p["exercise_rate"] / 12.0 and al.collective:
                active = [s for s in names if al.status[s] == ACTIVE]
                for s in active:
                    for t in active:
                        if s != t:
                            key = (si[s], si[t])
                            weight[key] = weight.get(key, 0.0) + al.trust[s] * al.trust[t]
        g_ex = p["exercise_gain"]
        for (i, j), wgt in weight.items():
            delta[i][j] += g_ex * min(1.0, wgt) * (1.0 - old[i][j])
        # reversion and noise: eps uniform on [-sqrt 3, sqrt 3] (mean 0, variance 1)
        rho, sd = p["reversion"], p["noise_sd"]
        uniform = self.random.uniform
        for s in self.state_list:
            i = s.index
            row, base, d = old[i], s.affinity_base, delta[i]
            new = s.affinity
            for j in range(S):
                if j == i:
                    new[j] = 0.0
                    continue
                v = row[j] + d[j] + rho * (base[j] - row[j]) + sd * uniform(-SQRT3, SQRT3)
                new[j] = clip(v, -1.0, 1.0)
        # trust follows the member's affinity towards the leader (support term excluded)
        c_t = p["trust_coupling"]
        for al in self.alliance_by_name.values():
            L = si[al.leader]
            for s in self.state_list:
                i = s.index
                change = s.affinity[L] - old[i][L] - support_part.get((i, al.name), 0.0)
                if change:
                    al.trust[s.name] = clip(al.trust[s.name] + c_t * change, 0.0, 1.0)

    # ----------------------------------------------------------------- D6 membership

    def membership_step(self) -> None:
        p = self.rule["membership"]
        rho = p["trust_reversion"]
        rnd = self.random.random
        for al in self.alliance_by_name.values():
            for s in self.data.state_names:
                # DOC/CODE: reverts towards the starting trust (§3.1 / D6); the vectorized
                # world reverts towards the trust after month 1's alliance and alignment.
                t = al.trust[s] + rho * (al.trust0[s] - al.trust[s])
                al.trust[s] = t
                u = rnd()
                if s == al.leader:
                    continue
                st = al.status[s]
                if st == ACTIVE:
                    if t < p["freeze_below"] and u < p["freeze_hazard"]:
                        al.status[s] = FROZEN
                elif st == FROZEN:
                    if t < p["exit_below"] and u < p["exit_hazard"]:
                        al.status[s] = EXITED
                    elif t >= p["reengage_above"] and u < p["reengage_hazard"]:
                        al.status[s] = ACTIVE
                elif s in al.candidates and t >= p["accede_above"] and u < p["accede_hazard"]:
                    al.status[s] = ACTIVE

    # ---------------------------------------------------------------- D7 observation

    def outcome_value(self, o) -> float | None:
        """The quantity behind an outcome (None if it has none)."""
        k = o.kind
        if k == "escalation":
            return float(self.flashpoint_by_name[o.flashpoint].level)
        if k in ("supplier_share", "main_supplier"):
            return self.state_by_name[o.state].shares[o.supplier]
        if k == "affinity":
            return self.aff(o.state, o.toward)
        if k == "capability":
            c = self.state_by_name[o.state].capability
            if o.relative_to:
                return c / max(self.state_by_name[o.relative_to].capability, 1e-12)
            return c
        if k == "trust":
            return self.alliance_by_name[o.alliance].trust[o.state]
        if k == "casualties":
            if o.flashpoint:
                return self.flashpoint_by_name[o.flashpoint].casualties
            return sum(fp.casualties for fp in self.flashpoint_by_name.values())
        if k == "offensive" and o.result in ("launched", "gains"):
            fp = self.flashpoint_by_name[o.flashpoint]
            return float(fp.offensives if o.result == "launched" else fp.gains)
        if k == "agreement":
            return self.flashpoint_by_name[o.flashpoint].progress
        return None

    def holds(self, d: dict) -> bool:
        o = d["spec"]
        k = o.kind
        if k == "escalation":  # the month's peak (D3a): a clash that subsided within it counts
            return self.flashpoint_by_name[o.flashpoint].peak >= o.reaches
        if k == "monthly_deaths":
            if o.flashpoint:
                return self.flashpoint_by_name[o.flashpoint].deaths > o.above
            return sum(fp.deaths for fp in self.flashpoint_by_name.values()) > o.above
        if k == "offensive":
            fp = self.flashpoint_by_name[o.flashpoint]
            return {"launched": fp.offensives, "gains": fp.gains, "succeeds": fp.seizures}[o.result] > 0
        if k == "agreement":
            return self.flashpoint_by_name[o.flashpoint].agreement
        if k == "membership":
            al = self.alliance_by_name[o.alliance]
            st = al.status[o.state]
            if o.becomes == "member":  # joins or re-engages: active now, not at the start
                return st == ACTIVE and al.initial_status[o.state] != ACTIVE
            return st == STATUS_CODE[o.becomes]
        if k == "territory":
            return self.territory_by_name[o.territory].controller == o.controller
        if k == "settlement":
            return self.flashpoint_by_name[o.flashpoint].settled
        if k == "condition":
            return bool(self.evaluate(d["when"]))
        if k == "main_supplier":  # strictly the largest share
            sh = self.state_by_name[o.state].shares
            others = [v for name, v in sh.items() if name != o.supplier]
            return sh[o.supplier] > max(others) if others else sh[o.supplier] > 0
        v = self.outcome_value(o)
        if k == "casualties":
            return v > o.above
        return v > o.above if o.above is not None else v < o.below

    def observe(self) -> None:
        t = self.elapsed  # the month just simulated, 1-based
        if t > self.data.horizon:
            return
        for d in self.data.outcomes:
            if d["kind"] in ("any", "all"):
                continue
            if self.first[d["name"]] == 0 and self.holds(d):
                self.first[d["name"]] = t
        if not self.keep_trace:
            return
        self.trace.append(
            {
                "level": [fp.level for fp in self.flashpoint_by_name.values()],
                "settled": [fp.settled for fp in self.flashpoint_by_name.values()],
                "deaths": [fp.deaths for fp in self.flashpoint_by_name.values()],
                "trust": {(a, s): al.trust[s] for a, al in self.alliance_by_name.items() for s in al.trust},
                "status": {(a, s): al.status[s] for a, al in self.alliance_by_name.items() for s in al.status},
                "shares": {(s.name, k): v for s in self.state_list for k, v in s.shares.items()},
                "capability": [s.capability for s in self.state_list],
            }
        )

    def first_months(self) -> dict[str, int]:
        """First-hit month of every outcome (0 = never), any/all combined from their parts."""
        first = dict(self.first)
        pending = [d for d in self.data.outcomes if d["kind"] in ("any", "all")]
        done = {d["name"] for d in self.data.outcomes if d["kind"] not in ("any", "all")}
        while pending:
            for d in list(pending):
                parts = d["spec"].of
                if not all(x in done for x in parts):
                    continue
                months = [first[x] for x in parts]
                if d["kind"] == "any":  # the month the k-th part happened (k = at_least or 1)
                    hit = sorted(m for m in months if m > 0)
                    k = d["spec"].at_least or 1
                    first[d["name"]] = hit[k - 1] if len(hit) >= k else 0
                else:  # the month by which all had happened
                    first[d["name"]] = max(months) if all(m > 0 for m in months) else 0
                done.add(d["name"])
                pending.remove(d)
        return first


# ============================================================================ runner


def run_reference(
    scenario: str | Path | LoadedScenario,
    runs: int,
    seed: int,
    months: int | None = None,
    *,
    series: bool = False,
) -> dict[str, Any]:
    """Run ``runs`` replicates of the reference model; one ``mesa.Model`` each.

    Returns ``{"runs", "seed", "horizon", "outcomes": {name: {"kind", "first_month":
    [per replicate, 0 = never], "hits", "probability", "final": [per replicate] or None,
    "final_mean"}}}``, in scenario order; with ``series=True`` also ``"series"``:
    per-month averages named like the columns of ``Results.timeseries()``.
    """
    loaded = scenario if isinstance(scenario, LoadedScenario) else sim.load_scenario(scenario)
    data = ScenarioData(loaded, months)
    H = data.horizon
    children = np.random.SeedSequence(seed).spawn(runs)
    first = {d["name"]: [] for d in data.outcomes}
    final: dict[str, list[float]] = {}
    acc: dict[str, list[float]] = {}

    def add(col: str, t: int, v: float) -> None:
        acc.setdefault(col, [0.0] * H)[t] += v

    for r in range(runs):
        model = ReferenceModel(data, children[r], keep_trace=series)
        try:
            model.run_months()
            fm = model.first_months()
            for d in data.outcomes:
                first[d["name"]].append(fm[d["name"]])
                v = model.outcome_value(d["spec"]) if d["kind"] not in ("any", "all", "condition") else None
                if v is not None:
                    final.setdefault(d["name"], []).append(float(v))
            if series:
                for t, row in enumerate(model.trace):
                    for f_i, f in enumerate(data.flashpoint_names):
                        add(f"{f}.rung{row['level'][f_i]}", t, 1.0)
                        add(f"{f}.mean_rung", t, row["level"][f_i])
                        add(f"{f}.settled", t, row["settled"][f_i])
                        add(f"{f}.deaths", t, row["deaths"][f_i])
                    for (a, s), v in row["trust"].items():
                        add(f"{a}.{s}.trust", t, v)
                        st = row["status"][(a, s)]
                        if st:
                            add(f"{a}.{s}." + {ACTIVE: "active", FROZEN: "frozen", EXITED: "exited"}[st], t, 1.0)
                    for (s, k), v in row["shares"].items():
                        add(f"{s}.share.{k}", t, v)
                    for s_i, s in enumerate(data.state_names):
                        add(f"{s}.capability", t, row["capability"][s_i])
        finally:
            forget(model)  # Mesa 3.3 keeps every model alive otherwise
    out: dict[str, Any] = {"runs": runs, "seed": seed, "horizon": H, "outcomes": {}}
    for d in data.outcomes:
        fm = first[d["name"]]
        hits = sum(1 for m in fm if m > 0)
        fv = final.get(d["name"])
        out["outcomes"][d["name"]] = {
            "kind": d["kind"],
            "first_month": fm,
            "hits": hits,
            "probability": hits / runs if runs else math.nan,
            "final": fv,
            "final_mean": (sum(fv) / len(fv)) if fv else None,
        }
    if series:
        out["series"] = {k: [x / runs for x in v] for k, v in acc.items()}
    return out


if __name__ == "__main__":  # pragma: no cover - a quick look from the command line
    import argparse
    import time

    ap = argparse.ArgumentParser(description="Run the per-replicate reference model.")
    ap.add_argument("scenario")
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--months", type=int, default=None)
    args = ap.parse_args()
    t0 = time.perf_counter()
    res = run_reference(args.scenario, args.runs, args.seed, args.months)
    dt = time.perf_counter() - t0
    for name, o in res["outcomes"].items():
        extra = f"  mean final {o['final_mean']:.4g}" if o["final_mean"] is not None else ""
        print(f"{name:32s} {o['probability']:.4f}{extra}")
    print(f"{args.runs} runs x {res['horizon']} months in {dt:.2f} s "
          f"({args.runs * res['horizon'] / dt:,.0f} replicate-months/s)")
