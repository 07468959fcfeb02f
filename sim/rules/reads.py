"""Which affinity pairs anything reads: a conservative static analysis of a plan.

Affinities are an S x S matrix per replicate, but the mechanisms read few of its
pairs: procurement reads buyers towards their suppliers' states and back, deterrence
reads every state towards the flashpoints' sides, trust follows members' affinity
towards their alliance's leader. A pair nobody reads changes no outcome, so the
alignment rule leaves it alone (no reversion, no noise): the cost of a month then grows
with buyers, sides and members, not with S².

Each stock mechanism declares the pairs it reads, in its own module, with
:func:`declare_affinity_reads` (``None``: it reads no affinity). Anything the analysis
cannot see through makes every pair count: a mechanism that declares nothing (one
written outside the package, say), custom condition-language functions or outcome
kinds, and conditions that reach affinities through ``value(...)``. Conditions and
``affinity`` outcomes name their pairs, which count.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..parts import custom_parts, is_stock, registry
from ..world.compile import Plan

Reader = Callable[[Plan], np.ndarray] | None

_READS: dict[tuple[str, str], Reader] = {}

_CALL = re.compile(r"\baffinity\s*\(")
_PAIR = re.compile(r"\baffinity\s*\(\s*([A-Za-z_][\w]*)\s*,\s*([A-Za-z_][\w]*)\s*\)")
_VALUE = re.compile(r"\bvalue\s*\([^)]*affinity")


def declare_affinity_reads(kind: str, model: str, reader: Reader) -> None:
    """Declare which affinity pairs model ``model`` of slot ``kind`` reads.

    ``reader(plan)`` returns an (S, S) bool mask (row state towards column state);
    ``None`` says the mechanism reads no affinity.
    """
    _READS[(kind, model)] = reader


def _strings(x: Any) -> Iterator[str]:
    if isinstance(x, str):
        yield x
    elif isinstance(x, dict):
        for k, v in x.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(x, list | tuple | set):
        for v in x:
            yield from _strings(v)
    elif hasattr(x, "__dict__") and not isinstance(x, type):  # a validated model, a Param
        yield from _strings(vars(x))


def affinity_reads(plan: Plan) -> np.ndarray:
    """(S, S) bool: the pairs some mechanism, condition or outcome of the plan reads
    (the diagonal is never read: a state's affinity towards itself is 0)."""
    key = "_affinity_reads"  # kept on the plan: every chunk builds its pipeline from it
    if key not in plan.__dict__:
        plan.__dict__[key] = _affinity_reads(plan)
    return plan.__dict__[key]


def _affinity_reads(plan: Plan) -> np.ndarray:
    S = plan.S
    full = np.ones((S, S), dtype=bool)
    np.fill_diagonal(full, False)
    custom = custom_parts()
    if custom.get("predicates") or custom.get("outcomes"):
        return full
    out = np.zeros((S, S), dtype=bool)
    for kind, rs in plan.rules.items():
        rd = registry().rules.get(kind, {}).get(rs.model)
        if (kind, rs.model) not in _READS or rd is None or not is_stock(rd.module):
            return full  # a mechanism that does not say what it reads may read anything
        reader = _READS[(kind, rs.model)]
        if reader is not None:
            out |= reader(plan)
    si = plan.index_of("state")
    for text in _strings(plan.scenario):
        if "affinity" not in text:
            continue
        if _VALUE.search(text):
            return full
        calls = len(_CALL.findall(text))
        pairs = _PAIR.findall(text)
        if len(pairs) != calls and any(ch in text for ch in "<>="):
            return full  # a condition whose affinity calls this analysis cannot read
        out_or(out, pairs, si)
    for o in plan.scenario.outcomes.values():
        if getattr(o, "kind", None) == "affinity":
            out[si[o.state], si[o.toward]] = True
    np.fill_diagonal(out, False)
    return out


def out_or(out: np.ndarray, pairs: list[tuple[str, str]], si: dict[str, int]) -> np.ndarray:
    """Mark the named pairs that are states (other names are not affinity pairs)."""
    for a, b in pairs:
        if a in si and b in si:
            out[si[a], si[b]] = True
    return out


_WRITES: dict[tuple[str, str], Callable[[Plan], np.ndarray]] = {}


def declare_affinity_writes(kind: str, model: str, writer: Callable[[Plan], np.ndarray]) -> None:
    """Declare that model ``model`` of slot ``kind`` changes affinities month by month, and
    which pairs: ``writer(plan)`` returns an (S, S) bool mask. A stock mechanism that
    declares nothing changes no affinity (the recorder checks it at the end of every
    chunk: :meth:`sim.outcomes.recorder.Recorder.result`)."""
    _WRITES[(kind, model)] = writer


def affinity_moves(plan: Plan) -> np.ndarray | None:
    """(S, S) bool: the pairs the plan's rules can change in a month (the recorder sums
    those each month and carries the others' sums forward: :attr:`sim.parts.StateVar.moves`);
    None (every pair may move) when a part of the run was declared outside the package
    (a custom rule, target, attribute or state could write any pair). Effects change
    pairs too: the world notes those (:attr:`sim.world.model.World.written`)."""
    custom = custom_parts()
    if any(custom.get(k) for k in ("rules", "targets", "attrs", "state", "slots")):
        return None
    out = np.zeros((plan.S, plan.S), dtype=bool)
    for kind, rs in plan.rules.items():
        writer = _WRITES.get((kind, rs.model))
        if writer is not None:
            out |= writer(plan)
    return out
