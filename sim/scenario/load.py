"""Reading a scenario: ``extends:`` chains, deep merge, and ``--set`` overrides.

The result of this module is a *tree*: plain dicts and lists (:class:`PDict`,
:class:`PList`) that still know the file, line and column of every value, ready for
schema validation and reference checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import InputError, Mark, Problem, suggest
from .yamlsafe import PDict, PList, load_yaml_file, load_yaml_text, mark_of

MAX_EXTENDS_DEPTH = 8


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


# ------------------------------------------------------------------------ overrides


def _python(v: Any) -> Any:
    """numpy scalars (from samplers such as SALib or EMA) as plain Python numbers."""
    import numpy as np

    if isinstance(v, np.generic) or (isinstance(v, np.ndarray) and v.ndim == 0):
        return v.item()
    if isinstance(v, np.ndarray):
        return [_python(x) for x in v.tolist()]
    if isinstance(v, list | tuple):
        return [_python(x) for x in v]
    if isinstance(v, dict):
        return {k: _python(x) for k, x in v.items()}
    return v


def parse_overrides(items: list[str] | dict[str, Any] | None) -> dict[str, Any]:
    """``["a.b=3", ...]`` or ``{"a.b": 3}`` -> ``{"a.b": 3}`` (values parsed as YAML)."""
    if not items:
        return {}
    if isinstance(items, dict):
        return {str(k): _python(v) for k, v in items.items()}
    out: dict[str, Any] = {}
    problems: list[Problem] = []
    for item in items:
        if "=" not in item:
            problems.append(
                Problem(
                    Mark("<options>", option=f"--set {item}"),
                    "",
                    "expected PATH=VALUE, e.g. --set flashpoints.lachin.level=3",
                )
            )
            continue
        key, _, raw = item.partition("=")
        key = key.strip()
        if not key:
            problems.append(
                Problem(
                    Mark("<options>", option=f"--set {item}"),
                    "",
                    "the path before '=' is empty; expected PATH=VALUE, "
                    "e.g. --set flashpoints.lachin.level=3",
                )
            )
            continue
        if not raw.strip():
            out[key] = None
            continue
        try:
            # the same bounded loader as files (no alias bombs, no deep nesting, dates
            # kept as written); text that is not YAML is taken as it is
            out[key] = _plain_value(load_yaml_text(raw, f"--set {key}"))
        except InputError as exc:
            msg = exc.problems[0].message
            if msg.startswith("invalid YAML") or msg == "file is empty":
                out[key] = raw
            else:
                problems.append(Problem(Mark("<options>", option=f"--set {key}"), "", msg))
    if problems:
        raise InputError(problems)
    return out


def _plain_value(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _plain_value(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_plain_value(v) for v in x]
    return x


def _all_paths(node: Any, prefix: str = "") -> list[str]:
    out: list[str] = []
    if isinstance(node, dict):
        for k, v in node.items():
            p = f"{prefix}.{k}" if prefix else str(k)
            out.append(p)
            out.extend(_all_paths(v, p))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            p = f"{prefix}.{i}"
            out.append(p)
            out.extend(_all_paths(v, p))
    return out


def _element(path: str) -> int | None:
    """``a.b.name[2]`` -> 2; None for a path without an element index."""
    last = path.rsplit(".", 1)[-1]
    if last.endswith("]") and "[" in last:
        idx = last[last.index("[") + 1 : -1]
        return int(idx) if idx.isdigit() else None
    return None


def _set_element(tree: PDict, path: str, i: int, value: Any, mark: Mark, valid_new: Any, default_of: Any) -> list[Problem]:
    """Set element ``i`` of the vector parameter at ``path`` (which ends in ``[i]``)."""
    base = path[: path.rindex("[")]
    parts = base.split(".")
    node: Any = tree
    for part in parts[:-1]:
        if isinstance(node, dict) and part not in node and valid_new is not None and valid_new(parts):
            node[part] = PDict(mark=mark)
        if not isinstance(node, dict) or part not in node:
            node = None
            break
        node = node[part]
    name = parts[-1]
    current = None
    if isinstance(node, dict):
        current = node.get(name)
        if current is None and default_of is not None:
            current = default_of(base)
    wrapped = isinstance(current, dict) and "value" in current
    vector = current.get("value") if wrapped else current
    if not isinstance(node, dict) or not isinstance(vector, list | tuple):
        hint = suggest(base, _known_paths(tree), cutoff=0.75).replace("(did you mean '", "(did you mean ").replace("'?)", "?)")
        return [Problem(mark, "", f"no such vector parameter '{base}'{hint}; an element is NAME[i] of a list parameter")]
    if not 0 <= i < len(vector):
        return [Problem(mark, "", f"{base} has {len(vector)} entries (0..{len(vector) - 1}); there is no [{i}]")]
    new_vec = PList([x if isinstance(vector, PList) else _tag(x, mark) for x in vector],
                    mark=getattr(vector, "mark", None) or mark)
    old_marks = list(getattr(vector, "value_marks", []))
    new_vec.value_marks = old_marks + [mark] * (len(vector) - len(old_marks))
    new_vec[i] = _tag(value, mark)
    new_vec.value_marks[i] = mark
    new = _with_source(new_vec, path, mark)  # an override is the user's assumption
    node[name] = new
    if isinstance(node, PDict):
        node.value_marks[name] = mark
        node.key_marks.setdefault(name, mark)
    return []


def _with_source(value: Any, path: str, mark: Mark) -> PDict:
    """``{value: VALUE, source: {assumption: set on the command line (--set PATH)}}``."""
    new = PDict(mark=mark)
    new["value"] = value
    where = path.replace("[", " element ").replace("]", "")  # brackets in notes cite fact ids
    new["source"] = _tag({"assumption": f"set on the command line (--set {where})"}, mark)
    new.key_marks = {"value": mark, "source": mark}
    new.value_marks = {"value": mark, "source": mark}
    return new


def _known_paths(tree: Any) -> list[str]:
    """Paths to suggest for a mistyped ``--set``: the file's, and every parameter's."""
    out = _all_paths(tree)
    try:
        from .references import addressable, rule_paths

        rules = tree.get("rules") if isinstance(tree, dict) else None
        out += [p for p in addressable(tree, rule_paths(rules)) if p not in set(out)]
    except Exception:  # noqa: BLE001 - suggestions only; never hide the real problem
        pass
    return out


def _tag(value: Any, mark: Mark) -> Any:
    """Give an override value (and everything inside it) the option's mark."""
    if isinstance(value, dict):
        d = PDict(mark=mark)
        for k, v in value.items():
            d[str(k)] = _tag(v, mark)
            d.key_marks[str(k)] = mark
            d.value_marks[str(k)] = mark
        return d
    if isinstance(value, list):
        lst = PList([_tag(v, mark) for v in value], mark=mark)
        lst.value_marks = [mark] * len(value)
        return lst
    return value


