"""``monthly_deaths``: more than N killed in one month (at one flashpoint or all of them)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ...parts import OutcomeSpec, Ref, register_outcome
from ...scenario.schema import Name
from ...scenario.values import MAX_MAGNITUDE
from ..base import Detection, label


class MonthlyDeathsOutcome(OutcomeSpec):
    kind: Literal["monthly_deaths"]
    flashpoint: Annotated[Name | None, Ref("flashpoint")] = Field(
        None, description="Omit to add up the deaths of all flashpoints in the month.")
    above: float = Field(ge=0, le=MAX_MAGNITUDE, description="Deaths in one calendar month.")


def build(o: MonthlyDeathsOutcome, plan) -> Detection:
    above = o.above
    if o.flashpoint:
        f = plan.index_of("flashpoint")[o.flashpoint]
        return Detection(lambda w: w.st.deaths[:, f] > above)
    return Detection(lambda w: w.st.deaths.sum(axis=1) > above)


def describe(o: MonthlyDeathsOutcome, plan, name: str) -> str:
    where = label(plan, "flashpoints", o.flashpoint) if o.flashpoint else "all flashpoints together"
    return f"more than {o.above:g} killed in one month ({where})"


register_outcome("monthly_deaths", MonthlyDeathsOutcome, build, describe)
