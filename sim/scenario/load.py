"""Reading a scenario: ``extends:`` chains and the deep merge (overrides: :mod:`.overrides`).

The result of this module is a *tree*: plain dicts and lists (:class:`PDict`,
:class:`PList`) that still know the file, line and column of every value, ready for
schema validation and reference checks.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..paths import scenarios_dir
from .errors import InputError, Mark, Problem, suggest
from .overrides import apply_overrides, parse_overrides
from .values import FAMILIES
from .yamlsafe import (
    PDict,
    PList,
    load_yaml_file,
    loop_message,
    mark_of,
    symlink_loop,
    tree_from_data,
)

MAX_EXTENDS_DEPTH = 8
"""Most bases above a scenario: it, its base, the base's base ... 8 ``extends`` deep."""

__all__ = ["MAX_EXTENDS_DEPTH", "apply_overrides", "find_base", "from_mapping", "merge", "parse_overrides", "read_tree"]


def read_tree(
    path: str | Path, _stack: tuple[Path, ...] = (), problems: list[Problem] | None = None
) -> PDict:
    """Load a scenario file and everything it ``extends``, merged (child wins).

    ``extends`` is a path relative to the file, or the bare name of a shipped scenario
    (``extends: karabakh``) when no file of that name is beside it. Problems found while
    merging (a child nulling an inherited state, ...) are appended to ``problems`` (the
    tree keeps the base's entry, so that every other problem can still be checked); without
    a list they are raised.
    """
    path = Path(path)
    data = load_yaml_file(path)
    if not isinstance(data, PDict):
        if isinstance(data, list):
            kind = "a list"
        elif data is None:
            kind = "empty (null)"
        else:
            kind = f"a single value ({data!r})"
        raise InputError(
            [
                Problem(
                    getattr(data, "mark", None) or _first_content(path),
                    "",
                    f"the top level must be a mapping (meta:, states:, ...), not {kind}",
                )
            ]
        )
    ext = data.pop("extends", None)
    if ext is None:
        return data
    where = data.key_marks.get("extends") or Mark(str(path), 1, 1)
    vmark = data.value_marks.get("extends") or where
    if not isinstance(ext, str) or not ext.strip():
        raise InputError(
            [
                Problem(
                    vmark,
                    "extends",
                    "extends must be the path of one base file, e.g. extends: base.yaml",
                )
            ]
        )
    chain = (*_stack, _real(path))
    base_path = find_base(ext, path.parent, vmark, chain)
    own = [] if problems is None else problems
    base = read_tree(base_path, chain, own)
    tree = merge(base, data, problems=own)
    if problems is None and own:
        raise InputError(own)
    return tree


def _real(path: Path) -> Path:
    """The path with symbolic links followed as far as they go (never raises on a loop)."""
    return Path(os.path.realpath(path))


def _is_bare_name(ext: str) -> bool:
    """``karabakh``: no folder, no suffix: may name a shipped scenario."""
    return "/" not in ext and "\\" not in ext and not Path(ext).suffix and not ext.startswith(".")


