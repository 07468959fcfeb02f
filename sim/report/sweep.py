"""Figures and the HTML page of a sweep (returned as matplotlib Figures; never shown).

Figures are made with :class:`matplotlib.figure.Figure` directly, not pyplot, so a
notebook gets an object it can display or save and no global state changes.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .html import CSS, _e, _img, _pct, replaced_note

STYLE_BAR = {"S1": "#4c72b0", "ST": "#dd8452", "mu_star": "#4c72b0", "sigma": "#dd8452"}


def _label(name: str, width: int = 34) -> str:
    name = f"lever {name[6:]}" if name.startswith("lever:") else name
    return "\n".join(textwrap.wrap(name.replace(".", ". "), width)).replace(". ", ".") or name


def index_bars(sw: Any, outcome: str) -> Figure:
    """Bars of each input's sensitivity index for one outcome, with 95% intervals."""
    fig = Figure(figsize=(7.5, 0.6 + 0.55 * max(len(sw.inputs), 2)))
    ax = fig.add_subplot()
    names = [i.name for i in sw.inputs]
    y = np.arange(len(names))
    if sw.method == "grid":
        rank = dict((n, v) for n, v, _ in sw.ranking(outcome))
        ax.barh(y, [rank[n] for n in names], color="#4c72b0")
        ax.set_xlabel("range of the mean probability across the grid's levels")
    else:
        df = sw.indices(outcome).loc[outcome]
        keys = {"sobol": ("S1", "ST"), "morris": ("mu_star", "sigma"), "lhs": ("S1",)}[sw.method]
        h = 0.8 / len(keys)
        for k_i, k in enumerate(keys):
            vals = df.loc[names, k].to_numpy(dtype=float)
            conf = df.loc[names, f"{k}_conf"].to_numpy(dtype=float) if f"{k}_conf" in df else None
            ax.barh(y + (k_i - (len(keys) - 1) / 2) * h, vals, h, xerr=conf, color=STYLE_BAR.get(k), capsize=3,
                    label={"S1": "first order S1", "ST": "total ST", "mu_star": "mu* (mean |effect|)",
                           "sigma": "sigma (interactions)"}[k])
        ax.legend(loc="best", fontsize=8, framealpha=0.9)
        ax.set_xlabel({"sobol": "Sobol index (share of variance), 95% interval",
                       "morris": "elementary effect on the probability", "lhs": "first-order index (RBD-FAST)"}[sw.method])
    ax.set_yticks(y, [_label(n) for n in names], fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="#888", lw=0.8)
    ax.set_title("\n".join(textwrap.wrap(f"What drives: {sw.description(outcome)}", 60)), fontsize=11)
    fig.tight_layout()
    return fig


def outcome_vs_inputs(sw: Any, outcome: str, top: int = 3) -> Figure:
    """The outcome's probability in each parameter set against its most influential inputs."""
    rank = [n for n, v, _ in sw.ranking(outcome)][:top] or [i.name for i in sw.inputs][:top]
    tab = sw.table()
    fig = Figure(figsize=(3.6 * len(rank), 3.4))
    axes = [fig.add_subplot(1, len(rank), k + 1) for k in range(len(rank))]
    for ax, name in zip(axes, rank, strict=True):
        x = tab[name].astype(float).to_numpy()
        y = tab[outcome].to_numpy(dtype=float)
        if name.startswith("lever:"):
            ax.boxplot([y[x < 0.5], y[x >= 0.5]])
            ax.set_xticks([1, 2], ["off", "on"])
        else:
            ax.scatter(x, y, s=6, alpha=0.5, color="#4c72b0", edgecolors="none")
        ax.set_xlabel(_label(name, 30), fontsize=8)
        ax.set_ylim(-0.02, 1.02)
    axes[0].set_ylabel("probability in the set")
    fig.suptitle("\n".join(textwrap.wrap(f"{sw.description(outcome)} across parameter sets", 80)), fontsize=10)
    fig.tight_layout()
    return fig


def _png(fig: Figure, path: Path) -> Path:
    from ..results import atomic_write

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=130, bbox_inches="tight", facecolor="white")
    atomic_write(path, buf.getvalue())
    return path


def varying(sw: Any) -> list[str]:
    """Outcomes whose probability differs between sets (the others have nothing to explain)."""
    tab = sw.table()
    return [o for o in sw.outcomes if np.ptp(tab[o].to_numpy(dtype=float)) > 0]


