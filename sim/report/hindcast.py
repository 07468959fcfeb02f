"""The hindcast report: reliability diagrams and a self-contained HTML page.

Renders an :class:`~sim.analysis.forecasts.Evaluation` (forecasters scored on a panel's
dyad-years against the training base rates)::

    ev = evaluate(test, {"model": model_fc, "regression": reg.predict(test)}, reg.base_rates,
                  reference="regression", details={"train_years": "1946-1992"})
    write_report(ev, folder)     # folder/report.html and folder/fig_reliability.png
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .html import CSS, _e, _img

if TYPE_CHECKING:
    from ..analysis.forecasts import Evaluation

LABELS = {
    "onset": "A dispute starts (onset)",
    "onset_force": "A dispute starts that reaches the use of force",
    "onset_fatal": "A dispute starts that kills",
    "onset_war": "A dispute starts that reaches war",
    "onset_occupation": "A dispute starts with an occupation or seizure",
    "onset_occupy": "A dispute starts with an occupation of territory",
    "onset_terr": "A territorial dispute starts",
    "ongoing": "A dispute is active in the year",
    "fatal_any": "A fatal dispute is active (rows with no dispute the year before)",
}
"""What each outcome column means, in words."""
COLOURS = ["#3a6ea5", "#e08214", "#4d9221", "#8e0152"]
FIGURE = "fig_reliability.png"


def _text(v: Any) -> str:
    """A detail's value in words: ``1946–1992`` for a pair of years, lists joined by commas."""
    if isinstance(v, list | tuple) and len(v) == 2 and all(isinstance(x, int) for x in v):
        return f"{v[0]}–{v[1]}"
    if isinstance(v, dict):
        return ", ".join(f"{a} {b}" for a, b in v.items())
    if isinstance(v, list | tuple):
        return ", ".join(map(str, v))
    if isinstance(v, float):
        return f"{v:.2f}"
    if isinstance(v, int) and not isinstance(v, bool) and v >= 10_000:
        return f"{v:,}"
    return str(v)


def _label(k: str) -> str:
    return LABELS.get(k, k)


def _num(x: Any, fmt: str = ".3f") -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, fmt)


def _ci(lo: Any, hi: Any, fmt: str = ".3f") -> str:
    return "" if lo is None or (isinstance(lo, float) and math.isnan(lo)) else \
        f"<br><span class='note'>{_num(lo, fmt)} to {_num(hi, fmt)}</span>"


def _forecasters(ev: Evaluation) -> list[str]:
    return list(ev.details.get("forecasters") or [])


# --------------------------------------------------------------------------- figure


def reliability_figure(ev: Evaluation, path: Path, period: str = "all") -> Path:
    """One panel per outcome: each forecaster's equal-count bins, mean forecast against the
    observed rate, on log axes, with the 95% interval where a calibrated bin's rate falls."""
    from matplotlib.figure import Figure

    from ..results import atomic_write
    from .figures import STYLE

    rel = ev.reliability[ev.reliability["period"] == period]
    names = _forecasters(ev)
    outcomes = list(dict.fromkeys(rel["outcome"]))
    ncol = min(3, max(len(outcomes), 1))
    nrow = max(1, math.ceil(len(outcomes) / ncol))
    import matplotlib

    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(4.3 * ncol, 4.1 * nrow + 0.8))
        axes = fig.subplots(nrow, ncol, squeeze=False)
        for ax in axes.ravel()[len(outcomes):]:
            ax.set_visible(False)
        for ax, k in zip(axes.ravel(), outcomes, strict=False):
            _panel(ax, rel[rel["outcome"] == k], names, k)
        handles = [matplotlib.lines.Line2D([], [], color=COLOURS[i % len(COLOURS)], marker="o", ls="none",
                                           label=n) for i, n in enumerate(names)]
        handles += [matplotlib.lines.Line2D([], [], color="#555", marker="o", mfc="white", ls="none",
                                            label="outside the interval"),
                    matplotlib.lines.Line2D([], [], color="#555", lw=5, alpha=0.3,
                                            label="95% interval if calibrated"),
                    matplotlib.lines.Line2D([], [], color="#888", ls="--", lw=1, label="perfectly reliable")]
        fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False, fontsize=9)
        fig.suptitle(f"Reliability: equal-count bins of each forecaster's forecasts ({period})", fontsize=12,
                     fontweight="bold")
        fig.tight_layout(rect=(0, 0.045, 1, 0.97))
        buf = io.BytesIO()  # rendered in memory: a failed write leaves no partial file
        fig.savefig(buf, format="png", bbox_inches="tight", facecolor="white")
    atomic_write(path, buf.getvalue())
    return path


