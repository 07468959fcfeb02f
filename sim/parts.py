"""The registry of the model's parts, each declared once by the module that owns it.

A *part* is anything a mechanism adds to the model:

* :class:`Attr` — a numeric attribute of every actor of a section (``alliances.X.credibility``),
  with its bounds, default and the rationale of the default;
* :class:`StateVar` — a state array the world allocates (shape over actors, dtype, initialiser);
* :class:`Target` — a non-numeric thing effects may change (``alliances.X.members``);
* :class:`Predicate` — a function of the condition language (``level(lachin)``);
* :class:`EventType` — something a rule reports happening (a refusal, a delivery), with a
  sentence for people; the world counts them per replicate;
* :class:`RuleDef` — a mechanism: a slot (``kind``) in a phase of the monthly step, a model
  name, its parameters (a :class:`RuleParams` class) and ``build(plan) -> step(world)``;
* :class:`OutcomeKind` — a kind of outcome: its spec (a pydantic model), detector and
  description.

This module sits below the scenario layer, the world and the rules. The scenario layer
reads the declarations as data (its schema, the paths effects and ``--set`` may address);
the world allocates the declared state; the rules register themselves here. Nothing
here knows a rule by name. The stock parts are loaded like any plug-in, on first use.

Declarations made outside the package (a notebook, a user module) are *custom*: a run
ships them by value to its workers (:func:`ship` / :func:`receive`).
"""

from __future__ import annotations

import importlib
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict


@dataclass(frozen=True)
class Bounds:
    """The range a parameter must stay in, and whether it is a whole number."""

    lo: float = -math.inf
    hi: float = math.inf
    integer: bool = False
    vector: bool = False

    def describe(self) -> str:
        if self.lo == 0 and self.hi == 1:
            return "a probability or share in [0, 1]"
        if math.isinf(self.hi) and self.lo == 0:
            return "a number >= 0"
        if math.isinf(self.lo) and math.isinf(self.hi):
            return "a number"
        return f"a number in [{self.lo:g}, {self.hi:g}]"


def bounds_of(field_info: Any) -> Bounds:
    """The :class:`Bounds` a parameter field was declared with (see :func:`sim.scenario.values.P`)."""
    for meta in getattr(field_info, "metadata", ()):
        if isinstance(meta, Bounds):
            return meta
    return Bounds()


PHASES = ("events", "procurement", "escalation", "alliance", "alignment", "membership")
"""The monthly order of the phases (DESIGN §5). Each phase holds a list of rules."""

SECTIONS = {
    "states": "S",
    "alliances": "A",
    "suppliers": "K",
    "territories": "T",
    "flashpoints": "F",
}
"""Actor sections of a scenario and the symbol of their dimension."""

KIND_OF_SECTION = {
    "states": "state",
    "alliances": "alliance",
    "suppliers": "supplier",
    "territories": "territory",
    "flashpoints": "flashpoint",
}

KIND_OF_DIM = {sym: KIND_OF_SECTION[sect] for sect, sym in SECTIONS.items()}
"""Actor kind of each actor dimension symbol (``S`` -> ``state``)."""

SECTION_OF_KIND = {kind: sect for sect, kind in KIND_OF_SECTION.items()}

RECORDS = ("none", "mean", "counts")
"""How a state array is recorded each month (see :class:`Shows`)."""

STOCK_MODULES = ("sim.rules", "sim.outcomes.kinds")
"""Packages whose import registers the stock parts."""


def _caller_module(depth: int = 2) -> str:
    try:
        return sys._getframe(depth).f_globals.get("__name__", "__main__")
    except ValueError:  # pragma: no cover
        return "__main__"


def is_stock(module: str) -> bool:
    return module == "sim" or module.startswith("sim.")


# ---------------------------------------------------------------------- declarations


@dataclass(frozen=True)
class Attr:
    """A numeric attribute of every actor of a section, declared by the part that uses it.

    Attributes:
        section: ``states``, ``alliances``, ``suppliers``, ``territories`` or ``flashpoints``.
        name: The key in the scenario file.
        bounds: Allowed range (and whether it is a whole number).
        default: The value when the file gives none; ``None`` makes it required.
        note: Why the default is what it is (its provenance).
        kind: Kind of that provenance: ``assumption`` or ``calibration``.
        doc: What the attribute means (shown in ``sim schema`` and the docs).
        unit: Its unit, if any.
        keyed_by: For a mapping (``affinity: {russia: 0.3}``), the section whose names key it.
        array: Name of the per-replicate parameter array in ``world.par`` (default: ``name``).
        state: The state array it initialises; effects on it then change the state.
        key_first: The array is indexed (key, actor) rather than (actor, key).
        on_change: ``f(world, mask, index)`` run after an effect changes the state at
            ``index`` in the replicates of ``mask`` (e.g. a new rung resets its spell).
        label: How reports name the parameter, a phrase with actor placeholders (see
            :func:`phrase`): ``"{state's} available capacity"``; for a keyed attribute
            the key's kind too: ``"{state's} trust in the {alliance}"`` (two of one kind:
            ``{a}``, ``{b}``, the actor first). Empty: reports use the path.
        module: The declaring module (filled in).
    """

    section: str
    name: str
    bounds: Bounds
    default: float | None = None
    note: str = ""
    kind: str = "assumption"
    doc: str = ""
    unit: str = ""
    keyed_by: str | None = None
    array: str = ""
    state: str | None = None
    key_first: bool = False
    on_change: Callable[..., None] | None = None
    module: str = ""
    label: str = ""

    @property
    def placeholders(self) -> tuple[str, ...]:
        """The placeholder of the actor, then of the key (for a keyed attribute)."""
        kinds = [KIND_OF_SECTION[self.section]] + ([KIND_OF_SECTION[self.keyed_by]] if self.keyed_by else [])
        return placeholders_of(kinds)

    @property
    def path(self) -> str:
        mid = "X" if self.keyed_by is None else "X.Y"
        return f"{self.section}.{mid.split('.')[0]}.{self.name}" + (".Y" if self.keyed_by else "")

    @property
    def integer(self) -> bool:
        return self.bounds.integer


