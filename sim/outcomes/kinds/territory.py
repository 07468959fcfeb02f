"""``territory``: a state controls a territory."""

from __future__ import annotations

from typing import Annotated, Literal

from ...parts import OutcomeSpec, Ref, register_outcome
from ...scenario.schema import Name
from ..base import Detection, label


class TerritoryOutcome(OutcomeSpec):
    kind: Literal["territory"]
    territory: Annotated[Name, Ref("territory")]
    controller: Annotated[Name, Ref("state")]


def build(o: TerritoryOutcome, plan) -> Detection:
    t, c = plan.index_of("territory")[o.territory], plan.index_of("state")[o.controller]
    return Detection(lambda w: w.st.controller[:, t] == c)


def describe(o: TerritoryOutcome, plan, name: str) -> str:
    return f"{label(plan, 'states', o.controller)} controls {label(plan, 'territories', o.territory)}"


register_outcome("territory", TerritoryOutcome, build, describe)
