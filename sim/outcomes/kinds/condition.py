"""``condition``: any predicate of the condition language holds."""

from __future__ import annotations

from typing import Annotated, Literal

from ...parts import OutcomeSpec, PredicateText, register_outcome
from ...scenario.schema import Predicate
from ...world.predicates import compile_predicate
from ..base import Detection


class ConditionOutcome(OutcomeSpec):
    kind: Literal["condition"]
    when: Annotated[Predicate, PredicateText()]


def build(o: ConditionOutcome, plan) -> Detection:
    return Detection(compile_predicate(o.when, plan))


def describe(o: ConditionOutcome, plan, name: str) -> str:
    return o.when


register_outcome("condition", ConditionOutcome, build, describe)
