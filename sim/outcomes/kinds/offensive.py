"""``offensive``: a limited offensive is launched at a flashpoint, takes ground, or takes its territory."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ...parts import OutcomeSpec, Ref, register_outcome
from ...scenario.schema import Name
from ..base import Detection, label


class OffensiveOutcome(OutcomeSpec):
    kind: Literal["offensive"]
    flashpoint: Annotated[Name, Ref("flashpoint")]
    result: Literal["launched", "gains", "succeeds"] = Field(
        "succeeds", description="launched: an offensive is tried; gains: one takes part or all of the territory "
                                "at stake; succeeds: one takes all of it (the rest, after partial gains)")


def build(o: OffensiveOutcome, plan) -> Detection:
    f = plan.index_of("flashpoint")[o.flashpoint]
    if o.result == "launched":
        return Detection(lambda w: w.st.offensives[:, f] > 0, lambda w: w.st.offensives[:, f].astype(float),
                         "offensives launched")
    if o.result == "gains":
        return Detection(lambda w: w.st.gains[:, f] > 0, lambda w: w.st.gains[:, f].astype(float),
                         "offensives that took ground")
    return Detection(lambda w: w.st.seizures[:, f] > 0)


def describe(o: OffensiveOutcome, plan, name: str) -> str:
    verb = {"launched": "is launched", "gains": "takes ground", "succeeds": "takes the territory"}[o.result]
    return f"a limited offensive at {label(plan, 'flashpoints', o.flashpoint)} {verb}"


def check(spec: dict, tree: dict) -> list[tuple[str, str]]:
    """An offensive needs something to seize: the flashpoint must have stakes."""
    section, key = tree.get("flashpoints"), spec.get("flashpoint")  # either may be malformed: reported elsewhere
    fp = section.get(key) if isinstance(section, dict) and isinstance(key, str) else None
    if isinstance(fp, dict) and not fp.get("stakes"):
        return [("flashpoint", f"flashpoint '{spec.get('flashpoint')}' has no stakes: no territory to seize "
                               "(give it stakes: TERRITORY)")]
    return []


register_outcome("offensive", OffensiveOutcome, build, describe, check=check)