def find_base(
    ext: str, folder: Path, vmark: Mark, chain: tuple[Path, ...] = (), *, mapping: bool = False
) -> Path:
    """The file ``extends: EXT`` names, written in a file in ``folder``.

    A path relative to ``folder``; failing that, a bare name (``karabakh``) is the
    shipped scenario of that name, as on the command line. Raises :class:`InputError`
    for a missing file, a symbolic link loop, a cycle or a chain deeper than
    :data:`MAX_EXTENDS_DEPTH` bases. ``mapping``: ``extends`` comes from a scenario
    given as a mapping, whose bases are looked up in ``folder``.
    """
    beside = folder / ext
    try:
        base_path = _real(beside)
        found = base_path.is_file()
        loop = None if found else symlink_loop(beside)
    except (OSError, ValueError) as exc:  # a name too long for the system, a NUL in it
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputError(
            [Problem(vmark, "extends", f"base file '{_clip(ext)}' cannot be used: {reason}")]
        ) from None
    if loop is not None:
        raise InputError(
            [Problem(vmark, "extends", f"base file '{_clip(ext)}' {loop_message(loop)}")]
        )
    shipped = scenarios_dir()
    names = sorted(q.stem for q in shipped.glob("*.yaml")) if shipped.is_dir() else []
    if not found and _is_bare_name(ext) and ext in names:
        base_path, found = _real(shipped / f"{ext}.yaml"), True
    if base_path in chain:
        cycle = " -> ".join(p.name for p in (*chain, base_path))
        raise InputError([Problem(vmark, "extends", f"extends cycle: {cycle}; remove one link")])
    if len(chain) > MAX_EXTENDS_DEPTH:
        files = [p.name for p in (*chain, base_path)]
        shown = " -> ".join([*files[:2], "...", files[-1]])
        raise InputError(
            [
                Problem(
                    vmark,
                    "extends",
                    f"more than {MAX_EXTENDS_DEPTH} bases deep ({shown}); merge some of the bases into one",
                )
            ]
        )
    if found:
        return base_path
    looked = _clip(str(base_path), len(str(_real(folder))) + 70)
    beside_this = f"in {folder}" if mapping else "beside this one"
    relative = f"a mapping extends files in {folder}" if mapping else "the path is relative to this file"
    if _is_bare_name(ext):
        hint = suggest(ext, names)
        message = (
            f"'{_clip(ext)}' is neither a shipped scenario{hint} nor a file {beside_this} "
            f"(looked for {looked}); `sim list` shows the shipped scenarios"
        )
    elif Path(ext).name == ext and Path(ext).suffix in (".yaml", ".yml") and Path(ext).stem in names:
        stem = Path(ext).stem
        message = (
            f"base file '{_clip(ext)}' not found (looked for {looked}); {relative}, "
            f"and '{stem}' is a shipped scenario: to extend it, write extends: {stem}"
        )
    else:
        near = sorted(q.name for q in base_path.parent.glob("*.y*ml")) if base_path.parent.is_dir() else []
        own = chain[-1].name if chain else ""
        hint = suggest(base_path.name, [n for n in near if n != own])
        message = (
            f"base file '{_clip(ext)}' not found{hint} (looked for {looked}); {relative}"
        )
    raise InputError([Problem(vmark, "extends", message)])


