"""Finding and loading scenarios, and the plug-ins that register parts.

:func:`load_scenario` reads a scenario (a file, a shipped name or a mapping), merges what it
extends, applies ``--set`` overrides and checks it all (schema, names, references, facts):
an :class:`~sim.scenario.errors.InputError` lists every problem, or a
:class:`LoadedScenario` is ready to run. :func:`load_plugins` imports the ``--plugin``
modules, refusing one that would silently replace a stock part.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import arguments as A
from . import inputs
from .evidence.cards import FactBase, load_cards
from .evidence.provenance import check_sources
from .parts import REGISTRY, registry, replacing_stock
from .paths import scenarios_dir
from .scenario.causes import missing_extends
from .scenario.errors import InputError, Mark, Problem, option_error, suggest
from .scenario.load import apply_overrides, from_mapping, merge, parse_overrides, read_tree
from .scenario.references import addressable, check_references, rule_bounds, rule_paths
from .scenario.schema import scenario_model
from .scenario.validation import fields_at, validate_model
from .scenario.values import Param, parse_dist, parse_source
from .scenario.yamlsafe import load_yaml_file
from .world.compile import compile_plan


def find_scenario(ref: str | Path) -> Path:
    """A scenario path, or the name of a shipped scenario (``karabakh``)."""
    if not isinstance(ref, str | Path):
        raise InputError([Problem(Mark(repr(ref)[:60]), "", "a scenario is a file path, a shipped scenario's name, or a mapping")])
    p = Path(ref)
    try:
        exists = p.exists() or p.is_symlink()  # a link that loops is reported as one
    except (OSError, ValueError):  # a name too long for the system, or with a NUL
        raise InputError([Problem(Mark(str(ref)[:60] + "..."), "", "not a usable file path; check the name")]) from None
    names = [q.stem for q in scenarios_dir().glob("*.yaml")]
    if not exists and p.suffix in (".yaml", ".yml") and p.stem in names:
        raise InputError(
            [
                Problem(
                    Mark(str(ref)),
                    "",
                    f"no such file; '{p.stem}' is a shipped scenario: to use it, give its name alone ({p.stem})",
                )
            ]
        )
    if exists or p.suffix in (".yaml", ".yml") or "/" in str(ref):
        return p
    shipped = scenarios_dir() / f"{ref}.yaml"
    if shipped.exists():
        return shipped
    raise InputError(
        [
            Problem(
                Mark(str(ref)),
                "",
                f"no such file, and no shipped scenario '{ref}'{suggest(str(ref), names)}; "
                "`sim list` shows the shipped ones",
            )
        ]
    )


def _plain(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_plain(v) for v in x]
    return x


@dataclass(frozen=True)
class Uncertainty:
    """A named input whose value nobody controls, with its plausible range.

    Attributes:
        path: The parameter it sets (``alliances.csto.credibility``).
        dist: Its distribution over parameter sets (:class:`sim.scenario.values.Dist`).
        source: Where the range comes from, if the file says.
        kind: ``num`` or ``int``.
        bounds: The parameter's allowed range.
    """

    path: str
    dist: Any
    source: Any
    kind: str
    bounds: tuple[float, float]


@dataclass
class LoadedScenario:
    """A validated scenario with its mechanisms, ready to run.

    Attributes:
        spec: The typed scenario (:class:`sim.scenario.schema.Scenario`).
        rules: The mechanisms it uses, with every parameter (defaults filled in).
        path: The file it was read from.
        overrides: The ``--set`` overrides applied, ``{path: value}``.
        facts: The fact cards its sources were checked against.
    """

    spec: Any
    rules: dict
    path: Path
    overrides: dict[str, Any]
    facts: FactBase
    tree: Any = field(repr=False, default=None)
    _plan: Any = field(repr=False, default=None, compare=False)

    @property
    def name(self) -> str:
        return self.spec.meta.name

    @property
    def meta(self):
        return self.spec.meta

    def resolved(self) -> dict[str, Any]:
        """The whole scenario as data: merged, overridden, every rule parameter explicit."""
        data = _plain(self.tree)
        data.pop("extends", None)
        rules: dict[str, Any] = {}
        raw_rules = data.get("rules") or {}
        for kind in (s.kind for s in registry().slots_in_order()):
            rs = self.rules.get(kind)
            if rs is None:
                if isinstance(raw_rules.get(kind), dict) and raw_rules[kind].get("model") in ("off", False, "none"):
                    rules[kind] = {"model": "off"}
                continue
            entry: dict[str, Any] = {"model": rs.model}
            for pname, p in rs.params.items():
                # a vector set without a source is a tuple in memory: data (and a worker) take a list
                entry[pname] = p.to_data() if p.source is not None else (
                    list(p.value) if isinstance(p.value, tuple) else p.value)
            rules[kind] = entry
        data["rules"] = rules
        return data

    def resolved_yaml(self) -> str:
        head = (
            f"# Resolved scenario '{self.name}' from {self.path}\n"
            "# (extends merged, overrides applied, every rule parameter explicit).\n"
            "# `sim run` on this file reproduces the run.\n"
        )
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        return head + yaml.dump(self.resolved(), Dumper=dumper, sort_keys=False, allow_unicode=True, width=100)

    def sha256(self) -> str:
        """Hash of the resolved scenario (canonical JSON)."""
        blob = json.dumps(self.resolved(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    def with_overrides(self, overrides: dict[str, Any]) -> LoadedScenario:
        """The same scenario with more ``{path: value}`` overrides applied."""
        merged = {**self.overrides, **parse_overrides(overrides)}
        return load_scenario(self.path, overrides=merged, seeds=self.facts.folder)

    def uncertainties(self) -> list[Uncertainty]:
        """The scenario's ``uncertainties:``: named inputs a study samples once per
        parameter set (a plain run keeps the file's values)."""
        plan = self.compiled()
        out = []
        for path, raw in self.spec.uncertainties.items():
            raw = dict(raw)
            source = parse_source(raw.pop("source")) if raw.get("source") is not None else None
            raw.pop("source", None)
            ad = plan.address(path)
            if ad is None and path.startswith("rules."):
                continue  # a parameter of a mechanism switched off in this run
            out.append(Uncertainty(path, parse_dist(raw), source, ad.kind if ad else "num",
                                   (ad.bounds.lo, ad.bounds.hi) if ad else (float("-inf"), float("inf"))))
        return out

    def problem(self, params: dict[str, tuple[float, float]] | list[str] | None = None,
                levers: list[str] | None = None, outputs: list[str] | None = None) -> Any:
        """A SALib ``ProblemSpec`` of the scenario's uncertainties (or of ``params``
        ranges ``{path: (lo, hi)}`` / ``["PATH=LO:HI"]``), plus levers switched on/off
        (uniform on [0, 1], on from 0.5). Names are the parameter paths; ``outputs`` are
        the outcomes whose probabilities the results will hold, in that order (default:
        every outcome of the scenario), so SALib's analyses are keyed by outcome name
        (``sp.analysis["lachin_fatal_clash"]``) rather than ``Y1, Y2...``.
        :func:`sim.evaluate` gives those results: ``sp.set_results(ev.outputs(sp))``."""
        names = list(self.spec.outcomes)
        chosen = names if outputs is None else [outputs] if isinstance(outputs, str) else list(outputs)
        bad = [o for o in chosen if o not in names]
        if bad or not chosen:
            what = f"no outcome '{bad[0]}'{suggest(bad[0], names)}" if bad else "give at least one outcome"
            raise option_error("outputs", f"{what}; outcomes are {', '.join(names)}")
        return inputs.problem(inputs.inputs_for(self, inputs.parse_ranges(params) or None, levers), chosen)

    def compiled(self) -> Any:
        """The scenario's plan at its own horizon, without levers (compiled once)."""
        if self._plan is None:
            self._plan = compile_plan(self.spec, self.rules)
        return self._plan

    def parameters(self) -> list[dict[str, Any]]:
        """Every numeric parameter: path, value, source kind and note (for reports)."""
        plan = self.compiled()
        rows = []
        for e in plan.entries:
            p: Param = e.param
            src = p.source
            rows.append(
                {
                    "path": e.path,
                    "value": p.show(),
                    "kind": src.kind if src else "none",
                    "facts": list(src.facts) if src else [],
                    "derive": src.derive if src else None,
                    "note": src.note if src else "",
                    "origin": p.origin,
                }
            )
        return rows


def load_scenario(
    ref: str | Path | dict,
    overrides: dict[str, Any] | list[str] | None = None,
    *,
    seeds: str | Path | None = None,
) -> LoadedScenario:
    """Read, merge, override and check a scenario; raise :class:`InputError` listing all problems.

    Args:
        ref: A path to a YAML file, the name of a shipped scenario, or a mapping with
            the same content as a file (``extends`` resolved relative to the
            shipped scenarios).
        overrides: ``{"flashpoints.lachin.level": 3}`` or ``["flashpoints.lachin.level=3"]``.
        seeds: Folder of fact cards (default: the shipped ``seeds/``).
    """
    A.check(ref=(A.scenario_ref, ref), overrides=(A.overrides, overrides), seeds=(A.folder, seeds))
    problems: list[Problem] = []  # merging a child over its base can find some
    if isinstance(ref, dict):
        path = Path("<mapping>")
        tree = from_mapping(ref, str(path), problems=problems)
    else:
        path = find_scenario(ref)
        tree = read_tree(path, problems=problems)
    try:
        return load_tree(tree, path, overrides, seeds=seeds, problems=problems)
    except InputError as exc:
        folded = _one_cause(exc, ref, path, tree, overrides, seeds)
        if folded is None:
            raise
        raise folded from None


def _one_cause(exc: InputError, ref: Any, path: Path, tree: Any, overrides: Any, seeds: Any) -> InputError | None:
    """``exc`` with its one cause said first, when most of its problems have one
    (:mod:`sim.scenario.causes`: a missing ``extends:``), else None."""
    try:
        own = ref if isinstance(ref, dict) else load_yaml_file(path)
    except InputError:
        return None

    def retry(base: Path) -> list[Problem]:
        merged_problems: list[Problem] = []
        try:
            merged = merge(read_tree(base), tree, problems=merged_problems)
            load_tree(merged, path, overrides, seeds=seeds, problems=merged_problems)
        except InputError as again:
            return again.problems
        return []

    here = None if isinstance(ref, dict) else path.parent
    return missing_extends(exc, own, tree, str(path), here, retry)


def load_tree(
    tree: Any,
    path: Path,
    overrides: dict[str, Any] | list[str] | None = None,
    *,
    seeds: str | Path | None = None,
    problems: list[Problem] | None = None,
) -> LoadedScenario:
    """Override and check a scenario already read into a positioned tree (``extends`` merged).

    The second half of :func:`load_scenario`, for callers that add to a scenario's tree
    before it is checked (``sim backtest`` adds its questions' outcomes, whose positions
    point into the question file).

    Args:
        tree: The scenario as :class:`~sim.scenario.yamlsafe.PDict` (``read_tree``).
        path: The file it was read from (named in problems without a position).
        overrides: As for :func:`load_scenario`.
        seeds: Folder of fact cards (default: the shipped ``seeds/``).
        problems: Problems already found reading the tree (merging a child over its base).
    """
    from .rules import resolve_rules  # lazy: the rules compile with numba; `import sim` stays light

    reg = registry()
    Scenario = scenario_model()
    file = str(path)
    problems = list(problems or [])
    ov = parse_overrides(overrides)
    if ov:
        rpaths = rule_paths(tree.get("rules"))
        known = addressable(tree, rpaths)

        def valid_new(parts: list[str]) -> bool:
            """May ``--set`` create this path? Never a new actor, only a known field."""
            dotted = ".".join(parts)
            if dotted in known:
                return True
            if parts[0] == "rules" and len(parts) == 3 and parts[1] in reg.slots:
                if parts[2] == "model":
                    return True  # --set rules.KIND.model=NAME picks another model (or off)
                rd = _chosen_rule(tree, parts[1])
                return rd is not None and parts[2] in rd.params.model_fields
            parent: Any = tree
            for part in parts[:-1]:
                if not isinstance(parent, dict) or part not in parent:
                    return False
                parent = parent[part]
            fields = fields_at(Scenario, tuple(parts[:-1]))
            return fields is not None and parts[-1] in fields

        def default_of(path: str) -> Any:
            """The default of a vector rule parameter the file does not write."""
            parts = path.split(".")
            if parts[0] != "rules" or len(parts) != 3:
                return None
            rd = _chosen_rule(tree, parts[1])
            f = rd.params.model_fields.get(parts[2]) if rd is not None else None
            if f is None:
                return None
            value = f.get_default(call_default_factory=True).value
            return list(value) if isinstance(value, tuple) else None

        tree, p = apply_overrides(tree, ov, valid_new, default_of)
        problems += p
    spec = None
    try:
        spec = validate_model(Scenario, tree, file=file)
    except InputError as exc:
        problems += exc.problems
    rules, p = resolve_rules(tree.get("rules"), file)
    problems += p
    problems += check_references(tree, file, rule_paths(tree.get("rules")), rule_bounds(tree.get("rules")))
    facts = load_cards(seeds)
    problems += check_sources(tree, facts, file)
    if problems or spec is None:
        raise InputError(problems)
    return LoadedScenario(spec, rules, path, ov, facts, tree)


def _chosen_rule(tree: Any, kind: str) -> Any:
    """The registered rule a scenario tree picks for slot ``kind`` (None if off or unknown)."""
    reg = registry()
    slot = reg.slots.get(kind)
    if slot is None:
        return None
    rules = tree.get("rules") if isinstance(tree.get("rules"), dict) else {}
    spec = rules.get(kind) if isinstance(rules.get(kind), dict) else {}
    model = spec.get("model", slot.default)
    return reg.rules.get(kind, {}).get(model) if isinstance(model, str) else None


def list_scenarios() -> list[dict[str, str]]:
    """The shipped scenarios: name, title, start, horizon (files without ``meta`` are bases)."""
    out = []
    for p in sorted(scenarios_dir().glob("*.yaml")):
        try:
            raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            continue
        meta = raw.get("meta") if isinstance(raw, dict) else None
        if not isinstance(meta, dict):
            continue
        out.append(
            {
                "name": p.stem,
                "title": str(meta.get("title", "")),
                "start": str(meta.get("start", "")),
                "horizon_months": str(meta.get("horizon_months", "")),
                "path": str(p),
            }
        )
    return out


# ------------------------------------------------------------------------ running



def load_plugins(modules: list[str] | None, argument: str = "plugins", *, replace_rules: bool = False,
                 allowed: Iterable[str] = (), flag: str = "pass replace_rules=True") -> list[str]:
    """Import modules that register rules or outcome kinds (``--plugin``).

    A module that registers a rule or an outcome kind under the name of a stock one
    would replace it and change every result silently: it is refused (an
    :class:`InputError` naming the module, the part and ``flag``; nothing it registered
    is kept) unless ``replace_rules`` is true or the part's name is in ``allowed``
    (``sim rerun``: the parts the original run replaced).

    Returns:
        One sentence per stock part replaced, for the caller to show.
    """
    problems, notes = [], []
    for name in modules or []:
        problem, said = _import_plugin(name, argument, replace_rules, set(allowed), flag)
        if problem is not None:
            problems.append(problem[1])
        notes += said
    if problems:
        raise InputError(problems)
    return notes


def _import_plugin(name: str, argument: str, replace_rules: bool, allowed: set[str],
                   flag: str) -> tuple[tuple[str, Problem] | None, list[str]]:
    """Import one plugin module: ``(None, notes)``, or ``(("import" | "replace", problem), [])``."""
    registry()  # the stock parts first: a plugin's part of the same name then replaces them, visibly
    before = {(r["name"], r["module"]) for r in replacing_stock()}
    snap, imported = REGISTRY.snapshot(), set(sys.modules)
    try:
        importlib.import_module(name)
    except Exception as exc:  # noqa: BLE001 - any failure to import is the user's to fix
        return ("import", Problem(Mark("<options>", option=argument), "",
                                  f"cannot import '{name}': {type(exc).__name__}: {exc}")), []
    new = [r for r in replacing_stock() if (r["name"], r["module"]) not in before]
    refused = [r for r in new if not replace_rules and r["name"] not in allowed]
    if refused:
        REGISTRY.restore(snap)  # nothing of the module stays registered...
        mine = {name, *(r["module"] for r in new)}
        for mod in set(sys.modules) - imported:
            if mod in mine or mod.startswith(name + "."):
                del sys.modules[mod]  # ...and importing it again registers it again
        parts = ", ".join(f"{r['what']} '{r['name']}'" for r in refused)
        return ("replace", Problem(Mark("<options>", option=argument), "",
                                   f"'{name}' registers {parts} under the name of the stock one, which it would "
                                   f"replace; {flag} to run with it in place of the stock one, or register it "
                                   "under another name")), []
    return None, [f"'{name}' replaces the stock {r['what']} '{r['name']}'" for r in new]


def replaced_by(manifest: dict) -> set[str]:
    """Names of the stock rules and outcome kinds a run replaced (its manifest's ``custom_parts``)."""
    stock = registry().stock_names
    return {p["name"] for p in manifest.get("custom_parts") or []
            if p.get("replaces_stock") or (p.get("what"), p.get("name")) in stock}
