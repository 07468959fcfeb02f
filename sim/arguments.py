"""What each argument of the Python API takes, checked where it comes in.

The CLI's parser only ever hands the library lists where lists go; a notebook may pass
anything: ``levers="a.b"`` (a string where a list goes), ``replicates=5``,
``overrides=5``. Each facade function (:func:`sim.run`, :func:`sim.load_scenario`,
:func:`sim.sweep`, :func:`sim.evaluate`, :func:`sim.compare`, :func:`sim.save`, :func:`sim.backtest`,
:class:`sim.play.game.Game`, :func:`sim.play.story.tell`) checks its arguments with
:func:`check` before doing anything, and every wrong one is one problem naming the
argument and what it takes::

    sim: levers: expected a list of 'ACTOR.LEVER' strings, got a string 'a.b' (did you mean ['a.b']?)

(as an :class:`~sim.scenario.errors.InputError`, which the CLI prints with its flags).
Whole numbers, seeds, precision and backends of a run are checked together by
:func:`check_run_options`.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .scenario.errors import InputError, Mark, Problem, option_error

Checker = Callable[[Any], "str | None"]
"""A kind of argument: the value -> what is wrong with it, or None."""


def what(v: Any) -> str:
    """A value as a message names it: ``a string 'a.b'``, ``int 5``, ``a list [1, 2]``."""
    text = repr(v)
    text = text if len(text) <= 40 else text[:37] + "..."
    if isinstance(v, str):
        return f"a string {text}"
    if isinstance(v, bool) or v is None:
        return text
    if isinstance(v, list | tuple | dict | set):
        return f"a {type(v).__name__} {text}"
    return f"{type(v).__name__} {text}"


def _items(v: Any, expected: str) -> str | None:
    """What is wrong with ``v`` as a list (or tuple) of strings, said with ``expected``."""
    if isinstance(v, str):
        return f"{expected}, got {what(v)} (did you mean [{v!r}]?)"
    if not isinstance(v, list | tuple):
        return f"{expected}, got {what(v)}"
    for i, item in enumerate(v):
        if not isinstance(item, str):
            return f"{expected}; item {i} is {what(item)}"
    return None


def _strings(form: str, example: str) -> Checker:
    """None, or a list (or tuple) of strings ``form`` (``'ACTOR.LEVER'``)."""

    def check(v: Any) -> str | None:
        if v is None:
            return None
        if isinstance(v, str):  # said without the example: the list it meant is in the hint
            return f"expected a list of {form} strings, got {what(v)} (did you mean [{v!r}]?)"
        return _items(v, f"expected a list of {form} strings, e.g. [{example!r}]")

    return check


levers = _strings("'ACTOR.LEVER'", "armenia.freeze_csto")
outcomes = _strings("outcome name", "lachin_war")
played = _strings("actor", "armenia")


def _mapping_or_strings(form: str, example: str, mapping: str) -> Checker:
    """None, a mapping, or a list of ``form`` strings (``'PATH=VALUE'``)."""

    def check(v: Any) -> str | None:
        if v is None or isinstance(v, Mapping):
            if isinstance(v, Mapping):
                bad = next((k for k in v if not isinstance(k, str)), None)
                if bad is not None:
                    return f"expected {mapping} with text keys (parameter paths), got the key {what(bad)}"
            return None
        return _items(v, f"expected {mapping} or a list of {form} strings, e.g. [{example!r}]")

    return check


overrides = _mapping_or_strings("'PATH=VALUE'", "flashpoints.lachin.level=3", "a mapping {path: value}")
params = _mapping_or_strings("'PATH=LO:HI'", "alliances.csto.credibility=0.1:0.5", "a mapping {path: (lo, hi)}")


def flag(v: Any) -> str | None:
    return None if isinstance(v, bool | np.bool_) else f"expected True or False, got {what(v)}"


def path(v: Any) -> str | None:
    return None if isinstance(v, str | os.PathLike) else f"expected a file or folder path (a string or a Path), got {what(v)}"


def folder(v: Any) -> str | None:
    """None, or an existing folder."""
    if v is None:
        return None
    if not isinstance(v, str | os.PathLike):
        return f"expected a folder (a string or a Path), got {what(v)}"
    return None if Path(v).is_dir() else f"{str(v)!r} is not a folder"


def replicates(v: Any) -> str | None:
    if isinstance(v, bool) or v is None or isinstance(v, str | os.PathLike):
        return None
    return f"expected True (rows in memory), False, or the path of a Parquet file to write, got {what(v)}"


def callback(v: Any) -> str | None:
    return None if v is None or callable(v) else f"expected a function called with the progress, or None, got {what(v)}"


def count(low: int) -> Checker:
    """A whole number from ``low``."""
    def check(v: Any) -> str | None:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            return f"expected a whole number, at least {low}, got {what(v)}"
        return None if v >= low else f"must be at least {low} (got {v})"

    return check


@runtime_checkable
class Loaded(Protocol):
    """A loaded scenario as the checks here know it: checked, with its typed spec, its rules
    and its compiled plan (:class:`sim.loading.LoadedScenario`; this module sits below the
    loader, which checks its own arguments here, so it names no class of it)."""

    spec: Any
    rules: dict

    def compiled(self) -> Any: ...


def scenario(v: Any) -> str | None:
    """A loaded scenario, or what :func:`sim.load_scenario` takes."""
    if isinstance(v, Loaded | str | os.PathLike | Mapping):
        return None
    return (f"expected a scenario: loaded (sim.load_scenario), a file path, a shipped scenario's name (karabakh) or a "
            f"mapping, got {what(v)}")


def scenario_ref(v: Any) -> str | None:
    """What :func:`sim.load_scenario` reads: a file path, a shipped name, or a mapping."""
    if isinstance(v, str | os.PathLike | Mapping):
        return None
    return f"expected a file path, a shipped scenario's name (karabakh) or a mapping, got {what(v)}"


def optional_scenario(v: Any) -> str | None:
    return None if v is None else scenario(v)


def loaded_scenario(v: Any) -> str | None:
    return None if isinstance(v, Loaded) else f"expected a loaded scenario (sim.load_scenario(...)), got {what(v)}"


def labels(v: Any) -> str | None:
    if v is None or (isinstance(v, list | tuple) and len(v) == 2 and all(isinstance(x, str) for x in v)):
        return None
    return f"expected two names (label of A, label of B), got {what(v)}"


def problems(**arguments: tuple[Checker, Any]) -> list[Problem]:
    """The problems of arguments ``name=(kind, value)``: one per wrong argument, naming it."""
    out = []
    for name, (kind, value) in arguments.items():
        message = kind(value)
        if message:
            out.append(Problem(Mark("<options>", option=name), "", message))
    return out


def check(**arguments: tuple[Checker, Any]) -> None:
    """Check arguments ``name=(kind, value)``; an :class:`InputError` with one problem per wrong one."""
    found = problems(**arguments)
    if found:
        raise InputError(found)


# ------------------------------------------------------------------ a run's options

SEED_MAX = 2**63 - 1
"""Largest seed (the same bound as ``meta.seed`` in a scenario file)."""
BACKENDS = ("auto", "local", "processes", "dask")
DTYPES = ("float32", "float64")


def _whole(x: Any) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def run_option_problems(
    runs: int | None,
    workers: int | None,
    months: int | None,
    chunk_size: int | None,
    *,
    seed: int | None = None,
    dtype: str | None = None,
    backend: str | None = None,
    scheduler: str | None = None,
    ci_halfwidth: float | None = None,
    worker_timeout: float | None = None,
) -> list[Problem]:
    """The impossible options among these, one problem each (none: an empty list).

    Problems name the arguments of :func:`sim.run` (``seed``, ``dtype``, ``chunk_size``);
    the CLI names its flags instead (``--seed``, ``--precision``, ``--chunk-size``).
    """
    problems = []

    def bad(name: str, message: str) -> None:
        problems.append(option_error(name, message).problems[0])

    if isinstance(seed, np.random.SeedSequence):
        seed = None  # a SeedSequence is valid as it is
    for name, value, low in (("runs", runs, 1), ("workers", workers, 1), ("chunk_size", chunk_size, 1), ("seed", seed, 0)):
        if value is None:
            continue
        if not _whole(value):
            bad(name, f"must be a whole number (got {value!r})")
        elif value < low:
            bad(name, f"must be at least {low} (got {value})")
    if _whole(seed) and seed > SEED_MAX:
        bad("seed", f"must be at most {SEED_MAX} (got {seed})")
    if months is not None and not (_whole(months) and 1 <= months <= 600):
        bad("months", f"must be between 1 and 600 (got {months!r})")
    if dtype is not None and dtype not in DTYPES:
        bad("dtype", f"must be float32 or float64 (got {dtype!r})")
    if backend is not None and backend not in BACKENDS:
        bad("backend", f"must be auto, local, processes or dask (got {backend!r})")
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
        bad("scheduler", f"must be a scheduler address such as tcp://host:8786 (got {scheduler!r})")
    if scheduler and backend not in (None, "auto", "dask"):
        bad("scheduler", f"needs the dask backend (got backend {backend!r})")
    if ci_halfwidth is not None:
        ok = isinstance(ci_halfwidth, int | float) and not isinstance(ci_halfwidth, bool)
        if not ok or not 0 < ci_halfwidth < 0.5:
            bad("ci_halfwidth", f"must be a number between 0 and 0.5, e.g. 0.01 for +/- one point (got {ci_halfwidth!r})")
    if worker_timeout is not None:
        ok = isinstance(worker_timeout, int | float) and not isinstance(worker_timeout, bool)
        if not ok or not 0 < worker_timeout < 1e7:
            bad("worker_timeout", f"must be a number of seconds above 0 (got {worker_timeout!r})")
    return problems


def check_run_options(runs: int | None, workers: int | None, months: int | None, chunk_size: int | None,
                      **options: Any) -> None:
    """Reject impossible options before anything is computed or created: an
    :class:`InputError` with :func:`run_option_problems`'s problems (the same arguments:
    ``seed``, ``dtype``, ``backend``, ``scheduler``, ``ci_halfwidth``, ``worker_timeout`` by keyword)."""
    problems = run_option_problems(runs, workers, months, chunk_size, **options)
    if problems:
        raise InputError(problems)


ADAPTIVE_MAX_RUNS = 1_000_000
"""Most runs an adaptive run (``ci_halfwidth``) does unless ``runs`` says otherwise."""
