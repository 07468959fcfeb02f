"""The expression language of predicates (``when:``) and derivations (``derive:``).

A hand-written tokenizer and recursive-descent parser; nothing is ever ``eval``'d.

Grammar (lowest precedence first)::

    expr    := or
    or      := and ('or' and)*
    and     := not ('and' not)*
    not     := 'not' not | compare
    compare := sum (('<' | '<=' | '>' | '>=' | '==' | '!=') sum)?
    sum     := product (('+' | '-') product)*
    product := unary (('*' | '/') unary)*
    unary   := '-' unary | atom
    atom    := NUMBER | MONTH | 'true' | 'false' | 'month' | NAME
             | NAME '(' [arg (',' arg)*] ')' | '(' expr ')'

``MONTH`` is ``YYYY-MM``; ``month`` is the simulated calendar month. Functions and
their argument kinds are listed in :data:`FUNCTIONS`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from ..parts import REGISTRY, registry

# --------------------------------------------------------------------------- tokens

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<month>\d{4}-\d{2}(?![\d.]))
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*(?:\[\d+\])?)
  | (?P<op><=|>=|==|!=|<|>|\+|-|\*|/|\(|\)|,)
    """,
    re.VERBOSE,
)

KEYWORDS = {"and", "or", "not", "true", "false"}


class ExprError(ValueError):
    """A problem in an expression, at character offset ``pos``."""

    def __init__(self, message: str, pos: int):
        super().__init__(message)
        self.message = message
        self.pos = pos


@dataclass(frozen=True)
class Tok:
    kind: str
    text: str
    pos: int


def tokenize(text: str) -> list[Tok]:
    out: list[Tok] = []
    i = 0
    while i < len(text):
        m = _TOKEN.match(text, i)
        if not m:
            raise ExprError(f"unexpected character {text[i]!r}", i)
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append(Tok(kind, m.group(), i))
        i = m.end()
    out.append(Tok("end", "", len(text)))
    return out


# ----------------------------------------------------------------------------- AST


@dataclass
class Node:
    pos: int = field(default=0, kw_only=True)


@dataclass
class Num(Node):
    value: float


@dataclass
class MonthLit(Node):
    index: int  # year * 12 + month - 1
    text: str


@dataclass
class BoolLit(Node):
    value: bool


@dataclass
class Name(Node):
    name: str


@dataclass
class MonthVar(Node):
    pass


@dataclass
class Call(Node):
    fn: str
    args: list[Name]


@dataclass
class Arith(Node):
    op: str
    left: Node
    right: Node


@dataclass
class Neg(Node):
    operand: Node


@dataclass
class Compare(Node):
    op: str
    left: Node
    right: Node


@dataclass
class Logic(Node):
    op: str  # and | or
    left: Node
    right: Node


@dataclass
class Not(Node):
    operand: Node


def month_index(text: str) -> int:
    """``'2023-07'`` -> ``2023 * 12 + 6``."""
    y, m = text.split("-")
    mi = int(m)
    if not 1 <= mi <= 12:
        raise ValueError(f"{text!r} is not a month; write YYYY-MM with MM in 01..12")
    return int(y) * 12 + mi - 1


