"""Seeds: the one place that turns ``None | int | SeedSequence`` into random streams.

Every random number of a run comes from one root :class:`numpy.random.SeedSequence`,
through a fixed tree of spawn keys below it::

    root + (chunk,)                    a chunk of replicates (= SeedSequence(seed).spawn()[chunk])
    chunk + (0, crc32(path))           the draws of the parameter at PATH
    chunk + (1, crc32(stream name))    a rule's monthly stream
    chunk + (1, crc32(name), m, b)     a rule's draws of month m that only some months need
                                       (batch b >= 1: see :func:`month_generator`)
    chunk + (2,)                       Mesa's own generator
    root + (turn, "continuations")...  see :func:`continuation`

So the same seed gives the same numbers whatever the machine, the number of workers or
the backend; and keying draws by name keeps a parameter's or a rule's draws unchanged
when another one changes (common random numbers across variants).
"""

from __future__ import annotations

import zlib

import numpy as np

PARAMS, RULES, MESA = 0, 1, 2
"""Branches below a chunk's sequence."""
CONTINUATIONS = 0x636F6E74  # "cont": branch of a root for forecasts continuing a played world


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


def chunk_sequence(root: np.random.SeedSequence, chunk: int) -> np.random.SeedSequence:
    """Chunk ``chunk``'s sequence: the chunk-th child of the root."""
    return child(root, chunk)


def name_key(name: str) -> int:
    """A stable integer key for a name (a parameter path, a stream name)."""
    return zlib.crc32(name.encode())


def generator(seq: np.random.SeedSequence, *key: int) -> np.random.Generator:
    """A PCG64 generator on the sequence at ``key`` below ``seq``."""
    return np.random.Generator(np.random.PCG64(child(seq, *key)))


def parameter_generator(chunk_seq: np.random.SeedSequence, path: str) -> np.random.Generator:
    return generator(chunk_seq, PARAMS, name_key(path))


def rule_generator(chunk_seq: np.random.SeedSequence, name: str) -> np.random.Generator:
    return generator(chunk_seq, RULES, name_key(name))


def month_generator(chunk_seq: np.random.SeedSequence, name: str, month: int, batch: int) -> np.random.Generator:
    """A stream of month ``month`` (months simulated before it) only, for draws a rule needs
    in some months and not others (more moves of a busy flashpoint): drawing from it leaves
    the rule's own stream, and every later month, untouched."""
    return generator(chunk_seq, RULES, name_key(name), int(month), int(batch))


def mesa_seed(chunk_seq: np.random.SeedSequence) -> int:
    """The integer seed of Mesa's own generator for a chunk."""
    return int(child(chunk_seq, MESA).generate_state(1)[0])


def continuation(seed: int, turn: int) -> np.random.SeedSequence:
    """Root sequence of the Monte Carlo continuations after turn ``turn`` of a game
    played with ``seed`` (stated in a saved game, so its forecasts can be reproduced)."""
    return np.random.SeedSequence(int(seed), spawn_key=(CONTINUATIONS, int(turn)))
