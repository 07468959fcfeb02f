"""Limited offensives (:mod:`sim.rules.offensive`), compiled (numba).

One kernel, two uses. Its odds (``step`` false): for each side of each flashpoint, whether
it is a challenger, its launch hazard and the chances of war and of a gain, no randomness
(:func:`sim.rules.offensive.odds`, which the launch decision's odds read). Its month
(``step`` true): one pass per replicate over its flashpoints that works out the same odds,
draws the launches and their course from the rule's stream (each replicate's numbers drawn
here as the stream would draw them: :func:`sim.seeding_kernel.uniform_at`, and
:func:`~sim.seeding_kernel.normal_at` for a launch's toll),
updates the state in place and counts the rule's events. Compiled on first use and cached
on disk. Symbols are those of docs/MODEL.md §D9.
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable

from .. import seeding_kernel
from ..seeding_kernel import normal_at, uniform_at
from .formulas import WAR, balance, chance, contest_success, kernel, source_hash, toll

_SEEDING = source_hash(seeding_kernel.__file__)  # the draws are compiled in: that file is part of the cache stamp


@register_jitable
def _uniform(key, r, per, e):
    """:func:`~sim.seeding_kernel.uniform_at`, called: inlined at each of the month's four
    draws it would be compiled four times."""
    return uniform_at(key, r, per, e)

# the bits of a place's code in ``code_out`` (a log narrates: sim.rules.offensive emits from them)
LAUNCH, TO_WAR, WON, WHOLE, HOLDER, DEADLY = 1, 2, 4, 8, 16, 32


@register_jitable
def _challenger(claims, sides, f, sg, owner, held, live):
    """Side ``sg`` of flashpoint ``f`` may launch: it claims the land, the dispute is live,
    and its opponent holds the land, or it holds it and is retaking what was taken from it."""
    return claims[f, sg] and live and (owner == sides[f, 1 - sg] or (owner == sides[f, sg] and held > 0.0))


@register_jitable
def _rate(xs, D, resolve, base_rate, b_bal, b_iso, b_res, b_ter, territorial):
    """lambda: a challenger's launch hazard at rungs 2-4 (1/month)."""
    return (base_rate * np.exp(b_bal * balance(xs) - b_iso * D + b_res * (resolve - 0.5))
            * np.exp(b_ter * territorial))


@register_jitable
def _p_war(war_risk, D):
    """1 - (1 - w_0)(1 - D): the defender fights on, or help arrives."""
    return 1.0 - (1.0 - war_risk) * (1.0 - D)


