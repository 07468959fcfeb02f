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

STYLE_BAR = {"S1": "#4c72b0", "ST": "#dd8452", "mu_star": "#4c72b0", "sigma": "#dd8452", "delta": "#55a868"}


def _label(name: str, width: int = 34) -> str:
    name = f"lever {name[6:]}" if name.startswith("lever:") else name
    return "\n".join(textwrap.wrap(name.replace(".", ". "), width)).replace(". ", ".") or name


LEGEND = {"S1": "first order S1", "ST": "total ST", "mu_star": "mu* (mean |effect|)", "sigma": "sigma (interactions)",
          "delta": "delta (moment-independent)"}
AXIS = {"sobol": "Sobol index (share of variance), 95% interval", "morris": "elementary effect on the probability",
        "lhs": "first-order index (RBD-FAST)", "fast": "eFAST index (share of variance), 95% interval",
        "delta": "delta and first-order index, 95% interval"}


def index_bars(sw: Any, outcome: str) -> Figure:
    """Bars of each input's sensitivity index for one outcome, with 95% intervals. A flagged
    index (:meth:`~sim.analysis.sweep.Sweep.indices`) is drawn hatched and pale, and the
    title says why (Monte Carlo noise over half the variance: every index is flagged)."""
    fig = Figure(figsize=(7.5, 0.9 + 0.55 * max(len(sw.inputs), 2)))
    ax = fig.add_subplot()
    names = [i.name for i in sw.inputs]
    y = np.arange(len(names))
    title = f"What drives: {sw.description(outcome)}"
    if sw.method == "grid":
        rank = dict((n, v) for n, v, _ in sw.ranking(outcome))
        ax.barh(y, [rank[n] for n in names], color="#4c72b0")
        ax.set_xlabel("range of the mean probability across the grid's levels")
    else:
        df = sw.indices(outcome).loc[outcome]
        flagged = df.loc[names, "flag"].astype(str).to_numpy() != ""
        keys = sw.index_keys
        h = 0.8 / len(keys)
        for k_i, k in enumerate(keys):
            vals = df.loc[names, k].to_numpy(dtype=float)
            conf = df.loc[names, f"{k}_conf"].to_numpy(dtype=float) if f"{k}_conf" in df else None
            bars = ax.barh(y + (k_i - (len(keys) - 1) / 2) * h, vals, h, xerr=conf, color=STYLE_BAR.get(k, "#4c72b0"),
                           capsize=3, label=LEGEND[k])
            for bar, bad in zip(bars, flagged, strict=True):
                if bad:
                    bar.set_alpha(0.35)
                    bar.set_hatch("///")
        from matplotlib.patches import Patch

        handles = [Patch(facecolor=STYLE_BAR.get(k, "#4c72b0")) for k in keys]
        labels = [LEGEND[k] for k in keys]
        if flagged.any():
            handles.append(Patch(facecolor="white", edgecolor="#555", hatch="///"))
            labels.append("flagged: not to be trusted")
        ax.legend(handles, labels, loc="best", fontsize=8, framealpha=0.9)
        ax.set_xlabel(AXIS[sw.method])
        share = float(sw.noise().loc[outcome, "mc_share"])
        if share == share and share > sw.noise_share:
            title += f" — FLAGGED: Monte Carlo noise is {100 * share:.0f}% of the variance; these indices are noise"
        elif flagged.any():
            title += f" — {int(flagged.sum())} index(es) flagged (outside 0..1 beyond the interval)"
    ax.set_yticks(y, [_label(n) for n in names], fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="#888", lw=0.8)
    ax.set_title("\n".join(textwrap.wrap(title, 64)), fontsize=10)
    fig.tight_layout()
    return fig


