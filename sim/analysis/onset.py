"""The template's probability that a dispute starts in a year, computed exactly.

For a dyad-year (:mod:`sim.analysis.dyadyear`) the escalation ladder below rung 2 is a
continuous-time Markov chain whose rates are fixed for the year: the sides' capabilities,
alliances and record do not change until a dispute starts, and nothing but the month's
shock varies from month to month. So the probability of an onset — the chain reaching
rung 2 within 12 months — needs no simulation: with the month's transition matrix
``M(eps) = expm(Q(eps))`` over the rungs below 2, and the shock ``eps ~ N(0, 1)`` drawn
afresh each month, the chance of no onset is ``p0 . E[M]^12 . 1`` (monthly shocks are
independent, so the expectation passes through the product), ``E[M]`` by Gauss-Hermite
quadrature. A dyad in a dispute at the start adds the rungs of that dispute (2-5) in
front: the dispute must end (rung 1) before a new one can start, and a limited offensive
at the end of a month may turn it into war or take the land (which settles the dispute:
no onset after it); which side holds the land is split evenly, as in the template.
Momentum after clashes and allies' support during that first dispute are left out of the
exact computation; :func:`sim.analysis.hindcast.forecast` simulates everything, and the
fit is checked against it (docs/CALIBRATION.md).

This is what makes fitting the onset coefficients on 60,000 rows fast: the linear
predictor is precomputed per row (:class:`Design`), and a likelihood evaluation is a few
batched 2x2 and 6x6 matrix exponentials.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..rules.escalation import CONTIGUITY_TERMS

ONSET_TERMS = ("beta_peace", "beta_recent", "beta_fatal_last", "beta_force_last", "beta_territorial",
               "beta_land", "beta_sea", "beta_far", "beta_major", "beta_allied", "beta_preponderance")
"""Coefficients of the record and setting on the up-rates from rungs 0-1, in the order of
:attr:`Design.z` (``beta_preponderance`` multiplies -|x|)."""
ESC_TERMS = ("gamma_fatal_last", "gamma_territorial", "gamma_sea", "gamma_far")
NODES = 9
"""Gauss-Hermite nodes of the expectation over a month's shock."""


@dataclass
class Design:
    """What the onset probability of each row needs, computed once from the template."""

    z: np.ndarray  # (N, len(ONSET_TERMS))
    z_esc: np.ndarray  # (N, len(ESC_TERMS))
    x: np.ndarray  # (N,) clipped log capability ratio a/b
    lr: np.ndarray  # (N,) log capability ratio a/b
    territorial: np.ndarray  # (N,)
    D: np.ndarray  # (N, 2) deterrence of each side by the other's expected help (before beta_deterrence)
    res: np.ndarray  # (N, 2) resolve
    in_dispute: np.ndarray  # (N,) bool: a dispute the year before (the row starts in one)


