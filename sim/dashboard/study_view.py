"""Study mode: the folders ``sim sweep`` and ``sim compare`` write, and ``sim discover``'s
boxes and rules over a sweep.

The sweep's indices come from its ``indices.csv`` and ``summary.json``, the comparison's
from ``comparison.csv`` and ``summary.json``, the figures are the ones the CLI drew;
discovery calls :func:`sim.analysis.discover.discover` on the folder, as ``sim discover``.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import solara

from ..analysis.discover import discover
from ..analysis.sweep_io import read_sweep
from ..scenario.errors import InputError
from . import state
from .config import CONFIG
from .jobs import Job, error_lines
from .logic import figures, find_studies, read_compare, study_kind, within
from .widgets import JobStatus, Png, Problems, Table, pct, start_job


def open_folder(path: str) -> None:
    """Open a study folder under the folder the dashboard opens paths in (its kind checked),
    or show why it cannot be opened."""
    try:
        within(path, CONFIG.opens)
        kind = study_kind(path)
    except InputError as exc:
        state.study_problems.set(tuple(error_lines(exc)))
        state.study_open.set(None)
        return
    state.study_problems.set(())
    state.study_open.set({"path": str(Path(path.strip()).expanduser()), "kind": kind})


@solara.component
def StudyView():
    scan, set_scan = solara.use_state(0)
    found = solara.use_memo(lambda: find_studies(CONFIG.studies), [scan])
    labels = {f"{f['kind']}: {f['path']}": f["path"] for f in found}
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Select(f"Sweeps and comparisons under {', '.join(str(p) for p in CONFIG.studies)} ({len(found)})",
                      values=list(labels), value=None, style={"min-width": "480px"},
                      on_value=lambda v: (state.study_folder.set(labels[v]), open_folder(labels[v])) if v in labels else None)
        solara.Button("Look again", on_click=lambda: set_scan(scan + 1), text=True)
    with solara.Row(style={"align-items": "center"}):
        solara.InputText(f"Folder written by sim sweep or sim compare (under {CONFIG.opens}/)", value=state.study_folder,
                         classes=["sim-study-folder"], style={"min-width": "560px"})
        solara.Button("Open", on_click=lambda: open_folder(state.study_folder.value), color="primary",
                      classes=["sim-study-open"], disabled=not state.study_folder.value.strip())
    Problems(state.study_problems.value)
    opened = state.study_open.value
    if opened is None:
        solara.Info("Make a sweep (sim sweep karabakh --method lhs --samples 64 --runs 200) or a comparison "
                    "(sim compare karabakh --b-lever armenia.freeze_csto), then open its folder here.")
    elif opened["kind"] == "sweep":
        SweepView(opened["path"])
    else:
        CompareView(opened["path"])


def index_table(indices: Any, outcome: str) -> tuple[list[str], list[list[str]]]:
    """The rows of ``indices.csv`` for one outcome, every column the method wrote (numbers to
    three decimals; ``driver`` yes or blank; ``flag``, why an index is not to be trusted, as written)."""
    sub = indices[indices["outcome"] == outcome].drop(columns=["outcome"])
    cols = [c for c in sub.columns if c != "input"]

    def cell(c: str, v: Any) -> str:
        if isinstance(v, bool) or type(v).__name__ == "bool_":
            return "yes" if v else ""
        if isinstance(v, str):
            return v
        if v != v:
            return "" if c == "flag" else "-"
        return f"{v:.3f}"

    rows = [[r["input"], *[cell(c, r[c]) for c in cols]] for _, r in sub.iterrows()]
    return ["input", *cols], rows


@solara.component
def SweepView(path: str):
    import pandas as pd


    def read():
        try:
            sets, summary = read_sweep(path)
            return sets, summary, pd.read_csv(Path(path) / "indices.csv"), []
        except InputError as exc:
            return None, None, None, error_lines(exc)
        except (OSError, ValueError, KeyError) as exc:
            return None, None, None, [f"{path}: cannot read indices.csv ({type(exc).__name__}: {exc})"]

    sets, summary, indices, problems = solara.use_memo(read, [path])
    outcomes = list(summary["outcomes"]) if summary else []
    chosen, set_chosen = solara.use_state(outcomes[0] if outcomes else None)
    if problems:
        Problems(problems)
        return
    if chosen not in outcomes:
        chosen = outcomes[0] if outcomes else None
    solara.Text(f"Sweep of {summary['scenario']}: {summary['method']}, {summary['sets']:,} parameter sets × "
                f"{summary['runs_per_set']:,} runs, seed {summary['seed']}", classes=["sim-section-title", "sim-sweep-head"])
    solara.Text("Inputs: " + "; ".join(i.get("describe", i["name"]) for i in summary["inputs"]), classes=["sim-note"])
    if chosen is None:
        return
    labels = {f"{summary['outcomes'][o]['description']} ({o})": o for o in outcomes}
    solara.Select("Outcome", values=list(labels), value=next(k for k, v in labels.items() if v == chosen),
                  on_value=lambda v: set_chosen(labels[v]) if v in labels else None, classes=["sim-study-outcome"],
                  style={"max-width": "720px"})
    o = summary["outcomes"][chosen]
    solara.Text(f"Probability across the sets: mean {pct(o['mean'], 1)}, 10–90% {pct(o['p10'], 1)} – {pct(o['p90'], 1)}; "
                f"Monte Carlo noise is {100 * o['mc_share']:.0f}% of the variance across sets.", classes=["sim-note"])
    if o.get("words"):
        solara.Text(o["words"], classes=["sim-sweep-words"])
    headers, rows = index_table(indices, chosen)
    with solara.Columns([1, 1.3]):
        with solara.Column(gap="0px"):
            solara.Text("Sensitivity indices (indices.csv; *_conf: 95% half-width)", classes=["sim-section-title"])
            Table(headers, rows, "sim-indices", numeric=list(range(1, len(headers))))
        Png(next(iter(figures(path, f"indices_{chosen}")), None), "Index bars (fig_indices)")
    Png(next(iter(figures(path, f"inputs_{chosen}")), None), "Probability in each set against the top inputs (fig_inputs)")
    Discovery(path, chosen, o["description"])


@solara.component
def Discovery(path: str, outcome: str, description: str):
    method, set_method = solara.use_state("both")
    likely, set_likely = solara.use_state(0.5)
    density, set_density = solara.use_state(0.8)
    job = state.discover_job.value
    _ = state.discover_tick.value

    def find() -> None:
        args = (path, outcome, method, float(likely), float(density))

        def work(j: Job) -> dict[str, Any]:
            j.begin(f"Discovery (PRIM/CART) for {outcome}")
            return {"args": args, "found": discover(path, outcome, method=method, likely=float(likely),
                                                    density=float(density))}

        start_job(state.discover_job, state.discover_tick, work, "Discovery")

    with solara.Card("Discovery: where is it likely? (sim discover)", margin=0, classes=["sim-discovery"]):
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.Select("Method", values=["both", "prim", "cart"], value=method, on_value=set_method)
            solara.InputFloat("PRIM: likely at", value=likely, on_value=set_likely)
            solara.InputFloat("PRIM: least density", value=density, on_value=set_density)
            solara.Button("Find boxes and rules", on_click=find, disabled=job is not None and job.running,
                          outlined=True, classes=["sim-discover"])
        JobStatus(job, state.discover_tick.value, cancel=False)
        if job is not None and job.state == "done" and job.result["args"][:2] == (path, outcome):
            f = job.result["found"]
            items = "".join(f"<li>{html.escape(w)}</li>" for w in f["words"])
            solara.HTML(tag="div", unsafe_innerHTML=f"<p>{html.escape(description)}: {pct(f['base'], 1)} of all runs in "
                        f"the sweep.</p><ul class='sim-words'>{items}</ul>", classes=["sim-discover-words"])


@solara.component
def CompareView(path: str):
    def read():
        try:
            t, s = read_compare(path)
            return t, s, []
        except InputError as exc:
            return None, None, error_lines(exc)

    table, summary, problems = solara.use_memo(read, [path])
    if problems:
        Problems(problems)
        return
    a, b = summary["a"], summary["b"]
    solara.Text(f"Comparison: A = {a['label']} ({a['scenario']}), B = {b['label']} ({b['scenario']}); "
                f"{a['runs']:,} runs each, {'paired (common random numbers)' if summary.get('paired') else 'independent'}",
                classes=["sim-section-title", "sim-compare-head"])
    items = "".join(f"<li>{html.escape(w)}</li>" for w in summary.get("words", []))
    solara.HTML(tag="ul", unsafe_innerHTML=items, classes=["sim-words"])
    rows = []
    for name, r in table.iterrows():
        rows.append([f"{html.escape(str(r['description']))}<br><code class='sim-name'>{html.escape(str(name))}</code>",
                     pct(r["p_a"], 1), pct(r["p_b"], 1), f"{100 * r['diff']:+.1f}",
                     f"{100 * r['ci_low']:+.1f} to {100 * r['ci_high']:+.1f}", f"{r['p_adjusted']:.3g}",
                     "yes" if str(r["significant"]) == "True" else "no"])
    with solara.Columns([1.2, 1]):
        Table(["Outcome", "A", "B", "B − A (points)", "95% interval", "adjusted p", "significant"], rows,
              "sim-comparison", numeric=[1, 2, 3, 4, 5], raw=[0])
        Png(next(iter(figures(path, "differences")), None), "B − A with 95% intervals (fig_differences)")
    with solara.Columns([1, 1]):
        Png(next(iter(figures(path, "side_by_side")), None), "A and B side by side (fig_side_by_side)")
        Png(next(iter(figures(path, "events")), None), "Events that differ most (fig_events)")
