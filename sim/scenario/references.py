"""Checks that names in a scenario refer to things that exist, and other cross-field rules.

Works on the raw tree (not the validated model) so that it can run even when the
schema found problems: every independent problem is reported in one go.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from ..parts import PredicateText, Ref, registry
from .addressable import Addressable, addressable
from .errors import Mark, Problem, known_hint, suggest
from .expr import STATUSES, Call, Compare, ExprError, Name, month_index, parse_predicate, walk
from .values import FAMILIES, MAX_MAGNITUDE, Bounds, parse_dist, parse_param, parse_source
from .yamlsafe import mark_of

__all__ = ["Addressable", "addressable", "check_references", "rule_bounds", "rule_paths", "walk_sources"]


def _d(x: Any) -> dict:
    return x if isinstance(x, dict) else {}


def _l(x: Any) -> list:
    return x if isinstance(x, list) else []


def rule_bounds(raw: dict | None) -> dict[str, Bounds]:
    """Addressable rule parameters of the models a scenario's ``rules:`` picks, with ranges.

    A scalar parameter is ``rules.KIND.NAME``; an element of a vector parameter is
    ``rules.KIND.NAME[i]``. Derived from the registered rules (:mod:`sim.parts`).
    """
    reg = registry()
    raw = raw if isinstance(raw, dict) else {}
    out: dict[str, Bounds] = {}
    for kind, slot in reg.slots.items():
        spec = raw.get(kind) if isinstance(raw.get(kind), dict) else {}
        model = spec.get("model", slot.default)
        rd = reg.rules.get(kind, {}).get(model) if isinstance(model, str) else None
        if rd is None:
            continue
        for name, b in rd.params.bounds().items():
            if not b.vector:
                out[f"rules.{kind}.{name}"] = b
                continue
            value = spec.get(name)
            if isinstance(value, dict):
                value = value.get("value")
            if not isinstance(value, list):
                default = rd.params.model_fields[name].get_default(call_default_factory=True)
                value = getattr(default, "value", ())
            for i in range(len(value) if isinstance(value, list | tuple) else 0):
                out[f"rules.{kind}.{name}[{i}]"] = Bounds(b.lo, b.hi, b.integer)
    return out


def rule_paths(raw: dict | None) -> dict[str, str]:
    """Addressable rule parameter paths with their kinds (``num`` or ``int``)."""
    return {path: "int" if b.integer else "num" for path, b in rule_bounds(raw).items()}


def _valid(model, spec: dict) -> bool:
    """Whether an outcome's fields have the types its kind declares."""
    try:
        model.model_validate(dict(spec))
    except (ValidationError, TypeError, ValueError):
        return False
    return True


