"""The spells rule's month, compiled (numba): the hazards, the chain of moves and the
month's updates of every flashpoint of every replicate, one cell at a time.

:func:`month` computes, for each cell (replicate r, flashpoint f; flat r * F + f), the
month's momentum and factors of the hazards (what :func:`sim.rules.escalation.rates` and
:func:`sim.rules.escalation.record_terms` compute in numpy for the monthly ladder: the
same formulas, pinned together by tests/test_spells_kernel.py) and runs its chain of
moves to the month's end. Then :func:`finish` makes the month's updates (a war's
transfer of the stakes aside, which :class:`sim.rules.escalation.Stakes` makes in numpy
between the two: it is rare and crosses flashpoints), the deals of :mod:`sim.rules.deals`
and the per-replicate counts of the month's events. No (R, F) temporary passes between
these stages but the state arrays and the month's per-cell results.

Random numbers: :mod:`sim.rules.spells` takes the keys of the streams' calls
(``Stream.keys``: the rule's stream, further moves, deals; the same calls every month)
and the kernels draw each number where it is used (:func:`sim.seeding_kernel.uniform_at`
and its kin), at the address the whole call would have given it: a flashpoint that does
not move draws no move's numbers, and every number is the one the stream's call gives
(an exponential's logarithm is numba's, which may differ from numpy's in the last bit).

The hazards are computed in float64 whatever the world's precision (a float32 world's
state arrays stay float32; the numpy ``rates`` computes in the world's precision), and
numba's ``exp``/``log`` may differ from numpy's in the last bit: the numbers are those
of the formulas to ~1e-15 relative, not bit for bit those of ``rates``. Compiled on first
use (about 4 s of CPU for the two kernels) and cached on disk.

Symbols are those of docs/MODEL.md §D3, §D3a and §D3b.
"""

from __future__ import annotations

import numpy as np

from .. import seeding_kernel
from ..seeding_kernel import exponential_at, normal_at, uniform_at
from .formulas import (
    balance,
    climbs,
    contest_success,
    ema,
    kernel,
    log_ratio,
    source_hash,
    steps_down,
    toll,
)

# the columns of the per-replicate parameter table `cp` (R, len(COLUMNS)) that month() and finish() read
COLUMNS = ("beta_resolve", "beta_advantage", "beta_deterrence", "beta_shift", "beta_momentum", "beta_mediation",
           "shock_sd", "momentum_decay", "shift_memory", "decisiveness", "war_mean_months", "post_war_level",
           "casualties_fatal_clash", "casualties_major_clash", "casualties_war", "casualty_sigma", "relapse",
           "standing_share", "incident_down",
           "beta_peace", "beta_recent", "beta_fatal_last", "beta_force_last", "beta_territorial", "beta_major",
           "beta_allied", "beta_preponderance", "beta_land", "beta_sea", "beta_far",
           "gamma_fatal_last", "gamma_territorial", "gamma_sea", "gamma_far")
(B_RES, B_ADV, B_DET, B_SHIFT, B_MOM, B_MED, SHOCK, MOM_DECAY, SHIFT_MEM, DECISIVE, WAR_MEAN, POST, MED3, MED4, MED5,
 SIG, RELAPSE, PI_S, D_INC, B_PY, B_P10, B_FAT, B_FOR, B_TER, B_MAJ, B_ALL, B_PRE, B_LAND, B_SEA, B_FAR,
 G_FAT, G_TER, G_SEA, G_FAR) = range(len(COLUMNS))

NO_TERM, LAND, SEA, FAR = 0, 1, 2, 3
"""What a COW contiguity code adds to the record terms (the table ``cterm`` maps code -> one of these,
from :data:`sim.rules.escalation.CONTIGUITY_TERMS`)."""

# the month's events, as bits of `ev` and rows of `tally` (sim.rules.spells.EVENTS names them in this order)
RISE, FALL, SPIKE, WAR, WAR_END, SETTLEMENT, DEATHS, BUSY, DEAL = range(9)
N_EVENTS = 9
_SEEDING = source_hash(seeding_kernel.__file__)
"""The kernels below inline sim.seeding_kernel's draws: their disk cache follows that file too."""
YEARS = 10  # the years of sim.rules.history's record that past_disputes counts (bits 1..10)