def _panel(ax, rel, names: list[str], outcome: str) -> None:
    vals = rel[["mean_forecast", "observed", "expected_high"]].to_numpy().ravel()
    pos = vals[vals > 0]
    floor = 10 ** math.floor(math.log10(pos.min() / 1.5)) if pos.size else 1e-4
    top = min(1.0, 10 ** math.ceil(math.log10(pos.max() * 1.2))) if pos.size else 1.0
    ax.plot([floor, top], [floor, top], ls="--", color="#888", lw=1)
    for i, name in enumerate(names):
        t = rel[rel["forecaster"] == name]
        if t.empty:
            continue
        c = COLOURS[i % len(COLOURS)]
        x = t["mean_forecast"].to_numpy() * (1.06 ** (i - (len(names) - 1) / 2))  # side by side, not on top
        lo = np.maximum(t["expected_low"].to_numpy(), floor)
        ax.vlines(x, lo, np.maximum(t["expected_high"].to_numpy(), floor), color=c, lw=5, alpha=0.25)
        y = np.maximum(t["observed"].to_numpy(), floor)
        inside = t["inside"].to_numpy(dtype=bool)
        ax.scatter(x[inside], y[inside], s=22, color=c, zorder=3)
        ax.scatter(x[~inside], y[~inside], s=26, facecolors="white", edgecolors=c, linewidths=1.5, zorder=3)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(floor, top)
    ax.set_ylim(floor * 0.8, top)
    shown = [n for n in names if (rel["forecaster"] == n).any()]
    ev_n = rel[rel["forecaster"] == shown[0]] if shown else rel
    events, n = int(ev_n["events"].sum()), int(ev_n["count"].sum())
    ax.set_title(f"{outcome}\n{events:,} events in {n:,} rows", fontsize=10)
    ax.set_xlabel("mean forecast of the bin")
    ax.set_ylabel("observed rate (0 drawn at the bottom)")
    ax.grid(alpha=0.25, which="major")


# ----------------------------------------------------------------------------- page


def _verdict(lo: float, hi: float, name: str, ref: str) -> str:
    if lo > 0:
        return f"{name} is better"
    if hi < 0:
        return f"{ref} is better"
    return "the interval includes no difference"


def summary(ev: Evaluation) -> list[str]:
    """A sentence per comparison: each forecaster's skill and AUC against the reference's."""
    out = []
    sc = ev.scores[ev.scores["period"] == "all"].set_index(["forecaster", "outcome"])
    for _, c in ev.comparisons.iterrows():
        a, b = sc.loc[(c["forecaster"], c["outcome"])], sc.loc[(c["reference"], c["outcome"])]
        out.append(
            f"{_e(_label(c['outcome']))}: Brier skill <b>{_num(a['brier_skill'])}</b> ({_e(c['forecaster'])}) against "
            f"{_num(b['brier_skill'])} ({_e(c['reference'])}), difference {_num(c['brier_skill_difference'], '+.3f')} "
            f"(95% interval {_num(c['brier_skill_low'], '+.3f')} to {_num(c['brier_skill_high'], '+.3f')}: "
            f"{_verdict(c['brier_skill_low'], c['brier_skill_high'], _e(c['forecaster']), _e(c['reference']))}); "
            f"AUC {_num(a['auc'])} against {_num(b['auc'])}, difference {_num(c['auc_difference'], '+.3f')} "
            f"({_num(c['auc_low'], '+.3f')} to {_num(c['auc_high'], '+.3f')}).")
    return out