def apply_overrides(
    tree: PDict, overrides: dict[str, Any], valid_new: Any = None, default_of: Any = None
) -> tuple[PDict, list[Problem]]:
    """Apply ``{dotted.path: value}`` to the tree in place.

    A path must exist in the tree, or name a field the schema allows there
    (``valid_new(parts) -> bool``). A parameter written as ``{value, source}`` keeps
    its shape: its value is replaced and its source becomes the override. A path may
    end in an element of a vector parameter, ``rules.escalation.base_up[2]``: the rest
    of the vector is kept (``default_of(path)`` gives the vector when the file does not
    write it).
    """
    problems: list[Problem] = []
    for path, value in overrides.items():
        mark = Mark("<options>", option=f"--set {path}")
        element = _element(path)
        if element is not None:
            problems += _set_element(tree, path, element, value, mark, valid_new, default_of)
            continue
        parts = path.split(".") if path else [""]
        creatable = valid_new is not None and valid_new(parts)
        node: Any = tree
        ok = True
        for part in parts[:-1]:
            key: Any = part
            if isinstance(node, list):
                key = int(part) if part.isdigit() else None
                if key is None or key >= len(node):
                    ok = False
                    break
            elif isinstance(node, dict) and part not in node and creatable:
                node[part] = PDict(mark=mark)  # a section the schema allows, absent in the file
            elif not isinstance(node, dict) or part not in node:
                ok = False
                break
            node = node[key]
        last: Any = parts[-1]
        if ok:
            if isinstance(node, list):
                ok = last.isdigit() and int(last) < len(node)
                last = int(last) if ok else last
            elif isinstance(node, dict):
                ok = last in node or creatable
            else:
                ok = False
        if not ok:
            hint = suggest(path, _known_paths(tree), cutoff=0.75)
            hint = hint.replace("(did you mean '", "(did you mean ").replace("'?)", "?)")
            if not hint:
                hint = "; `sim sources SCENARIO` lists the parameter paths"
            problems.append(Problem(mark, "", f"no such path{hint}"))
            continue
        old = node[last] if (isinstance(node, list) or last in node) else None
        new = _tag(value, mark)
        rule_param = parts[0] == "rules" and len(parts) == 3 and parts[-1] != "model"
        if not (isinstance(value, dict) and "value" in value) and (
            (isinstance(old, dict) and "value" in old) or (old is None and rule_param)
        ):
            new = _with_source(new, path, mark)
        node[last] = new
        if isinstance(node, PDict):
            node.value_marks[last] = mark
            node.key_marks.setdefault(last, mark)
        elif isinstance(node, PList):
            node.value_marks[last] = mark
    return tree, problems


def mark_or(container: Any, key: Any, fallback: Mark) -> Mark:
    return mark_of(container, key) or fallback
