"""The mechanisms, registered by name (see :mod:`sim.rules.registry`)."""

from . import alignment, alliance, escalation, events, membership, procurement  # noqa: F401  (registers the rules)
from .registry import (
    DEFAULT_MODEL,
    PHASES,
    REGISTRY,
    RuleDef,
    RuleParams,
    build_pipeline,
    register,
    resolve_rules,
    rule_bounds,
    rule_paths,
)

__all__ = [
    "DEFAULT_MODEL",
    "PHASES",
    "REGISTRY",
    "RuleDef",
    "RuleParams",
    "build_pipeline",
    "register",
    "resolve_rules",
    "rule_bounds",
    "rule_paths",
]
