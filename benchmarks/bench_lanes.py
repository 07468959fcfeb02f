"""What replicates in SIMD lanes would buy a kernel: deterrence (``common_kernel.deter``) three ways.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_lanes.py [--rounds 15]

The stock kernels loop over replicates outermost and, inside, over a replicate's states,
pairs or suppliers: short loops whose products and sums must be taken in order (the same
bits), which the compiler cannot spread over SIMD lanes. With the replicates innermost, each
replicate's product is still taken in order, in its own lane, and the loops vectorize,
provided that

* the kernel is compiled with ``error_model="numpy"``: numba's default (``"python"``)
  checks every float division for a zero divisor and raises, an exit from the loop that
  stops the vectorizer (section 1, a loop of one division);
* what a loop reads is contiguous over the replicates: numpy's (R, S) arrays give a stride
  of S, so they are transposed first (section 2, ``inside``: in the call) or kept so
  (``replicate-last``: transposed outside the timing, as a world laid out replicates-last
  would hold them).

Section 2 captures the arguments of ``deter`` in 36 months of karabakh (2,000 replicates,
float32) and times the kernel as the rule calls it against the two variants, after
checking that each gives the same bits. Figures, not assertions; medians of ``--rounds``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from numba import njit  # noqa: E402

import sim  # noqa: E402
from sim.rules import common_kernel  # noqa: E402
from sim.rules.formulas import weight  # noqa: E402


def _division(model: str):
    @njit(error_model=model)
    def loop(k, x, y):
        for r in range(k.size):
            k[r] *= 1.0 - x[r] / (y[r] + 1e-12)

    return loop


@njit(nogil=True, error_model="numpy")
def _patrons(k, x, pw, cy, cp, c, n):  # pragma: no cover - compiled
    """k[r] *= patron p's factor for every replicate r (x: its affinities, cp, cy: its
    capability and capacity, c: the deterred side's capability, n: p is not a side)."""
    for r in range(k.size):
        af = np.float64(x[r])
        m = np.float64((af > 0.0) & n)  # a factor of exactly 1.0 where p does not count, as the stock kernel
        k[r] *= 1.0 - m * (pw[r] * min(af, 1.0) * cy[r] * (cp[r] / (cp[r] + c[r] + 1e-12)))


@njit(nogil=True, error_model="numpy")
def _allies(k, q, cl, c):  # pragma: no cover - compiled
    for r in range(k.size):
        k[r] *= 1.0 - q[r] * (cl[r] / (cl[r] + c[r] + 1e-12))


@njit(nogil=True, error_model="numpy")
def deter_last(capT, cyT, affT, at, support, q, pw, sides, leader, not_side):  # pragma: no cover - compiled
    """``common_kernel.deter`` with the replicates innermost: capT, cyT (S, R) and affT (M, R)
    replicate-last; the same products in the same order for every replicate."""
    S, R = capT.shape
    F = sides.shape[0]
    A = leader.size
    out = np.empty((R, F, 2))
    k0 = np.empty(R)
    k1 = np.empty(R)
    for f in range(F):
        c0 = capT[sides[f, 0]]
        c1 = capT[sides[f, 1]]
        k0[:] = 1.0
        k1[:] = 1.0
        for a in range(A):
            cl = capT[leader[a]]
            _allies(k0, q[:, f, 1, a], cl, c0)
            _allies(k1, q[:, f, 0, a], cl, c1)
        for p in range(S):
            _patrons(k0, affT[at[f, 0, p]], pw, cyT[p], capT[p], c0, not_side[f, 0, p])
            _patrons(k1, affT[at[f, 1, p]], pw, cyT[p], capT[p], c1, not_side[f, 1, p])
        for r in range(R):
            out[r, f, 0] = 1.0 - k0[r] * (1.0 - weight(support[r, f, 1], c0[r]))
            out[r, f, 1] = 1.0 - k1[r] * (1.0 - weight(support[r, f, 0], c1[r]))
    return out


@njit(nogil=True, error_model="numpy")
def deter_inside(cap, aff, at, capacity, support, q, pw, sides, leader, not_side):  # pragma: no cover - compiled
    """:func:`deter_last` on the rule's (R, S) arrays, transposed in the call."""
    return deter_last(np.ascontiguousarray(cap.T), np.ascontiguousarray(capacity.T), np.ascontiguousarray(aff.T),
                      at, support, q, pw, sides, leader, not_side)


def capture(months: int = 36) -> list[dict]:
    """The arguments of ``deter`` in the first chunk's months of a karabakh run (copies)."""
    calls: list[dict] = []
    stock = common_kernel.deter

    def keep(**kw):
        if len(calls) < months and kw["cap"].shape[0] == 2000:
            calls.append({k: v.copy() if isinstance(v, np.ndarray) else v for k, v in kw.items()})
        return stock(**kw)

    common_kernel.deter = keep
    try:
        sim.run("karabakh", runs=2000, seed=1, workers=1, backend="local")
    finally:
        common_kernel.deter = stock
    return calls


def timed(fn, calls: list[dict], rounds: int) -> float:
    """Median over rounds of the mean milliseconds a call."""
    fn(**calls[0])
    per = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for kw in calls:
            fn(**kw)
        per.append((time.perf_counter() - t0) / len(calls) * 1e3)
    return statistics.median(per)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    a = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}; numba compiles for this processor (njit's default)")

    print("\n1. k[r] *= 1 - x[r] / (y[r] + 1e-12) over 2,000 replicates (float64 k, float32 x, y)")
    rng = np.random.default_rng(1)
    x, y = rng.random(2000).astype(np.float32), rng.random(2000).astype(np.float32)
    for model in ("python", "numpy"):
        loop = _division(model)
        k = np.ones(2000)
        loop(k, x, y)
        t = statistics.median(min(_repeat(lambda loop=loop, k=k: loop(k, x, y), 2000)) for _ in range(a.rounds))
        print(f"   error_model={model!r:9s} {t * 1e6:7.2f} us a loop")

    print("\n2. deterrence, 36 months of karabakh captured (2,000 replicates)")
    calls = capture()
    last = [dict(capT=np.ascontiguousarray(kw["cap"].T), cyT=np.ascontiguousarray(kw["capacity"].T),
                 affT=np.ascontiguousarray(kw["aff"].T),
                 **{k: kw[k] for k in ("at", "support", "q", "pw", "sides", "leader", "not_side")}) for kw in calls]
    same = all(np.array_equal(common_kernel.deter(**kw), deter_inside(**kw)) and
               np.array_equal(common_kernel.deter(**kw), deter_last(**lk)) for kw, lk in zip(calls, last, strict=True))
    print(f"   the same bits in every month: {same}")
    for _ in range(2):
        stock = timed(common_kernel.deter, calls, a.rounds)
        inside = timed(deter_inside, calls, a.rounds)
        lanes = timed(deter_last, last, a.rounds)
        print(f"   stock kernel (replicates outermost)       {stock:6.3f} ms a month")
        print(f"   replicates innermost, transposed inside   {inside:6.3f} ms  (x{stock / inside:.2f})")
        print(f"   replicates innermost, replicate-last data {lanes:6.3f} ms  (x{stock / lanes:.2f})")
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")


def _repeat(fn, number: int) -> list[float]:
    out = []
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        out.append((time.perf_counter() - t0) / number)
    return out


if __name__ == "__main__":
    main()