class _Checker:
    def __init__(
        self,
        tree: dict,
        file: str,
        rule_paths: Mapping[str, str] | None,
        rule_bounds: Mapping[str, Bounds] | None = None,
    ):
        self.tree = tree
        self.file = file
        self.problems: list[Problem] = []
        # Every key of a section names something, whatever its value: a state written
        # as `north:` (null) or `north: 3` has a schema problem, not an unknown name.
        self.states = set(_d(tree.get("states")))
        self.kinds: dict[str, set | None] = {
            "state": self.states,
            "alliance": set(_d(tree.get("alliances"))),
            "supplier": set(_d(tree.get("suppliers"))),
            "territory": set(_d(tree.get("territories"))),
            "flashpoint": set(_d(tree.get("flashpoints"))),
            "event": {
                e.get("name")
                for e in _l(tree.get("events"))
                if isinstance(e, dict) and isinstance(e.get("name"), str)
            },
            "outcome": set(_d(tree.get("outcomes"))),
            "status": set(STATUSES),
        }
        # A section of the wrong type (`states: [a, b]`) is reported by the schema; names
        # of that kind cannot be checked, rather than all reported as unknown.
        broken = False
        for kind, section, want in (
            ("state", "states", dict),
            ("alliance", "alliances", dict),
            ("supplier", "suppliers", dict),
            ("territory", "territories", dict),
            ("flashpoint", "flashpoints", dict),
            ("event", "events", list),
            ("outcome", "outcomes", dict),
        ):
            if tree.get(section) is not None and not isinstance(tree.get(section), want):
                self.kinds[kind] = None
                broken = broken or kind != "outcome"
        self.paths: Addressable | None = None if broken else addressable(tree, rule_paths, rule_bounds)
        self.start = None
        start = _d(tree.get("meta")).get("start")
        try:
            self.start = month_index(start) if isinstance(start, str) else None
        except ValueError:
            self.start = None

    def add(self, mark: Mark | None, path: str, message: str) -> None:
        self.problems.append(Problem(mark or Mark(self.file), path, message))

    def name(self, kind: str, value: Any, container: Any, key: Any, path: str, *, is_key: bool = False) -> bool:
        """Check that ``value`` names an existing ``kind``; report it otherwise.

        ``is_key``: the name is the key ``key`` of ``container`` (affinity, trust,
        shares, levers), so the problem points at the key rather than its value.
        """
        if not isinstance(value, str):
            return False  # the schema reports wrong types
        known = self.kinds[kind]
        if known is None or value in known:
            return True
        hint = suggest(value, known) or known_hint(kind, known)
        self.add(mark_of(container, key, prefer_key=is_key), path, f"unknown {kind} '{value}'{hint}")
        return False

    def names(self, kind: str, container: Any, key: Any, path: str, *, unique: bool = True) -> None:
        items = container.get(key) if isinstance(container, dict) else None
        seen: set[str] = set()
        for i, v in enumerate(_l(items)):
            self.name(kind, v, items, i, f"{path}[{i}]")
            if unique and isinstance(v, str):
                if v in seen:
                    self.add(mark_of(items, i), f"{path}[{i}]", f"'{v}' is listed twice; list it once")
                seen.add(v)

    # -------------------------------------------------------------------- sections

    def run(self) -> list[Problem]:
        t = self.tree
        for s, spec in _d(t.get("states")).items():
            spec = _d(spec)
            for other in _d(spec.get("affinity")):
                if other == s:
                    self.add(
                        mark_of(spec["affinity"], other, prefer_key=True),
                        f"states.{s}.affinity.{other}",
                        "a state's affinity towards itself is not a parameter; remove it",
                    )
                else:
                    self.name("state", other, spec["affinity"], other, f"states.{s}.affinity.{other}", is_key=True)
            shares = _d(spec.get("suppliers"))
            total = 0.0
            for k, v in shares.items():
                self.name("supplier", k, shares, k, f"states.{s}.suppliers.{k}", is_key=True)
                total += _mean(v)
            orders = _d(spec.get("orders"))
            for k in orders:
                self.name("supplier", k, orders, k, f"states.{s}.orders.{k}", is_key=True)
            if total > 1 + 1e-6:
                self.add(
                    mark_of(spec, "suppliers"),
                    f"states.{s}.suppliers",
                    f"supplier shares add up to {total:.3g}; they must sum to at most 1",
                )
        for a, spec in _d(t.get("alliances")).items():
            spec = _d(spec)
            p = f"alliances.{a}"
            self.name("state", spec.get("leader"), spec, "leader", f"{p}.leader")
            self.names("state", spec, "members", f"{p}.members")
            self.names("state", spec, "frozen", f"{p}.frozen")
            self.names("state", spec, "candidates", f"{p}.candidates")
            members = set(x for x in _l(spec.get("members")) if isinstance(x, str))
            leader = spec.get("leader")
            if isinstance(leader, str) and leader in self.states and members and leader not in members:
                self.add(mark_of(spec, "leader"), f"{p}.leader", f"leader '{leader}' must also be in members")
            for i, f in enumerate(_l(spec.get("frozen"))):
                if isinstance(f, str) and f in self.states and f not in members:
                    self.add(mark_of(spec["frozen"], i), f"{p}.frozen[{i}]", f"'{f}' is frozen but not in members")
            for i, c in enumerate(_l(spec.get("candidates"))):
                if isinstance(c, str) and c in members:
                    self.add(
                        mark_of(spec["candidates"], i),
                        f"{p}.candidates[{i}]",
                        f"'{c}' is already a member; candidates are non-members that may join",
                    )
            for s in _d(spec.get("trust")):
                self.name("state", s, spec["trust"], s, f"{p}.trust.{s}", is_key=True)
        for k, spec in _d(t.get("suppliers")).items():
            spec = _d(spec)
            self.name("state", spec.get("state"), spec, "state", f"suppliers.{k}.state")
            self.names("state", spec, "refuses", f"suppliers.{k}.refuses")
        for k, spec in _d(t.get("territories")).items():
            spec = _d(spec)
            self.name("state", spec.get("controller"), spec, "controller", f"territories.{k}.controller")
            self.names("state", spec, "claimants", f"territories.{k}.claimants")
        for k, spec in _d(t.get("flashpoints")).items():
            spec = _d(spec)
            p = f"flashpoints.{k}"
            sides = _l(spec.get("sides"))
            for i, s in enumerate(sides):
                self.name("state", s, sides, i, f"{p}.sides[{i}]")
            if len(sides) == 2 and sides[0] == sides[1] and isinstance(sides[0], str):
                self.add(mark_of(spec, "sides"), f"{p}.sides", f"both sides are '{sides[0]}'; a flashpoint needs two different sides")
            if spec.get("stakes") is not None:
                self.name("territory", spec.get("stakes"), spec, "stakes", f"{p}.stakes")
            if spec.get("location") is not None:
                self.name("state", spec.get("location"), spec, "location", f"{p}.location")
            self.names("state", spec, "mediators", f"{p}.mediators")
        self.events()
        for actor, levers in _d(t.get("levers")).items():
            self.name("state", actor, t["levers"], actor, f"levers.{actor}", is_key=True)
            for lname, lever in _d(levers).items():
                self.effect(_d(lever).get("effect"), _d(lever), f"levers.{actor}.{lname}.effect")
                policy = _d(_d(lever).get("policy"))
                if isinstance(policy.get("when"), str):
                    self.predicate(policy["when"], policy, "when", f"levers.{actor}.{lname}.policy.when")
        self.uncertainties(_d(t.get("uncertainties")))
        self.outcomes()
        return self.problems

    def uncertainties(self, unc: dict) -> None:
        """Each range a sweep samples: a numeric parameter, and a distribution that the
        parameter itself would accept (a whole number takes choice, a probability stays
        in [0, 1]), refused in the same words as at the parameter."""
        for path, dist in unc.items():
            if _rule_switched_off(self.tree, path):
                continue  # the mechanism is off in this run: the uncertainty has nothing to vary
            bounds = None
            if self.paths is not None:
                if self.paths.get(path) not in ("num", "int"):
                    hint = self.paths.suggest(path, ("num", "int"))
                    self.add(
                        mark_of(unc, path, prefer_key=True),
                        f"uncertainties.{path}",
                        f"not a numeric parameter path{hint}",
                    )
                else:
                    bounds = self.paths.bounds(path)
            if not isinstance(dist, dict):
                self.add(mark_of(unc, path), f"uncertainties.{path}", "expected a distribution, e.g. {uniform: [0.1, 0.7]}")
                continue
            try:
                d = {k: v for k, v in dist.items() if k != "source"}
                if bounds is not None and any(k in FAMILIES for k in d):
                    parse_param(d, bounds)
                else:
                    parse_dist(d)
                if "source" in dist:
                    parse_source(dist["source"])
            except ValueError as exc:
                self.add(mark_of(unc, path), f"uncertainties.{path}", str(exc))

    def events(self) -> None:
        events = _l(self.tree.get("events"))
        seen: dict[str, int] = {}
        triggers: dict[str, list[str]] = {}
        for i, ev in enumerate(events):
            if not isinstance(ev, dict):
                continue
            p = f"events[{i}]"
            name = ev.get("name")
            if isinstance(name, str):
                if name in seen:
                    self.add(mark_of(ev, "name"), f"{p}.name", f"event name '{name}' is used twice (also events[{seen[name]}])")
                seen[name] = i
            at = ev.get("at")
            if isinstance(at, str) and self.start is not None:
                try:
                    if month_index(at) < self.start:
                        start = _d(self.tree.get("meta")).get("start")
                        self.add(
                            mark_of(ev, "at"),
                            f"{p}.at",
                            f"event month {at} is before the scenario start {start}; "
                            "events cannot change the past",
                        )
                except ValueError:
                    pass
            if isinstance(ev.get("when"), str):
                self.predicate(ev["when"], ev, "when", f"{p}.when")
            eff = ev.get("effect")
            self.effect(eff, ev, f"{p}.effect")
            if isinstance(name, str):
                triggers[name] = [x for x in _as_list(_d(eff).get("event")) if isinstance(x, str)]
        # cycles among triggered events
        path = _find_cycle(triggers)
        if path is not None:
            path = path[path.index(path[-1]) :]  # the cycle itself, without a lead-in
            i = seen[path[-2]]  # reported where the cycle closes
            eff = _d(_d(events[i]).get("effect"))
            self.add(
                _item_mark(eff, "event", path[-1]),
                f"events[{i}].effect.event",
                "events trigger each other in a cycle: " + " -> ".join(path)
                + "; remove one of these triggers",
            )

    def predicate(self, text: str, container: Any, key: Any, path: str) -> None:
        try:
            node = parse_predicate(text)
        except ExprError:
            return  # the schema reports syntax errors
        base = mark_of(container, key)
        for n in walk(node):
            if isinstance(n, Call):
                from .expr import FUNCTIONS

                kinds = FUNCTIONS[n.fn].args
                for arg, kind in zip(n.args, kinds, strict=False):
                    self._arg(kind, arg, base, path)
                if n.fn == "affinity" and len(n.args) == 2 and n.args[0].name == n.args[1].name:
                    self.add(base.shifted(n.pos) if base else None, path, "affinity of an actor with itself is not defined")
            if isinstance(n, Compare):
                for side in (n.left, n.right):
                    if isinstance(side, Name):
                        self._arg("state", side, base, path)

    def _arg(self, kind: str, arg: Name, base: Mark | None, path: str) -> None:
        where = base.shifted(arg.pos) if base else None
        if kind == "path":
            if self.paths is not None and self.paths.get(arg.name) not in ("num", "int"):
                hint = self.paths.suggest(arg.name, ("num", "int"))
                self.add(where, path, f"'{arg.name}' is not a numeric parameter path{hint}")
            return
        known = self.kinds[kind]
        if known is not None and arg.name not in known:
            plural = "statuses" if kind == "status" else f"{kind}s"
            hint = suggest(arg.name, known) or known_hint(kind, known).replace(f"{kind}s ", f"{plural} ", 1)
            self.add(where, path, f"unknown {kind} '{arg.name}'{hint}")

    def effect(self, eff: Any, container: Any, path: str) -> None:
        if not isinstance(eff, dict):
            return
        for op in ("set", "add", "multiply", "remove"):
            items = eff.get(op)
            if not isinstance(items, dict):
                continue
            for target, value in items.items():
                tpath = f"{path}.{op}.{target}"
                if self.paths is None:
                    continue  # a section is broken; the schema reports it
                kind = self.paths.get(target)
                if kind is None:
                    hint = self.paths.suggest(target)
                    if not hint:
                        hint = "; paths look like suppliers.russia_arms.reliability or flashpoints.lachin.level"
                    self.add(mark_of(items, target, prefer_key=True), tpath, f"no such path '{target}'{hint}")
                    continue
                self._effect_value(op, kind, value, items, target, tpath)
        for i, e in enumerate(_as_list(eff.get("event"))):
            if isinstance(e, str):
                evs = eff.get("event")
                self.name("event", e, evs if isinstance(evs, list) else eff, i if isinstance(evs, list) else "event", f"{path}.event")

    def _effect_value(self, op: str, kind: str, value: Any, items: Any, key: str, path: str) -> None:
        mark = mark_of(items, key)
        isnum = isinstance(value, int | float) and not isinstance(value, bool)
        if kind in ("num", "int"):
            if op == "remove":
                self.add(mark, path, f"'remove' applies to lists of names; use set, add or multiply for {key}")
            elif not isnum:
                self.add(mark, path, f"expected a number for {key}, got {_short(value)}")
            elif not _finite(value):
                self.add(mark, path, f"expected a finite number for {key}, got {_short(value)}")
            elif abs(value) > MAX_MAGNITUDE:
                self.add(mark, path, f"{_short(value)} is too large to simulate; numbers in a scenario are at most 1e15 in size")
            elif kind == "int" and op in ("set", "add") and value != int(value):
                self.add(mark, path, f"{key} is a whole number, got {_short(value)}")
            elif key.endswith(".level") and op == "set" and not 0 <= value <= 5:
                self.add(mark, path, f"a level is a rung 0-5, got {_short(value)}")
            return
        if kind == "name":
            if op != "set":
                self.add(mark, path, f"'{op}' does not apply to {key}; use set")
            else:
                self.name("state", value, items, key, path)
            return
        # names
        if op == "multiply":
            self.add(mark, path, f"'multiply' does not apply to the list {key}; use add or remove")
            return
        vals = value if isinstance(value, list) else [value]
        for i, v in enumerate(vals):
            if not isinstance(v, str):
                self.add(mark, path, f"expected actor names for {key}, got {_short(v)}")
            else:
                self.name("state", v, value if isinstance(value, list) else items, i if isinstance(value, list) else key, path)

    def outcomes(self) -> None:
        reg = registry()
        outs = _d(self.tree.get("outcomes"))
        for name, spec in outs.items():
            spec = _d(spec)
            p = f"outcomes.{name}"
            ok = reg.outcomes.get(spec.get("kind")) if isinstance(spec.get("kind"), str) else None
            if ok is None:
                continue  # the schema reports an unknown kind
            for key, f in ok.spec.model_fields.items():
                value = spec.get(key)
                if value is None:
                    continue
                for meta in f.metadata:
                    if isinstance(meta, Ref) and meta.kind == "outcome":
                        for i, o in enumerate(_l(value)):
                            if o == name:
                                self.add(mark_of(value, i), f"{p}.{key}[{i}]", "an outcome cannot include itself")
                            else:
                                self.name("outcome", o, value, i, f"{p}.{key}[{i}]")
                    elif isinstance(meta, Ref):
                        self.name(meta.kind, value, spec, key, f"{p}.{key}")
                    elif isinstance(meta, PredicateText) and isinstance(value, str):
                        self.predicate(value, spec, key, f"{p}.{key}")
            if ok.check is not None and _valid(ok.spec, spec):
                # a check reads the fields as their types say; a spec the schema
                # refuses (a list where a name belongs) is reported there instead
                for key, message in ok.check(spec, self.tree):
                    self.add(mark_of(spec, key), f"{p}.{key}", message)
        # cycles among combined outcomes
        # (an outcome that lists itself is reported above)
        graph = {n: [o for o in _l(_d(s).get("of")) if isinstance(o, str) and o != n] for n, s in outs.items()}
        path = _find_cycle(graph)
        if path is not None:
            path = path[path.index(path[-1]) :]
            last = path[-2]
            self.add(
                _item_mark(_d(outs[last]), "of", path[-1]),
                f"outcomes.{last}.of",
                "outcomes include each other in a cycle: " + " -> ".join(path),
            )


