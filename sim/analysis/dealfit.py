"""The deal coefficients' fit (calibration ``mid-settlements-1946-1991``, docs/CALIBRATION.md).

Targets: GML-MID 2.2.1 disputes that started in 1946-1991 (shared/data/
mid_settlement_shares.csv, shares of disputes with a known settlement code): negotiated
share of all disputes 221/993 = 0.2226, of fatal disputes 99/290 = 0.3414, of
territorial disputes 99/283 = 0.3498. The model's disputes are the neutral dyad's
militarized episodes (:func:`sim.analysis.calibrate.episodes`), plain and territorial,
mixed with the era's own territorial share, 283/993; an episode is negotiated if talks
signed an agreement or it ended by a deal (``agreement | deal``).

**Closed form.** A deal is drawn when an episode eases (steps below rung 2 without a
transfer or a settlement) and changes nothing after it, so the episodes' paths do not
depend on the coefficients: one simulation gives, per episode, whether it was agreed,
whether it eased and whether it killed anyone, and the expected negotiated share for any
(c0, c_fat, c_ter) is exact given those episodes:

    E[negotiated_i] = 1 if agreed_i, else [eased_i] * q(c0 + c_fat * fatal_i + c_ter * territorial_i)

The three shares are solved for the three coefficients (Newton steps, scipy's ``fsolve``).
The only error is the episodes' Monte Carlo error. (The rule's own "killed anyone"
leaves out a limited offensive's toll in the month a dispute eases, which the episodes'
deaths count; offensives are launched at rung 2 or above, so this needs a dispute that
eases and flares again within the month: negligible.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..rules.deals import chance
from .calibrate import Episodes, episodes

SOURCE = "GML-MID 2.2.1, disputes starting 1946-1991, mid_settlement_shares.csv"
COUNTS = {"all": (221, 993), "fatal": (99, 290), "territorial": (99, 283)}
"""Negotiated settlements of disputes with a known settlement code (GML-MID 2.2.1, 1946-1991)."""
TARGETS = {k: a / b for k, (a, b) in COUNTS.items()}
TERRITORIAL_SHARE_1946_1991 = 283 / 993
"""Territorial disputes among the era's disputes with a known settlement code."""


@dataclass(frozen=True)
class Sample:
    """Per-episode flags of the mixture: weights, agreed, eased, fatal, territorial, and
    the deals the rule drew (at the coefficients the episodes were run with)."""

    weight: np.ndarray
    agreed: np.ndarray
    eased: np.ndarray
    fatal: np.ndarray
    territorial: np.ndarray
    deal: np.ndarray

    @classmethod
    def of(cls, plain: Episodes, terr: Episodes, share: float = TERRITORIAL_SHARE_1946_1991) -> Sample:
        def cat(a, b):
            return np.concatenate([np.asarray(a), np.asarray(b)])

        n, m = plain.deaths.size, terr.deaths.size
        return cls(cat(np.full(n, (1 - share) / n), np.full(m, share / m)), cat(plain.agreement, terr.agreement),
                   cat(plain.eased, terr.eased), cat(plain.deaths >= 1, terr.deaths >= 1),
                   cat(np.zeros(n, bool), np.ones(m, bool)), cat(plain.deal, terr.deal))

    def expected(self, c: tuple[float, float, float]) -> np.ndarray:
        """Each episode's chance of a negotiated ending under coefficients ``c``."""
        q = chance(c[0], c[1], c[2], self.fatal.astype(float), self.territorial.astype(float))
        return np.where(self.agreed, 1.0, np.where(self.eased, q, 0.0))

    def shares(self, c: tuple[float, float, float] | None = None, negotiated: np.ndarray | None = None) -> dict:
        """Negotiated shares of all, fatal and territorial episodes: expected under ``c``,
        or of the drawn endings ``negotiated``."""
        x = self.expected(c) if negotiated is None else negotiated.astype(float)
        out = {}
        for key, m in (("all", np.ones_like(self.fatal)), ("fatal", self.fatal), ("territorial", self.territorial)):
            out[key] = float((self.weight * x)[m].sum() / self.weight[m].sum())
        return out


def fit(sample: Sample) -> tuple[float, float, float]:
    """(c0, c_fat, c_ter) that give the sample the three target shares."""
    from scipy.optimize import fsolve

    keys = ("all", "fatal", "territorial")

    def gap(c: np.ndarray) -> list[float]:
        s = sample.shares(tuple(c))
        return [s[k] - TARGETS[k] for k in keys]

    sol, info, ok, msg = fsolve(gap, np.array([-1.0, 0.5, 0.5]), full_output=True, xtol=1e-12)
    if ok != 1 or max(abs(g) for g in gap(sol)) > 1e-8:
        raise RuntimeError(f"the deal fit did not converge: {msg}")
    return float(sol[0]), float(sol[1]), float(sol[2])


def simulate(runs: int = 40_000, seeds: tuple[int, int] = (11, 12), rules: dict | None = None) -> Sample:
    """The neutral dyad's episodes (plain, territorial) as a :class:`Sample`."""
    return Sample.of(episodes(rules, runs, seed=seeds[0]), episodes(rules, runs, seed=seeds[1], territorial=True))


def main() -> None:  # pragma: no cover - a maintenance script
    s = simulate()
    c = fit(s)
    print("fitted (c0, c_fat, c_ter):", tuple(float(f"{x:.4g}") for x in c))
    print("targets:", {k: round(v, 4) for k, v in TARGETS.items()})
    print("expected at the rounded values:", {k: round(v, 4) for k, v in
                                               s.shares(tuple(float(f"{x:.4g}") for x in c)).items()})


if __name__ == "__main__":  # pragma: no cover
    main()