def write_sweep_report(sw: Any, folder: str | Path) -> Path:
    """Write a sweep's figures (two per varying outcome) and ``report.html``."""
    folder = Path(folder)
    figs: dict[str, list[Path]] = {}
    for o in varying(sw):
        figs[o] = [_png(index_bars(sw, o), folder / f"fig_indices_{o}.png"),
                   _png(outcome_vs_inputs(sw, o), folder / f"fig_inputs_{o}.png")]
    path = folder / "report.html"
    from ..results import atomic_write

    atomic_write(path, render(sw, figs))
    return path


def render(sw: Any, figs: dict[str, list[Path]]) -> str:
    res, m = sw.results, sw.results.manifest
    nz = sw.noise()
    method = {"sobol": f"Sobol (Saltelli sample, N={sw.n})", "morris": f"Morris ({sw.n} trajectories)",
              "lhs": f"Latin hypercube ({sw.n} sets; RBD-FAST indices)", "grid": f"full grid ({sw.n} levels per input)"}
    p = ["<!doctype html><html lang='en'><head><meta charset='utf-8'>",
         f"<title>{_e(res.title)} — sweep</title><style>{CSS}</style></head><body>",
         f"<h1>{_e(res.title)}: which inputs matter</h1>",
         f"<p class='sub'>Scenario <code>{_e(sw.scenario)}</code> · {method[sw.method]} · {sw.sets:,} parameter sets × "
         f"{sw.runs_per_set:,} runs = {res.runs:,} runs in one vectorized Monte Carlo · seed {sw.seed}</p>",
         replaced_note(m), "<h2>In words</h2><ul class='headline'>"]
    for o in sw.outcomes:
        p.append(f"<li>{_e(sw.words(o))}</li>")
    p.append("</ul><p class='note'>A parameter set's probability is the share of its runs in which the outcome "
             "happened. Sobol indices split the variance of that probability across sets: S1 is the share an input "
             "explains alone, ST includes its interactions; intervals are SALib's bootstrap 95% intervals. The Monte "
             "Carlo share is the part of the variance that is noise from the finite runs per set: when it is large, "
             "differences between sets (and the indices) are mostly noise, and more runs per set are needed.</p>")
    p.append("<h2>Inputs</h2><table><tr><th>Input</th><th>Range</th><th>Source</th></tr>")
    for i in sw.inputs:
        src = i.source.note if i.source is not None and getattr(i.source, "note", None) else "-"
        p.append(f"<tr><td><code>{_e(i.name)}</code></td><td>{_e(i.describe())}</td><td>{_e(src)}</td></tr>")
    p.append("</table><h2>Outcomes across parameter sets</h2><table><tr><th>Outcome</th><th>Mean</th>"
             "<th>10–90% across sets</th><th>Monte Carlo share of variance</th></tr>")
    for o, r in nz.iterrows():
        share = "-" if r["mc_share"] != r["mc_share"] else f"{100 * r['mc_share']:.0f}%"
        p.append(f"<tr><td>{_e(sw.description(o))}</td><td class='num'>{_pct(r['mean'])}</td>"
                 f"<td class='num'>{_pct(r['p10'])} – {_pct(r['p90'])}</td><td class='num'>{share}</td></tr>")
    p.append("</table><h2>Figures</h2>")
    for o, paths in figs.items():
        for path in paths:
            p.append(_img(path, f"{o}: {path.stem}"))
    p.append("<h2>Run details</h2><table>")
    for k, v in [("Resolved scenario SHA-256", m.get("scenario_sha256")), ("Levers pulled in every set",
                 ", ".join(res.levers) or "none"), ("Chunk size / workers / backend",
                 f"{m.get('chunk_size')} / {m.get('workers')} / {m.get('backend')}"),
                 ("Versions", ", ".join(f"{k} {v}" for k, v in (m.get("versions") or {}).items())),
                 ("Simulation time", f"{(m.get('timings_s') or {}).get('simulation', 0):.2f} s")]:
        p.append(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>")
    p.append("</table><p class='note'>Data: sets.csv (inputs and probabilities per set), indices.csv, noise.csv, "
             "summary.json. Find the input ranges where an outcome is likely with <code>sim discover "
             "THIS_FOLDER --outcome NAME</code>.</p></body></html>")
    return "\n".join(p)