@dataclass(frozen=True)
class InitContext:
    """What a state initialiser may read: the plan, the sampled parameters, the state so far,
    and which parameter paths a study set per replicate (``fixed``: they vary like draws)."""

    plan: Any
    par: Any
    st: dict[str, np.ndarray]
    n: int
    dtype: Any
    fixed: frozenset[str] = frozenset()


def possessive(name: str) -> str:
    """``Russia`` -> ``Russia's``; ``Karabakh Armenians`` -> ``Karabakh Armenians'``."""
    return name + ("'" if name.endswith("s") else "'s")


def placeholders_of(kinds: Any) -> tuple[str, ...]:
    """The placeholder naming each of a sequence of actor kinds in a label phrase: the kind
    (``state``) where it occurs once, else ``a``, ``b``, ``c``... by position."""
    kinds = list(kinds)
    if len(set(kinds)) == len(kinds):
        return tuple(kinds)
    return tuple("abcdefgh"[i] for i in range(len(kinds)))


_PLACE = re.compile(r"\{(\w+)('s)?\}")


def phrase(template: str, **names: str) -> str:
    """Fill a label phrase: ``{state}`` with ``names["state"]``, ``{state's}`` with its
    possessive ("Armenia's", "Karabakh Armenians'"). Placeholders without a name stay."""

    def sub(m: re.Match) -> str:
        v = names.get(m.group(1))
        if v is None:
            return m.group(0)
        return possessive(v) if m.group(2) else v

    return _PLACE.sub(sub, template)


@dataclass(frozen=True)
class Shows:
    """What a state array shows people, declared with it (:func:`declare_state`).

    Everything above the engine derives from these: the recorder's monthly series and
    sampled trajectories, ``timeseries.csv``, the report's figures, the replicate a
    story or game follows and a game's situation screen, and the Mesa agents' labels.

    Attributes:
        state: The state array's name.
        dims: Actor kind of each dimension after the replicate axis (``("state", "alliance")``).
        record: How it is recorded each month: ``mean`` (summed over the replicates;
            divided by the runs it is the monthly mean), ``counts`` (how many replicates
            are at each level: an integer array whose values are ``levels``), or ``none``.
        levels: For ``counts``: the names of the values 0, 1, 2... (rungs), or an actor
            section (``states``) whose actors the values index (who holds a territory).
        label: A phrase naming one element, with a placeholder per dimension:
            ``"{state} in the {alliance}"``, ``"{a} towards {b}"`` (two of one kind),
            ``"{state's} imports"`` (the possessive). See :func:`phrase`.
        chart: The report figure it belongs to (a figure's name; a name no figure of
            the report draws gets a figure of its own, ``fig_<chart>.png``).
        trajectories: Keep the monthly values of the sampled replicates (the figures'
            bands); the same declarations say what an opt-in per-replicate trajectory
            file would hold.
        final: Keep each replicate's value at the horizon for the first replicates of
            the run (a distribution of final values).
        track: Followed month by month in the replicate a story or a game follows.
        screen: The section of a game's situation screen that shows it: a stock
            section's name (``flashpoints``, ``members``...) or a title of its own.
        column: Its ``timeseries.csv`` column, a template over the placeholders
            (``"{flashpoint}.deaths"``); for ``counts``, one column per level through
            ``{level}``. Empty: not in the table.
        level_columns: For ``counts``: the text ``{level}`` takes for each value (None:
            no column for that value). Default: the value itself, or the actor's key.
        mean_column: For ``counts``: a column of the mean level (``"{flashpoint}.mean_rung"``).
        sparse: ``columns``: a column that is zero every month is left out; ``rows``: an
            element whose columns are all zero every month is left out, with the columns
            of the other arrays shown beside it (a state that is not a member).
    """

    state: str
    dims: tuple[str, ...]
    record: str = "none"
    levels: tuple[str, ...] | str = ()
    label: str = ""
    chart: str | None = None
    trajectories: bool = False
    final: bool = False
    track: bool = False
    screen: str | None = None
    column: str = ""
    level_columns: tuple[str | None, ...] = ()
    mean_column: str = ""
    sparse: str | None = None
    doc: str = ""

    @property
    def placeholders(self) -> tuple[str, ...]:
        return placeholders_of(self.dims)

    @property
    def sections(self) -> tuple[str, ...]:
        """The actor section of each dimension (``states``...)."""
        return tuple(SECTION_OF_KIND[k] for k in self.dims)

    @property
    def series_name(self) -> str:
        """Its key in the recorder's monthly series (``level_counts`` for counts)."""
        return f"{self.state}_counts" if self.record == "counts" else self.state

    @property
    def column_dims(self) -> tuple[int, ...]:
        """Its dimensions in the order its column names them (the others after)."""
        order: list[int] = []
        for m in _PLACE.finditer(self.column):
            if m.group(1) in self.placeholders:
                d = self.placeholders.index(m.group(1))
                if d not in order:
                    order.append(d)
        return (*order, *(d for d in range(len(self.dims)) if d not in order))

    def names(self, names: Any) -> dict[str, str]:
        """Placeholder -> name, for one element given the name of the actor on each dimension."""
        return dict(zip(self.placeholders, names, strict=True))

    def describe(self, names: Any) -> str:
        """The label of one element: ``describe(["Armenia", "the CSTO"])``."""
        return phrase(self.label, **self.names(names)) if self.label else " ".join(names)


COLUMN_GROUPS = ("flashpoint", "alliance", "territory", "state", "supplier")
"""The order of ``timeseries.csv``'s groups of columns, by the kind of actor they name first."""


def column_groups(shows: list[Shows]) -> list[tuple[tuple[str, ...], list[Shows]]]:
    """Recorded states with a timeseries column, grouped by the actor kinds their columns
    name, in order (:data:`COLUMN_GROUPS`, then first declaration): ``[(("flashpoint",),
    [level, settled, deaths]), (("alliance", "state"), [trust, status]), ...]``."""
    groups: dict[tuple[str, ...], list[Shows]] = {}
    for sh in shows:
        if sh.column and sh.record != "none":
            groups.setdefault(tuple(sh.dims[d] for d in sh.column_dims), []).append(sh)
    first = list(groups)

    def rank(key: tuple[str, ...]) -> tuple[int, int]:
        head = COLUMN_GROUPS.index(key[0]) if key else len(COLUMN_GROUPS)
        return head, first.index(key)

    return [(k, groups[k]) for k in sorted(groups, key=rank)]


