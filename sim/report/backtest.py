"""The backtest's reliability diagram (PNG) and its Markdown summary."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..analysis.backtest import Backtest


def reliability_figure(bt: Backtest, path: Path) -> Path:
    """Forecast bins against how often their questions resolved yes, with counts.

    Each bin with questions is a point at (mean forecast, share resolved yes) with its
    Wilson 95% interval and its count; the diagonal is perfect reliability. Below, the
    number of questions per bin.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from ..results import atomic_write
    from .figures import STYLE

    t = bt.reliability
    full = t[t["count"] > 0]
    with plt.rc_context(STYLE):
        fig, (ax, hx) = plt.subplots(2, 1, figsize=(6.2, 7.4), gridspec_kw={"height_ratios": [4, 1.2]}, sharex=True)
        ax.plot([0, 100], [0, 100], ls="--", color="#888888", lw=1, label="perfectly reliable")
        for edge in np.unique(np.concatenate([t["bin_low"], t["bin_high"]])):
            ax.axvline(edge * 100, color="#eeeeee", lw=0.8, zorder=0)
        x, y = full["mean_forecast"] * 100, full["observed"] * 100
        err = np.clip([y - full["ci_low"] * 100, full["ci_high"] * 100 - y], 0, None)
        ax.errorbar(x, y, yerr=err, fmt="none", ecolor="#3a6ea5", capsize=3, lw=1)
        ax.scatter(x, y, s=30 + 25 * full["count"], color="#3a6ea5", zorder=3, label="the model (95% interval)")
        for xi, yi, n in zip(x, y, full["count"], strict=True):
            ax.annotate(f"n={n}", (xi, yi), textcoords="offset points", xytext=(-8 if xi > 85 else 8, 8 if yi < 15 else -14),
                        ha="right" if xi > 85 else "left", fontsize=9)
        ax.set_xlim(-3, 103)
        ax.set_ylim(-3, 103)
        ax.set_ylabel("resolved yes (% of the bin's questions)")
        fc = bt.scores["forecasters"]
        ax.set_title("Reliability: forecast against what happened\n", loc="center")
        ax.text(0.5, 1.01, f"{bt.scores['questions']} questions, {bt.scores['yes']} resolved yes. "
                f"Brier: model {fc['model']['brier']:.3f}, base rate {fc['base_rate']['brier']:.3f}, "
                f"50% {fc['half']['brier']:.3f}", transform=ax.transAxes, ha="center", va="bottom", fontsize=9)
        ax.legend(loc="lower right", fontsize=9, frameon=False)
        width = (t["bin_high"] - t["bin_low"]) * 100
        hx.bar(t["bin_low"] * 100, t["count"], width=width, align="edge", color="#c6dbef", edgecolor="#3a6ea5")
        hx.set_ylabel("questions")
        hx.set_xlabel("the model's forecast (%)")
        hx.yaxis.get_major_locator().set_params(integer=True)
        buf = io.BytesIO()  # rendered in memory: a failed write leaves no partial file
        fig.savefig(buf, format="png", bbox_inches="tight", facecolor="white")
        plt.close(fig)
    atomic_write(path, buf.getvalue())
    return path


def _pct(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{100 * x:.1f}%"


def _num(x: Any, fmt: str = ".3f") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return format(x, fmt)


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def summary_markdown(bt: Backtest, figure: str | None) -> str:
    """``summary.md``: what was scored against what, the scores, the table, reliability."""
    s, m = bt.scores, bt.manifest
    fc = s["forecasters"]
    frozen = m.get("calibration_frozen")
    lines = [
        "# Backtest",
        "",
        f"- Questions: `{bt.questions.path}` ({s['questions']}: {s['yes']} resolved yes, {s['no']} no)",
        f"- Chosen by: {_cell(bt.questions.selection)}",
        f"- To be scored against: `{bt.questions.model}`"
        + (f" (commit {m['model_commit'][:12]})" if m.get("model_commit") else " (not found in this checkout)"),
        f"- Scored with: commit {m.get('git_commit') or 'unknown (not a git checkout)'}",
        f"- Tag `calibration-frozen`: {'commit ' + frozen['commit'] if frozen else 'does not exist in this checkout'}",
        "- Runs: " + "; ".join(f"{sc['scenario']} {sc['runs']:,} runs, seed {sc['seed']}, {sc['horizon_months']} months"
                              for sc in m["scenarios"]),
        "",
    ]
    for w in bt.warnings:
        lines.append(f"> **Warning:** {_cell(w)}")
    if bt.warnings:
        lines.append("")
    lines += [
        "## Scores",
        "",
        "| forecaster | Brier (lower is better) | log score (higher is better) | model's Brier skill against it |",
        "|---|---:|---:|---:|",
        f"| the model | {_num(fc['model']['brier'])} | {_num(fc['model']['log'])} | |",
        f"| base rate | {_num(fc['base_rate']['brier'])} | {_num(fc['base_rate']['log'])} | {_num(s['brier_skill']['vs_base_rate'], '+.3f')} |",
        f"| 50% for all | {_num(fc['half']['brier'])} | {_num(fc['half']['log'])} | {_num(s['brier_skill']['vs_half'], '+.3f')} |",
        "",
        f"Monte Carlo standard error of the model's Brier score: {_num(s['brier_mc_se'], '.4f')}. "
        f"Log scores clip forecasts to [{s['log_floor']:g}, {1 - s['log_floor']:g}]. "
        "A positive skill means the model beat that forecaster.",
        "",
        "## Questions",
        "",
        "| id | scenario | window | forecast (95% MC interval) | base rate | answer | Brier: model | base rate |",
        "|---|---|---|---:|---:|---|---:|---:|",
    ]
    for r in bt.rows:
        lines.append(
            f"| {r['id']} | {r['scenario']} | {r['window']} | {_pct(r['forecast'])} ({_pct(r['ci_low'])} – {_pct(r['ci_high'])}) "
            f"| {_pct(r['base_rate'])} | {r['answer']} ({r['resolved_on']}) | {_num(r['brier_model'])} | {_num(r['brier_base_rate'])} |"
        )
    lines += ["", "Questions in full, with sources:", ""]
    for r in bt.rows:
        lines.append(f"- **{r['id']}**: {_cell(r['question'])} Outcome: {_cell(r['outcome_description'])}. "
                     f"Resolution: {_cell(r['resolution_source'])}. Base rate: {_cell(r['base_rate_source'])}.")
    lines += [
        "",
        "## Reliability",
        "",
        "| forecast bin | questions | mean forecast | resolved yes (95% interval) |",
        "|---|---:|---:|---|",
    ]
    for _, b in bt.reliability.iterrows():
        obs = f"{_pct(b['observed'])} ({_pct(b['ci_low'])} – {_pct(b['ci_high'])})" if b["count"] else "-"
        lines.append(f"| {_pct(b['bin_low'])} – {_pct(b['bin_high'])} | {int(b['count'])} | {_pct(b['mean_forecast'])} | {obs} |")
    if figure:
        lines += ["", f"![Reliability diagram]({figure})"]
    return "\n".join(lines) + "\n"


__all__ = ["reliability_figure", "summary_markdown"]
