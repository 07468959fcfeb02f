"""Reference implementation of the issue-11 mechanisms, one replicate at a time.

Written from docs/MODEL.md (§D3a continuous-time ladder ``spells``, §D4 response
probability, §D4a patronage, §D8 blockade, §D9 limited offensive, §D10 talks) for
:class:`benchmarks.reference.ReferenceModel`, which mixes this class in. Plain Python
floats and loops; randomness from the model's ``random.Random`` (``self.random``), so
its streams differ from the vectorized world's and only distributions are compared
(tests/test_reference.py).
"""

from __future__ import annotations

import math
from typing import Any

from sim.world.compile import ACTIVE

MAX_MOVES = 16  # MODEL.md D3a: moves simulated per flashpoint and month
HOLD_RUNG = 2  # MODEL.md D8: a blockade holds the flashpoint at rung 2 or above


def _clip(x: float, lo: float, hi: float) -> float:
    return lo if x < lo else hi if x > hi else x


def _weight(c_x: float, c_self: float) -> float:
    tot = c_x + c_self
    return c_x / tot if tot > 0 else 0.0


class ValidityMixin:
    """Spells, blockade, offensive, talks and patronage for the reference model."""

    # attributes provided by ReferenceModel
    data: Any
    rule: dict[str, dict[str, Any]]
    random: Any
    flashpoint_by_name: dict[str, Any]
    state_by_name: dict[str, Any]
    territory_by_name: dict[str, Any]
    alliance_by_name: dict[str, Any]

    # ------------------------------------------------------------ D4 answer probability

    def answer_probability(self, al) -> float:
        """min(1, credibility x the leader's capacity now / at the start)."""
        lead = self.state_by_name[al.leader]
        ratio = lead.capacity / lead.capacity_ref if lead.capacity_ref > 0 else 1.0
        return min(1.0, al.credibility * ratio)

    # -------------------------------------------------------------------- D8 blockade

    def blockade_step(self) -> None:
        p = self.rule["blockade"]
        rnd = self.random.random
        victims: set[str] = set()
        for fp in self.flashpoint_by_name.values():
            u = rnd()
            if fp.blockade != 0 and (fp.settled or u < -math.expm1(-p["lift_rate"])):
                fp.blockade = 0
            if fp.blockade > 0:
                victims.add(fp.sides[1])
            elif fp.blockade < 0:
                victims.add(fp.sides[0])
        for s in self.state_by_name.values():
            if s.name in victims:
                s.supply *= 1.0 - p["wear_rate"]
            else:
                s.supply += p["recovery_rate"] * (1.0 - s.supply)
        for fp in self.flashpoint_by_name.values():
            fp.rung_floor = HOLD_RUNG if fp.blockade != 0 else 0
            if fp.blockade != 0:
                fp.level = max(fp.level, HOLD_RUNG)

    # ------------------------------------------------------- D3b the record of a dyad

    def history_step(self) -> None:
        """The record moves on (MODEL.md D3b): last month's peak and deaths join the calendar
        year; each January the last year closes."""
        new_year = self.elapsed > 0 and self.calendar_month % 12 == 0
        for fp in self.flashpoint_by_name.values():
            fp.year_top = max(fp.year_top, fp.peak)
            fp.year_fatal = fp.year_fatal or fp.deaths > 0
            if new_year:
                disputed = fp.year_top >= 2
                fp.peace = 0.0 if disputed else min(fp.peace + 1.0, 50.0)
                fp.dispute_years = ((fp.dispute_years | (1 if disputed else 0)) << 1) & ((1 << 11) - 1)
                fp.fatal_last = fp.year_fatal and disputed
                top = fp.year_top
                fp.hostility_last = 5 if top >= 5 else 4 if top >= 3 else 3 if top >= 2 else 0
                fp.year_top = fp.level
                fp.year_fatal = False
            if fp.year_top >= 2:
                fp.dispute_years |= 1

    def record_factors(self, fp, p: dict, x: float) -> tuple[float, float]:
        """g_on and g_esc of MODEL.md D3b."""
        a, b = self.state_by_name[fp.sides[0]], self.state_by_name[fp.sides[1]]
        allied = any(al.collective and al.status[a.name] == ACTIVE and al.status[b.name] == ACTIVE
                     for al in self.alliance_by_name.values())
        c = fp.contiguity
        eta = (p["beta_peace"] * math.log1p(fp.peace) + p["beta_recent"] * fp.past_disputes()
               + p["beta_fatal_last"] * fp.fatal_last + p["beta_force_last"] * (fp.hostility_last >= 4)
               + p["beta_territorial"] * fp.territorial + p["beta_major"] * (a.major_power + b.major_power)
               + p["beta_allied"] * allied - p["beta_preponderance"] * abs(x)
               + p["beta_land"] * (c == 1) + p["beta_sea"] * (c in (2, 3)) + p["beta_far"] * (c in (4, 5)))
        esc = (p["gamma_fatal_last"] * fp.fatal_last + p["gamma_territorial"] * fp.territorial
               + p["gamma_sea"] * (c in (2, 3)) + p["gamma_far"] * (c in (4, 5)))
        return math.exp(eta), math.exp(esc)

    # ---------------------------------------------------------- D3a continuous time

    def spells_step(self) -> None:
        p = self.rule["escalation"]
        b_res = p["beta_resolve"]
        b_shift, b_mom, b_med = p["beta_shift"], p["beta_momentum"], p["beta_mediation"]
        u0, d0, s0 = p["base_up"], p["base_down"], p["base_settle"]
        sig = p["casualty_sigma"]
        med = {3: p["casualties_fatal_clash"], 4: p["casualties_major_clash"]}
        rnd, gauss, expo = self.random.random, self.random.gauss, self.random.expovariate
        dm = p["momentum_decay"]
        for fp in self.flashpoint_by_name.values():  # momentum from last month's peak
            fp.momentum = dm * fp.momentum + (1.0 - dm) * (1.0 if fp.peak >= 3 else 0.0)
        plans = []
        for fp in self.flashpoint_by_name.values():  # synchronous: covariates at the start
            a, b = self.state_by_name[fp.sides[0]], self.state_by_name[fp.sides[1]]
            lr, shift, U, M = self.dyad_terms(fp, p)
            m = fp.momentum
            f_up = U * math.exp(b_shift * abs(shift) + b_mom * m - b_med * M + p["shock_sd"] * gauss(0.0, 1.0))
            g_on, g_esc = self.record_factors(fp, p, _clip(lr, -3.0, 3.0))
            f_down = math.exp(b_med * M - b_mom * m)
            f_settle = math.exp(b_med * M - b_res * (0.5 * (a.resolve + b.resolve) - 0.5))
            pa = 1.0 / (1.0 + math.exp(-p["decisiveness"] * lr))
            L = fp.level
            peak, tau, deaths, war_time = L, 0.0, 0.0, 0.0
            calm_at = None
            settles = ended = False
            claim = None
            if not fp.settled:
                moves = 0
                while moves < MAX_MOVES:
                    if L == 5:
                        up = down = settle = 0.0
                        end = 1.0 / p["war_mean_months"]
                    else:
                        up = u0[L] * f_up * (g_on if L < 2 else g_esc)
                        d_L = p["incident_down"] if (L == 2 and not fp.standing) else d0[L]  # D3a
                        down = d_L * f_down if (L > 0 and L > fp.rung_floor) else 0.0
                        settle = s0[L] * f_settle
                        end = 0.0
                    total = up + down + settle + end
                    wait = expo(total) if total > 0 else math.inf
                    if tau + wait >= 1.0:
                        if L == 5:
                            war_time += 1.0 - tau
                        break
                    if L == 5:
                        war_time += wait
                    tau += wait
                    moves += 1
                    r = rnd() * total
                    if r < up:
                        L += 1
                        if L == 2:  # a new dispute: standing w.p. standing_share, else an incident
                            fp.standing = rnd() < p["standing_share"]
                        if L in (3, 4):
                            deaths += max(1.0, float(round(med[L] * math.exp(sig * gauss(0.0, 1.0)))))
                    elif r < up + down:
                        L -= 1
                    elif r < up + down + settle:
                        L, settles = 0, True
                    else:  # the war ends
                        ended = True
                        winner = fp.sides[0] if rnd() < pa else fp.sides[1]
                        t = self.territory_by_name[fp.stakes] if fp.stakes is not None else None
                        if t is not None and (winner in t.claimants or not t.claimants) and t.controller != winner:
                            claim = (t, winner)
                        else:
                            L = int(p["post_war_level"])
                    peak = max(peak, L)
                    if L < 2 and calm_at is None:
                        calm_at = tau
                    if settles or claim is not None:
                        break
                else:  # MAX_MOVES moves made: the rest of the month stays at this rung
                    if L == 5:
                        war_time += 1.0 - tau
            plans.append({"fp": fp, "L": L, "peak": peak, "deaths": deaths, "war_time": war_time,
                          "settles": settles, "claim": claim, "ended": ended, "lr": lr, "tau": tau,
                          "calm_at": calm_at})
        # several wars over one territory ending in the same month: one winner takes it
        claims: dict[int, list[dict]] = {}
        for pl in plans:
            if pl["claim"] is not None:
                claims.setdefault(id(pl["claim"][0]), []).append(pl)
        for group in claims.values():
            keep = group[int(rnd() * len(group))] if len(group) > 1 else group[0]
            for pl in group:
                if pl is keep:
                    t, winner = pl["claim"]
                    t.controller = winner
                    pl["L"], pl["settles"] = 0, True
                else:
                    pl["L"] = int(p["post_war_level"])
        for pl in plans:
            fp = pl["fp"]
            L = pl["L"]
            if pl["settles"]:
                fp.settled = True
                if pl["calm_at"] is None:
                    pl["calm_at"] = pl["tau"]
            elif fp.settled and rnd() < p["relapse"]:
                L, fp.settled = 1, False
            fp.level = L
            fp.peak = pl["peak"]
            fp.calm_at = pl["calm_at"]
            fp.war_months = fp.war_months + 1 if L == 5 else 0
            deaths = pl["deaths"]
            if pl["war_time"] > 0:
                deaths += float(round(p["casualties_war"] * pl["war_time"] * math.exp(sig * gauss(0.0, 1.0))))
            fp.deaths = deaths
            fp.casualties += deaths
            sm = p["shift_memory"]
            fp.lr_ema = sm * fp.lr_ema + (1.0 - sm) * pl["lr"]

    # ----------------------------------------------------------- D9 limited offensive

    def offensive_step(self) -> None:
        p = self.rule["offensive"]
        pe = self.rule["escalation"]
        rnd, gauss = self.random.random, self.random.gauss
        for fp in self.flashpoint_by_name.values():
            order = fp.launch
            fp.launch = 0
            if fp.stakes is None:
                continue
            t = self.territory_by_name[fp.stakes]
            if fp.held_from != t.controller:  # a war or an event moved the territory: the share taken goes with it
                fp.held, fp.held_from = 0.0, None
            if fp.settled or fp.level == 5:
                continue
            militarized = 2 <= fp.level <= 4  # launches of itself only from rungs 2-4; an order at any rung
            for side in (0, 1):
                me, opp = fp.sides[side], fp.sides[1 - side]
                if not (me in t.claimants or not t.claimants):
                    continue
                retake = t.controller == me and fp.held > 0  # the holder retaking ground it lost
                if t.controller != opp and not retake:
                    continue
                lr = self.log_ratio(fp) * (1 if side == 0 else -1)
                D = self.deterrence(fp, side, pe["patron_weight"])
                r = self.state_by_name[me].resolve
                lam = p["base_rate"] * math.exp(p["beta_balance"] * _clip(lr, -3.0, 3.0) - p["beta_isolation"] * D
                                                + p["beta_resolve"] * (r - 0.5)
                                                + p["beta_territorial"] * fp.territorial)
                ordered = order == (1 if side == 0 else -1)
                u = rnd()
                if not (ordered or (militarized and u < -math.expm1(-lam))):
                    continue
                fp.offensives += 1
                toll = max(1.0, float(round(pe["casualties_major_clash"] * math.exp(pe["casualty_sigma"] * gauss(0.0, 1.0)))))
                fp.deaths += toll
                fp.casualties += toll
                fp.peak = max(fp.peak, 4)
                p_war = 1.0 - (1.0 - p["war_risk"]) * (1.0 - D)
                if rnd() < p_war:
                    if fp.level != 5 and fp.war_months == 0:
                        fp.war_months = 1
                    fp.level = 5
                    fp.peak = 5
                elif rnd() < 1.0 / (1.0 + math.exp(-p["decisiveness"] * lr)):
                    everything = rnd() < p["take_all"]
                    if retake:
                        fp.retakes += 1
                        fp.held = 0.0 if everything else fp.held * (1.0 - p["take_share"])
                    elif everything:
                        t.controller = me
                        fp.level = 0
                        fp.settled = True
                        fp.seizures += 1
                        fp.gains += 1
                        fp.held = 0.0
                    else:
                        fp.gains += 1
                        fp.held += p["take_share"] * (1.0 - fp.held)
                        fp.level = max(fp.level, 2)
                        fp.standing = True  # an occupation is a standing dispute (D3a)
                    fp.held_from = t.controller if fp.held > 0 else None
                break  # one offensive per flashpoint and month (the first side's)

    # ------------------------------------------------------------------- D10 talks

    def talks_step(self) -> None:
        p = self.rule["talks"]
        rnd = self.random.random
        for fp in self.flashpoint_by_name.values():
            u = [rnd(), rnd(), rnd()]
            if fp.settled:
                fp.talks = 0
                continue
            a, b = self.state_by_name[fp.sides[0]], self.state_by_name[fp.sides[1]]
            M = sum(self.state_by_name[m].capacity for m in fp.mediators)
            m = math.exp(p["beta_mediation"] * M)
            r = math.exp(-p["beta_resolve"] * (0.5 * (a.resolve + b.resolve) - 0.5))
            clash = fp.peak >= 3
            if fp.talks == 0:
                if u[0] < -math.expm1(-p["open_rate"] * m * r):
                    fp.talks = 1
            elif fp.talks == 2:
                if not clash and u[0] < -math.expm1(-p["resume_rate"] * m):
                    fp.talks = 1
            else:
                keep_on = (1.0 - p["clash_stall"] * (1.0 if clash else 0.0)) * math.exp(-p["stall_rate"] / m)
                if u[1] >= keep_on:
                    fp.talks = 2
                else:
                    fp.progress += p["progress_rate"] * m * (1.0 - fp.progress)
                    if u[2] < -math.expm1(-p["sign_rate"] * fp.progress * m * r):
                        fp.agreement = True
                        fp.settled = True
                        fp.level = 0
                        fp.war_months = 0
                        fp.talks = 0

    # -------------------------------------------------------------- D4a patronage

    def patronage_step(self, responses_on: bool) -> None:
        p = self.rule["patronage"]
        rnd = self.random.random
        if not responses_on:
            for al in self.alliance_by_name.values():
                for s in al.refused_now:
                    al.refused_now[s] = 0
                    al.answered_now[s] = 0
        deltas: dict[tuple[str, str], float] = {}
        for fp in self.flashpoint_by_name.values():
            t = self.territory_by_name[fp.stakes] if fp.stakes is not None else None
            for al in self.alliance_by_name.values():
                if not al.collective:
                    continue
                q = self.answer_probability(al) * al.outside_zone
                for s in self.state_list:
                    key = (fp.name, s.name, al.name)
                    wait = fp.patron_wait.get(key, 10_000)
                    judged = False
                    if s.name not in fp.sides and al.status[s.name] == ACTIVE and s.name != al.leader:
                        for side in (0, 1):
                            prot = fp.sides[side]
                            a = s.affinity[self.data.si[prot]]
                            if a < p["patron_threshold"] or al.status[prot] == ACTIVE:
                                continue
                            lost = t is not None and t.held_before == prot and t.controller != prot
                            hot = fp.peak >= al.trigger and wait >= p["cooldown_months"]
                            if not (hot or lost):
                                continue
                            judged = True
                            trust = al.trust[s.name]  # trust at the start of the mechanism
                            a = _clip(a, 0.0, 1.0)
                            if rnd() < q:
                                d = p["patron_gain"] * a * (1.0 - trust)
                                al.answered_now[s.name] += 1
                            else:
                                d = -p["patron_cost"] * a
                                al.refused_now[s.name] += 1
                            deltas[(s.name, al.name)] = deltas.get((s.name, al.name), 0.0) + d
                    fp.patron_wait[key] = 0 if judged else min(wait + 1, 10_000)
        for (s, a), d in deltas.items():
            al = self.alliance_by_name[a]
            al.trust[s] = _clip(al.trust[s] + d, 0.0, 1.0)
        for t in self.territory_by_name.values():
            t.held_before = t.controller
