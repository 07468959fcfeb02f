"""Matplotlib figures of a run, titled in plain words, readable on screen and in print.

Besides the outcome figures, a run's figures are the charts its state declarations name
(:func:`sim.parts.charts`): ``relations`` and ``casualties`` are drawn their own way
(:data:`DRAWN`); any other chart is drawn from what its states declare — the share of
runs at each level for a state recorded as counts (escalation rungs), else a line per
element (median and 10-90% band of the sampled runs where trajectories are kept, the
monthly mean otherwise), labelled with the state's label phrase.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from itertools import product
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
import numpy as np

from ..parts import Shows, charts
from . import canvas
from .canvas import save as _save
from .labels import RUNGS

if TYPE_CHECKING:
    from ..results import Results

RUNG_COLOURS = ["#e8eef4", "#c6dbef", "#fdd49e", "#fc8d59", "#d7301f", "#7f0000"]
"""Light to dark: the colours of levels 0-5 (a longer ladder takes a colour map)."""
RUNG_NAMES = [f"{i} {word}" for i, word in enumerate(RUNGS)]
"""The rungs as a figure's legend or axis names them ("2 display or blockade")."""
STYLE = {
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "savefig.dpi": 100,
    "figure.dpi": 100,
    "text.hinting": "no_hinting",  # a third of drawing a figure is hinting its glyphs; as legible without
    "axes.titley": 1.0,  # titles where they would go anyway, without measuring the axes each draw
}


def _wrap(text: str, width: int = 46) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def outcome_probabilities(res: Results, path: Path) -> Path:
    """Horizontal bars: each outcome's probability with its 95% interval."""
    rows = res.outcome_rows()
    rows = sorted(rows, key=lambda r: r["probability"])
    with matplotlib.rc_context(STYLE):
        fig, axes = canvas.panels(1, 1, 6.6, 0.35 * len(rows) + 1.25, left=4.6, right=1.2, top=0.55, bottom=0.9)
        ax = axes[0, 0]
        y = np.arange(len(rows))
        p = np.array([r["probability"] for r in rows])
        lo = np.array([r["ci95"][0] for r in rows])
        hi = np.array([r["ci95"][1] for r in rows])
        ax.barh(y, p * 100, color="#3a6ea5", height=0.6)
        err = np.clip([(p - lo) * 100, (hi - p) * 100], 0, None)
        ax.errorbar(p * 100, y, xerr=err, fmt="none", ecolor="black", capsize=3, lw=1,
                    label="95% interval (Monte Carlo)")
        across = ((res.uncertainty or {}).get("outcomes") or {}) if res.uncertainty else {}
        right = hi.copy()
        if across:  # sim run --uncertainty: the 10-90% range across plausible inputs, beside each bar
            labelled = False
            for yi, r in enumerate(rows):
                u = across.get(r["outcome"])
                if u is None:
                    continue
                ax.plot([100 * u["p10"], 100 * u["p90"]], [yi + 0.38, yi + 0.38], color="#e08214", lw=3,
                        solid_capstyle="butt", label=None if labelled else "10–90% across plausible inputs")
                labelled = True
                right[yi] = max(right[yi], u["p90"])
            ax.legend(loc="lower right", fontsize=8, frameon=False)
        for yi, pi, hii in zip(y, p, right, strict=True):
            ax.text(hii * 100 + 1, yi, f"{pi * 100:.1f}%", va="center", fontsize=9)
        ax.set_yticks(y, [_wrap(r["description"]) for r in rows], fontsize=9)
        ax.set_xlim(0, min(100, max(10.0, right.max() * 100 * 1.25 + 5)))
        ax.set_xlabel(f"Probability within {res.horizon} months (%), with 95% interval"
                      + (" and, in orange, the 10–90% range across plausible inputs" if across else ""))
        ax.set_title(f"How likely is each outcome? ({res.runs:,} runs)", loc="left")
        ax.grid(axis="x", alpha=0.3)
        return _save(fig, path)


