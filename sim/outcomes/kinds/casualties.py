"""``casualties``: deaths so far (at one flashpoint or all) exceed a number."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ...parts import OutcomeSpec, Ref, register_outcome
from ...scenario.schema import Name
from ...scenario.values import MAX_MAGNITUDE
from ..base import Detection, label


class CasualtiesOutcome(OutcomeSpec):
    kind: Literal["casualties"]
    flashpoint: Annotated[Name | None, Ref("flashpoint")] = Field(None, description="Omit to count all flashpoints.")
    above: float = Field(ge=0, le=MAX_MAGNITUDE)


def build(o: CasualtiesOutcome, plan) -> Detection:
    if o.flashpoint:
        f = plan.index_of("flashpoint")[o.flashpoint]
        val = lambda w: w.st.casualties[:, f]  # noqa: E731
    else:
        val = lambda w: w.st.casualties.sum(axis=1)  # noqa: E731
    above = o.above
    return Detection(lambda w: val(w) > above, val, "total killed")


def describe(o: CasualtiesOutcome, plan, name: str) -> str:
    where = label(plan, "flashpoints", o.flashpoint) if o.flashpoint else "all flashpoints"
    return f"more than {o.above:g} killed ({where})"


register_outcome("casualties", CasualtiesOutcome, build, describe)
