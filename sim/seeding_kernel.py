"""The counter-based draws of :mod:`sim.seeding`, compiled (numba, cached on disk).

Draw ``e`` of replicate ``r`` in a call keyed ``key`` is ``mix(key + (r * per + e) * GAMMA)``:
SplitMix64's output at position ``r * per + e`` of the sequence seeded with ``key``, where
``per`` is the number of draws each replicate gets in the call. Nothing here depends on
which replicates a world holds beside ``r``. Each kernel fills ``out`` (flat, replicate by
replicate) for the replicates ``ids`` (global indices, int64); loaded from the cache without
numba's compile set-up (:mod:`sim.quickload`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .quickload import quick_load

GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S11, _S12, _S27 = np.uint64(11), np.uint64(12), np.uint64(27)
_S30, _S31, _S48 = np.uint64(30), np.uint64(31), np.uint64(48)
_UNIT53 = 2.0 ** -53
_UNIT52 = 2.0 ** -52

# Wichura's AS241 (PPND16): the inverse normal CDF to about 1e-16
_A = np.array([3.3871328727963666080e0, 1.3314166789178437745e2, 1.9715909503065514427e3, 1.3731693765509461125e4,
               4.5921953931549871457e4, 6.7265770927008700853e4, 3.3430575583588128105e4, 2.5090809287301226727e3])
_B = np.array([1.0, 4.2313330701600911252e1, 6.8718700749205790830e2, 5.3941960214247511077e3,
               2.1213794301586595867e4, 3.9307895800092710610e4, 2.8729085735721942674e4, 5.2264952788528545610e3])
_C = np.array([1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0,
               3.64784832476320460504e0, 1.27045825245236838258e0, 2.41780725177450611770e-1,
               2.27238449892691845833e-2, 7.74545014278341407640e-4])
_D = np.array([1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
               1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4,
               1.05075007164441684324e-9])
_E = np.array([6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0,
               2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3,
               2.71155556874348757815e-5, 2.01033439929228813265e-7])
_F = np.array([1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
               7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7,
               2.04426310338993978564e-15])


@njit(inline="always")
def _bits(key, r, per, e):
    z = key + (np.uint64(r) * np.uint64(per) + np.uint64(e)) * GAMMA
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(inline="always")
def _poly(c, x):
    return ((((((c[7] * x + c[6]) * x + c[5]) * x + c[4]) * x + c[3]) * x + c[2]) * x + c[1]) * x + c[0]


@njit(inline="always")
def ndtri(p):
    """The standard normal quantile of ``p`` in (0, 1)."""
    q = p - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        return q * _poly(_A, r) / _poly(_B, r)
    r = np.sqrt(-np.log(p if q < 0.0 else 1.0 - p))
    if r <= 5.0:
        r -= 1.6
        v = _poly(_C, r) / _poly(_D, r)
    else:
        r -= 5.0
        v = _poly(_E, r) / _poly(_F, r)
    return -v if q < 0.0 else v


@njit(inline="always")
def uniform_at(key, r, per, e):
    """Draw e of replicate r (global index) in a call keyed ``key`` of ``per`` draws a
    replicate, as a uniform in [0, 1): the top 53 bits. For kernels that draw only the
    numbers they use, at the addresses a whole call would give them (``Stream.keys``)."""
    return np.float64(_bits(key, r, per, e) >> _S11) * _UNIT53


@njit(inline="always")
def exponential_at(key, r, per, e):
    """The standard exponential ``-log(1 - u)`` of :func:`uniform_at`'s uniform (numba's
    ``log``: it may differ from numpy's, which ``Stream.standard_exponential`` applies, in
    the last bit)."""
    return -np.log(1.0 - uniform_at(key, r, per, e))


@njit(inline="always")
def open_uniform_at(key, r, per, e):
    """Draw e of replicate r as a uniform in (0, 1), never 0 or 1: ``(k + 1/2) / 2**52`` for
    its top 52 bits ``k``."""
    return (np.float64(_bits(key, r, per, e) >> _S12) + 0.5) * _UNIT52


@njit(nogil=True)
def normal_at(key, r, per, e):
    """The standard normal of draw e of replicate r: the quantile of :func:`open_uniform_at`
    (the numbers of :func:`normal`). A call, not inlined: the quantile's code is long, and
    a kernel that draws few normals compiles faster without a copy of it at each use."""
    return ndtri(open_uniform_at(key, r, per, e))


def _cached(fn):
    """``njit(cache=True, nogil=True)``, loaded without numba's compile set-up (:mod:`sim.quickload`)."""
    return quick_load(njit(cache=True, nogil=True)(fn))


@_cached
def uniform(key, ids, per, out):
    """Uniforms in [0, 1): the top 53 bits of each draw."""
    for i in range(ids.size):
        r = ids[i]
        for e in range(per):
            out[i * per + e] = uniform_at(key, r, per, e)


@_cached
def open_uniform(key, ids, per, out):
    """Uniforms in (0, 1), never 0 or 1: ``(k + 1/2) / 2**52`` for the top 52 bits ``k``."""
    for i in range(ids.size):
        r = ids[i]
        for e in range(per):
            out[i * per + e] = open_uniform_at(key, r, per, e)


@_cached
def normal(key, ids, per, out):
    """Standard normals: the quantile of :func:`open_uniform`'s uniforms."""
    for i in range(ids.size):
        r = ids[i]
        for e in range(per):
            out[i * per + e] = ndtri(open_uniform_at(key, r, per, e))


@_cached
def bits16(key, ids, per, out):
    """Uniform 16-bit integers: the top 16 bits of each draw."""
    for i in range(ids.size):
        r = ids[i]
        for e in range(per):
            out[i * per + e] = np.uint16(_bits(key, r, per, e) >> _S48)


@njit(inline="always")
def bits16_at(key, r, per, e):
    """Draw e of replicate r as a uniform 16-bit integer: its top 16 bits (the numbers of
    :func:`bits16`)."""
    return np.uint16(_bits(key, r, per, e) >> _S48)
