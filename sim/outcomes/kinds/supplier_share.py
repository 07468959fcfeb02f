"""``supplier_share``: a supplier's share of a state's arms imports crosses a threshold."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from ...parts import Ref, register_outcome
from ...scenario.schema import Name
from ..base import Detection, ThresholdSpec


class SupplierShareOutcome(ThresholdSpec):
    value_range: ClassVar = (0.0, 1.0)
    value_words: ClassVar = "a supplier's share of a state's arms imports"
    kind: Literal["supplier_share"]
    state: Annotated[Name, Ref("state")]
    supplier: Annotated[Name, Ref("supplier")]


def build(o: SupplierShareOutcome, plan) -> Detection:
    s, k = plan.index_of("state")[o.state], plan.index_of("supplier")[o.supplier]
    val = lambda w: w.st.shares[:, s, k]  # noqa: E731
    return Detection(o.crossed(val), val, "final share")


def describe(o: SupplierShareOutcome, plan, name: str) -> str:
    return f"{name.replace('_', ' ')} ({o.threshold_words()})"


register_outcome("supplier_share", SupplierShareOutcome, build, describe)
