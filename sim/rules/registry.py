"""Choosing and parameterizing the registered mechanisms for a scenario.

Mechanisms register themselves in :mod:`sim.parts` under a *slot* (``kind``) and a
*model* name. Each phase of the monthly step (events, procurement, escalation, alliance,
alignment, membership) holds a list of slots: the phase's own slot (``escalation``) and
any a mechanism opens in it (``offensive``). A scenario picks one model per slot in its
``rules:`` section and may override its parameters; slots it does not mention use their
default model with default parameters; ``{model: off}`` switches a slot off.

A researcher adds or swaps a rule without forking::

    from sim.rules import register, RuleParams
    from sim.scenario.values import P, default

    class MyParams(RuleParams):
        strength: P(0, 1) = default(0.1, "my rationale")

    @register("escalation", "my_ladder", MyParams)       # another model for a stock slot
    def build(plan):
        def step(world): ...
        return step

    @register("talks", "mediated", MyParams, phase="escalation")   # a new slot
    def build_talks(plan): ...
"""

from __future__ import annotations

from typing import Any

import pydantic

from ..parts import PHASES, RuleDef, RuleParams, build_pipeline, register, registry
from ..parts import REGISTRY as _PARTS
from ..scenario.errors import PLUGIN_HINT, Mark, Problem, suggest
from ..scenario.validation import problems_from
from ..scenario.values import Param
from ..scenario.yamlsafe import mark_of
from ..world.compile import RuleSetting

REGISTRY: dict[str, dict[str, RuleDef]] = _PARTS.rules
"""Registered models by slot: ``REGISTRY[kind][model]``."""

OFF = ("off", "none")


def default_models() -> dict[str, str | None]:
    """The model each slot uses when a scenario does not name one (None: off)."""
    return {k: s.default for k, s in registry().slots.items()}


def _is_off(model: Any) -> bool:
    return model is False or model is None or model in OFF  # YAML reads a bare `off` as false


def resolve_rules(raw: dict | None, file: str = "<scenario>") -> tuple[dict[str, RuleSetting], list[Problem]]:
    """Validate a scenario's ``rules:`` section; fill in defaults for unnamed slots."""
    reg = registry()
    raw = raw if isinstance(raw, dict) else {}
    problems: list[Problem] = []
    out: dict[str, RuleSetting] = {}
    for kind in raw:
        if kind not in reg.slots:
            hint = suggest(kind, reg.slots) or f"; mechanisms are {', '.join(reg.slots)}{PLUGIN_HINT}"
            problems.append(Problem(_mark(raw, kind, file, True), f"rules.{kind}", f"unknown mechanism '{kind}'{hint}"))
    for slot in reg.slots_in_order():
        kind = slot.kind
        spec = raw.get(kind) if isinstance(raw.get(kind), dict) else {}
        if kind in raw and not isinstance(raw.get(kind), dict):
            problems.append(Problem(_mark(raw, kind, file), f"rules.{kind}", "expected a mapping: {model: NAME, parameter: value, ...}"))
        model = spec.get("model", slot.default)
        if _is_off(model):
            continue
        models = reg.rules.get(kind, {})
        if model not in models:
            hint = suggest(str(model), models) or f"; models are {', '.join(sorted(models))}, or off{PLUGIN_HINT}"
            problems.append(Problem(_mark(spec, "model", file), f"rules.{kind}.model", f"unknown model '{model}'{hint}"))
            continue
        rd = models[model]
        values = {k: v for k, v in spec.items() if k != "model"}
        try:
            inst = rd.params.model_validate(values)
        except pydantic.ValidationError as exc:
            problems.extend(problems_from(exc, values, rd.params, prefix=("rules", kind), fallback=_mark(raw, kind, file)))
            continue
        params = {name: getattr(inst, name) for name in rd.params.model_fields}
        out[kind] = RuleSetting(kind, model, {k: v for k, v in params.items() if isinstance(v, Param)}, rd.params.bounds())
    return out, problems


def _mark(container: Any, key: Any, file: str, prefer_key: bool = False) -> Mark:
    return mark_of(container, key, prefer_key=prefer_key) or mark_of(container) or Mark(file)


__all__ = [
    "PHASES",
    "REGISTRY",
    "RuleDef",
    "RuleParams",
    "build_pipeline",
    "default_models",
    "register",
    "resolve_rules",
]
