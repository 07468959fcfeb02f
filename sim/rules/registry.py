"""The rule registry: mechanisms registered by name, chosen and parameterized by scenarios.

A mechanism is registered under a *kind* (its phase in the monthly step: events,
procurement, escalation, alliance, alignment, membership) and a *model* name. A
scenario picks one model per kind in its ``rules:`` section and may override its
parameters; kinds it does not mention use the default model with default parameters.
``{model: off}`` switches a kind off.

A researcher adds or swaps a rule without forking::

    from sim.rules import register, RuleParams

    class MyParams(RuleParams):
        strength: Prob = default(0.1, "my rationale")

    @register("escalation", "my_ladder", MyParams)
    def build(plan):
        def step(world): ...
        return step
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pydantic
from pydantic import BaseModel, ConfigDict

from ..scenario.errors import Mark, Problem, suggest
from ..scenario.validation import problems_from
from ..scenario.values import Bounds, Param, bounds_of
from ..world.compile import Plan, RuleSetting

PHASES = ("events", "procurement", "escalation", "alliance", "alignment", "membership")
"""The monthly order of the mechanism kinds (DESIGN §5)."""


class RuleParams(BaseModel):
    """Base class of a mechanism's parameters: every field is a scenario parameter."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    @classmethod
    def bounds(cls) -> dict[str, Bounds]:
        """Each parameter's allowed range, as declared with ``P(...)``."""
        return {name: bounds_of(f) for name, f in cls.model_fields.items()}


Builder = Callable[[Plan], Callable[[Any], None]]


@dataclass(frozen=True)
class RuleDef:
    """A registered mechanism."""

    kind: str
    model: str
    params: type[RuleParams]
    build: Builder
    doc: str


REGISTRY: dict[str, dict[str, RuleDef]] = {k: {} for k in PHASES}
DEFAULT_MODEL: dict[str, str] = {}


def register(kind: str, model: str, params: type[RuleParams], *, default: bool = False) -> Callable[[Builder], Builder]:
    """Register ``build(plan) -> step(world)`` as model ``model`` of mechanism ``kind``."""
    if kind not in REGISTRY:
        raise ValueError(f"unknown mechanism kind {kind!r}; kinds are {', '.join(PHASES)}")

    def deco(build: Builder) -> Builder:
        REGISTRY[kind][model] = RuleDef(kind, model, params, build, (build.__doc__ or "").strip())
        if default or kind not in DEFAULT_MODEL:
            DEFAULT_MODEL[kind] = model
        return build

    return deco


def resolve_rules(raw: dict | None, file: str = "<scenario>") -> tuple[dict[str, RuleSetting], list[Problem]]:
    """Validate a scenario's ``rules:`` section; fill in defaults for unnamed kinds."""
    raw = raw if isinstance(raw, dict) else {}
    problems: list[Problem] = []
    out: dict[str, RuleSetting] = {}
    for kind in raw:
        if kind not in REGISTRY:
            hint = suggest(kind, REGISTRY) or f"; mechanisms are {', '.join(PHASES)}"
            problems.append(Problem(_mark(raw, kind, file, True), f"rules.{kind}", f"unknown mechanism '{kind}'{hint}"))
    for kind in PHASES:
        spec = raw.get(kind) if isinstance(raw.get(kind), dict) else {}
        if kind in raw and not isinstance(raw.get(kind), dict):
            problems.append(Problem(_mark(raw, kind, file), f"rules.{kind}", "expected a mapping: {model: NAME, parameter: value, ...}"))
        model = spec.get("model", DEFAULT_MODEL.get(kind))
        if model is False or model in ("off", "none") or model is None:
            continue  # YAML reads a bare `off` as false
        if model not in REGISTRY[kind]:
            hint = suggest(str(model), REGISTRY[kind]) or f"; models are {', '.join(sorted(REGISTRY[kind]))}, or off"
            problems.append(Problem(_mark(spec, "model", file), f"rules.{kind}.model", f"unknown model '{model}'{hint}"))
            continue
        rd = REGISTRY[kind][model]
        values = {k: v for k, v in spec.items() if k != "model"}
        try:
            inst = rd.params.model_validate(values)
        except pydantic.ValidationError as exc:
            problems.extend(problems_from(exc, values, rd.params, prefix=("rules", kind), fallback=_mark(raw, kind, file)))
            # re-anchor marks: problems_from located within `values`, which shares marks with spec
            continue
        params = {name: getattr(inst, name) for name in rd.params.model_fields}
        out[kind] = RuleSetting(kind, model, {k: v for k, v in params.items() if isinstance(v, Param)}, rd.params.bounds())
    return out, problems


def _mark(container: Any, key: Any, file: str, prefer_key: bool = False) -> Mark:
    from ..scenario.yamlsafe import mark_of

    return mark_of(container, key, prefer_key=prefer_key) or mark_of(container) or Mark(file)


def rule_bounds(raw: dict | None) -> dict[str, Bounds]:
    """The ranges of the addressable (scalar) rule parameters of the models a scenario picks."""
    raw = raw if isinstance(raw, dict) else {}
    out: dict[str, Bounds] = {}
    for kind in PHASES:
        spec = raw.get(kind) if isinstance(raw.get(kind), dict) else {}
        model = spec.get("model", DEFAULT_MODEL.get(kind))
        rd = REGISTRY.get(kind, {}).get(model) if isinstance(model, str) else None
        if rd is None:
            continue
        for name, b in rd.params.bounds().items():
            if not b.vector:
                out[f"rules.{kind}.{name}"] = b
    return out


def rule_paths(raw: dict | None) -> dict[str, str]:
    """Addressable paths of the rule parameters of the models a scenario picks, with their kinds."""
    return {path: "int" if b.integer else "num" for path, b in rule_bounds(raw).items()}


def build_pipeline(plan: Plan) -> list[tuple[str, Callable[[Any], None]]]:
    """The monthly rule functions of a plan, in phase order."""
    out = []
    for kind in PHASES:
        rs = plan.rules.get(kind)
        if rs is None:
            continue
        out.append((kind, REGISTRY[kind][rs.model].build(plan)))
    return out