def score_table(ev: Evaluation) -> str:
    """Per outcome: events, base rate, each forecaster's skill and AUC, the differences."""
    names = _forecasters(ev)
    sc = ev.scores[ev.scores["period"] == "all"]
    comps = ev.comparisons.set_index(["outcome", "forecaster"]) if not ev.comparisons.empty else None
    others = list(dict.fromkeys(ev.comparisons["forecaster"])) if comps is not None else []
    head = "".join(f"<th>{_e(n)}: Brier skill</th><th>{_e(n)}: AUC</th>" for n in names)
    ref = _e(ev.details.get("reference"))
    head += "".join(f"<th>{_e(o)} − {ref}: Brier skill</th><th>{_e(o)} − {ref}: AUC</th>" for o in others)
    rows = [f"<table><tr><th>Outcome</th><th>Events / rows</th><th>Base rate (training)</th>{head}</tr>"]
    for k in dict.fromkeys(sc["outcome"]):
        s = sc[sc["outcome"] == k].set_index("forecaster")
        base = s.loc["base rate"] if "base rate" in s.index else s.iloc[0]
        cells = ""
        for n in names:
            if n in s.index:
                r = s.loc[n]
                cells += (f"<td class='num'>{_num(r['brier_skill'])}{_ci(r['brier_skill_low'], r['brier_skill_high'])}"
                          f"</td><td class='num'>{_num(r['auc'])}{_ci(r['auc_low'], r['auc_high'])}</td>")
            else:
                cells += "<td class='num'>-</td><td class='num'>-</td>"
        for o in others:
            if comps is not None and (k, o) in comps.index:
                c = comps.loc[(k, o)]
                cells += (f"<td class='num'>{_num(c['brier_skill_difference'], '+.3f')}"
                          f"{_ci(c['brier_skill_low'], c['brier_skill_high'], '+.3f')}</td><td class='num'>"
                          f"{_num(c['auc_difference'], '+.3f')}{_ci(c['auc_low'], c['auc_high'], '+.3f')}</td>")
            else:
                cells += "<td class='num'>-</td><td class='num'>-</td>"
        rows.append(f"<tr><td>{_e(_label(k))}<br><span class='note'><code>{_e(k)}</code></span></td>"
                    f"<td class='num'>{int(base['events']):,} / {int(base['n']):,}</td>"
                    f"<td class='num'>{100 * base['base_rate']:.2f}%</td>{cells}</tr>")
    rows.append("</table>")
    return "\n".join(rows)


def decade_table(ev: Evaluation) -> str:
    """Per outcome and decade: events and rows, each forecaster's Brier skill and AUC."""
    names = [*_forecasters(ev), "base rate"]
    sc = ev.scores[ev.scores["period"] != "all"]
    head = "".join(f"<th>{_e(n)}: skill</th><th>{_e(n)}: AUC</th>" for n in names[:-1])
    rows = [f"<table><tr><th>Outcome</th><th>Years</th><th>Events / rows</th><th>Base-rate Brier</th>{head}</tr>"]
    for (k, p), g in sc.groupby(["outcome", "period"], sort=False):
        g = g.set_index("forecaster")
        r0 = g.loc["base rate"] if "base rate" in g.index else g.iloc[0]
        cells = "".join(f"<td class='num'>{_num(g.loc[n, 'brier_skill'])}</td><td class='num'>{_num(g.loc[n, 'auc'])}"
                        "</td>" if n in g.index else "<td class='num'>-</td><td class='num'>-</td>" for n in names[:-1])
        rows.append(f"<tr><td><code>{_e(k)}</code></td><td>{_e(p)}</td><td class='num'>{int(r0['events']):,} / "
                    f"{int(r0['n']):,}</td><td class='num'>{_num(r0['brier'], '.5f')}</td>{cells}</tr>")
    rows.append("</table>")
    return "\n".join(rows)


