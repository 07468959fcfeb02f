"""Seeds and random numbers: the one place that turns ``None | int | SeedSequence`` into draws.

Every random number of a run is a *counter-based* draw: a strong 64-bit mixing hash
(SplitMix64's, compiled in :mod:`sim.seeding_kernel`) of its address

    (root seed, stream name, month, call within the month, replicate, element)

where the replicate is its *global* index in the run (0 .. runs-1, not its place in a
chunk) and the element its place within that replicate's part of the call. Nothing in the
address depends on how the run is cut into chunks, so the same seed gives bitwise the
same per-replicate results whatever the chunk size, the number of workers, the backend
or where an adaptive run stops (results depend on the seed and the replicate only).

- A rule's draws come from ``w.stream(name)`` (:class:`Stream`): its k-th call of a month
  draws from address (name, month, k); the first axis of every draw is the replicate's.
  A draw for some replicates only (``rows=``) reads each replicate's own numbers.
- A parameter's per-replicate value is its distribution's quantile of the uniform at
  (``"param:" + path``, replicate) (:func:`parameter_uniforms`).
- Keying draws by name keeps a parameter's or a rule's draws unchanged when another one
  changes or is switched off (common random numbers across variants).
- The root is a :class:`numpy.random.SeedSequence` (an int seed, or a continuation's
  sequence: :func:`continuation`); only its first 64-bit word of state is used.

Mesa's own generator (``world.random``, for custom code) is a PCG64 seeded per world
from the root and the world's first replicate: its draws do depend on chunking.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

MESA = 2
"""Branch of a root for Mesa's own generator."""
CONTINUATIONS = 0x636F6E74  # "cont": branch of a root for forecasts continuing a played world

_M = (1 << 64) - 1
_GAMMA = 0x9E3779B97F4A7C15


def root_sequence(seed: int | np.random.SeedSequence | None) -> np.random.SeedSequence:
    """The root sequence of a run: from an int seed, a SeedSequence, or fresh entropy."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or int(seed) < 0:
        raise ValueError(f"a seed is a whole number >= 0, got {seed!r}")
    return np.random.SeedSequence(int(seed))


def seed_value(root: np.random.SeedSequence) -> int:
    """The integer that reproduces ``root`` (its entropy), for manifests."""
    e = root.entropy
    return int(e) if not isinstance(e, list | tuple) else int(e[0])


def child(seq: np.random.SeedSequence, *key: int) -> np.random.SeedSequence:
    """The sequence at ``key`` below ``seq`` (deterministic, no state consumed)."""
    return np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, *key))


class ChunkSequence(np.random.SeedSequence):
    """The sequence of chunk ``chunk`` of a run from ``root``: the ``chunk``-th child of the
    root, which also remembers both. A world opened with it (``open_world(plan, n,
    chunk_sequence(root, k))``) is chunk k of a run of ``root`` in chunks of n replicates:
    replicates k*n .. k*n + n - 1, drawn as that run draws them (as before counter-based
    draws, when each chunk had a sequence of its own)."""

    root: np.random.SeedSequence
    chunk: int


def chunk_sequence(root: np.random.SeedSequence, chunk: int) -> ChunkSequence:
    """Chunk ``chunk``'s sequence (:class:`ChunkSequence`); used as a root of its own (its
    ``entropy`` and ``spawn_key``) it is the root's ``chunk``-th child."""
    seq = ChunkSequence(root.entropy, spawn_key=(*root.spawn_key, int(chunk)))
    seq.root, seq.chunk = root, int(chunk)
    return seq


def world_origin(seq: np.random.SeedSequence, n: int, first: int) -> tuple[np.random.SeedSequence, int]:
    """The root and first replicate a world of ``n`` replicates draws from: a chunk's sequence
    stands for its root and the chunk's first replicate (:class:`ChunkSequence`), any other
    sequence for itself and ``first``."""
    if isinstance(seq, ChunkSequence) and first == 0:
        return seq.root, seq.chunk * int(n)
    return seq, first


def mix64(z: int) -> int:
    """SplitMix64's finalizer on a Python int (the same function the kernels compile)."""
    z &= _M
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M
    return z ^ (z >> 31)


def root_key(root: np.random.SeedSequence) -> int:
    """The 64-bit key of a root sequence (its first word of state)."""
    return int(root.generate_state(1, np.uint64)[0])


def name_key(root: int, name: str) -> int:
    """The key of the stream ``name`` (a rule's stream, ``"param:" + path``) under a root key."""
    h = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")
    return mix64(mix64(root ^ mix64(h)) + _GAMMA)


def call_key(stream: int, month: int, call: int) -> int:
    """The key of the ``call``-th draw of month ``month`` (months simulated before it;
    -1 for parameters, drawn before any month) from a stream."""
    return mix64(stream + mix64(((int(month) & 0xFFFFFFFF) << 32 | (int(call) & 0xFFFFFFFF)) + _GAMMA))


def replicate_ids(first: int, n: int) -> np.ndarray:
    """The global indices of ``n`` replicates from ``first`` on (int64)."""
    return np.arange(int(first), int(first) + int(n), dtype=np.int64)


