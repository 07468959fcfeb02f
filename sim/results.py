"""Results of a Monte Carlo run: probabilities, intervals, timing, tables, saving.

:class:`Results` merges chunk results (in chunk order) and answers questions about
them. It is the same object in a notebook and behind the CLI::

    res = sim.run(sim.load_scenario("karabakh"), runs=5000, seed=1)
    res.probabilities()          # DataFrame: probability, Wilson 95% interval, timing
    res.conditional("major_clash")
    res.save("outputs/karabakh/mine")
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .collector import collector_paused
from .csvtext import rows_to_columns, to_csv
from .files import OutputError, atomic_copy, atomic_write, write_folder  # noqa: F401 - where callers have always found them
from .parts import SECTION_OF_KIND, Shows, column_groups, phrase
from .scenario.errors import suggest
from .scenario.expr import month_text

if TYPE_CHECKING:
    import pandas as pd

    from .outcomes import ChunkResult

Z95 = 1.959963984540054
OUTCOME_COLUMNS = ["outcome", "description", "probability", "ci_low", "ci_high", "hits", "runs", "median_month",
                   "q1_month", "q3_month", "median_date"]
"""The columns of :meth:`Results.probabilities` (``outcome`` its index) and of ``outcomes.csv``."""
COUNT_COLUMNS = ["event", "per_run", "sd", "se", "total"]
"""The columns of :meth:`Results.counts` (``event`` its index) and of ``counts.csv``."""
SUMMARY_VERSION = 1


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials (95% by default)."""
    if n <= 0:
        return (0.0, 1.0)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # The interval always contains p; in exact arithmetic k = 0 gives lo = 0 and k = n
    # gives hi = 1, which floating point misses by ~1e-19, so those ends are set exactly.
    lo = 0.0 if k <= 0 else min(p, max(0.0, centre - half))
    hi = 1.0 if k >= n else max(p, min(1.0, centre + half))
    return (lo, hi)


def runs_for_halfwidth(p: float, halfwidth: float = 0.01, z: float = Z95) -> int:
    """Runs needed for a 95% interval of +/- ``halfwidth`` around p (normal approximation)."""
    p = min(max(p, 1e-3), 1 - 1e-3)
    return int(math.ceil(z * z * p * (1 - p) / halfwidth**2))


def halfwidths(res: Results) -> np.ndarray:
    """Half-width of each outcome's Wilson 95% interval, in outcome order."""
    assert res.hist is not None
    out = []
    for i in range(len(res.outcomes)):
        lo, hi = wilson(int(res.hist[i, 1:].sum()), res.runs)
        out.append((hi - lo) / 2)
    return np.array(out)


def precise_enough(res: Results, target: float) -> bool:
    """True when every outcome's 95% interval is narrower than +/- ``target``."""
    return res.runs > 0 and bool(np.all(halfwidths(res) < target))


def _quantile_month(hist_row: np.ndarray, q: float) -> int | None:
    """The month by which a fraction q of the replicates where it happened had it."""
    hits = hist_row[1:]
    total = hits.sum()
    if total == 0:
        return None
    cum = np.cumsum(hits)
    return int(np.searchsorted(cum, q * total - 1e-9) + 1)


@dataclass
class OutcomeInfo:
    """What an outcome is, for tables and reports."""

    name: str
    kind: str
    description: str
    value_label: str = ""


def _appended(kept: np.ndarray, new: np.ndarray) -> np.ndarray:
    """``kept`` and then ``new`` along the first axis. When nothing is kept yet (the run's
    first chunk with sampled replicates: the merge started from a chunk of none), ``new``
    itself: the chunk's array is not used after its merge, and copying it cost as much as
    writing it (300 replicates' months of every affinity pair: 44 MB at 32 states)."""
    if not kept.shape[0] and kept.dtype == new.dtype and kept.shape[1:] == new.shape[1:]:
        return new
    return np.concatenate([kept, new], axis=0)


