"""Starting arms-import shares from SIPRI's deliveries, weighed as the procurement rule's memory weighs them.

The procurement rule (docs/MODEL.md D2) keeps, for buyer i and supplier k,
``flow[i,k] <- (1 - 1/T) flow[i,k] + delivered[i,k] / T`` once a month and reads the
import share as ``flow[i,k] / (sum of flows)``: an exponential memory of mean age about
T months. A share that *starts where that memory says* is the share the same recursion
would hold in July 2023 had it run on the deliveries recorded before then. With each
year's SIPRI trend-indicator value (TIV) spread evenly over its twelve months, the
delivery of month m enters with weight

    w(m) = (1 - 1/T) ** (M - m) / T          M = June 2023, the last month before the start

so supplier k's starting share is ``sum_m w(m) tiv_k(m) / sum_m w(m) tiv(m)`` over all
suppliers (those a scenario does not model are its imports "from suppliers not
modelled"). Deliveries are those of 2010-2022 (``data/sipri_tiv_annual_by_supplier_2010_2022.csv``,
the project's shared table; 2022 is the last year SIPRI had published by July 2023): the
months January-June 2023, with nothing recorded, scale every flow alike and leave the
shares as they are; deliveries before 2010 would weigh at most (1 - 1/T)**162 each
(1.0% of a June 2023 delivery at T = 36).

How noisy a share is: a Bayesian bootstrap over the recipient's delivery records (one
record = one supplier's deliveries in one year; Dirichlet(1, ..., 1) weights; Rubin
1981), with the same memory weights. A share is too noisy to place on one side of a
threshold when the threshold lies inside the bootstrap's 90% interval; a scenario then
declares it as a Beta distribution with the bootstrap's mean and standard deviation
(:func:`start_share`).

    python -m sim.evidence.arms_imports [--memory 36]   # the figures the shipped scenarios use

Information from the SIPRI Arms Transfers Database (https://www.sipri.org/databases/armstransfers):
the table is derived from a trade-register export generated on 3 January 2025 (see
docs/CALIBRATION.md, ``sipri-tiv-memory-36``); the derivation is this project's, not SIPRI's.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "data" / "sipri_tiv_annual_by_supplier_2010_2022.csv"
"""SIPRI deliveries by recipient, year and supplier (TIV, millions), 2010-2022."""
FIRST_YEAR, LAST_YEAR = 2010, 2022
START = (2023, 7)
"""The shipped scenarios' first month: the state is the one after June 2023's update."""
MEMORY = 36
"""The procurement rule's default share memory T, months (``share_memory_months``)."""
DRAWS = 20_000
"""Bootstrap draws (quantiles to about +-0.005)."""
SEED = 20230701
LEVEL = 0.90
"""The bootstrap interval a threshold must lie outside for a share to stay a point."""

SUPPLIERS = {"Russia": "russia_arms", "Turkiye": "turkey_arms", "Israel": "israel_arms",
             "India": "india_arms", "China": "china_arms", "Pakistan": "pakistan_arms"}
"""SIPRI supplier names -> the shipped world's suppliers (scenarios/base.yaml)."""
RECIPIENTS = {"armenia": "Armenia", "azerbaijan": "Azerbaijan", "kyrgyzstan": "Kyrgyzstan",
              "tajikistan": "Tajikistan", "kazakhstan": "Kazakhstan", "uzbekistan": "Uzbekistan",
              "india": "India", "pakistan": "Pakistan"}
"""The shipped world's buyers -> SIPRI recipient names."""


@dataclass(frozen=True)
class Delivery:
    """One supplier's deliveries to one recipient in one year (a record of the table)."""

    recipient: str
    year: int
    supplier: str
    tiv: float


@lru_cache(maxsize=4)
def read_deliveries(path: Path = DATA) -> tuple[Delivery, ...]:
    """The table's records with a delivery (rows ``NONE``, a year without one, are left out)."""
    out = []
    with open(path, encoding="utf-8", newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh), start=2):
            try:
                d = Delivery(row["recipient"], int(row["year"]), row["supplier"], float(row["tiv_millions"]))
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{path}:{i}: expected recipient,year,supplier,tiv_millions ({exc})") from None
            if d.supplier != "NONE" and d.tiv > 0:
                out.append(d)
    return tuple(out)


def _month(year: int, month: int) -> int:
    return 12 * year + month - 1


def memory_weight(year: int, memory_months: float = MEMORY, start: tuple[int, int] = START) -> float:
    """Weight of one unit of a year's deliveries (spread over its months) in the flows at ``start``.

    The sum over the year's twelve months of ``(1 - 1/T) ** (M - m) / (12 T)``, M the month
    before ``start``: what the recursion of D2 leaves of it by then.
    """
    T = float(memory_months)
    d = 1.0 - 1.0 / T
    last = _month(*start) - 1
    ages = np.arange(last - _month(year, 12), last - _month(year, 1) + 1, dtype=float)
    return float((d ** ages).sum() / (12.0 * T))


