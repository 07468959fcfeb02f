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
    density: Annotated[float, typer.Option("--density", help="PRIM: the least share of likely sets a box must hold.")] = 0.8,
    json_: Annotated[bool, typer.Option("--json", help="Print the boxes and rules as JSON.")] = False,
) -> None:
    """Where an outcome is likely: PRIM boxes and CART rules over a sweep's inputs, in words.

    Each box or rule is stated with the probability of the outcome over the runs
    inside it (density), the share of all runs with the outcome that fall inside
    (coverage), and the share of parameter sets inside.
    """
    from ..analysis.discover import discover as run_discover

    try:
        found = run_discover(sweep_dir, outcome, method=method, likely=likely, density=density)
    except InputError as exc:
        fail(exc, "discover")
        return
    if json_:
        import dataclasses

        def plain(f):
            return None if f is None else dataclasses.asdict(f) | {"rule": f.rule()}

        typer.echo(json.dumps({"outcome": outcome, "base": found["base"], "prim": plain(found["prim"]),
                               "cart": [plain(f) for f in found["cart"]], "words": found["words"]}, indent=2, default=str))
        return
    typer.echo(f"{found['description']} ({outcome}): {common.pct(found['base'])} of all runs in the sweep.")
    for s in found["words"]:
        typer.echo("- " + s)


def register(app: typer.Typer) -> None:
    app.command(cls=SimCommand)(discover)
