"""``any`` / ``all``: combinations of other outcomes (``any`` may ask for at least k of n)."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from ...parts import OutcomeSpec, Ref, register_outcome
from ...scenario.schema import Name
from ..base import Detection


class CombinedOutcome(OutcomeSpec):
    kind: Literal["any", "all"]
    of: Annotated[list[Name], Ref("outcome")] = Field(min_length=1)
    at_least: int | None = Field(
        None, ge=1, description="With kind any: at least this many of the parts have happened."
    )

    @model_validator(mode="after")
    def _k(self) -> CombinedOutcome:
        if self.at_least is not None:
            if self.kind != "any":
                raise ValueError("at_least goes with kind: any")
            if self.at_least > len(self.of):
                raise ValueError(f"at_least is {self.at_least} but only {len(self.of)} outcomes are listed")
        return self


def build(o: CombinedOutcome, plan) -> Detection:
    if o.kind == "any":
        k = o.at_least or 1

        def any_(parts: np.ndarray) -> np.ndarray:
            big = np.iinfo(np.int16).max
            masked = np.sort(np.where(parts > 0, parts, big), axis=0)
            m = masked[k - 1]  # the month the k-th part happened
            return np.where(m == big, 0, m)

        return Detection(None, of=list(o.of), combine=any_)

    def all_(parts: np.ndarray) -> np.ndarray:
        return np.where((parts > 0).all(axis=0), parts.max(axis=0), 0)

    return Detection(None, of=list(o.of), combine=all_)


def describe(o: CombinedOutcome, plan, name: str) -> str:
    k = f"at least {o.at_least}" if o.at_least else o.kind
    return f"{k} of: " + ", ".join(o.of)


register_outcome("any", CombinedOutcome, build, describe)
register_outcome("all", CombinedOutcome, build, describe)
