"""``sim dashboard``: the browser dashboard (:func:`sim.dashboard.server.serve`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..scenario.errors import InputError
from .common import SimCommand, fail

PLACE = 90


def dashboard(
    scenario: Annotated[str | None, typer.Argument(help="A scenario to start with: a file or a shipped name (optional; every shipped scenario can be chosen in the page).")] = None,
    port: Annotated[int, typer.Option("--port", help="Port to serve on (0: a free one).")] = 8765,
    host: Annotated[str, typer.Option("--host", help="Address to listen on. The default serves this machine only; another address lets anyone who reaches it run the model and open the folders under --outputs (or --root).")] = "127.0.0.1",
    outputs: Annotated[Path, typer.Option("--outputs", help="Folder for runs, stories and games (as sim run's outputs/); sweeps and comparisons are looked for there too.")] = Path("outputs"),
    root: Annotated[Path | None, typer.Option("--root", help="Folder under which the page may open a path typed in it (a sweep or comparison folder, a saved game to resume in place); default: --outputs. Paths outside are refused.")] = None,
) -> None:
    """A browser dashboard: runs, studies and class play on one page.

    Run a scenario with controls made from its declarations (runs, seed, levers, --set
    overrides, model uncertainty) and see the outcome table, the report's figures and a
    run's story; open the folders sim sweep and sim compare write and find discovery
    boxes; play a game with a class on one screen. Needs the dashboard extra:
    pip install "sim\\[dashboard]". Stop it with Ctrl-C.
    """
    from ..dashboard.server import missing, serve

    lacking = missing()
    if lacking is not None:
        typer.echo(f"sim dashboard: needs the dashboard extra ({lacking} is not installed): "
                   'pip install "sim[dashboard]"', err=True)
        raise typer.Exit(2)

    def ready(url: str) -> None:
        typer.echo(f"sim dashboard: serving {url}  (Ctrl-C stops it)", err=True)
        if host not in ("127.0.0.1", "localhost", "::1"):
            typer.echo(f"sim dashboard: {host} is not this machine only: anyone who reaches it can run the model "
                       f"and open the folders under {root or outputs}", err=True)

    try:
        serve(scenario, host=host, port=port, outputs=outputs, root=root, ready=ready)
    except InputError as exc:
        fail(exc, "dashboard")
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def register(app: typer.Typer) -> None:
    app.command(cls=SimCommand)(dashboard)
