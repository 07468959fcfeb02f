"""From a validated scenario to arrays: index maps, parameter tables, addresses.

A :class:`Plan` is everything about a scenario that does not depend on the number of
replicates: which actors exist and in what order, every parameter with its path and
source, and the address of every quantity an effect can change. A chunk of R
replicates is then :meth:`Plan.sample`-d into arrays with a replicate-first axis.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..scenario.expr import month_index
from ..scenario.schema import Scenario
from ..scenario.values import Bounds, Dist, Param

# Membership status codes (per replicate, per state, per alliance).
NONE, ACTIVE, FROZEN, EXITED = 0, 1, 2, 3
STATUS_CODES = {"none": NONE, "active": ACTIVE, "frozen": FROZEN, "exited": EXITED}
LEVELS = ("calm", "tension", "display", "fatal clash", "major clash", "war")


@dataclass(frozen=True)
class ParamEntry:
    """One scalar parameter of the scenario and where its sampled values go."""

    path: str
    param: Param
    array: str  # name in World.par
    index: tuple  # column index into the array after the replicate axis
    bounds: Bounds


@dataclass(frozen=True)
class Address:
    """Where a dotted path lives in the world: namespace, array, index, kind."""

    path: str
    space: str  # "par" or "st"
    array: str
    index: tuple
    kind: str  # num | int | names | name
    bounds: Bounds = Bounds()


# The addresses of pairs, which a world of S states has S * (S - 1) + ... of: made when
# asked for. (prefix, field) -> (array, bounds, which index maps the two names use).
_PAIRS = {
    ("states", "affinity"): ("affinity", Bounds(-1, 1), "ss"),
    ("states", "suppliers"): ("shares", Bounds(0, 1), "sk"),
    ("states", "orders"): ("backlog", Bounds(0), "sk"),
    ("alliances", "trust"): ("trust", Bounds(0, 1), "as"),
}


class AddressTable(Mapping[str, Address]):
    """``plan.addresses``: the :class:`Address` of every path an effect can change.

    The addresses of single quantities are listed; those of pairs (a state's affinity
    towards each other state, its share and orders from each supplier, each state's
    trust in each alliance) are made when a path is looked up, since there are
    S * (S - 1) affinities alone. Looking up, ``in`` and ``len`` cost the same whatever
    the size of the world; iterating lists every path.
    """

    def __init__(self, listed: dict[str, Address], si: dict[str, int], ai: dict[str, int], ki: dict[str, int]):
        self._listed = listed
        self._maps = {"s": si, "a": ai, "k": ki}

    def _pair(self, path: str) -> Address | None:
        parts = path.split(".")
        if len(parts) != 4:
            return None
        spec = _PAIRS.get((parts[0], parts[2]))
        if spec is None:
            return None
        array, bounds, (m1, m2) = spec
        i, j = self._maps[m1].get(parts[1]), self._maps[m2].get(parts[3])
        if i is None or j is None or (m1 == m2 and i == j):
            return None
        index = (j, i) if parts[0] == "alliances" else (i, j)  # trust is (state, alliance)
        return Address(path, "st", array, index, "num", bounds)

    def __getitem__(self, path: str) -> Address:
        found = self._listed.get(path) if isinstance(path, str) else None
        if found is None and isinstance(path, str):
            found = self._pair(path)
        if found is None:
            raise KeyError(path)
        return found

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and (path in self._listed or self._pair(path) is not None)

    def _pair_paths(self) -> Iterator[str]:
        for (head, fld), (_, _, (m1, m2)) in _PAIRS.items():
            for x in self._maps[m1]:
                for y in self._maps[m2]:
                    if m1 != m2 or x != y:
                        yield f"{head}.{x}.{fld}.{y}"

    def __iter__(self) -> Iterator[str]:
        yield from self._listed
        yield from (p for p in self._pair_paths() if p not in self._listed)

    def __len__(self) -> int:
        n = {m: len(v) for m, v in self._maps.items()}
        pairs = sum(n[a] * n[b] - (n[a] if a == b else 0) for _, _, (a, b) in _PAIRS.values())
        listed_pairs = sum(1 for p in self._listed if self._pair(p) is not None)
        return len(self._listed) + pairs - listed_pairs


@dataclass
class RuleSetting:
    """A mechanism chosen by the scenario: its registered model and parameter values."""

    kind: str
    model: str
    params: dict[str, Param] = field(default_factory=dict)
    bounds: dict[str, Bounds] = field(default_factory=dict)


@dataclass
class Plan:
    """A scenario compiled to index maps and parameter tables (no replicate axis yet)."""

    scenario: Scenario
    rules: dict[str, RuleSetting]
    states: list[str]
    alliances: list[str]
    suppliers: list[str]
    territories: list[str]
    flashpoints: list[str]
    events: list[str]
    start: int  # calendar month index of the first simulated month
    horizon: int
    entries: list[ParamEntry]
    addresses: AddressTable
    # static structure (no replicate axis)
    sides: np.ndarray  # (F, 2) state index of each flashpoint's sides
    stakes: np.ndarray  # (F,) territory index or -1
    location: np.ndarray  # (F,) state index or -1
    leader: np.ndarray  # (A,) state index
    alliance_kind: list[str]
    member_vs_member: np.ndarray  # (A,) bool: True if the alliance responds between members
    claimants: np.ndarray  # (T, S) bool
    supplier_state: np.ndarray  # (K,) state index
    kind_of_state: list[str]
    candidates: np.ndarray  # (S, A) bool
    buyers: np.ndarray  # (B,) states that can buy arms: a budget, open orders, or an effect giving them

    @property
    def S(self) -> int:
        return len(self.states)

    @property
    def A(self) -> int:
        return len(self.alliances)

    @property
    def K(self) -> int:
        return len(self.suppliers)

    @property
    def F(self) -> int:
        return len(self.flashpoints)

    @property
    def T(self) -> int:
        return len(self.territories)

    def index_of(self, kind: str) -> dict[str, int]:
        seq = {
            "state": self.states,
            "alliance": self.alliances,
            "supplier": self.suppliers,
            "territory": self.territories,
            "flashpoint": self.flashpoints,
            "event": self.events,
        }[kind]
        return {n: i for i, n in enumerate(seq)}

    # ----------------------------------------------------------------- sampling

    def shapes(self) -> dict[str, tuple]:
        """Shapes (after the replicate axis) of the parameter arrays."""
        S, A, K = self.S, self.A, self.K
        out: dict[str, tuple] = {
            "capability0": (S,),
            "resolve": (S,),
            "capacity": (S,),
            "budget": (S,),
            "affinity0": (S, S),
            "shares0": (S, K),
            "orders0": (S, K),
            "credibility": (A,),
            "default_trust": (A,),
            "outside_zone": (A,),
            "trigger": (A,),
            "trust0": (S, A),
            "reliability": (K,),
            "price_quality": (K,),
            "lag": (K,),
            "level0": (self.F,),
            "event_p": (len(self.events),),
        }
        for e in self.entries:
            if e.array.startswith("rule:"):
                out[e.array] = (len(e.param.value),) if isinstance(e.param.value, tuple) else ()
        return out

    def sample(self, n: int, seed_seq: np.random.SeedSequence, dtype: Any = np.float64) -> dict[str, np.ndarray]:
        """Draw every parameter for ``n`` replicates.

        Each distribution gets its own stream, keyed by its path, so that changing one
        parameter's distribution leaves every other parameter's draws unchanged
        (common random numbers for comparisons and sweeps).
        """
        arrays = {name: np.zeros((n, *shape), dtype=dtype) for name, shape in self.shapes().items()}
        for e in self.entries:
            v = e.param.value
            target = arrays[e.array]
            if isinstance(v, Dist):
                key = zlib.crc32(e.path.encode())
                rng = np.random.Generator(
                    np.random.PCG64(
                        np.random.SeedSequence(seed_seq.entropy, spawn_key=(*seed_seq.spawn_key, 0, key))
                    )
                )
                draw = v.sample(rng, n)
                if e.bounds.integer:
                    draw = np.rint(draw)
                target[(slice(None), *e.index)] = np.clip(draw, e.bounds.lo, e.bounds.hi)
            else:
                target[(slice(None), *e.index)] = v
        return arrays


def _add(entries: list[ParamEntry], path: str, param: Param, array: str, index: tuple, bounds: Bounds) -> None:
    entries.append(ParamEntry(path, param, array, index, bounds))


_B01 = Bounds(0, 1)
_B0 = Bounds(0)
_BS = Bounds(-1, 1)


def compile_plan(scn: Scenario, rules: dict[str, RuleSetting], horizon: int | None = None) -> Plan:
    """Build the :class:`Plan` of a validated scenario with its resolved rule settings."""
    states = list(scn.states)
    alliances = list(scn.alliances)
    suppliers = list(scn.suppliers)
    territories = list(scn.territories)
    flashpoints = list(scn.flashpoints)
    events = [e.name for e in scn.events]
    si = {s: i for i, s in enumerate(states)}
    ai = {a: i for i, a in enumerate(alliances)}
    ki = {k: i for i, k in enumerate(suppliers)}
    ti = {t: i for i, t in enumerate(territories)}
    fi = {f: i for i, f in enumerate(flashpoints)}
    entries: list[ParamEntry] = []
    addr: dict[str, Address] = {}

    def scalar(path: str, p: Param, array: str, index: tuple, bounds: Bounds, space: str = "par", st_array: str | None = None, kind: str = "num") -> None:
        _add(entries, path, p, array, index, bounds)
        addr[path] = Address(path, space, st_array or array, index, kind, bounds)

    for s, spec in scn.states.items():
        i = si[s]
        scalar(f"states.{s}.capability", spec.capability, "capability0", (i,), _B0, "st", "capability")
        scalar(f"states.{s}.resolve", spec.resolve, "resolve", (i,), _B01)
        scalar(f"states.{s}.available_capacity", spec.available_capacity, "capacity", (i,), _B01)
        scalar(f"states.{s}.procurement_budget_usd", spec.procurement_budget_usd, "budget", (i,), _B0)
        for t, p in spec.affinity.items():
            scalar(f"states.{s}.affinity.{t}", p, "affinity0", (i, si[t]), _BS, "st", "affinity")
        for k, p in spec.suppliers.items():
            scalar(f"states.{s}.suppliers.{k}", p, "shares0", (i, ki[k]), _B01, "st", "shares")
        for k, p in spec.orders.items():
            scalar(f"states.{s}.orders.{k}", p, "orders0", (i, ki[k]), _B0, "st", "backlog")
    for a, spec in scn.alliances.items():
        j = ai[a]
        scalar(f"alliances.{a}.credibility", spec.credibility, "credibility", (j,), _B01)
        scalar(f"alliances.{a}.default_trust", spec.default_trust, "default_trust", (j,), _B01)
        scalar(f"alliances.{a}.outside_zone", spec.outside_zone, "outside_zone", (j,), _B01)
        scalar(f"alliances.{a}.trigger_level", spec.trigger_level, "trigger", (j,), Bounds(1, 5, True), kind="int")
        for s, p in spec.trust.items():
            scalar(f"alliances.{a}.trust.{s}", p, "trust0", (si[s], j), _B01, "st", "trust")
        addr[f"alliances.{a}.members"] = Address(f"alliances.{a}.members", "st", "status", (j,), "names")
        addr[f"alliances.{a}.frozen"] = Address(f"alliances.{a}.frozen", "st", "status", (j,), "names")
    for k, spec in scn.suppliers.items():
        j = ki[k]
        scalar(f"suppliers.{k}.reliability", spec.reliability, "reliability", (j,), _B01)
        scalar(f"suppliers.{k}.price_quality", spec.price_quality, "price_quality", (j,), _B01)
        scalar(f"suppliers.{k}.lag_months", spec.lag_months, "lag", (j,), Bounds(0, 120, True), kind="int")
        addr[f"suppliers.{k}.refuses"] = Address(f"suppliers.{k}.refuses", "st", "refuses", (j,), "names")
    for t in territories:
        addr[f"territories.{t}.controller"] = Address(f"territories.{t}.controller", "st", "controller", (ti[t],), "name")
    for f, spec in scn.flashpoints.items():
        j = fi[f]
        scalar(f"flashpoints.{f}.level", spec.level, "level0", (j,), Bounds(0, 5, True), "st", "level", kind="int")
        addr[f"flashpoints.{f}.mediators"] = Address(f"flashpoints.{f}.mediators", "st", "mediators", (j,), "names")
    for e_i, ev in enumerate(scn.events):
        _add(entries, f"events[{e_i}].probability", ev.probability, "event_p", (e_i,), _B01)
    for kind, rs in rules.items():
        for pname, p in rs.params.items():
            path = f"rules.{kind}.{pname}"
            arr = f"rule:{kind}.{pname}"
            b = rs.bounds.get(pname, Bounds())
            _add(entries, path, p, arr, (), b)
            if not isinstance(p.value, tuple):
                addr[path] = Address(path, "par", arr, (), "int" if b.integer else "num", b)

    S = len(states)
    sides = np.array([[si[x] for x in scn.flashpoints[f].sides] for f in flashpoints], dtype=np.intp).reshape(-1, 2)
    stakes = np.array([ti[scn.flashpoints[f].stakes] if scn.flashpoints[f].stakes else -1 for f in flashpoints], dtype=np.intp)
    location = np.array([si[scn.flashpoints[f].location] if scn.flashpoints[f].location else -1 for f in flashpoints], dtype=np.intp)
    leader = np.array([si[scn.alliances[a].leader] for a in alliances], dtype=np.intp)
    mvm = np.array([scn.alliances[a].member_vs_member == "respond" for a in alliances], dtype=bool)
    claimants = np.zeros((len(territories), S), dtype=bool)
    for t, spec in scn.territories.items():
        for c in spec.claimants:
            claimants[ti[t], si[c]] = True
    supplier_state = np.array([si[scn.suppliers[k].state] for k in suppliers], dtype=np.intp)
    buyer = np.zeros(S, dtype=bool)
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
    candidates = np.zeros((S, len(alliances)), dtype=bool)
    for a, spec in scn.alliances.items():
        for c in spec.candidates:
            candidates[si[c], ai[a]] = True
    return Plan(
        scenario=scn,
        rules=rules,
        states=states,
        alliances=alliances,
        suppliers=suppliers,
        territories=territories,
        flashpoints=flashpoints,
        events=events,
        start=month_index(scn.meta.start),
        horizon=horizon if horizon is not None else scn.meta.horizon_months,
        entries=entries,
        addresses=AddressTable(addr, si, ai, ki),
        sides=sides,
        stakes=stakes,
        location=location,
        leader=leader,
        alliance_kind=[scn.alliances[a].kind for a in alliances],
        member_vs_member=mvm,
        claimants=claimants,
        supplier_state=supplier_state,
        kind_of_state=[scn.states[s].kind for s in states],
        candidates=candidates,
        buyers=np.flatnonzero(buyer),
    )
