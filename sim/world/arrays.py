"""The arrays of a world (``world.par``, ``world.st``) as a namespace that copies whole; in a
module of its own, without Mesa, so that a saved game's codec can name it without loading the
world's model."""

from __future__ import annotations

import copy

import numpy as np


class Arrays:
    """A namespace of arrays (``world.par``, ``world.st``) that can be copied whole."""

    def __init__(self, **arrays: np.ndarray):
        self.__dict__.update(arrays)

    def copy(self) -> Arrays:
        return Arrays(**{k: (v.copy() if isinstance(v, np.ndarray) else copy.deepcopy(v)) for k, v in self.__dict__.items()})

    def names(self) -> list[str]:
        return list(self.__dict__)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.__dict__[name]

    def __setitem__(self, name: str, value: np.ndarray) -> None:
        self.__dict__[name] = value