def _clip(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def _first_content(path: Path) -> Mark:
    """The first line of a file that is not blank or a comment."""
    try:
        lines = path.read_text(encoding="utf-8").lstrip("\ufeff").splitlines()
    except (OSError, UnicodeDecodeError):
        lines = []
    for i, line in enumerate(lines):
        body = line.strip()
        if body and not body.startswith("#"):
            return Mark(str(path), i + 1, len(line) - len(line.lstrip()) + 1)
    return Mark(str(path), 1, 1)


def from_mapping(
    data: dict, file: str = "<mapping>", base_dir: Path | None = None, problems: list[Problem] | None = None
) -> PDict:
    """A scenario given as a Python mapping (no positions), with ``extends`` resolved.

    ``extends`` is looked up relative to ``base_dir`` (default: the shipped scenarios),
    or is the bare name of a shipped scenario. ``problems``: as for :func:`read_tree`.
    """
    tree = tree_from_data(data, file)
    if not isinstance(tree, PDict):
        kind = "a list" if isinstance(tree, list) else f"a single value ({tree!r})"
        raise InputError(
            [Problem(Mark(file), "", f"a scenario must be a mapping (meta:, states:, ...), not {kind}")]
        )
    ext = tree.pop("extends", None)
    if ext is None:
        return tree
    if base_dir is None:
        from ..paths import scenarios_dir

        base_dir = scenarios_dir()
    if not isinstance(ext, str) or not ext.strip():
        raise InputError(
            [Problem(Mark(file), "extends", "extends must be the path of one base file, e.g. extends: base.yaml")]
        )
    base_path = find_base(ext, Path(base_dir), Mark(file), mapping=True)
    own = [] if problems is None else problems
    merged = merge(read_tree(base_path, (), own), tree, problems=own)
    if problems is None and own:
        raise InputError(own)
    return merged


def merge(base: Any, child: Any, path: tuple = (), problems: list[Problem] | None = None) -> Any:
    """Deep-merge ``child`` over ``base``.

    Mappings merge key by key; ``events`` merge by event name; other lists and values
    are replaced. A parameter's ``value`` and ``source`` are replaced whole: a child
    that re-states a parameter re-states where it comes from, and a distribution is
    never mixed with another.

    ``null`` in the child is a value like any other (it means what it means in a single
    file), never a removal: a child nulling an inherited section or entry (a state, an
    alliance, ..., an outcome, a lever) is a problem, appended to ``problems``; the
    base's entry is kept so that the rest of the scenario can still be checked.
    """
    if path and path[-1] in ("value", "source"):
        return child
    if isinstance(base, dict) and isinstance(child, dict) and _is_distribution(child):
        return child
    if isinstance(base, dict) and isinstance(child, dict):
        out = PDict(mark=getattr(child, "mark", None) or getattr(base, "mark", None))
        for src in (base, child):
            for k in src:
                inherited = k in base and base[k] is not None
                if src is child and child[k] is None and inherited:
                    removal = _removal(base, child, (*path, k))
                    if removal is not None:
                        if problems is not None:
                            problems.append(removal)
                        continue  # keep the base's entry
                if src is child and inherited and child[k] is not None:
                    out[k] = merge(base[k], child[k], (*path, k), problems)
                else:
                    out[k] = src[k]
                if isinstance(src, PDict):
                    if k in src.key_marks:
                        out.key_marks[k] = src.key_marks[k]
                    if k in src.value_marks:
                        out.value_marks[k] = src.value_marks[k]
        return out
    if path == ("events",) and isinstance(base, list) and isinstance(child, list):
        return _merge_named(base, child, problems)
    return child


_ENTRIES = {
    "states": "state",
    "alliances": "alliance",
    "suppliers": "supplier",
    "territories": "territory",
    "flashpoints": "flashpoint",
    "outcomes": "outcome",
}


def _removal(base: Any, child: Any, path: tuple) -> Problem | None:
    """The problem with a child's null at ``path`` if it would remove an inherited
    section or entry; ``None`` where null is just a value (a parameter, an optional field)."""
    if len(path) == 1 and path[0] in (*_ENTRIES, "events", "levers"):
        what, it = f"the {path[0]}", "them"
    elif len(path) == 2 and path[0] in _ENTRIES:
        what, it = f"the {_ENTRIES[path[0]]} '{path[1]}'", "it"
    elif len(path) == 2 and path[0] == "levers":
        what, it = f"the levers of '{path[1]}'", "them"
    elif len(path) == 3 and path[0] == "levers":
        what, it = f"the lever '{path[2]}' of '{path[1]}'", "it"
    else:
        return None
    key = path[-1]
    bm = mark_of(base, key, prefer_key=True)
    at = f"{Path(bm.file).name}:{bm.line}" if bm is not None and bm.line else Path(bm.file).name if bm else "the base"
    return Problem(
        mark_of(child, key) or mark_of(child) or Mark("<input>"),
        ".".join(str(p) for p in path),
        f"a child file cannot remove {what} inherited from its base ({at}); leave {it} out here to keep {it}, "
        f"or copy the base without {it} instead of extending it",
    )


def _is_distribution(d: dict) -> bool:
    return any(k in FAMILIES for k in d)


def _merge_named(base: list, child: list, problems: list[Problem] | None = None) -> PList:
    out = PList(mark=getattr(child, "mark", None))
    index: dict[str, int] = {}
    merged: set[str] = set()
    for src in (base, child):
        for i, item in enumerate(src):
            m = src.value_marks[i] if isinstance(src, PList) and i < len(src.value_marks) else None
            name = item.get("name") if isinstance(item, dict) else None
            # A child event merges into the base event of the same name, once; a second
            # child event of that name is kept, so that the duplicate name is reported.
            if src is child and isinstance(name, str) and name in index and name not in merged:
                j = index[name]
                out[j] = merge(out[j], item, ("events", name), problems)
                out.value_marks[j] = m
                merged.add(name)
                continue
            if isinstance(name, str) and src is base:
                index.setdefault(name, len(out))
            elif isinstance(name, str):
                merged.add(name)
            out.append(item)
            out.value_marks.append(m)
    return out