@dataclass
class Results:
    """Merged results of a run (or of the part of it that finished)."""

    scenario: str
    title: str
    start: int  # calendar month index of month 1
    horizon: int
    seed: int
    runs_requested: int
    outcomes: list[OutcomeInfo]
    names: dict[str, list[str]]  # states, alliances, suppliers, flashpoints, territories
    labels: dict[str, str]
    structure: dict[str, Any] = field(default_factory=dict)  # sides, leaders, buyers, supplier states
    manifest: dict[str, Any] = field(default_factory=dict)
    resolved_yaml: str = ""
    inputs: list[dict[str, Any]] = field(default_factory=list)
    description: str = ""  # the scenario's paragraph
    questions: list[str] = field(default_factory=list)  # the questions it answers
    caveats: list[str] = field(default_factory=list)  # what the model leaves out (meta.caveats)
    levers: list[str] = field(default_factory=list)  # levers pulled from the start ("actor.lever")
    runs: int = 0
    complete: bool = True
    stopped_by: str | None = None  # interrupt, SIGTERM, chunk-failed, worker-lost; None when complete
    hist: np.ndarray | None = None
    co: np.ndarray | None = None
    value_sum: np.ndarray | None = None
    value_sq: np.ndarray | None = None
    value_sample: np.ndarray | None = None
    series: dict[str, np.ndarray] = field(default_factory=dict)  # monthly sums/counts (Shows.series_name)
    traj: dict[str, np.ndarray] = field(default_factory=dict)  # sampled replicates' months, by state
    first_hit_sample: np.ndarray | None = None
    final_sample: dict[str, np.ndarray] = field(default_factory=dict)  # (k, ...) final values, by state
    shows: list[Shows] = field(default_factory=list)  # what the recorded states show (sim.parts.Shows)
    count_names: tuple[str, ...] = ()
    counts_sum: np.ndarray | None = None
    counts_sq: np.ndarray | None = None
    chunk_seconds: list[float] = field(default_factory=list)
    uncertainty: dict[str, Any] | None = None  # model uncertainty beside the headline (sim run --uncertainty)
    patterns: dict[bytes, int] = field(default_factory=dict)  # replicates per combination of outcomes hit
    consumers: list[Any] = field(default_factory=list)  # take each chunk's per-replicate data (sim.replicates)
    provenance: dict[str, Any] = field(default_factory=dict)  # seed, scenario hash, versions (montecarlo.provenance)

    # ------------------------------------------------------------------ merging

    def merge(self, r: ChunkResult) -> None:
        """Add one chunk's contribution (chunks must arrive in order).

        Per-replicate data a chunk carries is handed to :attr:`consumers` (a sweep's
        per-set tally, a Parquet writer) and not kept here, so memory stays bounded.
        """
        self.chunk_seconds.append(r.seconds)
        for code, c in (r.patterns or {}).items():
            self.patterns[code] = self.patterns.get(code, 0) + c
        if r.replicates is not None:
            for c in self.consumers:
                c.add(self, r)
            r.replicates = None
        if self.hist is None:
            self.hist = r.hist.copy()
            self.co = r.co.copy()
            self.value_sum = r.value_sum.copy()
            self.value_sq = r.value_sq.copy()
            self.value_sample = r.value_sample.copy()
            self.series = {k: v.copy() for k, v in r.series.items()}
            self.traj = {k: v.copy() for k, v in r.traj.items()}
            self.first_hit_sample = r.first_hit_sample.copy()
            self.final_sample = {k: v.copy() for k, v in r.final_sample.items()}
            self.count_names = r.count_names
            self.counts_sum = r.counts_sum.copy()
            self.counts_sq = r.counts_sq.copy()
        else:
            self.hist += r.hist
            self.co += r.co
            self.value_sum += r.value_sum
            self.value_sq += r.value_sq
            if r.value_sample.shape[1]:
                self.value_sample = np.concatenate([self.value_sample, r.value_sample], axis=1)
            for k, v in r.series.items():
                self.series[k] += v
            for k, v in r.traj.items():
                if v.shape[0]:
                    self.traj[k] = _appended(self.traj[k], v)
            if r.first_hit_sample.shape[0]:
                self.first_hit_sample = np.concatenate([self.first_hit_sample, r.first_hit_sample], axis=0)
            for k, v in r.final_sample.items():
                if v.shape[0]:
                    self.final_sample[k] = _appended(self.final_sample[k], v)
            self.counts_sum += r.counts_sum
            self.counts_sq += r.counts_sq
        self.runs += r.n

    # ---------------------------------------------------------------- questions

    def date(self, month: int | None) -> str | None:
        """``YYYY-MM`` of simulated month ``month`` (1 = the start month)."""
        return None if month is None else month_text(self.start + month - 1)

    def _index(self, name: str) -> int:
        for i, o in enumerate(self.outcomes):
            if o.name == name:
                return i

        raise KeyError(f"no outcome '{name}'{suggest(name, [o.name for o in self.outcomes])}")

    def outcome_rows(self) -> list[dict[str, Any]]:
        """One dict per outcome: probability, interval, timing (the summary's content)."""
        rows = []
        n = self.runs
        assert self.hist is not None
        for i, o in enumerate(self.outcomes):
            h = self.hist[i]
            k = int(h[1:].sum())
            lo, hi = wilson(k, n)
            med, q1, q3 = (_quantile_month(h, q) for q in (0.5, 0.25, 0.75))
            row: dict[str, Any] = {
                "outcome": o.name,
                "description": o.description,
                "kind": o.kind,
                "probability": k / n if n else float("nan"),
                "ci95": [lo, hi],
                "hits": k,
                "runs": n,
                "median_month": med,
                "q1_month": q1,
                "q3_month": q3,
                "median_date": self.date(med),
                "q1_date": self.date(q1),
                "q3_date": self.date(q3),
                "runs_for_1pt": runs_for_halfwidth(k / n if n else 0.5),
            }
            if n and self.value_sum is not None and not math.isnan(self.value_sum[i]):
                mean = self.value_sum[i] / n
                var = max(self.value_sq[i] / n - mean * mean, 0.0)
                sample = self.value_sample[i]
                sample = sample[~np.isnan(sample)]
                row["final"] = {
                    "label": o.value_label,
                    "mean": mean,
                    "sd": math.sqrt(var),
                    "p05": float(np.quantile(sample, 0.05)) if sample.size else None,
                    "median": float(np.quantile(sample, 0.5)) if sample.size else None,
                    "p95": float(np.quantile(sample, 0.95)) if sample.size else None,
                    "sample_size": int(sample.size),
                }
            rows.append(row)
        return rows

    def probabilities(self) -> pd.DataFrame:
        """Outcome probabilities with Wilson 95% intervals and timing, one row per outcome."""
        import pandas as pd

        return pd.DataFrame(self._probability_rows()).set_index("outcome")

    def _probability_rows(self) -> list[dict[str, Any]]:
        """The rows of :meth:`probabilities` (and of ``outcomes.csv``)."""
        rows = []
        for r in self.outcome_rows():
            rows.append(
                {
                    "outcome": r["outcome"],
                    "description": r["description"],
                    "probability": r["probability"],
                    "ci_low": r["ci95"][0],
                    "ci_high": r["ci95"][1],
                    "hits": r["hits"],
                    "runs": r["runs"],
                    "median_month": r["median_month"],
                    "q1_month": r["q1_month"],
                    "q3_month": r["q3_month"],
                    "median_date": r["median_date"],
                }
            )
        return rows

    def _given_mask(self, given: str | list[str], how: str) -> tuple[np.ndarray, np.ndarray]:
        """Combinations of outcomes seen (P, O) and how many replicates had each (P,),
        restricted to those that satisfy ``given``."""
        if how not in ("all", "any"):
            raise ValueError(f"how must be 'all' or 'any' (got {how!r})")
        items = [given] if isinstance(given, str) else list(given)
        if not items:
            raise ValueError("give at least one outcome to condition on")
        O = len(self.outcomes)
        keys = list(self.patterns)
        hits = np.array([np.unpackbits(np.frombuffer(k, dtype=np.uint8), count=O) for k in keys], dtype=bool).reshape(len(keys), O)
        freq = np.array([self.patterns[k] for k in keys], dtype=np.int64)
        tests = []
        for item in items:
            text = str(item).strip()
            negate = text.startswith("not ") or text.startswith("!")
            name = text[4:].strip() if text.startswith("not ") else text[1:].strip() if negate else text
            col = hits[:, self._index(name)]
            tests.append(~col if negate else col)
        keep = np.logical_and.reduce(tests) if how == "all" else np.logical_or.reduce(tests)
        return hits[keep], freq[keep]

    def conditional(self, given: str | list[str], how: str = "all") -> pd.DataFrame:
        """P(outcome | ``given``), with Wilson intervals over the runs where ``given`` holds.

        Args:
            given: An outcome's name, or several (``["a", "b"]``); ``"not a"`` means
                runs where ``a`` did not happen.
            how: ``all`` (every condition holds: a and b) or ``any`` (at least one: a or b).
        """
        import pandas as pd

        hits, freq = self._given_mask(given, how)
        ng = int(freq.sum())
        rows = []
        for i, o in enumerate(self.outcomes):
            k = int(freq[hits[:, i]].sum())
            lo, hi = wilson(k, ng)
            rows.append(
                {
                    "outcome": o.name,
                    "probability": k / ng if ng else float("nan"),
                    "ci_low": lo if ng else float("nan"),
                    "ci_high": hi if ng else float("nan"),
                    "hits": k,
                    "given_runs": ng,
                }
            )
        return pd.DataFrame(rows).set_index("outcome")

    def replicates(self) -> pd.DataFrame:
        """One row per replicate: the parameter values it started with, each outcome's
        hit flag, first-hit month and final value, and its event counts.

        Needs a run made with ``replicates=True`` (kept in memory) or
        ``replicates=PATH`` (streamed to a Parquet file, read back here).
        """
        for c in self.consumers:
            if getattr(c, "table", None) == "replicates":
                return c.frame()
        raise ValueError("this run kept no per-replicate data; run it with replicates=True "
                         "(or replicates='file.parquet', `sim run --replicates`)")

    def trajectories(self) -> pd.DataFrame:
        """Every replicate's monthly values of the recorded states, one row per replicate
        and month (schema: :mod:`sim.trajectories`).

        Needs a run made with ``trajectories=True`` (kept in memory) or
        ``trajectories=PATH`` (streamed to a Parquet file, read back here).
        """
        for c in self.consumers:
            if getattr(c, "table", None) == "trajectories":
                return c.frame()
        raise ValueError("this run kept no trajectories; run it with trajectories=True "
                         "(or trajectories='file.parquet', `sim run --trajectories`)")

    def cumulative(self) -> pd.DataFrame:
        """P(outcome has happened by month m), m = 1..horizon (cumulative incidence)."""
        import pandas as pd

        cum = self.cumulative_shares()
        months = np.arange(1, self.horizon + 1)
        df = pd.DataFrame(cum.T, columns=[o.name for o in self.outcomes])
        df.insert(0, "date", [self.date(m) for m in months])
        df.insert(0, "month", months)
        return df

    def cumulative_shares(self) -> np.ndarray:
        """The numbers of :meth:`cumulative` as an (outcomes, horizon) array: the share of runs
        where each outcome has happened by each month (no pandas needed)."""
        assert self.hist is not None
        return np.cumsum(self.hist[:, 1:], axis=1) / max(self.runs, 1)

    def timeseries(self) -> pd.DataFrame:
        """Per-month averages of the recorded states that declare a column (rung shares per
        flashpoint, deaths, trust, membership, who holds each territory, arms-import
        shares...), then each outcome's cumulative probability.

        Columns come in groups of the actors they are about (:func:`column_groups`); in a
        group, element by element, each declaration's columns in declaration order.
        """
        import pandas as pd

        return pd.DataFrame(self._timeseries_columns())

    def _timeseries_columns(self) -> dict[str, Any]:
        """The columns of :meth:`timeseries` (and of ``timeseries.csv``), by name."""
        n = max(self.runs, 1)
        months = np.arange(1, self.horizon + 1)
        cols: dict[str, Any] = {"month": months, "date": [self.date(m) for m in months]}
        for kinds, shows in column_groups(self.shows):
            names = [self.names[SECTION_OF_KIND[k]] for k in kinds]
            for idx in product(*(range(len(x)) for x in names)):
                row: dict[str, Any] | None = {}
                for sh in shows:
                    pos = [sh.column_dims.index(d) for d in range(len(sh.dims))]  # group position of each dim
                    at = tuple(idx[p] for p in pos)
                    fill = {sh.placeholders[d]: names[p][idx[p]] for d, p in enumerate(pos)}
                    block = self._columns(sh, at, fill, n)
                    if sh.sparse == "rows" and not any(v.any() for v in block.values()):
                        row = None  # e.g. a state never a member of the alliance: none of its columns
                        break
                    if sh.sparse == "columns":
                        block = {c: v for c, v in block.items() if v.any()}
                    row.update(block)
                if row:
                    cols.update(row)
        cum = np.cumsum(self.hist[:, 1:], axis=1) / n
        for i, o in enumerate(self.outcomes):
            cols[f"P({o.name})"] = cum[i]
        return cols

    def _columns(self, sh: Shows, at: tuple[int, ...], fill: dict[str, str], n: int) -> dict[str, np.ndarray]:
        """The timeseries columns of one element of a recorded state: its monthly mean, or
        the share of runs at each level (and the mean level)."""
        c = self.series[sh.series_name][(slice(None), *at)]
        if sh.record == "mean":
            return {phrase(sh.column, **fill): c / n}
        L = c.shape[-1]
        tokens = sh.level_columns or (self.names[sh.levels] if isinstance(sh.levels, str) else [str(i) for i in range(L)])
        out = {phrase(sh.column, **fill, level=tok): c[:, i] / n for i, tok in enumerate(tokens) if tok is not None}
        if sh.mean_column:
            out[phrase(sh.mean_column, **fill)] = (c * np.arange(L)).sum(axis=1) / n
        return out

    def counts(self) -> pd.DataFrame:
        """Events the rules reported, per run: mean, standard deviation and the
        standard error of the mean (refusals, deliveries, rises, wars...)."""
        import pandas as pd

        return pd.DataFrame(self._count_rows(), columns=COUNT_COLUMNS).set_index("event")

    def _count_rows(self) -> list[dict[str, Any]]:
        """The rows of :meth:`counts` (and of ``counts.csv``)."""
        n = max(self.runs, 1)
        rows = []
        for i, name in enumerate(self.count_names):
            mean = self.counts_sum[i] / n
            var = max(self.counts_sq[i] / n - mean * mean, 0.0)
            rows.append({"event": name, "per_run": mean, "sd": math.sqrt(var),
                         "se": math.sqrt(var / n) if self.runs > 1 else float("nan"),
                         "total": self.counts_sum[i]})
        return rows

    def summary(self) -> dict[str, Any]:
        """The stable ``summary.json`` contract other tools read."""
        outcomes = {}
        across = (self.uncertainty or {}).get("outcomes") or {}
        for r in self.outcome_rows():
            d = {k: v for k, v in r.items() if k not in ("outcome",)}
            if r["outcome"] in across:
                d["across_inputs"] = across[r["outcome"]]
            outcomes[r["outcome"]] = d
        extra = {}
        if self.uncertainty is not None:  # only with --uncertainty: a plain run's summary is unchanged
            extra["uncertainty"] = {k: v for k, v in self.uncertainty.items() if k != "outcomes"}
        return {
            "summary_version": SUMMARY_VERSION,
            "scenario": self.scenario,
            "title": self.title,
            "runs": self.runs,
            "runs_requested": self.runs_requested,
            "complete": self.complete,
            "seed": self.seed,
            "start": month_text(self.start),
            "horizon_months": self.horizon,
            "outcomes": outcomes,
            **extra,
        }

    # ------------------------------------------------------------------- saving

    def save(self, folder: str | Path, *, report: Callable[[Results, Path], Any] | None = None) -> Path:
        """Write the run folder: data files, then ``report(self, folder)`` if given
        (figures and report.html: :func:`sim.report.write_report`), manifest last.

        Every file is written under a temporary name and renamed into place, so a file
        is either whole or absent; a folder that cannot be written whole (a full disk) is
        left as :func:`sim.files.write_folder` says, and an
        :class:`~sim.files.OutputError` raised. Results know no figures: the caller passes the
        report writer (the CLI and :func:`sim.save` do).
        """
        import time


        t0 = time.perf_counter()

        def files(folder: Path) -> None:
            with collector_paused():  # sim.collector: a run's objects not walked for the tables' garbage
                atomic_write(folder / "scenario.resolved.yaml", self.resolved_yaml)
                atomic_write(folder / "summary.json", json.dumps(_clean(self.summary()), indent=2) + "\n")
                # the tables as probabilities(), timeseries() and counts() would write them with
                # to_csv(float_format="%.6g"), byte for byte, without importing pandas
                atomic_write(folder / "outcomes.csv", to_csv(rows_to_columns(self._probability_rows(), OUTCOME_COLUMNS),
                                                             index="outcome"))
                atomic_write(folder / "timeseries.csv", to_csv(self._timeseries_columns()))
                atomic_write(folder / "counts.csv", to_csv(rows_to_columns(self._count_rows(), COUNT_COLUMNS),
                                                           index="event"))
            self.save_replicates(folder)
            if report is not None and self.runs > 0:
                report(self, folder)
            self.manifest.setdefault("timings_s", {})["outputs"] = time.perf_counter() - t0

        return write_folder(folder, files, self.write_manifest)

    def replicates_error(self) -> OutputError | None:
        """Why the per-replicate Parquet file could not be written (a full disk), or None."""
        return self.stream_error("replicates")

    def stream_error(self, table: str) -> OutputError | None:
        """Why a streamed Parquet file (``replicates``, ``trajectories``) could not be written, or None."""
        return next((c.error for c in self.consumers
                     if getattr(c, "table", None) == table and getattr(c, "error", None) is not None), None)

    def save_replicates(self, folder: Path, source: str | Path | None = None) -> None:
        """Copy the Parquet files streamed elsewhere during the run into ``folder``, whole or
        not at all: the per-replicate rows as ``replicates.parquet`` (from ``source`` if
        given), the trajectories as ``trajectories.parquet``. A file that could not be
        streamed (a full disk) is named in the manifest (``replicates_error``,
        ``trajectories_error``) instead."""
        streamed = [c for c in self.consumers if getattr(c, "path", None) is not None]
        for c in streamed:
            if hasattr(c, "close"):
                c.close()  # a full disk here is recorded by the table (its ``error``), not raised
        for c in streamed:
            if c.error is not None:
                self.manifest[f"{c.table}_error"] = str(c.error)
            target = folder / c.filename
            paths = [source] if source is not None and c.table == "replicates" else [c.path]
            for path in paths:
                if Path(path).exists() and Path(path).resolve() != target.resolve():
                    atomic_copy(Path(path), target)
            if source is None or c.table != "replicates":
                c.path = target

    def write_manifest(self, folder: Path, extra: dict[str, Any] | None = None) -> None:
        """Write ``manifest.json`` (with ``extra`` entries: a folder that could not be written whole)."""
        import time

        m = {**self.manifest, **(extra or {})}
        if "started" in m:
            m["wall_s"] = time.perf_counter() - m.pop("started")
        m["runs_completed"] = self.runs
        m["complete"] = self.complete
        atomic_write(folder / "manifest.json", json.dumps(_clean(m), indent=2) + "\n")


def _clean(x: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN to null."""
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, float | np.floating):
        f = float(x)
        return None if math.isnan(f) or math.isinf(f) else f
    return x
