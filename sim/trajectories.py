"""Every run's months: the declared monthly series of each replicate, as a table.

A run made with ``trajectories=True`` (``sim run --trajectories``) keeps, for every
replicate and month, the value of every state declared recorded (``declare_state(...,
record="mean" | "counts")``, :class:`sim.parts.Shows`) — the same declarations the
recorder's aggregate series (``timeseries.csv``) come from, so a new rule's recorded
state is in the table without a line here. Chunks are handed to a
:class:`TrajectoryTable` one by one: in memory, or streamed to Parquet one row group per
chunk (``trajectories.parquet`` in the run folder).

Schema (wide, ``schema_version`` 1): one row per replicate and month, ordered by
replicate, then month.

=========================  ===================  ==============================================
column                     type                 what
=========================  ===================  ==============================================
``replicate``              int64                the replicate's index in the run (0-based)
``set``                    int64                its parameter set (only for :func:`sim.evaluate`)
``month``                  int16                1 .. horizon (1 = the start month)
``STATE.KEY[.KEY]``        the state's dtype    the state's value at the end of the month for
                                                one element: ``level.lachin``,
                                                ``trust.armenia.csto``,
                                                ``affinity.armenia.russia`` (row towards column)
=========================  ===================  ==============================================

A ``mean`` record's column holds the value (``float32``, or ``float64`` at
``--precision float64``; ``bool`` and integer states as they are); a ``counts`` record's
column holds the level itself (an integer: the rung of ``level``, the status of
``status``, the index of the controlling state of ``controller``), whose names are in
the metadata. Keys follow the order of the state's dimensions
(:attr:`sim.parts.Shows.dims`) and its elements the order of the actors in the scenario.

The file's key-value metadata (``sim``, :func:`sim.replicates.parquet_metadata`) holds
``table: "trajectories"``, ``schema_version``, ``provenance`` (seed, scenario SHA-256,
runs, chunk size, precision, package and dependency versions, git commit), ``start``
(``YYYY-MM`` of month 1), ``horizon_months``, and per state its ``record``, ``dims``,
``dtype``, ``label``, ``columns`` and, for counts, ``levels`` (the names of its values).

The aggregate series of the run (``Results.series``, hence ``timeseries.csv``) follow
from the table exactly (:func:`aggregate`): per chunk of ``chunk_size`` replicates and
per month, a ``mean`` record is the sum over the chunk's replicates in the state's own
precision (the recorder's BLAS sum, :func:`sim.outcomes.recorder._summer`), or, for a
state declared with ``moves`` (affinity), each element's sum in float64 in replicate
order (:func:`sim.outcomes.recorder.column_sums`); a ``counts`` record the number of
replicates at each level; chunks are then added in order, in float64.
"""

from __future__ import annotations

from itertools import product
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .parts import SECTION_OF_KIND
from .replicates import ParquetStream, parquet_metadata, require

if TYPE_CHECKING:
    import pandas as pd

    from .outcomes import ChunkResult
    from .results import Results


def recorded(res: Results) -> list[Any]:
    """The run's recorded states (:class:`sim.parts.Shows` with ``record`` mean or counts)."""
    return [sh for sh in res.shows if sh.record in ("mean", "counts") and sh.series_name in res.series]


def element_keys(res: Results, sh: Any) -> list[tuple[str, ...]]:
    """The actor keys of each element of a recorded state, in C order of its dimensions."""
    return [tuple(k) for k in product(*(res.names[SECTION_OF_KIND[kind]] for kind in sh.dims))]


def columns(res: Results) -> dict[str, list[str]]:
    """``{state: [column names]}``: ``STATE.KEY[.KEY]`` per element."""
    return {sh.state: [".".join((sh.state, *keys)) for keys in element_keys(res, sh)] for sh in recorded(res)}


def states_metadata(res: Results, dtypes: dict[str, str]) -> dict[str, Any]:
    """What the metadata says of each recorded state (see the module's note)."""
    cols = columns(res)
    out = {}
    for sh in recorded(res):
        d: dict[str, Any] = {"record": sh.record, "dims": list(sh.dims), "dtype": dtypes.get(sh.state, ""),
                             "label": sh.label, "columns": cols[sh.state],
                             "shape": [len(res.names[SECTION_OF_KIND[k]]) for k in sh.dims]}
        if sh.record == "counts":
            d["levels"] = list(res.names[sh.levels]) if isinstance(sh.levels, str) else list(sh.levels)
        out[sh.state] = d
    return out


