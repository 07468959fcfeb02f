"""Comparing two variants: differences in outcome probabilities, with common random numbers.

Both variants run with the same seed, runs and chunk size, so replicate i of A and
replicate i of B draw from the same random streams wherever the structure allows
(streams are keyed by name: a parameter's draws by its path, a rule's by the rule's
name). The two runs are then *paired*: per outcome the difference in probability, its
95% interval from the per-replicate differences (a paired t interval), and McNemar's
exact test on the replicates where only one of the two had the outcome. Pairs are
independent across replicates whatever the correlation, so the paired analysis is
valid for any two scenarios; common random numbers only make it sharper. With
``independent=True`` B gets its own seed and the test is Fisher's exact test with a
Welch interval. p-values are also given adjusted for the number of outcomes
(Benjamini-Hochberg), and an outcome is called different when the adjusted value is
below 0.05.

The event counts (requests, refusals, deliveries, rises, wars...) are compared the
same way; those that differ most are a first explanation of the difference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

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

    def common(self) -> list[str]:
        nb = {o.name for o in self.b.outcomes}
        return [o.name for o in self.a.outcomes if o.name in nb]

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
                lo, hi = _mean_ci(d)
                p = 1.0 if only_a + only_b == 0 else float(stats.binomtest(only_b, only_a + only_b, 0.5).pvalue)
                row.update(ci_low=lo, ci_high=hi, p_value=p, only_a=only_a, only_b=only_b,
                           test="McNemar exact (paired)")
            else:
                ka, kb = int(x.sum()), int(y.sum())
                lo, hi = _welch_ci(x, y)
                p = float(stats.fisher_exact([[kb, len(y) - kb], [ka, len(x) - ka]]).pvalue)
                row.update(ci_low=lo, ci_high=hi, p_value=p, only_a=None, only_b=None, test="Fisher exact (independent)")
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
        from scipy import stats

        rows = []
        names = [k for k in self.flags_a.counts if k in self.flags_b.counts]
        for k in names:
            x, y = self.flags_a.count(k).astype(float), self.flags_b.count(k).astype(float)
            if not x.any() and not y.any():
                continue
            if self.paired:
                d = y - x
                lo, hi = _mean_ci(d)
                t = _t(d)
                p = 1.0 if not np.any(d) else float(stats.ttest_1samp(d, 0.0).pvalue)
            else:
                lo, hi = _welch_ci(x, y)
                r = stats.ttest_ind(y, x, equal_var=False)
                t, p = float(r.statistic), float(r.pvalue)
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

        from ..results import OutputError, _clean, atomic_write

        folder = Path(folder)
        t0 = time.perf_counter()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            atomic_write(folder / "comparison.csv", self.outcomes().to_csv(float_format="%.6g"))
            atomic_write(folder / "counts.csv", self.counts().to_csv(float_format="%.6g"))
            atomic_write(folder / "summary.json", json.dumps(_clean(self.summary()), indent=2) + "\n")
            atomic_write(folder / "a.resolved.yaml", self.a.resolved_yaml)
            atomic_write(folder / "b.resolved.yaml", self.b.resolved_yaml)
            if report is not None:
                report(self, folder)
            ma, mb = dict(self.a.manifest), dict(self.b.manifest)
            for m in (ma, mb):
                m.pop("started", None)
            atomic_write(folder / "manifest.json", json.dumps(_clean({
                "comparison": {"paired": self.paired, "label_a": self.label_a, "label_b": self.label_b,
                               "outputs_s": time.perf_counter() - t0},
                "a": ma, "b": mb}), indent=2) + "\n")
        except OSError as exc:
            raise OutputError.from_os(folder, exc) from exc
        return folder


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


def _t(d: np.ndarray) -> float:
    sd = d.std(ddof=1) if d.size > 1 else 0.0
    return 0.0 if sd == 0 else float(d.mean() / (sd / np.sqrt(d.size)))


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
    from .. import arguments as A
    from .. import montecarlo
    from ..api import LoadedScenario, check_run_options, load_scenario
    from ..scenario.errors import InputError

    wrong = A.problems(a=(A.scenario, a), b=(A.optional_scenario, b), a_set=(A.overrides, a_set),
                       b_set=(A.overrides, b_set), a_levers=(A.levers, a_levers), b_levers=(A.levers, b_levers),
                       independent=(A.flag, independent), labels=(A.labels, labels), progress=(A.callback, progress))
    try:
        check_run_options(runs, workers, months, chunk_size, seed=seed, backend=backend)
    except InputError as exc:
        wrong += exc.problems
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
    return Comparison(ra, rb, labels[0], labels[1], paired, fa, fb)


def _pairs(items: list[str]) -> dict[str, str]:
    from ..scenario.load import parse_overrides

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
