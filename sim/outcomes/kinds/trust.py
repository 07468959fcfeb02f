"""``trust``: a member's trust in an alliance crosses a threshold."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from ...parts import Ref, register_outcome
from ...scenario.schema import Name
from ..base import Detection, ThresholdSpec


class TrustOutcome(ThresholdSpec):
    value_range: ClassVar = (0.0, 1.0)
    value_words: ClassVar = "a member's trust in an alliance"
    kind: Literal["trust"]
    state: Annotated[Name, Ref("state")]
    alliance: Annotated[Name, Ref("alliance")]


def build(o: TrustOutcome, plan) -> Detection:
    s, a = plan.index_of("state")[o.state], plan.index_of("alliance")[o.alliance]
    val = lambda w: w.st.trust[:, s, a]  # noqa: E731
    return Detection(o.crossed(val), val, "final trust")


def describe(o: TrustOutcome, plan, name: str) -> str:
    return f"{name.replace('_', ' ')} ({o.threshold_words()})"


register_outcome("trust", TrustOutcome, build, describe)
