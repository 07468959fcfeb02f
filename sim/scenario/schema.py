"""The typed schema of a scenario file (pydantic v2).

Structure and types are checked here; names that refer to other parts of the
scenario (actors, alliances, facts, ...) are checked by :mod:`.references`. Every
field has a description: ``sim schema`` exports this as JSON Schema for editors.
See docs/SCENARIOS.md for the language.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from .expr import ExprError, month_index, parse_predicate
from .values import (
    MAX_MAGNITUDE,
    NonNeg,
    P,
    ParamError,
    Prob,
    Signed,
    custom_error,
    default,
    parse_source,
)

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def _name(v: str) -> str:
    if not NAME_RE.match(v):
        raise ValueError(
            f"'{v}' is not a valid name; use lowercase letters, digits and '_' "
            "starting with a letter (e.g. 'kyrgyzstan', 'russia_arms')"
        )
    return v


def _month(v: Any) -> str:
    if isinstance(v, int | float) and not isinstance(v, bool):
        raise ValueError(f"{v} is not a month; write it as YYYY-MM, e.g. 2023-07")
    if not isinstance(v, str) or not re.fullmatch(r"\d{4}-\d{2}", v):
        raise ValueError(f"{v!r} is not a month; write it as YYYY-MM, e.g. 2023-07")
    month_index(v)
    return v


def _predicate(v: Any) -> str:
    if not isinstance(v, str):
        raise ValueError(
            f"a condition is a text such as \"level(lachin) >= 3\", got {v!r}; "
            "write it in quotes"
        )
    try:
        parse_predicate(v)
    except ExprError as exc:
        # the column points at the character; "at character N" is added where it cannot
        raise custom_error(
            ParamError(exc.message, pos=exc.pos), "predicate", "at character"
        ) from None
    return v


def _rule_entry(v: Any) -> dict[str, Any]:
    if not isinstance(v, dict):
        # the same words as sim.rules.registry.resolve_rules, so the two merge into one line
        raise ValueError("expected a mapping: {model: NAME, parameter: value, ...}")
    return v


Name = Annotated[str, AfterValidator(_name)]
Month = Annotated[str, BeforeValidator(_month)]
Predicate = Annotated[str, BeforeValidator(_predicate)]
RuleEntry = Annotated[dict[str, Any], BeforeValidator(_rule_entry)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


# ----------------------------------------------------------------------------- meta


class Meta(Strict):
    """What the scenario is, where it starts and how long it runs."""

    name: Name = Field(description="Short id, used for the output folder.")
    title: str = Field(description="One line for the report's heading.")
    description: str = Field("", description="A paragraph: what the scenario is about.")
    start: Month = Field(description="The vantage point (YYYY-MM): no information after it.")
    horizon_months: int = Field(36, ge=1, le=600, description="How many months are simulated.")
    runs: int = Field(10000, ge=1, le=100_000_000, description="Default number of replicates.")
    seed: int = Field(0, ge=0, le=2**63 - 1, description="Default random seed.")
    questions: list[str] = Field([], description="The questions the scenario answers, in words.")


# --------------------------------------------------------------------------- actors


class StateSpec(Strict):
    """A state or other armed actor (a de facto authority, an armed movement)."""

    name: str = Field(description="Display name.")
    kind: Literal["state", "de_facto", "non_state"] = "state"
    capability: NonNeg = Field(
        description="Relative military capability (index; only ratios matter)."
    )
    resolve: Prob = default(0.5, "neutral resolve unless the scenario says otherwise")
    available_capacity: Prob = default(
        1.0, "no commitments elsewhere unless the scenario says otherwise"
    )
    procurement_budget_usd: NonNeg = default(0.0, "no arms imports unless stated")
    affinity: dict[Name, Signed] = Field(
        {}, description="Affinity towards other actors, -1 (hostile) .. 1 (aligned)."
    )
    suppliers: dict[Name, Prob] = Field(
        {}, description="Initial shares of arms imports by supplier (sum <= 1)."
    )
    orders: dict[Name, NonNeg] = Field(
        {}, description="Arms ordered but not yet delivered at the start, by supplier (USD)."
    )


class AllianceSpec(Strict):
    """A collective-defence or consultative organisation (CSTO, SCO)."""

    name: str
    kind: Literal["collective_defence", "consultative"] = "collective_defence"
    leader: Name = Field(description="The member whose forces back the commitment.")
    members: list[Name] = Field(description="Members at the start (active unless frozen).")
    frozen: list[Name] = Field([], description="Members whose participation is frozen at the start.")
    candidates: list[Name] = Field([], description="Non-members that may accede.")
    credibility: Prob = Field(description="P(the alliance honours a request for help), before capacity.")
    member_vs_member: Literal["abstain", "respond"] = Field(
        "abstain", description="What it does when both sides are members."
    )
    outside_zone: Prob = default(
        0.0, "collective defence covers members' own territory only (treaty zone of responsibility)"
    )
    trigger_level: P(1, 5, integer=True) = default(  # type: ignore[valid-type]
        3, "members ask for help once a clash is fatal (rung 3)"
    )
    trust: dict[Name, Prob] = Field({}, description="Each member's trust in the alliance, 0..1.")
    default_trust: Prob = default(
        0.6, "a member whose trust is not stated trusts its alliance moderately"
    )


class SupplierSpec(Strict):
    """An arms supplier (usually a state's arms industry and export agency)."""

    name: str = ""
    state: Name = Field(description="The state the supplier belongs to.")
    reliability: Prob = Field(description="P(a delivery due this month arrives).")
    price_quality: Prob = Field(description="Value for money, 0..1.")
    lag_months: P(0, 120, integer=True) = default(  # type: ignore[valid-type]
        12, "typical order-to-delivery time of a year"
    )
    refuses: list[Name] = Field([], description="Clients it will not sell to.")


class TerritorySpec(Strict):
    """A piece of land whose control can change hands in a war."""

    name: str = ""
    controller: Name = Field(description="Who holds it at the start.")
    claimants: list[Name] = Field([], description="Who claims it (the winner of a war must be one).")


class FlashpointSpec(Strict):
    """A dyad with a dispute, sitting on the escalation ladder."""

    name: str = ""
    sides: list[Name] = Field(min_length=2, max_length=2, description="The two sides.")
    stakes: Name | None = Field(None, description="The territory a war here decides.")
    location: Name | None = Field(
        None, description="Whose territory the fighting is on (alliance zones of responsibility)."
    )
    level: P(0, 5, integer=True) = Field(  # type: ignore[valid-type]
        description="Starting rung: 0 calm, 1 tension, 2 display/blockade, 3 fatal clash, "
        "4 major clash, 5 war."
    )
    mediators: list[Name] = Field([], description="Mediators / peacekeepers present at the start.")


# -------------------------------------------------------------------------- effects


class Effect(Strict):
    """A change to parameters or state. Paths are dotted: ``suppliers.x.reliability``."""

    set: dict[str, Any] = Field({}, description="PATH: VALUE")
    add: dict[str, Any] = Field({}, description="PATH: DELTA (a number, or names to add to a list)")
    multiply: dict[str, float] = Field({}, description="PATH: FACTOR")
    remove: dict[str, list[Name]] = Field({}, description="PATH: names to remove from a list")
    event: list[Name] = Field([], description="Named events to trigger.")

    @model_validator(mode="before")
    @classmethod
    def _one_event(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("event"), str):
            data = dict(data)
            data["event"] = [data["event"]]
        return data

    @model_validator(mode="after")
    def _not_empty(self) -> Effect:
        if not (self.set or self.add or self.multiply or self.remove or self.event):
            raise ValueError("an effect needs at least one of set, add, multiply, remove, event")
        return self


def _source(v: Any) -> Any:
    try:
        return parse_source(v) if v is not None else None
    except ValueError as exc:
        raise custom_error(exc) from None


SourceField = Annotated[Any, AfterValidator(_source)]


class EventSpec(Strict):
    """A scheduled (``at``) or conditional (``when``) change; or one triggered by others."""

    name: Name
    description: str = ""
    at: Month | None = Field(None, description="Fires in this month (scheduled).")
    when: Predicate | None = Field(None, description="Checked every month (conditional).")
    probability: Prob = default(1.0, "certain once its condition holds, unless stated")
    once: bool = Field(True, description="Fires at most once per replicate.")
    effect: Effect
    source: SourceField = Field(None, description="Provenance of the event itself.")

    @model_validator(mode="after")
    def _timing(self) -> EventSpec:
        if self.at is not None and self.when is not None:
            raise ValueError("an event has either 'at' (scheduled) or 'when' (conditional), not both")
        return self


class LeverSpec(Strict):
    """A choice a player makes in play or a planner sweeps."""

    description: str
    effect: Effect
    source: SourceField = Field(None, description="Provenance of the lever's numbers.")


# -------------------------------------------------------------------------- outcomes


class _Outcome(Strict):
    description: str = Field("", description="A sentence the report prints.")


class EscalationOutcome(_Outcome):
    kind: Literal["escalation"]
    flashpoint: Name
    reaches: int = Field(ge=1, le=5, description="The rung that counts.")


class MembershipOutcome(_Outcome):
    kind: Literal["membership"]
    state: Name
    alliance: Name
    becomes: Literal["frozen", "exited", "member"] = Field(
        description="frozen: suspends participation; exited: leaves; member: joins or re-engages"
    )


class TerritoryOutcome(_Outcome):
    kind: Literal["territory"]
    territory: Name
    controller: Name


class _Threshold(_Outcome):
    above: float | None = None
    below: float | None = None

    @model_validator(mode="after")
    def _one(self) -> _Threshold:
        if (self.above is None) == (self.below is None):
            raise ValueError("give exactly one of 'above' or 'below'")
        x = self.above if self.above is not None else self.below
        word = "above" if self.above is not None else "below"
        if not math.isfinite(x):
            raise ValueError(f"{word} must be a finite number, got {x}")
        if abs(x) > MAX_MAGNITUDE:
            raise ValueError(f"{word} {x:g} is too large; numbers in a scenario are at most 1e15 in size")
        return self


class SupplierShareOutcome(_Threshold):
    kind: Literal["supplier_share"]
    state: Name
    supplier: Name


class AffinityOutcome(_Threshold):
    kind: Literal["affinity"]
    state: Name
    toward: Name


class CapabilityOutcome(_Threshold):
    kind: Literal["capability"]
    state: Name
    relative_to: Name | None = Field(None, description="Compare the ratio to this state's capability.")


class TrustOutcome(_Threshold):
    kind: Literal["trust"]
    state: Name
    alliance: Name


class CasualtiesOutcome(_Outcome):
    kind: Literal["casualties"]
    flashpoint: Name | None = Field(None, description="Omit to count all flashpoints.")
    above: float = Field(ge=0, le=MAX_MAGNITUDE)


class SettlementOutcome(_Outcome):
    kind: Literal["settlement"]
    flashpoint: Name


class ConditionOutcome(_Outcome):
    kind: Literal["condition"]
    when: Predicate


class CombinedOutcome(_Outcome):
    kind: Literal["any", "all"]
    of: list[Name] = Field(min_length=1)
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


class MainSupplierOutcome(_Outcome):
    kind: Literal["main_supplier"]
    state: Name
    supplier: Name


Outcome = Annotated[
    EscalationOutcome
    | MembershipOutcome
    | TerritoryOutcome
    | SupplierShareOutcome
    | AffinityOutcome
    | CapabilityOutcome
    | TrustOutcome
    | CasualtiesOutcome
    | SettlementOutcome
    | ConditionOutcome
    | CombinedOutcome
    | MainSupplierOutcome,
    Field(discriminator="kind"),
]

OUTCOME_KINDS = (
    "escalation",
    "membership",
    "territory",
    "supplier_share",
    "affinity",
    "capability",
    "trust",
    "casualties",
    "settlement",
    "condition",
    "any",
    "all",
    "main_supplier",
)


# ------------------------------------------------------------------------- scenario


class Scenario(Strict):
    """A whole scenario after ``extends:`` is merged and overrides are applied."""

    meta: Meta
    states: dict[Name, StateSpec] = Field(min_length=2)
    alliances: dict[Name, AllianceSpec] = {}
    suppliers: dict[Name, SupplierSpec] = {}
    territories: dict[Name, TerritorySpec] = {}
    flashpoints: dict[Name, FlashpointSpec] = {}
    events: list[EventSpec] = []
    levers: dict[Name, dict[Name, LeverSpec]] = Field(
        {}, description="Per actor: the choices a player or planner can make."
    )
    uncertainties: dict[str, Any] = Field(
        {}, description="PATH: distribution (optionally with source:), sampled once per parameter set by sweeps."
    )
    rules: dict[Name, RuleEntry] = Field(
        {}, description="Mechanism name: {model: NAME, parameter: value, ...}."
    )
    outcomes: dict[Name, Outcome] = Field(min_length=1)


TOP_LEVEL_KEYS = ("extends", *Scenario.model_fields)
