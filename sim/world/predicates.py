"""Evaluating parsed predicates against the world, vectorized over replicates."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ..parts import registry
from ..scenario import expr as X
from .compile import Plan

if TYPE_CHECKING:
    from .model import World

Fn = Callable[["World"], "np.ndarray | float | int | bool"]

_CMP = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul}


def compile_predicate(text: str, plan: Plan) -> Callable[[World], np.ndarray]:
    """A function returning a boolean array (R,) for a ``when:`` predicate."""
    fn = _compile(X.parse_predicate(text), plan)

    def run(w: World) -> np.ndarray:
        out = fn(w)
        if np.ndim(out) == 0:
            return np.full(w.n, bool(out))
        return np.asarray(out, dtype=bool)

    return run


def _compile(node: X.Node, plan: Plan) -> Fn:
    if isinstance(node, X.Num):
        v = node.value
        return lambda w: v
    if isinstance(node, X.BoolLit):
        b = node.value
        return lambda w: b
    if isinstance(node, X.MonthLit):
        m = node.index
        return lambda w: m
    if isinstance(node, X.MonthVar):
        return lambda w: w.month
    if isinstance(node, X.Name):
        idx = plan.index_of("state")[node.name]
        return lambda w: idx
    if isinstance(node, X.Neg):
        f = _compile(node.operand, plan)
        return lambda w: -f(w)
    if isinstance(node, X.Arith):
        lf, rf = _compile(node.left, plan), _compile(node.right, plan)
        if node.op == "/":
            def div(w: World):
                with np.errstate(divide="ignore", invalid="ignore"):
                    return np.true_divide(lf(w), rf(w))
            return div
        op = _ARITH[node.op]
        return lambda w: op(lf(w), rf(w))
    if isinstance(node, X.Compare):
        lf, rf = _compile(node.left, plan), _compile(node.right, plan)
        op = _CMP[node.op]
        return lambda w: op(lf(w), rf(w))
    if isinstance(node, X.Logic):
        lf, rf = _compile(node.left, plan), _compile(node.right, plan)
        if node.op == "and":
            return lambda w: np.logical_and(lf(w), rf(w))
        return lambda w: np.logical_or(lf(w), rf(w))
    if isinstance(node, X.Not):
        f = _compile(node.operand, plan)
        return lambda w: np.logical_not(f(w))
    if isinstance(node, X.Call):
        return _call(node, plan)
    raise TypeError(f"cannot evaluate {node!r}")  # pragma: no cover


def _call(node: X.Call, plan: Plan) -> Fn:
    """A function of the condition language, as its declaring part compiles it."""
    return registry().predicates[node.fn].compile(plan, [x.name for x in node.args])
