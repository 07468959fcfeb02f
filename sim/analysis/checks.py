"""Out-of-sample checks of the calibrated defaults: statistics the fit did not use.

The fit (:mod:`sim.analysis.calibrate`) matches four shares of GML-MID 2.2.1 disputes
of 1992-2010. Here the same simulated episodes are compared, without refitting, with
statistics of the same era that the fit did not see (shared/data, computed from GML-MID
2.2.1; figures quoted so the project stands on its own):

* dispute durations (mid_durations.csv: all disputes, and by fatality level);
* fatality bands above the fitted ones (mid_fatal_band_shares.csv: >100 and >999 dead
  among fatal disputes);
* how disputes end (mid_settlement_shares.csv: negotiated, imposed and no settlement,
  all and territorial disputes; negotiated is talks' agreement or a ceasefire / local deal,
  whose coefficients are fitted on the 1946-1991 rows, :mod:`sim.analysis.dealfit`);
The in-sample fit is reported alongside (``fitted`` rows). Each check reports the model's value, the data's, and the data's Wilson 95% interval
where it is a proportion; ``python -m sim.analysis.checks`` prints the table that
docs/CALIBRATION.md quotes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .calibrate import COUNTS, TARGETS, TERRITORIAL_SHARE, Episodes, episodes


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score 95% interval of k successes in n."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class Check:
    """One statistic: model value, data value, and the data's interval (if a proportion)."""

    name: str
    model: float
    data: float
    interval: tuple[float, float] | None
    source: str
    fitted: bool = False  # used by the fit (in-sample) rather than a check

    @property
    def inside(self) -> bool | None:
        if self.interval is None:
            return None
        return self.interval[0] <= self.model <= self.interval[1]


# GML-MID 2.2.1, 1992-2010 (shared/data): (successes, trials) or a value in days
DURATION_ALL = {"median": 15.5, "p75": 136.5, "p90": 353.0, "under31": (309, 531)}  # 0.582 * 531
DURATION_FATAL_1_25 = 55.0  # median days, 72 disputes
DURATION_FATAL_26_100 = 483.0  # median days, 22 disputes
BANDS = {"over100_of_fatal": (19, 113), "over999_of_fatal": (7, 113)}
SETTLE_ALL = {"negotiated": (55, 514), "imposed": (19, 514), "no-settlement": (422, 514)}  # known settle code
SETTLE_TERRITORIAL = {"negotiated": (23, 125), "imposed": (6, 125), "no-settlement": (95, 125)}


def _wq(x: np.ndarray, wt: np.ndarray, p: float) -> float:
    """Weighted quantile (NaNs dropped): the smallest x whose cumulative weight reaches p."""
    keep = ~np.isnan(x)
    x, wt = x[keep], wt[keep]
    if x.size == 0:
        return math.nan
    order = np.argsort(x)
    cum = np.cumsum(wt[order]) / wt.sum()
    return float(x[order][np.searchsorted(cum, p)])


def _mix(plain: Episodes, terr: Episodes, field: str) -> tuple[np.ndarray, np.ndarray]:
    """A field of both samples, with weights that give the territorial share of disputes."""
    a, b = getattr(plain, field), getattr(terr, field)
    wa = np.full(a.size, (1 - TERRITORIAL_SHARE) / a.size)
    wb = np.full(b.size, TERRITORIAL_SHARE / b.size)
    return np.concatenate([a, b]), np.concatenate([wa, wb])


