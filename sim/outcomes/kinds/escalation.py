"""``escalation``: a flashpoint reaches a rung of the ladder."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ...parts import OutcomeSpec, Ref, register_outcome
from ...scenario.schema import Name
from ...world.compile import LEVELS
from ..base import Detection, label


class EscalationOutcome(OutcomeSpec):
    kind: Literal["escalation"]
    flashpoint: Annotated[Name, Ref("flashpoint")]
    reaches: int = Field(ge=1, le=5, description="The rung that counts.")


def build(o: EscalationOutcome, plan) -> Detection:
    f, r = plan.index_of("flashpoint")[o.flashpoint], o.reaches
    # the month's peak: a clash that flared and subsided within a month counts
    return Detection(lambda w: w.st.peak[:, f] >= r, lambda w: w.st.level[:, f].astype(float), "final rung")


def describe(o: EscalationOutcome, plan, name: str) -> str:
    return f"{label(plan, 'flashpoints', o.flashpoint)} reaches rung {o.reaches} ({LEVELS[o.reaches]})"


register_outcome("escalation", EscalationOutcome, build, describe)
