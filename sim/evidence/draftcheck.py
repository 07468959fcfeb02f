"""``sim seeds check``: is a draft (or any) fact card ready for ``seeds/``?

A draft from :mod:`sim.evidence.draft` marks what a person must still do: values that
start with ``CONFIRM`` and ``confirm:`` blocks. :func:`check_card_file` reports each
of them where it is written (``file:line:col: path: ...``), together with everything
else that would stop the file loading as a fact card — the very checks
:func:`~sim.evidence.cards.load_cards` makes (:func:`~sim.evidence.cards.check_card`,
then :func:`~sim.evidence.cards.clashes` with the cards of ``seeds``). A file that passes
is exactly a valid fact card.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..scenario.errors import InputError, Mark, Problem
from ..scenario.yamlsafe import PDict, load_yaml_file, mark_of
from .cards import FactCard, check_card, clashes, load_cards
from .draft import CONFIRM


def _walk(node: Any, path: str, out: list[tuple[str, Any, Any]]) -> None:
    """(dotted path, container, key) of every value below ``node``."""
    if isinstance(node, dict):
        for k, v in node.items():
            p = f"{path}.{k}" if path else str(k)
            out.append((p, node, k))
            _walk(v, p, out)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            p = f"{path}[{i}]"
            out.append((p, node, i))
            _walk(v, p, out)


def to_confirm(raw: Any, file: str) -> list[Problem]:
    """One problem per value still marked ``CONFIRM`` and per ``confirm:`` block."""
    found: list[tuple[str, Any, Any]] = []
    _walk(raw, "", found)
    problems = []
    for path, container, key in found:
        value = container[key]
        if key == "confirm" and isinstance(container, PDict) and (path == "confirm" or path.endswith("].confirm")):
            where = mark_of(container, key, prefer_key=True) or Mark(file)
            what = ("the card's working notes; delete this block when the card is done"
                    if path == "confirm" else
                    "the evidence for this fact; check the fact against it, then delete this block")
            problems.append(Problem(where, path, f"to confirm: {what}"))
        elif isinstance(value, str) and value.lstrip().startswith(CONFIRM):
            hint = value.lstrip()[len(CONFIRM):].lstrip(" :")
            where = mark_of(container, key) or Mark(file)
            problems.append(Problem(where, path, f"to confirm: {hint} (replace the whole value)"))
    return problems


def _is_marker(p: Problem, marks: set[Mark], paths: set[str]) -> bool:
    """Is a schema problem only the consequence of a marker already reported?"""
    return p.mark in marks or p.path in paths or p.path.endswith(".confirm") or p.path == "confirm"


def check_card_file(path: str | Path, seeds: str | Path | None = None) -> FactCard:
    """Check a draft or fact card; return the card, or raise :class:`InputError` listing
    every field still to confirm and every other problem.

    Args:
        path: the YAML file.
        seeds: the fact cards its fact ids must not clash with (default: the shipped
            ``seeds/``); a card already in that folder may keep its own ids.
    """
    path = Path(path)
    raw = load_yaml_file(path)
    problems = to_confirm(raw, str(path))
    marks = {p.mark for p in problems}
    paths = {p.path for p in problems}
    base = load_cards(seeds)  # first: a --seeds that is not a folder is the one problem to fix
    card, found = check_card(raw, path)
    problems += [p for p in found if not _is_marker(p, marks, paths)]
    if card is not None:
        problems += clashes(card, raw, path, base)
    if problems:
        raise InputError(problems)
    assert card is not None
    return card
