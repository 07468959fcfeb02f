"""sim.csvtext writes a table's CSV byte for byte as pandas' ``to_csv(float_format="%.6g")``
does: on random tables (floats with NaN, infinities and -0.0, float32, integers, bools,
text with commas, quotes and line breaks, missing values, numbers mixed with missing
ones), and on the data files of a run, whose tables pandas still builds for the Python API."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.csvtext import rows_to_columns, to_csv
from sim.results import COUNT_COLUMNS, OUTCOME_COLUMNS

from .conftest import MINI

TEXT = st.text(alphabet=st.sampled_from(list("ab ,\"'\n\r;é—0.-")), max_size=6)
FLOAT = st.floats(allow_nan=True, allow_infinity=True, width=64) | st.sampled_from([0.0, -0.0, 1e-7, 123456.5, 1e6])


def column(n: int) -> st.SearchStrategy:
    """A column of ``n`` values of one of the kinds a run's tables hold."""
    return st.one_of(
        st.lists(FLOAT, min_size=n, max_size=n).map(lambda v: np.array(v, dtype=np.float64)),
        st.lists(st.floats(width=32, allow_nan=True), min_size=n, max_size=n).map(lambda v: np.array(v, dtype=np.float32)),
        st.lists(st.integers(-10**12, 10**12), min_size=n, max_size=n).map(lambda v: np.array(v, dtype=np.int64)),
        st.lists(st.integers(-10**7, 10**7), min_size=n, max_size=n),
        st.lists(st.integers(0, 10**7) | st.none(), min_size=n, max_size=n),
        st.lists(FLOAT | st.integers(-10**7, 10**7), min_size=n, max_size=n),
        st.lists(st.booleans(), min_size=n, max_size=n),
        st.lists(TEXT, min_size=n, max_size=n),
        st.lists(TEXT | st.none(), min_size=n, max_size=n),
    )


@st.composite
def tables(draw) -> dict:
    n = draw(st.integers(0, 5))
    k = draw(st.integers(1, 5))
    return {f"c{j}": draw(column(n)) for j in range(k)}


@settings(max_examples=300, deadline=None, derandomize=True)
@given(tables(), st.booleans())
def test_random_tables_as_pandas_writes_them(table, indexed):
    first = next(iter(table))
    if indexed:
        assert to_csv(table, index=first) == pd.DataFrame(table).set_index(first).to_csv(float_format="%.6g")
    else:
        assert to_csv(table) == pd.DataFrame(table).to_csv(index=False, float_format="%.6g")


def test_an_index_in_the_middle_is_written_first():
    t = {"a": [1.5, 2.0], "key": ["x", "y"], "b": [3, 4]}
    assert to_csv(t, index="key") == pd.DataFrame(t).set_index("key").to_csv(float_format="%.6g")
    with pytest.raises(ValueError, match="different lengths"):
        to_csv({"a": [1, 2], "b": [1]})


def test_rows_become_columns():
    assert rows_to_columns([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]) == {"a": [1, 2], "b": ["x", "y"]}
    assert rows_to_columns([], ["a", "b"]) == {"a": [], "b": []}


@pytest.mark.parametrize("runs", [0, 1, 40])
def test_a_runs_data_files_are_what_pandas_writes(tmp_path, runs):
    """outcomes.csv, timeseries.csv and counts.csv, written without pandas, are to_csv of the
    DataFrames the Python API returns (a run of 0 runs too: NaN probabilities, no months)."""
    path = tmp_path / "mini.yaml"
    path.write_text(MINI, encoding="utf-8")
    res = sim.run(sim.load_scenario(path), runs=max(runs, 1), seed=3, months=4)
    if runs == 0:  # what a run stopped before its first chunk would hold
        res.runs = 0
        res.hist = np.zeros_like(res.hist)
    folder = res.save(tmp_path / "run")
    assert (folder / "outcomes.csv").read_text() == res.probabilities().to_csv(float_format="%.6g")
    assert (folder / "timeseries.csv").read_text() == res.timeseries().to_csv(index=False, float_format="%.6g")
    assert (folder / "counts.csv").read_text() == res.counts().to_csv(float_format="%.6g")
    assert list(res.probabilities().reset_index().columns) == OUTCOME_COLUMNS
    assert list(res.counts().reset_index().columns) == COUNT_COLUMNS
