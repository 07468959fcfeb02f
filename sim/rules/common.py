"""Quantities several mechanisms share: who would help whom, and how much that deters.

Symbols follow docs/MODEL.md §Details.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..world.compile import Plan


@dataclass(frozen=True)
class Dyads:
    """Static index arrays of the flashpoints' sides, built once per plan."""

    sides: np.ndarray  # (F, 2) state index of side sigma
    other: np.ndarray  # (F, 2) state index of the opponent of side sigma
    in_zone: np.ndarray  # (F, 2) bool: fighting is on side sigma's own territory (or unspecified)
    leader: np.ndarray  # (A,)
    collective: np.ndarray  # (A,) bool: collective defence (consultative bodies give no military help)
    responds_between_members: np.ndarray  # (A,) bool
    is_leader: np.ndarray  # (F, 2, A) bool: side sigma is alliance A's leader
    not_side: np.ndarray  # (F, 2, S) bool: state p is neither side of flashpoint f (patrons)

    @classmethod
    def for_plan(cls, plan: Plan) -> Dyads:
        """The plan's Dyads, built once and kept on the plan (rules share it, and so the
        per-month cache of response probabilities)."""
        d = plan.__dict__.get("_dyads")
        if d is None:
            d = plan.__dict__["_dyads"] = cls.of(plan)
        return d

    @classmethod
    def of(cls, plan: Plan) -> Dyads:
        sides = plan.sides
        other = sides[:, ::-1]
        loc = plan.location[:, None]
        in_zone = (loc == sides) | (loc == -1)
        leader = plan.leader
        collective = np.array([k == "collective_defence" for k in plan.alliance_kind], dtype=bool)
        is_leader = sides[:, :, None] == leader[None, None, :]
        not_side = np.ones((plan.F, 2, plan.S), dtype=bool)
        for f in range(plan.F):
            not_side[f, :, sides[f]] = False
        return cls(np.ascontiguousarray(sides, dtype=np.intp), other, np.ascontiguousarray(in_zone),
                   np.ascontiguousarray(leader, dtype=np.intp), collective,
                   np.ascontiguousarray(plan.member_vs_member, dtype=bool), np.ascontiguousarray(is_leader), not_side)


def towards_sides(plan: Plan) -> np.ndarray:
    """(S, S) bool: every state's affinity towards each flashpoint's sides, the pairs
    :func:`deterrence` reads (patrons' willingness to help a side)."""
    out = np.zeros((plan.S, plan.S), dtype=bool)
    out[:, plan.sides.ravel()] = True
    return out


