"""``sim story``: one run of a scenario told month by month (:func:`sim.play.story.tell`),
printed and written as a page with its timeline (:func:`sim.play.html.write_story`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..scenario.errors import InputError
from . import common
from .common import FLAGS, LeverOpt, ScenarioArg, SetOpt, SimCommand, fail

PLACE = 80


def story(
    scenario: ScenarioArg,
    seed: Annotated[int | None, typer.Option("--seed", help="The run's seed (default: the scenario's).")] = None,
    replicate: Annotated[int, typer.Option("--replicate", "-k", help="Which run of `sim run --seed N` to tell (0 = the first).")] = 0,
    runs: Annotated[int | None, typer.Option("--runs", "-n", help="The run's number of replicates, if not the scenario's (it decides the chunks).")] = None,
    months: Annotated[int | None, typer.Option("--months", help="Horizon in months (default: the scenario's).")] = None,
    chunk_size: Annotated[int | None, typer.Option("--chunk-size", help="The run's chunk size, if not the default.")] = None,
    precision: Annotated[str, typer.Option("--precision", help="The run's precision: float32 (default) or float64.")] = "float32",
    set_: SetOpt = None,
    lever: LeverOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write story.html, story.txt and the timeline here (must be new or empty).")] = None,
) -> None:
    """Tell one run of a scenario month by month in plain language.

    The story of replicate K of `sim run SCENARIO --seed N` (the same seed, runs, chunk
    size and precision give the very run the Monte Carlo counted): what the rules made
    happen each month, in words, with a timeline figure and an HTML page. Same seed,
    same story.
    """
    from ..arguments import check_run_options
    from ..files import OutputError
    from ..inputs import parse_levers
    from ..loading import load_scenario
    from ..outputs import check_out
    from ..play.html import write_story
    from ..play.story import check_story_options, tell

    try:
        check_run_options(runs, None, months, chunk_size, seed=seed, dtype=precision)
        check_story_options(replicate, runs)
        scn = load_scenario(scenario, overrides=set_ or None)
        parse_levers(scn, lever)
        if out is not None:
            check_out(out)
        st = tell(scn, seed=seed, replicate=replicate, runs=runs, months=months, chunk_size=chunk_size,
                  dtype=precision, levers=lever)
    except InputError as exc:
        fail(exc, "story")
        return

    typer.echo(f"{st.title} — run {st.replicate} of seed {st.seed}\n")
    typer.echo(st.text())
    got = st.happened()
    typer.echo("\nOutcomes: " + ("; ".join(f"{o['description']} ({st.date(o['month'])})" for o in got) if got else "none happened") + ".")
    try:  # written as sim run writes its folder: --out, else a new folder; a failure is one line
        folder = common.out_folder(None, out, "story", default=lambda: _story_folder(scn.name, st.seed, st.replicate))
        files = write_story(st, folder)
    except OutputError as exc:
        common.failed_output(exc, "story")
    typer.echo(f"Story: {files['html']}  (timeline: {files['figure'].name}, text: {files['text'].name})")


def _story_folder(name: str, seed: int, replicate: int) -> Path:
    from ..outputs import new_folder

    return new_folder(Path("outputs") / name, prefix=f"story-{seed}-{replicate}-")


def register(app: typer.Typer) -> None:
    FLAGS.update({"replicate": "--replicate"})
    app.command(cls=SimCommand)(story)
