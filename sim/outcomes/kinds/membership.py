"""``membership``: a state freezes its participation in, leaves, or joins an alliance."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ...parts import OutcomeSpec, Ref, register_outcome
from ...scenario.schema import Name
from ...world.compile import ACTIVE, EXITED, FROZEN
from ..base import Detection, label


class MembershipOutcome(OutcomeSpec):
    kind: Literal["membership"]
    state: Annotated[Name, Ref("state")]
    alliance: Annotated[Name, Ref("alliance")]
    becomes: Literal["frozen", "exited", "member"] = Field(
        description="frozen: suspends participation; exited: leaves; member: joins or re-engages"
    )


def build(o: MembershipOutcome, plan) -> Detection:
    s, a = plan.index_of("state")[o.state], plan.index_of("alliance")[o.alliance]
    if o.becomes == "member":
        return Detection(
            lambda w, not_active: (w.st.status[:, s, a] == ACTIVE) & not_active,
            start=lambda w: w.st.status[:, s, a] != ACTIVE,  # not an active member when recording starts
        )
    code = FROZEN if o.becomes == "frozen" else EXITED
    return Detection(lambda w: w.st.status[:, s, a] == code)


def describe(o: MembershipOutcome, plan, name: str) -> str:
    verb = {"frozen": "freezes its participation in", "exited": "leaves", "member": "joins"}[o.becomes]
    return f"{label(plan, 'states', o.state)} {verb} {label(plan, 'alliances', o.alliance)}"


def check(spec: dict, tree: dict) -> list[tuple[str, str]]:
    """Joining is not an outcome for a state that is an active member at the start."""
    if spec.get("becomes") != "member":
        return []
    section, key = tree.get("alliances"), spec.get("alliance")  # either may be malformed: reported elsewhere
    a = section.get(key) if isinstance(section, dict) and isinstance(key, str) else None
    a = a if isinstance(a, dict) else {}
    members = a.get("members") if isinstance(a.get("members"), list) else []
    frozen = a.get("frozen") if isinstance(a.get("frozen"), list) else []
    if spec.get("state") in members and spec.get("state") not in frozen:
        return [("becomes", f"'{spec.get('state')}' is already an active member at the start")]
    return []


register_outcome("membership", MembershipOutcome, build, describe, check=check)