@kernel(also=(_SEEDING,))
def offend(step, claims, stakes, sides, controller, held, held_from, settled, level, lr, D, resolve, territorial,
           base_rate, b_bal, b_iso, b_res, war_risk, decisiveness, b_ter,
           challenger_out, rate_out, p_war_out, p_win_out, x_out,
           key_u, key_z, ids, launch, order, decides, take_all, take_share, median, sigma,
           deaths, casualties, standing, war_months, peak, offensives, seizures, gains, retakes,
           counts, keep, code_out):  # pragma: no cover - compiled
    """The odds of limited offensives, or a month of them (see the module's docstring).

    Args:
        step: false: the odds only, into ``*_out`` (every array after ``x_out`` is not
            read: empty ones will do); true: the month, in place (``*_out`` not touched).
        claims: (F, 2) side claims the stakes; stakes: (F,) territory (-1: none);
        sides: (F, 2); controller: (R, T); held, held_from: (R, F) the share of the stakes
            its controller's opponent holds, taken from whom (odds: ``held_now``; the month
            lapses a share whose territory changed hands, as ``held_now``, and updates both);
        settled, level, lr: (R, F); D: (R, F, 2); resolve: (R, S); territorial: (R, F) (lr,
            resolve and territorial in the world's precision: the hazard is computed in float64);
        base_rate ... b_ter: (R,) the rule's parameters.
        challenger_out, rate_out (lambda, 1/month), p_war_out, p_win_out (P(a gain | no
            war)), x_out (balance): (R, F, 2), the odds.
        key_u, key_z, ids: the stream's two calls (uniforms (R, F, 2, 4) and normals
            (R, F), as ``stream.random`` and ``stream.standard_normal`` draw them) and the
            replicates' global indices (R,).
        launch: (R, F) an ordered offensive (+1/-1); order: (R, F, 2) a team's order;
            both reset. decides: (R, S) the model takes a state's decisions
            (:func:`sim.parts.model_decides`): a played side launches only when ordered.
        take_all, take_share, median, sigma: (R,) p_all, g and the toll of a clash.
        deaths ... retakes: (R, F) the state the month updates.
        counts: seven (R,) counts (``world.counts``) of the events offensive.launch,
            .seizure, .gain, .retake, .failure, .war and escalation.deaths (a launch in a
            month the ladder did not already count as deadly), raised unless ``keep``.
        keep: instead of counting, write each place's code (LAUNCH | TO_WAR | ...) into
            ``code_out`` (R, F, 2) (DEADLY on side 0) for ``world.emit``.
    """
    R, F = level.shape
    if not step:
        for r in range(R):
            for f in range(F):
                t = stakes[f]
                owner = controller[r, t] if t >= 0 else -1
                live = not settled[r, f] and level[r, f] <= 4
                militarized = level[r, f] >= 2 and level[r, f] <= 4
                for sg in range(2):
                    xs = lr[r, f] if sg == 0 else -lr[r, f]
                    d = D[r, f, sg]
                    ch = _challenger(claims, sides, f, sg, owner, held[r, f], live)
                    challenger_out[r, f, sg] = ch
                    rate_out[r, f, sg] = _rate(xs, d, resolve[r, sides[f, sg]], base_rate[r], b_bal[r], b_iso[r],
                                               b_res[r], b_ter[r], territorial[r, f]) if ch and militarized else 0.0
                    p_war_out[r, f, sg] = _p_war(war_risk[r], d)
                    p_win_out[r, f, sg] = contest_success(decisiveness[r], xs)
                    x_out[r, f, sg] = xs
        return
    per_u = F * 8
    ctrl = np.empty(F, dtype=np.int64)
    one, zero = np.float32(1.0), np.float32(0.0)
    for r in range(R):
        rid = ids[r]
        for f in range(F):  # who controls the land as the month starts (a seizure below moves it)
            t = stakes[f]
            ctrl[f] = controller[r, t] if t >= 0 else -1
        for f in range(F):
            owner = ctrl[f]
            h, hf, lev, x = held[r, f], held_from[r, f], level[r, f], lr[r, f]
            if not (owner == hf and hf >= 0):  # the share taken goes with the territory if a war or an event moved it
                h = zero
            if not h > 0:
                hf = -1
            live = not settled[r, f] and lev <= 4
            militarized = lev >= 2 and lev <= 4
            go = -1  # the side that launches: the first if both would (one offensive per flashpoint and month)
            for sg in range(2):
                ordered = launch[r, f] == (1 if sg == 0 else -1) or order[r, f, sg]
                order[r, f, sg] = False
                if go >= 0 or not _challenger(claims, sides, f, sg, owner, h, live):
                    continue
                if ordered:
                    go = sg
                elif militarized and decides[r, sides[f, sg]]:  # a played side launches only when ordered
                    rate = _rate(x if sg == 0 else -x, D[r, f, sg], resolve[r, sides[f, sg]], base_rate[r], b_bal[r],
                                 b_iso[r], b_res[r], b_ter[r], territorial[r, f])
                    if _uniform(key_u, rid, per_u, (f * 2 + sg) * 4) < chance(rate):
                        go = sg
            launch[r, f] = 0
            if go >= 0:
                e = (f * 2 + go) * 4
                holder = owner == sides[f, go]  # the side launching holds the land: a retake
                war = _uniform(key_u, rid, per_u, e + 1) < _p_war(war_risk[r], D[r, f, go])
                won = not war and (_uniform(key_u, rid, per_u, e + 2)
                                   < contest_success(decisiveness[r], x if go == 0 else -x))
                whole = won and _uniform(key_u, rid, per_u, e + 3) < take_all[r]
                took_all, took_part = whole and not holder, won and not whole and not holder
                back_all, back_part = whole and holder, won and not whole and holder
                dead = deaths.dtype.type(toll(median[r], sigma[r], normal_at(key_z, rid, F, f), 1.0))
                quiet = deaths[r, f] == 0  # a month the ladder already counted as deadly is not counted twice
                deaths[r, f] += dead
                casualties[r, f] += dead
                if took_all:
                    controller[r, stakes[f]] = sides[f, go]
                hn = np.float64(h)
                if took_part:
                    hn = hn + take_share[r] * (one - h)
                elif back_part:
                    hn = hn * (1.0 - take_share[r])
                if took_all or back_all:
                    hn = 0.0
                h = np.float32(hn)
                hf = owner if h > 0 else -1
                if war:
                    lev = WAR
                    if war_months[r, f] == 0:
                        war_months[r, f] = 1
                elif took_all:
                    lev = 0
                elif took_part:
                    lev = max(lev, 2)
                standing[r, f] |= took_part  # an occupation is a standing dispute (MODEL.md D3a)
                settled[r, f] |= took_all
                peak[r, f] = max(peak[r, f], WAR if war else 4)
                offensives[r, f] += 1
                seizures[r, f] += took_all
                gains[r, f] += took_all or took_part
                retakes[r, f] += back_all or back_part
                if keep:
                    code_out[r, f, go] = (LAUNCH | (TO_WAR if war else 0) | (WON if won else 0)
                                          | (WHOLE if whole else 0) | (HOLDER if holder else 0))
                    if quiet:
                        code_out[r, f, 0] |= DEADLY
                else:
                    counts[0][r] += 1
                    counts[1][r] += took_all
                    counts[2][r] += took_part
                    counts[3][r] += won and holder
                    counts[4][r] += not war and not won
                    counts[5][r] += war
                    counts[6][r] += quiet
            held[r, f], held_from[r, f], level[r, f] = h, hf, lev
