"""The blockade rule's month (:mod:`sim.rules.blockade`), compiled (numba): one pass per replicate.

Numpy made a dozen passes over small arrays a month (the lift draws and tests, the supplies'
recovery and wear, the floor and the rung), a sixth of a millisecond for 2,000 replicates;
this loop touches each replicate's flashpoints and states once. The lift draw of flashpoint
f is the number the stream's call would give it (:func:`sim.seeding_kernel.uniform_at`, as
``stream.random((R, F))``). The supplies are computed in their own float type, an operation
at a time, as numpy computes ``supply + rec * (1 - supply)`` and ``supply * kept``: the same
bits. Compiled on first use and cached on disk (``cache=True``). Symbols are those of
docs/MODEL.md §D8.
"""

from __future__ import annotations

import numpy as np

from .. import seeding_kernel
from ..seeding_kernel import uniform_at
from .formulas import kernel, source_hash

HOLD_RUNG = 2  # sim.rules.blockade.HOLD_RUNG (not imported: this module stays a leaf)
_SEEDING = source_hash(seeding_kernel.__file__)  # uniform_at is inlined: its file is part of the cache stamp


@kernel(also=(_SEEDING,))
def siege(key, ids, blockade, settled, lift, supply, rec, kept, one, side_a, side_b, col_state, level,
          supply_out, floor_out, level_out, n_lifted, keep, lifted_out):  # pragma: no cover - compiled
    """Advance every blockade of every replicate by one month.

    Args:
        key, ids: the stream's call and the replicates' global indices (R,): a blockade in
            place at flashpoint f is lifted if the dispute is settled or
            ``uniform_at(key, ids[r], F, f)`` < lift[r].
        blockade: (R, F) int8, +1, -1 or 0, updated in place (a lifted blockade is 0);
            settled: (R, F).
        lift: (R,) the monthly chance of a lift, in the world's precision.
        supply: (R, S) supplies now; rec: (R,) the recovery rate and kept: (R,) 1 - the
            wear rate, in supply's float type; one: 1 in that type.
        side_a, side_b: (F,) the place, among the sides (V of them), of each flashpoint's
            first and second side; col_state: (V,) each side's state.
        level: (R, F) int8 the rung now.
        supply_out: (R, S) the new supplies: every state recovers, a blockaded side wears;
            floor_out, level_out: (R, F) int8 the rung floor (2 where a blockade holds, else
            0) and the rung (at least 2 there).
        n_lifted: (R,) the count of ``blockade.lifted`` (``world.counts``), raised by each
            replicate's lifts unless ``keep``.
        keep: instead of counting, mark the lifts in lifted_out (R, F) bool (for
            ``world.emit`` when a log narrates); otherwise it is not touched (an empty
            array will do).

    Returns whether any blockade was lifted.
    """
    R, F = blockade.shape
    S = supply.shape[1]
    V = col_state.size
    victim = np.zeros(V, dtype=np.bool_)
    any_lifted = False
    for r in range(R):
        rid = ids[r]
        n = 0
        for f in range(F):
            if blockade[r, f] != 0 and (settled[r, f] or uniform_at(key, rid, F, f) < lift[r]):
                blockade[r, f] = 0
                n += 1
                if keep:
                    lifted_out[r, f] = True
        if n:
            any_lifted = True
            if not keep:
                n_lifted[r] += n
        rr = rec[r]
        for s in range(S):
            x = supply[r, s]
            supply_out[r, s] = x + rr * (one - x)
        for v in range(V):
            victim[v] = False
        for f in range(F):
            b = blockade[r, f]
            if b > 0:
                victim[side_b[f]] = True
            elif b < 0:
                victim[side_a[f]] = True
            held = b != 0
            floor_out[r, f] = HOLD_RUNG if held else 0
            lv = level[r, f]
            level_out[r, f] = max(lv, HOLD_RUNG) if held else lv
        kr = kept[r]
        for v in range(V):
            if victim[v]:
                c = col_state[v]
                supply_out[r, c] = supply[r, c] * kr
    return any_lifted