def _kernels():
    # numba: imported (and compiled, or loaded from its cache) on the first draw
    from . import seeding_kernel

    return seeding_kernel


def _fill(kind: str, key: int, ids: np.ndarray, shape: Sequence[int], dtype: Any = np.float64) -> np.ndarray:
    per = math.prod(shape[1:])
    out = np.empty((len(ids), *shape[1:]), dtype=dtype)
    if out.size:
        getattr(_kernels(), kind)(np.uint64(key), ids, per, out.reshape(-1))
    return out


def parameter_uniforms(root: int, path: str, ids: np.ndarray) -> np.ndarray:
    """One uniform in (0, 1) per replicate (52 random bits, never 0 or 1) for the parameter
    at ``path``: a distribution's quantile of it is the replicate's value."""
    return _fill("open_uniform", call_key(name_key(root, "param:" + path), -1, 0), ids, (len(ids),))


class Stream:
    """The random numbers of one stream of a world: ``w.stream("escalation")``.

    Every call's first axis is the replicate's: ``random((R, F))`` gives replicate i of the
    world (global index ``ids[i]``) the numbers at its own address, and ``rows=idx`` draws
    for the replicates ``idx`` of the world only (shape ``(len(idx), ...)``), each still
    its own. Calls are counted within a month, so a rule draws the same numbers whatever
    the chunk: a call must not be skipped in some chunks and not others when more calls of
    the same stream follow in the month (draw it every month, or from a stream of its own).
    """

    __slots__ = ("key", "ids", "clock", "month", "calls")

    def __init__(self, key: int, ids: np.ndarray, clock: Callable[[], int]):
        self.key, self.ids, self.clock = key, ids, clock
        self.month, self.calls = -1, 0

    def _next(self) -> int:
        m = self.clock()
        if m != self.month:
            self.month, self.calls = m, 0
        k = call_key(self.key, m, self.calls)
        self.calls += 1
        return k

    def _draw(self, kind: str, shape: int | Sequence[int], rows: np.ndarray | None, dtype: Any = np.float64):
        shape = (shape,) if isinstance(shape, int | np.integer) else tuple(int(s) for s in shape)
        ids = self.ids if rows is None else self.ids[rows]
        if not shape or shape[0] != len(ids):
            raise ValueError(f"a draw's first axis is the replicate's: {len(ids)} replicates, shape {shape}")
        return _fill(kind, self._next(), ids, shape, dtype)

    def keys(self, n: int) -> np.ndarray:
        """The keys of this stream's next ``n`` calls (uint64), counted as made: for a
        compiled rule that draws the numbers it uses itself (``sim.seeding_kernel.uniform_at``
        and its kin, at replicate ``ids[i]``, ``per`` draws a replicate, draw ``e``), each
        the number the call would have given at that place."""
        return np.array([self._next() for _ in range(n)], dtype=np.uint64)

    def random(self, shape: int | Sequence[int], rows: np.ndarray | None = None) -> np.ndarray:
        """Uniforms in [0, 1), 53 random bits each (float64)."""
        return self._draw("uniform", shape, rows)

    def standard_normal(self, shape: int | Sequence[int], rows: np.ndarray | None = None) -> np.ndarray:
        """Standard normals: the inverse normal CDF of uniforms in (0, 1) (float64)."""
        return self._draw("normal", shape, rows)

    def standard_exponential(self, shape: int | Sequence[int], rows: np.ndarray | None = None) -> np.ndarray:
        """Standard exponentials: ``-log(1 - u)`` (float64), ``u`` the uniforms :meth:`random`
        would give (no kernel of their own: no stock rule draws exponentials in an array, the
        spells month draws its own, so a kernel for them would stay uncompiled after every run)."""
        out = self._draw("uniform", shape, rows)
        np.subtract(1.0, out, out=out)
        np.log(out, out=out)
        return np.negative(out, out=out)

    def bits16(self, shape: int | Sequence[int], rows: np.ndarray | None = None) -> np.ndarray:
        """Uniform 16-bit unsigned integers."""
        return self._draw("bits16", shape, rows, np.uint16)

    def state(self) -> dict:
        """Where the stream is: the month of its last call and the calls made in it."""
        return {"month": self.month, "calls": self.calls}

    def set_state(self, state: dict) -> None:
        self.month, self.calls = int(state["month"]), int(state["calls"])


def valid_state(state: Any) -> bool:
    """Whether ``state`` is a :meth:`Stream.state` (as a saved game holds it)."""
    return (isinstance(state, dict) and set(state) == {"month", "calls"}
            and all(isinstance(state[k], int) and not isinstance(state[k], bool) for k in state)
            and state["month"] >= -1 and state["calls"] >= 0)


def mesa_seed(root: np.random.SeedSequence, first: int = 0) -> int:
    """The integer seed of Mesa's own generator for a world whose first replicate is ``first``."""
    return int(child(root, MESA, int(first)).generate_state(1)[0])


def continuation(seed: int, turn: int) -> np.random.SeedSequence:
    """Root sequence of the Monte Carlo continuations after turn ``turn`` of a game
    played with ``seed`` (stated in a saved game, so its forecasts can be reproduced)."""
    return np.random.SeedSequence(int(seed), spawn_key=(CONTINUATIONS, int(turn)))
