"""Figures and the HTML page of a policy search (``sim optimize``).

The parallel-coordinates figure draws every policy evaluated as a line across its choices
(levers off/on, policy parameters scaled to their range) and its objectives (robustness
values, best at the top); the Pareto front in colour, the rest in grey. The convergence
figure is the hypervolume of the front found by generation.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from .html import CSS, _e, _img, replaced_note
from .sweep import _png


def parallel_coordinates(opt: Any, most: int = 400) -> Figure:
    """One line per policy across its genes and objectives (each axis scaled 0..1, the
    objectives so that up is better)."""
    X, vals = opt.X, opt.values()
    genes, objs = opt.genes, opt.objectives
    cols, names = [], []
    for j, g in enumerate(genes):
        span = (g.hi - g.lo) or 1.0
        cols.append((X[:, j] - g.lo) / span)
        names.append(_wrap(g.name))
    for k, ob in enumerate(objs):
        v = vals[:, k]
        up = ob.robustness.direction(ob.sense) == "maximize"
        lo, hi = float(np.min(v)), float(np.max(v))
        if hi == lo:  # every policy the same: all at the top
            cols.append(np.ones(len(v)))
        else:
            cols.append((v - lo) / (hi - lo) if up else (hi - v) / (hi - lo))
        best, worst = (hi, lo) if up else (lo, hi)
        names.append(f"{_wrap(ob.column)}\nbest {best:.3g}\nworst {worst:.3g}")
    M = np.column_stack(cols) if cols else np.zeros((len(X), 0))
    on_front = np.zeros(len(X), dtype=bool)
    on_front[opt.front()] = True
    fig = Figure(figsize=(max(7.0, 1.0 + 0.95 * len(names)), 5.2))
    ax = fig.add_subplot()
    xs = np.arange(len(names))
    rest = np.flatnonzero(~on_front)
    if len(rest) > most:
        rest = np.random.default_rng(0).choice(rest, most, replace=False)
    jitter = np.random.default_rng(1).uniform(-0.02, 0.02, size=M.shape)  # overlapping on/off lines stay visible
    lever_axis = np.array([g.lever for g in genes] + [False] * len(objs))
    for i in rest:
        ax.plot(xs, M[i] + jitter[i] * lever_axis, color="#bbbbbb", lw=0.6, alpha=0.5)
    cmap = matplotlib.colormaps["viridis"]
    fr = np.flatnonzero(on_front)
    for n_i, i in enumerate(fr):
        ax.plot(xs, M[i] + jitter[i] * lever_axis, color=cmap(n_i / max(len(fr) - 1, 1)), lw=1.6, alpha=0.9)
    for x in xs:
        ax.axvline(x, color="#666", lw=0.6)
    ax.set_xticks(xs, names, fontsize=7, rotation=0)
    ax.set_yticks([0, 1], ["off / low\nor worst", "on / high\nor best"], fontsize=7)
    ax.set_ylim(-0.06, 1.06)
    ax.set_xlim(-0.3, len(names) - 0.7)
    if len(genes) and len(objs):
        ax.axvspan(len(genes) - 0.5, len(names) - 0.5, color="#f3f5f8", zorder=0)
    distinct = len(opt.pareto(distinct=True))
    ax.set_title("\n".join(textwrap.wrap(f"{opt.title}: {len(X):,} policies evaluated; the Pareto front in colour "
                                         f"({len(fr)} policies, {distinct} distinct scores)", 90)), fontsize=10)
    fig.tight_layout()
    return fig


def _wrap(name: str, width: int = 16) -> str:
    return "\n".join(textwrap.wrap(name.replace(".", ". ").replace("_", "_ "), width)).replace(". ", ".").replace("_ ", "_")


def convergence(opt: Any) -> Figure:
    fig = Figure(figsize=(6.0, 3.2))
    ax = fig.add_subplot()
    c = opt.convergence
    if c:
        ax.plot([r["generation"] for r in c], [r["hypervolume"] for r in c], marker="o", color="#4c72b0")
    ax.set_xlabel("generation" if opt.method == "nsga2" else "(every combination evaluated at once)")
    ax.set_ylabel("hypervolume of the front")
    ax.set_ylim(bottom=0)
    ax.set_title("Convergence: hypervolume of the front found (objectives scaled to 0..1)", fontsize=9)
    fig.tight_layout()
    return fig


def write_optimize_report(opt: Any, folder: str | Path) -> Path:
    """Write ``fig_parallel.png``, ``fig_convergence.png`` and ``report.html``."""
    from ..results import atomic_write

    folder = Path(folder)
    figs = [_png(parallel_coordinates(opt), folder / "fig_parallel.png"),
            _png(convergence(opt), folder / "fig_convergence.png")]
    path = folder / "report.html"
    atomic_write(path, render(opt, figs))
    return path


def render(opt: Any, figs: list[Path]) -> str:
    m = opt.results.manifest
    par = opt.pareto(distinct=True)
    how = (f"every combination of {len(opt.genes)} levers ({len(opt.X):,}) evaluated" if opt.method == "enumerated"
           else f"NSGA-II, population {opt.budget['population']} × {opt.budget['generations']} generations "
                f"({len(opt.X):,} distinct policies evaluated)")
    worlds = (f"{opt.worlds.shape[0]} worlds (a Latin hypercube of {len(opt.world_inputs)} uncertainties)"
              if opt.world_inputs else "one world (the scenario declares no uncertainties)")
    p = ["<!doctype html><html lang='en'><head><meta charset='utf-8'>",
         f"<title>{_e(opt.title)} — policy search</title><style>{CSS}</style></head><body>",
         f"<h1>{_e(opt.title)}: which policies do best across the worlds</h1>",
         f"<p class='sub'>Scenario <code>{_e(opt.scenario)}</code> · {_e(how)} · {_e(worlds)} × "
         f"{opt.runs_per_world:,} runs per policy, common random numbers · seed {opt.seed}</p>",
         replaced_note(m)]
    if not opt.complete:
        p.append(f"<p><b>Stopped early</b> ({_e(opt.stopped_by)}): the table covers the policies evaluated before.</p>")
    p.append("<h2>Objectives</h2><ul class='headline'>")
    for ob in opt.objectives:
        p.append(f"<li>{_e(ob.words(opt.description(ob.outcome)))} (<code>{_e(ob.column)}</code>)</li>")
    p.append("</ul><h2>The Pareto front</h2><p>No other policy evaluated does better on every objective than "
             "these (policies with the same scores are listed once: the one that pulls fewest levers).</p><table><tr><th>#</th><th>Policy</th>")
    cols = [ob.column for ob in opt.objectives] + [c for c in par.columns if c.endswith("(mean)")
                                                     and c not in {ob.column for ob in opt.objectives}]
    for c in cols:
        p.append(f"<th>{_e(c)}</th>")
    p.append("</tr>")
    for i, r in par.iterrows():
        ties = f" (and {r['ties']} other policies with the same scores)" if r["ties"] else ""
        p.append(f"<tr><td>{i}</td><td>{_e(r['policy'] + ties)}</td>" + "".join(
            f"<td class='num'>{r[c]:.3f}</td>" for c in cols) + "</tr>")
    p.append("</table><p class='note'>A world is one set of values of the scenario's uncertainties; every policy "
             "runs in every world with the same random numbers, so differences between policies are the "
             "policies', not the dice's. Mean, p10, p90: the probability averaged over the worlds or its "
             "percentile across them. Regret: in each world, how much worse a policy does than the best policy "
             "evaluated in that world; the table shows the largest over the worlds. Satisficing: the share of "
             "worlds where the probability meets the threshold. Data: pareto.csv, policies.csv (every policy "
             "evaluated), per_world.csv (policy × world), worlds.csv, convergence.csv, summary.json.</p>")
    p.append("<h2>Figures</h2>")
    for f in figs:
        p.append(_img(f, f.stem))
    p.append("<h2>Worlds</h2><table><tr><th>Uncertainty</th><th>Range</th></tr>")
    for inp in opt.world_inputs:
        p.append(f"<tr><td><code>{_e(inp.name)}</code></td><td>{_e(inp.describe())}</td></tr>")
    p.append("</table><h2>Run details</h2><table>")
    for k, v in [("Resolved scenario SHA-256", m.get("scenario_sha256")),
                 ("Runs", f"{(m.get('optimize') or {}).get('runs_total', 0):,} in "
                          f"{(m.get('optimize') or {}).get('batches', 0)} Monte Carlo batches"),
                 ("Chunk size / workers / backend", f"{m.get('chunk_size')} / {m.get('workers')} / {m.get('backend')}"),
                 ("Versions", ", ".join(f"{k} {v}" for k, v in (m.get("versions") or {}).items())),
                 ("Simulation time", f"{(m.get('timings_s') or {}).get('simulation', 0):.1f} s")]:
        p.append(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>")
    p.append("</table></body></html>")
    return "\n".join(p)