def design(panel, rules: dict | None = None) -> Design:
    """Build the :class:`Design` of every row, reading the template world's own state."""
    from .. import api
    from ..rules.common import Dyads, deterrence, response_probability
    from ..rules.escalation import allied, log_balance
    from ..rules.history import past_disputes
    from ..seeding import root_sequence
    from ..world.compile import compile_plan
    from ..world.opening import opened
    from . import dyadyear

    scn = api.load_scenario(dyadyear.template(rules))
    plan = compile_plan(scn.spec, scn.rules, 12)
    n = len(panel)
    fixed, switch = dyadyear.split_switched({k: v.take(0, n) for k, v in dyadyear.row_inputs(panel, 1).items()})
    fixed["flashpoints.f.level"] = np.zeros(n)
    with opened(plan, n, root_sequence(0), pipeline=[], dtype=np.float64, fixed=fixed,
                switch=switch) as w:
        d = Dyads.for_plan(plan)
        st, par = w.st, w.par
        lr = log_balance(w, d)[:, 0]
        x = np.clip(lr, -3.0, 3.0)
        q, _, _ = response_probability(w, d)
        D = deterrence(w, d, q, w.rp("escalation", "patron_weight"))[:, 0, :]
        contig = np.rint(par.contiguity[:, 0])
        cols = {"beta_peace": np.log1p(st.peace[:, 0]), "beta_recent": past_disputes(st)[:, 0],
                "beta_fatal_last": st.fatal_last[:, 0], "beta_force_last": st.hostility_last[:, 0] >= 4,
                "beta_territorial": par.territorial[:, 0],
                "beta_major": par.major_power[:, 0] + par.major_power[:, 1],
                "beta_allied": allied(w, d)[:, 0], "beta_preponderance": -np.abs(x)}
        for name, codes in CONTIGUITY_TERMS.items():
            cols[name] = np.isin(contig, codes)
        z = np.stack([np.asarray(cols[t], dtype=float) for t in ONSET_TERMS], axis=1)
        z_esc = np.stack([st.fatal_last[:, 0].astype(float), par.territorial[:, 0], cols["beta_sea"].astype(float),
                          cols["beta_far"].astype(float)], axis=1)
        res = par.resolve[:, d.sides[0]]
        return Design(z, z_esc, x, lr, par.territorial[:, 0].copy(), D, res,
                      panel["mid_ongoing_prev"].to_numpy(dtype=float) > 0.5)


@dataclass(frozen=True)
class Rates:
    """The escalation rule's parameters the exact computation uses (scalars)."""

    base_up: tuple
    base_down: tuple
    beta_resolve: float
    beta_advantage: float
    beta_deterrence: float
    shock_sd: float
    war_mean_months: float
    onset: dict  # ONSET_TERMS -> coefficient
    esc: dict  # ESC_TERMS -> coefficient
    offensive: dict  # the offensive rule's parameters
    standing_share: float = 1.0  # share of new disputes that stand (MODEL.md D3a); the rest are incidents
    incident_down: float = 0.0  # an incident's exit rate from rung 2 (1/month)

    @classmethod
    def of(cls, esc: dict, off: dict) -> Rates:
        """From the escalation and offensive rules' parameters (``{name: value}``, defaults filled in)."""
        return cls(tuple(esc["base_up"]), tuple(esc["base_down"]), float(esc["beta_resolve"]),
                   float(esc["beta_advantage"]), float(esc["beta_deterrence"]), float(esc["shock_sd"]),
                   float(esc["war_mean_months"]), {t: float(esc[t]) for t in ONSET_TERMS},
                   {t: float(esc[t]) for t in ESC_TERMS}, {k: float(v) for k, v in off.items()},
                   float(esc.get("standing_share", 1.0)), float(esc.get("incident_down", 0.0)))

    @classmethod
    def of_rules(cls, rules: dict) -> Rates:
        """From a loaded scenario's resolved rules (``LoadedScenario.rules``)."""
        def values(kind: str) -> dict:
            return {k: p.value for k, p in rules[kind].params.items()}

        return cls.of(values("escalation"), values("offensive"))


def factors(dz: Design, r: Rates) -> tuple[np.ndarray, np.ndarray]:
    """The up-rate factors without the month's shock: from rungs 0-1 and from rungs 2-4 (N,) each
    (MODEL.md D3: U g_on and U g_esc; no shift, momentum or mediation in the template)."""
    eta_a = r.beta_resolve * (dz.res[:, 0] - 0.5) + r.beta_advantage * dz.x - r.beta_deterrence * dz.D[:, 0]
    eta_b = r.beta_resolve * (dz.res[:, 1] - 0.5) - r.beta_advantage * dz.x - r.beta_deterrence * dz.D[:, 1]
    log_u = np.logaddexp(eta_a, eta_b) - np.log(2.0)
    on = dz.z @ np.array([r.onset[t] for t in ONSET_TERMS])
    esc = dz.z_esc @ np.array([r.esc[t] for t in ESC_TERMS])
    return np.exp(log_u + on), np.exp(log_u + esc)