def outcome_vs_inputs(sw: Any, outcome: str, top: int = 3) -> Figure:
    """The outcome's probability in each parameter set against its drivers (the inputs named
    as driving it; the first inputs when none is)."""
    rank = [n for n, v, _ in sw.drivers(outcome)][:top] or [i.name for i in sw.inputs][:top]
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
        figs[o] = [] if sw.method == "design" else [_png(index_bars(sw, o), folder / f"fig_indices_{o}.png")]
        figs[o].append(_png(outcome_vs_inputs(sw, o), folder / f"fig_inputs_{o}.png"))
    path = folder / "report.html"
    from ..results import atomic_write

    atomic_write(path, render(sw, figs))
    return path


def _index_tables(sw: Any) -> list[str]:
    """Per outcome, its indices with intervals and flags (and, when asked for, Sobol's
    second-order indices): what the figures draw, with the reasons a flagged one is not
    to be trusted."""
    if sw.method in ("grid", "design"):
        return []
    keys = sw.index_keys
    p = ["<h2>Indices</h2><p class='note'>An index is <b>flagged</b> when the outcome's variance across sets is "
         "mostly Monte Carlo noise (then every index of that outcome is noise: raise the runs per set), or when it "
         "lies below 0 or above 1 beyond its 95% interval (no true index can). A driver is an input whose index "
         "is above zero beyond its interval and is not flagged; only drivers are named in the words above."
         + (" eFAST's intervals are SALib's bootstrap estimates, which SALib calls indicative." if sw.method == "fast"
            else "") + "</p>"]
    for o in varying(sw):
        df = sw.indices(o).loc[o]
        p.append(f"<h3>{_e(sw.description(o))}</h3><table><tr><th>Input</th>"
                 + "".join(f"<th>{_e(k)}</th>" for k in keys) + "<th>Driver</th><th>Flag</th></tr>")
        for name, r in df.iterrows():
            cells = []
            for k in keys:
                c = r.get(f"{k}_conf")
                cells.append(f"<td class='num'>{r[k]:.3f}" + (f" ± {c:.3f}" if c is not None and c == c else "")
                             + "</td>")
            flag = f"<td style='color:#a33'>{_e(r['flag'])}</td>" if r["flag"] else "<td></td>"
            p.append(f"<tr><td><code>{_e(name)}</code></td>{''.join(cells)}<td>{'yes' if r['driver'] else ''}</td>"
                     f"{flag}</tr>")
        p.append("</table>")
        inter = sw.interactions(o)
        if len(inter):
            p.append("<p>Second-order (interaction) indices S2:</p><table><tr><th>Inputs</th><th>S2</th>"
                     "<th>Flag</th></tr>")
            for (_, a, b), r in inter.iterrows():
                p.append(f"<tr><td><code>{_e(a)}</code> × <code>{_e(b)}</code></td><td class='num'>{r['S2']:.3f} ± "
                         f"{r['S2_conf']:.3f}</td><td>{_e(r['flag'])}</td></tr>")
            p.append("</table>")
    return p


def render(sw: Any, figs: dict[str, list[Path]]) -> str:
    res, m = sw.results, sw.results.manifest
    nz = sw.noise()
    method = {"sobol": f"Sobol (Saltelli sample, N={sw.n}" + (", second order" if sw.second_order else "") + ")",
              "morris": f"Morris ({sw.n} trajectories)", "lhs": f"Latin hypercube ({sw.n} sets; RBD-FAST indices)",
              "grid": f"full grid ({sw.n} levels per input)", "fast": f"eFAST ({sw.n} sets per input)",
              "delta": f"Latin hypercube ({sw.n} sets; delta indices)", "design": f"a design of your own ({sw.n} sets)"}
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
    p.append("</table>")
    p += _index_tables(sw)
    p.append("<h2>Figures</h2>")
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
    p.append("</table><p class='note'>Data: sets.csv (inputs and probabilities per set), indices.csv (with flags), "
             + ("interactions.csv, " if sw.second_order and sw.method == "sobol" else "") + "noise.csv, "
             "summary.json. Find the input ranges where an outcome is likely with <code>sim discover "
             "THIS_FOLDER --outcome NAME</code>.</p></body></html>")
    return "\n".join(p)