def response_probability(w, d: Dyads) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cached per month: status, credibility and capacities do not change between the
    escalation and alliance mechanisms (events run before both, membership after)."""
    return _this_month(w, d, _response_probability)


def _this_month(w, d: Dyads, make):
    """``make(w, d)``, kept in the world's month cache (``w.month_cache``, there only while
    a month is simulated) for the other rules that ask this month."""
    cache = getattr(w, "month_cache", None)
    key = (make.__name__, id(d))
    if cache is not None and key in cache:
        return cache[key]
    out = make(w, d)
    if cache is not None:
        cache[key] = out
    return out


def _response_probability(w, d: Dyads) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """q[r, f, sigma, A]: P(alliance A answers a request for help from side sigma of f).

    q = min(1, credibility_A * capacity_ratio_A) * zone * [sigma is an active member]
        * [A does not abstain between members] * [A is a collective-defence alliance]
        * [sigma is not A's leader]

    where zone = 1 if the fighting is on sigma's own territory, else A's
    ``outside_zone`` factor, and capacity_ratio_A = the leader's available capacity now
    over its value at the start (1 unless an event or lever changed it): credibility is
    the probability of an answer *as things stand at the vantage point* (a prior updated
    with the alliance's record, docs/CALIBRATION.md ``alliance-prior``), which already
    reflects the leader's capacity then, so capacity is not discounted a second time.
    Also returns the mask of sides that may ask A at all (active members of a
    collective-defence alliance, not its leader), and the mask of requests A declines
    because the opponent is a member too (``member_vs_member: abstain``).
    """
    from .common_kernel import respond  # numba (compiled on first use, cached on disk)

    c = np.ascontiguousarray
    return respond(status=c(w.st.status), sides=c(d.sides, dtype=np.intp), in_zone=c(d.in_zone),
                   outside_zone=c(w.par.outside_zone, dtype=np.float64),
                   answer=c(answer_probability(w, d), dtype=np.float64), collective=c(d.collective),
                   is_leader=c(d.is_leader), between=c(d.responds_between_members, dtype=bool))


def answer_probability(w, d: Dyads) -> np.ndarray:
    """P(alliance A answers a request it may answer), (R, A): credibility times the change
    in its leader's available capacity since the start, at most 1. Cached per month (the
    alliances' response and patronage both ask; effects, which change capacity and
    credibility, are applied in the events phase, before either)."""
    return _this_month(w, d, _answer_probability)


def _answer_probability(w, d: Dyads) -> np.ndarray:
    p = w.par
    ref = w.st.capacity_ref[:, d.leader]
    now = p.capacity[:, d.leader]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(ref > 0, now / ref, 1.0)
    return np.minimum(p.credibility * ratio, 1.0)


def deterrence(w, d: Dyads, q: np.ndarray, patron_weight: np.ndarray) -> np.ndarray:
    """Cached per month (the ladder and limited offensives both ask, and nothing they read
    changes between them): see :func:`_deterrence`."""
    cache = getattr(w, "month_cache", None)
    key = ("deterrence", id(d))
    hit = cache.get(key) if cache is not None else None
    if hit is not None and hit[0] is q and np.array_equal(hit[1], patron_weight):  # kappa: a fresh copy each read
        return hit[2]
    out = _deterrence(w, d, q, patron_weight)
    if cache is not None:
        cache[key] = (q, patron_weight, out)
    return out


def _deterrence(w, d: Dyads, q: np.ndarray, patron_weight: np.ndarray) -> np.ndarray:
    """D[r, f, sigma]: how strongly side sigma is deterred by expected help for its opponent.

    D_sigma = 1 - prod_A (1 - q_{A, opp} * w_A) * prod_p (1 - k_p * w_p) * (1 - s_opp / (s_opp + c_sigma))

    with helper weights w_X = c_X / (c_X + c_sigma) (capability of the helper relative to
    the deterred side), patron willingness k_p = kappa * max(0, affinity(p, opp)) *
    capacity_p for every state p that is not a side, and s_opp the capability an alliance
    has actually committed to the opponent (``support``, decaying after a response).
    """
    from .common_kernel import deter  # numba (compiled on first use, cached on disk)

    c = np.ascontiguousarray
    st = w.st
    aff = c(st.affinity)
    rows, at = _patron_pairs(w, d, aff)
    return deter(cap=c(st.capability), aff=rows, at=at, capacity=c(w.par.capacity), support=c(st.support),
                 q=c(q), pw=c(patron_weight, dtype=np.float64), sides=c(d.sides, dtype=np.intp),
                 leader=c(d.leader, dtype=np.intp), not_side=c(d.not_side))


def _patron_pairs(w, d: Dyads, aff: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where :func:`_deterrence` reads each state's affinity towards each side's opponent
    (:func:`affinity_rows`)."""
    plan = w.plan
    key = "_patron_pairs"
    flat = plan.__dict__.get(key)
    if flat is None:  # (F, 2, S): state p towards side sigma's opponent, flat in the (S, S) matrix
        flat = plan.__dict__[key] = np.arange(plan.S, dtype=np.intp)[None, None, :] * plan.S + d.sides[:, ::-1, None]
    return affinity_rows(w, aff, key, flat, d.not_side)


def affinity_rows(w, aff: np.ndarray, key: str, flat: np.ndarray, needed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where a kernel reads the affinities it needs: (rows (R, M), at), at (shaped as
    ``flat``) the place in a replicate's row of each pair ``flat`` names (row * S + column
    of the (S, S) matrix; ``needed``: the pairs whose values are used). The alignment
    rule's contiguous copy of the read pairs (:attr:`sim.world.model.World.latest`) when it
    holds ``aff``'s values (written by the alignment kernel in this month or the last, no
    effect or agent since) and every needed pair: a few contiguous numbers a replicate
    rather than one of S rows of the (S, S) matrix each (pairs not needed: any place).
    Otherwise the matrix itself, flat (R, S * S), and ``flat``. Kept on the plan by ``key``."""
    plan = w.plan
    S = plan.S
    latest = getattr(w, "latest", {}).get("affinity")
    if latest is not None and latest[0] is aff and w.elapsed <= latest[3] <= w.elapsed + 1:
        where = latest[1]
        kept = plan.__dict__.get(key + "_at")
        if kept is None or kept[0] is not where:
            pos = np.full(S * S, -1, dtype=np.intp)
            pos[where] = np.arange(where.size)
            at = pos[flat]
            ok = bool((at[needed] >= 0).all())
            kept = plan.__dict__[key + "_at"] = (where, np.ascontiguousarray(np.maximum(at, 0)) if ok else None)
        if kept[1] is not None:
            return latest[2], kept[1]
    return aff.reshape(aff.shape[0], S * S), np.ascontiguousarray(flat)
