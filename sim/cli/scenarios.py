"""The scenario commands: ``sim validate`` and ``sim sources`` (a scenario checked, and what
each of its numbers rests on: :func:`sim.evidence.sources.provenance_rows`), ``sim list``
(:func:`sim.loading.list_scenarios`) and ``sim schema`` (:func:`sim.scenario.schema.json_schema`).
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from ..scenario.errors import InputError
from . import common
from .common import PluginOpt, ReplaceOpt, ScenarioArg, SetOpt, fail

PLACE = 30


def validate(
    scenario: ScenarioArg,
    set_: SetOpt = None,
    plugin: PluginOpt = None,
    replace_rule: ReplaceOpt = False,
) -> None:
    """Check a scenario: schema, names, facts, derivations; print provenance coverage.

    Also warns about outcomes decided at the start (true in every run from
    month 1, or impossible).
    """
    from ..evidence.sources import coverage, provenance_rows
    from ..loading import load_scenario

    try:
        common.plugins("validate", plugin, replace_rule)
        scn = load_scenario(scenario, overrides=set_ or None)
    except InputError as exc:
        fail(exc, "validate")
        return
    rows = provenance_rows(scn)
    cov = coverage(rows)
    kinds = cov["by_kind"]
    n = cov["parameters"]
    covered = cov["with_source"]
    typer.echo(f"{scn.path}: valid ({len(scn.spec.states)} states, {len(scn.spec.flashpoints)} flashpoints, {len(scn.spec.outcomes)} outcomes)")
    split = ", ".join(f"{kinds.get(k, 0)} {k}" for k in ("fact", "calibration", "assumption"))
    typer.echo(f"provenance: {covered}/{n} numeric parameters have a source ({100 * covered / max(n, 1):.0f}%): {split}")
    ks = cov["set_by_scenario_by_kind"]
    typer.echo(
        f"  set by the scenario: {cov['set_by_scenario']} ({ks['fact']} fact, {ks['calibration']} calibration, "
        f"{ks['assumption']} assumption); mechanism defaults: {n - cov['set_by_scenario']}; "
        f"fact cards cited: {len(cov['facts_cited'])}"
    )
    missing = [r["path"] for r in rows if r["kind"] == "none"]
    if missing:
        typer.echo("without provenance:")
        for p in missing:
            typer.echo(f"  {p}")
    _decided(scn)


def _decided(scn) -> None:
    """Warn (stderr, one line each) about the outcomes decided at the start (:mod:`sim.analysis.decided`)."""
    from ..analysis.decided import MAX_BYTES, MIN_RUNS, bytes_per_run, check_runs, decided_outcomes
    from ..api import kernels_to_compile
    from ..runner import ChunkFailed

    runs = check_runs(scn)
    if runs == 0:
        typer.echo(f"note: outcomes that hold from the first month were not checked: one run of this scenario holds "
                   f"{bytes_per_run(scn) / 2**20:.0f} MB of state, so {MIN_RUNS} runs would exceed "
                   f"{MAX_BYTES // 2**20} MB (thresholds that cannot be crossed were checked)", err=True)
    else:
        try:
            if kernels_to_compile(scn):
                typer.echo("compiling the model's kernels for the one-month check (first run only)", err=True)
        except Exception:  # noqa: BLE001 - a notice only
            pass
    try:
        decided = decided_outcomes(scn, runs=runs)
    except ChunkFailed as exc:
        common.chunk_failed(exc, "validate", "The scenario is valid, but the one-month check of its outcomes could not run.")
        return
    for d in decided:
        typer.echo(_warning(scn, d), err=True)


def _warning(scn, d) -> str:
    """``file:line:col: outcomes.NAME: warning: ...``: the place the outcome is declared (the
    file that declares it, a base file for an inherited one), in the form of the input errors."""
    from ..scenario.errors import Mark, Problem
    from ..scenario.yamlsafe import locate

    mark = locate(scn.tree, ("outcomes", d.outcome), prefer_key=True) if scn.tree is not None else None
    return Problem(mark or Mark(str(scn.path)), f"outcomes.{d.outcome}", f"warning: {d.message()}").format("sim validate")


def sources(
    scenario: ScenarioArg,
    set_: SetOpt = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Only parameters of this source kind: fact, calibration, assumption, none.")] = None,
    scenario_only: Annotated[bool, typer.Option("--scenario-only", help="Leave out mechanism defaults the scenario does not set.")] = False,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """What every numeric input rests on: parameter, value, source kind, facts and citations."""
    from ..evidence.sources import coverage, provenance_rows
    from ..loading import load_scenario
    from ..scenario.errors import option_error

    try:
        if fmt not in ("table", "csv", "json"):
            raise option_error("--format", f"must be table, csv or json (got {fmt!r})")
        if kind is not None and kind not in ("fact", "calibration", "assumption", "none"):
            raise option_error("--kind", f"must be fact, calibration, assumption or none (got {kind!r})")
        scn = load_scenario(scenario, overrides=set_ or None)
    except InputError as exc:
        fail(exc, "sources")
        return
    rows = provenance_rows(scn)
    cov = coverage(rows)
    if kind:
        rows = [r for r in rows if r["kind"] == kind]
    if scenario_only:
        rows = [r for r in rows if r["origin"] != "default"]
    if fmt == "json":
        typer.echo(json.dumps({"scenario": scn.name, "coverage": cov, "parameters": rows}, indent=2, default=str))
    elif fmt == "csv":
        _sources_csv(rows)
    else:
        _sources_table(scn, cov, rows)


def _sources_csv(rows: list[dict]) -> None:
    import csv

    w = csv.writer(sys.stdout)
    w.writerow(["path", "value", "kind", "origin", "facts", "note", "fact_statements", "citations"])
    for r in rows:
        refs = r["fact_refs"] + r["cited_refs"]
        w.writerow([r["path"], r["value"], r["kind"], r["origin"], " ".join(f["id"] for f in refs), r["derive"] or r["note"],
                    " | ".join(f["statement"] for f in refs), " | ".join(f["citation"] for f in refs)])


def _sources_table(scn, cov: dict, rows: list[dict]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    by = cov["by_kind"]
    t = Table(
        title=f"{scn.name}: sources of {cov['parameters']} numeric parameters — {by['fact']} fact, "
        f"{by['calibration']} calibration, {by['assumption']} assumption, {by['none']} without "
        f"({cov['set_by_scenario']} set by the scenario, the rest mechanism defaults)",
        title_justify="left",
        show_lines=True,
    )
    t.add_column("Parameter", overflow="fold", max_width=38)
    t.add_column("Value", justify="right", max_width=18)
    t.add_column("Kind")
    t.add_column("Source", overflow="fold")
    for r in rows:
        if r["kind"] == "fact":
            text = " ".join(
                f"[{f['id']}] {f['statement']} ({f.get('figure') or 'no figure'}; {f['citation']})" for f in r["fact_refs"]
            )
            if r["derive"]:
                text = f"derive: {r['derive']}\n" + text
        else:
            text = r["note"] or "-"
            for f in r["cited_refs"]:
                text += f"\n  [{f['id']}] {f['statement']} ({f['citation']})"
        origin = " (default)" if r["origin"] == "default" else ""
        t.add_row(escape(r["path"] + origin), escape(r["value"]), r["kind"], escape(text))
    Console(width=max(140, Console().width)).print(t)


def list_() -> None:
    """List the shipped scenarios."""
    from rich.console import Console
    from rich.table import Table

    from ..loading import list_scenarios

    t = Table(title="Shipped scenarios (run with: sim run NAME)", title_justify="left")
    for c in ("name", "title", "start", "months"):
        t.add_column(c)
    for s in list_scenarios():
        t.add_row(s["name"], s["title"], s["start"], s["horizon_months"])
    Console().print(t)


def schema() -> None:
    """Print the JSON Schema of scenario files (for editor validation and completion)."""
    from ..scenario.schema import json_schema

    typer.echo(json.dumps(json_schema(), indent=2))


def register(app: typer.Typer) -> None:
    app.command()(validate)
    app.command()(sources)
    app.command("list")(list_)
    app.command()(schema)
