"""One way to open a world: build it ready to step, and release it when done.

Every place that simulates -- a run's chunks (:mod:`sim.runner`), a story's chunk
(:mod:`sim.play.story`), a game (:mod:`sim.play.game`), the calibration's episodes
(:mod:`sim.analysis.calibrate`) -- opens its :class:`~sim.world.model.World` here, so that
each gets the same set-up in the same order: the monthly rules the scenario chose, the
per-replicate values of a study's parameter sets, the levers a study switches on in some
replicates, and the snapshot a game's continuations start from::

    with opened(plan, n, seed_seq, dtype=np.float32, fixed=..., switch=..., start=...) as world:
        while world.elapsed < plan.horizon:
            world.step()

:func:`opened` releases the world on leaving (Mesa 3.3 keeps a reference to every model it
made; :meth:`~sim.world.model.World.release` lets it go); :func:`open_world` is the same set-up
for a world that outlives a block (a game's), whose owner releases it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..parts import build_pipeline
from .compile import Plan
from .model import World


def open_world(
    plan: Plan,
    n: int,
    seed_seq: np.random.SeedSequence,
    *,
    dtype: Any = np.float64,
    fixed: dict[str, np.ndarray] | None = None,
    switch: dict[tuple[str, str], np.ndarray] | None = None,
    start: dict | None = None,
    start_replicate: int = 0,
    first: int = 0,
    pipeline: list[tuple[str, Callable[[World], None]]] | None = None,
) -> World:
    """A world of ``n`` replicates of ``plan``, set up and ready to step.

    Args:
        plan: The compiled scenario (its levers pulled from the start are applied).
        n: Replicates R.
        seed_seq: The run's root seed sequence (parameter draws, the rules' streams, Mesa's own).
        first: The global index of the world's first replicate (its chunk's offset in the
            run): the random numbers of replicate i are those of replicate ``first + i``.
        dtype: Floating-point type of the parameter and state arrays.
        fixed: Per-replicate values of some parameters, ``{path: array (R,)}`` (a study's
            parameter sets), replacing the file's value or distribution.
        switch: Levers on in some replicates only, ``{(actor, lever): mask (R,)}``: each
            lever's effect is applied, in order, to the replicates its mask selects.
        start: A snapshot (:meth:`~sim.world.model.World.snapshot`) whose replicate
            ``start_replicate`` every replicate continues from (a game's continuations);
            the world keeps ``seed_seq`` for what it draws from there.
        pipeline: The monthly rules, ``(kind, rule)`` pairs (default: the ones the scenario
            chose, :func:`sim.parts.build_pipeline`); ``[]`` for a world no rule moves.
    """
    world = World(plan, n, seed_seq, build_pipeline(plan) if pipeline is None else pipeline, dtype=dtype,
                  fixed=fixed, first=first)
    try:
        for (actor, lever), on in (switch or {}).items():
            world.apply_effect(plan.scenario.levers[actor][lever].effect, on)
        if start is not None:
            world.restore(start, replicate=start_replicate, seed_seq=seed_seq)
    except BaseException:
        world.release()
        raise
    return world


@contextmanager
def opened(plan: Plan, n: int, seed_seq: np.random.SeedSequence, **setup: Any) -> Iterator[World]:
    """:func:`open_world` for the length of a ``with`` block; the world is released on
    leaving it, however it is left."""
    world = open_world(plan, n, seed_seq, **setup)
    try:
        yield world
    finally:
        world.release()
