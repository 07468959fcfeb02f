"""The spells rule's chain of moves within a month, compiled (numba).

:mod:`sim.rules.spells` draws the random numbers of a batch of moves from the world's
streams (for every flashpoint of every replicate) and calls :func:`chain` to run the
cells still moving through that batch; it draws the next batch only if some cell is
still moving. This module holds no randomness. Compiled on first use and cached on disk.

Symbols are those of docs/MODEL.md §D3a.
"""

from __future__ import annotations

import numpy as np

from .formulas import climbs, kernel, steps_down, toll


@kernel
def chain(act, E, U, Z, m, F, u0, d0, s0, pi_s, d_inc, standing, fu, fd, fst, end_rate, pa, med3, med4, sig, post,
          floor, a_idx, b_idx, stake_of, claimants, claim_any, ctrl,
          lv, tau, peak, deaths, war_time, calm_at, settle_now, ended, claim, winner, entries):  # pragma: no cover - compiled
    """Run the cells ``act`` (flat r * F + f) through up to ``m`` moves; return those
    still moving after them.

    Args:
        act: (n,) cells still moving. E, U, Z: (N, m), (N, m, 2), (N, m) the batch's
            standard exponential waiting times, uniforms (kind of move, war's winner) and
            standard normals (a clash's toll), for every cell.
        u0, d0, s0: (R, 6) base rates by rung; pi_s, d_inc: (R,) the share of disputes
            that stand and an incident's exit rate (at rung 2 a standing dispute steps down at
            d0[2], an incident at d_inc); standing: (N,) the dispute stands, updated in place
            (drawn with U[.., 1] as the cell climbs from rung 1 to 2); fu: (N, 2) the month's factor of the up-rates
            from rungs 0-1 (column 0: disputes starting) and from rungs 2-4 (column 1);
            fd, fst: (N,) the month's factors of the down- and settlement rates;
            end_rate: (R,) 1 / war_mean_months; pa: (N,) P(side a wins a war);
            med3, med4, sig: (R,) clash tolls; post: (R,) post-war rung; floor: (N,) rung floor.
        a_idx, b_idx: (F,) the sides; stake_of: (F,) territory at stake (-1: none);
            claimants: (T, S); claim_any: (T,); ctrl: (R, T) controllers.
        lv, tau, peak, deaths, war_time, calm_at, settle_now, ended, claim, winner: (N,)
            the month so far, updated in place; entries: (N,) times the cell climbed from
            rung 1 to rung 2 (a militarized dispute starting) this month.
    """
    out = np.empty(act.size, dtype=np.intp)
    n_out = 0
    for c in act:
        r = c // F
        f = c - r * F
        lk = lv[c]
        t = tau[c]
        moving = True
        for j in range(m):
            at_war = not climbs(lk)
            up = 0.0 if at_war else u0[r, lk] * fu[c, 0 if lk < 2 else 1]
            base_d = d_inc[r] if (lk == 2 and not standing[c]) else d0[r, lk]
            down = base_d * fd[c] if steps_down(lk, floor[c]) else 0.0
            settle = 0.0 if at_war else s0[r, lk] * fst[c]
            total = up + down + settle + (end_rate[r] if at_war else 0.0)
            wait = E[c, j] / total if total > 0 else np.inf
            go = t + wait < 1.0
            if at_war:
                war_time[c] += wait if go else 1.0 - t
            if not go:
                moving = False
                break
            t += wait
            x = U[c, j, 0] * total
            if x < up:
                lk += 1
                if lk == 2:
                    entries[c] += 1
                    standing[c] = U[c, j, 1] < pi_s[r]  # a new dispute: standing or an incident
                if lk == 3 or lk == 4:  # a clash breaks out
                    deaths[c] += toll(med3[r] if lk == 3 else med4[r], sig[r], Z[c, j], 1.0)
                if lk > peak[c]:
                    peak[c] = lk
            elif x < up + down:
                lk -= 1
            elif x < up + down + settle:
                lk = 0
                settle_now[c] = True
                moving = False
            elif at_war:  # the war ends; the winner takes the stakes if it claims them
                win = a_idx[f] if U[c, j, 1] < pa[c] else b_idx[f]
                winner[c] = win
                ended[c] = True
                ts = stake_of[f]
                if ts >= 0 and (claimants[ts, win] or not claim_any[ts]) and ctrl[r, ts] != win:
                    claim[c] = True
                    moving = False
                else:
                    lk = post[r]
            if lk < 2 and np.isnan(calm_at[c]):
                calm_at[c] = t
            if not moving:
                break
        lv[c] = lk
        tau[c] = t
        if moving:
            out[n_out] = c
            n_out += 1
    return out[:n_out]
