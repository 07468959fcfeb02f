"""From a validated scenario to arrays: index maps, parameter tables, addresses.

A :class:`Plan` is everything about a scenario that does not depend on the number of
replicates: which actors exist and in what order, every parameter with its path and
source, and the address of every quantity an effect can change. A chunk of R
replicates is then :meth:`Plan.sample`-d into arrays with a replicate-first axis.

Nothing here knows a mechanism: the parameter arrays and addresses are derived from the
declarations in :mod:`sim.parts` (actor attributes, rule parameters, effect targets).
Addresses are resolved on demand by parsing the path, so a plan's size grows with the
scenario file, not with the square of its number of actors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import seeding
from ..parts import KIND_OF_SECTION, SECTIONS, Target, registry
from ..scenario.expr import month_index
from ..scenario.values import Bounds, Dist, Param

# Membership status codes (per replicate, per state, per alliance).
NONE, ACTIVE, FROZEN, EXITED = 0, 1, 2, 3
STATUS_CODES = {"none": NONE, "active": ACTIVE, "frozen": FROZEN, "exited": EXITED}
LEVELS = ("calm", "tension", "display", "fatal clash", "major clash", "war")


@dataclass(frozen=True)
class ParamEntry:
    """One scalar (or vector) parameter of the scenario and where its sampled values go."""

    path: str
    param: Param
    array: str  # name in World.par
    index: tuple  # column index into the array after the replicate axis
    bounds: Bounds


@dataclass(frozen=True)
class Address:
    """Where a dotted path lives in the world: namespace, array, index, kind.

    ``kind`` is ``num``, ``int``, ``names`` (a list of actor names) or ``name``.
    ``on_change`` (numbers) runs after an effect changes the value; ``target``
    (names) builds the operations of an effect on it.
    """

    path: str
    space: str  # "par" or "st"
    array: str
    index: tuple
    kind: str
    bounds: Bounds = Bounds()
    on_change: Any = None
    target: Target | None = None


@dataclass
class RuleSetting:
    """A mechanism chosen by the scenario: its registered model and parameter values."""

    kind: str
    model: str
    params: dict[str, Param] = field(default_factory=dict)
    bounds: dict[str, Bounds] = field(default_factory=dict)


class AddressTable:
    """``plan.addresses[path]``: resolved on demand by parsing the path, so a world of
    thousands of states does not list its millions of affinity pairs. Iterating lists
    every path lazily (``len`` counts them)."""

    def __init__(self, plan: Plan):
        self.plan = plan

    def __iter__(self):
        plan = self.plan
        reg = registry()
        for section in SECTIONS:
            actors = plan.section(section)
            for attr in reg.attrs_of(section):
                for actor in actors:
                    if attr.keyed_by is None:
                        yield f"{section}.{actor}.{attr.name}"
                        continue
                    for key in plan.section(attr.keyed_by):
                        if not (attr.keyed_by == section and key == actor):
                            yield f"{section}.{actor}.{attr.name}.{key}"
            for (sec, name), _ in reg.targets.items():
                if sec == section:
                    for actor in actors:
                        yield f"{section}.{actor}.{name}"
        for kind, rs in plan.rules.items():
            for pname, p in rs.params.items():
                if isinstance(p.value, tuple):
                    for i in range(len(p.value)):
                        yield f"rules.{kind}.{pname}[{i}]"
                else:
                    yield f"rules.{kind}.{pname}"

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __getitem__(self, path: str) -> Address:
        ad = self.plan.address(path)
        if ad is None:
            raise KeyError(path)
        return ad

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and self.plan.address(path) is not None

    def get(self, path: str, default: Any = None) -> Any:
        ad = self.plan.address(path)
        return default if ad is None else ad


@dataclass
class Plan:
    """A scenario compiled to index maps and parameter tables (no replicate axis yet)."""

    scenario: Any  # the validated scenario (sim.scenario.schema.scenario_model() instance)
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
    par_shapes: dict[str, tuple]  # shapes (after the replicate axis) of the parameter arrays
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
    levers: list[tuple[str, str]] = field(default_factory=list)  # (actor, lever) applied from the start
    lever_keys: list[tuple[str, str]] = field(default_factory=list)  # every declared (actor, lever), in file order
    _addr: dict[str, Address | None] = field(default_factory=dict, repr=False)
    _index: dict[str, dict[str, int]] = field(default_factory=dict, repr=False)

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

    @property
    def sizes(self) -> dict[str, int]:
        """Sizes of the symbolic dimensions of declared state (S, A, K, T, F, E)."""
        return {"S": self.S, "A": self.A, "K": self.K, "T": self.T, "F": self.F, "E": len(self.events),
                "L": len(self.lever_keys)}

    def section(self, name: str) -> list[str]:
        return {
            "states": self.states,
            "alliances": self.alliances,
            "suppliers": self.suppliers,
            "territories": self.territories,
            "flashpoints": self.flashpoints,
        }[name]

    def index_of(self, kind: str) -> dict[str, int]:
        idx = self._index.get(kind)
        if idx is None:
            seq = {
                "state": self.states,
                "alliance": self.alliances,
                "supplier": self.suppliers,
                "territory": self.territories,
                "flashpoint": self.flashpoints,
                "event": self.events,
                "lever": [f"{a}.{lv}" for a, lv in self.lever_keys],
            }[kind]
            idx = self._index[kind] = {n: i for i, n in enumerate(seq)}
        return idx

    def shapes(self) -> dict[str, tuple]:
        """Shapes (after the replicate axis) of the parameter arrays."""
        return dict(self.par_shapes)

    # ---------------------------------------------------------------- addresses

    @property
    def addresses(self) -> AddressTable:
        return AddressTable(self)

    def address(self, path: str) -> Address | None:
        """The :class:`Address` of a dotted path, or None if nothing lives there."""
        if path in self._addr:
            return self._addr[path]
        ad = self._resolve(path)
        self._addr[path] = ad
        return ad

    def _resolve(self, path: str) -> Address | None:
        parts = path.split(".")
        if parts[0] == "rules":
            return self._rule_address(path, parts)
        if parts[0] not in SECTIONS or len(parts) not in (3, 4):
            return None
        section, actor, name = parts[0], parts[1], parts[2]
        idx = self.index_of(KIND_OF_SECTION[section])
        if actor not in idx:
            return None
        i = idx[actor]
        reg = registry()
        attr = reg.attrs.get((section, name))
        if attr is not None:
            if attr.keyed_by is None:
                if len(parts) != 3:
                    return None
                index: tuple = (i,)
            else:
                if len(parts) != 4:
                    return None
                kidx = self.index_of(KIND_OF_SECTION[attr.keyed_by])
                key = parts[3]
                if key not in kidx or (attr.keyed_by == section and key == actor):
                    return None
                index = (kidx[key], i) if attr.key_first else (i, kidx[key])
            space, array = ("st", attr.state) if attr.state else ("par", attr.array)
            return Address(path, space, array, index, "int" if attr.integer else "num", attr.bounds, attr.on_change)
        target = reg.targets.get((section, name))
        if target is not None and len(parts) == 3:
            return Address(path, "st", name, (i,), target.kind, Bounds(), None, target)
        return None

    def _rule_address(self, path: str, parts: list[str]) -> Address | None:
        if len(parts) != 3:
            return None
        kind, name = parts[1], parts[2]
        element = None
        if name.endswith("]") and "[" in name:
            name, _, rest = name.partition("[")
            if not rest[:-1].isdigit():
                return None
            element = int(rest[:-1])
        rs = self.rules.get(kind)
        if rs is None or name not in rs.params:
            return None
        b = rs.bounds.get(name, Bounds())
        value = rs.params[name].value
        arr = f"rule:{kind}.{name}"
        kind_ = "int" if b.integer else "num"
        if element is None:
            if isinstance(value, tuple):
                return None  # a vector is addressed element by element: NAME[i]
            return Address(path, "par", arr, (), kind_, b)
        if not isinstance(value, tuple) or element >= len(value):
            return None
        return Address(path, "par", arr, (element,), kind_, Bounds(b.lo, b.hi, b.integer))

    # ----------------------------------------------------------------- sampling

    def sample(
        self,
        n: int,
        key: int,
        ids: np.ndarray | None = None,
        dtype: Any = np.float64,
        fixed: dict[str, np.ndarray] | None = None,
    ) -> dict[str, np.ndarray]:
        """Draw every parameter for ``n`` replicates.

        ``key`` is the run's root key (:func:`sim.seeding.root_key`) and ``ids`` the
        replicates' global indices (default ``0 .. n-1``): a distribution's value in
        replicate r is its quantile of the uniform addressed by the parameter's path and r
        (:func:`sim.seeding.parameter_uniforms`), so it does not depend on the chunk, and
        changing one parameter's distribution leaves every other parameter's draws
        unchanged (common random numbers for comparisons and sweeps). ``fixed`` gives, for
        some parameter paths, each replicate's value (a study's parameter sets): those
        replace the file's value or distribution.
        """
        ids = seeding.replicate_ids(0, n) if ids is None else ids
        arrays = {name: np.zeros((n, *shape), dtype=dtype) for name, shape in self.par_shapes.items()}
        fixed = fixed or {}
        for e in self.entries:
            v = e.param.value
            target = arrays[e.array]
            if isinstance(v, Dist):
                draw = v.quantile(seeding.parameter_uniforms(key, e.path, ids))
                if e.bounds.integer:
                    draw = np.rint(draw)
                target[(slice(None), *e.index)] = np.clip(draw, e.bounds.lo, e.bounds.hi)
            else:
                target[(slice(None), *e.index)] = v
        for path, values in fixed.items():
            self._write_fixed(arrays, path, np.asarray(values, dtype=float))
        return arrays

    def _write_fixed(self, arrays: dict[str, np.ndarray], path: str, values: np.ndarray) -> None:
        parts = path.split(".")
        ad = self.address(path)
        if ad is None or ad.kind not in ("num", "int"):
            raise KeyError(f"'{path}' is not a numeric parameter of this scenario")
        if ad.space == "st":  # an attribute that initialises state: write its parameter array
            attr = registry().attrs[(parts[0], parts[2])]
            array = attr.array
        else:
            array = ad.array
        v = np.clip(values, ad.bounds.lo, ad.bounds.hi)
        if ad.kind == "int":
            v = np.rint(v)
        arrays[array][(slice(None), *ad.index)] = v


_B01 = Bounds(0, 1)


def compile_plan(
    scn: Any,
    rules: dict[str, RuleSetting],
    horizon: int | None = None,
    levers: list[tuple[str, str]] | None = None,
) -> Plan:
    """Build the :class:`Plan` of a validated scenario with its resolved rule settings.

    ``levers``: ``(actor, lever)`` pairs whose effects apply from the start.
    """
    reg = registry()
    order = {sec: list(getattr(scn, sec)) for sec in SECTIONS}
    idx = {sec: {n: i for i, n in enumerate(names)} for sec, names in order.items()}
    events = [e.name for e in scn.events]
    entries: list[ParamEntry] = []
    shapes: dict[str, tuple] = {}
    for (section, _), attr in reg.attrs.items():
        n_sec = len(order[section])
        if attr.keyed_by is None:
            shapes[attr.array] = (n_sec,)
        else:
            n_key = len(order[attr.keyed_by])
            shapes[attr.array] = (n_key, n_sec) if attr.key_first else (n_sec, n_key)
    for section in SECTIONS:
        attrs = reg.attrs_of(section)
        for actor, spec in getattr(scn, section).items():
            i = idx[section][actor]
            for attr in attrs:
                value = getattr(spec, attr.name)
                if attr.keyed_by is None:
                    entries.append(ParamEntry(f"{section}.{actor}.{attr.name}", value, attr.array, (i,), attr.bounds))
                    continue
                kidx = idx[attr.keyed_by]
                for key, p in value.items():
                    index = (kidx[key], i) if attr.key_first else (i, kidx[key])
                    entries.append(ParamEntry(f"{section}.{actor}.{attr.name}.{key}", p, attr.array, index, attr.bounds))
    shapes["event_p"] = (len(events),)
    for e_i, ev in enumerate(scn.events):
        entries.append(ParamEntry(f"events[{e_i}].probability", ev.probability, "event_p", (e_i,), _B01))
    lever_keys = [(a, lv) for a, levers_of in scn.levers.items() for lv in levers_of]
    shapes["policy_p"] = (len(lever_keys),)
    for i, (a, lv) in enumerate(lever_keys):
        pol = scn.levers[a][lv].policy
        if pol is not None:
            entries.append(ParamEntry(f"levers.{a}.{lv}.policy.probability", pol.probability, "policy_p", (i,), _B01))
    for kind, rs in rules.items():
        for pname, p in rs.params.items():
            arr = f"rule:{kind}.{pname}"
            entries.append(ParamEntry(f"rules.{kind}.{pname}", p, arr, (), rs.bounds.get(pname, Bounds())))
            shapes[arr] = (len(p.value),) if isinstance(p.value, tuple) else ()

    si, ti = idx["states"], idx["territories"]
    flashpoints, alliances, territories = order["flashpoints"], order["alliances"], order["territories"]
    S = len(order["states"])
    sides = np.array([[si[x] for x in scn.flashpoints[f].sides] for f in flashpoints], dtype=np.intp).reshape(-1, 2)
    stakes = np.array([ti[scn.flashpoints[f].stakes] if scn.flashpoints[f].stakes else -1 for f in flashpoints], dtype=np.intp)
    location = np.array([si[scn.flashpoints[f].location] if scn.flashpoints[f].location else -1 for f in flashpoints], dtype=np.intp)
    leader = np.array([si[scn.alliances[a].leader] for a in alliances], dtype=np.intp)
    mvm = np.array([scn.alliances[a].member_vs_member == "respond" for a in alliances], dtype=bool)
    claimants = np.zeros((len(territories), S), dtype=bool)
    for t, spec in scn.territories.items():
        for c in spec.claimants:
            claimants[ti[t], si[c]] = True
    supplier_state = np.array([si[scn.suppliers[k].state] for k in order["suppliers"]], dtype=np.intp)
    candidates = np.zeros((S, len(alliances)), dtype=bool)
    for a, spec in scn.alliances.items():
        for c in spec.candidates:
            candidates[si[c], idx["alliances"][a]] = True
    return Plan(
        scenario=scn,
        rules=rules,
        states=order["states"],
        alliances=alliances,
        suppliers=order["suppliers"],
        territories=territories,
        flashpoints=flashpoints,
        events=events,
        start=month_index(scn.meta.start),
        horizon=horizon if horizon is not None else scn.meta.horizon_months,
        entries=entries,
        par_shapes=shapes,
        sides=sides,
        stakes=stakes,
        location=location,
        leader=leader,
        alliance_kind=[scn.alliances[a].kind for a in alliances],
        member_vs_member=mvm,
        claimants=claimants,
        supplier_state=supplier_state,
        kind_of_state=[scn.states[s].kind for s in order["states"]],
        candidates=candidates,
        levers=list(levers or []),
        lever_keys=lever_keys,
    )