def _find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """The first cycle met by a depth-first walk from each node in order, or ``None``.

    Returned as the walk's path ending with the node that closes the cycle
    (``[a, b, c, b]``). Each node is walked once (work linear in the graph's size), and
    without recursion, so a chain of thousands of triggers is no problem.
    """
    done: set[str] = set()
    for start in graph:
        if start in done:
            continue
        path, on_path = [start], {start}
        stack = [iter(graph.get(start, ()))]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                node = path.pop()
                on_path.discard(node)
                done.add(node)
                stack.pop()
            elif nxt in on_path:
                return [*path, nxt]
            elif nxt not in done:
                path.append(nxt)
                on_path.add(nxt)
                stack.append(iter(graph.get(nxt, ())))
    return None


def _item_mark(container: dict, key: str, item: str) -> Mark | None:
    """Where ``item`` is written in ``container[key]`` (a list or a single name)."""
    value = container.get(key)
    if isinstance(value, list) and item in value:
        return mark_of(value, value.index(item))
    return mark_of(container, key)


def _as_list(x: Any) -> list:
    if x is None:
        return []
    return x if isinstance(x, list) else [x]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _finite(x: float) -> bool:
    try:
        return math.isfinite(x)
    except OverflowError:  # an int with hundreds of digits
        return False


