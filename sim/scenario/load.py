"""Reading a scenario: ``extends:`` chains and the deep merge (overrides: :mod:`.overrides`).

The result of this module is a *tree*: plain dicts and lists (:class:`PDict`,
:class:`PList`) that still know the file, line and column of every value, ready for
schema validation and reference checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import InputError, Mark, Problem, suggest
from .overrides import apply_overrides, parse_overrides
from .yamlsafe import PDict, PList, load_yaml_file

MAX_EXTENDS_DEPTH = 8

__all__ = ["MAX_EXTENDS_DEPTH", "apply_overrides", "from_mapping", "merge", "parse_overrides", "read_tree"]


def read_tree(path: str | Path, _stack: tuple[Path, ...] = ()) -> PDict:
    """Load a scenario file and everything it ``extends``, merged (child wins)."""
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
    try:
        base_path = (path.parent / ext).resolve()
        found = base_path.is_file()
    except (OSError, ValueError) as exc:  # a name too long for the system, a NUL in it
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputError(
            [Problem(vmark, "extends", f"base file '{_clip(ext)}' cannot be used: {reason}")]
        ) from None
    chain = (*_stack, path.resolve())
    if base_path in chain:
        cycle = " -> ".join(p.name for p in (*chain, base_path))
        raise InputError([Problem(vmark, "extends", f"extends cycle: {cycle}; remove one link")])
    if len(chain) > MAX_EXTENDS_DEPTH:
        raise InputError(
            [Problem(vmark, "extends", f"extends chain is deeper than {MAX_EXTENDS_DEPTH} files")]
        )
    if not found:
        near = sorted(p.name for p in base_path.parent.glob("*.y*ml")) if base_path.parent.is_dir() else []
        hint = suggest(base_path.name, [n for n in near if n != path.name])
        raise InputError(
            [
                Problem(
                    vmark,
                    "extends",
                    f"base file '{_clip(ext)}' not found{hint} (looked for {_clip(str(base_path), len(str(path.parent.resolve())) + 70)}); "
                    "the path is relative to this file",
                )
            ]
        )
    base = read_tree(base_path, chain)
    return merge(base, data)


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


def from_mapping(data: dict, file: str = "<mapping>", base_dir: Path | None = None) -> PDict:
    """A scenario given as a Python mapping (no positions), with ``extends`` resolved.

    ``extends`` is looked up relative to ``base_dir`` (default: the shipped scenarios).
    """
    from .yamlsafe import tree_from_data

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
    base_path = Path(base_dir) / ext
    try:
        found = base_path.is_file()
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputError(
            [Problem(Mark(file), "extends", f"base file '{_clip(ext)}' cannot be used: {reason}")]
        ) from None
    if not found:
        near = sorted(p.name for p in Path(base_dir).glob("*.y*ml")) if Path(base_dir).is_dir() else []
        raise InputError(
            [
                Problem(
                    Mark(file),
                    "extends",
                    f"base file '{_clip(ext)}' not found{suggest(base_path.name, near)} (looked for "
                    f"{base_path}); a mapping extends files in {base_dir}",
                )
            ]
        )
    return merge(read_tree(base_path), tree)


def merge(base: Any, child: Any, path: tuple = ()) -> Any:
    """Deep-merge ``child`` over ``base``.

    Mappings merge key by key (``key: null`` in the child deletes the base key);
    ``events`` merge by event name; other lists and values are replaced. A parameter's
    ``value`` and ``source`` are replaced whole: a child that re-states a parameter
    re-states where it comes from, and a distribution is never mixed with another.
    """
    if path and path[-1] in ("value", "source"):
        return child
    if isinstance(base, dict) and isinstance(child, dict) and _is_distribution(child):
        return child
    if isinstance(base, dict) and isinstance(child, dict):
        out = PDict(mark=getattr(child, "mark", None) or getattr(base, "mark", None))
        for src in (base, child):
            for k in src:
                if src is child and child[k] is None:
                    out.pop(k, None)
                    continue
                if src is child and k in base and base[k] is not None:
                    out[k] = merge(base[k], child[k], (*path, k))
                else:
                    out[k] = src[k]
                if isinstance(src, PDict):
                    if k in src.key_marks:
                        out.key_marks[k] = src.key_marks[k]
                    if k in src.value_marks:
                        out.value_marks[k] = src.value_marks[k]
        return out
    if path == ("events",) and isinstance(base, list) and isinstance(child, list):
        return _merge_named(base, child)
    return child


def _is_distribution(d: dict) -> bool:
    from .values import FAMILIES

    return any(k in FAMILIES for k in d)


def _merge_named(base: list, child: list) -> PList:
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
                out[j] = merge(out[j], item)
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
