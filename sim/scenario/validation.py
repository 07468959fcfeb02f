"""Turn pydantic validation errors into positioned, readable problems."""

from __future__ import annotations

import types
import typing
from typing import Any, TypeVar

import pydantic
from pydantic import BaseModel

from .errors import PLUGIN_HINT, InputError, Mark, Problem, known_hint, suggest
from .values import Bounds
from .yamlsafe import PDict, locate

M = TypeVar("M", bound=BaseModel)


def dotted(loc: tuple) -> str:
    """``('events', 2, 'at')`` -> ``events[2].at``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _is_tag(node: dict, part: Any) -> bool:
    """Is ``part`` a pydantic location step that is not in the data?

    Discriminated unions add the tag (``'escalation'``), validators add their name
    (``'function-after[...]'``).
    """
    if not isinstance(part, str):
        return False
    return part == node.get("kind") or (part.endswith("]") and "[" in part)


def _data_loc(root: Any, loc: tuple) -> tuple:
    """Drop parts of a pydantic location that are not in the data (union tags)."""
    out: list = []
    node = root
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, dict):
            if part in node:
                out.append(part)
                node = node[part]
                continue
            if last and not _is_tag(node, part):
                out.append(part)
            continue  # a tag such as a discriminator value or 'function-plain[...]'
        if isinstance(node, list) and isinstance(part, int):
            out.append(part)
            node = node[part] if 0 <= part < len(node) else None
            continue
        if last:
            out.append(part)
    return tuple(out)


def _strip_optional(tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return _strip_optional(args[0])
    if origin is typing.Annotated:
        return _strip_optional(typing.get_args(tp)[0])
    return tp


def _union_members(tp: Any) -> list[type[BaseModel]]:
    """The models of a (discriminated) union type, or ``[]``."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return [a for a in typing.get_args(tp) if isinstance(a, type) and issubclass(a, BaseModel)]
    return []


def _tags(members: list[type[BaseModel]], field: str = "kind") -> list[str]:
    """The literal values of the discriminator ``field`` across union members."""
    out: list[str] = []
    for m in members:
        f = m.model_fields.get(field)
        if f is not None and typing.get_origin(f.annotation) is typing.Literal:
            out.extend(str(a) for a in typing.get_args(f.annotation))
    return out


def _pick(members: list[type[BaseModel]], data: Any) -> type[BaseModel] | None:
    """The union member that ``data['kind']`` selects."""
    kind = data.get("kind") if isinstance(data, dict) else None
    for m in members:
        if kind in _tags([m]):
            return m
    return None


def type_at(model: type[BaseModel], loc: tuple, data: Any = None) -> Any:
    """The declared type at ``loc`` (a data location) inside ``model``, or ``None``.

    With ``data`` (the validated input), a discriminated union is resolved to the
    member its ``kind`` selects.
    """
    tp: Any = model
    node = data
    for part in loc:
        tp = _strip_optional(tp)
        members = _union_members(tp)
        if members:
            tp = _pick(members, node)
            if tp is None:
                return None
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            f = tp.model_fields.get(part)
            if f is None:
                return None
            tp = f.annotation
        else:
            origin = typing.get_origin(tp)
            if origin in (dict, typing.Dict):  # noqa: UP006
                tp = typing.get_args(tp)[1]
            elif origin in (list, tuple, typing.List):  # noqa: UP006
                tp = typing.get_args(tp)[0]
            else:
                return None
        try:
            node = node[part] if node is not None else None
        except (KeyError, IndexError, TypeError):
            node = None
    tp = _strip_optional(tp)
    members = _union_members(tp)
    if members:
        return _pick(members, node) or tp
    return tp


