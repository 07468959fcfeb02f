"""Figures of a story and of a game: the timeline, and the forecast turn by turn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..report.figures import RUNG_COLOURS, RUNG_NAMES, STYLE, _save, _wrap

MARKED = {
    "escalation.war": ("war", "#7f0000"),
    "escalation.transfer": ("territory changes hands", "#7f0000"),
    "escalation.settlement": ("settlement", "#1a6b2f"),
    "membership.freeze": ("freeze", "#8a5a00"),
    "membership.exit": ("exit", "#8a5a00"),
    "membership.reengage": ("re-engages", "#1f4e8c"),
    "membership.accession": ("joins", "#1f4e8c"),
    "alliance.refusal": ("refusal", "#b00020"),
    "alliance.response": ("alliance responds", "#1f4e8c"),
    "policy.pulled": ("policy", "#555555"),
    "move": ("move", "#1b1b1b"),
    "inject": ("inject", "#6a1b9a"),
}
"""Events marked on the timeline, with a short label and colour."""


def timeline(story: Any, path: Path, *, title: str | None = None) -> Path:
    """Rungs of every flashpoint and members' trust month by month, key events marked."""
    import matplotlib.pyplot as plt

    level = story.track.series("level")  # (T+1, F)
    trust = story.track.series("trust")  # (T+1, S, A)
    T = level.shape[0] - 1
    x = np.arange(T + 1)
    labels = story.labels
    with plt.rc_context(STYLE):
        fig, (ax, ax2) = plt.subplots(2, 1, figsize=(10, 5.6), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
        for k in range(6):
            ax.axhspan(k - 0.5, k + 0.5, color=RUNG_COLOURS[k], alpha=0.35, lw=0)
        F = level.shape[1] if level.ndim == 2 else 0
        offsets = np.linspace(-0.12, 0.12, F) if F > 1 else [0.0]
        for f in range(F):
            ax.step(x, level[:, f] + offsets[f], where="post", lw=2, label=_wrap(labels["flashpoints"][f], 34))
        ax.set_yticks(range(6), RUNG_NAMES)
        ax.set_ylim(-0.5, 5.5)
        ax.set_ylabel("")
        ax.set_title(_wrap(title or f"{story.title}: month by month", 90))
        seen: set[str] = set()
        for r in story.records:
            mark = MARKED.get(r["event"])
            if mark is None:
                continue
            lab, colour = mark
            # rule events in the middle of their month; moves and injects at its start
            t = r["elapsed"] - 0.5 if r["event"] not in ("move", "inject") else r["elapsed"] - 1 + 0.06
            ax.axvline(t, color=colour, lw=0.8, ls=":" if r["event"] not in ("move", "inject") else "-", alpha=0.8)
            ax2.axvline(t, color=colour, lw=0.8, ls=":" if r["event"] not in ("move", "inject") else "-", alpha=0.8)
            if lab not in seen:
                seen.add(lab)
                ax.plot([], [], color=colour, ls=":" if r["event"] not in ("move", "inject") else "-", label=lab)
        if seen or F:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
        for s, a in labels.get("pairs", []):
            ax2.plot(x, trust[:, s, a], lw=1.8, label=f"{labels['states'][s]}'s trust in {labels['alliances'][a]}")
        ax2.set_ylim(0, 1)
        ax2.set_ylabel("trust (0-1)")
        if labels.get("pairs"):
            ax2.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
        ticks = list(range(0, T + 1, 6))
        ax2.set_xticks(ticks, [story.date(t + 1) for t in ticks], fontsize=8)
        ax2.set_xlabel("month (ticks mark the start of the month)")
        ax2.set_xlim(0, max(T, 1))
        return _save(fig, Path(path))


def forecast_chart(turns: list[dict[str, Any]], outcomes: list[dict[str, Any]], baseline: dict[str, Any] | None,
                   path: Path, *, top: int = 6, ticks: list[str] | None = None) -> Path:
    """The forecast after each turn (probability to the horizon, 95% band) for the
    outcomes whose forecast moved most while they were still open (a jump to certainty
    when one happens is not movement), with the no-player baseline as a dashed line.
    ``ticks`` label the turns (default: turn number and month)."""
    import matplotlib.pyplot as plt

    names = [o["name"] for o in outcomes]
    series = {n: np.array([t["outcomes"][n]["p"] for t in turns]) for n in names}

    def moved(v: np.ndarray) -> float:
        open_ = v[: int(np.argmax(v >= 1.0))] if (v >= 1.0).any() else v
        return float(np.ptp(open_)) if open_.size else 0.0

    spread = {n: moved(v) + 1e-6 * v.mean() for n, v in series.items()}
    chosen = sorted(names, key=lambda n: -spread[n])[:top]
    xs = [t["turn"] for t in turns]
    desc = {o["name"]: o["description"] for o in outcomes}
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(10, 4.8))
        for n in chosen:
            lo = np.array([t["outcomes"][n]["lo"] for t in turns])
            hi = np.array([t["outcomes"][n]["hi"] for t in turns])
            (line,) = ax.plot(xs, 100 * series[n], marker="o", lw=2, label=_wrap(desc[n], 60))
            ax.fill_between(xs, 100 * lo, 100 * hi, color=line.get_color(), alpha=0.15, lw=0)
            if baseline and n in baseline["outcomes"]:
                ax.axhline(100 * baseline["outcomes"][n]["p"], color=line.get_color(), ls="--", lw=1, alpha=0.8)
        ax.set_xticks(xs, ticks or [f"{t['turn']}\n{t['month']}" for t in turns], fontsize=8)
        ax.set_xlabel("after turn (0: before any move), with the last month it played")
        ax.set_ylabel("probability by the horizon (%)")
        ax.set_ylim(0, 100)
        ax.set_title("Forecast after each turn (dashed: the scenario's own Monte Carlo, nobody playing)")
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
        return _save(fig, Path(path))
