"""Fitting the generic hazard coefficients to a dyad-year panel (``sim calibrate``).

Two blocks, each fitted where it is cheapest to be exact (docs/CALIBRATION.md, "hindcast"):

1. **How often disputes start** — the up-rates from rungs 0 and 1, the coefficients of the
   flashpoint's record and setting on them (:data:`sim.analysis.onset.ONSET_TERMS`), the
   weight of deterrence and the persistence of disputes into the new year — by maximum
   likelihood of the panel's ``onset`` (and, for dyads in a dispute the year before, of
   ``ongoing``), with the template's onset probability computed exactly
   (:mod:`sim.analysis.onset`): the objective is deterministic and smooth.
2. **How far they go** — the up-rates from rungs 2 and 4, the record's terms on them, and
   the limited offensive's rate, slopes and war risk — by the simulated method of moments:
   disputes started from each onset row of the panel are simulated to their end (common
   random numbers: the same seed at every evaluation) and their shares of deaths, war,
   offensives and seizures, overall and against the covariates that should move them, are
   matched to the panel's (Newton steps with a simulated Jacobian).

Intervals come from a bootstrap over dyads: the rows of a resampled dyad enter with its
weight. For block 1 the estimate is updated by one Newton step with the resampled scores
(the estimating-function bootstrap, Hu & Kalbfleisch 2000), for block 2 by the linearized
map from resampled moments to parameters; 95% percentile intervals. A coefficient whose
interval includes 0 is not identified by the panel: it is reported as such, and kept as a
declared uncertainty whose range includes no effect.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np

from . import dyadyear, onset

ONSET_FREE = ("base_up[0]", "base_up[1]", *onset.ONSET_TERMS, "beta_deterrence", "persistence")
"""Parameters of block 1, in the order of the fitting vector."""
_LOG = {"base_up[0]", "base_up[1]"}
_LOGIT = {"persistence"}
_ONSET_BOUNDS = {"base_up[0]": (np.log(1e-6), np.log(50.0)), "base_up[1]": (np.log(1e-6), np.log(50.0))}
"""Bounds of block 1's rates on the fitting scale: the rule's own range (``base_up`` is at most 50 a
month). A small panel can otherwise run a rate past it, and the scenario it writes is then refused."""


def to_scale(values: dict, names, log: set, logit: set) -> np.ndarray:
    """Parameter values -> the fitting vector: logs of rates (``log``), logits of shares (``logit``)."""
    out = []
    for k in names:
        v = float(values[k])
        out.append(np.log(v) if k in log else (np.log(v / (1 - v)) if k in logit else v))
    return np.array(out)


def from_scale(theta: np.ndarray, names, log: set, logit: set) -> dict:
    """The inverse of :func:`to_scale`."""
    return {k: float(np.exp(t)) if k in log else (float(1 / (1 + np.exp(-t))) if k in logit else float(t))
            for k, t in zip(names, theta, strict=True)}


def _to_theta(values: dict) -> np.ndarray:
    return to_scale(values, ONSET_FREE, _LOG, _LOGIT)


def _from_theta(theta: np.ndarray) -> dict:
    return from_scale(theta, ONSET_FREE, _LOG, _LOGIT)


def rates_with(base: onset.Rates, values: dict) -> onset.Rates:
    """``base`` with block-1 values (``ONSET_FREE`` names) put in."""
    up = list(base.base_up)
    up[0], up[1] = values.get("base_up[0]", up[0]), values.get("base_up[1]", up[1])
    on = {t: values.get(t, base.onset[t]) for t in onset.ONSET_TERMS}
    return dataclasses.replace(base, base_up=tuple(up), beta_deterrence=values.get("beta_deterrence",
                                                                                  base.beta_deterrence), onset=on)


def row_loglik(dz: onset.Design, r: onset.Rates, persistence: float, y_onset: np.ndarray,
               y_ongoing: np.ndarray) -> np.ndarray:
    """Each row's log-likelihood of its onset (and, in a dispute the year before, ongoing)."""
    p, quiet = onset.onset_probabilities(dz, r, persistence)
    eps = 1e-12
    p = np.clip(p, eps, 1 - eps)
    ll = np.where(y_onset > 0.5, np.log(p), np.log1p(-p))
    hot = dz.in_dispute
    if hot.any():
        q = np.clip(quiet[hot], eps, 1 - eps)
        running = np.clip(1.0 - p[hot] - quiet[hot], eps, 1.0)  # no onset, a dispute at some time
        yo, yg = y_onset[hot] > 0.5, y_ongoing[hot] > 0.5
        ll[hot] = np.where(yo, np.log(p[hot]), np.where(yg, np.log(running), np.log(q)))
    return ll


