"""Applying effects (``set`` / ``add`` / ``multiply`` / ``remove``) to masked replicates.

Numbers are changed where their :class:`~sim.world.compile.Address` says (a parameter
or a state array), clipped to their bounds, and the declaring part is told
(``on_change``); an element of a state array an effect writes is noted in
:attr:`~sim.world.model.World.written`, and a change of parameters makes the world forget
what it keeps of them (:meth:`~sim.world.model.World.parameters_changed`). Lists and names
are changed by the operations their declared :class:`~sim.parts.Target` builds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..parts import is_stock
from .compile import Address, Plan

if TYPE_CHECKING:
    from .model import World

Op = Callable[["World", np.ndarray], None]


def compile_effect(effect: Any, plan: Plan) -> tuple[list[Op], list[str]]:
    """The operations of an effect, and the names of the events it triggers."""
    ops: list[Op] = []
    for op in ("set", "add", "multiply", "remove"):
        for path, value in getattr(effect, op).items():
            ops.append(_op(op, plan.addresses[path], value, plan))
    return ops, list(effect.event)


def _told(w: World) -> None:
    """Tell the world that its parameters may have changed (what :meth:`~sim.world.model.World.rp`
    keeps is made afresh), whoever applies the effect: the world
    (:meth:`~sim.world.model.World.apply_effect`), the events or the policy rule."""
    changed = getattr(w, "parameters_changed", None)
    if changed is not None:
        changed()


def _telling(op: Op) -> Op:
    """A target's operation, then :func:`_told`: for a target declared outside the package,
    which may keep its list among the parameters (the stock targets keep theirs in state)."""

    def apply(w: World, mask: np.ndarray) -> None:
        op(w, mask)
        _told(w)

    return apply


def _names(value: Any, plan: Plan) -> np.ndarray:
    si = plan.index_of("state")
    vals = value if isinstance(value, list) else [value]
    return np.array([si[v] for v in vals], dtype=np.intp)


def _op(op: str, ad: Address, value: Any, plan: Plan) -> Op:
    if ad.kind in ("num", "int"):
        lo, hi = ad.bounds.lo, ad.bounds.hi
        integer = ad.kind == "int"
        on_change = ad.on_change
        v = float(value)

        def apply(w: World, mask: np.ndarray) -> None:
            if ad.space == "st":  # the recorder re-sums it from now on (sim.parts.StateVar.moves)
                w.written.setdefault(ad.array, set()).add(ad.index)
            arr = getattr(w, ad.space)[ad.array]
            key = (mask, *ad.index)
            cur = arr[key].astype(float)
            new = v if op == "set" else cur + v if op == "add" else cur * v
            new = np.clip(new, lo, hi)
            if integer:
                new = np.rint(new)
            if on_change is not None:
                old = arr[(slice(None), *ad.index)].copy()
                arr[key] = new
                if ad.space == "par":
                    _told(w)
                on_change(w, mask, ad.index, old)
            else:
                arr[key] = new
                if ad.space == "par":
                    _told(w)
            if ad.space == "st" and getattr(w, "latest", None) and ad.array in w.latest:
                _copy_written(w, ad.array, arr, mask, ad.index)

        return apply
    assert ad.target is not None
    compiled = ad.target.compile(op, plan, ad.index[0], _names(value, plan))
    return compiled if is_stock(ad.target.module) else _telling(compiled)


def _copy_written(w: World, name: str, arr: np.ndarray, mask: np.ndarray, index: tuple[int, ...]) -> None:
    """An effect wrote element ``index`` of state ``name`` in the replicates ``mask``: where a
    rule keeps a copy of that element (:attr:`~sim.world.model.World.latest`), write it there
    too (the same float type: the same bits); a copy of another array is dropped."""
    held, where, values, _ = w.latest[name]
    if held is not arr:
        del w.latest[name]
        return
    flat = np.ravel_multi_index(index, arr.shape[1:])
    p = int(np.searchsorted(where, flat))
    if p < where.size and where[p] == flat:  # where: increasing
        values[mask, p] = arr[(mask, *index)]


def list_target(array: str) -> Callable[..., Op]:
    """The target of a list of names kept as a boolean state array (R, X, S): ``set``
    makes exactly these listed, ``add`` lists them, ``remove`` unlists them."""

    def compile(op: str, plan: Plan, j: int, names: np.ndarray) -> Op:
        def listing(w: World, mask: np.ndarray) -> None:
            arr = w.st[array]  # (R, X, S) boolean
            if op == "set":
                arr[mask, j, :] = False
            rows = np.flatnonzero(mask)
            arr[np.ix_(rows, [j], names)] = op != "remove"

        return listing

    return compile
