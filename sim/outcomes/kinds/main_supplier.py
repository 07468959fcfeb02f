"""``main_supplier``: a supplier becomes a state's largest source of arms imports."""

from __future__ import annotations

from typing import Annotated, Literal

from ...parts import OutcomeSpec, Ref, register_outcome
from ...scenario.schema import Name
from ..base import Detection, label


class MainSupplierOutcome(OutcomeSpec):
    kind: Literal["main_supplier"]
    state: Annotated[Name, Ref("state")]
    supplier: Annotated[Name, Ref("supplier")]


def build(o: MainSupplierOutcome, plan) -> Detection:
    s, k = plan.index_of("state")[o.state], plan.index_of("supplier")[o.supplier]
    others = [j for j in range(plan.K) if j != k]

    def main(w):
        sh = w.st.shares[:, s, :]
        return sh[:, k] > sh[:, others].max(axis=1) if others else sh[:, k] > 0

    return Detection(main, lambda w: w.st.shares[:, s, k], "final share")


def describe(o: MainSupplierOutcome, plan, name: str) -> str:
    return f"{label(plan, 'suppliers', o.supplier)} is {label(plan, 'states', o.state)}'s largest arms supplier"


register_outcome("main_supplier", MainSupplierOutcome, build, describe)
