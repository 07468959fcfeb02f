"""The one-file HTML report: summary in sentences, table, figures, inputs, run details."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..results import Results

CSS = """
body{font-family:Georgia,'Times New Roman',serif;max-width:980px;margin:2em auto;padding:0 1em;color:#1b1b1b;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.1em} h2{font-size:1.25em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.8em}
.sub{color:#555;margin-top:0} table{border-collapse:collapse;width:100%;font-size:.92em;font-family:Helvetica,Arial,sans-serif}
th,td{border-bottom:1px solid #e2e2e2;padding:.35em .5em;text-align:left;vertical-align:top} th{background:#f3f5f8}
td.num{text-align:right;white-space:nowrap} img{max-width:100%;margin:.6em 0} .note{color:#555;font-size:.9em}
.kind-fact{color:#1a6b2f} .kind-calibration{color:#1f4e8c} .kind-assumption{color:#8a5a00} .kind-none{color:#b00020}
ul.headline li{margin:.3em 0} code{font-size:.9em}
@media print{body{max-width:none} h2{page-break-after:avoid} img{page-break-inside:avoid}}
"""


def _e(x: object) -> str:
    return html.escape(str(x))


def _pct(x: float) -> str:
    return "-" if x != x else (f"{100 * x:.1f}%" if x >= 0.001 or x == 0 else "<0.1%")


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode()
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{data}">'


def replaced_note(manifest: dict) -> str:
    """A warning paragraph when the run replaced stock rules or outcome kinds (``--plugin``
    with ``--replace-rule``): its results are not the stock model's. Empty otherwise."""
    gone = [p for p in manifest.get("custom_parts") or [] if p.get("replaces_stock")]
    if not gone:
        return ""
    what = "; ".join(f"the stock {'rule' if p['what'] == 'rules' else 'outcome kind'} <code>{_e(p['name'])}</code> "
                     f"by module <code>{_e(p['module'])}</code>" for p in gone)
    return (f"<p><b>Stock parts replaced:</b> {what}. These results are those of the model with "
            "that replacement, not of the stock model.</p>")


def headline(res: Results) -> list[str]:
    """A few sentences a planner can read out: the likeliest outcomes and when."""
    rows = sorted(res.outcome_rows(), key=lambda r: -r["probability"])
    out = []
    for r in rows[:5]:
        lo, hi = r["ci95"]
        when = (
            f"; where it happens, typically by {r['median_date']} (middle half {r['q1_date']} to {r['q3_date']})"
            if r["median_date"]
            else ""
        )
        out.append(
            f"{r['description']}: <b>{_pct(r['probability'])}</b> within {res.horizon} months "
            f"(95% interval {_pct(lo)}–{_pct(hi)}){when}."
        )
    rare = [r for r in rows if r["probability"] < 0.01]
    if rare:
        out.append("Below 1%: " + "; ".join(_e(r["description"]) for r in rare) + ".")
    return out


def render(res: Results, figures: dict[str, Path]) -> str:
    m = res.manifest
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{_e(res.title)} — sim report</title><style>{CSS}</style></head><body>",
        f"<h1>{_e(res.title)}</h1>",
        f"<p class='sub'>Scenario <code>{_e(res.scenario)}</code> · starts {_e(res.date(1))} · "
        f"{res.horizon} months · {res.runs:,} Monte Carlo runs · seed {res.seed}"
        + ("" if res.complete else f" · <b>INCOMPLETE: {res.runs:,} of {res.runs_requested:,} runs</b>")
        + "</p>",
    ]
    desc = res.description
    if desc:
        parts.append(f"<p>{_e(desc)}</p>")
    parts.append(replaced_note(m))
    parts.append("<h2>Summary</h2><ul class='headline'>")
    parts += [f"<li>{s}</li>" for s in headline(res)]
    parts.append("</ul>")
    parts.append(
        "<p class='note'>Probabilities are shares of simulated runs in which the outcome happened at least once "
        "within the horizon; intervals are Wilson 95% intervals for that share (Monte Carlo error only, not model "
        "uncertainty). Timing is the month of first occurrence over the runs where it happened.</p>"
    )
    unc = res.uncertainty
    if unc is not None:
        parts.append("<h2>Model uncertainty</h2><p>" + _e(unc["words"]) + "</p>")
        across = unc.get("outcomes") or {}
        if across:
            parts.append("<ul class='headline'>")
            parts += [f"<li>{_e(next(o.description for o in res.outcomes if o.name == k))}: {_e(v['words'])}</li>"
                      for k, v in across.items()]
            parts.append("</ul><p class='note'>The Monte Carlo interval says how precisely the runs pin down the "
                         "probability at the scenario's own values; the range across plausible inputs says how much "
                         "it would change if the uncertain inputs took other values in their stated ranges.</p>")
    parts.append("<h2>Outcomes</h2><table><tr><th>Outcome</th><th>Probability</th><th>95% interval</th>"
                 "<th>Median month</th><th>Middle half</th><th>Runs for ±1 pt</th></tr>")
    for r in res.outcome_rows():
        lo, hi = r["ci95"]
        iqr = f"{r['q1_date']} – {r['q3_date']}" if r["q1_date"] else "-"
        parts.append(
            f"<tr><td>{_e(r['description'])}<br><span class='note'><code>{_e(r['outcome'])}</code></span></td>"
            f"<td class='num'>{_pct(r['probability'])}</td><td class='num'>{_pct(lo)} – {_pct(hi)}</td>"
            f"<td class='num'>{_e(r['median_date'] or '-')}</td><td class='num'>{_e(iqr)}</td>"
            f"<td class='num'>{r['runs_for_1pt']:,}</td></tr>"
        )
    parts.append("</table>")
    if res.caveats:
        parts.append("<h2>Caveats</h2><p class='note'>What the model leaves out or gets wrong in this scenario, "
                     "as its authors state it (<code>meta.caveats</code>): read the numbers above with these in "
                     "mind.</p><ul>")
        parts += [f"<li>{_e(c)}</li>" for c in res.caveats]
        parts.append("</ul>")
    if m.get("stories"):
        parts.append("<h2>Stories</h2><p class='note'>One run told month by month for each outcome: the run, among "
                     "the first sampled, in which it happened closest to its median month.</p><ul>")
        for st in m["stories"]:
            parts.append(f"<li><a href='{_e(st['file'])}'>A run in which: {_e(st['description'])}</a> "
                         f"<span class='note'>(run {st['replicate']})</span></li>")
        parts.append("</ul>")
    captions = {
        "outcomes": "Outcome probabilities",
        "cumulative": "Cumulative probability over time",
        "escalation": "Escalation rungs over time",
        "relations": "Trust, affinity and arms-import shares over time",
        "casualties": "Distribution of deaths",
    }
    parts.append("<h2>Figures</h2>")
    for key, path in figures.items():
        parts.append(_img(path, captions.get(key, key)))
    parts.append("<h2>Key inputs</h2><p class='note'>The inputs this scenario sets, with the kind of source each "
                 "rests on (fact card, calibration, or stated assumption). The provenance appendix at the end gives "
                 "every parameter, mechanism defaults included, with the facts and citations behind it.</p>")
    parts.append(inputs_table(res, scenario_only=True))
    parts.append("<h2>Run details</h2><table>")
    details = [
        ("Scenario file", m.get("scenario_file")),
        ("Resolved scenario SHA-256", m.get("scenario_sha256")),
        ("Overrides", ", ".join(f"{k}={v}" for k, v in (m.get("overrides") or {}).items()) or "none"),
        ("Levers pulled from the start", ", ".join(res.levers) or "none"),
        ("Rules and outcome kinds from outside the package",
         ", ".join(f"{p['name']} ({p['module']}{', replaces the stock one' if p.get('replaces_stock') else ''})"
                   for p in (m.get("custom_parts") or []) if p["what"] in ("rules", "outcomes"))
         or "none"),
        ("Seed / runs / chunk size", f"{res.seed} / {res.runs:,} of {res.runs_requested:,} / {m.get('chunk_size')}"),
        ("Workers / backend", f"{m.get('workers')} / {m.get('backend')}"),
        ("Versions", ", ".join(f"{k} {v}" for k, v in (m.get("versions") or {}).items())),
        ("Git commit", m.get("git_commit") or "n/a"),
        ("Created (UTC)", m.get("created")),
        ("Simulation time", f"{(m.get('timings_s') or {}).get('simulation', 0):.2f} s"),
    ]
    for k, v in details:
        parts.append(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>")
    parts.append("</table>")
    parts.append(appendix(res))
    lever_opts = "".join(f" --lever {lv}" for lv in res.levers)
    game = m.get("from_game")
    if game:  # the continuations of a played game (sim run --from-game)
        parts.append("<p class='note'>Made with sim. This run continues a played game from its state after turn "
                     f"{game.get('turn')}; reproduce with <code>sim run --from-game {_e(game.get('file', 'GAME.json'))} "
                     f"--turn {game.get('turn')} --runs {res.runs_requested}</code>.</p></body></html>")
        return "\n".join(parts)
    parts.append("<p class='note'>Made with sim. Reproduce with <code>sim run scenario.resolved.yaml "
                 f"--seed {res.seed} --runs {res.runs_requested}{_e(lever_opts)}</code> (or <code>sim rerun</code> "
                 "on this folder).</p></body></html>")
    return "\n".join(parts)


def _source_text(r: dict) -> str:
    if r["kind"] == "fact":
        return "fact " + ", ".join(r["facts"]) + (f" (derive: {r['derive']})" if r.get("derive") else "")
    if r["kind"] == "none":
        return "no source"
    return f"{r['kind']}: {r['note']}"


def inputs_table(res: Results, scenario_only: bool = False) -> str:
    rows = ["<table><tr><th>Parameter</th><th>Value</th><th>Source</th></tr>"]
    for r in res.inputs:
        if scenario_only and r["origin"] == "default":
            continue
        origin = " <span class='note'>(default)</span>" if r["origin"] == "default" else ""
        rows.append(
            f"<tr><td><code>{_e(r['path'])}</code>{origin}</td><td class='num'>{_e(r['value'])}</td>"
            f"<td class='kind-{_e(r['kind'])}'>{_e(_source_text(r))}</td></tr>"
        )
    rows.append("</table>")
    return "\n".join(rows)


def appendix(res: Results) -> str:
    """Provenance appendix: every input, what it rests on, and the sources cited."""
    rows = res.inputs
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["kind"]] = counts.get(r["kind"], 0) + 1
    n = len(rows)
    out = [
        "<h2>Provenance appendix: what each input rests on</h2>",
        f"<p>{n} numeric parameters: {counts.get('fact', 0)} from fact cards, {counts.get('calibration', 0)} "
        f"calibrated to published data, {counts.get('assumption', 0)} stated assumptions, "
        f"{counts.get('none', 0)} without a source. Fact cards record what the source documents say "
        "(figures, dates, whose claim), in the project's words; calibrations are described in "
        "docs/CALIBRATION.md; an assumption gives its rationale and cites, in [brackets], the facts it leans on.</p>",
        "<table><tr><th>Parameter</th><th>Value</th><th>Kind</th><th>What it rests on</th></tr>",
    ]
    cited: dict[str, dict] = {}
    for r in rows:
        refs = r.get("fact_refs", []) + r.get("cited_refs", [])
        for f in refs:
            cited[f["id"]] = f
        detail = _e(r["derive"] and f"derive: {r['derive']}" or r["note"] or "")
        if r.get("fact_refs"):
            detail += "".join(
                f"<br><span class='note'>[{_e(f['id'])}] {_e(f['statement'])}"
                + (f" ({_e(f['figure'])})" if f.get("figure") else "") + "</span>"
                for f in r["fact_refs"]
            )
        origin = " <span class='note'>(default)</span>" if r["origin"] == "default" else ""
        out.append(
            f"<tr><td><code>{_e(r['path'])}</code>{origin}</td><td class='num'>{_e(r['value'])}</td>"
            f"<td class='kind-{_e(r['kind'])}'>{_e(r['kind'])}</td><td>{detail}</td></tr>"
        )
    out.append("</table>")
    if cited:
        out.append("<h3>Facts cited</h3><table><tr><th>Fact</th><th>Statement</th><th>Date / confidence</th><th>Source</th></tr>")
        for fid in sorted(cited):
            f = cited[fid]
            out.append(
                f"<tr><td><code>{_e(fid)}</code></td><td>{_e(f['statement'])}"
                + (f" <b>{_e(f['figure'])}</b>" if f.get("figure") else "")
                + f"</td><td>{_e(f.get('date', ''))}<br><span class='note'>{_e(f.get('confidence', ''))}</span></td>"
                f"<td class='note'>{_e(f['citation'])}</td></tr>"
            )
        out.append("</table>")
    return "\n".join(out)


def write_html(res: Results, folder: Path, figures: dict[str, Path]) -> Path:
    from ..results import atomic_write

    path = Path(folder) / "report.html"
    atomic_write(path, render(res, figures))
    return path
