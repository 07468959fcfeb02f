"""Comparing two variants: differences in outcome probabilities, with common random numbers.

Both variants run with the same seed, runs and chunk size, so replicate i of A and
replicate i of B draw from the same random streams wherever the structure allows
(streams are keyed by name: a parameter's draws by its path, a rule's by the rule's
name). The two runs are then *paired*: per outcome the difference in probability, its
95% interval — Newcombe's score interval for a difference of paired proportions
(:func:`newcombe_paired`) — and McNemar's exact test on the replicates where only one of
the two had the outcome. Pairs are independent across replicates whatever the
correlation, so the paired analysis is valid for any two scenarios; common random
numbers only make it sharper. With ``independent=True`` B gets its own seed, the
interval is Newcombe's hybrid score interval (:func:`newcombe_independent`) and the test
Fisher's exact test. Both intervals stay within [-1, 1] and contain the difference
(a Wald or t interval can leave [-1, 1] near 0% or 100%). p-values are also given
adjusted for the number of outcomes (Benjamini-Hochberg), and an outcome is called
different when the adjusted value is below 0.05.

Only outcomes both variants define the same way are compared (:func:`shared_outcomes`:
the same name and the same resolved spec, combined outcomes expanded); two scenarios
with none in common are an :class:`InputError`.

The event counts (requests, refusals, deliveries, rises, wars...) are compared the
same way; those that differ most are a first explanation of the difference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import arguments as A
from .. import montecarlo
from ..api import LoadedScenario, load_scenario, run_option_problems
from ..files import write_folder
from ..parts import Ref
from ..results import Z95, wilson
from ..scenario.errors import InputError, Mark, Problem
from ..scenario.load import parse_overrides

ALPHA = 0.05


class Flags:
    """A :class:`~sim.results.Results` consumer keeping, per replicate, which outcomes
    happened and how often each event did (1 byte per outcome, 4 per event, per run)."""

    def __init__(self) -> None:
        self.hits: list[np.ndarray] = []
        self.counts: dict[str, list[np.ndarray]] = {}

    def add(self, res: Any, r: Any) -> None:
        d = r.replicates
        self.hits.append(d["first"] > 0)
        for k, v in d["counts"].items():
            self.counts.setdefault(k, []).append(np.asarray(v, dtype=np.int32))

    def matrix(self, n_outcomes: int) -> np.ndarray:
        return np.concatenate(self.hits, axis=1) if self.hits else np.zeros((n_outcomes, 0), dtype=bool)

    def count(self, name: str) -> np.ndarray:
        parts = self.counts.get(name)
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)


@dataclass
class Comparison:
    """Two runs of the same size and their per-replicate flags.

    Attributes:
        a, b: The two :class:`~sim.results.Results`.
        label_a, label_b: What each variant is, in words.
        paired: Same seed, runs and chunking (common random numbers).
    """

    a: Any
    b: Any
    label_a: str
    label_b: str
    paired: bool
    flags_a: Flags = field(repr=False)
    flags_b: Flags = field(repr=False)
    left_out: list[tuple[str, str]] = field(default_factory=list)
    """Outcomes not compared, with why: only in A, only in B, or defined differently."""

    def common(self) -> list[str]:
        """The outcomes compared: both variants define them, and the same way."""
        nb = {o.name for o in self.b.outcomes}
        skip = {n for n, _ in self.left_out}
        return [o.name for o in self.a.outcomes if o.name in nb and o.name not in skip]

    def _hits(self, which: str, name: str) -> np.ndarray:
        res, fl = (self.a, self.flags_a) if which == "a" else (self.b, self.flags_b)
        i = res._index(name)
        return fl.matrix(len(res.outcomes))[i]

    def outcomes(self) -> Any:
        """Per outcome both probabilities, the difference B - A with its 95% interval,
        the test's p-value, the adjusted p-value and whether the difference is called
        significant; for paired runs also how many replicates had it only in A, only in B."""
        import pandas as pd
        from scipy import stats

        rows = []
        for name in self.common():
            x, y = self._hits("a", name).astype(float), self._hits("b", name).astype(float)
            pa, pb = float(x.mean()), float(y.mean())
            row: dict[str, Any] = {"outcome": name, "description": self.a.outcomes[self.a._index(name)].description,
                                   "p_a": pa, "p_b": pb, "diff": pb - pa}
            if self.paired:
                d = y - x
                only_a, only_b = int((d < 0).sum()), int((d > 0).sum())
                both = int(((x > 0) & (y > 0)).sum())
                lo, hi = newcombe_paired(both, only_b, only_a, len(d) - both - only_a - only_b)
                p = 1.0 if only_a + only_b == 0 else float(stats.binomtest(only_b, only_a + only_b, 0.5).pvalue)
                row.update(ci_low=lo, ci_high=hi, p_value=p, only_a=only_a, only_b=only_b,
                           test="McNemar exact (paired)", interval="Newcombe score, paired (method 10)")
            else:
                ka, kb = int(x.sum()), int(y.sum())
                lo, hi = newcombe_independent(kb, len(y), ka, len(x))
                p = float(stats.fisher_exact([[kb, len(y) - kb], [ka, len(x) - ka]]).pvalue)
                row.update(ci_low=lo, ci_high=hi, p_value=p, only_a=None, only_b=None, test="Fisher exact (independent)",
                           interval="Newcombe hybrid score (method 10)")
            rows.append(row)
        df = pd.DataFrame(rows)
        if df.empty:
            return df
        df["p_adjusted"] = stats.false_discovery_control(df["p_value"].to_numpy(), method="bh")
        df["significant"] = df["p_adjusted"] < ALPHA
        return df.set_index("outcome")

    def counts(self, top: int | None = None) -> Any:
        """Events per run in A and B, the difference with its 95% interval and p-value,
        sorted by how clearly they differ (|t|); events that never happen are left out."""
        import pandas as pd

        rows = []
        names = [k for k in self.flags_a.counts if k in self.flags_b.counts]
        for k in names:
            x, y = self.flags_a.count(k).astype(float), self.flags_b.count(k).astype(float)
            if not x.any() and not y.any():
                continue
            if self.paired:
                d = y - x
                lo, hi = _mean_ci(d)
                t, p = _paired_test(d)
            else:
                lo, hi = _welch_ci(x, y)
                t, p = _welch_test(x, y)
            rows.append({"event": k, "per_run_a": x.mean(), "per_run_b": y.mean(), "diff": y.mean() - x.mean(),
                         "ci_low": lo, "ci_high": hi, "p_value": p, "t": t})
        df = pd.DataFrame(rows, columns=["event", "per_run_a", "per_run_b", "diff", "ci_low", "ci_high", "p_value", "t"])
        df = df.reindex(df["t"].abs().fillna(0).sort_values(ascending=False).index).set_index("event")
        return df.head(top) if top else df

    def words(self) -> list[str]:
        """Sentences: which outcomes differ, by how much, and the events behind it."""
        out = []
        df = self.outcomes()
        how = ("with common random numbers (replicate by replicate)" if self.paired
               else "as independent samples")
        out.append(f"B ({self.label_b}) against A ({self.label_a}), {self.a.runs:,} runs each, compared {how}.")
        if self.left_out:
            out.append(coverage_words(self.common(), self.left_out))
        sig = df[df["significant"]] if not df.empty else df
        for _name, r in sig.sort_values("diff", key=abs, ascending=False).iterrows():
            word = "more" if r["diff"] > 0 else "less"
            out.append(f"{r['description']}: {_pp(r['diff'])} points {word} likely under B "
                       f"({_pct(r['p_a'])} → {_pct(r['p_b'])}; 95% interval {_pp(r['ci_low'])} to {_pp(r['ci_high'])}; "
                       f"adjusted p {_p(r['p_adjusted'])}).")
        if sig.empty:
            out.append("No outcome differs by more than Monte Carlo error at these runs.")
        same = [n for n, r in df.iterrows() if not r["significant"]]
        if same and not sig.empty:
            out.append(f"No clear difference for: {', '.join(same)}.")
        c = self.counts(top=3)
        c = c[c["p_value"] < ALPHA]
        if not c.empty:
            out.append("Events that differ most (per run, A → B): " + "; ".join(
                f"{k} {r['per_run_a']:.2f} → {r['per_run_b']:.2f}" for k, r in c.iterrows()) + ".")
        return out

    def summary(self) -> dict[str, Any]:
        df = self.outcomes()
        return {
            "compare_version": 1,
            "a": {"label": self.label_a, "scenario": self.a.scenario, "levers": self.a.levers,
                  "overrides": self.a.manifest.get("overrides"), "seed": self.a.seed, "runs": self.a.runs},
            "b": {"label": self.label_b, "scenario": self.b.scenario, "levers": self.b.levers,
                  "overrides": self.b.manifest.get("overrides"), "seed": self.b.seed, "runs": self.b.runs},
            "paired": self.paired,
            "left_out": {n: why for n, why in self.left_out},
            "outcomes": {} if df.empty else {n: {k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()}
                                             for n, r in df.iterrows()},
            "counts": {n: {k: float(v) for k, v in r.items()} for n, r in self.counts().iterrows()},
            "words": self.words(),
        }

    def save(self, folder: str | Path, *, report: Any = None) -> Path:
        """Write ``comparison.csv``, ``counts.csv``, ``summary.json``, both manifests
        (``manifest.json``), and the figures and ``report.html`` if ``report`` is given."""
        import json
        import time

        from ..results import _clean, atomic_write

        t0 = time.perf_counter()

        def files(folder: Path) -> None:
            atomic_write(folder / "comparison.csv", self.outcomes().to_csv(float_format="%.6g"))
            atomic_write(folder / "counts.csv", self.counts().to_csv(float_format="%.6g"))
            atomic_write(folder / "summary.json", json.dumps(_clean(self.summary()), indent=2) + "\n")
            atomic_write(folder / "a.resolved.yaml", self.a.resolved_yaml)
            atomic_write(folder / "b.resolved.yaml", self.b.resolved_yaml)
            if report is not None:
                report(self, folder)

        def manifest(folder: Path, extra: dict[str, Any]) -> None:
            ma, mb = dict(self.a.manifest), dict(self.b.manifest)
            for m in (ma, mb):
                m.pop("started", None)
            atomic_write(folder / "manifest.json", json.dumps(_clean({
                "comparison": {"paired": self.paired, "label_a": self.label_a, "label_b": self.label_b,
                               "outputs_s": time.perf_counter() - t0},
                "a": ma, "b": mb, **extra}), indent=2) + "\n")

        return write_folder(folder, files, manifest)


def newcombe_paired(both: int, first_only: int, second_only: int, neither: int,
                    z: float | None = None) -> tuple[float, float]:
    """95% interval of p1 - p2 for paired proportions (Newcombe 1998, method 10).

    From a paired 2x2 table: ``both`` pairs have the event under both, ``first_only``
    under the first only, ``second_only`` under the second only, ``neither`` under
    neither; p1 = (both + first_only) / n, p2 = (both + second_only) / n. The Wilson
    score limits of p1 and p2 are combined with the correlation of the pairs (its phi
    coefficient, continuity-corrected as Newcombe's method 10 does):

        L = d - sqrt((p1 - l1)^2 - 2 phi (p1 - l1)(u2 - p2) + (u2 - p2)^2)
        U = d + sqrt((u1 - p1)^2 - 2 phi (u1 - p1)(p2 - l2) + (p2 - l2)^2)

    As |phi| <= 1, each root is at most (p1 - l1) + (u2 - p2) <= 1 + d (resp. 1 - d), so
    the limits stay within [-1, 1] and contain d.

    Newcombe, R. G. (1998). Improved confidence intervals for the difference between
    binomial proportions based on paired data. Statistics in Medicine 17, 2635-2650.
    """
    z = Z95 if z is None else z
    a, b, c, d_ = both, first_only, second_only, neither
    n = a + b + c + d_
    if n <= 0:
        return (-1.0, 1.0)
    p1, p2 = (a + b) / n, (a + c) / n
    diff = p1 - p2
    l1, u1 = wilson(a + b, n, z)
    l2, u2 = wilson(a + c, n, z)
    margins = (a + b) * (c + d_) * (a + c) * (b + d_)
    phi = 0.0
    if margins > 0:
        cross = a * d_ - b * c
        num = cross - n / 2 if cross > n / 2 else (0.0 if cross >= 0 else cross)
        phi = max(-1.0, min(1.0, num / math.sqrt(margins)))
    lo = diff - math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    hi = diff + math.sqrt(max(0.0, (u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2))
    return (max(-1.0, min(lo, diff)), min(1.0, max(hi, diff)))  # exact in theory; guards rounding only


def newcombe_independent(k1: int, n1: int, k2: int, n2: int, z: float | None = None) -> tuple[float, float]:
    """95% interval of p1 - p2 = k1/n1 - k2/n2 for independent samples: Newcombe's hybrid
    score interval (1998, method 10), the Wilson limits of each proportion combined:

        L = d - sqrt((p1 - l1)^2 + (u2 - p2)^2),  U = d + sqrt((u1 - p1)^2 + (p2 - l2)^2)

    Within [-1, 1], containing d (each root is at most 1 + d, resp. 1 - d).

    Newcombe, R. G. (1998). Interval estimation for the difference between independent
    proportions: comparison of eleven methods. Statistics in Medicine 17, 873-890.
    """
    z = Z95 if z is None else z
    if n1 <= 0 or n2 <= 0:
        return (-1.0, 1.0)
    p1, p2 = k1 / n1, k2 / n2
    diff = p1 - p2
    l1, u1 = wilson(k1, n1, z)
    l2, u2 = wilson(k2, n2, z)
    lo = diff - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = diff + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return (max(-1.0, min(lo, diff)), min(1.0, max(hi, diff)))  # exact in theory; guards rounding only


def _part_fields(spec: Any) -> list[str]:
    """The fields of an outcome spec that name other outcomes (``of`` of ``any``/``all``)."""
    return [key for key, f in type(spec).model_fields.items()
            if any(isinstance(m, Ref) and m.kind == "outcome" for m in f.metadata)]


def _definition(name: str, outcomes: dict[str, Any], depth: int = 0) -> Any:
    """An outcome's resolved spec as plain data, without its description, with the
    outcomes it is made of (``any``/``all``) replaced by their own definitions."""
    spec = outcomes[name]
    d = {k: v for k, v in spec.model_dump().items() if k != "description" and v is not None}
    for key in _part_fields(spec):
        if key in d and depth < 20:
            names = d[key] if isinstance(d[key], list) else [d[key]]
            parts = [_definition(o, outcomes, depth + 1) if o in outcomes else o for o in names]
            d[key] = parts if isinstance(d[key], list) else parts[0]
    return d


def _spec_words(spec: Any) -> str:
    d = {k: v for k, v in spec.model_dump().items() if k != "description" and v is not None}
    kind = d.pop("kind", "?")
    return f"{kind} (" + ", ".join(f"{k} {', '.join(map(str, v)) if isinstance(v, list) else v}"
                                   for k, v in d.items()) + ")"


def shared_outcomes(sa: Any, sb: Any) -> tuple[list[str], list[tuple[str, str]]]:
    """The outcomes two scenarios define the same way (A's order), and the others with why.

    Same name is not enough: ``major_clash`` may be any of two rungs on one border in A and
    an escalation at another flashpoint in B. Definitions are compared as resolved specs
    (without their descriptions), combined outcomes through the outcomes they combine.
    """
    oa, ob = sa.spec.outcomes, sb.spec.outcomes
    same, left = [], []
    for name in oa:
        if name not in ob:
            left.append((name, "only in A"))
        elif _definition(name, oa) != _definition(name, ob):
            if _spec_words(oa[name]) != _spec_words(ob[name]):
                left.append((name, f"defined differently: {_spec_words(oa[name])} in A, {_spec_words(ob[name])} in B"))
            else:  # the same words, made of outcomes that differ
                named = [getattr(oa[name], key) for key in _part_fields(oa[name])]
                parts = [o for v in named for o in (v if isinstance(v, list) else [v])
                         if o in oa and o in ob and _definition(o, oa) != _definition(o, ob)]
                left.append((name, f"defined differently: it combines {', '.join(parts)}, defined differently"))
        else:
            same.append(name)
    left += [(name, "only in B") for name in ob if name not in oa]
    return same, left


def coverage_words(compared: list[str], left_out: list[tuple[str, str]]) -> str:
    """One sentence: which outcomes are compared, which are left out and why."""
    return (f"Compared: {len(compared)} outcome{'s' if len(compared) != 1 else ''} both define the same way "
            f"({', '.join(compared)}); left out: " + "; ".join(f"{n} ({why})" for n, why in left_out) + ".")


def _mean_ci(d: np.ndarray) -> tuple[float, float]:
    """95% t interval of a mean (exactly [0, 0] when every difference is zero)."""
    from scipy import stats

    if d.size < 2 or not np.any(d != d[0]):
        v = float(d[0]) if d.size else float("nan")
        return v, v
    r = stats.ttest_1samp(d, 0.0).confidence_interval(0.95)
    return float(r.low), float(r.high)


def _welch_ci(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    from scipy import stats

    if np.ptp(x) == 0 and np.ptp(y) == 0:
        v = float(y.mean() - x.mean())
        return v, v
    r = stats.ttest_ind(y, x, equal_var=False).confidence_interval(0.95)
    return float(r.low), float(r.high)


def _paired_test(d: np.ndarray) -> tuple[float, float]:
    """t statistic and p-value of paired differences ``d`` (B - A per replicate).

    A difference that is the same nonzero number in every run (an event B schedules and
    A does not) has no spread, so its t is infinite (signed) rather than the 0 a zero
    standard deviation would give, and its p-value is the sign test's, 2 / 2^n: every one
    of the n runs moved the same way. scipy's t-test is not called on it (it would warn
    of precision loss and return nothing useful)."""
    from scipy import stats

    if d.size == 0 or not np.any(d):
        return 0.0, 1.0
    if np.all(d == d[0]):
        return math.copysign(math.inf, float(d[0])), _all_one_way(d.size)
    t = float(d.mean() / (d.std(ddof=1) / np.sqrt(d.size)))
    return t, float(stats.ttest_1samp(d, 0.0).pvalue)


def _welch_test(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Welch's t statistic and p-value of y - x for independent samples; two samples that are
    each constant get an infinite t (signed) when they differ and the exact permutation
    p-value 2 / C(n, k) (two-sided) of every value of y lying beyond every value of x (0 when they do not
    differ: t 0, p 1)."""
    from scipy import stats

    if np.ptp(x) == 0 and np.ptp(y) == 0:
        diff = float(y.mean() - x.mean()) if x.size and y.size else 0.0
        if diff == 0:
            return 0.0, 1.0
        n = x.size + y.size
        log_p = math.log(2.0) - (math.lgamma(n + 1) - math.lgamma(x.size + 1) - math.lgamma(y.size + 1))
        return math.copysign(math.inf, diff), min(1.0, math.exp(log_p))
    r = stats.ttest_ind(y, x, equal_var=False)
    return float(r.statistic), float(r.pvalue)


def _all_one_way(n: int) -> float:
    """Two-sided sign-test p-value when all of n paired differences have one sign: 2 / 2^n."""
    return min(1.0, math.ldexp(2.0, -n))


def _pct(x: float) -> str:
    return "-" if x != x else f"{100 * x:.1f}%"


def _pp(x: float) -> str:
    return f"{100 * x:+.1f}"


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def compare(
    a: Any,
    b: Any = None,
    *,
    a_set: dict[str, Any] | list[str] | None = None,
    b_set: dict[str, Any] | list[str] | None = None,
    a_levers: list[str] | None = None,
    b_levers: list[str] | None = None,
    runs: int | None = None,
    seed: int | None = None,
    months: int | None = None,
    chunk_size: int | None = None,
    workers: int | None = None,
    backend: str = "auto",
    independent: bool = False,
    labels: tuple[str, str] | None = None,
    progress: Any = None,
) -> Comparison:
    """Run two variants and compare them.

    Args:
        a: A scenario (loaded, a path or a shipped name).
        b: Another scenario; default: ``a`` again (then the variants differ by
            ``a_set``/``b_set`` overrides and ``a_levers``/``b_levers``).
        a_set, b_set: ``--set`` overrides for each variant.
        a_levers, b_levers: Levers pulled from the start in each variant.
        runs, seed, months, chunk_size: As for :func:`sim.run`; the same for both
            (default runs and seed: A's scenario's).
        independent: Give B its own seed (seed + 1): no common random numbers, an
            unpaired test.
        labels: Names of the two variants in reports (default: described from the options).
    """
    wrong = A.problems(a=(A.scenario, a), b=(A.optional_scenario, b), a_set=(A.overrides, a_set),
                       b_set=(A.overrides, b_set), a_levers=(A.levers, a_levers), b_levers=(A.levers, b_levers),
                       independent=(A.flag, independent), labels=(A.labels, labels), progress=(A.callback, progress))
    wrong += run_option_problems(runs, workers, months, chunk_size, seed=seed, backend=backend)
    if wrong:
        raise InputError(wrong)
    sa = a if isinstance(a, LoadedScenario) else load_scenario(a)
    sb = sa if b is None else (b if isinstance(b, LoadedScenario) else load_scenario(b))
    if a_set:
        sa = sa.with_overrides(a_set if isinstance(a_set, dict) else _pairs(a_set))
    if b_set:
        sb = sb.with_overrides(b_set if isinstance(b_set, dict) else _pairs(b_set))
    montecarlo.parse_levers(sa, a_levers, "a_levers")
    montecarlo.parse_levers(sb, b_levers, "b_levers")
    same, left_out = shared_outcomes(sa, sb)
    if not same:
        raise _nothing_to_compare(sa, sb, left_out)
    runs = sa.spec.meta.runs if runs is None else runs
    seed = sa.spec.meta.seed if seed is None else seed
    seed_b = (seed + 1) % (2**63) if independent else seed
    out = []
    for scn, lv, sd in ((sa, a_levers, seed), (sb, b_levers, seed_b)):
        flags = Flags()
        job = montecarlo.prepare(scn, runs=runs, seed=sd, months=months, chunk_size=chunk_size, levers=lv,
                                 per_replicate=True, keep_trajectories=0)
        engine, n = montecarlo.backend_for(job, workers=workers, backend=backend)
        res = montecarlo.execute(job, engine, n, progress, workers_requested=workers, consumers=[flags])
        out.append((res, flags))
    (ra, fa), (rb, fb) = out
    if labels is None:
        labels = (_label(sa, a_levers, a_set, b is not None), _label(sb, b_levers, b_set, b is not None))
    paired = not independent and ra.runs == rb.runs
    return Comparison(ra, rb, labels[0], labels[1], paired, fa, fb, left_out)


def _nothing_to_compare(sa: Any, sb: Any, left_out: list[tuple[str, str]]) -> Any:
    differ = [(n, why) for n, why in left_out if why.startswith("defined differently")]
    if differ:
        what = "; ".join(f"'{n}' " + (why[len("defined differently: it "):] if "it combines" in why
                                      else f"is {why[len('defined differently: '):]}") for n, why in differ)
        msg = (f"A ({sa.name}) and B ({sb.name}) define no outcome the same way, so there is nothing to compare: "
               f"{what}")
    else:
        msg = (f"A ({sa.name}) and B ({sb.name}) have no outcome in common, so there is nothing to compare; "
               "compare two variants of one scenario (--b-set, --b-lever) or scenarios that share outcomes")
    return InputError([Problem(Mark("<options>", option="b"), "", msg)])


def _pairs(items: list[str]) -> dict[str, str]:
    return parse_overrides(items)


def _label(scn: Any, levers: list[str] | None, overrides: Any, by_file: bool) -> str:
    bits = [scn.name if by_file else ""]
    if overrides:
        items = overrides.items() if isinstance(overrides, dict) else [tuple(s.split("=", 1)) for s in overrides]
        bits.append(", ".join(f"{k}={v}" for k, v in items))
    if levers:
        bits.append("levers " + ", ".join(levers))
    text = "; ".join(b for b in bits if b)
    return text or "as written"