def records(recipient: str, path: Path = DATA) -> list[Delivery]:
    """A recipient's delivery records (SIPRI's spelling: ``Kyrgyzstan``)."""
    out = [d for d in read_deliveries(path) if d.recipient == recipient]
    if not out:
        names = sorted({d.recipient for d in read_deliveries(path)})
        raise KeyError(f"no deliveries to {recipient!r} in {path.name}; recipients: {', '.join(names)}")
    return out


def memory_flows(recipient: str, memory_months: float = MEMORY, path: Path = DATA) -> dict[str, float]:
    """Each supplier's flow at the start (TIV, in the rule's units: a month's worth)."""
    flows: dict[str, float] = {}
    for d in records(recipient, path):
        flows[d.supplier] = flows.get(d.supplier, 0.0) + d.tiv * memory_weight(d.year, memory_months)
    return flows


def memory_shares(recipient: str, memory_months: float = MEMORY, path: Path = DATA) -> dict[str, float]:
    """Each supplier's starting share of the recipient's imports, largest first."""
    flows = memory_flows(recipient, memory_months, path)
    total = sum(flows.values())
    return dict(sorted(((k, v / total) for k, v in flows.items()), key=lambda kv: (-kv[1], kv[0])))


def bootstrap_shares(recipient: str, memory_months: float = MEMORY, draws: int = DRAWS, seed: int = SEED,
                     path: Path = DATA) -> dict[str, np.ndarray]:
    """Each supplier's share under a Bayesian bootstrap of the recipient's delivery records."""
    recs = records(recipient, path)
    x = np.array([d.tiv * memory_weight(d.year, memory_months) for d in recs])
    g = np.random.default_rng(seed).exponential(size=(draws, len(recs)))  # Dirichlet(1..1) up to a scale
    wx = g * x
    total = wx.sum(axis=1)
    sups = sorted({d.supplier for d in recs})
    return {s: wx[:, [d.supplier == s for d in recs]].sum(axis=1) / total for s in sups}


@dataclass(frozen=True)
class StartShare:
    """A supplier's starting share of a buyer's imports and how noisy it is.

    Attributes:
        share: The point share (:func:`memory_shares`).
        mean, sd: The bootstrap's mean and standard deviation.
        low, high: The bootstrap's 90% interval.
        beta: ``(a, b)`` of the Beta distribution with the bootstrap's mean and sd.
    """

    recipient: str
    supplier: str
    memory_months: float
    share: float
    mean: float
    sd: float
    low: float
    high: float
    beta: tuple[float, float]

    def straddles(self, threshold: float) -> bool:
        """True when the data cannot say which side of ``threshold`` the share is on."""
        return self.low < threshold < self.high


def beta_of(mean: float, sd: float) -> tuple[float, float]:
    """Beta ``(a, b)`` with this mean and standard deviation (the spread is capped where a
    Beta with that mean cannot reach it)."""
    var = min(sd * sd, 0.99 * mean * (1 - mean))
    k = mean * (1 - mean) / var - 1
    return mean * k, (1 - mean) * k


def start_share(recipient: str, supplier: str, memory_months: float = MEMORY, path: Path = DATA) -> StartShare:
    """The starting share of ``supplier`` (SIPRI name) in ``recipient``'s imports, with its noise."""
    share = memory_shares(recipient, memory_months, path).get(supplier, 0.0)
    boot = bootstrap_shares(recipient, memory_months, path=path).get(supplier)
    if boot is None:
        return StartShare(recipient, supplier, memory_months, 0.0, 0.0, 0.0, 0.0, 0.0, (math.nan, math.nan))
    lo, hi = (float(q) for q in np.quantile(boot, [(1 - LEVEL) / 2, (1 + LEVEL) / 2]))
    mean, sd = float(boot.mean()), float(boot.std())
    return StartShare(recipient, supplier, memory_months, share, mean, sd, lo, hi, beta_of(mean, sd))


# ------------------------------------------------------------------------- the figures


@dataclass(frozen=True)
class Declared:
    """What a scenario declares for one buyer's share of one supplier.

    Attributes:
        value: The share (a point), or the mean of a drawn share.
        beta: ``(a, b)`` when the share is drawn, else None.
        role: ``point``, ``drawn`` (from the Beta) or ``rest`` (takes up the rest of the
            buyer's modelled total in each run: docs/MODEL.md D2, "Start").
        start: The supplier's :class:`StartShare`.
        straddled: Thresholds of the buyer's shares that the data cannot place it on one
            side of (empty for a point).
    """

    supplier: str
    value: float
    role: str
    start: StartShare
    beta: tuple[float, float] | None = None
    straddled: tuple[tuple[str, float], ...] = ()


