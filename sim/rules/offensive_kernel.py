"""The odds of limited offensives (:func:`sim.rules.offensive.odds`), compiled (numba).

One pass over each side of each flashpoint: whether it is a challenger, its launch
hazard, and the chances of war and of seizure. No randomness. Compiled on first use and
cached on disk. Symbols are those of docs/MODEL.md §D9.
"""

from __future__ import annotations

import numpy as np

from .formulas import balance, contest_success, kernel


@kernel
def odds(claims, stakes, sides, controller, held, settled, level, lr, D, resolve,
         base_rate, b_bal, b_iso, b_res, war_risk, decisiveness):  # pragma: no cover - compiled
    """challenger, rate, p_war, p_win, x: (R, F, 2); see :func:`sim.rules.offensive.odds`.

    Args:
        claims: (F, 2) side claims the stakes; stakes: (F,) territory (-1: none);
        sides: (F, 2); controller: (R, T); held: (R, F) the share of the stakes its controller's
        opponent holds; settled, level, lr: (R, F); D: (R, F, 2);
        resolve: (R, S); base_rate ... decisiveness: (R,) the rule's parameters.
    """
    R, F = level.shape
    challenger = np.zeros((R, F, 2), dtype=np.bool_)
    rate = np.zeros((R, F, 2))
    p_war = np.empty((R, F, 2))
    p_win = np.empty((R, F, 2))
    x = np.empty((R, F, 2))
    for r in range(R):
        for f in range(F):
            t = stakes[f]
            owner = controller[r, t] if t >= 0 else -1
            live = not settled[r, f] and level[r, f] <= 4
            militarized = level[r, f] >= 2 and level[r, f] <= 4
            for sg in range(2):
                xs = lr[r, f] if sg == 0 else -lr[r, f]
                x[r, f, sg] = xs
                d = D[r, f, sg]
                p_war[r, f, sg] = 1.0 - (1.0 - war_risk[r]) * (1.0 - d)
                p_win[r, f, sg] = contest_success(decisiveness[r], xs)
                # the challenger (its opponent holds the land), or the holder retaking what was taken from it
                ch = claims[f, sg] and live and (owner == sides[f, 1 - sg]
                                                 or (owner == sides[f, sg] and held[r, f] > 0.0))
                challenger[r, f, sg] = ch
                if ch and militarized:
                    rate[r, f, sg] = base_rate[r] * np.exp(b_bal[r] * balance(xs) - b_iso[r] * d
                                                           + b_res[r] * (resolve[r, sides[f, sg]] - 0.5))
    return challenger, rate, p_war, p_win, x
