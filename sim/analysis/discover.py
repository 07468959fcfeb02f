"""Scenario discovery: the input ranges where an outcome is likely, in words.

From a sweep's table (one row per parameter set: inputs, runs, the outcome's
probability) two well-known methods look for simple descriptions of where the
outcome is likely:

* PRIM (the Patient Rule Induction Method, EMA Workbench's implementation) peels the
  input space down to a box of sets where the outcome is likely (a set counts as
  "likely" when its probability is at least ``likely``, default 0.5);
* CART (scikit-learn's regression tree, weighted by runs) splits the sets into a few
  leaves by the probability itself and reads each leaf's path as a rule.

Each box or rule is stated with the run-weighted numbers a reader needs: the
probability of the outcome over the runs inside it (density), the share of all the
runs where the outcome happened that fall inside it (coverage), and the share of the
parameter sets inside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..replicates import require
from ..scenario.errors import InputError, option_error, suggest
from .design import LEVER
from .sweep import Sweep
from .sweep_io import read_sweep


@dataclass
class Finding:
    """A box or rule: its conditions and how well it describes the outcome.

    Attributes:
        method: ``prim`` or ``cart``.
        conditions: ``(input, op, value)``, op one of ``<=``, ``>=``, ``<``, ``>``, ``on``, ``off``.
        density: P(outcome) over the runs inside (run-weighted).
        coverage: Share of all runs with the outcome that are inside.
        sets: Share of the parameter sets inside.
        base: P(outcome) over all runs of the sweep.
        likely_share: Share of the sets inside where the outcome is likely (PRIM's own density).
    """

    method: str
    conditions: list[tuple[str, str, Any]]
    density: float
    coverage: float
    sets: float
    base: float
    likely_share: float | None = None

    def rule(self) -> str:
        parts = []
        for name, op, v in self.conditions:
            if op in ("on", "off"):
                parts.append(f"lever {name[len(LEVER):]} is {'pulled' if op == 'on' else 'not pulled'}")
            else:
                parts.append(f"{name} {op} {v:.3g}")
        return " and ".join(parts) if parts else "always"

    def words(self, description: str) -> str:
        when = f"When {self.rule()}" if self.conditions else "Over all parameter sets"
        return (f"{when}: {description} in {100 * self.density:.0f}% of runs "
                f"(against {100 * self.base:.0f}% over the whole sweep); this covers {100 * self.coverage:.0f}% of "
                f"all the runs where it happens, with {100 * self.sets:.0f}% of the parameter sets.")


def _weighted(tab: Any, outcome: str, inside: np.ndarray) -> tuple[float, float, float, float]:
    runs = tab["runs"].to_numpy(dtype=float)
    hits = tab[outcome].to_numpy(dtype=float) * runs
    base = hits.sum() / runs.sum()
    if not inside.any():
        return float("nan"), 0.0, 0.0, float(base)
    return (float(hits[inside].sum() / runs[inside].sum()), float(hits[inside].sum() / max(hits.sum(), 1e-300)),
            float(inside.mean()), float(base))


def prim(tab: Any, inputs: list[str], outcome: str, likely: float = 0.5, density: float = 0.8,
         mass_min: float = 0.05) -> Finding | None:
    """The PRIM box (EMA Workbench) of the sets where ``outcome`` has probability >= ``likely``:
    on the peeling trajectory, the box with the highest coverage (then the highest density) whose
    share of likely sets is at least ``density`` (else the densest). None when no set is likely
    (or every set is)."""
    import warnings


    with warnings.catch_warnings():  # EMA warns about optional parallel back-ends it does not find
        warnings.simplefilter("ignore")
        require("ema_workbench", "PRIM (sim discover)", option="--method")
        from ema_workbench.analysis import prim as ema_prim

    x = tab[inputs].copy()
    for c in inputs:
        if c.startswith(LEVER):
            x[c] = x[c].astype(bool).map({True: "on", False: "off"}).astype("category")
    y = (tab[outcome].to_numpy(dtype=float) >= likely)
    if not y.any() or y.all():
        return None
    import logging

    logging.getLogger("EMA").setLevel(logging.ERROR)
    import inspect

    kw = {"threshold": density} if "threshold" in inspect.signature(ema_prim.Prim).parameters else {}  # EMA 2.x
    p = ema_prim.Prim(x.reset_index(drop=True), y, mass_min=mass_min, **kw)
    box = p.find_box()
    traj = box.peeling_trajectory
    ok = traj[traj["density"] >= density]
    # the box that keeps the most of the likely sets; among those, the densest
    i = int(ok.sort_values(["coverage", "density"], ascending=False).index[0]) if len(ok) else int(traj["density"].idxmax())
    lims, init = box.box_lims[i], box.box_lims[0]
    inside = np.ones(len(tab), dtype=bool)
    conds: list[tuple[str, str, Any]] = []
    for c in inputs:
        if c.startswith(LEVER):
            allowed = set(lims[c].iloc[0])
            if allowed != set(init[c].iloc[0]) and len(allowed) == 1:
                state = next(iter(allowed))
                conds.append((c, state, None))
                inside &= tab[c].astype(bool).to_numpy() == (state == "on")
            continue
        lo, hi = float(lims[c].iloc[0]), float(lims[c].iloc[1])
        v = tab[c].to_numpy(dtype=float)
        if lo > float(init[c].iloc[0]):
            conds.append((c, ">=", lo))
        if hi < float(init[c].iloc[1]):
            conds.append((c, "<=", hi))
        inside &= (v >= lo) & (v <= hi)
    d, cov, share, base = _weighted(tab, outcome, inside)
    return Finding("prim", conds, d, cov, share, base, float(y[inside].mean()) if inside.any() else None)


def cart(tab: Any, inputs: list[str], outcome: str, depth: int = 3, top: int = 3) -> list[Finding]:
    """Leaves of a run-weighted regression tree (scikit-learn) of the outcome's probability on
    the inputs, highest probability first: each leaf's path is a rule."""
    require("sklearn", "CART rules (sim discover)", option="--method")
    from sklearn.tree import DecisionTreeRegressor

    X = tab[inputs].astype(float).to_numpy()
    y = tab[outcome].to_numpy(dtype=float)
    w = tab["runs"].to_numpy(dtype=float)
    leaf_min = max(2, len(tab) // 20)
    tree = DecisionTreeRegressor(max_depth=depth, min_samples_leaf=leaf_min, random_state=0).fit(X, y, sample_weight=w)
    t = tree.tree_
    leaves = tree.apply(X)
    out = []

    def walk(node: int, conds: list) -> None:
        if t.children_left[node] == -1:
            inside = leaves == node
            d, cov, share, base = _weighted(tab, outcome, inside)
            out.append(Finding("cart", conds, d, cov, share, base))
            return
        name, thr = inputs[t.feature[node]], float(t.threshold[node])
        if name.startswith(LEVER):
            walk(t.children_left[node], [*conds, (name, "off", None)])
            walk(t.children_right[node], [*conds, (name, "on", None)])
        else:
            walk(t.children_left[node], [*conds, (name, "<=", thr)])
            walk(t.children_right[node], [*conds, (name, ">", thr)])

    walk(0, [])
    out = [_simplify(f) for f in out]
    return sorted(out, key=lambda f: -f.density if f.density == f.density else 0)[:top]


def _simplify(f: Finding) -> Finding:
    """Keep the tightest bound per input and direction (a path may split one input twice)."""
    best: dict[tuple[str, str], Any] = {}
    for name, op, v in f.conditions:
        key = (name, op)
        if op in ("<=", "<"):
            best[key] = v if key not in best else min(best[key], v)
        elif op in (">", ">="):
            best[key] = v if key not in best else max(best[key], v)
        else:
            best[key] = v
    f.conditions = [(n, op, v) for (n, op), v in best.items()]
    return f


def discover(folder: Any, outcome: str, *, method: str = "both", likely: float = 0.5,
             density: float = 0.8) -> dict[str, Any]:
    """Boxes and rules for ``outcome`` in a sweep folder (or a :class:`~sim.analysis.sweep.Sweep`).

    Returns ``{"outcome", "description", "base", "prim": Finding | None, "cart": [Finding],
    "words": [sentences]}``.
    """
    problems = []
    if method not in ("prim", "cart", "both"):
        problems += option_error("--method", f"must be prim, cart or both (got {method!r})").problems
    for flag, value, meaning in (("--likely", likely, "the probability from which a set counts as one where it is likely"),
                                 ("--density", density, "the least share of likely sets a box must hold")):
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
            problems += option_error(flag, f"must be a share in (0, 1], {meaning} (got {value!r})").problems
    if problems:
        raise InputError(problems)
    if isinstance(folder, Sweep):
        tab = folder.table()
        inputs = [i.name for i in folder.inputs]
        descriptions = {o: folder.description(o) for o in folder.outcomes}
    else:
        tab, summary = read_sweep(folder)
        inputs = [i["name"] for i in summary["inputs"]]
        descriptions = {k: v["description"] for k, v in summary["outcomes"].items()}
    if outcome not in descriptions:
        raise option_error("--outcome", f"no outcome '{outcome}' in the sweep{suggest(outcome, list(descriptions))}; "
                           f"outcomes are {', '.join(descriptions)}")
    tab = tab[tab["runs"] > 0]
    desc = descriptions[outcome]
    found: dict[str, Any] = {"outcome": outcome, "description": desc,
                             "base": _weighted(tab, outcome, np.ones(len(tab), dtype=bool))[3],
                             "prim": None, "cart": [], "words": []}
    if method in ("prim", "both"):
        found["prim"] = prim(tab, inputs, outcome, likely, density)
        y = tab[outcome].to_numpy(dtype=float) >= likely
        if found["prim"] is None and not y.any():
            found["words"].append(f"PRIM: in no parameter set is it likely (probability {likely:.0%} or more); "
                                  "lower --likely to look for where it is more likely than elsewhere.")
        elif found["prim"] is None:
            found["words"].append(f"PRIM: it is likely (probability {likely:.0%} or more) in every parameter set; "
                                  "raise --likely to look for where it is most likely.")
        elif not found["prim"].conditions:
            found["words"].append(f"PRIM: no box of inputs separates the sets where it is likely (probability "
                                  f"{likely:.0%} or more, {y.mean():.0%} of the sets) from the others.")
        else:
            b = found["prim"]
            found["words"].append("PRIM: " + b.words(desc) + (
                f" In {100 * b.likely_share:.0f}% of the sets in this box its probability is {likely:.0%} or more."
                if b.likely_share is not None else ""))
    if method in ("cart", "both"):
        found["cart"] = cart(tab, inputs, outcome)
        for k, f in enumerate(found["cart"]):
            found["words"].append(f"CART rule {k + 1}: " + f.words(desc))
    return found