def expm(a: np.ndarray) -> np.ndarray:
    """Matrix exponentials of a stack of small matrices (..., n, n): scaling and squaring with a
    Taylor polynomial of degree 12 (accurate to double precision for the scaled norm <= 1/2)."""
    norm = np.abs(a).sum(axis=-1).max(axis=-1).max() if a.size else 0.0
    s = max(0, int(np.ceil(np.log2(norm / 0.5)))) if norm > 0.5 else 0
    b = a / (2.0 ** s)
    eye = np.broadcast_to(np.eye(a.shape[-1]), a.shape)
    out = eye.copy()
    term = eye.copy()
    for k in range(1, 13):
        term = term @ b / k
        out = out + term
    for _ in range(s):
        out = out @ out
    return out


def expm_calm(up0: np.ndarray, up1: np.ndarray, down1: float) -> np.ndarray:
    """expm of the transient generator [[-up0, up0], [down1, -down1 - up1]] (rungs 0 and 1, leaving
    to rung 2 at rate up1), in closed form, for arrays of rates (..., 2, 2). Its eigenvalues are
    real and distinct whenever down1 > 0."""
    a, b, c = up0, up1, down1
    tr = -(a + b + c)
    disc = np.sqrt(np.maximum(tr * tr - 4.0 * a * b, 0.0))
    lp, lm = 0.5 * (tr + disc), 0.5 * (tr - disc)
    ep, em = np.exp(lp), np.exp(lm)
    gap = np.maximum(lp - lm, 1e-300)
    q = np.stack([np.stack([-a, a + 0 * b], -1), np.stack([c + 0 * a, -c - b], -1)], -2)
    eye = np.eye(2)
    lp_, lm_ = lp[..., None, None], lm[..., None, None]
    return (ep[..., None, None] * (q - lm_ * eye) - em[..., None, None] * (q - lp_ * eye)) / gap[..., None, None]


def _power2(m: np.ndarray, k: int) -> np.ndarray:
    """m**k for a stack of 2x2 matrices, by squaring."""
    out = np.broadcast_to(np.eye(2), m.shape).copy()
    base = m
    while k:
        if k & 1:
            out = out @ base
        base = base @ base
        k >>= 1
    return out


def calm_survival(dz: Design, r: Rates, months: int = 12) -> np.ndarray:
    """(N, months + 1): P(no dispute has started by the end of month m), m = 0..months, for rows that
    start calm (rung 0); the same chain as :func:`onset_probabilities`."""
    f_on, _ = factors(dz, r)
    t, wt = _hermite()
    F = f_on[:, None] * np.exp(r.shock_sd * t)[None, :]
    M = np.einsum("k,nkij->nij", wt, expm_calm(r.base_up[0] * F, r.base_up[1] * F, r.base_down[1]))
    out = np.empty((f_on.size, months + 1))
    v = np.zeros((f_on.size, 2))
    v[:, 0] = 1.0
    out[:, 0] = 1.0
    for m in range(1, months + 1):
        v = np.einsum("ni,nij->nj", v, M)
        out[:, m] = v.sum(axis=1)
    return out


def _hermite(k: int = NODES) -> tuple[np.ndarray, np.ndarray]:
    t, wt = np.polynomial.hermite_e.hermegauss(k)
    return t, wt / wt.sum()