def charts(shows: list[Shows]) -> list[tuple[str, list[Shows]]]:
    """The charts the declarations name, each with its states: charts about flashpoints
    first, then alliances, territories, states, suppliers (:data:`COLUMN_GROUPS`, by
    the first actor kind of a chart's states), then in declaration order."""
    out: dict[str, list[Shows]] = {}
    for sh in shows:
        if sh.chart:
            out.setdefault(sh.chart, []).append(sh)
    first = list(out)

    def rank(name: str) -> tuple[int, int]:
        heads = [COLUMN_GROUPS.index(sh.dims[0]) if sh.dims else len(COLUMN_GROUPS) for sh in out[name]]
        return min(heads), first.index(name)

    return [(name, out[name]) for name in sorted(out, key=rank)]


def _shows(name: str, dims: tuple, dtype: str, record: str, levels: Any, label: str, chart: str | None,
           trajectories: bool, final: bool, track: bool, screen: str | None, column: str,
           level_columns: tuple, mean_column: str, sparse: str | None, doc: str) -> Shows | None:
    if record not in RECORDS:
        raise ValueError(f"state '{name}': record is one of {', '.join(RECORDS)}, not {record!r}")
    if sparse not in (None, "columns", "rows"):
        raise ValueError(f"state '{name}': sparse is 'columns', 'rows' or None, not {sparse!r}")
    shown = record != "none" or label or chart or trajectories or final or track or screen or column
    if not shown:
        return None
    actor_dims = [d for d in dims if d in KIND_OF_DIM]
    if (record != "none" or column or label or chart) and len(actor_dims) != len(dims):
        raise ValueError(f"state '{name}': only arrays over actors (S, A, K, T, F) can be recorded, "
                         f"labelled or charted; its dimensions are {dims}")
    if record == "counts":
        if dtype in ("float", "bool") or np.dtype(dtype).kind not in "iu":
            raise ValueError(f"state '{name}': counts over levels need an integer array (dtype 'int8'...)")
        if not levels:
            raise ValueError(f"state '{name}': counts need levels=(names of 0, 1, ...) or an actor section")
        if isinstance(levels, str) and levels not in SECTIONS:
            raise ValueError(f"state '{name}': levels {levels!r} is not an actor section ({', '.join(SECTIONS)})")
    if chart and record == "none" and not trajectories and not final:
        raise ValueError(f"state '{name}': a charted state is recorded (record='mean'...), or keeps "
                         "trajectories or final values")
    if column and record == "none":
        raise ValueError(f"state '{name}': a timeseries column needs record='mean' or 'counts'")
    kinds = tuple(KIND_OF_DIM.get(d, str(d)) for d in dims)
    sh = Shows(name, kinds, record, tuple(levels) if not isinstance(levels, str) else levels, label, chart,
               trajectories, final, track, screen, column, tuple(level_columns), mean_column, sparse, doc)
    for text, extra in ((label, ()), (column, ("level",)), (mean_column, ())):
        for m in _PLACE.finditer(text):
            if m.group(1) not in (*sh.placeholders, *extra):
                raise ValueError(f"state '{name}': unknown placeholder {{{m.group(1)}}} in {text!r}; "
                                 f"its placeholders are {', '.join('{' + p + '}' for p in sh.placeholders)}")
    return sh


@dataclass(frozen=True)
class StateVar:
    """A state array of the world (first axis: replicates).

    Attributes:
        name: Attribute name in ``world.st``.
        dims: Symbolic dimensions after the replicate axis: ``S`` states, ``A``
            alliances, ``K`` suppliers, ``T`` territories, ``F`` flashpoints, ``E``
            scenario events, ``L`` the scenario's levers (every actor's, in file order),
            or an integer.
        dtype: ``float`` (the world's precision), or a numpy dtype name.
        init: A fill value, or ``f(ctx: InitContext) -> array`` of the full shape.
        doc: What it holds (with ``label``, what a figure of it says).
        shows: What it shows people (how it is recorded, labelled, charted); None: nothing.
        moves: ``f(plan) -> bool mask`` over its elements (the dimensions after the
            replicate axis): the elements the plan's rules can change in a month; the
            others change only through effects (which the world notes,
            :attr:`sim.world.model.World.written`). The recorder then sums only those
            each month for a ``mean`` record and carries the others' sums forward
            (:class:`sim.outcomes.recorder.Recorder`). None (the default): every element
            may move; ``f`` returning None says the same for one plan.
    """

    name: str
    dims: tuple[str | int, ...]
    dtype: str = "float"
    init: Any = 0
    doc: str = ""
    module: str = ""
    shows: Shows | None = None
    moves: Callable[[Any], np.ndarray | None] | None = None

    def shape(self, sizes: dict[str, int], n: int) -> tuple[int, ...]:
        return (n, *(d if isinstance(d, int) else sizes[d] for d in self.dims))

    def allocate(self, ctx: InitContext, sizes: dict[str, int]) -> np.ndarray:
        dtype = ctx.dtype if self.dtype == "float" else np.dtype(self.dtype)
        if callable(self.init):
            arr = np.asarray(self.init(ctx))
            want = self.shape(sizes, ctx.n)
            if arr.shape != want:
                raise ValueError(f"state '{self.name}' initialiser gave shape {arr.shape}, declared {want}")
            return arr.astype(dtype, copy=False)
        return np.full(self.shape(sizes, ctx.n), self.init, dtype=dtype)


@dataclass(frozen=True)
class Target:
    """A non-numeric effect target: a list of names or one name of an actor section.

    ``compile(op, plan, index, names) -> apply(world, mask)`` builds the operation for
    ``op`` (set/add/remove) on the actor at ``index`` with the given state indices.
    """

    section: str
    name: str
    kind: str  # "names" or "name"
    compile: Callable[..., Callable[..., None]]
    doc: str = ""
    module: str = ""


