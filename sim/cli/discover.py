"""``sim discover``: where an outcome is likely over a sweep's inputs -- PRIM boxes and CART rules
(:func:`sim.analysis.discover.discover`), stated in words."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ..scenario.errors import InputError
from . import common
from .common import SimCommand, fail

PLACE = 70


def discover(
    sweep_dir: Annotated[Path, typer.Argument(help="A folder written by sim sweep.")],
    outcome: Annotated[str, typer.Option("--outcome", help="The outcome to explain (its name in the scenario).")],
    method: Annotated[str, typer.Option("--method", help="prim, cart or both.")] = "both",
    likely: Annotated[float, typer.Option("--likely", help="PRIM: a set counts as one where the outcome is likely at this probability or more.")] = 0.5,
    density: Annotated[float, typer.Option("--density", help="PRIM: the least share of likely sets the box taken by default must hold.")] = 0.8,
    box: Annotated[int | None, typer.Option("--box", help="PRIM: take this box of the peeling trajectory (its index in the table shown) instead of the default choice.")] = None,
    alpha: Annotated[float, typer.Option("--alpha", help="PRIM: drop restrictions whose quasi-p values are all above this (they do not matter).")] = 0.05,
    out: Annotated[Path | None, typer.Option("--out", help="Write the peeling trajectory (prim_trajectory_OUTCOME.csv, fig_prim_OUTCOME.png) here (default: the sweep folder).")] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print the boxes and rules as JSON.")] = False,
) -> None:
    """Where an outcome is likely: PRIM boxes and CART rules over a sweep's inputs, in words.

    Each box or rule is stated with the probability of the outcome over the runs
    inside it (density), the share of all runs with the outcome that fall inside
    (coverage), and the share of parameter sets inside. PRIM shows its peeling
    trajectory (a table here, a CSV and a figure in the sweep folder or --out); --box
    takes another box of it; each restriction is given its quasi-p value, and those
    above --alpha are dropped as not mattering.
    """
    from ..analysis.discover import discover as run_discover
    from ..files import OutputError
    from ..scenario.errors import option_error

    try:
        if not 0 < alpha < 1:
            raise option_error("--alpha", f"must be between 0 and 1 (got {alpha})")
        found = run_discover(sweep_dir, outcome, method=method, likely=likely, density=density, box=box, alpha=alpha)
    except InputError as exc:
        fail(exc, "discover")
        return
    written: list[Path] = []
    if found["prim"] is not None:
        from ..report.discover import write_discovery

        try:
            written = write_discovery(found, out if out is not None else sweep_dir)
        except OutputError as exc:
            common.failed_output(exc, "discover")
    if json_:
        b = found["prim"]
        prim_json = None if b is None else b.plain() | {
            "trajectory": b.trajectory.reset_index().to_dict(orient="records")}
        typer.echo(json.dumps({"outcome": outcome, "base": found["base"], "prim": prim_json,
                               "cart": [f.plain() for f in found["cart"]], "words": found["words"]}, indent=2,
                              default=str))
        return
    typer.echo(f"{found['description']} ({outcome}): {common.pct(found['base'])} of all runs in the sweep.")
    for s in found["words"]:
        typer.echo("- " + s)
    if found["prim"] is not None:
        _print_trajectory(found["prim"])
    if written:
        typer.echo(f"Peeling trajectory: {', '.join(str(p) for p in written)}")


def _print_trajectory(b) -> None:
    from rich.table import Table

    t = Table(title="PRIM's peeling trajectory (pick another box with --box I)", title_justify="left")
    for c in ("box", "coverage", "density", "mass", "restricted", ""):
        t.add_column(c, justify="right")
    for i, r in b.trajectory.iterrows():
        t.add_row(str(i), f"{r['coverage']:.2f}", f"{r['density']:.2f}", f"{r['mass']:.2f}", str(int(r["restricted"])),
                  "← taken" if i == b.box else "")
    common.console(80).print(t)


def register(app: typer.Typer) -> None:
    app.command(cls=SimCommand)(discover)
