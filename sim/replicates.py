"""Per-replicate data: one row per replicate, and per-parameter-set tallies.

Chunks made with ``montecarlo.prepare(per_replicate=True)`` carry, for each of their
replicates, the values of the sampled parameters it started with, each outcome's
first-hit month and final value, and its event counts. :class:`~sim.results.Results`
hands that data to its consumers chunk by chunk and keeps none of it, so memory is
bounded by what the consumers keep:

* :class:`ReplicateTable` builds the table of :meth:`Results.replicates` — in memory,
  or streamed to a Parquet file (pyarrow) one row group per chunk;
* :class:`SetTally` adds replicates up per parameter set (hits, runs, event counts,
  final values): what a sweep needs, a few numbers per set.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .files import OutputError

if TYPE_CHECKING:
    import pandas as pd

    from .outcomes import ChunkResult
    from .results import Results

LEVER = "lever:"


def chunk_frame(res: Results, r: ChunkResult, runs_per_set: int | None = None, sets: int | None = None) -> pd.DataFrame:
    """The per-replicate rows of one chunk.

    Columns: ``replicate`` (index in the run), ``set`` (parameter set, for sweeps),
    one column per sampled parameter (its path; levers switched per set as
    ``lever:actor.lever``, True where pulled), and per outcome ``NAME`` (happened),
    ``NAME.month`` (first-hit month, 1 = the start month; missing if never) and
    ``NAME.final`` (final value, for outcomes that have one); then ``events.EVENT``
    (times the event happened in the replicate).
    """
    import pandas as pd

    d = r.replicates
    assert d is not None
    n = r.n
    idx = np.arange(d["offset"], d["offset"] + n, dtype=np.int64)
    cols: dict[str, Any] = {"replicate": idx}
    if runs_per_set:
        cols["set"] = (idx // runs_per_set) % (sets or np.iinfo(np.int64).max)
    for path, v in d["params"].items():
        cols[path] = np.asarray(v, dtype=bool if path.startswith(LEVER) else float)
    first = d["first"]
    for i, o in enumerate(res.outcomes):
        f = first[i]
        cols[o.name] = f > 0
        cols[f"{o.name}.month"] = pd.arrays.IntegerArray(f.astype(np.int16), mask=f == 0)
        if d["final"] is not None and not np.all(np.isnan(d["final"][i])):
            cols[f"{o.name}.final"] = d["final"][i]
    for name, c in d["counts"].items():
        cols[f"events.{name}"] = np.asarray(c, dtype=np.int32)
    return pd.DataFrame(cols)


PARQUET_KEY = b"sim"
"""Key of a Parquet file's key-value metadata that holds what the file is (``table``,
``schema_version``) and where its numbers come from (``provenance``: scenario and its
SHA-256, seed, runs, chunking, precision, package and dependency versions, git commit;
:func:`sim.montecarlo.provenance`), as JSON. :func:`parquet_metadata` reads it back."""


def parquet_metadata(path: str | Path) -> dict[str, Any]:
    """What a Parquet file written by a run says about itself (its ``sim`` metadata, as a
    dict): ``table``, ``schema_version``, ``provenance`` and, for trajectories, the states
    it holds. Empty for a file without it."""
    import json

    pq = require("pyarrow.parquet", "reading Parquet metadata")
    meta = pq.read_schema(path).metadata or {}
    return json.loads(meta[PARQUET_KEY]) if PARQUET_KEY in meta else {}


class ParquetStream:
    """Rows collected chunk by chunk: in memory (``path=None``) or streamed to Parquet.

    A Parquet file is written under a temporary name (``NAME.partial``) one row group
    per chunk and renamed into place by :meth:`close`, so a file with the final name
    is whole. Its schema's key-value metadata holds :meth:`describe` under
    :data:`PARQUET_KEY` (provenance included). Reading it back: :meth:`frame`, or
    ``pandas.read_parquet``.

    If the file cannot be written (a full disk), the partial file is removed, the table
    stops collecting and keeps the reason as :attr:`error` (an
    :class:`~sim.files.OutputError`): the run goes on, and the caller says that the rows
    are missing (``sim run`` in one line, the manifest as ``NAME_error``);
    :meth:`frame` raises it.

    Subclasses say what a chunk's rows are (:meth:`rows`) and what the file is
    (:attr:`table`, :attr:`filename`, :meth:`describe`).
    """

    table = "rows"
    filename = "rows.parquet"
    schema_version = 1
    writer_options: dict[str, Any] = {}
    """Options of pyarrow's ParquetWriter (compression, encodings) for this kind of table."""

    def __init__(self, path: str | Path | None = None, runs_per_set: int | None = None, sets: int | None = None):
        self.path = Path(path) if path is not None else None
        self.runs_per_set, self.sets = runs_per_set, sets
        self.frames: list[pd.DataFrame] = []
        self.writer: Any = None
        self.schema: Any = None
        self.closed = False
        self.error: Any = None  # an OutputError once the file could not be written
        if self.path is not None:
            require("pyarrow", f"writing {self.filename}")

    @property
    def partial(self) -> Path:
        assert self.path is not None
        return self.path.with_name(self.path.name + ".partial")

    def rows(self, res: Results, r: ChunkResult) -> pd.DataFrame | dict[str, np.ndarray]:  # pragma: no cover
        """The chunk's rows: a DataFrame, or columns by name (numpy arrays of one length)."""
        raise NotImplementedError

    def describe(self, res: Results) -> dict[str, Any]:
        """The file's ``sim`` metadata: what it is and where its numbers come from."""
        return {"table": self.table, "schema_version": self.schema_version, "provenance": res.provenance}

    def add(self, res: Results, r: ChunkResult) -> None:
        if self.error is not None:
            return
        import pandas as pd

        df = self.rows(res, r)
        if self.path is None:
            self.frames.append(df if isinstance(df, pd.DataFrame) else pd.DataFrame(df))
            return
        import json

        import pyarrow as pa
        import pyarrow.parquet as pq

        from .results import _clean

        table = (pa.Table.from_pandas(df, preserve_index=False, schema=self.schema) if isinstance(df, pd.DataFrame)
                 else pa.table(df, schema=self.schema))
        try:
            if self.writer is None:
                meta = dict(table.schema.metadata or {})
                meta[PARQUET_KEY] = json.dumps(_clean(self.describe(res))).encode()
                self.schema = table.schema.with_metadata(meta)
                table = table.replace_schema_metadata(meta)
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.writer = pq.ParquetWriter(self.partial, self.schema, **self.writer_options)
            self.writer.write_table(table)
        except OSError as exc:
            self._failed(exc)

    def _failed(self, exc: OSError) -> None:
        """The file cannot be written: drop it, keep why, collect no more."""
        assert self.path is not None
        self.error = OutputError.from_os(self.path, exc)
        writer, self.writer = self.writer, None
        if writer is not None:
            try:
                writer.close()
            except Exception:  # noqa: BLE001 - the file is being dropped anyway
                pass
        try:
            self.partial.unlink(missing_ok=True)
        except OSError:
            pass

    def close(self) -> None:
        """Finish the Parquet file (rename it into place). Safe to call twice."""
        if self.closed or self.path is None:
            self.closed = True
            return
        self.closed = True
        if self.writer is None:
            return
        try:
            self.writer.close()
            self.partial.replace(self.path)
        except OSError as exc:
            self._failed(exc)

    def frame(self) -> pd.DataFrame:
        import pandas as pd

        if self.error is not None:
            raise self.error
        if self.path is None:
            if not self.frames:
                return pd.DataFrame()
            if len(self.frames) > 1:
                self.frames = [pd.concat(self.frames, ignore_index=True)]
            return self.frames[0]
        self.close()
        if self.error is not None:
            raise self.error
        if not self.path.exists():
            return pd.DataFrame()
        return pd.read_parquet(self.path)


