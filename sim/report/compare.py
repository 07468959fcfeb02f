"""Figures and the HTML page of a comparison of two variants (matplotlib Figures, never shown)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ..results import wilson
from .html import CSS, _e, _img, _pct, replaced_note
from .sweep import _png


def _wrap(text: str, width: int = 44) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def side_by_side(cmp: Any) -> Figure:
    """Each outcome's probability under A and under B, side by side, with 95% intervals."""
    df = cmp.outcomes()
    fig = Figure(figsize=(8, 0.8 + 0.5 * max(len(df), 2)))
    ax = fig.add_subplot()
    y = np.arange(len(df))
    n_a, n_b = cmp.a.runs, cmp.b.runs
    for k, (col, n, label, colour) in enumerate((("p_a", n_a, f"A: {cmp.label_a}", "#8c8c8c"),
                                                 ("p_b", n_b, f"B: {cmp.label_b}", "#c44e52"))):
        p = df[col].to_numpy(dtype=float)
        ci = np.array([wilson(int(round(v * n)), n) for v in p])
        err = np.vstack([p - ci[:, 0], ci[:, 1] - p])
        ax.barh(y + (k - 0.5) * 0.38, p, 0.38, xerr=err, color=colour, capsize=2, label=_wrap(label, 60))
    ax.set_yticks(y, [_wrap(d, 44) for d in df["description"]], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability within the horizon (95% interval)")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.set_title("Outcome probabilities, A and B")
    fig.tight_layout()
    return fig


def differences(cmp: Any) -> Figure:
    """B - A per outcome with its 95% interval; outcomes called different in colour."""
    df = cmp.outcomes()
    fig = Figure(figsize=(8, 0.8 + 0.4 * max(len(df), 2)))
    ax = fig.add_subplot()
    y = np.arange(len(df))
    d = 100 * df["diff"].to_numpy(dtype=float)
    lo, hi = 100 * df["ci_low"].to_numpy(dtype=float), 100 * df["ci_high"].to_numpy(dtype=float)
    colours = np.where(df["significant"].to_numpy(dtype=bool), "#c44e52", "#8c8c8c")
    ax.hlines(y, lo, hi, color=colours, lw=2)
    ax.scatter(d, y, color=colours, zorder=3)
    ax.axvline(0, color="#333", lw=0.8)
    ax.set_yticks(y, [_wrap(s, 44) for s in df["description"]], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("B − A, percentage points (95% interval; red: different after adjustment)")
    ax.set_title("Difference in probability")
    fig.tight_layout()
    return fig


def event_differences(cmp: Any, top: int = 8) -> Figure | None:
    """Events per run under A and B for the events that differ most."""
    c = cmp.counts(top=top)
    if c.empty:
        return None
    fig = Figure(figsize=(8, 0.8 + 0.45 * len(c)))
    ax = fig.add_subplot()
    y = np.arange(len(c))
    ax.barh(y - 0.19, c["per_run_a"], 0.38, color="#8c8c8c", label="A")
    ax.barh(y + 0.19, c["per_run_b"], 0.38, color="#c44e52", label="B")
    ax.set_yticks(y, list(c.index), fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("events per run")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.set_title("What happened differently (events that differ most)")
    fig.tight_layout()
    return fig


def write_compare_report(cmp: Any, folder: str | Path) -> Path:
    """Write the comparison's figures and ``report.html``."""
    from ..results import atomic_write

    folder = Path(folder)
    figs = [_png(side_by_side(cmp), folder / "fig_side_by_side.png"), _png(differences(cmp), folder / "fig_differences.png")]
    ev = event_differences(cmp)
    if ev is not None:
        figs.append(_png(ev, folder / "fig_events.png"))
    path = folder / "report.html"
    atomic_write(path, render(cmp, figs))
    return path


def render(cmp: Any, figs: list[Path]) -> str:
    df = cmp.outcomes()
    p = ["<!doctype html><html lang='en'><head><meta charset='utf-8'>",
         f"<title>{_e(cmp.a.title)} — comparison</title><style>{CSS}</style></head><body>",
         f"<h1>{_e(cmp.a.title)}: A against B</h1>",
         f"<p class='sub'>A: {_e(cmp.label_a)} · B: {_e(cmp.label_b)} · {cmp.a.runs:,} runs each · seed {cmp.a.seed}"
         + (" · common random numbers" if cmp.paired else " · independent seeds") + "</p>",
         replaced_note(cmp.a.manifest), "<h2>In words</h2><ul class='headline'>"]
    p += [f"<li>{_e(s)}</li>" for s in cmp.words()]
    p.append("</ul><p class='note'>" + _e(
        "With common random numbers replicate i of A and replicate i of B draw the same random numbers wherever "
        "the two variants share a mechanism, so the difference is measured replicate by replicate: the interval "
        "is Newcombe's score interval for a difference of paired proportions (1998, method 10) and the test is "
        "McNemar's exact test on the replicates where only one variant had the outcome. With independent seeds "
        "the interval is Newcombe's hybrid score interval and the test Fisher's exact test. Both intervals stay "
        "within ±100 points. p-values are adjusted for the number of outcomes (Benjamini-Hochberg); an outcome is "
        "called different when the adjusted value is below 0.05. Only outcomes both variants define the same way "
        "are compared.") + "</p>")
    p.append("<h2>Outcomes</h2><table><tr><th>Outcome</th><th>A</th><th>B</th><th>B − A (95% interval)</th>"
             "<th>adjusted p</th></tr>")
    for name, r in df.iterrows():
        star = " <b>different</b>" if r["significant"] else ""
        p.append(f"<tr><td>{_e(r['description'])}<br><span class='note'><code>{_e(name)}</code></span></td>"
                 f"<td class='num'>{_pct(r['p_a'])}</td><td class='num'>{_pct(r['p_b'])}</td>"
                 f"<td class='num'>{100 * r['diff']:+.1f} ({100 * r['ci_low']:+.1f} to {100 * r['ci_high']:+.1f}) pts</td>"
                 f"<td class='num'>{r['p_adjusted']:.3g}{star}</td></tr>")
    p.append("</table><h2>Events</h2><table><tr><th>Event</th><th>per run, A</th><th>per run, B</th>"
             "<th>difference (95% interval)</th></tr>")
    for name, r in cmp.counts(top=12).iterrows():
        p.append(f"<tr><td><code>{_e(name)}</code></td><td class='num'>{r['per_run_a']:.3f}</td>"
                 f"<td class='num'>{r['per_run_b']:.3f}</td>"
                 f"<td class='num'>{r['diff']:+.3f} ({r['ci_low']:+.3f} to {r['ci_high']:+.3f})</td></tr>")
    p.append("</table><h2>Figures</h2>")
    p += [_img(f, f.stem) for f in figs]
    p.append("<p class='note'>Data: comparison.csv, counts.csv, summary.json; both runs' manifests in manifest.json."
             "</p></body></html>")
    return "\n".join(p)
