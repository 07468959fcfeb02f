"""``--set PATH=VALUE`` overrides: parsing them and applying them to a scenario tree."""

from __future__ import annotations

from typing import Any

from .errors import InputError, Mark, Problem, suggest
from .yamlsafe import PDict, PList, load_yaml_text


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
        hint = suggest(base, _known_paths(tree, base), cutoff=0.75).replace("(did you mean '", "(did you mean ").replace("'?)", "?)")
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


def _known_paths(tree: Any, path: str) -> list[str]:
    """Paths to suggest for a mistyped ``--set PATH``: the file's, and the parameters' near it."""
    out = _all_paths(tree)
    try:
        from .addressable import addressable
        from .references import rule_paths

        rules = tree.get("rules") if isinstance(tree, dict) else None
        written = set(out)
        out += [p for p in addressable(tree, rule_paths(rules)).candidates(path) if p not in written]
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
            hint = suggest(path, _known_paths(tree, path), cutoff=0.75)
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

