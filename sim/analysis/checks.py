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
* wars by stakes: the share of episodes reaching war without stakes and over territory,
  against the dyad-year panel's war shares of 1990-2002 onsets by ``onset_terr``
  (:func:`war_by_stakes`; dyad level, so multilateral disputes inflate them: see
  :data:`PANEL_WARS_CHECK`).

The in-sample fit is reported alongside (``fitted`` rows). Each check reports the model's value, the data's, and the data's Wilson 95% interval
where it is a proportion; ``python -m sim.analysis.checks`` prints the table that
docs/CALIBRATION.md quotes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .calibrate import COUNTS, TARGETS, TERRITORIAL_SHARE, Episodes, episodes
from .panel import Panel, read_panel


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


@dataclass(frozen=True)
class WarsByStakes:
    """A panel's onsets in some years and how many reached war, by stakes, at the dyad level:
    ``(wars, onsets)`` among dyad-years with ``onset`` 1, split by ``onset_terr`` (0: no
    onset dispute known territorial, 1: one is, ``unknown``: the cell is empty)."""

    years: tuple[int, int]
    plain: tuple[int, int]
    territorial: tuple[int, int]
    unknown: tuple[int, int]

    @property
    def mixed(self) -> tuple[int, int]:
        """Onsets of known stakes, territorial or not (in the panel's own mix)."""
        return (self.plain[0] + self.territorial[0], self.plain[1] + self.territorial[1])

    @property
    def all(self) -> tuple[int, int]:
        """Every onset, unknown stakes included."""
        return (self.mixed[0] + self.unknown[0], self.mixed[1] + self.unknown[1])

    def share(self, kind: str) -> float:
        """War share of ``plain``, ``territorial``, ``unknown``, ``mixed`` or ``all`` onsets."""
        k, n = getattr(self, kind)
        return k / n if n else math.nan

    def interval(self, kind: str) -> tuple[float, float]:
        """Wilson 95% interval of :meth:`share`."""
        return wilson(*getattr(self, kind))


def war_by_stakes(panel: Panel | str | Path, years: str | tuple[int, int]) -> WarsByStakes:
    """Of a panel's dyad-years with a dispute onset in ``years`` (``"A-B"``), how many had
    an onset dispute reaching war (``onset_war``), by whether one was territorial
    (``onset_terr``). ``panel`` is a read :class:`~sim.analysis.panel.Panel` or the path of
    a panel CSV (read and checked with :func:`~sim.analysis.panel.read_panel`).

    Dyad level, as the panel is (shared/data/SOURCES.md): a multilateral dispute counts once
    for every pair of states on opposite sides (caveat 2; see :data:`PANEL_WARS_CHECK`), and
    a dyad-year with two onset disputes is territorial and a war if either is. Raises
    InputError naming the file when a column it needs is missing.
    """
    if not isinstance(panel, Panel):
        panel = read_panel(panel)
    need = ("onset", "onset_war", "onset_terr")
    missing = [c for c in need if c not in panel.outcomes]
    if missing:
        from ..scenario.errors import InputError, Mark, Problem

        raise InputError([Problem(Mark(panel.path, 1, 1), c, "no such outcome column in the panel; war shares by "
                                  "stakes need onset, onset_war and onset_terr: use a panel that codes them")
                          for c in missing])
    f = panel.select(years).frame
    onset = f["onset"].to_numpy() == 1
    war = f["onset_war"].to_numpy() == 1
    terr = f["onset_terr"].to_numpy(dtype=float)

    def count(rows: np.ndarray) -> tuple[int, int]:
        return (int((rows & war).sum()), int(rows.sum()))

    lo, hi = int(f["year"].min()), int(f["year"].max())
    return WarsByStakes((lo, hi), plain=count(onset & (terr == 0)), territorial=count(onset & (terr == 1)),
                        unknown=count(onset & np.isnan(terr)))


FIT_YEARS, CHECK_YEARS = "1946-1989", "1990-2002"
"""The windows of the panel's war shares by stakes (issue 22): fitted on the first, checked on the second."""
PANEL_WARS_FIT = WarsByStakes((1946, 1989), plain=(31, 704), territorial=(41, 325), unknown=(0, 56))
PANEL_WARS_CHECK = WarsByStakes((1990, 2002), plain=(19, 292), territorial=(19, 136), unknown=(0, 18))
"""``war_by_stakes("dyad_years_1946_2002.csv", FIT_YEARS)`` and ``(..., CHECK_YEARS)`` on the
shared panel (shared/data/dyad_years_1946_2002.csv, SHA-256 bec3c322...), kept here so the
checks need no file outside the repository; tests/test_checks_wars.py recomputes them when
the panel is found. Of the 38 war onsets of 1990-2002, the 19 territorial ones are 17 dyads of
the Gulf war (Iraq or Jordan against a coalition state), India-Pakistan 1993 and
Ethiopia-Eritrea 1998; the 19 others are Iraq's later disputes with the US, UK, France,
Germany and its neighbours (1997-2002), Afghanistan 2001 (8 dyads) and the DRC 1998 (2)."""


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
    src = (f"dyad_years_1946_2002.csv, onsets of {CHECK_YEARS} with onset_terr {{}}, dyad level "
           "(multilateral disputes inflate it)")
    for label, kind, eps, code in (("without stakes", "plain", plain, 0), ("territorial", "territorial", terr, 1)):
        k, n = getattr(PANEL_WARS_CHECK, kind)
        out.append(Check(f"war: share of episodes reaching war, {label}", eps.share("war"), k / n, wilson(k, n),
                         src.format(code)))
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
    print()
    print("| dyad-year panel, onsets | years | wars / onsets | share | 95% interval |")
    print("|---|---|---|---|---|")
    for w in (PANEL_WARS_FIT, PANEL_WARS_CHECK):
        for kind, label in (("plain", "without stakes (onset_terr 0)"), ("territorial", "territorial (onset_terr 1)"),
                            ("mixed", "both (stakes known)"), ("unknown", "stakes unknown"), ("all", "all")):
            (k, n), (a, b) = getattr(w, kind), w.interval(kind)
            print(f"| {label} | {w.years[0]}-{w.years[1]} | {k} / {n} | {w.share(kind):.3f} | {a:.3f}-{b:.3f} |")


if __name__ == "__main__":  # pragma: no cover
    main()