def cumulative_incidence(res: Results, path: Path) -> Path:
    """Cumulative probability that each outcome has happened, month by month."""
    cum = dict(zip([o.name for o in res.outcomes], res.cumulative_shares(), strict=True))  # res.cumulative()'s columns
    with matplotlib.rc_context(STYLE):
        fig, axes = canvas.panels(1, 1, 6.6, 3.55, left=1.2, right=3.6, top=0.55, bottom=1.0)
        ax = axes[0, 0]
        months = np.arange(1, res.horizon + 1)
        order = sorted(res.outcomes, key=lambda o: -cum[o.name][-1])
        for o in order[:10]:
            ax.plot(months, cum[o.name] * 100, lw=1.8, label=_wrap(o.description, 40))
        ticks = months[:: max(1, len(months) // 8)]
        ax.set_xticks(ticks, [res.date(int(m)) for m in ticks], rotation=30, ha="right")
        ax.set_ylabel("Has happened by then (%)")
        ax.set_title("When do outcomes happen? Cumulative probability over time", loc="left")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
        return _save(fig, path)


def _names(res: Results, sh: Shows, element: tuple[int, ...]) -> list[str]:
    """Display names of the actors of one element of a state."""
    out = []
    for sect, i in zip(sh.sections, element, strict=True):
        key = res.names[sect][i]
        out.append(res.labels.get(key, key))
    return out


def _elements(res: Results, sh: Shows) -> list[tuple[int, ...]]:
    return list(product(*(range(len(res.names[sect])) for sect in sh.sections)))


def level_shares(res: Results, path: Path, shows: list[Shows]) -> Path | None:
    """Share of runs at each level over time, one panel per element (per flashpoint: the
    escalation rungs), for states recorded as counts over levels."""
    panels = []
    for sh in shows:
        if sh.record != "counts":
            continue
        counts = res.series[sh.series_name] / max(res.runs, 1)
        elements = _elements(res, sh)
        if len(elements) > 8:  # many: those that leave level 0 somewhere
            elements = [e for e in elements if counts[(slice(None), *e)][:, 1:].any()][:8]
        levels = list(res.names[sh.levels]) if isinstance(sh.levels, str) else list(sh.levels)
        names = [f"{i} {name}" for i, name in enumerate(levels)]
        for e in elements:
            panels.append((sh.describe(_names(res, sh, e)), counts[(slice(None), *e)], names))
    if not panels:
        return None
    months = np.arange(1, res.horizon + 1)
    with matplotlib.rc_context(STYLE):
        gap = max(canvas.title_height(f"{title} over time", 11) for title, _, _ in panels) + 0.18
        fig, axes = canvas.panels(len(panels), 1, 6.6, 2.0, left=1.2, right=3.2, top=gap + 0.05, bottom=1.0, hgap=gap,
                            sharex=True)
        for j, (title, c, names) in enumerate(panels):
            ax = axes[j, 0]
            L = c.shape[1]
            colours = RUNG_COLOURS if L <= len(RUNG_COLOURS) else matplotlib.colormaps["OrRd"](np.linspace(0.05, 1, L))
            ax.stackplot(months, (c * 100).T, colors=colours[:L], labels=names, edgecolor="none")
            ax.set_ylim(0, 100)
            ax.set_xlim(1, res.horizon)
            ax.set_ylabel("% of runs")
            ax.set_title(f"{title} over time", loc="left", fontsize=11)
        ticks = months[:: max(1, len(months) // 8)]
        axes[-1, 0].set_xticks(ticks, [res.date(int(m)) for m in ticks], rotation=30, ha="right")
        axes[0, 0].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, reverse=True)
        return _save(fig, path)


def state_lines(res: Results, path: Path, shows: list[Shows]) -> Path | None:
    """A panel per state of the chart, a line per element (the 8 largest at the horizon),
    labelled with the state's label phrase: median and 10-90% band of the sampled runs
    where trajectories are kept, else the monthly mean."""
    panels = chart_lines(res, shows)
    if not panels:
        return None
    months = np.arange(1, res.horizon + 1)
    colours = matplotlib.colormaps["tab10"].colors
    with matplotlib.rc_context(STYLE):
        gap = max(canvas.title_height(_wrap(title, 70), 11) for title, _ in panels) + 0.18
        fig, axes = canvas.panels(len(panels), 1, 4.9, 2.4, left=1.2, right=3.3, top=gap + 0.05, bottom=1.0, hgap=gap,
                            sharex=True)
        for ax, (title, lines) in zip(axes[:, 0], panels, strict=True):
            for i, (label, values) in enumerate(lines):
                if values.ndim == 2:
                    _band(ax, months, values, _wrap(label, 40), colours[i % 10])
                else:
                    ax.plot(months, values, color=colours[i % 10], lw=1.8, label=_wrap(label, 40))
            ax.set_title(_wrap(title, 70), loc="left", fontsize=11)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
        _date_ticks(axes[-1, 0], res, months)
        return _save(fig, path)


def chart_lines(res: Results, shows: list[Shows], most: int = 8) -> list[tuple[str, list[tuple[str, np.ndarray]]]]:
    """What :func:`state_lines` draws: per state ``(title, [(label, values)])``, values a
    (k, H) sample of trajectories or the (H,) monthly mean."""
    panels = []
    for sh in shows:
        traj = res.traj.get(sh.state)
        if sh.trajectories and traj is not None and traj.shape[0] >= 5:
            values = lambda e, traj=traj: traj[(slice(None), slice(None), *e)].astype(float)  # noqa: E731
            title = f"{sh.doc or sh.state}: median and 10-90% band of {traj.shape[0]} sampled runs"
        elif sh.record == "mean":
            mean = res.series[sh.series_name] / max(res.runs, 1)
            values = lambda e, mean=mean: mean[(slice(None), *e)]  # noqa: E731
            title = f"{sh.doc or sh.state}: mean over {res.runs:,} runs"
        else:
            continue
        lines = [(sh.describe(_names(res, sh, e)), values(e)) for e in _elements(res, sh)]
        lines = [x for x in lines if np.any(x[1])]
        lines.sort(key=lambda x: -abs(float(np.median(x[1][..., -1]))))
        if lines:
            panels.append((title, lines[:most]))
    return panels


DRAWN: dict[str, Callable[[Results, Path, list[Shows]], Path | None]] = {}
"""Charts drawn their own way (their selection of lines depends on the scenario's
structure), by name; every other declared chart is drawn from its declarations."""


def write_figures(res: Results, folder: Path) -> dict[str, Path]:
    """All figures of a run, written into ``folder``; returns name -> path."""
    jobs: list[tuple[str, Callable[[], Path | None]]] = [
        ("outcomes", lambda: outcome_probabilities(res, folder / "fig_outcomes.png")),
        ("cumulative", lambda: cumulative_incidence(res, folder / "fig_cumulative.png")),
    ]
    for name, shows in charts(res.shows):
        draw = DRAWN.get(name) or (level_shares if all(sh.record == "counts" for sh in shows) else state_lines)
        jobs.append((name, lambda draw=draw, name=name, shows=shows: draw(res, folder / f"fig_{name}.png", shows)))
    with canvas.collector_paused():
        drawn = canvas.drawn_shared(jobs)  # in two processes where it can fork
    return {name: p for name, p in drawn.items() if p}


def _band(ax, months, sample: np.ndarray, label: str, colour) -> None:
    """Median line and 10-90% band of a (k, H) sample of trajectories."""
    lo, med, hi = np.quantile(sample, [0.1, 0.5, 0.9], axis=0)
    ax.fill_between(months, lo, hi, color=colour, alpha=0.18, lw=0)
    ax.plot(months, med, color=colour, lw=1.8, label=label)


def _date_ticks(ax, res: Results, months: np.ndarray) -> None:
    ticks = months[:: max(1, len(months) // 8)]
    ax.set_xticks(ticks, [res.date(int(m)) for m in ticks], rotation=30, ha="right")


def relations(res: Results, path: Path, shows: list[Shows]) -> Path | None:
    """Trust in alliances, affinities and arms-import shares over time, with 10-90% bands:
    the flashpoints' sides' trust in their alliances and affinity towards the alliances'
    leaders, and the main suppliers of the buyers (labels: the states' label phrases)."""
    tr = res.traj
    if not tr or tr["trust"].shape[0] < 5:
        return None
    said = {sh.state: sh for sh in shows}
    said_as = lambda name, *keys: said[name].describe([lab(k, k) for k in keys])  # noqa: E731
    k = tr["trust"].shape[0]
    st = res.names["states"]
    al = res.names["alliances"]
    sup = res.names["suppliers"]
    lab = res.labels.get
    months = np.arange(1, res.horizon + 1)
    struct = res.structure
    sides = sorted({s for pair in struct.get("sides", []) for s in pair})
    colours = matplotlib.colormaps["tab10"].colors
    panels: list[tuple[str, list[tuple[str, np.ndarray]]]] = []
    # trust of the flashpoints' sides in the alliances they belong to
    lines = []
    for a, name in enumerate(al):
        if struct.get("alliance_kind", ["collective_defence"] * len(al))[a] != "collective_defence":
            continue
        for s in sides:
            if s == struct["leaders"][a]:
                continue
            if (tr["status"][:, 0, s, a] > 0).mean() < 0.5:
                continue
            lines.append((said_as("trust", st[s], name), tr["trust"][:, :, s, a]))
    if lines:
        panels.append(("Trust in the alliance (0-1)", lines[:6]))
    # affinities: sides towards alliance leaders; buyers towards their suppliers' states
    lines = []
    for a in range(len(al)):
        ld = struct["leaders"][a]
        for s in sides:
            if s != ld and (tr["status"][:, 0, s, a] > 0).mean() >= 0.5:
                lines.append((said_as("affinity", st[s], st[ld]), tr["affinity"][:, :, s, ld]))
    buyers = struct.get("buyers", [])
    share_lines = []
    for b in buyers:
        final = np.median(tr["shares"][:, -1, b, :], axis=0)
        for kk in np.argsort(-final)[:3]:
            if final[kk] > 0.02 or np.median(tr["shares"][:, 0, b, kk]) > 0.02:
                share_lines.append((said_as("shares", st[b], sup[kk]), tr["shares"][:, :, b, kk]))
                ss = struct["supplier_state"][kk]
                pair = (said_as("affinity", st[b], st[ss]), tr["affinity"][:, :, b, ss])
                if pair[0] not in [x[0] for x in lines]:
                    lines.append(pair)
    if lines:
        panels.append(("Affinity (-1 hostile .. 1 aligned)", lines[:7]))
    if share_lines:
        panels.append(("Share of arms imports (delivery-weighted)", share_lines[:6]))
    if not panels:
        return None
    with matplotlib.rc_context(STYLE):
        gap = canvas.title_height("Trust", 11) + 0.18
        fig, axes = canvas.panels(len(panels), 1, 4.9, 2.4, left=1.2, right=3.3, top=gap + 0.35, bottom=1.0, hgap=gap,
                            sharex=True)
        for ax, (title, ls) in zip(axes[:, 0], panels, strict=True):
            for i, (label, sample) in enumerate(ls):
                _band(ax, months, sample, _wrap(label, 40), colours[i % 10])
            ax.set_title(title, loc="left", fontsize=11)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
        _date_ticks(axes[-1, 0], res, months)
        canvas.suptitle(fig, f"Relations over time: median and 10-90% band of {k} sampled runs", 0.6)
        return _save(fig, path)


def casualty_distribution(res: Results, path: Path, shows: list[Shows]) -> Path | None:
    """Distribution of total deaths per flashpoint over the horizon (the final values kept
    of the chart's state)."""
    sh = next((x for x in shows if x.final and x.state in res.final_sample), None)
    fps = res.names["flashpoints"]
    if sh is None or not fps or res.final_sample[sh.state].shape[0] == 0:
        return None
    cs = res.final_sample[sh.state].T  # (F, k)
    with matplotlib.rc_context(STYLE):
        head = max(canvas.title_height(_wrap(f"{res.labels.get(f, f)}", 34), 10) for f in fps)
        fig, axes = canvas.panels(1, len(fps), 3.9, 2.3, left=1.2, right=4.0, top=head + 0.45, bottom=1.4, wgap=0.45,
                            sharey=True)
        n = cs.shape[1]
        for j, f in enumerate(fps):
            ax = axes[0, j]
            v = cs[j]
            zero = (v <= 0).mean()
            pos = v[v > 0]
            bins = np.array([0, 1, 10, 25, 100, 250, 1000, 10_000, np.inf])
            labels = ["0", "1-9", "10-24", "25-99", "100-249", "250-999", "1,000-9,999", "10,000+"]
            counts = np.histogram(v, bins=bins)[0] / n * 100
            ax.bar(range(len(counts)), counts, color=["#9aa7b4"] + ["#c0392b"] * (len(counts) - 1))
            ax.set_xticks(range(len(counts)), labels, rotation=40, ha="right", fontsize=8)
            ax.set_title(_wrap(f"{res.labels.get(f, f)}", 34), loc="left", fontsize=10)
            med = f"; median where any: {np.median(pos):,.0f}" if pos.size else ""
            ax.set_xlabel(f"deaths in {res.horizon} months ({zero:.0%} of runs none{med})", fontsize=8)
            ax.grid(axis="y", alpha=0.3)
        axes[0, 0].set_ylabel("% of runs")
        canvas.suptitle(fig, f"How many are killed? Total deaths per flashpoint ({n:,} runs)", 0.6)
        return _save(fig, path)


DRAWN.update({"relations": relations, "casualties": casualty_distribution})
