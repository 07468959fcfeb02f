"""Run mode: settings from the scenario's declarations, the Monte Carlo in a worker thread,
the outcome table beside the report's figures, a chosen run's story, downloads.

What a run does here is what ``sim run`` does, with the same library functions:
:func:`sim.workflows.run_with_uncertainty` (:func:`sim.run`, then with "model uncertainty" the
sweep beside the headline), then :func:`sim.workflows.save_run` into a new folder under the
outputs folder (data files, figures, ``report.html``, manifest).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import solara
import solara.lab

from ..outputs import default_output_dir
from ..play.html import write_story
from ..play.story import typical_replicates
from . import state
from .config import CONFIG
from .jobs import Job
from .logic import lever_rows, parameter_rows, zip_folder
from .widgets import JobStatus, Png, Problems, Table, pct, start_job


def run_job(scn: Any, runs: int, seed: int, levers: list[str], unc: tuple[int, int] | None):
    """The work of the Run button, done in the worker thread (what ``sim run`` does:
    :func:`sim.workflows.run_with_uncertainty`, then :func:`sim.workflows.save_run`)."""
    from ..workflows import run_with_uncertainty, save_run

    def work(job: Job) -> dict[str, Any]:
        job.begin("Monte Carlo", runs)
        res = run_with_uncertainty(scn, uncertainty=unc, stage=job.begin, cancelled=lambda: job.cancel_requested,
                                   runs=runs, seed=seed, levers=levers or None, progress=job.progress)
        job.begin("Writing the run folder and report")
        folder = save_run(res, default_output_dir(res, CONFIG.outputs))
        out = {"res": res, "folder": Path(folder), "scn": scn, "levers": list(levers), "runs": runs, "seed": seed}
        state.run_result.set(out)
        return out

    return work


@solara.component
def RunView(base: Any, scn: Any):
    if base is None:
        solara.Info("Choose a scenario above (or upload one) to run it.")
        return
    with solara.Columns([1, 3.4], classes=["sim-run"]):
        RunControls(base, scn)
        RunResults()


@solara.component
def RunControls(base: Any, scn: Any):
    meta = base.spec.meta
    runs = state.runs.value if state.runs.value is not None else int(meta.runs)
    seed = state.seed.value if state.seed.value is not None else int(meta.seed)
    job = state.run_job.value
    _ = state.run_tick.value
    busy = job is not None and job.running

    def go() -> None:
        unc = (int(state.uncertainty_sets.value), int(state.uncertainty_runs.value)) if state.uncertainty.value else None
        start_job(state.run_job, state.run_tick, run_job(scn, int(runs), int(seed), list(state.levers.value), unc),
                  "Monte Carlo run")

    with solara.Card("Run settings", margin=0, classes=["sim-run-settings"]):
        with solara.Row():
            solara.InputInt("Runs", value=runs, on_value=state.runs.set, classes=["sim-runs"])
            solara.InputInt("Seed", value=seed, on_value=state.seed.set, classes=["sim-seed"])
        Levers(base)
        Overrides(base)
        with solara.Div(classes=["sim-uncertainty-toggle"]):
            solara.Checkbox(label="Model uncertainty (--uncertainty): the range across plausible inputs",
                            value=state.uncertainty)
        if state.uncertainty.value:
            with solara.Row():
                solara.InputInt("parameter sets", value=state.uncertainty_sets, classes=["sim-unc-sets"])
                solara.InputInt("runs per set", value=state.uncertainty_runs, classes=["sim-unc-runs"])
        bad = [] if runs >= 1 and seed >= 0 else ["sim dashboard: --runs/--seed: runs must be at least 1 and seed 0 or more"]
        Problems(bad)
        solara.Button("Run", on_click=go, disabled=busy or scn is None or bool(bad), color="primary",
                      classes=["sim-run-button"])
        JobStatus(job, state.run_tick.value)
        if scn is not None:
            choice = state.current_choice()
            ref = Path(choice.ref).name if choice is not None and choice.upload else choice.ref if choice else str(base.path)
            if Path(ref).is_absolute() and Path(ref).is_relative_to(Path.cwd()):
                ref = str(Path(ref).relative_to(Path.cwd()))
            cmd = " ".join(["sim run", ref,
                            f"--runs {runs}", f"--seed {seed}", *[f"--set {o}" for o in state.overrides.value],
                            *[f"--lever {lv}" for lv in state.levers.value],
                            *(["--uncertainty"] if state.uncertainty.value else [])])
            solara.HTML(tag="div", unsafe_innerHTML=f"The same on the command line: <code>{html.escape(cmd)}</code>",
                        classes=["sim-note", "sim-command"])


@solara.component
def Levers(scn: Any):
    rows = lever_rows(scn)
    if not rows:
        solara.Text("This scenario declares no levers.", classes=["sim-note"])
        return
    pulled = set(state.levers.value)

    def toggle(key: str, on: bool) -> None:
        now = [k for k in state.levers.value if k != key]
        state.levers.set(tuple(now + [key] if on else now))

    solara.Text(f"Levers pulled from the start (--lever): {len(pulled)} of {len(rows)}", classes=["sim-section-title"])
    with solara.Column(gap="0px", style={"max-height": "240px", "overflow-y": "auto", "border": "1px solid #eee",
                                         "padding": "2px 6px"}):
        for r in rows:
            with solara.Div(classes=["sim-lever", f"sim-lever-{r['actor']}-{r['lever']}"], style={"margin": "0"}):
                solara.Checkbox(label=f"{r['key']} — {r['description']}", value=r["key"] in pulled,
                                on_value=lambda on, k=r["key"]: toggle(k, on))


@solara.component
def Overrides(scn: Any):
    rows = solara.use_memo(lambda: parameter_rows(scn), [scn])
    by_path = {r["path"]: r for r in rows}
    sel, set_sel = solara.use_state(None)
    value, set_value = solara.use_state("")
    free, set_free = solara.use_state("")

    def add(item: str) -> None:
        path = item.partition("=")[0].strip()
        kept = [o for o in state.overrides.value if o.partition("=")[0].strip() != path]
        state.overrides.set(tuple([*kept, item.strip()]))

    solara.Text("Overrides (--set PATH=VALUE)", classes=["sim-section-title"])
    solara.v.Autocomplete(label=f"Parameter ({len(rows)} declared)", items=[r["path"] for r in rows], v_model=sel,
                          on_v_model=lambda v: (set_sel(v), set_value(str(by_path[v]["value"]) if v in by_path else "")),
                          clearable=True, dense=True, class_="sim-param")
    r = by_path.get(sel)
    if r is not None:
        rng = "" if r["lo"] is None else f" · allowed {r['lo']:g} to {r['hi']:g}" + (" (whole numbers)" if r["integer"] else "")
        solara.Text(f"now {r['value']} · {r['kind']}{': ' + r['note'] if r['note'] else ''}{rng}", classes=["sim-note"])
        with solara.Row(style={"align-items": "center"}):
            solara.InputText("New value", value=value, on_value=set_value, classes=["sim-param-value"])
            solara.Button("Set", on_click=lambda: add(f"{sel}={value}"), disabled=not str(value).strip(),
                          classes=["sim-param-set"], outlined=True)
    with solara.Row(style={"align-items": "center"}):
        solara.InputText("or type PATH=VALUE", value=free, on_value=set_free, classes=["sim-set-text"], continuous_update=True)
        solara.Button("Add", on_click=lambda: (add(free), set_free("")), disabled="=" not in free,
                      classes=["sim-set-add"], outlined=True)
    if state.overrides.value:
        with solara.Row(style={"flex-wrap": "wrap"}, gap="4px"):
            for o in state.overrides.value:
                solara.Button(f"{o}  ✕", text=True, classes=["sim-override"],
                              on_click=lambda o=o: state.overrides.set(tuple(x for x in state.overrides.value if x != o)))


def outcome_rows(res: Any) -> tuple[list[str], list[list[str]]]:
    """The outcome table as the page shows it: :meth:`Results.outcome_rows`, in percent."""
    unc = (res.uncertainty or {}).get("outcomes") or {}
    headers = ["Outcome", "Probability", "95% interval"] + (["Across inputs (10–90%)"] if unc else []) + \
        ["When: median (middle half)"]
    rows = []
    for r in res.outcome_rows():
        lo, hi = r["ci95"]
        row = [f"{html.escape(r['description'])}<br><code class='sim-name'>{html.escape(r['outcome'])}</code>",
               pct(r["probability"]), f"{pct(lo)} – {pct(hi)}"]
        if unc:
            u = unc.get(r["outcome"])
            row.append(f"{pct(u['p10'], 1)} – {pct(u['p90'], 1)}" if u else "-")
        row.append(f"{r['median_date']} ({r['q1_date']} – {r['q3_date']})" if r["median_date"] else "-")
        rows.append(row)
    return headers, rows


@solara.component
def RunResults():
    out = state.run_result.value
    if out is None:
        solara.Info("Set the runs, seed, levers and overrides, and press Run. The outcome table, the report's figures, "
                    "a run's story and the run folder appear here.")
        return
    res, folder = out["res"], out["folder"]
    head = (f"{res.title} — {res.runs:,} runs, seed {res.seed}, {res.horizon} months from {res.date(1)}"
            + (f"; levers: {', '.join(res.levers)}" if res.levers else "")
            + (f"; overrides: {', '.join(f'{k}={v}' for k, v in res.manifest.get('overrides', {}).items())}"
               if res.manifest.get("overrides") else ""))
    solara.Text(head, classes=["sim-section-title", "sim-run-head"])
    if not res.complete:
        solara.Warning(f"Incomplete: stopped ({res.stopped_by}) after {res.runs:,} of {res.runs_requested:,} runs; "
                       "the runs that finished are shown and saved.", classes=["sim-incomplete"])
    headers, rows = outcome_rows(res)
    with solara.Row(classes=["sim-run-outcomes"], style={"align-items": "flex-start", "flex-wrap": "wrap"}):
        Table(headers, rows, "sim-outcomes", numeric=list(range(1, len(headers))), raw=[0])
        Png(folder / "fig_outcomes.png", "Outcome probabilities with 95% intervals"
            + (" and the 10–90% range across plausible inputs" if res.uncertainty else ""))
    if res.uncertainty is not None:
        u = res.uncertainty
        desc = {o.name: o.description for o in res.outcomes}
        items = "".join(f"<li><b>{html.escape(desc.get(k, k))}</b>: {html.escape(v['words'])}</li>"
                        for k, v in (u.get("outcomes") or {}).items())
        solara.HTML(tag="p", unsafe_innerHTML=html.escape(u["words"]), classes=["sim-uncertainty"])
        if items:
            solara.Details(summary="Model uncertainty, outcome by outcome, in words", children=[
                solara.HTML(tag="ul", unsafe_innerHTML=items, classes=["sim-words", "sim-uncertainty-words"])])
    with solara.lab.Tabs():
        for key, label in (("cumulative", "Cumulative"), ("escalation", "Rungs over time"), ("relations", "Relations"),
                           ("casualties", "Casualties")):
            with solara.lab.Tab(label):
                p = folder / f"fig_{key}.png"
                if p.is_file():
                    Png(p)
                else:
                    solara.Text("This scenario has nothing to show here.", classes=["sim-note"])
    StoryPanel(out)
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.FileDownload(lambda: zip_folder(folder), filename=f"{folder.name}.zip", label="Download the run folder (zip)")
        if (folder / "report.html").is_file():
            solara.FileDownload(lambda: (folder / "report.html").read_bytes(), filename="report.html",
                                label="Download the report", mime_type="text/html")
        solara.Text(f"Saved in {folder}", classes=["sim-note", "sim-folder"])


@solara.component
def StoryPanel(out: dict[str, Any]):
    res = out["res"]
    typical = solara.use_memo(lambda: typical_replicates(res), [res])
    rep, set_rep = solara.use_state(next(iter(typical.values()), 0))
    job = state.story_job.value
    _ = state.story_tick.value
    busy = job is not None and job.running

    def tell() -> None:
        from ..workflows import run_story

        k = int(rep)
        scn, folder = out["scn"], out["folder"]

        def work(j: Job) -> dict[str, Any]:
            j.begin(f"Telling run {k}")
            st = run_story(scn, res, k)
            files = write_story(st, folder / "stories", name=f"story_replicate_{k}")
            return {"story": st, "files": files, "replicate": k, "run": id(res)}

        start_job(state.story_job, state.story_tick, work, "Story")

    solara.Text("The story of one run", classes=["sim-section-title"])
    desc = {o.name: o.description for o in res.outcomes}
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.InputInt("Run (replicate)", value=rep, on_value=set_rep, classes=["sim-replicate"])
        if typical:
            labels = {f"a run in which {desc.get(n, n).lower()} (run {k})": k for n, k in typical.items()}
            solara.Select("or a typical run", values=list(labels), value=None,
                          on_value=lambda v: set_rep(labels[v]) if v in labels else None, style={"min-width": "360px"})
        solara.Button("Tell its story", on_click=tell, disabled=busy or not 0 <= int(rep) < res.runs_requested,
                      outlined=True, classes=["sim-tell"])
    JobStatus(job, state.story_tick.value, cancel=False)
    if job is not None and job.state == "done" and job.result and job.result["run"] == id(res):
        st = job.result["story"]
        got = st.happened()
        solara.Text(f"Run {st.replicate} of seed {st.seed}: "
                    + ("; ".join(f"{o['description']} ({st.date(o['month'])})" for o in got) if got else "none of the outcomes happened"),
                    classes=["sim-note"])
        Png(job.result["files"]["figure"])
        solara.HTML(tag="pre", unsafe_innerHTML=html.escape(st.text()), classes=["sim-story"])
