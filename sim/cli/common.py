"""What every command of the ``sim`` command line shares: the options they have in common,
how a library error becomes the CLI's one line (and exit status 2), Ctrl-C and SIGTERM,
progress bars, the table console, and where outputs go.

A command module (:mod:`sim.cli`'s docstring says how to add one) imports from here; nothing
here knows a command.
"""

from __future__ import annotations

import os
import re
import sys
import textwrap
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand

from ..scenario.errors import InputError

state: dict[str, Any] = {"debug": False, "verbose": False}
"""The app's own options (``--debug``, ``--verbose``), the program's start (``started``, set by
:func:`sim.cli.main`) and a command's ``--replace-rule``, read by :func:`plugins`."""

clock = time.perf_counter
"""The clock of the run footer's times (a test injects its own)."""

FLAGS = {"runs": "--runs", "seed": "--seed", "months": "--months", "workers": "--workers",
         "chunk_size": "--chunk-size", "dtype": "--precision", "backend": "--backend", "scheduler": "--scheduler",
         "levers": "--lever", "plugins": "--plugin", "seeds": "--seeds",
         "worker_timeout": "--worker-timeout"}
"""The CLI flag for each library argument (library errors name the argument); a command
module adds its own when it registers."""
WHOLE = {"runs", "seed", "months", "workers", "chunk_size"}
"""Options that take a whole number (a command module adds its own)."""


def startup(now: float) -> float:
    """Seconds from the program's own start to ``now``: from when the ``sim`` command began
    loading the package (``sim.STARTED``, recorded by :func:`sim.cli.main`), not from when the
    process started: a shell runs the last command of ``bash -c "pip install ... && sim run ..."``
    in its own process, which had been running pip all along. In-process (tests, a
    notebook driving the app) there is no program start: zero."""
    started = state.get("started")
    return 0.0 if started is None else max(0.0, now - started)


def console(min_width: int = 0):
    """A rich console for tables: as wide as the terminal (``COLUMNS`` if set); output to
    a file or a pipe is laid out 120 columns wide (or ``min_width``)."""
    # lazy, as the imports of every command's body: `sim --help` and `sim --version` stay quick
    from rich.console import Console

    if sys.stdout.isatty() or os.environ.get("COLUMNS"):
        return Console(highlight=False)
    return Console(width=max(120, min_width), highlight=False)


def wide_console():
    """A console at least 120 columns wide, wider on a wider terminal (the research tables)."""
    from rich.console import Console

    return Console(width=max(120, Console().width))


def say(con, text: str) -> None:
    """A line of prose, wrapped at the console's width (paths and names are never split)."""
    typer.echo(textwrap.fill(text, width=con.width, break_long_words=False, break_on_hyphens=False))


def pct(x: float) -> str:
    """A probability as the tables show it: ``12.3%``, ``<0.1%``, ``-`` for none."""
    if x != x:
        return "-"
    return f"{100 * x:.1f}%" if x >= 0.001 or x == 0 else "<0.1%"


# ------------------------------------------------------------------ errors


def fail(exc: InputError, command: str) -> None:
    """Print a library error as the CLI's lines (arguments named by their flags) and exit 2;
    with ``--debug``, raise it (the traceback)."""
    if state["debug"]:
        raise exc
    exc = InputError([replace(p, mark=replace(p.mark, option=FLAGS.get(p.mark.option, p.mark.option)))
                      if p.mark.option is not None else p for p in exc.problems], cause=exc.cause,
                     explained=[p for p in exc.problems if (p.mark, p.path, p.message) in exc.explained])
    typer.echo(exc.format(f"sim {command}", verbose=state["verbose"]), err=True)
    raise typer.Exit(2)


def failed_output(exc: Exception, command: str) -> None:
    """A folder or file that could not be written (a full disk): one line and exit status 1
    (the traceback with ``--debug``)."""
    if state["debug"]:
        raise exc
    typer.echo(f"sim {command}: {exc}", err=True)
    raise typer.Exit(1) from None


def chunk_failed(failure, command: str, then: str) -> None:
    """A failed chunk: one line naming it (and the rule and plugin that raised, if one did),
    the traceback with --debug, what was kept; exit status 1."""
    if state["debug"]:
        typer.echo(failure.trace, err=True)
    typer.echo(f"sim {command}: {failure} (run with --debug for the traceback)", err=True)
    typer.echo(then, err=True)
    raise typer.Exit(1)


