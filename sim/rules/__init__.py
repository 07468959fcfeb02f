"""The mechanisms, registered by name (see :mod:`sim.rules.registry`)."""

from . import alliance, escalation, events, membership  # noqa: F401  (registers the rules)
from .registry import (
    DEFAULT_MODEL,
    PHASES,
    REGISTRY,
    RuleDef,
    RuleParams,
    build_pipeline,
    register,
    resolve_rules,
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
    "rule_paths",
]