@dataclass
class BlockFit:
    """A fitted block: estimates, 95% intervals, and what identifies each."""

    values: dict
    lo: dict
    hi: dict
    loglik: float = float("nan")
    n: int = 0
    seconds: float = 0.0
    notes: dict = field(default_factory=dict)

    def identified(self, name: str) -> bool:
        """False for a slope whose interval includes 0 (base rates and shares are always identified)."""
        if name in _LOG or name in _LOGIT or "base_up" in name or name in ("force_share",):
            return True
        return not (self.lo[name] <= 0.0 <= self.hi[name])


def fit_onset(panel, base: onset.Rates, start: dict | None = None, *, boot: int = 2000, seed: int = 1,
              dz: onset.Design | None = None, verbose: bool = False, free: list[str] | None = None) -> BlockFit:
    """Block 1 by maximum likelihood on ``panel`` (rows with ``onset`` and ``ongoing``); only the
    parameters in ``free`` (default: all of :data:`ONSET_FREE`) are fitted, the rest stay as in ``base``."""
    from scipy.optimize import minimize

    t0 = time.perf_counter()
    dz = dz if dz is not None else onset.design(panel)
    y_on = panel["onset"].to_numpy(dtype=float)
    y_og = panel["ongoing"].to_numpy(dtype=float)
    init = {"base_up[0]": base.base_up[0], "base_up[1]": base.base_up[1], **base.onset,
            "beta_deterrence": base.beta_deterrence, "persistence": dyadyear.PERSISTENCE, **(start or {})}
    full = _to_theta(init)
    sel = np.array([k in (free or ONSET_FREE) for k in ONSET_FREE])

    def expand(t: np.ndarray) -> np.ndarray:
        out = full.copy()
        out[sel] = t
        return out

    def rows(theta: np.ndarray) -> np.ndarray:
        v = _from_theta(expand(theta))
        return row_loglik(dz, rates_with(base, v), v["persistence"], y_on, y_og)

    def objective(theta: np.ndarray) -> float:
        return -float(rows(theta).sum())

    bounds = [_ONSET_BOUNDS.get(k, (None, None)) for k, on in zip(ONSET_FREE, sel, strict=True) if on]
    res = minimize(objective, full[sel], method="L-BFGS-B", bounds=bounds, options={"maxiter": 2000, "maxfun": 50_000})
    if verbose:
        print(f"block 1: {res.message} after {res.nit} iterations, -loglik {res.fun:.2f}", flush=True)
    theta = res.x
    scores = _row_scores(rows, theta)
    H = _hessian(objective, theta)
    draws = _score_bootstrap(theta, scores, H, _clusters(panel), boot, seed)
    lo, hi = np.percentile(draws, [2.5, 97.5], axis=0)
    vals = _from_theta(expand(theta))
    lo_v, hi_v = _from_theta(expand(lo)), _from_theta(expand(hi))  # monotone transforms: percentiles carry over
    vals = {k: v for k, v in vals.items() if k in (free or ONSET_FREE)}
    return BlockFit(vals, lo_v, hi_v, -float(res.fun), len(panel), time.perf_counter() - t0,
                    {"converged": bool(res.success), "message": str(res.message), "iterations": int(res.nit)})