def _mean(v: Any) -> float:
    if isinstance(v, dict) and "value" in v:
        v = v["value"]
    if isinstance(v, int | float) and not isinstance(v, bool):
        return float(v) if _finite(v) else 0.0  # the schema reports it
    if isinstance(v, dict):
        try:
            return parse_dist(v).mean()
        except ValueError:
            return 0.0
    return 0.0


def check_references(
    tree: dict,
    file: str,
    rule_paths: Mapping[str, str] | None = None,
    rule_bounds: Mapping[str, Bounds] | None = None,
) -> list[Problem]:
    """All reference and cross-field problems in a merged scenario tree.

    ``rule_paths`` are the addressable rule parameters with their kinds, ``rule_bounds``
    their ranges (see :func:`sim.rules.rule_bounds`).
    """
    return _Checker(tree, file, rule_paths, rule_bounds).run()


def walk_sources(node: Any, path: str = ""):
    """Yield ``(path, container, source_dict)`` for every ``source:`` in a tree."""
    if isinstance(node, dict):
        for k, v in node.items():
            p = f"{path}.{k}" if path else str(k)
            if k == "source" and isinstance(v, dict):
                yield path, node, v
            else:
                yield from walk_sources(v, p)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk_sources(v, f"{path}[{i}]")


def _rule_switched_off(tree: dict, path: str) -> bool:
    """``rules.KIND.PARAM`` of a mechanism the scenario (or an override) switches off."""
    parts = path.split(".")
    if parts[0] != "rules" or len(parts) != 3:
        return False
    spec = _d(tree.get("rules")).get(parts[1])
    return isinstance(spec, dict) and "model" in spec and (
        spec["model"] is False or spec["model"] is None or spec["model"] in ("off", "none"))