class ReplicateTable(ParquetStream):
    """One row per replicate (:func:`chunk_frame`): the table of :meth:`Results.replicates`,
    ``replicates.parquet``."""

    table = "replicates"
    filename = "replicates.parquet"

    def rows(self, res: Results, r: ChunkResult) -> pd.DataFrame:
        return chunk_frame(res, r, self.runs_per_set, self.sets)


class SetTally:
    """Per parameter set: runs, hits per outcome, summed event counts and final values.

    Replicate ``i`` belongs to set ``(i // runs_per_set) % sets`` (the layout of
    :class:`sim.runner.PerSet`).
    """

    def __init__(self, sets: int, runs_per_set: int):
        self.sets, self.runs_per_set = int(sets), int(runs_per_set)
        self.runs = np.zeros(self.sets, dtype=np.int64)
        self.hits: np.ndarray | None = None
        self.months: np.ndarray | None = None
        self.finals: np.ndarray | None = None
        self.counts: dict[str, np.ndarray] = {}

    def add(self, res: Results, r: ChunkResult) -> None:
        d = r.replicates
        assert d is not None
        S = self.sets
        idx = np.arange(d["offset"], d["offset"] + r.n)
        g = (idx // self.runs_per_set) % S
        first = d["first"]
        O = first.shape[0]
        if self.hits is None:
            self.hits = np.zeros((S, O), dtype=np.int64)
            self.months = np.zeros((S, O), dtype=np.int64)
            self.finals = np.zeros((S, O))
        self.runs += np.bincount(g, minlength=S)
        for i in range(O):
            self.hits[:, i] += np.bincount(g, weights=first[i] > 0, minlength=S).astype(np.int64)
            self.months[:, i] += np.bincount(g, weights=first[i], minlength=S).astype(np.int64)
            if d["final"] is not None:
                self.finals[:, i] += np.bincount(g, weights=np.nan_to_num(d["final"][i]), minlength=S)
        for name, c in d["counts"].items():
            acc = self.counts.setdefault(name, np.zeros(S))
            acc += np.bincount(g, weights=c, minlength=S)

    def probabilities(self, outcomes: list[str]) -> pd.DataFrame:
        """Per set: ``runs`` and each outcome's probability (hits / runs)."""
        import pandas as pd

        df = pd.DataFrame({"runs": self.runs})
        hits = self.hits if self.hits is not None else np.zeros((self.sets, len(outcomes)), dtype=np.int64)
        with np.errstate(invalid="ignore", divide="ignore"):
            for i, name in enumerate(outcomes):
                df[name] = hits[:, i] / self.runs
        df.index.name = "set"
        return df

    def events(self) -> pd.DataFrame:
        """Per set: mean count of each event per run."""
        import pandas as pd

        with np.errstate(invalid="ignore", divide="ignore"):
            df = pd.DataFrame({f"events.{k}": v / self.runs for k, v in self.counts.items()})
        df.index.name = "set"
        return df


def require(module: str, what: str, extra: str = "research", option: str = "install") -> Any:
    """Import an optional dependency, or say which extra installs it (an InputError)."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        from .scenario.errors import option_error

        raise option_error(option, f"{what} needs {module}: pip install 'sim[{extra}]'") from None