def long_table(ev: Evaluation) -> str:
    """Per outcome, all years: each forecaster's Brier, log score, skill and AUC."""
    sc = ev.scores[ev.scores["period"] == "all"]
    rows = ["<table><tr><th>Outcome</th><th>Forecaster</th><th>Events / rows</th><th>Brier</th>"
            "<th>Log score</th><th>Brier skill</th><th>AUC</th></tr>"]
    for k, g in sc.groupby("outcome", sort=False):
        for i, (_, r) in enumerate(g.iterrows()):
            first = f"<td rowspan='{len(g)}'><code>{_e(k)}</code></td>" if i == 0 else ""
            rows.append(f"<tr>{first}<td>{_e(r['forecaster'])}</td><td class='num'>{int(r['events']):,} / "
                        f"{int(r['n']):,}</td><td class='num'>{_num(r['brier'], '.5f')}</td><td class='num'>"
                        f"{_num(r['log_score'], '.4f')}</td><td class='num'>{_num(r['brier_skill'])}</td>"
                        f"<td class='num'>{_num(r['auc'])}</td></tr>")
    rows.append("</table>")
    return "\n".join(rows)


def reliability_tables(ev: Evaluation) -> str:
    """Per outcome (collapsed): each forecaster's bins, overall and by decade."""
    out = []
    rel = ev.reliability
    for k in dict.fromkeys(rel["outcome"]):
        t = rel[rel["outcome"] == k]
        miss = t[(~t["inside"]) & (t["forecaster"] != "base rate") & (t["period"] == "all")]
        flag = (f" — {len(miss)} bin(s) outside: " + ", ".join(f"{f} bin {b}" for f, b in
                                                                zip(miss["forecaster"], miss["bin"], strict=True))
                if len(miss) else " — every bin inside its interval")
        out.append(f"<details><summary><code>{_e(k)}</code>{_e(flag)}</summary><table><tr><th>Forecaster</th>"
                   "<th>Years</th><th>Bin</th><th>Rows</th><th>Events</th><th>Forecasts</th><th>Mean forecast</th>"
                   "<th>Observed (Wilson 95%)</th><th>95% if calibrated</th><th>Inside</th></tr>")
        for _, r in t.iterrows():
            out.append(
                f"<tr><td>{_e(r['forecaster'])}</td><td>{_e(r['period'])}</td><td class='num'>{r['bin']}</td>"
                f"<td class='num'>{r['count']:,}</td><td class='num'>{r['events']:,}</td><td class='num'>"
                f"{100 * r['forecast_low']:.2f}–{100 * r['forecast_high']:.2f}%</td><td class='num'>"
                f"{100 * r['mean_forecast']:.2f}%</td><td class='num'>{100 * r['observed']:.2f}% "
                f"({100 * r['ci_low']:.2f}–{100 * r['ci_high']:.2f}%)</td><td class='num'>"
                f"{100 * r['expected_low']:.2f}–{100 * r['expected_high']:.2f}%</td>"
                f"<td>{'yes' if r['inside'] else '<b>no</b>'}</td></tr>")
        out.append("</table></details>")
    return "\n".join(out)


DETAIL_LABELS = {"panel": "Panel file", "years": "Years scored", "train_years": "Training years",
                 "rows_scored": "Rows scored", "forecasters": "Forecasters", "reference": "Reference forecaster",
                 "replicates": "Bootstrap replicates", "seed": "Bootstrap seed", "bins": "Reliability bins",
                 "scoring_seconds": "Scoring time (s)"}


