"""The actors as Mesa agents.

Each agent is one actor of the scenario (not one per replicate): it carries the
actor's name and index, and reads and writes its slice of the world's
replicate-first arrays. Rules work on the arrays directly, vectorized over
replicates and actors; agents give names, lookup and iteration
(``world.agents_by_type[State]``) for play, reports and visualization.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

if TYPE_CHECKING:
    from .model import World


class Actor(mesa.Agent):
    """Common base: a named actor with an index into the world's arrays."""

    def __init__(self, model: World, key: str, index: int, label: str):
        super().__init__(model)
        self.key = key
        self.index = index
        self.label = label or key

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.key!r})"


class State(Actor):
    """A state or other armed actor."""

    @property
    def capability(self) -> np.ndarray:
        """Capability index in each replicate, shape (R,)."""
        return self.model.st.capability[:, self.index]

    @property
    def resolve(self) -> np.ndarray:
        return self.model.par.resolve[:, self.index]

    def affinity(self, other: State) -> np.ndarray:
        """This actor's affinity towards ``other`` in each replicate, -1..1."""
        return self.model.st.affinity[:, self.index, other.index]


class Alliance(Actor):
    """A collective-defence or consultative organisation."""

    def trust(self, member: State) -> np.ndarray:
        return self.model.st.trust[:, member.index, self.index]

    def status(self, member: State) -> np.ndarray:
        """Membership status codes (0 none, 1 active, 2 frozen, 3 exited), shape (R,)."""
        return self.model.st.status[:, member.index, self.index]

    @property
    def credibility(self) -> np.ndarray:
        return self.model.par.credibility[:, self.index]


class Supplier(Actor):
    """An arms supplier."""

    @property
    def reliability(self) -> np.ndarray:
        return self.model.par.reliability[:, self.index]


class Territory(Actor):
    """Land whose control can change hands."""

    @property
    def controller(self) -> np.ndarray:
        """Index of the controlling state in each replicate, shape (R,)."""
        return self.model.st.controller[:, self.index]


class Flashpoint(Actor):
    """A disputed dyad on the escalation ladder."""

    @property
    def level(self) -> np.ndarray:
        """Escalation rung in each replicate (0 calm .. 5 war), shape (R,)."""
        return self.model.st.level[:, self.index]

    @level.setter
    def level(self, value: np.ndarray | int) -> None:
        self.model.st.level[:, self.index] = value

    @property
    def casualties(self) -> np.ndarray:
        return self.model.st.casualties[:, self.index]
