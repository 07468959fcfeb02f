"""``capability``: a state's capability (or its ratio to another's) crosses a threshold."""

from __future__ import annotations

import math
from typing import Annotated, ClassVar, Literal

import numpy as np
from pydantic import Field

from ...parts import Ref, register_outcome
from ...scenario.schema import Name
from ..base import Detection, ThresholdSpec


class CapabilityOutcome(ThresholdSpec):
    value_range: ClassVar = (0.0, math.inf)
    value_words: ClassVar = "a capability (or a ratio of two)"
    kind: Literal["capability"]
    state: Annotated[Name, Ref("state")]
    relative_to: Annotated[Name | None, Ref("state")] = Field(
        None, description="Compare the ratio to this state's capability."
    )


def build(o: CapabilityOutcome, plan) -> Detection:
    s = plan.index_of("state")[o.state]
    if o.relative_to:
        t = plan.index_of("state")[o.relative_to]
        val = lambda w: w.st.capability[:, s] / np.maximum(w.st.capability[:, t], 1e-12)  # noqa: E731
        return Detection(o.crossed(val), val, "final capability ratio")
    val = lambda w: w.st.capability[:, s]  # noqa: E731
    return Detection(o.crossed(val), val, "final capability")


def describe(o: CapabilityOutcome, plan, name: str) -> str:
    return f"{name.replace('_', ' ')} ({o.threshold_words()})"


register_outcome("capability", CapabilityOutcome, build, describe)
