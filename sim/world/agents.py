"""The actors as Mesa agents whose attributes are views onto the replicate arrays.

Each agent is one actor of the scenario (not one per replicate). Its attributes are
derived from the declarations (:mod:`sim.parts`), nothing here names a rule's state:
every declared state array with a dimension over the actor's kind, and every declared
parameter of its section, read at the actor's index. An attribute is the actor's slice
across replicates — a NumPy view, so it follows the run and writing into it writes the
world's array::

    armenia = world.by_key["armenia"]
    armenia.capability             # (R,): world.st.capability[:, i]
    armenia.trust                  # (R, A): its trust in each alliance
    world.by_key["csto"].trust     # (R, S): each state's trust in the CSTO
    world.by_key["lachin"].level = 3   # every replicate's rung on the Lachin corridor

Mesa's collection operations work over actors, each value an (R,) array::

    states = world.agents_by_type[State]
    states.agg("capability", lambda v: np.mean(v, axis=0))     # (R,): mean over states, per replicate
    states.select(lambda s: (s.capability > 1).mean() > 0.5)    # states stronger than 1 in most replicates

:meth:`World.replicate(k) <sim.world.model.World.replicate>` gives the same actors in
replicate k alone (a story's run): there an attribute is a number (or a row).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from .. import seeding
from ..parts import KIND_OF_DIM, KIND_OF_SECTION, Registry
from .mesacore import load as _mesa_core

if TYPE_CHECKING:
    from .model import World

MesaModel, MesaAgent = _mesa_core()
"""``mesa.Model`` and ``mesa.Agent``, without importing the rest of Mesa (:mod:`sim.world.mesacore`)."""


@dataclass(frozen=True)
class View:
    """An agent attribute: array ``name`` of ``world.st`` or ``world.par`` (``space``), read
    at the actor's index on ``axis`` (1 = the first axis after the replicates)."""

    space: str
    name: str
    axis: int
    doc: str = ""

    def at(self, replicate: Any, index: int) -> tuple:
        return (replicate, *([slice(None)] * (self.axis - 1)), index)

    def read(self, world: Any, replicate: Any, index: int) -> Any:
        return getattr(world, self.space)[self.name][self.at(replicate, index)]

    def write(self, world: Any, replicate: Any, index: int, value: Any) -> None:
        getattr(world, self.space)[self.name][self.at(replicate, index)] = value
        if self.space == "st" and getattr(world, "latest", None):  # a rule's copy of the state is stale now
            world.latest.pop(self.name, None)
        if self.space == "par" and hasattr(world, "parameters_changed"):  # what World.rp keeps is made afresh
            world.parameters_changed()


def views(reg: Registry) -> dict[str, dict[str, View]]:
    """Each actor kind's attributes, from the declarations: state arrays first (at the
    first dimension over that kind), then the section's parameters that no state array
    carries (their per-replicate values in ``world.par``)."""
    out: dict[str, dict[str, View]] = {kind: {} for kind in KIND_OF_SECTION.values()}
    for v in reg.state.values():
        seen = set()
        for axis, d in enumerate(v.dims, start=1):
            kind = KIND_OF_DIM.get(d) if isinstance(d, str) else None
            if kind is None or kind in seen:
                continue
            seen.add(kind)
            out[kind].setdefault(v.name, View("st", v.name, axis, v.doc))
    for a in reg.attrs.values():
        if a.state is None:
            out[KIND_OF_SECTION[a.section]].setdefault(a.name, View("par", a.array, 2 if a.key_first else 1, a.doc))
    for kind, table in out.items():
        cls = CLASSES[kind]
        for name in [n for n in table if n.startswith("_") or hasattr(cls, n)]:
            del table[name]  # a name the agent has already (model, key, label...) stays the agent's
    return out


