"""The paths a scenario can address, and what each one is.

An effect (``set: {flashpoints.lachin.level: 3}``), ``value(PATH)`` in a condition, a
sweep's ``uncertainties:`` and ``--set`` all name a quantity by a dotted path. Which
paths exist follows from the actors the scenario defines: every state has an affinity
towards every other, so a world of S states has S * (S - 1) affinity paths, millions
for a scenario of a few thousand states written by a script. :class:`Addressable`
answers "is this a path, and of what kind" by parsing the path, never by listing them.
"""

from __future__ import annotations

import difflib
import itertools
import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..parts import registry
from .errors import suggest
from .values import Bounds


def _d(x: Any) -> dict:
    return x if isinstance(x, dict) else {}


SECTIONS = {
    "state": "states",
    "alliance": "alliances",
    "supplier": "suppliers",
    "territory": "territories",
    "flashpoint": "flashpoints",
}
_KIND = {section: kind for kind, section in SECTIONS.items()}
_CACHE: dict[str, Any] = {"version": -1}


def patterns() -> tuple[tuple[str, str], ...]:
    """What an effect, ``value()``, a sweep or ``--set`` can address, as patterns: a literal
    segment, or ``{kind}`` for the name of an actor of that kind; with the kind of the path
    (``num``, ``int``, ``names``, ``name``). Derived from the declared attributes and
    effect targets (:mod:`sim.parts`). Two slots of the same kind name two different
    actors (a state's affinity towards itself is not a parameter)."""
    reg = registry()
    if _CACHE["version"] != reg.version:
        out: list[tuple[str, str]] = []
        for a in reg.attrs.values():
            base = f"{a.section}.{{{_KIND[a.section]}}}.{a.name}"
            if a.keyed_by is not None:
                base += f".{{{_KIND[a.keyed_by]}}}"
            out.append((base, "int" if a.integer else "num"))
        for t in reg.targets.values():
            out.append((f"{t.section}.{{{_KIND[t.section]}}}.{t.name}", t.kind))
        split = tuple((tuple(p.split(".")), kind) for p, kind in out)
        index: dict[tuple[str, int], list[tuple[tuple[str, ...], str]]] = {}
        for segs, kind in split:
            index.setdefault((segs[0], len(segs)), []).append((segs, kind))
        _CACHE.update(version=reg.version, patterns=tuple(out), split=split, index=index)
    return _CACHE["patterns"]


def _split() -> tuple:
    patterns()
    return _CACHE["split"]


def _index() -> dict:
    patterns()
    return _CACHE["index"]


SMALL_WORLD = 50
"""Up to this many actors of a kind, suggestions consider every path; above it, only
paths whose names are close to the ones written (a world of thousands of states has
millions of affinity paths)."""


def _slot(segment: str) -> str | None:
    return segment[1:-1] if segment.startswith("{") else None