class SimCommand(TyperCommand):
    """A command whose option values that cannot be converted (``--seed 1.5``) are
    reported like every other bad option: ``sim run: --seed: message``, exit status 2.
    Its help's paragraphs are reflowed (the docstring's own line breaks joined), so the
    terminal wraps them at its width instead of breaking a long source line in two."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.help:
            self.help = reflow(self.help)

    def parse_args(self, ctx, args):
        given = list(args)  # the parser consumes ``args``
        try:
            return super().parse_args(ctx, args)
        except typer.BadParameter as exc:
            param = exc.param
            opts = [o for o in getattr(param, "opts", []) if o.startswith("--")]
            if param is None or not opts or state["debug"]:
                raise
            flag = opts[0]
            if param.name in WHOLE:
                got = _given(given, param.opts)
                message = "must be a whole number" + (f" (got {got!r})" if got is not None else "")
            else:
                message = getattr(exc, "message", str(exc))
            typer.echo(f"sim {ctx.info_name}: {flag}: {message}", err=True)
            raise typer.Exit(2) from None


_LIST_ITEM = re.compile(r"^\s*([-*\u2022]|\d+[.)])\s")


def reflow(text: str) -> str:
    """Join the lines of each paragraph of ``text`` (paragraphs: separated by a blank line);
    a line that starts a list item, or is indented, keeps its own line."""
    out = []
    for para in re.split(r"\n\s*\n", text.strip()):
        lines = para.splitlines()
        joined = [lines[0].strip()]
        for line in lines[1:]:
            if _LIST_ITEM.match(line) or line.startswith("    "):
                joined.append(line.rstrip())
            else:
                joined[-1] = f"{joined[-1]} {line.strip()}"
        out.append("\n".join(joined))
    return "\n\n".join(out)


def _given(args: list[str], opts: list[str]) -> str | None:
    """The (last) value given on the command line for an option, as typed."""
    got = None
    for i, a in enumerate(args):
        for o in opts:
            if a == o and i + 1 < len(args):
                got = args[i + 1]
            elif a.startswith(o + "="):
                got = a[len(o) + 1:]
    return got


@contextmanager
def notices(command: str) -> Iterator[None]:
    """Show the library's WorkersCapped warning as one line naming the CLI's flags, and a
    Dask worker lost during a run (WorkerLost) as one line when it happens."""
    from ..runner import WorkerLost, WorkersCapped

    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if isinstance(message, WorkersCapped):
            cores = f"{message.cores} core{'s' if message.cores != 1 else ''}"
            typer.echo(f"sim {command}: --workers: {message.requested} is more than the {cores} available; "
                       f"using {message.used} (--oversubscribe to use more)", err=True)
        elif isinstance(message, WorkerLost):
            typer.echo(f"sim {command}: {message}", err=True)
        else:
            shown(message, category, filename, lineno, file, line)

    with warnings.catch_warnings():
        warnings.simplefilter("always", WorkersCapped)
        warnings.simplefilter("always", WorkerLost)
        warnings.showwarning = show
        yield


def stoppable(command: Callable[..., Any], *args: Any) -> None:
    """Run a command body with SIGTERM handled like Ctrl-C; a stop before the run started
    (or after it was saved) is one line and exit status 130 or 143."""
    from ..interrupts import Terminated, stop_on_sigterm

    try:
        with stop_on_sigterm():
            command(*args)
    except (KeyboardInterrupt, Terminated) as exc:
        how, code = ("Interrupted", 130) if isinstance(exc, KeyboardInterrupt) else ("Stopped by SIGTERM", 143)
        typer.echo(f"{how}.", err=True)
        raise typer.Exit(code) from None


STOPPED = {"interrupt": ("Interrupted", 130), "SIGTERM": ("Stopped by SIGTERM", 143)}
"""What a run stopped by Ctrl-C or SIGTERM says, and its exit status."""


# ------------------------------------------------------------------ options they share

ScenarioArg = Annotated[
    str, typer.Argument(help="A scenario file (scenarios/karabakh.yaml) or a shipped scenario name (karabakh).")
]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a parameter: PATH=VALUE, e.g. flashpoints.lachin.level=3 (repeatable)."),
]
LeverOpt = Annotated[
    list[str] | None,
    typer.Option("--lever", help="Pull a lever from the start: ACTOR.LEVER, e.g. armenia.freeze_csto (repeatable)."),
]
PluginOpt = Annotated[
    list[str] | None,
    typer.Option("--plugin", help="Import a Python module that registers rules or outcome kinds (repeatable)."),
]
ReplaceOpt = Annotated[
    bool,
    typer.Option("--replace-rule", help="Let a --plugin replace the stock rule or outcome kind of the same name "
                                        "(refused otherwise: it would change results without a word)."),
]
WorkerTimeoutOpt = Annotated[
    float | None,
    typer.Option("--worker-timeout", help="Dask: seconds to wait with no worker left (all lost) before the run stops "
                                          "(default 60); the finished chunks are saved (stopped_by: workers-lost, "
                                          "exit status 1). A worker lost on the way is said at once and recorded in "
                                          "manifest.json (workers_lost, chunks_retried); its chunks run elsewhere."),
]
StudyPluginOpt = Annotated[
    list[str] | None,
    typer.Option("--plugin", help="Import a module that registers rules or outcome kinds (repeatable)."),
]
StudyReplaceOpt = Annotated[
    bool,
    typer.Option("--replace-rule", help="Let a --plugin replace the stock rule or outcome kind of the same name."),
]


def plugins(command: str, plugin: list[str] | None, replace_rule: bool, allowed=()) -> None:
    """Import the --plugin modules (:func:`sim.loading.load_plugins`); say on stderr each stock
    part one replaces, as asked with --replace-rule (the manifest and report.html record it too)."""
    from ..loading import load_plugins

    for note in load_plugins(plugin, replace_rules=replace_rule, allowed=allowed, flag="add --replace-rule"):
        typer.echo(f"sim {command}: --plugin {note} (--replace-rule)", err=True)


# ------------------------------------------------------------------ progress and outputs


def progress(quiet: bool, scn=None):
    """A progress bar on a terminal (none otherwise): ``(update, finish)``. With ``scn``, the
    bar first says when the run will compile the model's kernels (the first run on a machine
    takes seconds more), or wait for the compile :mod:`sim.ahead` started in the background."""
    if quiet or not sys.stderr.isatty():
        return None, lambda: None
    label = "simulating"
    if scn is not None:
        from ..ahead import in_progress
        from ..api import kernels_to_compile

        try:
            if kernels_to_compile(scn):
                label = ("compiling the model's kernels in the background (first run only)" if in_progress()
                         else "compiling the model's kernels (first run only)")
        except Exception:  # noqa: BLE001 - a notice only: never stop a run over it
            pass
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    # Redrawn as chunks finish, by no thread of its own (a run may fork its workers, which needs a
    # process with no other thread: sim.runner.Forked); only a bar saying that the kernels are
    # being compiled, which may take seconds before the first chunk, is redrawn on its own.
    prog = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("runs  ETA"),
        TimeRemainingColumn(), console=Console(stderr=True), transient=True, auto_refresh=label != "simulating",
    )
    prog.start()
    task = prog.add_task(label, total=None)

    def update(done: int, total: int) -> None:
        prog.update(task, completed=done, total=total, refresh=True, **({"description": "simulating"} if done else {}))

    return update, prog.stop


def temp_parquet(name: str = "replicates.parquet") -> Path:
    """Where ``--replicates`` (``--trajectories``) streams its Parquet file during a run
    (copied into the run folder): a scratch folder of this process
    (:func:`sim.files.private_dir`; those of killed runs are removed first)."""
    from ..files import private_dir

    return private_dir("replicates") / name


def out_folder(res, out: Path | None, command: str = "run", default: Callable[[], Path] | None = None) -> Path:
    """The folder to save into: ``--out`` (checked again: it may have filled up during the
    run; then a new folder under outputs/ is used, so that nothing computed is lost, and this
    says so), or a new folder under outputs/ (``default()``, if given, makes it)."""
    from ..outputs import default_output_dir, out_or_new

    folder, problem = out_or_new(out, default or (lambda: default_output_dir(res)))
    if problem is not None:
        typer.echo(f"{problem.format(f'sim {command}')}; saving in {folder}/ instead", err=True)
    return folder