@kernel(also=(_SEEDING,))
def month(ids, keys, more_keys, first, more, max_moves, level, peak0, settled, momentum, lr_ema, floor, standing,
          cap, support, supply, resolve, capacity, mediators, D, status, collective, peace, dispute_years, fatal_last,
          hostility_last, contiguity, territorial, major_power, cterm, cp, u0, d0, s0, a_idx, b_idx, stake_of,
          claimants, claim_any, ctrl, mom_out, fu0, fu1, fd, fst, lr, lv, tau, peak, deaths, war_time, calm_at, settle_now,
          ended, claim, winner, entries, busy):  # pragma: no cover - compiled
    """The month of every cell up to its last move (or ``max_moves`` moves).

    For each cell: this month's momentum, then the factors of its hazards, what
    :func:`sim.rules.escalation.rates` computes (f_up g_on into ``fu0``, f_up g_esc into
    ``fu1``, f_down into ``fd``, f_settle into ``fst``, the log capability ratio ``lr``) and
    ``contest_success(decisiveness, lr)``, in float64 (MODEL.md D3, D3b); then, if the
    cell is not settled, its chain of moves (MODEL.md D3a).

    Random numbers: those of the calls whose keys are ``keys`` (the rule's stream: the
    shocks (R, F), then the first ``first`` moves' waiting times (R, F, first), uniforms
    (R, F, first, 2) and normals (R, F, first), then (R, F) normals and uniforms that
    :func:`finish` reads) and ``more_keys`` (further moves, ``more`` at a time: three calls
    a batch, as the first), replicate ``ids[r]``; each drawn only where it is used.

    Args:
        ids: (R,) the replicates' global indices; keys: (6,), more_keys: (3 * batches,).
        level, peak0, settled, momentum, lr_ema: (R, F) the state at the start of the
            month (peak0: last month's peak, for the momentum); floor: (N,) the rung floor;
            standing: (N,) the dispute stands, updated in place (drawn as a cell climbs from
            rung 1 to 2).
        cap, support, supply, resolve, capacity, mediators, status, peace, dispute_years,
            fatal_last, hostility_last, contiguity, territorial, major_power: the world's
            arrays the hazards read (MODEL.md D3, D3b); D: (R, F, 2) deterrence;
            collective: (A,) collective-defence alliances; cterm: contiguity code -> term.
        cp: (R, len(COLUMNS)) the escalation parameters (at rung 2 a standing dispute steps
            down at d0[2], an incident at ``incident_down``); u0, d0, s0: (R, 6) base rates.
        a_idx, b_idx: (F,) the sides; stake_of: (F,) territory at stake (-1: none);
            claimants: (T, S); claim_any: (T,); ctrl: (R, T) controllers.
        mom_out: (R, F) this month's momentum (world precision); fu0, fu1, fd, fst, lr: (N,)
            the month's factors; lv, tau, peak, deaths, war_time, calm_at, settle_now, ended, claim,
            winner: (N,) the month's moves, written here; entries: (N,) times the cell
            climbed from rung 1 to rung 2; busy: (N,) still moving after ``max_moves`` moves
            (it stays at the rung reached for the rest of the month).
    """
    R, F = level.shape
    k_eps, k_e, k_u, k_z = keys[0], keys[1], keys[2], keys[3]
    # each flashpoint's last argument and value of three calls that most replicates make with
    # the argument of the replicate before (the years of peace, the escalation terms of the
    # dyad's record, the settlement's exponent): called only when the argument differs
    # (a NaN never equals: it is called)
    peace_at = np.full(F, np.nan)
    log_peace = np.zeros(F)
    esc_at = np.full(F, np.nan)
    exp_esc = np.zeros(F)
    settle_at = np.full(F, np.nan)
    exp_settle = np.zeros(F)
    for r in range(R):
        rid = ids[r]
        b_res, b_adv, b_det = cp[r, B_RES], cp[r, B_ADV], cp[r, B_DET]
        b_med, b_mom, b_shift, shock = cp[r, B_MED], cp[r, B_MOM], cp[r, B_SHIFT], cp[r, SHOCK]
        end_rate = 1.0 / cp[r, WAR_MEAN]
        for f in range(F):
            c = r * F + f
            a = a_idx[f]
            b = b_idx[f]
            mom_out[r, f] = ema(cp[r, MOM_DECAY], np.float64(momentum[r, f]), 1.0 if peak0[r, f] >= 3 else 0.0)
            mom = np.float64(mom_out[r, f])  # the hazards read the momentum as stored (world precision)
            # the balance, deterrence, mediation and momentum (rates, MODEL.md D3)
            ca = (np.float64(cap[r, a]) + support[r, f, 0]) * supply[r, a]
            cb = (np.float64(cap[r, b]) + support[r, f, 1]) * supply[r, b]
            x_lr = log_ratio(ca, cb)
            x = balance(x_lr)
            shift = x_lr - lr_ema[r, f]
            ra = np.float64(resolve[r, a])
            rb = np.float64(resolve[r, b])
            eta_a = b_res * (ra - 0.5) + b_adv * x - b_det * D[r, f, 0]
            eta_b = b_res * (rb - 0.5) - b_adv * x - b_det * D[r, f, 1]
            M = 0.0
            for s in range(capacity.shape[1]):
                if mediators[r, f, s]:
                    M += capacity[r, s]
            f_up = 0.5 * (np.exp(eta_a) + np.exp(eta_b)) * np.exp(
                b_shift * abs(shift) + b_mom * mom - b_med * M + shock * normal_at(k_eps, rid, F, f))
            # the record and setting of the dyad (record_terms, MODEL.md D3b)
            yrs = (np.int64(dispute_years[r, f]) >> 1) & ((1 << YEARS) - 1)
            past10 = 0
            while yrs:
                past10 += yrs & 1
                yrs >>= 1
            allied = 0.0
            for k in range(collective.size):
                if collective[k] and status[r, a, k] == 1 and status[r, b, k] == 1:
                    allied = 1.0
                    break
            fat = 1.0 if fatal_last[r, f] else 0.0
            ter = np.float64(territorial[r, f])
            code = np.int64(np.rint(contiguity[r, f]))
            term = cterm[code] if 0 <= code < cterm.size else NO_TERM
            py = np.float64(peace[r, f])
            if py != peace_at[f] or py == 0.0:  # log1p keeps the sign of a zero: a zero is not reused
                peace_at[f] = py
                log_peace[f] = np.log1p(py)
            eta = (cp[r, B_PY] * log_peace[f] + cp[r, B_P10] * past10 + cp[r, B_FAT] * fat
                   + cp[r, B_FOR] * (1.0 if hostility_last[r, f] >= 4 else 0.0) + cp[r, B_TER] * ter
                   + cp[r, B_MAJ] * (np.float64(major_power[r, a]) + major_power[r, b]) + cp[r, B_ALL] * allied
                   - cp[r, B_PRE] * abs(x))
            esc = cp[r, G_FAT] * fat + cp[r, G_TER] * ter
            if term == LAND:
                eta += cp[r, B_LAND]
            elif term == SEA:
                eta += cp[r, B_SEA]
                esc += cp[r, G_SEA]
            elif term == FAR:
                eta += cp[r, B_FAR]
                esc += cp[r, G_FAR]
            up0 = f_up * np.exp(eta)
            if esc != esc_at[f]:  # exp(-0.0) = exp(0.0) = 1: a zero of either sign is reused
                esc_at[f] = esc
                exp_esc[f] = np.exp(esc)
            up1 = f_up * exp_esc[f]
            f_down = np.exp(b_med * M - b_mom * mom)
            z = b_med * M - b_res * ((ra + rb) / 2.0 - 0.5)
            if z != settle_at[f]:
                settle_at[f] = z
                exp_settle[f] = np.exp(z)
            f_settle = exp_settle[f]
            fu0[c] = up0
            fu1[c] = up1
            fd[c] = f_down
            fst[c] = f_settle
            lr[c] = x_lr
            # the month's chain of moves (competing risks at the month's rates, MODEL.md D3a)
            lk = np.int64(level[r, f])
            t = 0.0
            pk = lk
            dead = 0.0
            t_war = 0.0
            calm = np.nan
            settle_c = False
            ended_c = False
            claim_c = False
            win_c = 0
            n_entries = 0
            moving = not settled[r, f]
            j = 0
            while moving and j < max_moves:
                if j < first:  # the rule's stream
                    n, jj, ke, ku, kz = first, j, k_e, k_u, k_z
                else:  # a batch of further moves
                    bt = (j - first) // more
                    n, jj = more, j - first - bt * more
                    ke, ku, kz = more_keys[3 * bt], more_keys[3 * bt + 1], more_keys[3 * bt + 2]
                j += 1
                at_war = not climbs(lk)
                up = 0.0 if at_war else u0[r, lk] * (up0 if lk < 2 else up1)
                base_d = cp[r, D_INC] if (lk == 2 and not standing[c]) else d0[r, lk]
                down = base_d * f_down if steps_down(lk, floor[c]) else 0.0
                settle = 0.0 if at_war else s0[r, lk] * f_settle
                total = up + down + settle + (end_rate if at_war else 0.0)
                wait = exponential_at(ke, rid, F * n, f * n + jj) / total if total > 0 else np.inf
                go = t + wait < 1.0
                if at_war:
                    t_war += wait if go else 1.0 - t
                if not go:
                    moving = False
                    break
                t += wait
                e = (f * n + jj) * 2
                x = uniform_at(ku, rid, F * n * 2, e) * total
                if x < up:
                    lk += 1
                    if lk == 2:
                        n_entries += 1
                        standing[c] = uniform_at(ku, rid, F * n * 2, e + 1) < cp[r, PI_S]  # standing or an incident
                    if lk == 3 or lk == 4:  # a clash breaks out
                        dead += toll(cp[r, MED3] if lk == 3 else cp[r, MED4], cp[r, SIG],
                                     normal_at(kz, rid, F * n, f * n + jj), 1.0)
                    if lk > pk:
                        pk = lk
                elif x < up + down:
                    lk -= 1
                elif x < up + down + settle:
                    lk = 0
                    settle_c = True
                    moving = False
                elif at_war:  # the war ends; the winner takes the stakes if it claims them
                    pa = contest_success(cp[r, DECISIVE], x_lr)
                    win = a_idx[f] if uniform_at(ku, rid, F * n * 2, e + 1) < pa else b_idx[f]
                    win_c = win
                    ended_c = True
                    ts = stake_of[f]
                    if ts >= 0 and (claimants[ts, win] or not claim_any[ts]) and ctrl[r, ts] != win:
                        claim_c = True
                        moving = False
                    else:
                        lk = np.int64(cp[r, POST])
                if lk < 2 and np.isnan(calm):
                    calm = t
            if moving and lk == 5:  # still moving after max_moves moves: at war for the rest of the month
                t_war += 1.0 - t
            busy[c] = moving
            lv[c] = lk
            tau[c] = t
            peak[c] = pk
            deaths[c] = dead
            war_time[c] = t_war
            calm_at[c] = calm
            settle_now[c] = settle_c
            ended[c] = ended_c
            claim[c] = claim_c
            winner[c] = win_c
            entries[c] = n_entries


