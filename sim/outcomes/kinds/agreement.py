"""``agreement``: talks at a flashpoint end in a signed agreement."""

from __future__ import annotations

from typing import Annotated, Literal

from ...parts import OutcomeSpec, Ref, register_outcome
from ...scenario.schema import Name
from ..base import Detection, label


class AgreementOutcome(OutcomeSpec):
    kind: Literal["agreement"]
    flashpoint: Annotated[Name, Ref("flashpoint")]


def build(o: AgreementOutcome, plan) -> Detection:
    f = plan.index_of("flashpoint")[o.flashpoint]
    return Detection(lambda w: w.st.agreement[:, f], lambda w: w.st.progress[:, f].astype(float), "final progress of talks")


def describe(o: AgreementOutcome, plan, name: str) -> str:
    return f"an agreement is signed at {label(plan, 'flashpoints', o.flashpoint)}"


register_outcome("agreement", AgreementOutcome, build, describe)
