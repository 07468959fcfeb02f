"""Matplotlib figures of a run, titled in plain words, readable on screen and in print."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

if TYPE_CHECKING:
    from ..results import Results

RUNG_COLOURS = ["#e8eef4", "#c6dbef", "#fdd49e", "#fc8d59", "#d7301f", "#7f0000"]
RUNG_NAMES = ["0 calm", "1 tension", "2 display/blockade", "3 fatal clash", "4 major clash", "5 war"]
STYLE = {
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "savefig.dpi": 150,
    "figure.dpi": 100,
}


def _wrap(text: str, width: int = 46) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def _save(fig, path: Path) -> Path:
    from ..results import atomic_write

    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, bbox_inches="tight", facecolor="white")
    plt.close(fig)
    atomic_write(path, tmp.read_bytes())
    tmp.unlink()
    return path


def outcome_probabilities(res: Results, path: Path) -> Path:
    """Horizontal bars: each outcome's probability with its 95% interval."""
    rows = res.outcome_rows()
    rows = sorted(rows, key=lambda r: r["probability"])
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(8.5, 0.45 * len(rows) + 1.6))
        y = np.arange(len(rows))
        p = np.array([r["probability"] for r in rows])
        lo = np.array([r["ci95"][0] for r in rows])
        hi = np.array([r["ci95"][1] for r in rows])
        ax.barh(y, p * 100, color="#3a6ea5", height=0.6)
        err = np.clip([(p - lo) * 100, (hi - p) * 100], 0, None)
        ax.errorbar(p * 100, y, xerr=err, fmt="none", ecolor="black", capsize=3, lw=1)
        for yi, pi, hii in zip(y, p, hi, strict=True):
            ax.text(hii * 100 + 1, yi, f"{pi * 100:.1f}%", va="center", fontsize=9)
        ax.set_yticks(y, [_wrap(r["description"]) for r in rows], fontsize=9)
        ax.set_xlim(0, min(100, max(10.0, hi.max() * 100 * 1.25 + 5)))
        ax.set_xlabel(f"Probability within {res.horizon} months (%), with 95% interval")
        ax.set_title(f"How likely is each outcome? ({res.runs:,} runs)", loc="left")
        ax.grid(axis="x", alpha=0.3)
        return _save(fig, path)


def cumulative_incidence(res: Results, path: Path) -> Path:
    """Cumulative probability that each outcome has happened, month by month."""
    df = res.cumulative()
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(8.5, 4.6))
        months = df["month"].to_numpy()
        order = sorted(res.outcomes, key=lambda o: -df[o.name].iloc[-1])
        for o in order[:10]:
            ax.plot(months, df[o.name] * 100, lw=1.8, label=_wrap(o.description, 40))
        ticks = months[:: max(1, len(months) // 8)]
        ax.set_xticks(ticks, [res.date(int(m)) for m in ticks], rotation=30, ha="right")
        ax.set_ylabel("Has happened by then (%)")
        ax.set_title("When do outcomes happen? Cumulative probability over time", loc="left")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
        return _save(fig, path)


def escalation_rungs(res: Results, path: Path) -> Path | None:
    """Share of runs on each escalation rung over time, one panel per flashpoint."""
    fps = res.names["flashpoints"]
    if not fps:
        return None
    counts = res.series["level_counts"] / max(res.runs, 1)
    months = np.arange(1, res.horizon + 1)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(len(fps), 1, figsize=(8.5, 2.6 * len(fps) + 0.6), squeeze=False, sharex=True)
        for j, f in enumerate(fps):
            ax = axes[j, 0]
            ax.stackplot(months, (counts[:, j, :] * 100).T, colors=RUNG_COLOURS, labels=RUNG_NAMES, edgecolor="none")
            ax.set_ylim(0, 100)
            ax.set_xlim(1, res.horizon)
            ax.set_ylabel("% of runs")
            ax.set_title(f"{res.labels.get(f, f)}: escalation rung over time", loc="left", fontsize=11)
        ticks = months[:: max(1, len(months) // 8)]
        axes[-1, 0].set_xticks(ticks, [res.date(int(m)) for m in ticks], rotation=30, ha="right")
        axes[0, 0].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, reverse=True)
        return _save(fig, path)


def write_figures(res: Results, folder: Path) -> dict[str, Path]:
    """All figures of a run, written into ``folder``; returns name -> path."""
    out: dict[str, Path] = {}
    out["outcomes"] = outcome_probabilities(res, folder / "fig_outcomes.png")
    out["cumulative"] = cumulative_incidence(res, folder / "fig_cumulative.png")
    p = escalation_rungs(res, folder / "fig_escalation.png")
    if p:
        out["escalation"] = p
    return out
