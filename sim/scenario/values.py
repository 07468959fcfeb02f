"""Parameters: a value (number, vector or distribution) and where it comes from.

Any numeric parameter in a scenario is written either bare (``0.4``) or as
``{value: ..., source: ...}``. A value may be a distribution, sampled once per
replicate: ``{uniform: [lo, hi]}``, ``{normal: [mean, sd]}``,
``{triangular: [lo, mode, hi]}``, ``{beta: [a, b]}``, ``{lognormal: [mu, sigma]}``
(of the underlying normal), ``{choice: [a, b, ...], p: [...]}``.

A source is one of ``{fact: ID | [IDs], derive: EXPR}``, ``{calibration: NOTE}`` or
``{assumption: TEXT}``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

# Bounds is declared with the registry (the ground floor); the scenario layer imports it from here
from ..parts import Bounds


class ParamError(ValueError):
    """A ``ValueError`` that also says where inside the value the problem is.

    ``sub`` is a data path below the value (``("source", "derive")``), ``pos`` a
    character offset inside that text, ``key`` whether to point at the key rather
    than its value. :mod:`.validation` turns these into a line and column.
    """

    def __init__(self, message: str, sub: tuple = (), pos: int | None = None, key: bool = False):
        super().__init__(message)
        self.sub = tuple(sub)
        self.pos = pos
        self.key = key

    def under(self, *prefix: Any) -> ParamError:
        """The same error, located ``prefix`` levels further down."""
        return ParamError(str(self), (*prefix, *self.sub), self.pos, self.key)


def custom_error(exc: ValueError, kind: str = "param", where: str = "at character") -> PydanticCustomError:
    """A pydantic error carrying a :class:`ParamError`'s location (see :mod:`.validation`)."""
    ctx: dict[str, Any] = {}
    if isinstance(exc, ParamError):
        if exc.sub:
            ctx["sub"] = exc.sub
        if exc.pos is not None:
            ctx["pos"] = exc.pos
            ctx["where"] = where
        if exc.key:
            ctx["key"] = True
    # pydantic fills in only "{name}" for the names in ctx (sub, pos, where, key), which
    # the messages do not contain: braces such as "{value: ..., source: ...}" stay as written.
    return PydanticCustomError(kind, str(exc), ctx or None)


# ----------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class Source:
    """Provenance of a parameter value.

    Attributes:
        kind: ``fact``, ``calibration`` or ``assumption``.
        facts: Fact ids (kind ``fact``).
        derive: Arithmetic over the facts' figures giving the value (kind ``fact``).
        note: The calibration note or the assumption's rationale.
    """

    kind: Literal["fact", "calibration", "assumption"]
    facts: tuple[str, ...] = ()
    derive: str | None = None
    note: str = ""

    def describe(self) -> str:
        if self.kind == "fact":
            ids = ", ".join(self.facts)
            return f"fact {ids}" + (f" (derive: {self.derive})" if self.derive else "")
        return f"{self.kind}: {self.note}"

    def to_data(self) -> dict:
        if self.kind == "fact":
            d: dict[str, Any] = {"fact": list(self.facts) if len(self.facts) != 1 else self.facts[0]}
            if self.derive:
                d["derive"] = self.derive
            return d
        return {self.kind: self.note}