@dataclass(frozen=True)
class Predicate:
    """A function of the condition language.

    Attributes:
        name: As written (``level``).
        args: Kinds of its arguments: ``flashpoint``, ``state``, ``alliance``,
            ``territory``, ``supplier``, ``event``, ``status``, ``path``.
        returns: ``num``, ``bool`` or ``actor``.
        example: A call as a user would write it.
        compile: ``f(plan, names) -> g(world) -> array (R,)``.
        min_args: Fewer arguments allowed (trailing ones optional).
        doc: What it gives.
    """

    name: str
    args: tuple[str, ...]
    returns: str
    example: str
    compile: Callable[..., Callable[..., Any]]
    min_args: int = -1
    doc: str = ""
    module: str = ""

    def __post_init__(self) -> None:
        if self.min_args < 0:
            object.__setattr__(self, "min_args", len(self.args))


@dataclass(frozen=True)
class EventType:
    """Something a rule reports happening, counted per replicate and narrated.

    Attributes:
        name: ``rule.event`` (``alliance.refusal``).
        over: Dimensions of the emitted mask after the replicate axis, as actor kinds
            (``state``, ``alliance``, ``flashpoint``, ``supplier``, ``territory``,
            ``side``) — they name the actors in the sentence.
        template: A sentence with ``{state}``, ``{alliance}``... and the fields, e.g.
            ``"{alliance} declines to help {state} (trust {before:.2f} -> {after:.2f})"``.
            A field may be formatted as a rung: ``{after:rung}`` gives "rung 3 (fatal clash)".
        fields: Names of the numeric fields an emission carries.
        doc: What it means.
        routine: Happens most months (a delivery): a narration summarises such events
            rather than listing each one.
    """

    name: str
    over: tuple[str, ...]
    template: str
    fields: tuple[str, ...] = ()
    doc: str = ""
    module: str = ""
    routine: bool = False


@dataclass(frozen=True)
class Decision:
    """A decision a rule takes on an actor's behalf, which becomes that actor's team's
    choice when a person plays it (declared with :func:`declare_decision`).

    The rule takes it by its own hazard for the actors :func:`model_decides` names (those
    nobody plays; a played one only in a game's forecast, ``advised``), never for a
    played one in the game itself (the ``played`` state), and carries it out for any
    actor whose ``order`` is set at its next step, if it is open then (``open``),
    clearing the order. The play layer derives a played team's choices from these
    declarations (:mod:`sim.play.decisions`).

    Attributes:
        name: The move's word (``launch_offensive``): a team writes
            ``ACTOR.NAME(ARGS)``, ARGS the other actors that name the element.
        slot: The rule slot that takes it; offered only where a scenario uses that slot.
        over: Actor kinds of its dimensions, as an event's (``("flashpoint", "side")``);
            exactly one is ``state`` or ``side``: who decides.
        title: The choice as a phrase with the event placeholders
            (``"launch a limited offensive against {opponent} at {flashpoint}"``).
        order: The bool state array over ``over`` that an order sets (declared with it).
        odds: ``f(world) -> (R, *over)`` the probability that the model, for an actor
            nobody plays, takes it in the coming month as things stand (its advice).
        open: ``f(world) -> (R, *over)`` bool: an order would be carried out now.
        event: The event the rule emits when the decision is taken.
        doc: What it means.
    """

    name: str
    slot: str
    over: tuple[str, ...]
    title: str
    order: str
    odds: Callable[[Any], Any]
    open: Callable[[Any], Any]
    event: str
    doc: str = ""
    module: str = ""

    @property
    def decider(self) -> int:
        """The position of the dimension that names who decides."""
        return next(i for i, k in enumerate(self.over) if k in ("state", "side"))


_ORDER_DIMS = {"state": "S", "alliance": "A", "supplier": "K", "territory": "T", "flashpoint": "F", "side": 2}

ADVISED = "advised"
"""The state (S,) bool that makes the model take a played state's declared decisions at its
own odds: set in a game's forecast (its continuations start with it equal to ``played``),
never in the game itself. A game saved before it existed reads it as False."""


def model_decides(st: Any) -> np.ndarray:
    """(R, S) bool: the states whose declared decisions (:class:`Decision`) the rules take
    by their own hazards: those nobody plays (not ``played``) and, in a game's forecast,
    the played ones too (:data:`ADVISED`: their later decisions drawn at the model's own
    odds, the advice their teams see). Every rule that declares a decision asks this, so
    who decides is said in one place."""
    return ~st.played | st[ADVISED]


class RuleParams(BaseModel):
    """Base class of a mechanism's parameters: every field is a scenario parameter.

    Declare each with its bounds and the rationale of its default::

        class MyParams(RuleParams):
            strength: P(0, 1) = default(0.1, "why 0.1")
    """

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    @classmethod
    def bounds(cls) -> dict[str, Bounds]:
        """Each parameter's allowed range, as declared with ``P(...)``."""
        return {name: bounds_of(f) for name, f in cls.model_fields.items()}


Builder = Callable[[Any], Callable[[Any], None]]


@dataclass(frozen=True)
class RuleDef:
    """A registered mechanism: model ``model`` of slot ``kind``, run in ``phase``.

    ``reads``: parameters of other slots it reads, as ``(slot, parameter)`` (see
    :func:`register`).
    """

    kind: str
    model: str
    params: type[RuleParams]
    build: Builder
    doc: str
    phase: str
    module: str = ""
    reads: tuple[tuple[str, str], ...] = ()


@dataclass
class Slot:
    """A place in the monthly step that a scenario fills with one model (or ``off``).

    Stock slots are the phases themselves (``escalation``); mechanisms may add slots of
    their own to a phase (``offensive`` in the escalation phase), run after the phase's
    earlier slots in ``order``.
    """

    kind: str
    phase: str
    order: float
    default: str | None  # model used when a scenario does not name one; None = off
    module: str = ""


