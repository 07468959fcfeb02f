"""Applying effects (``set`` / ``add`` / ``multiply`` / ``remove``) to masked replicates."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..scenario.schema import Effect
from .compile import ACTIVE, EXITED, FROZEN, Address, Plan

if TYPE_CHECKING:
    from .model import World

Op = Callable[["World", np.ndarray], None]


def compile_effect(effect: Effect, plan: Plan) -> tuple[list[Op], list[str]]:
    """The operations of an effect, and the names of the events it triggers."""
    ops: list[Op] = []
    for op in ("set", "add", "multiply", "remove"):
        for path, value in getattr(effect, op).items():
            ops.append(_op(op, plan.addresses[path], value, plan))
    return ops, list(effect.event)


def _names(value: Any, plan: Plan) -> np.ndarray:
    si = plan.index_of("state")
    vals = value if isinstance(value, list) else [value]
    return np.array([si[v] for v in vals], dtype=np.intp)


def _op(op: str, ad: Address, value: Any, plan: Plan) -> Op:
    if ad.kind in ("num", "int"):
        lo, hi = ad.bounds.lo, ad.bounds.hi
        integer = ad.kind == "int"
        is_level = ad.space == "st" and ad.array == "level"
        v = float(value)

        def apply(w: World, mask: np.ndarray) -> None:
            arr = getattr(w, ad.space)[ad.array]
            key = (mask, *ad.index)
            cur = arr[key].astype(float)
            new = v if op == "set" else cur + v if op == "add" else cur * v
            new = np.clip(new, lo, hi)
            if integer:
                new = np.rint(new)
            if is_level:
                f = ad.index[0]
                old = w.st.level[:, f].copy()
                arr[key] = new
                lv = w.st.level[:, f]
                w.st.settled[mask & (lv > 0), f] = False
                w.st.war_months[mask & (lv == 5) & (old != 5), f] = 0
            else:
                arr[key] = new

        return apply
    if ad.kind == "name":
        idx = int(_names(value, plan)[0])

        def set_name(w: World, mask: np.ndarray) -> None:
            getattr(w, ad.space)[ad.array][(mask, *ad.index)] = idx

        return set_name
    # lists of names
    names = _names(value, plan)
    if ad.array == "status":
        j = ad.index[0]
        frozen_list = ad.path.endswith(".frozen")

        def membership(w: World, mask: np.ndarray) -> None:
            st = w.st.status[:, :, j]
            rows = mask[:, None]
            listed = np.zeros(plan.S, dtype=bool)
            listed[names] = True
            if frozen_list:
                member = (st == ACTIVE) | (st == FROZEN)
                if op in ("add", "set"):
                    st[rows & member & listed[None]] = FROZEN
                if op == "remove":
                    st[rows & (st == FROZEN) & listed[None]] = ACTIVE
                if op == "set":
                    st[rows & (st == FROZEN) & ~listed[None]] = ACTIVE
            else:
                if op in ("add", "set"):
                    st[rows & listed[None] & (st != FROZEN)] = ACTIVE
                if op == "remove":
                    st[rows & listed[None] & ((st == ACTIVE) | (st == FROZEN))] = EXITED
                if op == "set":
                    st[rows & ~listed[None] & ((st == ACTIVE) | (st == FROZEN))] = EXITED

        return membership
    j = ad.index[0]

    def listing(w: World, mask: np.ndarray) -> None:
        arr = w.st[ad.array]  # (R, X, S) boolean
        if op == "set":
            arr[mask, j, :] = False
        rows = np.flatnonzero(mask)
        arr[np.ix_(rows, [j], names)] = op != "remove"

    return listing
