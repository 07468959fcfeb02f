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

from dataclasses import dataclass, field
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
        box: PRIM: the box's index on the peeling trajectory (the one chosen, before any
            restriction was dropped).
        qp: PRIM: each condition's quasi-p value (Bryant and Lempert 2010: a one-sided
            binomial test of the box against the box without that restriction; small:
            the restriction matters), by ``(input, op)``.
        dropped: PRIM: restrictions of the chosen box that did not matter (quasi-p above
            ``alpha``), dropped: ``(input, qp)``.
        kept: PRIM: restrictions not significant alone (quasi-p above ``alpha``) that were
            kept because dropping them would take the box's density below the threshold.
        trajectory: PRIM: the peeling trajectory, one row per box (:func:`trajectory_table`).
    """

    method: str
    conditions: list[tuple[str, str, Any]]
    density: float
    coverage: float
    sets: float
    base: float
    likely_share: float | None = None
    box: int | None = None
    qp: dict[tuple[str, str], float] = field(default_factory=dict)
    dropped: list[tuple[str, float]] = field(default_factory=list)
    kept: list[tuple[str, float]] = field(default_factory=list)
    trajectory: Any = field(default=None, repr=False)

    def rule(self, qp: bool = False) -> str:
        parts = []
        for name, op, v in self.conditions:
            if op in ("on", "off"):
                text = f"lever {name[len(LEVER):]} is {'pulled' if op == 'on' else 'not pulled'}"
            else:
                text = f"{name} {op} {v:.3g}"
            q = self.qp.get((name, op))
            parts.append(text + (f" (qp {_qp(q)})" if qp and q is not None else ""))
        return " and ".join(parts) if parts else "always"

    def plain(self) -> dict[str, Any]:
        """As JSON-ready data (``sim discover --json``)."""
        return {"method": self.method, "rule": self.rule(), "conditions": [list(c) for c in self.conditions],
                "density": self.density, "coverage": self.coverage, "sets": self.sets, "base": self.base,
                "likely_share": self.likely_share, "box": self.box,
                "qp": [{"input": n, "op": op, "qp": q} for (n, op), q in self.qp.items()],
                "dropped": [{"input": n, "qp": q} for n, q in self.dropped],
                "kept": [{"input": n, "qp": q} for n, q in self.kept]}

    def words(self, description: str) -> str:
        when = f"When {self.rule()}" if self.conditions else "Over all parameter sets"
        return (f"{when}: {description} in {100 * self.density:.0f}% of runs "
                f"(against {100 * self.base:.0f}% over the whole sweep); this covers {100 * self.coverage:.0f}% of "
                f"all the runs where it happens, with {100 * self.sets:.0f}% of the parameter sets.")


def _name(path: str) -> str:
    return f"lever {path[len(LEVER):]}" if path.startswith(LEVER) else path


def _cond_words(name: str, op: str, v: Any) -> str:
    if op in ("on", "off"):
        return f"lever {name[len(LEVER):]} {'pulled' if op == 'on' else 'not pulled'}"
    return f"{name} {op} {v:.3g}"


def _weighted(tab: Any, outcome: str, inside: np.ndarray) -> tuple[float, float, float, float]:
    runs = tab["runs"].to_numpy(dtype=float)
    hits = tab[outcome].to_numpy(dtype=float) * runs
    base = hits.sum() / runs.sum()
    if not inside.any():
        return float("nan"), 0.0, 0.0, float(base)
    return (float(hits[inside].sum() / runs[inside].sum()), float(hits[inside].sum() / max(hits.sum(), 1e-300)),
            float(inside.mean()), float(base))


ALPHA = 0.05
"""A PRIM restriction whose quasi-p value is above this does not matter and is dropped."""


def _qp(q: float) -> str:
    return "< 0.001" if q < 0.001 else f"{q:.2g}"


def trajectory_table(box: Any) -> Any:
    """A PRIM box's peeling trajectory in plain words: one row per box (index ``box``),
    ``coverage`` (share of the sets where the outcome is likely that are inside),
    ``density`` (share of the sets inside where it is likely), ``mass`` (share of all sets
    inside), ``restricted`` (inputs restricted), ``sets`` and ``likely_sets`` inside."""
    t = box.peeling_trajectory
    out = t[["coverage", "density", "mass", "res_dim", "n", "k"]].rename(
        columns={"res_dim": "restricted", "n": "sets", "k": "likely_sets"}).copy()
    out.index.name = "box"
    return out.astype({"restricted": int, "sets": int, "likely_sets": int})


def _qp_of(box: Any, i: int) -> dict[str, list[float]]:
    """EMA's quasi-p values of box i, ``{input: [lower, upper]}`` (-1 where that side is not restricted)."""
    qp = getattr(box, "qp", None)
    if qp is not None and i < len(qp):
        return {k: list(v) for k, v in qp[i].items()}
    from ema_workbench.analysis import scenario_discovery_util as sdutil

    dims = sdutil._determine_restricted_dims(box.box_lims[i], box.prim.box_init)
    return {k: list(v) for k, v in box._calculate_quasi_p(i, dims).items()}  # older EMA


