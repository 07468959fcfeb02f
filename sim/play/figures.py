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


def rungs(story: Any) -> tuple[np.ndarray, bool]:
    """The rungs a timeline draws, (frames, flashpoints), and whether they are each month's
    highest (True: a clash that flared and subsided within a month shows) or, for a story
    saved before the peak was followed, the rung at each month's end (False)."""
    frames = story.track.frames
    peaks = len(frames.get("peak", [])) == len(frames.get("level", [])) and len(frames.get("peak", [])) > 0
    return story.track.series("peak" if peaks else "level"), peaks


def timeline(story: Any, path: Path, *, title: str | None = None) -> Path:
    """Each month's highest rung at every flashpoint (a clash that flared and subsided within
    the month shows) and members' trust month by month, key events marked."""
    import matplotlib.pyplot as plt

    level, peaks = rungs(story)
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
            # a month's peak spans the month (x from t-1 to t); the rung at a month's end starts the next
            ax.step(x, level[:, f] + offsets[f], where="pre" if peaks else "post", lw=2,
                    label=_wrap(labels["flashpoints"][f], 34))
        ax.set_yticks(range(6), RUNG_NAMES)
        ax.set_ylim(-0.5, 5.5)
        ax.set_ylabel("each month's highest rung" if peaks else "rung at the month's end", fontsize=8)
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
                   path: Path, *, top: int = 6, ticks: list[str] | None = None,
                   happened: dict[str, int] | None = None, finished: bool = False) -> Path:
    """The forecast after each turn (probability to the horizon, 95% band) for the
    outcomes whose forecast moved most while they were still open (a jump to certainty
    when one happens is not movement), with the no-player baseline as a dashed line.
    ``ticks`` label the turns (default: turn number and month). An outcome that happened
    (``happened``: the turn after which it had) ends in a star at 100%; when the game is
    over (``finished``) an outcome that did not happen ends in a cross at 0 (it can no
    longer happen) rather than a line falling to 0 as the time runs out."""
    import matplotlib.pyplot as plt

    happened = happened or {}
    names = [o["name"] for o in outcomes]
    series = {n: np.array([t["outcomes"][n]["p"] for t in turns]) for n in names}

    def moved(n: str, v: np.ndarray) -> float:
        end = happened.get(n, len(v) - (1 if finished else 0))
        open_ = v[:end]
        return float(np.ptp(open_)) if open_.size else 0.0

    spread = {n: moved(n, v) + 1e-6 * v.mean() for n, v in series.items()}
    chosen = sorted(names, key=lambda n: -spread[n])[:top]
    xs = np.array([t["turn"] for t in turns])
    desc = {o["name"]: o["description"] for o in outcomes}
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(10, 4.8))
        for n in chosen:
            lo = np.array([t["outcomes"][n]["lo"] for t in turns])
            hi = np.array([t["outcomes"][n]["hi"] for t in turns])
            end = happened.get(n)
            keep = len(turns) if end is not None else len(turns) - (1 if finished and len(turns) > 1 else 0)
            keep = min(keep, (end + 1) if end is not None else keep)
            (line,) = ax.plot(xs[:keep], 100 * series[n][:keep], marker="o", lw=2, label=_wrap(desc[n], 60))
            ax.fill_between(xs[:keep], 100 * lo[:keep], 100 * hi[:keep], color=line.get_color(), alpha=0.15, lw=0)
            if end is not None:
                ax.plot([xs[end]], [100], marker="*", ms=14, color=line.get_color(), ls="none")
            elif finished and len(turns) > 1:
                ax.plot([xs[-1]], [0], marker="X", ms=10, color=line.get_color(), ls="none")
            if baseline and n in baseline["outcomes"]:
                ax.axhline(100 * baseline["outcomes"][n]["p"], color=line.get_color(), ls="--", lw=1, alpha=0.8)
        ax.plot([], [], marker="*", ms=12, color="#555", ls="none", label="happened in the game")
        if finished:
            ax.plot([], [], marker="X", ms=9, color="#555", ls="none", label="did not happen (no time left)")
        ax.set_xticks(xs, ticks or [f"{t['turn']}\n{t['month']}" for t in turns], fontsize=8)
        ax.set_xlabel("after turn (0: before any move), with the last month it played")
        ax.set_ylabel("probability by the horizon (%)")
        ax.set_ylim(-3, 103)
        ax.set_title("Forecast after each turn (dashed: the scenario's own Monte Carlo with the deck, nobody playing)")
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
        return _save(fig, Path(path))
