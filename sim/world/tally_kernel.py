"""Counting a month's events per replicate, compiled (numba): :meth:`sim.world.model.World.emit`.

numpy sums a (R, few) truth mask over its short trailing axes one replicate at a time
through its generic reduction machinery (tens of microseconds for a few thousand
replicates, dozens of events a month); the loop below is a few microseconds. Integer
counts: the same numbers as numpy's sum. Compiled on first use and cached on disk (loaded without numba's compile set-up:
:mod:`sim.quickload`).
"""

from __future__ import annotations

from numba import njit

from ..quickload import quick_load


def _cached(fn):
    """``njit(cache=True, nogil=True)``, loaded from the cache without numba's compile set-up
    (:func:`sim.quickload.quick_load`)."""
    return quick_load(njit(cache=True, nogil=True)(fn))


@_cached
def add_rows(counts, mask):  # pragma: no cover - compiled
    """counts[r] += the number of nonzero bytes of mask[r] (mask: (R, M) uint8, a bool mask's view)."""
    R, M = mask.shape
    for r in range(R):
        c = 0
        for j in range(M):
            c += mask[r, j] != 0
        counts[r] += c


@_cached
def level_counts(x, L, out):  # pragma: no cover - compiled
    """out[j, v] = how many rows r hold x[r, j] == v, for v in 0..L-1 (other values are not
    counted); x: (R, M) integers, out: (M, L) int64, zeroed here."""
    R, M = x.shape
    out[:] = 0
    for r in range(R):
        for j in range(M):
            v = x[r, j]
            if 0 <= v < L:
                out[j, v] += 1


@_cached
def column_sums(x, cols, out):  # pragma: no cover - compiled
    """out[c] = the sum over rows r of x[r, c] for each c in cols, added in row order from
    zero (x: (R, M); out: (M,) float64 for floats, int64 for integers; its other entries
    are left as they are). Each column's sum is the same whichever other columns are asked
    for (a BLAS product's is not, in its last bits): the recorder sums a state's moving
    elements month by month and the others once (:class:`sim.outcomes.recorder.Carried`),
    and the trajectories' aggregate sums all of them (:func:`sim.trajectories.aggregate`),
    to the same bits."""
    R = x.shape[0]
    J = cols.size
    for j in range(J):
        out[cols[j]] = 0
    for r in range(R):
        for j in range(J):
            c = cols[j]
            out[c] += x[r, c]