def parse_source(raw: Any) -> Source:
    """Check and convert a ``source:`` mapping. Raises ``ValueError`` with a clear message."""
    if not isinstance(raw, dict):
        raise ValueError(
            "source must be a mapping: {fact: ID}, {calibration: NOTE} or {assumption: TEXT}"
        )
    kinds = [k for k in ("fact", "calibration", "assumption") if k in raw]
    extra = sorted(str(k) for k in set(raw) - {"fact", "calibration", "assumption", "derive"})
    if extra:
        from .errors import suggest

        hint = suggest(extra[0], ("fact", "calibration", "assumption", "derive"))
        raise ParamError(
            f"unknown key '{extra[0]}' in source{hint}; a source has one of fact (with optional "
            "derive), calibration, assumption",
            (extra[0],),
            key=True,
        )
    if len(kinds) != 1:
        raise ValueError(
            "a source needs exactly one of fact, calibration, assumption"
            + (f" (got {', '.join(kinds)})" if kinds else "")
        )
    kind = kinds[0]
    if "derive" in raw and kind != "fact":
        raise ValueError("derive is only allowed with fact")
    if kind == "fact":
        ids = raw["fact"]
        if isinstance(ids, str):
            ids = [ids]
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
            raise ParamError("fact must be a fact id or a list of fact ids", ("fact",))
        derive = raw.get("derive")
        if derive is not None and (not isinstance(derive, str) or not derive.strip()):
            raise ParamError("derive must be an arithmetic expression over the facts", ("derive",))
        if derive is not None:
            from .expr import ExprError, parse_arithmetic

            try:
                parse_arithmetic(derive)  # syntax only; names are checked against the facts
            except ExprError as exc:
                raise ParamError(exc.message, ("derive",), exc.pos) from None
        return Source("fact", tuple(ids), derive)
    note = raw[kind]
    if not isinstance(note, str) or len(note.strip()) < 3:
        raise ParamError(f"{kind} needs a sentence saying what it rests on", (kind,))
    return Source(kind, note=note.strip())


# ----------------------------------------------------------------------- distributions


