"""When most problems of a scenario have one cause, say the cause first.

A file that lost its ``extends:`` line (``karabakh.yaml`` without ``extends: base.yaml``)
gets a problem for every actor, alliance, supplier and path its base declared: 36 lines
of consequences, none naming the line that is missing. :func:`missing_extends` finds
that cause: the file extends nothing, yet the names its problems quote are declared by a
shipped scenario; merging the file over that scenario (as ``extends:`` would) and
checking it again shows which problems it explains. When it explains most of them, the
:class:`~.errors.InputError` gets a first line saying so, and folds those problems
(``sim --verbose`` lists them all)::

    x.yaml: 36 of 36 problems name things that base.yaml declares: is `extends: base.yaml`
    missing? (sim --verbose lists them)

Every shipped file is a candidate (a base or a scenario), so a copy of any shipped
scenario that lost its line is recognised; the one explaining the most problems wins
(a base before a scenario when they tie).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..paths import scenarios_dir
from .errors import InputError, Mark, Problem
from .load import read_tree

SECTIONS = ("states", "alliances", "suppliers", "territories", "flashpoints", "outcomes", "levers", "events")
"""Sections whose entries are names other parts of a scenario refer to."""
MAX_TRIES = 3
"""Shipped files tried (those declaring most of the names the problems quote)."""


def quoted(problems: list[Problem]) -> set[str]:
    """The names the problems' messages quote (``unknown state 'russia'``), and the parts of
    quoted paths (``no such path 'alliances.csto.trust.armenia'``)."""
    out: set[str] = set()
    for p in problems:
        for name in re.findall(r"'([^'\s]+)'", p.message):
            out.add(name)
            out.update(name.split("."))
    return out


def declared(tree: Any) -> set[str]:
    """The entries a scenario tree declares in its sections."""
    out: set[str] = set()
    for section in SECTIONS:
        entries = tree.get(section) if isinstance(tree, dict) else None
        if isinstance(entries, dict):
            out.update(str(k) for k in entries)
        elif isinstance(entries, list):
            out.update(str(e.get("name")) for e in entries if isinstance(e, dict) and e.get("name"))
    return out


def missing_extends(exc: InputError, own: Any, tree: Any, file: str, here: Path | None,
                    retry: Callable[[Path], list[Problem]]) -> InputError | None:
    """``exc`` with its cause said first, if most of its problems come from a missing ``extends:``.

    Args:
        exc: The problems of the scenario as it is.
        own: The file's own top level as written (None if it cannot be read again).
        tree: The scenario as read (for the names it declares itself).
        file: The file named in the first line.
        here: The folder of the file (for how to write ``extends:``), None for a mapping.
        retry: The problems of the scenario merged over a base file (``[]`` if it loads).
    """
    problems = exc.problems
    if len(problems) < 2 or not isinstance(own, dict) or "extends" in own:
        return None
    names = quoted(problems) - declared(tree)  # the names it uses but does not declare
    shipped = sorted(scenarios_dir().glob("*.yaml"))
    scored = []
    for cand in shipped:
        if here is not None and (here / Path(file).name).resolve() == cand.resolve():
            continue
        try:
            base_tree = read_tree(cand)
        except InputError:
            continue
        hits = len(names & declared(base_tree))
        if hits >= 2:
            base = not isinstance(base_tree.get("meta"), dict)
            scored.append((-hits, not base, cand.name, cand))
    best: tuple[int, bool, Path, set] | None = None
    key = lambda p: (p.mark, p.path, p.message)  # noqa: E731
    keys = {key(p) for p in problems}
    for _, scenario_file, _, cand in sorted(scored)[:MAX_TRIES]:
        after = {key(p) for p in retry(cand)}
        explained = len(keys - after)
        if best is None or (explained, not scenario_file) > (best[0], not best[1]):
            best = (explained, scenario_file, cand, after)
    if best is None or best[0] < 2 or best[0] * 2 <= len(problems):
        return None
    k, n, cand, after = best[0], len(problems), best[2], best[3]
    beside = here is not None and (here / cand.name).resolve() == cand.resolve()
    ext = cand.name if beside else cand.stem
    if k == n:
        rest = "sim --verbose lists them"
    else:
        rest = f"the other {'one follows' if n - k == 1 else f'{n - k} follow'}; sim --verbose lists all {n}"
    cause = Problem(Mark(file), "", f"{k} of {n} problems name things that {cand.name} declares: is "
                                    f"`extends: {ext}` missing? ({rest})")
    return InputError(problems, cause=cause, explained=[p for p in problems if key(p) not in after])