def month_text(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


# --------------------------------------------------------------------------- parser


MAX_TOKENS = 300
"""Longest expression accepted (names, numbers and operators); real ones have a few dozen."""
MAX_NESTING = 30
"""Deepest nesting of parentheses, ``not`` and ``-`` accepted."""


class _Parser:
    def __init__(self, text: str, *, arithmetic_only: bool = False):
        self.text = text
        self.toks = tokenize(text)
        if len(self.toks) - 1 > MAX_TOKENS:
            raise ExprError(
                f"the expression is too long ({len(self.toks) - 1} parts, at most {MAX_TOKENS}); "
                "split it into several conditions or events",
                self.toks[MAX_TOKENS].pos,
            )
        self.i = 0
        self.depth = 0
        self.arith = arithmetic_only

    def _deeper(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ExprError(
                f"nested more than {MAX_NESTING} levels deep (parentheses, 'not' or '-')", pos
            )

    @property
    def tok(self) -> Tok:
        return self.toks[self.i]

    def take(self) -> Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def at(self, *texts: str) -> bool:
        t = self.tok
        return t.kind in ("op", "name") and t.text in texts

    def expect(self, text: str) -> Tok:
        if self.tok.text != text:
            got = "the end" if self.tok.kind == "end" else repr(self.tok.text)
            raise ExprError(f"expected '{text}' but found {got}", self.tok.pos)
        return self.take()

    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise ExprError("empty expression", 0)
        node = self.sum() if self.arith else self.or_()
        if self.tok.kind != "end":
            raise ExprError(f"unexpected {self.tok.text!r}", self.tok.pos)
        return node

    def or_(self) -> Node:
        node = self.and_()
        while self.at("or"):
            t = self.take()
            node = Logic("or", node, self.and_(), pos=t.pos)
        return node

    def and_(self) -> Node:
        node = self.not_()
        while self.at("and"):
            t = self.take()
            node = Logic("and", node, self.not_(), pos=t.pos)
        return node

    def not_(self) -> Node:
        if self.at("not"):
            t = self.take()
            self._deeper(t.pos)
            node = Not(self.not_(), pos=t.pos)
            self.depth -= 1
            return node
        return self.compare()

    def compare(self) -> Node:
        node = self.sum()
        if self.tok.kind == "op" and self.tok.text in ("<", "<=", ">", ">=", "==", "!="):
            t = self.take()
            node = Compare(t.text, node, self.sum(), pos=t.pos)
            if self.tok.kind == "op" and self.tok.text in ("<", "<=", ">", ">=", "==", "!="):
                raise ExprError("chained comparisons are not allowed; use 'and'", self.tok.pos)
        return node

    def sum(self) -> Node:
        node = self.product()
        while self.tok.kind == "op" and self.tok.text in ("+", "-"):
            t = self.take()
            node = Arith(t.text, node, self.product(), pos=t.pos)
        return node

    def product(self) -> Node:
        node = self.unary()
        while self.tok.kind == "op" and self.tok.text in ("*", "/"):
            t = self.take()
            node = Arith(t.text, node, self.unary(), pos=t.pos)
        return node

    def unary(self) -> Node:
        if self.tok.kind == "op" and self.tok.text == "-":
            t = self.take()
            self._deeper(t.pos)
            node = Neg(self.unary(), pos=t.pos)
            self.depth -= 1
            return node
        return self.atom()

    def atom(self) -> Node:
        t = self.tok
        if t.kind == "number":
            self.take()
            return Num(float(t.text), pos=t.pos)
        if t.kind == "month":
            if self.arith:
                raise ExprError("months are not allowed here", t.pos)
            self.take()
            try:
                return MonthLit(month_index(t.text), t.text, pos=t.pos)
            except ValueError as exc:
                raise ExprError(str(exc), t.pos) from None
        if t.kind == "op" and t.text == "(":
            self.take()
            self._deeper(t.pos)
            node = self.sum() if self.arith else self.or_()
            self.expect(")")
            self.depth -= 1
            return node
        if t.kind == "name":
            self.take()
            if t.text in ("and", "or", "not"):
                raise ExprError(f"'{t.text}' needs something on its left", t.pos)
            if self.arith:
                if self.tok.kind == "op" and self.tok.text == "(":
                    raise ExprError("functions are not allowed in derive", t.pos)
                return Name(t.text, pos=t.pos)
            if t.text in ("true", "false"):
                return BoolLit(t.text == "true", pos=t.pos)
            if t.text == "month":
                return MonthVar(pos=t.pos)
            if self.tok.kind == "op" and self.tok.text == "(":
                return self.call(t)
            return Name(t.text, pos=t.pos)
        if t.kind == "end":
            raise ExprError("expression ends too early", t.pos)
        raise ExprError(f"unexpected {t.text!r}", t.pos)

    def call(self, name: Tok) -> Node:
        if name.text not in FUNCTIONS:
            from .errors import suggest

            raise ExprError(
                f"unknown function '{name.text}'{suggest(name.text, FUNCTIONS)}; "
                f"functions are {', '.join(sorted(FUNCTIONS))}",
                name.pos,
            )
        self.expect("(")
        args: list[Name] = []
        if not (self.tok.kind == "op" and self.tok.text == ")"):
            while True:
                a = self.tok
                if a.kind != "name":
                    raise ExprError(
                        f"arguments of {name.text}() are names, e.g. {FUNCTIONS[name.text].example}",
                        a.pos,
                    )
                self.take()
                args.append(Name(a.text, pos=a.pos))
                if self.tok.kind == "op" and self.tok.text == ",":
                    self.take()
                    continue
                break
        self.expect(")")
        sig = FUNCTIONS[name.text]
        if not (sig.min_args <= len(args) <= len(sig.args)):
            n = (
                str(len(sig.args))
                if sig.min_args == len(sig.args)
                else f"{sig.min_args} or {len(sig.args)}"
            )
            raise ExprError(
                f"{name.text}() takes {n} argument(s), e.g. {sig.example}", name.pos
            )
        return Call(name.text, args, pos=name.pos)


@dataclass(frozen=True)
class Signature:
    args: tuple[str, ...]  # kinds: flashpoint, state, alliance, territory, supplier, event, status, path
    returns: str  # num | bool | actor
    example: str
    min_args: int = -1
    doc: str = ""

    def __post_init__(self) -> None:
        if self.min_args < 0:
            object.__setattr__(self, "min_args", len(self.args))


STATUSES = ("member", "active", "frozen", "exited", "none")

class _Functions(Mapping):
    """The functions of the language: those the model's parts declare (:mod:`sim.parts`)."""

    def _all(self) -> dict:
        return registry().predicates

    def __getitem__(self, name: str) -> Signature:
        return self._all()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


FUNCTIONS: Mapping[str, Signature] = _Functions()
"""Name -> signature (argument kinds, result type, example) of every declared function."""


def parse_predicate(text: str) -> Node:
    """Parse a ``when:`` predicate; raises :class:`ExprError`. Checks types too.

    Parsed once per text (and set of declared functions): the schema, the reference
    checks and the compiler all ask. The tree returned is shared: do not change it.
    """
    if not isinstance(text, str):
        raise ExprError("a predicate is a text expression, e.g. \"level(lachin) >= 3\"", 0)

    return _parse_predicate(text, REGISTRY.version)


@functools.lru_cache(maxsize=4096)
def _parse_predicate(text: str, version: int) -> Node:
    node = _Parser(text).parse()
    t = type_of(node)
    if t != "bool":
        raise ExprError(
            f"a predicate must be true or false, but this is a {_TYPE_WORD[t]}; "
            "compare it, e.g. level(lachin) >= 3",
            0,
        )
    return node


def parse_arithmetic(text: str) -> Node:
    """Parse a ``derive:`` expression (numbers, names, + - * /, parentheses)."""
    return _Parser(text, arithmetic_only=True).parse()


_TYPE_WORD = {"num": "number", "bool": "true/false value", "actor": "name", "month": "month"}


def type_of(node: Node) -> str:
    """Type-check ``node``: ``num``, ``bool``, ``actor`` or ``month``."""
    if isinstance(node, Num):
        return "num"
    if isinstance(node, BoolLit):
        return "bool"
    if isinstance(node, MonthLit | MonthVar):
        return "month"
    if isinstance(node, Name):
        return "actor"
    if isinstance(node, Call):
        return FUNCTIONS[node.fn].returns
    if isinstance(node, Neg):
        if type_of(node.operand) != "num":
            raise ExprError("'-' needs a number", node.pos)
        return "num"
    if isinstance(node, Arith):
        lt, rt = type_of(node.left), type_of(node.right)
        if lt != "num" or rt != "num":
            bad = node.left if lt != "num" else node.right
            raise ExprError(
                f"'{node.op}' needs numbers on both sides, not a {_TYPE_WORD[type_of(bad)]}"
                + (_name_hint(bad) if isinstance(bad, Name) else ""),
                bad.pos,
            )
        return "num"
    if isinstance(node, Compare):
        lt, rt = type_of(node.left), type_of(node.right)
        if lt == rt == "num" or lt == rt == "month":
            return "bool"
        if lt == rt == "actor":
            if node.op not in ("==", "!="):
                raise ExprError("names can only be compared with == or !=", node.pos)
            if isinstance(node.left, Name) and isinstance(node.right, Name):
                raise ExprError(
                    "compare a function with a name, e.g. controller(karabakh) == azerbaijan",
                    node.pos,
                )
            return "bool"
        if "actor" in (lt, rt) and isinstance(node.left if lt == "actor" else node.right, Name):
            bad = node.left if lt == "actor" else node.right
            raise ExprError(f"unknown name '{bad.name}'{_name_hint(bad)}", bad.pos)
        raise ExprError(
            f"cannot compare a {_TYPE_WORD[lt]} with a {_TYPE_WORD[rt]}", node.pos
        )
    if isinstance(node, Logic):
        for side in (node.left, node.right):
            if type_of(side) != "bool":
                raise ExprError(
                    f"'{node.op}' joins conditions; this side is a {_TYPE_WORD[type_of(side)]}",
                    side.pos,
                )
        return "bool"
    if isinstance(node, Not):
        if type_of(node.operand) != "bool":
            raise ExprError("'not' needs a condition", node.pos)
        return "bool"
    raise ExprError("unsupported expression", node.pos)  # pragma: no cover


def _name_hint(node: Name) -> str:
    if node.name in FUNCTIONS:
        return f"; call it, e.g. {FUNCTIONS[node.name].example}"
    return ""


def walk(node: Node):
    """Every node of a tree, depth first."""
    yield node
    for child in ("left", "right", "operand"):
        sub = getattr(node, child, None)
        if isinstance(sub, Node):
            yield from walk(sub)
    if isinstance(node, Call):
        yield from node.args


def names_used(node: Node) -> list[Name]:
    """All bare names in an arithmetic expression (the facts a derive uses)."""
    return [n for n in walk(node) if isinstance(n, Name)]


def evaluate_arithmetic(node: Node, values: dict[str, float]) -> float:
    """Evaluate a parsed ``derive`` expression with the given name -> number map."""
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Name):
        if node.name not in values:
            raise ExprError(f"unknown name '{node.name}'", node.pos)
        return values[node.name]
    if isinstance(node, Neg):
        return -evaluate_arithmetic(node.operand, values)
    if isinstance(node, Arith):
        a = evaluate_arithmetic(node.left, values)
        b = evaluate_arithmetic(node.right, values)
        if node.op == "+":
            return a + b
        if node.op == "-":
            return a - b
        if node.op == "*":
            return a * b
        if b == 0:
            raise ExprError("division by zero", node.pos)
        return a / b
    raise ExprError("not an arithmetic expression", node.pos)