def onset_probabilities(dz: Design, r: Rates, persistence: float, months: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """P(onset within ``months``) per row, and for rows in a dispute at the start the
    probability that no dispute is running at any time of the year (else 0): the template
    of :mod:`sim.analysis.dyadyear` computed exactly (see the module's docstring)."""
    f_on, f_esc = factors(dz, r)
    t, wt = _hermite()
    shock = np.exp(r.shock_sd * t)  # (K,)
    u, d = r.base_up, r.base_down
    N = f_on.size
    p_onset = np.empty(N)
    p_quiet = np.zeros(N)
    calm = ~dz.in_dispute
    if calm.any():  # rungs 0, 1 (then 2: an onset), from rung 0
        F = f_on[calm][:, None] * shock[None, :]  # (n, K)
        M = np.einsum("k,nkij->nij", wt, expm_calm(u[0] * F, u[1] * F, d[1]))
        p_onset[calm] = 1.0 - _power2(M, months)[:, 0, :].sum(axis=1)
    hot = dz.in_dispute
    if hot.any():  # the running dispute's rungs 2-5, then rungs 1, 0 (then 2 again: an onset); S settled
        onsets, quiets = [], []
        for challenger in (0, 1):  # runs where b holds the land (a may take it), and where a holds it
            o, q = _from_dispute(dz, r, f_on, f_esc, shock, wt, hot, challenger, persistence, months)
            onsets.append(o)
            quiets.append(q)
        p_onset[hot] = 0.5 * (onsets[0] + onsets[1])
        p_quiet[hot] = 0.5 * (quiets[0] + quiets[1])
    return p_onset, p_quiet


E2, E3, E4, E5, B1, B0, SETTLED = range(7)


def _from_dispute(dz: Design, r: Rates, f_on, f_esc, shock, wt, hot, sg: int, persistence: float,
                  months: int) -> tuple[np.ndarray, np.ndarray]:
    """P(onset) and P(no dispute running at any time of the year) of rows in a dispute at the
    start, when side ``sg`` (0: a) is the challenger of the land at stake."""
    u, d = r.base_up, r.base_down
    F = f_on[hot][:, None] * shock[None, :]
    G = f_esc[hot][:, None] * shock[None, :]
    Q = np.zeros((*F.shape, 7, 7))

    def rate(i, j, val):
        Q[..., i, j] += val
        Q[..., i, i] -= val

    rate(E2, E3, u[2] * G)
    rate(E2, B1, d[2] + 0 * G)
    rate(E3, E4, u[3] * G)
    rate(E3, E2, d[3] + 0 * G)
    rate(E4, E5, u[4] * G)
    rate(E4, E3, d[4] + 0 * G)
    rate(E5, E2, 1.0 / r.war_mean_months + 0 * G)  # a war ends; the standoff after it (post-war rung 2)
    rate(B1, B0, d[1] + 0 * G)
    Q[..., B1, B1] -= u[1] * F  # to rung 2: an onset (absorbed)
    rate(B0, B1, u[0] * F)
    month = np.einsum("nk,nkij->nij", np.broadcast_to(wt, F.shape), expm(Q))
    # a limited offensive at the month's end (MODEL.md D9), from rungs 2-4
    launch, p_war, p_win = _offensive(dz, r, sg, hot)
    step = np.broadcast_to(np.eye(7), (launch.size, 7, 7)).copy()
    for k in (E2, E3, E4):
        step[:, k, k] = 1.0 - launch * (p_war + p_win)
        step[:, k, E5] = launch * p_war
        step[:, k, SETTLED] = launch * p_win
    mt = np.linalg.matrix_power(month @ step, months)
    stay = lambda i: mt[:, i, :].sum(axis=1)  # noqa: E731 - no onset yet from state i
    onset = 1.0 - (persistence * stay(E2) + (1.0 - persistence) * stay(B1))
    quiet = (1.0 - persistence) * stay(B1)
    return onset, quiet


EPISODE_FLAGS = ("fatal", "war", "occupation", "occupy")
"""What :func:`episode_probabilities` gives for a dispute started at rung 2 (the hindcast's flags)."""


def episode_probabilities(dz: Design, r: Rates, months: int = 48) -> dict[str, np.ndarray]:
    """For a dispute starting at rung 2 in each row (at the row's record and setting), the
    probability that before it ends (below rung 2, or settled; at most ``months`` months) it
    kills (a clash, an offensive), reaches war, sees an offensive or war, sees ground taken.
    Exact for the template without momentum after clashes and without partial gains (each flag
    a first passage of the ladder's chain within months and the offensive's draw at each
    month's end); which side holds the land is split evenly, as in the template. A partial
    gain (probability 1 - ``take_all`` of a success) keeps the dispute on at its rung here; its
    turning standing and the holder's retakes are left out (the panel fit corrects each flag
    by simulation: :mod:`sim.analysis.panelfit`)."""
    _, f_esc = factors(dz, r)
    t, wt = _hermite()
    shock = np.exp(r.shock_sd * t)
    G = f_esc[:, None] * shock[None, :]
    u = r.base_up
    incident_down = (*r.base_down[:2], r.incident_down, *r.base_down[3:])  # the down-rates of an incident
    kinds = [(r.standing_share, r.base_down)] + ([(1.0 - r.standing_share, incident_down)]
                                                 if r.standing_share < 1 else [])
    out = {k: np.zeros(f_esc.size) for k in EPISODE_FLAGS}
    for sg in (0, 1):
        launch, p_war, p_win = _offensive(dz, r, sg, np.ones(f_esc.size, dtype=bool))
        for flag in EPISODE_FLAGS:
            for share, d in kinds:  # a standing dispute, or an incident (MODEL.md D3a)
                out[flag] += 0.5 * share * _first_passage(flag, G, wt, u, d, r, launch, p_war, p_win, months)
    return out


_S2, _S3, _S4, _S5, _END, _HIT = range(6)


def _first_passage(flag, G, wt, u, d, r, launch, p_war, p_win, months) -> np.ndarray:
    """P(the flag's event before the dispute ends) on the chain of rungs 2-5."""
    Q = np.zeros((*G.shape, 6, 6))

    def rate(i, j, val):
        Q[..., i, j] += val
        Q[..., i, i] -= val

    up3 = _HIT if flag == "fatal" else _S3  # entering rung 3 is a clash: someone is killed
    p_all = r.offensive.get("take_all", 1.0)
    rate(_S2, up3, u[2] * G)
    rate(_S2, _END, d[2] + 0 * G)
    rate(_S3, _S4, u[3] * G)
    rate(_S3, _S2, d[3] + 0 * G)
    rate(_S4, _HIT if flag in ("war", "occupation") else _S5, u[4] * G)
    rate(_S4, _S3, d[4] + 0 * G)
    if flag not in ("war", "occupation"):  # a war ends: the standoff after it, or the land changes hands
        rate(_S5, _S2, 1.0 / r.war_mean_months + 0 * G)
    month = np.einsum("k,nkij->nij", wt, expm(Q))
    n = G.shape[0]
    step = np.broadcast_to(np.eye(6), (n, 6, 6)).copy()
    for k in (_S2, _S3, _S4):  # a limited offensive at the month's end
        if flag in ("fatal", "occupation"):
            step[:, k, k] = 1.0 - launch
            step[:, k, _HIT] = launch
        elif flag == "war":  # a success ends the dispute only if it takes everything
            step[:, k, k] = 1.0 - launch * (p_war + p_win * p_all)
            step[:, k, _HIT] = launch * p_war
            step[:, k, _END] = launch * p_win * p_all
        else:  # occupy: ground taken (part or all)
            step[:, k, k] = 1.0 - launch * (p_war + p_win)
            step[:, k, _S5] = launch * p_war
            step[:, k, _HIT] = launch * p_win
    m = month @ step
    v = np.zeros((n, 6))
    v[:, _S2] = 1.0
    for _ in range(months):
        v = np.einsum("ni,nij->nj", v, m)
    return v[:, _HIT]


def _offensive(dz: Design, r: Rates, sg: int, rows: np.ndarray):
    """Monthly chance of a launch by side ``sg`` (the challenger) at rungs 2-4, and P(war), P(seizure)."""
    o = r.offensive
    xs = (dz.lr if sg == 0 else -dz.lr)[rows]
    Ds = dz.D[rows, sg]
    lam = o["base_rate"] * np.exp(o["beta_balance"] * np.clip(xs, -3, 3) - o["beta_isolation"] * Ds
                                  + o["beta_resolve"] * (dz.res[rows, sg] - 0.5)
                                  + o.get("beta_territorial", 0.0) * dz.territorial[rows])
    p_war = 1.0 - (1.0 - o["war_risk"]) * (1.0 - Ds)
    p_win = (1.0 - p_war) / (1.0 + np.exp(-o["decisiveness"] * xs))
    return -np.expm1(-lam), p_war, p_win
