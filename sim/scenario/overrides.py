"""``--set PATH=VALUE`` overrides: parsing them and applying them to a scenario tree."""

from __future__ import annotations

from typing import Any

from .errors import InputError, Mark, Problem, suggest
from .yamlsafe import PDict, PList, load_yaml_text, mark_of


def parse_overrides(items: list[str] | dict[str, Any] | None) -> dict[str, Any]:
    """``["a.b=3", ...]`` or ``{"a.b": 3}`` -> ``{"a.b": 3}`` (values parsed as YAML)."""
    if not items:
        return {}
    if isinstance(items, dict):
        return dict(items)
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


def _known_paths(tree: Any, path: str) -> list[str]:
    """Paths to suggest for a mistyped ``--set PATH``: the file's, and the parameters' near it."""
    out = _all_paths(tree)
    try:
        from ..rules import rule_paths
        from .addressable import addressable

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
    tree: PDict, overrides: dict[str, Any], valid_new: Any = None
) -> tuple[PDict, list[Problem]]:
    """Apply ``{dotted.path: value}`` to the tree in place.

    A path must exist in the tree, or name a field the schema allows there
    (``valid_new(parts) -> bool``). A parameter written as ``{value, source}`` keeps
    its shape: its value is replaced and its source becomes the override.
    """
    problems: list[Problem] = []
    for path, value in overrides.items():
        mark = Mark("<options>", option=f"--set {path}")
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
        if isinstance(old, dict) and "value" in old and not (isinstance(value, dict) and "value" in value):
            new = PDict(mark=mark)
            new["value"] = _tag(value, mark)
            new["source"] = _tag({"assumption": f"set on the command line (--set {path})"}, mark)
            new.key_marks = {"value": mark, "source": mark}
            new.value_marks = {"value": mark, "source": mark}
        node[last] = new
        if isinstance(node, PDict):
            node.value_marks[last] = mark
            node.key_marks.setdefault(last, mark)
        elif isinstance(node, PList):
            node.value_marks[last] = mark
    return tree, problems


def mark_or(container: Any, key: Any, fallback: Mark) -> Mark:
    return mark_of(container, key) or fallback