@dataclass(frozen=True)
class OutcomeKind:
    """A kind of outcome: its spec, its detector and its description.

    Attributes:
        kind: The ``kind:`` value in the scenario (``escalation``).
        spec: A pydantic model of the outcome's fields (subclass of
            :class:`OutcomeSpec`, with ``kind: Literal[...]``). Fields annotated with
            :class:`Ref` name actors, events or outcomes and are checked.
        build: ``f(spec, plan) -> (cond, value, value_label)``: ``cond(world) -> bool (R,)``
            evaluated after every month; ``value`` the quantity whose final value is
            recorded (or None). Combined kinds return ``cond=None`` (see ``combine``).
        describe: ``f(spec, plan, name) -> str``, the sentence reports print when the
            scenario gives none.
        check: Optional ``f(spec_dict, tree) -> [(key, message)]`` for cross-field rules.
        combine: For kinds built from other outcomes: ``f(spec, first_hits) -> first_hit``.
        init: Optional ``f(world) -> state`` captured when recording starts, passed
            to ``cond`` as ``cond(world, state)`` (e.g. who was not a member at the start).
    """

    kind: str
    spec: type[BaseModel]
    build: Callable[..., Any]
    describe: Callable[..., str]
    check: Callable[..., list] | None = None
    combine: Callable[..., Any] | None = None
    module: str = ""