def _row_scores(rows, theta: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Per-row gradients of the log-likelihood (N, k), central differences."""
    out = np.empty((rows(theta).size, theta.size))
    for k in range(theta.size):
        e = np.zeros_like(theta)
        e[k] = h
        out[:, k] = (rows(theta + e) - rows(theta - e)) / (2 * h)
    return out


def _hessian(objective, theta: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """Hessian of the (negative log-likelihood) objective, central differences."""
    k = theta.size
    H = np.empty((k, k))
    f0 = objective(theta)
    for i in range(k):
        for j in range(i, k):
            ei = np.zeros(k)
            ej = np.zeros(k)
            ei[i] = h
            ej[j] = h
            if i == j:
                val = (objective(theta + ei) - 2 * f0 + objective(theta - ei)) / h ** 2
            else:
                val = (objective(theta + ei + ej) - objective(theta + ei - ej) - objective(theta - ei + ej)
                       + objective(theta - ei - ej)) / (4 * h * h)
            H[i, j] = H[j, i] = val
    return H


def _clusters(panel) -> np.ndarray:
    """Dyad index of each row (the bootstrap resamples dyads)."""
    key = panel["ccode1"].to_numpy(dtype=np.int64) * 10_000 + panel["ccode2"].to_numpy(dtype=np.int64)
    return np.unique(key, return_inverse=True)[1]


def _score_bootstrap(theta, scores, H, cluster, boot: int, seed: int) -> np.ndarray:
    """theta* = theta + H^-1 sum_i (w_c(i) - 1) s_i, with w the counts of a resample of dyads."""
    rng = np.random.default_rng(seed)
    n_c = cluster.max() + 1
    per_c = np.zeros((n_c, theta.size))
    np.add.at(per_c, cluster, scores)
    Hinv = np.linalg.pinv(H)
    out = np.empty((boot, theta.size))
    for b in range(boot):
        w = np.bincount(rng.integers(0, n_c, n_c), minlength=n_c) - 1.0
        out[b] = theta + Hinv @ (w @ per_c)
    return out


# ---------------------------------------------------------------- block 2: how far disputes go

ESC_FREE = ("base_up[2]", "base_up[4]", "gamma_fatal_last", "gamma_territorial", "gamma_sea", "gamma_far",
            "offensive.base_rate", "offensive.war_risk", "offensive.beta_balance", "offensive.beta_isolation",
            "offensive.beta_territorial")
"""Parameters of block 2 (``offensive.`` ones belong to the offensive rule)."""
def data_flags(panel) -> dict:
    """The panel's own per-row outcomes of the onset rows, named as the model's flags."""
    return {"fatal": panel["onset_fatal"].to_numpy(dtype=float), "war": panel["onset_war"].to_numpy(dtype=float),
            "occupation": panel["onset_occupation"].to_numpy(dtype=float),
            "occupy": panel["onset_occupy"].to_numpy(dtype=float)}


def simulate_disputes(panel, rules: dict, runs: int = 100, seed: int = 7) -> dict:
    """Disputes started at rung 2 from each row of ``panel`` (the onset rows), followed to their end
    (:func:`sim.analysis.hindcast.forecast`'s disputes, in this process): per-row shares of each
    flag. The same seed gives the same random numbers at every evaluation (common random numbers)."""
    from .hindcast import _F, _simulate

    shares, _ = _simulate(panel.reset_index(drop=True), runs, seed, rules, dyadyear.PERSISTENCE, 20_000, 1, "local",
                          None, None, "float64", disputes=True)
    return {name: shares[:, _F[name]] for name in ("escalated", "fatal", "war", "occupation", "occupy")}


_ESC_LOG = {"base_up[2]", "base_up[4]", "offensive.base_rate"}
_ESC_LOGIT = {"offensive.war_risk"}
_ESC_BOUNDS = {"base_up[2]": (np.log(1e-4), np.log(50.0)), "base_up[4]": (np.log(1e-4), np.log(50.0)),
               "offensive.base_rate": (np.log(1e-4), np.log(5.0)), "offensive.war_risk": (-8.0, 8.0),
               "offensive.beta_balance": (0.0, 5.0), "offensive.beta_isolation": (0.0, 10.0),
               "offensive.beta_territorial": (-10.0, 10.0),
               "gamma_fatal_last": (-10.0, 10.0), "gamma_territorial": (-10.0, 10.0),
               "gamma_sea": (-10.0, 10.0), "gamma_far": (-10.0, 10.0)}
"""Bounds of block 2 on the fitting scale (logs of rates, logit of the war risk): the rules' own ranges."""


def _esc_theta(values: dict) -> np.ndarray:
    return to_scale(values, ESC_FREE, _ESC_LOG, _ESC_LOGIT)


def _esc_values(theta: np.ndarray) -> dict:
    return from_scale(theta, ESC_FREE, _ESC_LOG, _ESC_LOGIT)


def rules_with(esc_rules: dict, off_rules: dict, values: dict) -> dict:
    """Rule settings (``{"escalation": {...}, "offensive": {...}}``) with block values put in."""
    esc, off = dict(esc_rules), dict(off_rules)
    up = list(esc["base_up"])
    for k, v in values.items():
        if k.startswith("base_up["):
            up[int(k[8])] = v
        elif k.startswith("offensive."):
            off[k.split(".", 1)[1]] = v
        elif k == "persistence" or k == "force_share":
            continue
        else:
            esc[k] = v
    esc["base_up"] = up
    return {"escalation": esc, "offensive": off}


def esc_rates_with(base: onset.Rates, values: dict) -> onset.Rates:
    """``base`` with block-2 values (``ESC_FREE`` names) put in."""
    up = list(base.base_up)
    for i in (2, 4):
        up[i] = values.get(f"base_up[{i}]", up[i])
    esc = {t: values.get(t, base.esc[t]) for t in onset.ESC_TERMS}
    off = dict(base.offensive)
    for k, v in values.items():
        if k.startswith("offensive."):
            off[k.split(".", 1)[1]] = v
    return dataclasses.replace(base, base_up=tuple(up), esc=esc, offensive=off)


def esc_row_loglik(dz: onset.Design, r: onset.Rates, y: dict, correction: dict) -> np.ndarray:
    """Each onset row's composite log-likelihood of its dispute's flags (fatal, war, occupation,
    occupy), with the exact probabilities scaled by ``correction`` (simulated / exact, per flag)."""
    p = onset.episode_probabilities(dz, r)
    ll = np.zeros(dz.x.size)
    for k in onset.EPISODE_FLAGS:
        q = np.clip(p[k] * correction.get(k, 1.0), 1e-9, 1 - 1e-9)
        ll += np.where(y[k] > 0.5, np.log(q), np.log1p(-q))
    return ll


def fit_escalation(onsets, base: onset.Rates, rules: dict, start: dict, *, rounds: int = 2, runs: int = 200,
                   seed: int = 7, boot: int = 2000, verbose: bool = False, free: list[str] | None = None) -> BlockFit:
    """Block 2 by maximum (composite) likelihood of the onset rows' flags, with the exact
    probabilities of :func:`sim.analysis.onset.episode_probabilities` corrected, flag by flag,
    by the ratio of simulated to exact shares at the current estimate (what the exact
    computation leaves out: momentum after clashes, allies' committed support), ``rounds`` times."""
    from scipy.optimize import minimize

    t0 = time.perf_counter()
    dz = onset.design(onsets, rules)
    y = data_flags(onsets)
    lo_b = np.array([_ESC_BOUNDS.get(k, (-np.inf, np.inf))[0] for k in ESC_FREE])
    hi_b = np.array([_ESC_BOUNDS.get(k, (-np.inf, np.inf))[1] for k in ESC_FREE])
    full = np.clip(_esc_theta(start), lo_b + 1e-6, hi_b - 1e-6)
    sel = np.array([k in (free or ESC_FREE) for k in ESC_FREE])
    lo_b, hi_b = lo_b[sel], hi_b[sel]

    def expand(t: np.ndarray) -> np.ndarray:
        out = full.copy()
        out[sel] = t
        return out

    theta = full[sel]
    correction: dict = {}
    history = []
    for rnd in range(rounds + 1):
        def rows(th: np.ndarray, correction=correction) -> np.ndarray:
            return esc_row_loglik(dz, esc_rates_with(base, _esc_values(expand(th))), y, correction)

        def objective(th: np.ndarray, rows=rows) -> float:
            return -float(rows(th).sum())

        res = minimize(objective, theta, method="L-BFGS-B", bounds=list(zip(lo_b, hi_b, strict=True)),
                       options={"maxiter": 1000})
        theta = res.x
        vals = _esc_values(expand(theta))
        exact = onset.episode_probabilities(dz, esc_rates_with(base, vals))
        sim = simulate_disputes(onsets, rules_with(rules["escalation"], rules["offensive"], vals), runs=runs, seed=seed)
        ratio = {k: float(sim[k].mean() / max(exact[k].mean(), 1e-12)) for k in onset.EPISODE_FLAGS}
        history.append({"round": rnd, "values": vals, "simulated": {k: float(sim[k].mean()) for k in sim},
                        "exact": {k: float(exact[k].mean()) for k in exact}, "data": {k: float(y[k].mean()) for k in y},
                        "correction": dict(correction)})
        if verbose:
            print(f"block 2 round {rnd}: " + ", ".join(f"{k}={v:.4g}" for k, v in vals.items()), flush=True)
            print("   data " + ", ".join(f"{k} {y[k].mean():.4f}" for k in onset.EPISODE_FLAGS)
                  + " | simulated " + ", ".join(f"{k} {sim[k].mean():.4f}" for k in onset.EPISODE_FLAGS), flush=True)
        if rnd == rounds:
            break
        correction = {k: correction.get(k, 1.0) * ratio[k] for k in onset.EPISODE_FLAGS}
    scores = _row_scores(rows, theta)
    H = _hessian(objective, theta)
    draws = np.clip(_score_bootstrap(theta, scores, H, _clusters(onsets), boot, seed), lo_b, hi_b)
    lo_t, hi_t = np.percentile(draws, [2.5, 97.5], axis=0)
    keep = [k for k in ESC_FREE if k in (free or ESC_FREE)]
    return BlockFit({k: v for k, v in _esc_values(expand(theta)).items() if k in keep},
                    _esc_values(expand(lo_t)), _esc_values(expand(hi_t)), -float(res.fun), len(onsets),
                    time.perf_counter() - t0, {"rounds": history, "message": str(res.message)})