def bounds_at(model: type[BaseModel], loc: tuple) -> Bounds | None:
    """The :class:`~.values.Bounds` the parameter at ``loc`` inside ``model`` is declared
    with (``("states", "armenia", "resolve")`` -> [0, 1]), or ``None`` if it is none."""
    tp: Any = model
    meta: tuple = ()
    for part in loc:
        tp = _strip_optional(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            f = tp.model_fields.get(part)
            if f is None:
                return None
            tp, meta = f.annotation, tuple(f.metadata)
        elif typing.get_origin(tp) in (dict, typing.Dict):  # noqa: UP006
            tp, meta = typing.get_args(tp)[1], ()
        else:
            return None
    if typing.get_origin(tp) is typing.Annotated:
        meta += typing.get_args(tp)[1:]
    return next((m for m in meta if isinstance(m, Bounds)), None)


def fields_at(model: type[BaseModel], loc: tuple, data: Any = None) -> list[str] | None:
    """The field names valid at ``loc`` (a data location) inside ``model``."""
    tp = type_at(model, loc, data)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return list(tp.model_fields)
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def given(value: Any) -> str:
    """What was written, in words: ``the text 'x'``, ``a list [...]``, ``nothing (null)``."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return f"a mapping {_short(dict(value))}"
    if isinstance(value, list):
        return f"a list {_short(list(value))}"
    if isinstance(value, str):
        return f"the text {_short(value)}"
    return _short(value)


def _number(x: Any) -> str:
    """A bound as a person writes it: ``1``, ``0.5``, ``1e+15``."""
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e7:
        return str(int(x))
    if isinstance(x, float):
        return f"{x:g}"
    return str(x)


def _entries(n: Any) -> str:
    return f"{n} entry" if n == 1 else f"{n} entries"


def _message(err: dict, model: type[BaseModel] | None, root: Any, loc: tuple) -> str:
    """A pydantic error message in the words the rest of the loader uses."""
    typ = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    msg = err["msg"]
    if typ in ("dict_type", "model_type", "model_attributes_type", "mapping_type"):
        return f"expected a mapping (key: value, ...), got {given(value)}"
    if typ == "list_type":
        hint = ""
        if isinstance(value, str) and value.strip() and len(value) <= 60:
            hint = f"; write it as [{value.strip()}]"
        return f"expected a list ([a, b] or one '- ' item per line), got {given(value)}{hint}"
    if typ == "string_type":
        hint = "; put it in quotes" if isinstance(value, int | float) and not isinstance(value, bool) else ""
        return f"expected text, got {given(value)}{hint}"
    if typ in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {given(value)}"
    if typ in ("float_type", "float_parsing"):
        return f"expected a number, got {given(value)}"
    if typ in ("finite_number",):
        return f"expected a finite number, got {given(value)}"
    if typ == "greater_than_equal":
        return f"must be at least {_number(ctx.get('ge'))} (got {_short(value)})"
    if typ == "less_than_equal":
        return f"must be at most {_number(ctx.get('le'))} (got {_short(value)})"
    if typ == "greater_than":
        return f"must be greater than {_number(ctx.get('gt'))} (got {_short(value)})"
    if typ == "less_than":
        return f"must be less than {_number(ctx.get('lt'))} (got {_short(value)})"
    if typ == "too_short":
        return (
            f"needs at least {_entries(ctx.get('min_length'))}, "
            f"got {ctx.get('actual_length')}"
        )
    if typ == "too_long":
        return (
            f"takes at most {_entries(ctx.get('max_length'))}, "
            f"got {ctx.get('actual_length')}"
        )
    if typ == "literal_error":
        choices = [c.strip().strip("'") for c in str(ctx.get("expected", "")).replace(" or ", ", ").split(",")]
        hint = suggest(value, choices) if isinstance(value, str) else ""
        return f"expected {ctx.get('expected')}, got {given(value)}{hint}"
    if typ == "union_tag_invalid":
        tag = ctx.get("tag")
        tags = [t.strip().strip("'") for t in str(ctx.get("expected_tags", "")).split(",")]
        plugin = PLUGIN_HINT if loc and loc[0] in ("outcomes", "outcome") else ""  # outcome kinds are registered parts
        return f"unknown kind '{tag}'" + (suggest(str(tag), tags) or f"; kinds are {', '.join(tags)}{plugin}")
    if typ == "union_tag_not_found":
        tp = type_at(model, loc) if model is not None else None
        members = _union_members(tp) if tp is not None else []
        disc = ctx.get("discriminator", "kind").strip("'")
        keys = {str(k) for k in value} - {"description"} if isinstance(value, dict) else set()
        fits = [m for m in members if keys and keys <= set(m.model_fields)]
        if len(fits) == 1:
            return f"missing required key '{disc}'; with these keys it is {disc}: {_tags(fits)[0]}"
        tags = _tags(fits or members)
        return f"missing required key '{disc}'" + (f"; kinds are {', '.join(tags)}" if tags else "")
    if msg.startswith("Value error, "):
        return msg[len("Value error, ") :]
    if msg.startswith("Assertion failed, "):
        return msg[len("Assertion failed, ") :]
    if typ in ("param", "predicate"):
        return msg
    msg = msg[0].lower() + msg[1:]
    if typ.endswith("_type") or typ.endswith("_parsing"):
        msg += f" (got {_short(value)})"
    return msg


def problems_from(
    exc: pydantic.ValidationError,
    root: Any,
    model: type[BaseModel] | None = None,
    *,
    prefix: tuple = (),
    fallback: Mark | None = None,
) -> list[Problem]:
    """Map each pydantic error to a :class:`Problem` with a position in ``root``.

    A validator can say where inside the value a problem is with the error context:
    ``sub`` (a data path below the value, e.g. ``('source', 'derive')``), ``pos`` (a
    character offset inside that text) and ``key`` (point at the key, not its value).
    """
    problems: list[Problem] = []
    for err in exc.errors(include_url=False):
        raw = tuple(err["loc"])
        key_error = bool(raw) and raw[-1] == "[key]"
        if key_error:
            raw = raw[:-1]
        loc = _data_loc(root, raw)
        typ = err["type"]
        ctx = err.get("ctx") or {}
        path_loc = loc
        if typ == "extra_forbidden":
            key = str(loc[-1]) if loc else "?"
            mark = locate(root, loc, prefer_key=True)
            valid = fields_at(model, loc[:-1], root) if model is not None else None
            if valid is not None:
                hint = suggest(key, valid) or f"; valid keys: {', '.join(valid)}"
            else:
                hint = ""
            msg = f"unknown key '{key}'{hint}"
        elif typ == "missing":
            path_loc = loc[:-1]
            mark = locate(root, path_loc)
            msg = f"missing required key '{loc[-1]}'" if loc else "missing required value"
        elif typ == "union_tag_invalid":
            path_loc = (*loc, ctx.get("discriminator", "kind").strip("'"))
            mark = locate(root, path_loc)
            msg = _message(err, model, root, loc)
        else:
            sub = tuple(ctx.get("sub") or ())
            path_loc = loc + sub
            mark = locate(root, path_loc, prefer_key=key_error or bool(ctx.get("key")))
            pos = ctx.get("pos")
            target: Any = root
            for part in path_loc:
                try:
                    target = target[part]
                except (KeyError, IndexError, TypeError):
                    target = None
                    break
            msg = _message(err, model, root, loc)
            if isinstance(pos, int) and mark is not None and isinstance(target, str):
                if mark.exact:
                    mark = mark.shifted(pos)
                elif ctx.get("where"):
                    msg += f" ({ctx['where']} {pos + 1})"
        if mark is None:
            mark = fallback or Mark("<input>")
        problems.append(Problem(mark, dotted(prefix + path_loc), msg))
    return problems


def validate_model(
    model: type[M],
    data: Any,
    *,
    file: str,
    prefix: tuple = (),
    context: dict | None = None,
) -> M:
    """Validate ``data`` as ``model`` or raise :class:`InputError` listing every problem."""
    if not isinstance(data, dict):
        where = getattr(data, "mark", None) or Mark(file)
        kind = type(data).__name__
        raise InputError(
            [
                Problem(
                    where,
                    dotted(prefix),
                    f"expected a mapping of keys to values at the top, got a {kind}",
                )
            ]
        )
    try:
        return model.model_validate(data, context=context)
    except pydantic.ValidationError as exc:
        raise InputError(
            problems_from(exc, data, model, prefix=prefix, fallback=Mark(file))
        ) from None


def whole_number(low: int, high: int | None = None) -> Any:
    """A pydantic ``BeforeValidator`` for a whole number from ``low`` (to ``high``), in the
    loader's words (``expected a whole number, got the text 'five'``; ``must be at least 1
    (got 0)``). For the files sim writes and reads back (saved games, manifests)."""

    def check(v: Any) -> Any:
        if isinstance(v, bool) or not isinstance(v, int):
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            else:
                raise ValueError(f"expected a whole number, got {given(v)}")
        if v < low or (high is not None and v > high):
            span = f"from {low} to {high:,}" if high is not None else f"at least {low}"
            raise ValueError(f"must be {span} (got {v})")
        return v

    return pydantic.BeforeValidator(check)


def sha256_hex(v: Any) -> Any:
    """A validator for a SHA-256 written as 64 hexadecimal digits."""
    if not (isinstance(v, str) and len(v) == 64 and all(c in "0123456789abcdef" for c in v)):
        raise ValueError(f"expected a SHA-256 (64 hexadecimal digits), got {given(v)}")
    return v


def check_name(kind: str, name: str, known: dict | list | set, mark: Mark, path: str) -> Problem | None:
    """A problem if ``name`` is not one of ``known`` (with a did-you-mean)."""
    if name in known:
        return None
    hint = suggest(name, known) or known_hint(kind, known)
    return Problem(mark, path, f"unknown {kind} '{name}'{hint}")


__all__ = [
    "PDict",
    "bounds_at",
    "check_name",
    "dotted",
    "fields_at",
    "problems_from",
    "sha256_hex",
    "validate_model",
    "whole_number",
]