class OutcomeSpec(BaseModel):
    """Base of outcome specs: every outcome may carry a description."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)
    description: str = ""


@dataclass(frozen=True)
class Ref:
    """Field metadata: the field names a ``kind`` of thing (``state``, ``outcome``...)."""

    kind: str


@dataclass(frozen=True)
class PredicateText:
    """Field metadata: the field is a condition in the predicate language."""


# -------------------------------------------------------------------------- registry


@dataclass
class Registry:
    """Every declared part. ``version`` changes with each registration (caches key on it)."""

    attrs: dict[tuple[str, str], Attr] = field(default_factory=dict)
    state: dict[str, StateVar] = field(default_factory=dict)
    targets: dict[tuple[str, str], Target] = field(default_factory=dict)
    predicates: dict[str, Predicate] = field(default_factory=dict)
    events: dict[str, EventType] = field(default_factory=dict)
    slots: dict[str, Slot] = field(default_factory=dict)
    rules: dict[str, dict[str, RuleDef]] = field(default_factory=dict)
    outcomes: dict[str, OutcomeKind] = field(default_factory=dict)
    decisions: dict[str, Decision] = field(default_factory=dict)
    stock_names: set[tuple[str, str]] = field(default_factory=set)
    """``("rules", "kind.model")`` and ``("outcomes", "kind")`` names the package registers."""
    version: int = 0
    loading: bool = False
    loaded: bool = False

    def bump(self) -> None:
        self.version += 1

    def snapshot(self) -> dict[str, Any]:
        """The registered parts now (for :meth:`restore`)."""
        ensure_stock()
        return {
            "attrs": dict(self.attrs), "state": dict(self.state), "targets": dict(self.targets),
            "predicates": dict(self.predicates), "events": dict(self.events),
            "slots": {k: Slot(**vars(v)) for k, v in self.slots.items()},
            "rules": {k: dict(v) for k, v in self.rules.items()}, "outcomes": dict(self.outcomes),
            "decisions": dict(self.decisions),
        }

    def restore(self, snap: dict[str, Any]) -> None:
        """Forget every part registered since ``snap`` was taken."""
        for name, value in snap.items():
            current = getattr(self, name)
            current.clear()
            current.update({k: (dict(v) if name == "rules" else v) for k, v in value.items()})
        self.bump()

    def shows(self) -> list[Shows]:
        """What the declared state arrays show, in declaration order (see :class:`Shows`)."""
        return [v.shows for v in self.state.values() if v.shows is not None]

    def attrs_of(self, section: str) -> list[Attr]:
        return [a for (s, _), a in self.attrs.items() if s == section]

    def slots_in_order(self) -> list[Slot]:
        """Slots in the order they run: by phase, then ``order``, then registration."""
        idx = {k: i for i, k in enumerate(self.slots)}
        return sorted(self.slots.values(), key=lambda s: (PHASES.index(s.phase), s.order, idx[s.kind]))


REGISTRY = Registry()


class scoped:
    """``with scoped(): register(...)`` — parts registered inside are forgotten on exit
    (a notebook trying a rule out; tests)."""

    def __enter__(self) -> Registry:
        self._snap = REGISTRY.snapshot()
        return REGISTRY

    def __exit__(self, *exc: Any) -> None:
        REGISTRY.restore(self._snap)


def registry() -> Registry:
    """The registry with the stock parts loaded."""
    ensure_stock()
    return REGISTRY


def ensure_stock() -> None:
    """Load the stock parts (the package's rules and outcome kinds) once."""
    if REGISTRY.loaded or REGISTRY.loading:
        return
    REGISTRY.loading = True
    try:
        for mod in STOCK_MODULES:
            importlib.import_module(mod)
        REGISTRY.loaded = True
    finally:
        REGISTRY.loading = False


def _check_section(section: str) -> None:
    if section not in SECTIONS:
        raise ValueError(f"unknown section {section!r}; sections are {', '.join(SECTIONS)}")


def declare_attr(
    section: str,
    name: str,
    type_: Any,
    default: float | None = None,
    note: str = "",
    *,
    kind: str = "assumption",
    doc: str = "",
    unit: str = "",
    keyed_by: str | None = None,
    array: str | None = None,
    state: str | None = None,
    key_first: bool = False,
    on_change: Callable[..., None] | None = None,
    label: str = "",
) -> Attr:
    """Declare a numeric attribute of the actors of ``section``.

    Args:
        type_: A parameter type made with :func:`sim.scenario.values.P` (its bounds).
        default: Value when the file gives none (with ``note`` saying why); ``None``
            makes the attribute required.
        label: How reports name it, with actor placeholders (:attr:`Attr.label`).
    """
    _check_section(section)
    if keyed_by is not None:
        _check_section(keyed_by)
    if default is not None and not note:
        raise ValueError(f"{section}.{name}: a default needs a note saying why it is what it is")
    b = _bounds_of_type(type_)
    array = array or name
    for other in REGISTRY.attrs.values():
        if other.array == array and (other.section, other.name) != (section, name):
            raise ValueError(f"{section}.{name}: parameter array '{array}' is already used by "
                             f"{other.section}.{other.name}; give array=...")
    a = Attr(section, name, b, None if default is None else float(default), note, kind, doc, unit, keyed_by,
             array, state, key_first, on_change, _caller_module(), label)
    for m in _PLACE.finditer(label):
        if m.group(1) not in a.placeholders:
            raise ValueError(f"{section}.{name}: unknown placeholder {{{m.group(1)}}} in its label; "
                             f"its placeholders are {', '.join('{' + p + '}' for p in a.placeholders)}")
    REGISTRY.attrs[(section, name)] = a
    REGISTRY.bump()
    return a


def _bounds_of_type(type_: Any) -> Bounds:
    for meta in getattr(type_, "__metadata__", ()):
        if isinstance(meta, Bounds):
            return meta
    raise TypeError("declare an attribute's type with P(lo, hi, integer=...)")


def declare_state(
    name: str,
    dims: tuple[str | int, ...],
    dtype: str = "float",
    init: Any = 0,
    doc: str = "",
    *,
    record: str = "none",
    levels: tuple[str, ...] | str = (),
    label: str = "",
    chart: str | None = None,
    trajectories: bool = False,
    final: bool = False,
    track: bool = False,
    screen: str | None = None,
    column: str = "",
    level_columns: tuple[str | None, ...] = (),
    mean_column: str = "",
    sparse: str | None = None,
    moves: Callable[[Any], np.ndarray | None] | None = None,
) -> StateVar:
    """Declare a state array the world allocates for every run, and what it shows.

    The keywords after ``doc`` say what it shows people (:class:`Shows`): how it is
    recorded each month (``record``: ``mean``, ``counts`` over ``levels``, ``none``;
    ``trajectories``: sampled replicates' months kept; ``final``: final values kept), a
    ``label`` phrase with actor placeholders (``"war-weariness of {state}"``), the
    ``chart`` it belongs to, whether stories and games follow it (``track``) and on
    which part of a game's ``screen``, and its ``timeseries.csv`` ``column``. ``moves``
    says which elements a plan's rules change month by month (:attr:`StateVar.moves`).
    """
    for d in dims:
        if not isinstance(d, int) and d not in ("S", "A", "K", "T", "F", "E", "L"):
            raise ValueError(f"state '{name}': unknown dimension {d!r} (S, A, K, T, F, E, L or an integer)")
    shows = _shows(name, tuple(dims), dtype, record, levels, label, chart, trajectories, final, track, screen,
                   column, level_columns, mean_column, sparse, doc)
    v = StateVar(name, tuple(dims), dtype, init, doc, _caller_module(), shows, moves)
    REGISTRY.state[name] = v
    REGISTRY.bump()
    return v


def declare_target(section: str, name: str, kind: str, compile: Callable[..., Any], doc: str = "") -> Target:
    """Declare a list-of-names (``kind='names'``) or one-name (``'name'``) effect target."""
    _check_section(section)
    if kind not in ("names", "name"):
        raise ValueError("a target's kind is 'names' or 'name'")
    t = Target(section, name, kind, compile, doc, _caller_module())
    REGISTRY.targets[(section, name)] = t
    REGISTRY.bump()
    return t


def declare_predicate(
    name: str,
    args: tuple[str, ...],
    returns: str,
    example: str,
    compile: Callable[..., Any],
    *,
    min_args: int = -1,
    doc: str = "",
) -> Predicate:
    """Declare a function of the condition language (``when:``, ``condition`` outcomes)."""
    p = Predicate(name, tuple(args), returns, example, compile, min_args, doc, _caller_module())
    REGISTRY.predicates[name] = p
    REGISTRY.bump()
    return p


def declare_reading(
    name: str,
    array: str,
    args: tuple[str, ...],
    returns: str,
    example: str,
    *,
    test: Callable[[Any], Any] | None = None,
    doc: str = "",
) -> Predicate:
    """Declare a predicate that reads a state array at the actors it names:
    ``level(lachin)`` is ``w.st.level[:, index of lachin]``; with two arguments,
    ``trust(armenia, csto)`` is ``w.st.trust[:, i, j]``, each index looked up by its kind.
    ``test`` turns the value into the answer (``lambda v: v == 5`` for ``war(lachin)``)."""

    def compile(plan: Any, names: Any) -> Callable[[Any], Any]:
        at = (slice(None), *(plan.index_of(kind)[n] for kind, n in zip(args, names, strict=True)))
        if test is None:
            return lambda w: getattr(w.st, array)[at]
        return lambda w: test(getattr(w.st, array)[at])

    p = Predicate(name, tuple(args), returns, example, compile, -1, doc, _caller_module())
    REGISTRY.predicates[name] = p
    REGISTRY.bump()
    return p


def declare_event(name: str, over: tuple[str, ...], template: str, fields: tuple[str, ...] = (), doc: str = "",
                  *, routine: bool = False) -> EventType:
    """Declare an event type a rule emits with ``world.emit(name, mask, **fields)``.

    ``over`` kinds: ``state``, ``alliance``, ``supplier``, ``territory``, ``flashpoint``,
    ``side``, ``event`` (a scenario event) or ``lever`` (a scenario lever; names its actor
    as ``{state}``). ``routine``: see :class:`EventType`.
    """
    e = EventType(name, tuple(over), template, tuple(fields), doc, _caller_module(), routine)
    REGISTRY.events[name] = e
    REGISTRY.bump()
    return e


def declare_decision(name: str, slot: str, over: tuple[str, ...], title: str, *, odds: Callable[[Any], Any],
                     open: Callable[[Any], Any], event: str, doc: str = "") -> Decision:  # noqa: A002 - the field's name
    """Declare that a rule's decision belongs to the actor it is taken for, when a person
    plays that actor (:class:`Decision`). Declares the order state ``order_NAME`` (bool,
    over ``over``) the rule reads and clears."""
    over = tuple(over)
    bad = [k for k in over if k not in _ORDER_DIMS]
    if bad or sum(k in ("state", "side") for k in over) != 1 or ("side" in over and "flashpoint" not in over):
        raise ValueError(f"decision '{name}': over names actor kinds ({', '.join(_ORDER_DIMS)}), exactly one of them "
                         f"'state' or 'side' (who decides; 'side' with its 'flashpoint'); got {over}")
    order = f"order_{name}"
    module = _caller_module()
    v = declare_state(order, tuple(_ORDER_DIMS[k] for k in over), "bool", False,
                      doc=f"a played team ordered: {name.replace('_', ' ')} (carried out at the rule's next step, then cleared)")
    REGISTRY.state[order] = replace(v, module=module)  # the declaring module's (a plugin's order state is shipped)
    d = Decision(name, slot, over, title, order, odds, open, event, doc, module)
    REGISTRY.decisions[name] = d
    REGISTRY.bump()
    return d


def register(
    kind: str,
    model: str,
    params: type[RuleParams],
    *,
    phase: str | None = None,
    order: float | None = None,
    default: bool | None = None,
    reads: tuple[str, ...] = (),
) -> Callable[[Builder], Builder]:
    """Register ``build(plan) -> step(world)`` as model ``model`` of slot ``kind``.

    A stock slot is a phase (``escalation``); a new ``kind`` opens a slot of its own in
    ``phase``, run after the slots registered before it there (or by ``order``).
    ``default``: the model a scenario gets when it does not name one for this slot. For
    a phase's first model, and for new slots opened by the package, that is on unless
    ``default=False``; a slot opened outside the package is off by default (a scenario
    names it in ``rules:`` to use it).

    ``reads``: parameters of other slots this rule reads, as ``"slot.parameter"``
    (``"escalation.casualty_sigma"``; the slot registered first). ``world.rp(slot,
    parameter)`` gives them whichever model a scenario picks for that slot: one that
    does not declare the parameter (a model written for a study, say) lends the default
    of the slot's default model (:func:`lent_default`).
    """
    pairs = tuple(_parse_read(f"{kind}.{model}", r) for r in reads)

    def deco(build: Builder) -> Builder:
        module = getattr(build, "__module__", None) or _caller_module()
        slot = REGISTRY.slots.get(kind)
        if slot is None:
            ph = phase or (kind if kind in PHASES else None)
            if ph not in PHASES:
                raise ValueError(
                    f"slot {kind!r} is new: say in which phase it runs (phase=...; phases are {', '.join(PHASES)})"
                )
            on = default if default is not None else (kind in PHASES or is_stock(module))
            slot = Slot(kind, ph, float(order) if order is not None else (0.0 if kind in PHASES else 10.0),
                        model if on else None, module)
            REGISTRY.slots[kind] = slot
        else:
            if phase is not None and phase != slot.phase:
                raise ValueError(f"slot {kind!r} runs in phase {slot.phase!r}, not {phase!r}")
            if default:
                slot.default = model
        REGISTRY.rules.setdefault(kind, {})[model] = RuleDef(
            kind, model, params, build, (build.__doc__ or "").strip(), slot.phase, module, pairs
        )
        if is_stock(module):
            REGISTRY.stock_names.add(("rules", f"{kind}.{model}"))
        REGISTRY.bump()
        return build

    return deco


def _parse_read(who: str, read: str) -> tuple[str, str]:
    slot, _, name = read.partition(".")
    models = REGISTRY.rules.get(slot, {})
    if not name or not models:
        raise ValueError(f"{who} reads {read!r}: give 'slot.parameter' of a slot registered before it "
                         f"(slots: {', '.join(REGISTRY.slots)})")
    if not any(name in m.params.model_fields for m in models.values()):
        raise ValueError(f"{who} reads {read!r}: no model of slot {slot!r} has a parameter {name!r}")
    return slot, name


def lent_default(rules: dict[str, str], kind: str, name: str) -> Any:
    """The value of parameter ``name`` of slot ``kind`` for the rules in use (``rules``:
    slot -> model) when the model in use there does not declare it: its default in the
    slot's default model, or else in the first registered model that declares it.

    Raises KeyError unless a rule in use declared it reads that parameter
    (``register(..., reads=...)``): a rule does not get another's parameter by accident.
    """
    reg = registry()
    in_use = [reg.rules.get(k, {}).get(m) for k, m in rules.items()]
    if not any(rd is not None and (kind, name) in rd.reads for rd in in_use):
        raise KeyError(f"rule parameter {kind}.{name}: the model in use for '{kind}' (if any) has none, and no rule "
                       f"in use declares that it reads it (register(..., reads=('{kind}.{name}',)))")
    models = reg.rules.get(kind, {})
    slot = reg.slots.get(kind)
    first = [slot.default] if slot is not None and slot.default in models else []
    for m in [*first, *models]:
        f = models[m].params.model_fields.get(name)
        if f is not None:
            return f.get_default(call_default_factory=True).value
    raise KeyError(f"rule parameter {kind}.{name}: no model of slot '{kind}' declares it")  # pragma: no cover


def register_outcome(
    kind: str,
    spec: type[BaseModel],
    build: Callable[..., Any],
    describe: Callable[..., str],
    *,
    check: Callable[..., list] | None = None,
    combine: Callable[..., Any] | None = None,
) -> OutcomeKind:
    """Register an outcome kind (one module per kind holds these)."""
    ok = OutcomeKind(kind, spec, build, describe, check, combine, getattr(build, "__module__", _caller_module()))
    REGISTRY.outcomes[kind] = ok
    if is_stock(ok.module):
        REGISTRY.stock_names.add(("outcomes", kind))
    REGISTRY.bump()
    return ok


class RuleFailed(RuntimeError):
    """A rule raised while it was built or in its monthly step.

    Says which rule (``slot.model``), the module that registered it (a plugin's, or the
    package's) and what it raised; the chunk that ran it wraps this in
    :class:`sim.runner.ChunkFailed`. The original exception is its ``__cause__``.
    """

    def __init__(self, rule: RuleDef, stage: str, exc: BaseException):
        self.rule, self.module, self.stage = f"{rule.kind}.{rule.model}", rule.module, stage
        self.error = f"{type(exc).__name__}: {exc}"
        origin = f"module {rule.module}" if is_stock(rule.module) else f"plugin module '{rule.module}'"
        where = "while it was built (build(plan))" if stage == "build" else "in its monthly step"
        super().__init__(f"rule {self.rule} from {origin} raised {self.error} {where}")


def build_pipeline(plan: Any) -> list[tuple[str, Callable[[Any], None]]]:
    """The monthly rule functions of a compiled scenario (:class:`sim.world.compile.Plan`):
    phase by phase, each phase's slots in order, each slot the model the scenario chose.

    A rule that raises, in its build or its step, raises :class:`RuleFailed` naming it.
    """
    reg = registry()
    out = []
    for slot in reg.slots_in_order():
        rs = plan.rules.get(slot.kind)
        if rs is None:
            continue
        rd = reg.rules[slot.kind][rs.model]
        try:
            step = rd.build(plan)
        except Exception as exc:  # noqa: BLE001 - any error of a rule's own code is reported as the rule's
            raise RuleFailed(rd, "build", exc) from exc
        out.append((slot.kind, _named(rd, step)))
    return out


def _named(rd: RuleDef, step: Callable[[Any], None]) -> Callable[[Any], None]:
    """``step``, raising :class:`RuleFailed` (naming the rule) for any error it raises."""

    def run(world: Any) -> None:
        try:
            step(world)
        except Exception as exc:  # noqa: BLE001 - as above; Ctrl-C and SIGTERM pass through
            raise RuleFailed(rd, "step", exc) from exc

    run.__wrapped__ = step  # type: ignore[attr-defined]
    return run


def replacing_stock() -> list[dict[str, str]]:
    """Rules and outcome kinds registered from outside the package under the name of a
    stock one, which they replace: ``{what, name, module}`` each (``what``: ``rule`` or
    ``outcome kind``)."""
    r = registry()
    out = [{"what": "rule", "name": f"{d.kind}.{d.model}", "module": d.module}
           for models in r.rules.values() for d in models.values()
           if ("rules", f"{d.kind}.{d.model}") in r.stock_names and not is_stock(d.module)]
    out += [{"what": "outcome kind", "name": o.kind, "module": o.module} for o in r.outcomes.values()
            if ("outcomes", o.kind) in r.stock_names and not is_stock(o.module)]
    return out


# ------------------------------------------------------------------ custom parts


def custom_parts() -> dict[str, list]:
    """The parts declared outside the package, by category (what a run must ship)."""
    r = registry()
    out = {
        "attrs": [a for a in r.attrs.values() if not is_stock(a.module)],
        "state": [v for v in r.state.values() if not is_stock(v.module)],
        "targets": [t for t in r.targets.values() if not is_stock(t.module)],
        "predicates": [p for p in r.predicates.values() if not is_stock(p.module)],
        "events": [e for e in r.events.values() if not is_stock(e.module)],
        "slots": [s for s in r.slots.values() if not is_stock(s.module)],
        "rules": [d for models in r.rules.values() for d in models.values() if not is_stock(d.module)],
        "outcomes": [o for o in r.outcomes.values() if not is_stock(o.module)],
    }
    return {k: v for k, v in out.items() if v}


def describe_custom(parts: dict[str, list] | None = None) -> list[dict[str, Any]]:
    """Custom parts as ``{what, name, module}`` records (for the manifest); a rule or an
    outcome kind that replaces the stock one of its name also has ``replaces_stock: true``."""
    parts = custom_parts() if parts is None else parts
    rows = []
    for cat, items in parts.items():
        for x in items:
            name = {
                "attrs": lambda a: f"{a.section}.*.{a.name}",
                "state": lambda v: v.name,
                "targets": lambda t: f"{t.section}.*.{t.name}",
                "predicates": lambda p: p.name,
                "events": lambda e: e.name,
                "slots": lambda s: s.kind,
                "rules": lambda d: f"{d.kind}.{d.model}",
                "outcomes": lambda o: o.kind,
            }[cat](x)
            row = {"what": cat, "name": name, "module": x.module}
            if (cat, name) in REGISTRY.stock_names:
                row["replaces_stock"] = True  # registered under a stock part's name, in its place
            rows.append(row)
    return rows


def ship() -> bytes | None:
    """The custom parts pickled by value (cloudpickle), or None if there are none.

    Functions and classes defined in ``__main__`` (a notebook, a script) and in user
    modules are pickled by value, so workers that cannot import them still run them.
    """
    parts = custom_parts()
    if not parts:
        return None
    import cloudpickle

    mods = {x.module for items in parts.values() for x in items}
    registered = []
    for m in mods:
        mod = sys.modules.get(m)
        if mod is not None and m != "__main__":
            try:
                cloudpickle.register_pickle_by_value(mod)
                registered.append(mod)
            except (ValueError, TypeError):  # pragma: no cover - a builtin or odd module
                pass
    try:
        return cloudpickle.dumps(parts)
    finally:
        for mod in registered:
            cloudpickle.unregister_pickle_by_value(mod)


_RECEIVED: set[int] = set()


def receive(blob: bytes | None) -> None:
    """Register parts shipped with :func:`ship` (once per blob in a process)."""
    if blob is None:
        return
    import hashlib
    import pickle

    key = int.from_bytes(hashlib.sha256(blob).digest()[:8], "little")
    if key in _RECEIVED:
        return
    ensure_stock()
    parts = pickle.loads(blob)  # noqa: S301 - our own payload, produced by ship()
    for a in parts.get("attrs", []):
        REGISTRY.attrs[(a.section, a.name)] = a
    for v in parts.get("state", []):
        REGISTRY.state[v.name] = v
    for t in parts.get("targets", []):
        REGISTRY.targets[(t.section, t.name)] = t
    for p in parts.get("predicates", []):
        REGISTRY.predicates[p.name] = p
    for e in parts.get("events", []):
        REGISTRY.events[e.name] = e
    for s in parts.get("slots", []):
        REGISTRY.slots.setdefault(s.kind, s)
    for d in parts.get("rules", []):
        REGISTRY.rules.setdefault(d.kind, {})[d.model] = d
    for o in parts.get("outcomes", []):
        REGISTRY.outcomes[o.kind] = o
    REGISTRY.bump()
    _RECEIVED.add(key)