class TrajectoryTable(ParquetStream):
    """The trajectories of every replicate (module note): in memory or ``trajectories.parquet``."""

    table = "trajectories"
    filename = "trajectories.parquet"
    writer_options = {"compression": "zstd", "use_dictionary": False}
    """Hundreds of numeric columns of few distinct runs each: zstd without dictionaries writes
    them about three times as fast as pyarrow's default and 40% smaller (karabakh: 2,000 runs
    x 36 months in 0.4 s, 29 MB)."""

    def __init__(self, path: str | Path | None = None, runs_per_set: int | None = None, sets: int | None = None):
        super().__init__(path, runs_per_set, sets)
        self.dtypes: dict[str, str] = {}
        self.meta: dict[str, Any] = {}

    def rows(self, res: Results, r: ChunkResult) -> dict[str, np.ndarray]:
        d = r.replicates
        assert d is not None and "series" in d, "the run was not prepared with trajectories=True"
        n, H = r.n, res.horizon
        idx = np.arange(d["offset"], d["offset"] + n, dtype=np.int64)
        cols: dict[str, np.ndarray] = {"replicate": np.repeat(idx, H)}
        if self.runs_per_set:
            cols["set"] = (cols["replicate"] // self.runs_per_set) % (self.sets or np.iinfo(np.int64).max)
        cols["month"] = np.tile(np.arange(1, H + 1, dtype=np.int16), n)
        names = columns(res)
        for state, arr in d["series"].items():  # (elements, replicates, months): each element contiguous
            self.dtypes.setdefault(state, str(arr.dtype))
            for j, name in enumerate(names[state]):
                cols[name] = arr[j].reshape(n * H)
        return cols

    def describe(self, res: Results) -> dict[str, Any]:
        from .scenario.expr import month_text

        return {**super().describe(res), "start": month_text(res.start), "horizon_months": res.horizon,
                "chunk_size": (res.provenance or {}).get("chunk_size"), "states": states_metadata(res, self.dtypes)}


def read(path: str | Path) -> pd.DataFrame:
    """A ``trajectories.parquet`` file as a DataFrame (see the module's note for its schema)."""
    require("pyarrow", "reading trajectories.parquet")
    import pandas as pd

    return pd.read_parquet(path)


def aggregate(path: str | Path) -> dict[str, np.ndarray]:
    """The run's aggregate monthly series (``Results.series``: sums for ``mean`` records,
    counts per level for ``counts`` records, keyed as the recorder keys them) computed
    from a ``trajectories.parquet`` file, the way the recorder computes them (module note):
    equal to the run's own, bit for bit."""
    pq = require("pyarrow.parquet", "reading trajectories.parquet")
    from threadpoolctl import threadpool_limits

    from .outcomes.recorder import _counts, _summer, column_sums
    from .parts import registry

    meta = parquet_metadata(path)
    if meta.get("table") != "trajectories":
        from .scenario.errors import InputError, Mark, Problem

        raise InputError([Problem(Mark(str(path)), "", "not a trajectories file (no 'sim' metadata saying so); "
                                  "give a trajectories.parquet written by `sim run --trajectories`")])
    H, chunk = int(meta["horizon_months"]), int(meta["chunk_size"])
    states = meta["states"]
    acc: dict[str, np.ndarray] = {}
    for state, info in states.items():
        shape = tuple(info["shape"])
        if info["record"] == "counts":
            acc[f"{state}_counts"] = np.zeros((H, *shape, len(info["levels"])), dtype=np.int64)
        else:
            kind = np.dtype(info["dtype"]).kind
            acc[state] = np.zeros((H, *shape), dtype=np.int64 if kind in "biu" else np.float64)
    pf = pq.ParquetFile(path)
    with threadpool_limits(limits=1, user_api="blas"):  # as the chunks were summed (sim.runner._simulate)
        for g in range(pf.num_row_groups):
            tab = pf.read_row_group(g)
            rep = tab.column("replicate").to_numpy()
            chunks = rep // chunk
            for c in np.unique(chunks):
                sel = np.flatnonzero(chunks == c)
                n = len(sel) // H
                for state, info in states.items():
                    dtype = np.dtype(info["dtype"])
                    m = len(info["columns"])
                    block = np.empty((n, H, m), dtype=dtype)
                    for j, name in enumerate(info["columns"]):
                        block[:, :, j] = tab.column(name).to_numpy()[sel].reshape(n, H)
                    shape = tuple(info["shape"])
                    if info["record"] == "counts":
                        part = np.zeros_like(acc[f"{state}_counts"])
                        for t in range(H):
                            part[t] = _counts(np.ascontiguousarray(block[:, t, :]).reshape(n, *shape), len(info["levels"]))
                        acc[f"{state}_counts"] += part
                        continue
                    part = np.zeros_like(acc[state])
                    total = _summer(n)
                    decl = registry().state.get(state)
                    each = decl is not None and decl.moves is not None  # summed column by column (Carried)
                    every = np.arange(m, dtype=np.intp)
                    for t in range(H):
                        x = np.ascontiguousarray(block[:, t, :]).reshape(n, *shape)
                        if each:
                            part[t] = column_sums(x.reshape(n, m), every).reshape(shape)
                        else:
                            part[t] = x.sum(axis=0) if dtype.kind in "biu" else total(x)
                    acc[state] += part
    return acc


__all__ = ["TrajectoryTable", "aggregate", "columns", "read", "recorded"]