def _drop_unneeded(box: Any, i: int, alpha: float, floor: float) -> tuple[int, list[tuple[str, float]], list[tuple[str, float]]]:
    """Drop, one at a time, the restrictions of box i whose quasi-p values are all above
    ``alpha`` (the largest first, recomputed after each drop), as EMA's
    ``drop_restriction`` does (each new box goes on the trajectory), as long as the box's
    density stays at least ``floor``. Returns the final box's index, what was dropped, and
    what was kept though not significant alone (dropping it would lower the density below
    ``floor``), each with its quasi-p value."""
    dropped: list[tuple[str, float]] = []
    kept: dict[str, float] = {}
    cur = i
    box.select(cur)
    while True:
        qp = _qp_of(box, cur)
        cands = []
        for dim, vals in qp.items():
            valid = [float(v) for v in vals if v is not None and v >= 0]
            if valid and min(valid) > alpha and dim not in kept:
                cands.append((max(valid), dim))
        moved = False
        for q, dim in sorted(cands, reverse=True):
            box.drop_restriction(dim)
            new = len(box.box_lims) - 1
            if float(box.peeling_trajectory["density"].iloc[new]) >= floor:
                cur = new
                box.select(cur)
                dropped.append((dim, q))
                moved = True
                break
            kept[dim] = q
            box.select(cur)
        if not moved:
            qp = _qp_of(box, cur)  # as the final box states them
            return cur, dropped, [(d, max(float(v) for v in qp[d] if v is not None and v >= 0)) for d in kept
                                  if d in qp and any(v is not None and v >= 0 for v in qp[d])]


