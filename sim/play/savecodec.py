"""How a saved game stores a world's state in JSON: arrays exactly, as their bytes in base64.

:func:`encode` turns a snapshot (arrays, :class:`~sim.world.model.Arrays`, plain data) into
JSON data and :func:`decode` back, bit for bit; data it did not write is a
:class:`DecodeError` naming where. Written by :mod:`sim.play.savefile`, checked on reading by
:mod:`sim.play.savecheck`.
"""

from __future__ import annotations

import base64
import binascii
import math
from typing import Any

import numpy as np

from ..world.arrays import Arrays

FORMAT = "sim-game/2"
"""The saved-game format: 2 since random numbers are counter-based (a stream's state is
its month and calls, :meth:`sim.seeding.Stream.state`), as a game of format 1 cannot continue
as it would have."""


def encode(x: Any) -> Any:
    """Plain JSON data from a snapshot or game state (arrays exactly, as bytes)."""
    if isinstance(x, np.ndarray):
        a = np.ascontiguousarray(x)
        return {"__nd__": a.dtype.str, "shape": list(a.shape), "b64": base64.b64encode(a.tobytes()).decode()}
    if isinstance(x, Arrays):
        return {"__arrays__": {k: encode(v) for k, v in x.__dict__.items()}}
    if isinstance(x, dict):
        return {str(k): encode(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [encode(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    return x


class DecodeError(ValueError):
    """Data that :func:`decode` cannot turn back into arrays: ``path`` says where (``st.level``)."""

    def __init__(self, path: str, message: str):
        self.path, self.message = path, message
        super().__init__(f"{path}: {message}" if path else message)


def decode(x: Any, _path: str = "") -> Any:
    """The inverse of :func:`encode`; :class:`DecodeError` (naming where) for data it did not write."""
    if isinstance(x, dict):
        if "__nd__" in x:
            return _array(x, _path)
        if "__arrays__" in x:
            inner = x["__arrays__"]
            if not isinstance(inner, dict):
                raise DecodeError(_path, "expected a mapping of array names to arrays")
            return Arrays(**{str(k): decode(v, _join(_path, k)) for k, v in inner.items()})
        return {k: decode(v, _join(_path, k)) for k, v in x.items()}
    if isinstance(x, list):
        return [decode(v, f"{_path}[{i}]") for i, v in enumerate(x)]
    return x


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _array(x: dict[str, Any], path: str) -> np.ndarray:
    """One array as :func:`encode` wrote it: dtype, shape and its bytes in base64."""
    try:
        dtype = np.dtype(x["__nd__"])
    except (TypeError, ValueError, KeyError):
        raise DecodeError(path, f"not an array as sim saves it: unknown element type {x.get('__nd__')!r}") from None
    shape = x.get("shape")
    if not isinstance(shape, list) or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise DecodeError(path, f"not an array as sim saves it: its shape must be a list of whole numbers (got {shape!r})")
    try:
        raw = base64.b64decode(x.get("b64"), validate=True)
    except (TypeError, ValueError, binascii.Error):
        raise DecodeError(path, "its bytes are garbled (not base64)") from None
    size = math.prod(shape)  # Python integers: a shape edited to huge numbers cannot overflow
    if dtype.hasobject or dtype.itemsize == 0 or len(raw) != dtype.itemsize * size:
        raise DecodeError(path, f"{len(raw)} bytes do not make an array of shape {tuple(shape)} of {dtype} "
                                "(the file was cut or edited)")
    try:
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    except ValueError:  # no elements, but a side too long for numpy (a shape edited to [0, 10**30])
        raise DecodeError(path, f"not an array as sim saves it: numpy cannot make an array of shape {tuple(shape)} "
                                "(the file was edited)") from None
