"""``affinity``: a state's affinity towards another crosses a threshold."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from ...parts import Ref, register_outcome
from ...scenario.schema import Name
from ..base import Detection, ThresholdSpec


class AffinityOutcome(ThresholdSpec):
    value_range: ClassVar = (-1.0, 1.0)
    value_words: ClassVar = "an affinity"
    kind: Literal["affinity"]
    state: Annotated[Name, Ref("state")]
    toward: Annotated[Name, Ref("state")]


def build(o: AffinityOutcome, plan) -> Detection:
    s, t = plan.index_of("state")[o.state], plan.index_of("state")[o.toward]
    val = lambda w: w.st.affinity[:, s, t]  # noqa: E731
    return Detection(o.crossed(val), val, "final affinity")


def describe(o: AffinityOutcome, plan, name: str) -> str:
    return f"{name.replace('_', ' ')} ({o.threshold_words()})"


register_outcome("affinity", AffinityOutcome, build, describe)