def declared_shares(state: str, memory_months: float = MEMORY,
                    thresholds: dict[tuple[str, str], list[float]] | None = None) -> dict[str, Declared]:
    """The starting shares a scenario declares for shipped buyer ``state``, by supplier key.

    Every modelled supplier's share is its point share (rounded to 4 decimals) unless a
    threshold in ``thresholds`` (default: the shipped scenarios') lies inside the 90%
    bootstrap interval of one of the buyer's shares. Then the smaller of its two largest
    modelled shares is drawn from a Beta with the bootstrap's mean and standard deviation
    (a Beta describes a share near 0 well), and the larger takes up the rest of the modelled
    total in each run; it is declared at its mean, the total less the Beta's mean (rounded
    down, so the declared shares never add up to more than the data's).
    """
    recipient = RECIPIENTS[state]
    thresholds = shipped_thresholds() if thresholds is None else thresholds
    shares = memory_shares(recipient, memory_months)
    starts = {key: start_share(recipient, sipri, memory_months) for sipri, key in SUPPLIERS.items() if sipri in shares}
    out = {k: Declared(k, round(s.share, 4), "point", s) for k, s in starts.items()}
    straddled = tuple((k, t) for k, s in starts.items() for t in thresholds.get((state, k), []) if s.straddles(t))
    if not straddled:
        return out
    big, small = sorted(starts, key=lambda k: -starts[k].share)[:2]
    s = starts[small]
    a, b = (round(x, 3) for x in s.beta)
    mean = a / (a + b)
    total = starts[big].share + starts[small].share
    out[small] = Declared(small, mean, "drawn", s, (a, b), straddled)
    out[big] = Declared(big, math.floor((total - mean) * 1e4) / 1e4, "rest", starts[big], None, straddled)
    return out


def shipped_thresholds(folder: Path | None = None) -> dict[tuple[str, str], list[float]]:
    """``(state, supplier) -> thresholds`` of the shipped scenarios' ``supplier_share`` outcomes."""
    import yaml

    from ..paths import scenarios_dir

    out: dict[tuple[str, str], list[float]] = {}
    for f in sorted((folder or scenarios_dir()).glob("*.yaml")):
        tree = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
        for o in (tree.get("outcomes") or {}).values():
            if isinstance(o, dict) and o.get("kind") == "supplier_share":
                x = o.get("above", o.get("below"))
                key = (o["state"], o["supplier"])
                if x not in out.setdefault(key, []):
                    out[key].append(float(x))
    return out


def _shown(sipri_name: str) -> str:
    return {"Turkiye": "Türkiye"}.get(sipri_name, sipri_name)


def note(d: Declared, state: str) -> str:
    """The calibration note a scenario gives this share (``sipri-tiv-memory-36: ...``)."""
    s = d.start
    head = (f"sipri-tiv-memory-{s.memory_months:g}: {s.recipient}, {_shown(s.supplier)} {100 * s.share:.1f}% of "
            f"memory-weighted TIV 2010-2022")
    if d.role == "point":
        return head
    names = {v: k for k, v in SUPPLIERS.items()}
    why = ", ".join(dict.fromkeys(f"{_shown(names[k])} {t:g}" for k, t in d.straddled))
    if d.role == "drawn":
        return (f"{head}; too few deliveries to say which side of a threshold it is on ({why}): a Bayesian bootstrap "
                f"of the delivery records gives 90% between {100 * s.low:.0f}% and {100 * s.high:.0f}%, drawn "
                f"as Beta({d.beta[0]:g}, {d.beta[1]:g}), the bootstrap's mean {100 * s.mean:.1f}% and sd "
                f"{100 * s.sd:.1f} points")
    return (f"{head}; in each run the rest of the drawn share of the other supplier (declared at its mean; "
            f"bootstrap 90% between {100 * s.low:.0f}% and {100 * s.high:.0f}%)")


def main(argv: list[str] | None = None) -> int:
    """Print the starting shares of the shipped buyers (the lines their scenarios declare)."""
    ap = argparse.ArgumentParser(prog="python -m sim.evidence.arms_imports",
                                 description="Starting arms-import shares weighed by the procurement rule's memory.")
    ap.add_argument("--memory", type=float, default=MEMORY, help="the share memory T in months (default 36)")
    args = ap.parse_args(argv)
    if not 1 <= args.memory <= 240:
        print("error: --memory must be between 1 and 240 months (share_memory_months)", file=sys.stderr)
        return 2
    print(f"# SIPRI deliveries {FIRST_YEAR}-{LAST_YEAR}, memory T = {args.memory:g} months, start "
          f"{START[0]}-{START[1]:02d}; bootstrap {DRAWS:,} draws, seed {SEED}, {LEVEL:.0%} intervals")
    thresholds = shipped_thresholds()
    for state, recipient in RECIPIENTS.items():
        shares = memory_shares(recipient, args.memory)
        rest = {k: v for k, v in shares.items() if k not in SUPPLIERS and v >= 0.0005}
        print(f"{state}:  # not modelled {100 * (1 - sum(v for k, v in shares.items() if k in SUPPLIERS)):.1f}%"
              + (f" ({', '.join(f'{k} {100 * v:.1f}%' for k, v in rest.items())})" if rest else ""))
        for k, d in declared_shares(state, args.memory, thresholds).items():
            value = f"{{beta: [{d.beta[0]:g}, {d.beta[1]:g}]}}" if d.beta else f"{d.value:.4f}"
            th = thresholds.get((state, k), [])
            print(f"  {k}: {{value: {value}, source: {{calibration: \"{note(d, state)}\"}}}}"
                  + (f"  # thresholds {', '.join(f'{t:g}' for t in th)}" if th else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
