"""``settlement``: a flashpoint's dispute is settled."""

from __future__ import annotations

from typing import Annotated, Literal

from ...parts import OutcomeSpec, Ref, register_outcome
from ...scenario.schema import Name
from ..base import Detection, label


class SettlementOutcome(OutcomeSpec):
    kind: Literal["settlement"]
    flashpoint: Annotated[Name, Ref("flashpoint")]


def build(o: SettlementOutcome, plan) -> Detection:
    f = plan.index_of("flashpoint")[o.flashpoint]
    return Detection(lambda w: w.st.settled[:, f])


def describe(o: SettlementOutcome, plan, name: str) -> str:
    return f"{label(plan, 'flashpoints', o.flashpoint)} is settled"


register_outcome("settlement", SettlementOutcome, build, describe)
