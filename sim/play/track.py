"""Following one replicate month by month: the state a story or a game shows.

A :class:`Track` observes a world and keeps, for one replicate, the quantities people
read — the state arrays declared ``track=True`` (:class:`sim.parts.Shows`): rungs, deaths,
members' trust and status, capability, affinity, arms-import shares, who holds each
territory, and any a custom rule declares — at the start (frame 0) and after every month.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..parts import registry


def tracked() -> tuple[str, ...]:
    """The state arrays a track keeps (each frame: the replicate's slice), as declared."""
    return tuple(sh.state for sh in registry().shows() if sh.track)


@dataclass
class Track:
    """One replicate's state at the start and after each simulated month.

    Attributes:
        replicate: The replicate followed (its index in the world).
        frames: ``frames[name]`` is a list of arrays, one per frame: frame 0 is the
            start, frame t the end of simulated month t.
    """

    replicate: int = 0
    frames: dict[str, list[np.ndarray]] = field(default_factory=lambda: {k: [] for k in tracked()})

    def attach(self, world: Any) -> Track:
        """Record the world's current state as the first frame, then every month."""
        self.observe(world)
        world.observers.append(self.observe)
        return self

    def observe(self, world: Any) -> None:
        r = self.replicate
        for k, frames in self.frames.items():
            frames.append(np.array(world.st[k][r], copy=True))

    def overwrite(self, world: Any) -> None:
        """Replace the latest frame with the world as it is now (a change made between
        months: an umpire's ruling)."""
        r = self.replicate
        for k, frames in self.frames.items():
            if frames:
                frames[-1] = np.array(world.st[k][r], copy=True)

    def __len__(self) -> int:
        return max((len(v) for v in self.frames.values()), default=0)

    def at(self, name: str, t: int = -1) -> np.ndarray:
        """The array ``name`` at frame ``t`` (default: the latest)."""
        return self.frames[name][t]

    def series(self, name: str) -> np.ndarray:
        """The array ``name`` over frames: shape (frames, ...)."""
        return np.stack(self.frames[name]) if self.frames[name] else np.zeros((0,))

    def to_data(self) -> dict[str, list]:
        return {k: [a.tolist() for a in v] for k, v in self.frames.items()}

    @classmethod
    def from_data(cls, data: dict[str, list], replicate: int = 0) -> Track:
        t = cls(replicate)
        for k in t.frames:  # the arrays declared tracked now (a saved game's others are left)
            t.frames[k] = [np.asarray(a) for a in data.get(k, [])]
        return t