class Actor(MesaAgent):
    """Common base: a named actor with an index into the world's arrays.

    Attributes:
        key: The actor's key in the scenario (``armenia``).
        index: Its index on the dimensions over its kind.
        label: Its display name.
    """

    kind: ClassVar[str] = ""

    def __init__(self, model: MesaModel, key: str, index: int, label: str, *, world: World | None = None,
                 replicate: int | None = None):
        self._world = world if world is not None else model
        self._at: Any = slice(None) if replicate is None else int(replicate)
        super().__init__(model)
        self.key = key
        self.index = index
        self.label = label or key

    def _view(self, name: str) -> View | None:
        table = self.__dict__.get("_world")
        table = getattr(table, "agent_views", None) if table is not None else None
        return None if table is None else table[self.kind].get(name)

    def __getattr__(self, name: str) -> Any:
        view = None if name.startswith("_") else self._view(name)
        if view is None:
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}"
                                 + ("" if name.startswith("_") else "; see .attributes()"))
        return view.read(self._world, self._at, self.index)

    def __setattr__(self, name: str, value: Any) -> None:
        view = None if name.startswith("_") or name in self.__dict__ else self._view(name)
        if view is None:
            super().__setattr__(name, value)
        else:
            view.write(self._world, self._at, self.index, value)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._world.agent_views[self.kind]))

    def attributes(self) -> dict[str, str]:
        """This kind of actor's attributes (declared state and parameters) and what each holds."""
        return {name: v.doc for name, v in self._world.agent_views[self.kind].items()}

    @property
    def replicate(self) -> int | None:
        """The replicate this agent shows (None: all of them, attributes over replicates)."""
        return None if isinstance(self._at, slice) else self._at

    def __repr__(self) -> str:
        at = "" if self.replicate is None else f", replicate={self.replicate}"
        return f"{type(self).__name__}({self.key!r}{at})"


class State(Actor):
    """A state or other armed actor."""

    kind = "state"


class Alliance(Actor):
    """A collective-defence or consultative organisation."""

    kind = "alliance"


class Supplier(Actor):
    """An arms supplier."""

    kind = "supplier"


class Territory(Actor):
    """Land whose control can change hands."""

    kind = "territory"


class Flashpoint(Actor):
    """A disputed dyad on the escalation ladder."""

    kind = "flashpoint"


CLASSES: dict[str, type[Actor]] = {c.kind: c for c in (State, Alliance, Supplier, Territory, Flashpoint)}
"""The agent class of each actor kind."""


def make_agents(model: MesaModel, world: Any, replicate: int | None = None) -> dict[str, Actor]:
    """One agent per actor of the world's scenario, in ``model`` (the world itself, or a
    :class:`Replicate`), by key."""
    plan, scn = world.plan, world.plan.scenario
    out: dict[str, Actor] = {}
    for section, kind in KIND_OF_SECTION.items():
        spec = getattr(scn, section)
        for i, key in enumerate(plan.section(section)):
            out[key] = CLASSES[kind](model, key, i, spec[key].name, world=world, replicate=replicate)
    return out


class Replicate(MesaModel):
    """The actors of one replicate of a world, as Mesa agents (a story's run): their
    attributes are that replicate's values, read from (and written to) the world.

    Attributes:
        world: The world.
        replicate_index: The replicate shown.
        by_key: The agents by actor key.
    """

    def __init__(self, world: World, replicate: int):
        if not 0 <= replicate < world.n:
            raise IndexError(f"the world has replicates 0..{world.n - 1}, not {replicate}")

        super().__init__(rng=seeding.mesa_seed(world.seed_seq))
        self.world = world
        self.replicate_index = replicate
        self.by_key = make_agents(self, world, replicate)
        forget(self)


def forget(model: MesaModel) -> None:
    """Let Mesa forget a model it keeps a reference to for numbering agents.

    Mesa 3.3 (what pip gives Python 3.11) numbers agents from a class-level ``Agent._ids``
    keyed by the model, which keeps every model ever built alive (mesa#3179); Mesa 3.5
    (Python 3.12+) numbers them in the model (mesa#3180) and keeps none: nothing to drop.
    Either way a model and its agents refer to each other, so it is freed by Python's cycle
    collector. tests/test_mesa.py checks that a forgotten model is collectable on the Mesa
    installed; benchmarks/bench_release.py prints memory over many runs.
    """
    ids = getattr(MesaAgent, "_ids", None)
    if ids is not None:
        ids.pop(model, None)