def prim(tab: Any, inputs: list[str], outcome: str, likely: float = 0.5, density: float = 0.8,
         mass_min: float = 0.05, box: int | None = None, alpha: float = ALPHA) -> Finding | None:
    """The PRIM box (EMA Workbench) of the sets where ``outcome`` has probability >= ``likely``.

    PRIM peels the input space into a trajectory of ever smaller, denser boxes
    (:attr:`Finding.trajectory`). The box taken is ``box`` (its index on the trajectory),
    or by default the one with the highest coverage (then the highest density) whose
    share of likely sets is at least ``density`` (else the densest). Its restrictions
    whose quasi-p values are all above ``alpha`` do not matter and are dropped, one at a
    time (EMA's ``drop_restriction``), as long as the box keeps its density (at least
    ``density``, or the chosen box's own if lower); the others are stated with their
    quasi-p values.
    None when no set is likely (or every set is)."""
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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas deprecations inside EMA
        p = ema_prim.Prim(x.reset_index(drop=True), y, mass_min=mass_min, **kw)
        pbox = p.find_box()
    traj = trajectory_table(pbox)
    if box is not None:
        from ..scenario.errors import option_error

        if not (isinstance(box, int) and 0 <= box < len(traj)):
            raise option_error("--box", f"the peeling trajectory of '{outcome}' has boxes 0 to {len(traj) - 1} "
                               f"(got {box!r})")
        i = box
    else:
        ok = traj[traj["density"] >= density]
        # the box that keeps the most of the likely sets; among those, the densest
        i = int(ok.sort_values(["coverage", "density"], ascending=False).index[0]) if len(ok) else int(traj["density"].idxmax())
    floor = min(density, float(traj["density"].iloc[i]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        final, dropped, kept = _drop_unneeded(pbox, i, alpha, floor)
        qp = _qp_of(pbox, final)
    lims, init = pbox.box_lims[final], pbox.box_lims[0]
    inside = np.ones(len(tab), dtype=bool)
    conds: list[tuple[str, str, Any]] = []
    qps: dict[tuple[str, str], float] = {}
    for c in inputs:
        q = qp.get(c, [-1, -1])
        if c.startswith(LEVER):
            allowed = set(lims[c].iloc[0])
            if allowed != set(init[c].iloc[0]) and len(allowed) == 1:
                state = next(iter(allowed))
                conds.append((c, state, None))
                if q[0] is not None and q[0] >= 0:
                    qps[(c, state)] = float(q[0])
                inside &= tab[c].astype(bool).to_numpy() == (state == "on")
            continue
        lo, hi = float(lims[c].iloc[0]), float(lims[c].iloc[1])
        v = tab[c].to_numpy(dtype=float)
        if lo > float(init[c].iloc[0]):
            conds.append((c, ">=", lo))
            if q[0] >= 0:
                qps[(c, ">=")] = float(q[0])
        if hi < float(init[c].iloc[1]):
            conds.append((c, "<=", hi))
            if q[1] >= 0:
                qps[(c, "<=")] = float(q[1])
        inside &= (v >= lo) & (v <= hi)
    d, cov, share, base = _weighted(tab, outcome, inside)
    return Finding("prim", conds, d, cov, share, base, float(y[inside].mean()) if inside.any() else None,
                   box=i, qp=qps, dropped=dropped, kept=kept, trajectory=traj)


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
             density: float = 0.8, box: int | None = None, alpha: float = ALPHA) -> dict[str, Any]:
    """Boxes and rules for ``outcome`` in a sweep folder (or a :class:`~sim.analysis.sweep.Sweep`).

    ``box``: the PRIM box to take, by its index on the peeling trajectory (default: see
    :func:`prim`); ``alpha``: restrictions with quasi-p values above it are dropped.
    Returns ``{"outcome", "description", "base", "prim": Finding | None, "cart": [Finding],
    "words": [sentences]}``; the PRIM finding holds its peeling trajectory.
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
        found["prim"] = prim(tab, inputs, outcome, likely, density, box=box, alpha=alpha)
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
            found["words"].append(f"PRIM (box {b.box} of the peeling trajectory's {len(b.trajectory)}): " + b.words(desc)
                                  + (f" In {100 * b.likely_share:.0f}% of the sets in this box its probability is "
                                     f"{likely:.0%} or more." if b.likely_share is not None else ""))
            if b.qp:
                found["words"].append("Quasi-p values of its restrictions (small: the restriction matters): " + "; ".join(
                    f"{_cond_words(n, op, v)} {_qp(b.qp[(n, op)])}" for n, op, v in b.conditions if (n, op) in b.qp)
                                      + ".")
            if b.dropped:
                found["words"].append(f"Dropped as not mattering (quasi-p above {alpha:g}): " + ", ".join(
                    f"{_name(n)} (qp {_qp(q)})" for n, q in b.dropped) + ".")
            if b.kept:
                found["words"].append(f"Kept though not significant alone (quasi-p above {alpha:g}), because without "
                                      "them the box would fall below its density: " + ", ".join(
                                          f"{_name(n)} (qp {_qp(q)})" for n, q in b.kept) + ".")
    if method in ("cart", "both"):
        found["cart"] = cart(tab, inputs, outcome)
        for k, f in enumerate(found["cart"]):
            found["words"].append(f"CART rule {k + 1}: " + f.words(desc))
    return found
