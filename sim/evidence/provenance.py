"""Linking parameters to the facts they rest on.

* A ``{fact: ID}`` source without ``derive`` says the value *is* the fact's figure:
  the fact must have one, and it must equal the value.
* ``{fact: [IDs], derive: EXPR}`` says the value is computed from the facts'
  figures; the expression is evaluated and compared with the value (to
  :data:`REL_TOL`); for a distribution, with its mean.
* ``{assumption: TEXT}`` and ``{calibration: NOTE}`` may cite fact ids in square
  brackets (``[csto-am-nonintervention-episodes]``); those ids must exist too.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ..scenario.errors import Mark, Problem, suggest
from ..scenario.expr import ExprError, evaluate_arithmetic, names_used, parse_arithmetic
from ..scenario.references import walk_sources
from ..scenario.values import Dist, parse_dist, parse_source
from ..scenario.yamlsafe import mark_of
from .cards import FactBase

REL_TOL = 0.005
CITED = re.compile(r"\[([a-z0-9]+(?:[-_][a-z0-9]+)*)\]")


def derive_names(facts: FactBase, ids: list[str]) -> dict[str, float]:
    """The names a derive expression may use for the given facts."""
    out: dict[str, float] = {}
    for fid in ids:
        f = facts.get(fid)
        if f is None:
            continue
        base = fid.replace("-", "_")
        for suffix, v in f.figures().items():
            out[base if not suffix else f"{base}.{suffix}"] = v
    return out


def _value_of(container: dict) -> float | None:
    v = container.get("value")
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        try:
            return float(v)
        except OverflowError:
            return None  # the schema reports it
    if isinstance(v, dict):
        try:
            d: Dist = parse_dist(v)
            return d.mean()
        except ValueError:
            return None
    return None


def check_sources(tree: Any, facts: FactBase, file: str) -> list[Problem]:
    """Problems with the ``source:`` entries of a scenario tree (ids, derivations)."""
    problems: list[Problem] = []
    known = facts.facts
    for path, container, src in walk_sources(tree):
        where = mark_of(container, "source") or Mark(file)
        spath = f"{path}.source" if path else "source"
        try:
            parse_source(src)
        except ValueError:
            continue  # malformed (several kinds, a bad derive, ...): the schema reports it
        if "fact" in src:
            ids = src["fact"] if isinstance(src["fact"], list) else [src["fact"]]
            ids = [i for i in ids if isinstance(i, str)]
            if not ids:
                continue  # the schema reports a missing or malformed fact id
            bad = [i for i in ids if i not in known]
            for i in bad:
                problems.append(
                    Problem(
                        _fact_mark(src, i) or where,
                        spath,
                        f"unknown fact '{i}'{suggest(i, known)}; fact ids are in seeds/*.yaml",
                    )
                )
            if bad:
                continue
            value = _value_of(container) if "value" in container else None
            derive = src.get("derive")
            if derive is None:
                if len(ids) > 1 and value is not None:
                    problems.append(
                        Problem(where, spath, "several facts need a derive expression saying how they give the value")
                    )
                elif value is not None:
                    fig = facts.get(ids[0]).figures()
                    if "" not in fig:
                        problems.append(
                            Problem(
                                where,
                                spath,
                                f"fact '{ids[0]}' has no single figure to be this value; add a derive "
                                "expression, or make the source an assumption that cites it in [brackets]",
                            )
                        )
                    elif not _close(fig[""], value):
                        problems.append(
                            Problem(where, spath, f"value {value:g} differs from fact '{ids[0]}' ({fig['']:g}); add a derive expression or fix the value")
                        )
                continue
            if not isinstance(derive, str):
                continue
            try:
                node = parse_arithmetic(derive)
            except ExprError as exc:
                problems.append(Problem(where, f"{spath}.derive", f"{exc.message} (at character {exc.pos + 1})"))
                continue
            names = derive_names(facts, ids)
            for n in names_used(node):
                if n.name not in names:
                    cand = [i.replace("-", "_") for i in ids]
                    dmark = mark_of(src, "derive")
                    problems.append(
                        Problem(
                            dmark.shifted(n.pos) if dmark else where,
                            f"{spath}.derive",
                            f"'{n.name}' is not a figure of the cited facts{suggest(n.name, list(names) or cand)}"
                            + ("" if names else "; the cited facts have no figures"),
                        )
                    )
                    break
            else:
                try:
                    got = evaluate_arithmetic(node, names)
                except ExprError as exc:
                    problems.append(Problem(where, f"{spath}.derive", exc.message))
                    continue
                if value is not None and not _close(got, value):
                    problems.append(
                        Problem(
                            where,
                            f"{spath}.derive",
                            f"derive gives {got:.6g} but the value is {value:.6g}; fix one of them",
                        )
                    )
        else:
            text = src.get("assumption") or src.get("calibration")
            if isinstance(src.get("calibration"), str):
                from .calibrations import CALIBRATIONS, calibration_key

                if calibration_key(src["calibration"]) is None:
                    problems.append(
                        Problem(
                            where,
                            spath,
                            "a calibration note starts with a documented key ("
                            + ", ".join(CALIBRATIONS)
                            + "); see docs/CALIBRATION.md, or make it an assumption",
                        )
                    )
            if isinstance(text, str):
                key = "assumption" if src.get("assumption") else "calibration"
                tmark = mark_of(src, key)
                for m in CITED.finditer(text):
                    fid = m.group(1)
                    if fid not in known:
                        at = tmark.shifted(m.start() + 1) if tmark else where
                        problems.append(Problem(at, spath, f"cites unknown fact [{fid}]{suggest(fid, known)}"))
    return problems


def _fact_mark(src: Any, fid: str) -> Mark | None:
    """Where the fact id ``fid`` is written in a source's ``fact:``."""
    ids = src.get("fact")
    if isinstance(ids, list) and fid in ids:
        return mark_of(ids, ids.index(fid))
    return mark_of(src, "fact")


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12)
