"""The talks process (:mod:`sim.rules.talks`), compiled (numba): one pass per flashpoint.

The uniform draws come from the world's stream, drawn for every replicate outside this
module. Compiled on first use and cached on disk. Symbols are those of docs/MODEL.md §D10.
"""

from __future__ import annotations

import numpy as np

from .formulas import chance, kernel


@kernel
def negotiate(u, sides, mediators, capacity, resolve, peak, settled, talks, progress, agreement, level, war_months,
              open_rate, stall_rate, clash_stall, resume_rate, progress_rate, sign_rate, b_med, b_res,
              opened_out, stalled_out, signed_out):  # pragma: no cover - compiled
    """One month of talks at every flashpoint, in place; returns whether any agreement was signed.

    Args:
        u: (R, F, 3) uniforms; sides: (F, 2); mediators: (R, F, S); capacity, resolve: (R, S);
        peak: (R, F); settled, talks, progress, agreement, level, war_months: (R, F), updated.
        open_rate ... b_res: (R,) the rule's parameters.
        opened_out, stalled_out, signed_out: (R, F) bool, the month's openings (or
        resumptions), stalls and agreements.
    """
    R, F = peak.shape
    S = capacity.shape[1]
    any_signed = False
    for r in range(R):
        for f in range(F):
            M = 0.0
            for s in range(S):
                if mediators[r, f, s]:
                    M += capacity[r, s]
            m = np.exp(b_med[r] * M)
            rr = np.exp(-b_res[r] * ((resolve[r, sides[f, 0]] + resolve[r, sides[f, 1]]) / 2.0 - 0.5))
            clash = peak[r, f] >= 3
            live = not settled[r, f]
            t = talks[r, f]
            opened = live and t == 0 and u[r, f, 0] < chance(open_rate[r] * m * rr)
            resumed = live and t == 2 and not clash and u[r, f, 0] < chance(resume_rate[r] * m)
            keep_on = (1.0 - (clash_stall[r] if clash else 0.0)) * np.exp(-stall_rate[r] / m)
            stalled = live and t == 1 and u[r, f, 1] >= keep_on
            going = live and t == 1 and not stalled
            prog = progress[r, f]
            if going:
                prog = prog + progress_rate[r] * m * (1.0 - prog)
            signed = going and u[r, f, 2] < chance(sign_rate[r] * prog * m * rr)
            progress[r, f] = prog
            if settled[r, f] or signed:
                talks[r, f] = 0
            elif opened or resumed:
                talks[r, f] = 1
            elif stalled:
                talks[r, f] = 2
            opened_out[r, f] = opened or resumed
            stalled_out[r, f] = stalled
            signed_out[r, f] = signed
            if signed:
                any_signed = True
                agreement[r, f] = True
                settled[r, f] = True
                level[r, f] = 0
                war_months[r, f] = 0
    return any_signed