@kernel(also=(_SEEDING,))
def finish(ids, keys, deal_key, busy, q_deal, has_stakes, cp, level, settled, war_months0, deaths0, episode0,
           casualties, lr_ema, transferred, lv, tau, peak, deaths, war_time, calm_at, settle_now, ended, claim, lr,
           level_out, peak_out, settled_out, war_months, deaths_out, calm_out, lr_ema_out, deal_made, deal_chance,
           episode_out, ev, tally):  # pragma: no cover - compiled
    """The month's updates of every cell after its moves (and a war's transfer of the stakes).

    Args:
        ids, keys: as :func:`month` (keys[4], keys[5]: the normals of a war's toll and the
            uniforms of relapse, (R, F) each); deal_key: the key of the deals' uniforms (R, F)
            (``sim.rules.deals.STREAM``); busy: (N,) the cells :func:`month` left moving.
        q_deal: (R, 2, 2) P(deal) by [the episode killed anyone, the flashpoint has
            stakes] (:func:`sim.rules.deals.chance`); has_stakes: (F,).
        level, settled, war_months0, deaths0, episode0, lr_ema: (R, F) at the start of the
            month (deaths0: last month's deaths of every rule); casualties: (R, F) updated in
            place; transferred: (R, F) the stakes changed hands (``Stakes.hand_over``).
        lv .. claim, lr: (N,) the month of moves (:func:`month`).
        level_out .. episode_out: (R, F) written here; ev: (R, F) the cell's events as
            bits (RISE ..); tally: (N_EVENTS, R) zeroed, each replicate's count of each event.
    """
    R, F = level.shape
    k_zw, k_ur = keys[4], keys[5]
    for r in range(R):
        rid = ids[r]
        for f in range(F):
            c = r * F + f
            L0 = np.int64(level[r, f])
            lk = np.int64(lv[c])
            before = np.float64(episode0[r, f] + deaths0[r, f]) if L0 >= 2 else 0.0
            moved = transferred[r, f]
            if claim[c] and not moved:
                lk = np.int64(cp[r, POST])
            settled_now = settle_now[c] or moved
            ca = calm_at[c]
            if settled_now:
                lk = 0
                if np.isnan(ca):
                    ca = tau[c]
            relapse = settled[r, f] and uniform_at(k_ur, rid, F, f) < cp[r, RELAPSE]
            if relapse:
                lk = 1
            settled_out[r, f] = (settled[r, f] or settled_now) and not relapse
            war_months[r, f] = war_months0[r, f] + 1 if lk == 5 else 0
            d = deaths[c]
            if war_time[c] > 0:
                d += toll(cp[r, MED5] * war_time[c], cp[r, SIG], normal_at(k_zw, rid, F, f), 0.0)
            deaths_out[r, f] = d
            casualties[r, f] += deaths_out[r, f]
            calm_out[r, f] = ca
            pk = np.int64(peak[c])
            level_out[r, f] = lk
            peak_out[r, f] = pk
            lr_ema_out[r, f] = ema(cp[r, SHIFT_MEM], np.float64(lr_ema[r, f]), lr[c])
            # deals (sim.rules.deals): a dispute that eased without a settlement may end by a deal
            eased = not np.isnan(ca) and not settled_now
            q = q_deal[r, 1 if before + d >= 1.0 else 0, 1 if has_stakes[f] else 0]
            deal = eased and uniform_at(deal_key, rid, F, f) < q
            deal_made[r, f] = deal
            deal_chance[r, f] = q if eased else np.nan
            episode_out[r, f] = 0.0 if eased else before
            bits = 0
            if lk > L0:
                bits |= 1 << RISE
            if lk < L0 and not settled_now and not ended[c]:
                bits |= 1 << FALL
            if pk >= 3 and pk > max(L0, lk):
                bits |= 1 << SPIKE
            if pk == 5 and L0 < 5:
                bits |= 1 << WAR
            if ended[c]:
                bits |= 1 << WAR_END
            if settled_now and not moved:
                bits |= 1 << SETTLEMENT
            if d > 0:
                bits |= 1 << DEATHS
            if busy[c]:
                bits |= 1 << BUSY
            if deal:
                bits |= 1 << DEAL
            ev[r, f] = bits
            if bits:
                for k in range(N_EVENTS):
                    if bits & (1 << k):
                        tally[k, r] += 1

