"""The sampling of a study's parameter sets: SALib samples and full grids.

A study's inputs (parameters given a range, levers switched across sets) and the SALib
problem they make are :mod:`sim.inputs`'s (below the loader, which offers
``LoadedScenario.problem``); they are importable from here too. :func:`sample` draws the
parameter sets with SALib's samplers (Sobol/Saltelli, Morris, Latin hypercube, eFAST) or lays out
a full grid; :func:`set_count` says how many a design has.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from ..inputs import LEVER, Input, inputs_for, parse_ranges, problem  # noqa: F401 - moved below the loader; here for callers
from ..scenario.errors import option_error

METHODS = ("sobol", "morris", "lhs", "grid", "fast", "delta")
FAST_M = 4
"""eFAST's interference factor M (SALib's default): a sample needs N > 4 M^2 sets per input."""
SWEEP_METHODS = (*METHODS, "design")
"""What a sweep folder's method can be: a sampled design, or ``design`` (sets of your own,
:func:`sim.evaluate`: no sampler, no indices)."""
MAX_GRID_SETS = 200_000


def set_count(method: str, n: int, d: int, second_order: bool = False) -> int:
    """How many parameter sets a method draws for base size ``n`` and ``d`` inputs."""
    if method == "sobol":
        return n * (2 * d + 2 if second_order else d + 2)
    if method == "morris":
        return n * (d + 1)
    if method == "fast":
        return n * d
    if method in ("lhs", "delta"):
        return n
    return n ** d


def sample(inputs: list[Input], method: str, n: int, seed: int, *, second_order: bool = False,
           levels: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Draw the parameter sets: ``(X, values)``, both (sets, inputs).

    ``X`` is the sample as SALib drew it (what its analysers expect); ``values`` are
    the values the model gets (quantiles turned into values, levers into 0/1).
    ``n``: Sobol base sample (a power of 2), Morris trajectories, LHS sets, eFAST sets
    per input (more than 64), delta's Latin hypercube sets, or levels per input of a grid.
    """
    if method not in METHODS:
        raise option_error("method", f"must be one of {', '.join(METHODS)} (got {method!r})")
    if not inputs:
        raise option_error("params", "nothing to vary: the scenario declares no uncertainties; "
                           "give ranges with --param PATH=LO:HI (or levers with --lever)")
    d = len(inputs)
    if method == "grid":
        axes = [i.grid(n) for i in inputs]
        total = math.prod(len(a) for a in axes)
        if total > MAX_GRID_SETS:
            raise option_error("samples", f"a grid of {n} levels over {d} inputs has {total:,} sets "
                               f"(at most {MAX_GRID_SETS:,}); use fewer levels or --method lhs/sobol")
        values = np.array(list(itertools.product(*axes)), dtype=float).reshape(total, d)
        return values.copy(), values
    if method == "sobol" and d < 2:
        raise option_error("method", "Sobol indices need at least two inputs; use --method lhs or grid for one")
    spec = problem(inputs)
    prob = {k: spec[k] for k in ("num_vars", "names", "bounds", "dists")}
    if method == "sobol":
        from SALib.sample import sobol

        if n & (n - 1):
            raise option_error("samples", f"a Sobol sample needs a power of 2 (got {n}; try {1 << (n - 1).bit_length()})")
        X = sobol.sample(prob, n, calc_second_order=second_order, seed=seed)
    elif method == "morris":
        from SALib.sample import morris

        X = morris.sample(prob, n, num_levels=levels, seed=seed)
    elif method == "fast":
        from SALib.sample import fast_sampler

        if n <= 4 * FAST_M**2:
            raise option_error("samples", f"an eFAST sample needs more than {4 * FAST_M**2} sets per input "
                               f"(got {n}; try {4 * FAST_M**2 + 1} or more)")
        X = fast_sampler.sample(prob, n, M=FAST_M, seed=seed)
    else:  # lhs, delta
        from SALib.sample import latin

        X = latin.sample(prob, n, seed=seed)
    values = np.column_stack([inp.values(X[:, j]) for j, inp in enumerate(inputs)])
    return X, values