@dataclass(frozen=True)
class Dist:
    """A distribution sampled once per replicate."""

    family: str
    args: tuple[float, ...]
    p: tuple[float, ...] | None = None  # choice weights

    def support(self) -> tuple[float, float]:
        f, a = self.family, self.args
        if f == "uniform":
            return a[0], a[1]
        if f == "triangular":
            return a[0], a[2]
        if f == "beta":
            return 0.0, 1.0
        if f == "lognormal":
            return 0.0, math.inf
        if f == "normal":
            return -math.inf, math.inf
        return min(a), max(a)  # choice

    def mean(self) -> float:
        f, a = self.family, self.args
        if f == "uniform":
            return (a[0] + a[1]) / 2
        if f == "triangular":
            return sum(a) / 3
        if f == "beta":
            return a[0] / (a[0] + a[1])
        if f == "lognormal":
            return math.exp(a[0] + a[1] ** 2 / 2)
        if f == "normal":
            return a[0]
        w = self.p or tuple(1 / len(a) for _ in a)
        return float(sum(x * q for x, q in zip(a, w, strict=True)))

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` draws from numpy's own samplers: for an implementation independent of the
        model's random numbers (the reference model of benchmarks/reference.py); the model
        draws through :meth:`quantile`."""
        f, a = self.family, self.args
        if f == "uniform":
            return rng.uniform(a[0], a[1], n)
        if f == "triangular":
            if a[0] == a[2]:
                return np.full(n, a[0])
            return rng.triangular(a[0], a[1], a[2], n)
        if f == "beta":
            return rng.beta(a[0], a[1], n)
        if f == "lognormal":
            return rng.lognormal(a[0], a[1], n)
        if f == "normal":
            return rng.normal(a[0], a[1], n)
        return rng.choice(np.asarray(a, dtype=float), size=n, p=self.p)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """The distribution's values at the probabilities ``u`` in (0, 1) (its inverse CDF):
        one uniform per replicate gives each replicate its value (:mod:`sim.seeding`)."""
        betaincinv, ndtri = _special()
        f, a = self.family, self.args
        u = np.asarray(u, dtype=np.float64)
        if f == "uniform":
            return a[0] + (a[1] - a[0]) * u
        if f == "triangular":
            lo, mode, hi = a
            if lo == hi:
                return np.full(u.shape, lo)
            cut = (mode - lo) / (hi - lo)
            left = lo + np.sqrt(u * (hi - lo) * (mode - lo))
            right = hi - np.sqrt((1.0 - u) * (hi - lo) * (hi - mode))
            return np.where(u < cut, left, right)
        if f == "beta":
            return betaincinv(a[0], a[1], u)
        if f == "lognormal":
            return np.exp(a[0] + a[1] * ndtri(u))
        if f == "normal":
            return a[0] + a[1] * ndtri(u)
        values = np.asarray(a, dtype=float)
        w = np.asarray(self.p if self.p is not None else np.full(len(a), 1.0 / len(a)), dtype=float)
        cum = np.cumsum(w / w.sum())
        return values[np.minimum(np.searchsorted(cum, u, side="right"), len(values) - 1)]

    def to_data(self) -> dict:
        d: dict[str, Any] = {self.family: list(self.args)}
        if self.p is not None:
            d["p"] = list(self.p)
        return d

    def __str__(self) -> str:
        args = ", ".join(f"{x:g}" for x in self.args)
        return f"{self.family}({args})"


FAMILIES = {
    "uniform": ("lo", "hi"),
    "normal": ("mean", "sd"),
    "triangular": ("lo", "mode", "hi"),
    "beta": ("a", "b"),
    "lognormal": ("mu", "sigma"),
    "choice": None,
}


MAX_MAGNITUDE = 1e15
"""Largest size of any number in a scenario: budgets in USD stay far below it, and the
mechanisms' products of a few such numbers stay finite (1e308 would overflow to inf)."""


def _num(x: Any, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, int | float):
        raise ValueError(f"{what} must be a number, got {x!r}")
    try:
        x = float(x)
    except OverflowError:
        raise ValueError(f"{what} must be a finite number, got a number with {len(str(x))} digits") from None
    if not math.isfinite(x):
        raise ValueError(f"{what} must be a finite number, got {x}")
    if abs(x) > MAX_MAGNITUDE:
        raise ValueError(
            f"{what} {x:g} is too large to simulate; numbers in a scenario are at most 1e15 in size"
        )
    return x


def parse_dist(raw: dict) -> Dist:
    """Check and convert a distribution mapping such as ``{uniform: [0.2, 0.4]}``."""
    keys = set(raw)
    fam = [k for k in keys if k in FAMILIES]
    if len(fam) != 1 or (keys - set(fam) - ({"p"} if fam == ["choice"] else set())):
        from .errors import suggest

        unknown = sorted(keys - set(FAMILIES) - {"p"})
        hint = suggest(unknown[0], FAMILIES) if unknown else ""
        raise ValueError(
            f"unknown distribution {unknown[0]!r}{hint}; families are "
            + ", ".join(FAMILIES)
            if unknown
            else "a distribution has exactly one family key: " + ", ".join(FAMILIES)
        )
    family = fam[0]
    args_raw = raw[family]
    if not isinstance(args_raw, list):
        raise ValueError(f"{family} takes a list of numbers, e.g. {{{family}: [...]}}")
    args = tuple(_num(x, f"{family} argument") for x in args_raw)
    names = FAMILIES[family]
    if names is not None and len(args) != len(names):
        raise ValueError(f"{family} takes {len(names)} numbers [{', '.join(names)}], got {len(args)}")
    p = None
    if family == "uniform" and not args[0] < args[1]:
        raise ValueError(f"uniform needs lo < hi, got [{args[0]:g}, {args[1]:g}]")
    elif family == "triangular" and not (args[0] <= args[1] <= args[2] and args[0] < args[2]):
        raise ValueError(
            f"triangular needs lo <= mode <= hi with lo < hi, got {list(args)}"
        )
    elif family == "normal" and not args[1] > 0:
        raise ValueError(f"normal needs sd > 0, got {args[1]:g}")
    elif family == "lognormal" and not args[1] > 0:
        raise ValueError(f"lognormal needs sigma > 0, got {args[1]:g}")
    elif family == "lognormal" and args[0] + 5 * args[1] > math.log(MAX_MAGNITUDE):
        raise ValueError(
            f"lognormal [{args[0]:g}, {args[1]:g}] draws values above 1e15 (mu and sigma are of "
            "the logarithm: lognormal [0, 0.5] has median 1)"
        )
    elif family == "beta" and not (args[0] > 0 and args[1] > 0):
        raise ValueError(f"beta needs a > 0 and b > 0, got {list(args)}")
    elif family == "choice":
        if not args:
            raise ValueError("choice needs at least one value")
        if "p" in raw:
            if not isinstance(raw["p"], list) or len(raw["p"]) != len(args):
                raise ValueError(f"choice p must list {len(args)} probabilities, one per value")
            p = tuple(_num(x, "choice p") for x in raw["p"])
            if any(x < 0 for x in p) or abs(sum(p) - 1) > 1e-6:
                raise ValueError(f"choice p must be >= 0 and sum to 1 (sum is {sum(p):g})")
    return Dist(family, args, p)


# -------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class Param:
    """A parameter as written: value (number, vector or distribution) and source."""

    value: float | tuple[float, ...] | Dist
    source: Source | None = None
    origin: str = "file"  # file | default | override

    @property
    def is_dist(self) -> bool:
        return isinstance(self.value, Dist)

    def mean(self) -> float:
        if isinstance(self.value, Dist):
            return self.value.mean()
        if isinstance(self.value, tuple):
            return float(np.mean(self.value))
        return float(self.value)

    def show(self) -> str:
        if isinstance(self.value, tuple):
            return "[" + ", ".join(f"{x:g}" for x in self.value) + "]"
        if isinstance(self.value, Dist):
            return str(self.value)
        return f"{self.value:g}"

    def to_data(self) -> Any:
        v = self.value
        vd = v.to_data() if isinstance(v, Dist) else list(v) if isinstance(v, tuple) else v
        if self.source is None:
            return vd
        return {"value": vd, "source": self.source.to_data()}


def _show(x: float) -> str:
    """A number as written: ``-1000000`` rather than ``-1e+06``."""
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return f"{x:g}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _number_hint(text: str) -> str:
    """What to do with a number written as text: ``'0.3'``, ``30%``, ``200,000,000``."""
    t = text.strip()
    try:
        float(t)
        return "; remove the quotes"
    except ValueError:
        pass
    if t.endswith("%"):
        try:
            return f"; write a share as a number from 0 to 1 ({float(t[:-1]) / 100:g}, not {t})"
        except ValueError:
            return ""
    if "," in t:
        plain = t.replace(",", "")
        try:
            float(plain)
        except ValueError:
            return ""
        point = t.replace(",", ".")
        if re.fullmatch(r"[+-]?[1-9]\d{0,2}(,\d{3}){2,}(\.\d*)?", t):  # 1,000,000: thousands
            return f"; write it without commas ({plain} or {t.replace(',', '_')})"
        if re.fullmatch(r"[+-]?[1-9]\d{0,2},\d{3}", t):  # 1,500: thousands, or 1.5 in Europe
            return f"; write it without the comma ({plain}), or with a decimal point ({point})"
        if re.fullmatch(r"[+-]?\d*,\d+", t):  # 0,4: a decimal comma
            return f"; write the decimal comma as a point ({point})"
        return f"; write it without commas ({plain} or {t.replace(',', '_')})"
    return ""


def whole_range(lo: float, hi: float) -> tuple[int, int]:
    """The whole-number range nearest to ``lo..hi``: the whole numbers inside it
    (``1.5..4.2`` gives ``2..4``), or, when fewer than two lie inside, the two around it
    (``2.2..2.8`` gives ``2..3``)."""
    a, b = math.ceil(lo), math.floor(hi)
    if a >= b:
        a, b = math.floor(lo), math.ceil(hi)
    return a, max(b, a + 1)


def whole_choice(lo: float, hi: float) -> str:
    """A ``choice`` of the whole numbers of the range nearest to ``lo..hi``, as written in YAML."""
    a, b = whole_range(lo, hi)
    if b - a >= 12:
        return f"{{choice: [...]}} listing the whole numbers from {a} to {b}"
    return "{choice: [" + ", ".join(str(x) for x in range(a, b + 1)) + "]}"


def _check_bounds(x: float, b: Bounds, what: str = "value") -> None:
    if b.integer and x != int(x):
        raise ValueError(f"{what} must be a whole number, got {x:g}")
    if x < b.lo or x > b.hi:
        raise ValueError(f"{what} {_show(x)} is out of range; expected {b.describe()}")


def parse_param(raw: Any, bounds: Bounds = Bounds()) -> Param:
    """Check and convert a parameter as written in YAML. Raises ``ValueError``."""
    if isinstance(raw, Param):
        return raw
    source = None
    value_raw = raw
    wrapped = isinstance(raw, dict) and ("value" in raw or "source" in raw)
    if wrapped:
        extra = sorted(str(k) for k in set(raw) - {"value", "source"})
        if extra:
            from .errors import suggest

            raise ParamError(
                f"unknown key '{extra[0]}'{suggest(extra[0], ('value', 'source'))}; "
                "a parameter is a number or {value: ..., source: ...}",
                (extra[0],),
                key=True,
            )
        if "value" not in raw:
            raise ValueError("a parameter with a source also needs a value")
        if "source" in raw and raw["source"] is not None:
            try:
                source = parse_source(raw["source"])
            except ParamError as exc:
                raise exc.under("source") from None
            except ValueError as exc:
                raise ParamError(str(exc), ("source",)) from None
        try:
            return _parse_value(raw["value"], bounds, source)
        except ParamError as exc:
            raise exc.under("value") from None
        except ValueError as exc:
            raise ParamError(str(exc), ("value",)) from None
    return _parse_value(value_raw, bounds, source)


def _parse_value(value_raw: Any, bounds: Bounds, source: Source | None) -> Param:
    if isinstance(value_raw, dict) and not any(k in FAMILIES for k in value_raw):
        from .errors import suggest

        keys = sorted(str(k) for k in value_raw)
        if not keys:
            raise ValueError("expected a number, got an empty mapping {}")
        hint = suggest(keys[0], (*FAMILIES, "value", "source"))
        if hint not in (suggest("value", ["value"]), suggest("source", ["source"])):
            parse_dist(value_raw)  # "unknown distribution 'x' (did you mean ...)"
        raise ParamError(
            f"unknown key '{keys[0]}'{hint}; a parameter is a number, a distribution such as "
            "{uniform: [lo, hi]}, or {value: ..., source: ...}",
            (keys[0],),
            key=True,
        )
    if isinstance(value_raw, dict):
        dist = parse_dist(value_raw)
        lo, hi = dist.support()
        if bounds.integer and dist.family != "choice":
            use = (f"use {whole_choice(lo, hi)}" if dist.family in ("uniform", "triangular")
                   else "use choice, e.g. {choice: [1, 2, 3]}")
            raise ValueError(f"{dist.family} gives fractional values; this parameter is a whole number: {use}")
        if lo < bounds.lo or hi > bounds.hi:
            if dist.family in ("normal", "lognormal"):
                raise ValueError(
                    f"{dist.family} can fall outside the allowed range ({bounds.describe()}); "
                    "use uniform, triangular or beta"
                )
            _check_bounds(lo, bounds, "distribution lower end")
            _check_bounds(hi, bounds, "distribution upper end")
        if dist.family == "choice":
            for x in dist.args:
                _check_bounds(x, bounds, "choice value")
        return Param(dist, source)
    if isinstance(value_raw, list):
        if not bounds.vector:
            raise ValueError("expected a number, not a list")
        vals = tuple(_num(x, "each entry") for x in value_raw)
        for x in vals:
            _check_bounds(x, bounds, "entry")
        return Param(vals, source)
    if bounds.vector and not isinstance(value_raw, list):
        raise ValueError("expected a list of numbers")
    if isinstance(value_raw, str):
        raise ValueError(f"expected a number, got the text {_short(value_raw)}{_number_hint(value_raw)}")
    if value_raw is None:
        raise ValueError("expected a number, got nothing (null)")
    x = _num(value_raw, "value")
    _check_bounds(x, bounds)
    return Param(x, source)


_DIST_SCHEMA = {
    "oneOf": [
        {"type": "object", "properties": {f: {"type": "array", "items": {"type": "number"}}}, "required": [f], "additionalProperties": False}
        for f in ("uniform", "normal", "triangular", "beta", "lognormal")
    ]
    + [
        {
            "type": "object",
            "properties": {
                "choice": {"type": "array", "items": {"type": "number"}},
                "p": {"type": "array", "items": {"type": "number"}},
            },
            "required": ["choice"],
            "additionalProperties": False,
        }
    ]
}
SOURCE_SCHEMA = {
    "type": "object",
    "description": "Provenance: {fact: ID | [IDs], derive: EXPR} | {calibration: NOTE} | {assumption: TEXT}",
    "properties": {
        "fact": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "derive": {"type": "string"},
        "calibration": {"type": "string"},
        "assumption": {"type": "string"},
    },
    "additionalProperties": False,
}


def _param_schema(b: Bounds) -> dict:
    num: dict[str, Any] = {"type": "integer" if b.integer else "number"}
    if math.isfinite(b.lo):
        num["minimum"] = b.lo
    if math.isfinite(b.hi):
        num["maximum"] = b.hi
    if b.vector:
        num = {"type": "array", "items": num}
    val = {"anyOf": [num, _DIST_SCHEMA]}
    return {
        "description": f"{b.describe()}; bare, a distribution, or {{value, source}}",
        "anyOf": [
            num,
            _DIST_SCHEMA,
            {
                "type": "object",
                "properties": {"value": val, "source": SOURCE_SCHEMA},
                "required": ["value"],
                "additionalProperties": False,
            },
        ],
    }


def _validator(b: Bounds) -> Callable[[Any], Param]:
    def run(raw: Any) -> Param:
        try:
            return parse_param(raw, b)
        except ValueError as exc:
            raise custom_error(exc) from None

    return run


def P(lo: float = -math.inf, hi: float = math.inf, *, integer: bool = False, vector: bool = False) -> Any:
    """The annotated type of a scenario parameter with the given bounds."""
    b = Bounds(lo, hi, integer, vector)
    return Annotated[Param, PlainValidator(_validator(b)), WithJsonSchema(_param_schema(b)), b]


def default(
    value: float | tuple[float, ...], note: str, kind: str = "assumption", *, symbol: str = "", unit: str = "",
    label: str | tuple[str, ...] = "",
) -> Any:
    """A field default: a parameter whose provenance is documented in the code.

    Args:
        value: The default (a number, or a tuple for a vector parameter).
        note: Why it is what it is: the rationale of an assumption, or the calibration.
        kind: ``assumption`` or ``calibration``.
        symbol: Its symbol in docs/MODEL.md's equations (``β_res``).
        unit: Its unit (``months``, ``1/month``), if any.
        label: How reports name it ("limited offensive: base rate of launches"); for a
            vector, one phrase per element ("" where none).
    """
    from pydantic import Field

    v = tuple(float(x) for x in value) if isinstance(value, tuple) else float(value)
    extra = {k: x for k, x in (("symbol", symbol), ("unit", unit),
                               ("label", list(label) if isinstance(label, tuple) else label)) if x}
    return Field(default_factory=partial(Param, v, Source(kind, note=note), "default"),  # type: ignore[arg-type]
                 json_schema_extra=extra or None)


Prob = P(0, 1)
NonNeg = P(0)
Signed = P(-1, 1)

__all__ = [
    "Bounds",
    "Dist",
    "NonNeg",
    "P",
    "Param",
    "ParamError",
    "Prob",
    "Signed",
    "Source",
    "custom_error",
    "default",
    "field",
    "parse_dist",
    "parse_param",
    "parse_source",
]


def _special() -> tuple[Any, Any]:
    """scipy.special's ``betaincinv`` and ``ndtri`` (numpy ufuncs), from ``scipy.special._ufuncs``
    where they are defined, without running ``scipy/special/__init__.py`` (scipy's array-API
    layer: 0.3 s of a run's set-up on scipy 1.17) until something asks the package for a name
    (:mod:`sim.lazyimport`). The very same objects ``from scipy.special import ...`` gives."""
    try:
        from ..lazyimport import package

        package("scipy.special")
        from scipy.special._ufuncs import betaincinv, ndtri
    except ImportError:  # another layout of scipy: the package whole
        from scipy.special import betaincinv, ndtri
    return betaincinv, ndtri