def checks_of(plain: Episodes, terr: Episodes) -> list[Check]:
    """The checks, from episodes of the plain and the territorial neutral dyad, mixed in
    the data's proportions (127 of 531 disputes territorial)."""
    out: list[Check] = []
    for stat in ("fatal", "over25", "war"):
        k, n = COUNTS[stat]
        mixed = TERRITORIAL_SHARE * terr.share(stat) + (1 - TERRITORIAL_SHARE) * plain.share(stat)
        out.append(Check(f"fit: share {stat}", mixed, k / n, wilson(k, n),
                         "mid_hostility_distribution.csv, GML 1992-2010", fitted=True))
    k, n = COUNTS["offensive"]
    out.append(Check("fit: share of territorial episodes with an offensive", terr.share("offensive"), k / n,
                     wilson(k, n), "mid_durations.csv (hiact 14) / mid_settlement_shares.csv, GML 1992-2010",
                     fitted=True))
    src = "mid_durations.csv, GML 1992-2010, all disputes"
    d, wt = _mix(plain, terr, "days")
    deaths, _ = _mix(plain, terr, "deaths")
    known = ~np.isnan(d)
    out.append(Check("duration: median days", _wq(d, wt, 0.5), DURATION_ALL["median"], None, src))
    k, n = DURATION_ALL["under31"]
    under = float(wt[known & (d < 31)].sum() / wt[known].sum())
    out.append(Check("duration: share under 31 days", under, k / n, wilson(k, n), src))
    out.append(Check("duration: 75th percentile, days", _wq(d, wt, 0.75), DURATION_ALL["p75"], None, src))
    out.append(Check("duration: 90th percentile, days", _wq(d, wt, 0.9), DURATION_ALL["p90"], None, src))
    f1 = (deaths >= 1) & (deaths <= 25)
    f2 = (deaths > 25) & (deaths <= 100)
    out.append(Check("duration: median days, 1-25 dead", _wq(d[f1], wt[f1], 0.5), DURATION_FATAL_1_25, None,
                     "mid_durations.csv, GML 1992-2010, fatality level 1"))
    out.append(Check("duration: median days, 26-100 dead", _wq(d[f2], wt[f2], 0.5), DURATION_FATAL_26_100, None,
                     "mid_durations.csv, GML 1992-2010, fatality level 2"))
    fatal = deaths >= 1
    for key, cut in (("over100_of_fatal", 100), ("over999_of_fatal", 999)):
        k, n = BANDS[key]
        share = float(wt[fatal & (deaths > cut)].sum() / wt[fatal].sum())
        out.append(Check(f"fatality: share of fatal episodes with more than {cut} dead", share, k / n,
                         wilson(k, n), "mid_fatal_band_shares.csv, GML 1992-2010"))
    for kind in SETTLE_ALL:
        k, n = SETTLE_ALL[kind]
        a = TERRITORIAL_SHARE * _end_share(terr, kind) + (1 - TERRITORIAL_SHARE) * _end_share(plain, kind)
        out.append(Check(f"settlement: {kind} share, all disputes", a, k / n, wilson(k, n),
                         "mid_settlement_shares.csv, GML 1992-2010"))
    for kind in SETTLE_TERRITORIAL:
        k, n = SETTLE_TERRITORIAL[kind]
        out.append(Check(f"settlement: {kind} share, territorial disputes", _end_share(terr, kind), k / n,
                         wilson(k, n), "mid_settlement_shares.csv, GML 1992-2010"))
    return out


def _end_share(eps: Episodes, kind: str) -> float:
    """Share of episodes that end negotiated (talks' agreement or a ceasefire / local deal),
    imposed (a territory changes hands) or with no settlement (neither)."""
    negotiated = eps.agreement | eps.deal
    imposed = eps.seized & ~negotiated
    return float({"negotiated": negotiated, "imposed": imposed, "no-settlement": ~negotiated & ~imposed}[kind].mean())


def time_scale(plain: Episodes) -> dict[str, float]:
    """How clashes sit in months: of the months whose peak was a clash (rung 3 or 4), the
    share that started and ended below that peak (a spike within the month), and the
    months that hit the cap on moves."""
    return {
        "clash_months": float(plain.clash_months),
        "spike_share": plain.spike_months / max(plain.clash_months, 1),
        "busy_months": float(plain.busy_months),
    }


def main() -> None:  # pragma: no cover - prints the table for docs/CALIBRATION.md
    plain = episodes(runs=40_000, seed=2)
    terr = episodes(runs=40_000, seed=3, territorial=True)
    print("| statistic | model | data | data 95% interval | inside | source |")
    print("|---|---|---|---|---|---|")
    for c in checks_of(plain, terr):
        iv = f"{c.interval[0]:.3f}-{c.interval[1]:.3f}" if c.interval else "-"
        ins = {True: "yes", False: "no", None: "-"}[c.inside]
        print(f"| {c.name} | {c.model:.3f} | {c.data:.3f} | {iv} | {ins} | {c.source} |")
    print("episodes without stakes:", {k: round(plain.share(k), 4) for k in ("fatal", "over25", "war")},
          "territorial:", {k: round(terr.share(k), 4) for k in ("fatal", "over25", "war", "offensive")},
          "targets:", {k: round(v, 4) for k, v in TARGETS.items()})
    print("time scale:", time_scale(plain), "censored:", plain.censored, terr.censored)


if __name__ == "__main__":  # pragma: no cover
    main()
