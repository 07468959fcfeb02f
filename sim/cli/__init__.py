"""The ``sim`` command line: thin commands over the library (no model logic here).

Every command parses its options, calls one library function (:mod:`sim.api`,
:mod:`sim.workflows`, the studies in :mod:`sim.analysis`, play in :mod:`sim.play`), and
prints or saves what it returns. Bad input is reported as ``file:line:col: path: message``
(or ``sim CMD: --option: message``) with exit status 2 and no traceback, unless ``--debug``.

Adding a command is one module in this package (``sim/cli/hindcast.py``, say)::

    from typing import Annotated
    import typer
    from ..scenario.errors import InputError
    from .common import SimCommand, fail          # the options and errors every command shares

    PLACE = 75   # where it is listed in `sim --help` (run is 10, dashboard 90; none: last)

    def hindcast(panel: Annotated[str, typer.Argument(help="...")], ...) -> None:
        \"\"\"One line for `sim --help`; more for `sim hindcast --help`.\"\"\"
        from ..analysis.hindcast import hindcast as run_hindcast   # lazy: `sim --help` stays quick
        try:
            result = run_hindcast(...)
        except InputError as exc:
            fail(exc, "hindcast")      # one line per problem, exit status 2
        ...print what it returns...

    def register(app: typer.Typer) -> None:
        app.command(cls=SimCommand)(hindcast)

Every module here with a ``register(app)`` function is registered when the package is
imported, in the order of their ``PLACE``; nothing else lists the commands. So every command
module is imported for ``sim --help``: each imports the library inside its command's
function, deliberately, so that ``sim --help`` and ``sim --version`` stay quick (numba, Mesa,
pandas and matplotlib load only for the command that needs them). The shared
pieces (options such as ``--set``, ``--lever``, ``--plugin``; errors; Ctrl-C and SIGTERM;
progress bars; output folders) are in :mod:`sim.cli.common`.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Annotated

import typer

import sim

from ..scenario.errors import InputError
from ..version import __version__
from .common import state as _state

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Scenario and wargame simulation kit for Eurasian security.\n\n"
    "Run a shipped scenario: sim run karabakh   (or a path: sim run scenarios/karabakh.yaml)",
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"sim {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", help="List every problem of a bad input, also those its "
                                                            "first line says have one cause.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Scenario and wargame simulation kit for Eurasian security."""
    _state["debug"] = debug
    _state["verbose"] = verbose


def _register_commands() -> list[str]:
    """Import every command module of the package and let it register its commands, in the
    order of their ``PLACE`` (then by name)."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name == "common":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "register"):
            found.append((getattr(module, "PLACE", float("inf")), info.name, module))
    for _, _, module in sorted(found, key=lambda f: (f[0], f[1])):
        module.register(app)
    return [name for _, name, _ in sorted(found, key=lambda f: (f[0], f[1]))]


COMMAND_MODULES = _register_commands()
"""The command modules, in the order they were registered."""


GC_GEN0 = 10_000
"""The ``sim`` process's first garbage-collection threshold (Python's default: 700)."""


def main() -> None:
    """Console-script entry point."""
    _state["started"] = sim.STARTED  # the program's own start, for the run footer
    if _the_program():
        _collect_less()
    try:
        try:
            app()
        except InputError as exc:  # raised with --debug after printing is skipped
            if _state["debug"]:
                raise
            typer.echo(exc.format("sim"), err=True)
            sys.exit(2)
    except SystemExit as done:
        if _the_program():
            leave(done.code)
        raise


def _collect_less() -> None:
    """Run Python's cyclic garbage collector less often in the ``sim`` process: after
    :data:`GC_GEN0` net allocations of container objects rather than 700. A command builds
    hundreds of thousands of objects that live as long as it does (the scenario's models, the
    plan, numba's loaded kernels, the report's figures), and every collection of the older
    generations walks them all again; the arrays that hold the numbers are not containers
    and do not count. Measured in a 10,000-run ``sim run karabakh`` (the collector's own
    time, ``gc.callbacks``, medians of 6 alternated runs): 120 -> 66 ms in its process; the chunks collect
    almost never either way. Results do not depend on it."""
    import gc

    gen0, gen1, gen2 = gc.get_threshold()
    if 0 < gen0 < GC_GEN0:  # 0: collection switched off by whoever runs this process; left so
        gc.set_threshold(GC_GEN0, gen1, gen2)


def _the_program() -> bool:
    """Whether :func:`main` is this process's program (the ``sim`` console script, ``python -m
    sim.cli``), not a function a caller runs (a test)."""
    top = sys.modules.get("__main__")
    return getattr(top, "main", None) is main


def leave(code: object) -> None:
    """End the ``sim`` process now with exit status ``code``, once the command is done, when
    nothing else is running in it: its exit handlers run (``atexit``: logging, temporary
    folders, multiprocessing's), its output is flushed, and it ends without tearing the
    interpreter down. The teardown frees every object one by one, the loaded kernels' compiled
    code among them: 0.5-0.9 s after a 10,000-run ``sim run`` had printed everything and
    written its folder (benchmarks/bench_firstrun.py). Returns (the caller exits as usual)
    where a thread or a child process still runs, or ``code`` is not a status number."""
    import atexit
    import os
    import threading

    if code is not None and not isinstance(code, int):
        return
    if threading.active_count() > 1:
        return
    mp = sys.modules.get("multiprocessing")
    if mp is not None and mp.active_children():
        return
    try:
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except BaseException:  # noqa: BLE001 - a closed pipe and the like: the usual exit says it
        return
    os._exit(code or 0)
