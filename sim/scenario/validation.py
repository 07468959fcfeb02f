"""Turn pydantic validation errors into positioned, readable problems."""

from __future__ import annotations

import types
import typing
from typing import Any, TypeVar

import pydantic
from pydantic import BaseModel

from .errors import InputError, Mark, Problem, one_of, suggest
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
            if last:
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


def fields_at(model: type[BaseModel], loc: tuple) -> list[str] | None:
    """The field names valid at ``loc`` (a data location) inside ``model``."""
    tp: Any = model
    for part in loc:
        tp = _strip_optional(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            f = tp.model_fields.get(part)
            if f is None:
                # discriminated union member chosen at runtime: unknown here
                return None
            tp = f.annotation
            continue
        origin = typing.get_origin(tp)
        if origin in (dict, typing.Dict):  # noqa: UP006
            tp = typing.get_args(tp)[1]
        elif origin in (list, tuple, typing.List):  # noqa: UP006
            tp = typing.get_args(tp)[0]
        else:
            return None
    tp = _strip_optional(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return list(tp.model_fields)
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def problems_from(
    exc: pydantic.ValidationError,
    root: Any,
    model: type[BaseModel] | None = None,
    *,
    prefix: tuple = (),
    fallback: Mark | None = None,
) -> list[Problem]:
    """Map each pydantic error to a :class:`Problem` with a position in ``root``."""
    problems: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = _data_loc(root, tuple(err["loc"]))
        typ = err["type"]
        mark = None
        path_loc = loc
        if typ == "extra_forbidden":
            key = str(loc[-1]) if loc else "?"
            mark = locate(root, loc, prefer_key=True)
            valid = fields_at(model, loc[:-1]) if model is not None else None
            if valid is not None:
                hint = suggest(key, valid) or f"; valid keys: {', '.join(valid)}"
            else:
                hint = ""
            msg = f"unknown key '{key}'{hint}"
        elif typ == "missing":
            path_loc = loc[:-1]
            mark = locate(root, path_loc)
            msg = f"missing required key '{loc[-1]}'" if loc else "missing required value"
        else:
            mark = locate(root, loc)
            msg = err["msg"]
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, ") :]
            elif msg.startswith("Assertion failed, "):
                msg = msg[len("Assertion failed, ") :]
            else:
                msg = msg[0].lower() + msg[1:]
                if typ.endswith("_type") or typ.endswith("_parsing") or typ == "literal_error":
                    msg += f" (got {_short(err.get('input'))})"
                if typ == "literal_error" and "expected" in err.get("ctx", {}):
                    pass
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


def check_name(kind: str, name: str, known: dict | list | set, mark: Mark, path: str) -> Problem | None:
    """A problem if ``name`` is not one of ``known`` (with a did-you-mean)."""
    if name in known:
        return None
    hint = suggest(name, known) or f"; {kind}s are {one_of(known)}"
    return Problem(mark, path, f"unknown {kind} '{name}'{hint}")


__all__ = [
    "PDict",
    "check_name",
    "dotted",
    "fields_at",
    "problems_from",
    "validate_model",
]