class Addressable(Mapping[str, str]):
    """Every path an effect, ``value()``, a sweep or ``--set`` can address, with its kind.

    A read-only mapping ``path -> kind`` (see :func:`patterns`) that answers by parsing
    the path against the actors the scenario defines, without listing the paths: a
    scenario with S states has S * (S - 1) affinity paths. Iterating lists them lazily.
    """

    def __init__(
        self,
        tree: dict,
        rule_paths: Mapping[str, str] | None = None,
        rule_bounds: Mapping[str, Bounds] | None = None,
    ):
        self.names: dict[str, dict[str, None]] = {
            kind: dict.fromkeys(k for k in _d(tree.get(section)) if isinstance(k, str))
            for kind, section in SECTIONS.items()
        }
        self.rules: dict[str, str] = dict(rule_paths or {})
        self.rule_bounds: dict[str, Bounds] = dict(rule_bounds or {})

    # ------------------------------------------------------------ the mapping

    def kind(self, path: Any) -> str | None:
        """The kind of ``path`` (``num``, ``int``, ``names``, ``name``), or ``None``."""
        if not isinstance(path, str):
            return None
        if path in self.rules:
            return self.rules[path]
        parts = path.split(".")
        for segs, kind in _index().get((parts[0], len(parts)), ()):
            if self._fits(segs, parts):
                return kind
        return None

    def _fits(self, segs: tuple[str, ...], parts: list[str]) -> bool:
        used: dict[str, str] = {}
        for seg, part in zip(segs, parts, strict=True):
            kind = _slot(seg)
            if kind is None:
                if seg != part:
                    return False
            elif part not in self.names[kind] or used.get(kind) == part:
                return False
            else:
                used[kind] = part
        return True

    def __getitem__(self, path: str) -> str:
        kind = self.kind(path)
        if kind is None:
            raise KeyError(path)
        return kind

    def __contains__(self, path: object) -> bool:
        return self.kind(path) is not None

    def __iter__(self) -> Iterator[str]:
        for segs, _ in _split():
            yield from self._expand(segs, [self._choices(seg) for seg in segs])
        yield from self.rules

    def __len__(self) -> int:
        n = len(self.rules)
        for segs, _ in _split():
            sizes = [len(self.names[k]) for k in map(_slot, segs) if k is not None]
            count = math.prod(sizes)
            if len(sizes) == 2 and len({_slot(s) for s in segs if _slot(s)}) == 1:
                count -= sizes[0]  # the pairs of an actor with itself
            n += count
        return n

    def _choices(self, seg: str) -> Iterable[str]:
        kind = _slot(seg)
        return (seg,) if kind is None else self.names[kind]

    @staticmethod
    def _expand(segs: tuple[str, ...], choices: list[Iterable[str]]) -> Iterator[str]:
        kinds = [_slot(s) for s in segs]
        for combo in itertools.product(*choices):
            seen: dict[str, str] = {}
            ok = True
            for kind, part in zip(kinds, combo, strict=True):
                if kind is not None:
                    if seen.get(kind) == part:
                        ok = False
                        break
                    seen[kind] = part
            if ok:
                yield ".".join(combo)

    # ------------------------------------------------------------- what it is

    def bounds(self, path: str) -> Bounds | None:
        """The range of the numeric parameter at ``path``, as its declaration gives it."""
        kind = self.kind(path)
        if kind not in ("num", "int"):
            return None
        if path in self.rules:
            return self.rule_bounds.get(path, Bounds(integer=kind == "int"))

        parts = path.split(".")
        attr = registry().attrs.get((parts[0], parts[2])) if len(parts) >= 3 else None
        return Bounds(attr.bounds.lo, attr.bounds.hi, attr.bounds.integer) if attr else Bounds(integer=kind == "int")

    # ------------------------------------------------------------ suggestions

    def candidates(self, path: str, kinds: Iterable[str] | None = None) -> list[str]:
        """Addressable paths that a mistyped ``path`` may have meant.

        Every path in a small world; in a large one, the paths whose actor names are
        written in ``path`` or close to the name at the same place.
        """
        want = set(kinds) if kinds is not None else None
        parts = path.split(".")
        cache: dict[tuple[str, str], list[str]] = {}
        out: list[str] = []
        for segs, kind in _split():
            if want is not None and kind not in want:
                continue
            choices: list[Iterable[str]] = []
            for i, seg in enumerate(segs):
                slot = _slot(seg)
                if slot is None:
                    choices.append((seg,))
                    continue
                given = parts[i] if i < len(parts) else ""
                if (slot, given) not in cache:
                    cache[(slot, given)] = self._near(slot, given, parts)
                choices.append(cache[(slot, given)])
            out.extend(self._expand(segs, choices))
        out.extend(p for p, k in self.rules.items() if want is None or k in want)
        return out

    def _near(self, kind: str, given: str, parts: list[str]) -> list[str]:
        names = self.names[kind]
        if len(names) <= SMALL_WORLD:
            return list(names)
        near = [p for p in parts if p in names]
        near += difflib.get_close_matches(given, names, n=5, cutoff=0.6)
        return list(dict.fromkeys(near))

    def suggest(self, path: str, kinds: Iterable[str] | None = None, *, cutoff: float = 0.75) -> str:
        """`` (did you mean 'x'?)`` for the closest addressable path, or ``""``."""
        return suggest(path, self.candidates(path, kinds), cutoff=cutoff)


def addressable(
    tree: dict,
    rule_paths: Mapping[str, str] | None = None,
    rule_bounds: Mapping[str, Bounds] | None = None,
) -> Addressable:
    """Every path an effect, ``value()``, a sweep or ``--set`` can address, with its kind.

    Kinds: ``num`` (a number), ``int`` (a whole number), ``names`` (a list of actor
    names), ``name`` (one actor name). The result is a mapping that parses each path it
    is asked about (:class:`Addressable`): checking a path costs the same in a world of
    five states or of five thousand.
    """
    return Addressable(tree, rule_paths, rule_bounds)