def render(ev: Evaluation, figure: Path | None) -> str:
    """The page: summary, score table, reliability, by decade, run details."""
    d = ev.details
    years = d.get("years") or ("?", "?")
    title = d.get("title") or f"Hindcast of {years[0]}–{years[1]}"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{_e(title)} — sim report</title><style>{CSS}"
        "details{margin:.4em 0} summary{cursor:pointer;font-family:Helvetica,Arial,sans-serif;font-size:.92em}"
        "</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f"<p class='sub'>Panel <code>{_e(d.get('panel'))}</code> · {int(d.get('rows_scored', 0)):,} dyad-years "
        f"scored · forecasters: {_e(', '.join(_forecasters(ev)))}"
        + (f" · trained on {_e(_text(d['train_years']))}" if d.get("train_years") else "") + "</p>",
    ]
    if ev.notes:
        parts.append("<p><b>Rows missing:</b></p><ul>" + "".join(f"<li>{_e(n)}</li>" for n in ev.notes) + "</ul>")
    sentences = summary(ev)
    if sentences:
        parts.append("<h2>Summary</h2><ul class='headline'>" + "".join(f"<li>{s}</li>" for s in sentences)
                     + "</ul>")
    parts.append("<h2>Scores</h2>" + score_table(ev))
    parts.append(
        "<p class='note'>Brier skill is 1 − Brier / Brier of the training base rate forecast for every row (0: no "
        "better than the base rate; higher is better). AUC is the chance that a row where the event happened got a "
        "higher forecast than one where it did not (0.5: no discrimination). Intervals (95%) come from a paired "
        f"bootstrap over dyads: {int(d.get('replicates', 0)):,} resamples of the dyads with all their years, "
        f"seed {_e(d.get('seed'))}; both forecasters are scored on the same resamples. <code>fatal_any</code> is "
        "scored only on rows with no dispute the year before (a running dispute carries its fatality code).</p>")
    if figure is not None:
        parts.append("<h2>Reliability</h2>" + _img(figure, "Reliability diagrams"))
        parts.append(
            f"<p class='note'>Each forecaster's rows are sorted by forecast and cut into {_e(d.get('bins'))} bins "
            "of equal count. A point is a bin's mean forecast and the share of its rows where the event happened; "
            "the shaded bar is where that share falls with 95% probability if the forecasts are right: the 2.5% and "
            "97.5% quantiles of Binomial(rows, mean forecast) over rows (slightly wide, since the forecasts in a bin "
            "differ). A hollow point is outside its bar. Both axes are logarithmic; an observed 0 is drawn on "
            "the bottom edge.</p>")
    parts.append("<h3>Reliability tables</h3>" + reliability_tables(ev))
    parts.append("<h2>By decade</h2>" + decade_table(ev))
    parts.append("<p class='note'>Brier skill against the training base rate and AUC of the rows of each decade "
                 "(clipped to the years scored).</p>")
    parts.append("<h2>All scores</h2>" + long_table(ev))
    parts.append("<p class='note'>Log score: mean ln of the probability given to what happened, forecasts clipped "
                 "to [0.001, 0.999]; higher is better.</p>")
    parts.append("<h2>Run details</h2><table>")
    for key, v in d.items():
        if key in ("title", "base_rates"):
            continue
        label = DETAIL_LABELS.get(key, key.replace("_", " ").capitalize())
        parts.append(f"<tr><th>{_e(label)}</th><td>{_e(v if key == 'seed' else _text(v))}</td></tr>")
    rates = d.get("base_rates") or {}
    parts.append("<tr><th>Training base rates</th><td>" + _e(", ".join(f"{k} {100 * v:.3f}%" for k, v in rates.items()))
                 + "</td></tr></table>")
    parts.append("<p class='note'>Made with sim.</p></body></html>")
    return "\n".join(parts)


def write_report(ev: Evaluation, folder: Path) -> Path:
    """``folder/report.html`` with the reliability figure (also kept as ``fig_reliability.png``)."""
    from ..results import atomic_write

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fig = reliability_figure(ev, folder / FIGURE) if not ev.reliability.empty else None
    path = folder / "report.html"
    atomic_write(path, render(ev, fig))
    return path


__all__ = ["LABELS", "reliability_figure", "render", "summary", "write_report"]
