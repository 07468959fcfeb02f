"""The typed schema of a scenario file (pydantic v2).

Structure and types are checked here; names that refer to other parts of the
scenario (actors, alliances, facts, ...) are checked by :mod:`.references`. Every
field has a description: ``sim schema`` exports this as JSON Schema for editors.
See docs/SCENARIOS.md for the language.

The structure of the world (who the actors are, sides, members, claimants) is written
here. The numeric attributes of actors and the kinds of outcome are not: they are
declared by the parts that use them (:mod:`sim.parts`) and the models are generated
from those declarations by :func:`scenario_model` (cached until a part is registered).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from .expr import ExprError, month_index, parse_predicate
from .values import (
    P,
    ParamError,
    Prob,
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
    caveats: list[str] = Field([], description="What the model leaves out or gets wrong here, in words "
                               "(the report and docs/SCENARIO-GUIDE.md print them).")


# --------------------------------------------------------------------------- actors


class StateCore(Strict):
    """A state or other armed actor (a de facto authority, an armed movement)."""

    name: str = Field(description="Display name.")
    kind: Literal["state", "de_facto", "non_state"] = "state"


class AllianceCore(Strict):
    """A collective-defence or consultative organisation (CSTO, SCO)."""

    name: str
    kind: Literal["collective_defence", "consultative"] = "collective_defence"
    leader: Name = Field(description="The member whose forces back the commitment.")
    members: list[Name] = Field(description="Members at the start (active unless frozen).")
    frozen: list[Name] = Field([], description="Members whose participation is frozen at the start.")
    candidates: list[Name] = Field([], description="Non-members that may accede.")
    member_vs_member: Literal["abstain", "respond"] = Field(
        "abstain", description="What it does when both sides are members."
    )


class SupplierCore(Strict):
    """An arms supplier (usually a state's arms industry and export agency)."""

    name: str = ""
    state: Name = Field(description="The state the supplier belongs to.")
    refuses: list[Name] = Field([], description="Clients it will not sell to.")


class TerritoryCore(Strict):
    """A piece of land whose control can change hands in a war."""

    name: str = ""
    controller: Name = Field(description="Who holds it at the start.")
    claimants: list[Name] = Field([], description="Who claims it (the winner of a war must be one).")


class FlashpointCore(Strict):
    """A dyad with a dispute, sitting on the escalation ladder."""

    name: str = ""
    sides: list[Name] = Field(min_length=2, max_length=2, description="The two sides.")
    stakes: Name | None = Field(None, description="The territory a war here decides.")
    location: Name | None = Field(
        None, description="Whose territory the fighting is on (alliance zones of responsibility)."
    )
    mediators: list[Name] = Field([], description="Mediators / peacekeepers present at the start.")


CORE_SECTIONS: dict[str, type[Strict]] = {
    "states": StateCore,
    "alliances": AllianceCore,
    "suppliers": SupplierCore,
    "territories": TerritoryCore,
    "flashpoints": FlashpointCore,
}
"""The structure of each actor section; declared attributes are added to these."""


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


class PolicySpec(Strict):
    """When an actor nobody plays pulls one of its levers by itself (checked every month)."""

    when: Predicate | None = Field(None, description="Condition under which the actor may pull the lever (default: always).")
    probability: Prob = default(1.0, "certain once its condition holds, unless stated")
    once: bool = Field(True, description="Pulled at most once per replicate.")


class LeverSpec(Strict):
    """A choice a player makes in play or a planner sweeps."""

    description: str
    effect: Effect
    source: SourceField = Field(None, description="Provenance of the lever's numbers.")
    policy: PolicySpec | None = Field(
        None, description="The actor's own rule for pulling this lever when nobody plays it (in every run).")


class PlaySpec(Strict):
    """How the scenario is played turn by turn (``sim play``)."""

    turn: Literal["month", "quarter"] = Field("month", description="Length of a turn.")
    forecast_runs: int = Field(2000, ge=1, le=1_000_000, description="Monte Carlo continuations after each turn.")
    questions: list[str] = Field([], description="Questions for the debrief, in words.")


# ------------------------------------------------------------------- generated models


def _attr_field(attr: Any) -> tuple[Any, Any]:
    """The pydantic annotation and field of a declared attribute."""
    from functools import partial

    from .values import Param, Source

    typ = P(attr.bounds.lo, attr.bounds.hi, integer=attr.bounds.integer)
    desc = attr.doc + (f" [{attr.unit}]" if attr.unit else "")
    if attr.keyed_by is not None:
        return dict[Name, typ], Field({}, description=desc)
    if attr.default is None:
        return typ, Field(description=desc)
    factory = partial(Param, attr.default, Source(attr.kind, note=attr.note), "default")
    return typ, Field(default_factory=factory, description=desc)


_MODELS: dict[str, Any] = {}
_VERSION = [-1]


def models() -> dict[str, Any]:
    """The generated models (``Scenario``, ``StateSpec``...), rebuilt when parts change."""
    from ..parts import registry

    reg = registry()
    if _VERSION[0] == reg.version and _MODELS:
        return _MODELS
    from pydantic import create_model

    out: dict[str, Any] = {}
    names = {"states": "StateSpec", "alliances": "AllianceSpec", "suppliers": "SupplierSpec",
             "territories": "TerritorySpec", "flashpoints": "FlashpointSpec"}
    for section, base in CORE_SECTIONS.items():
        fields = {a.name: _attr_field(a) for a in reg.attrs_of(section)}
        m = create_model(names[section], __base__=base, __module__=__name__, __doc__=base.__doc__, **fields)
        out[names[section]] = m
    specs: list[Any] = []
    for ok in reg.outcomes.values():
        if ok.spec not in specs:
            specs.append(ok.spec)
    outcome = Annotated[Union[tuple(specs)], Field(discriminator="kind")] if specs else Any  # noqa: UP007
    out["Outcome"] = outcome
    out["OUTCOME_KINDS"] = tuple(reg.outcomes)
    st_m, al_m, su_m, te_m, fl_m = (out[names[k]] for k in CORE_SECTIONS)
    out["Scenario"] = create_model(
        "Scenario",
        __base__=Strict,
        __module__=__name__,
        __doc__="A whole scenario after ``extends:`` is merged and overrides are applied.",
        meta=(Meta, ...),
        states=(dict[Name, st_m], Field(min_length=2)),
        alliances=(dict[Name, al_m], {}),
        suppliers=(dict[Name, su_m], {}),
        territories=(dict[Name, te_m], {}),
        flashpoints=(dict[Name, fl_m], {}),
        events=(list[EventSpec], []),
        levers=(dict[Name, dict[Name, LeverSpec]],
                Field({}, description="Per actor: the choices a player or planner can make.")),
        play=(PlaySpec, Field(default_factory=PlaySpec, description="Turn-based play: turn length, forecasts, debrief questions.")),
        uncertainties=(dict[str, Any], Field(
            {}, description="PATH: distribution (optionally with source:), sampled once per parameter set by studies.")),
        rules=(dict[Name, RuleEntry], Field({}, description="Mechanism name: {model: NAME, parameter: value, ...}.")),
        outcomes=(dict[Name, outcome], Field(min_length=1)),
    )
    out["TOP_LEVEL_KEYS"] = ("extends", *out["Scenario"].model_fields)
    _MODELS.clear()
    _MODELS.update(out)
    _VERSION[0] = reg.version
    return _MODELS


def scenario_model() -> Any:
    """The pydantic model of a whole scenario, with every registered part."""
    return models()["Scenario"]


def json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files (``sim schema``), for editors that validate and complete
    them as they are typed: the scenario model's, with ``extends`` (the base file) added."""
    s = scenario_model().model_json_schema()
    s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    s["title"] = "sim scenario"
    s.setdefault("properties", {})["extends"] = {"type": "string", "description": "Base file to deep-merge over (relative path)."}
    return s


def __getattr__(name: str) -> Any:  # module attributes for the generated models
    if name in ("Scenario", "Outcome", "OUTCOME_KINDS", "TOP_LEVEL_KEYS", "StateSpec", "AllianceSpec",
                "SupplierSpec", "TerritorySpec", "FlashpointSpec"):
        return models()[name]
    raise AttributeError(name)
