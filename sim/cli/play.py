"""``sim play``: a turn-based game at the terminal -- a :class:`sim.play.game.Game` (new, or a saved
one resumed; a scenario or an exercise pack, :func:`sim.play.packs.game_setup`) played by a
:class:`sim.play.terminal.Session`, saved after every turn, with a debrief page at the end; or,
with ``--serve``, a class game held by a server (:mod:`sim.classroom`), each team at its own
browser."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..scenario.errors import InputError
from . import common
from .common import SetOpt, SimCommand, fail, stoppable

PLACE = 85


def play(
    scenario: Annotated[str | None, typer.Argument(help="A scenario file or shipped name, or an exercise pack (sim packs lists them; its scenario, deck and months); omitted with --resume.")] = None,
    as_: Annotated[list[str] | None, typer.Option("--as", help="An actor you play (repeatable): a state with levers.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="The game's seed (default: the scenario's). Same seed and moves, same game.")] = None,
    months: Annotated[int | None, typer.Option("--months", help="Months the game lasts (default: the scenario's horizon).")] = None,
    injects: Annotated[Path | None, typer.Option("--injects", help="The instructor's inject file (a deck of events; a pack's own by default).")] = None,
    moves: Annotated[Path | None, typer.Option("--moves", help="Play the moves of this file without prompts.")] = None,
    turns: Annotated[int | None, typer.Option("--turns", help="Stop after this many turns in all (saved; resume with --resume).")] = None,
    resume: Annotated[Path | None, typer.Option("--resume", help="Resume a saved game.")] = None,
    save: Annotated[Path | None, typer.Option("--save", help="Where to save the game (default: OUT/game.json; with --resume, the same file).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for the saved game and the debrief (default: outputs/play/...).")] = None,
    forecast_runs: Annotated[int | None, typer.Option("--forecast-runs", help="Continuations per forecast (default: the scenario's play.forecast_runs, 2000).")] = None,
    set_: SetOpt = None,
    serve: Annotated[bool, typer.Option("--serve", help="Hold the game on a server: each team joins from its own browser with a code or link for its seat, with a facilitator's and a projector's screen (needs the dashboard extra). Without SCENARIO: serve the class games already in --out.")] = False,
    host: Annotated[str, typer.Option("--host", help="With --serve: the address to listen on (default: this machine only; 0.0.0.0 lets the class's laptops reach it).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="With --serve: the port (0: a free one).")] = 8777,
    turn_minutes: Annotated[float | None, typer.Option("--turn-minutes", help="With --serve: minutes a team has to decide each turn (default: the pack's, else 6).")] = None,
) -> None:
    """Play a scenario turn by turn: you are some actors, the rules play the rest.

    Each turn (a month or a quarter, as the scenario says) shows the situation and your
    actors' levers; you choose moves; the months are simulated; you see what happened
    and a forecast (thousands of continuations from the state you created), with its
    change since the last turn and why it moved (your moves, the injects, chance). The
    game is saved after every turn; at the end (or when you stop) a debrief page is
    written. --moves plays a moves file without prompts. An exercise pack's name (sim
    packs) brings its scenario, deck and months. --serve holds the game on a server
    instead: each team plays from its own browser (its seat's link or join code), with a
    facilitator's and a projector's screen.
    """
    if serve:
        _serve_class(scenario, as_, seed, months, injects, out, forecast_runs, set_, host, port, turn_minutes,
                     moves=moves, turns=turns, resume=resume, save=save)
        return
    stoppable(_play, scenario, as_, seed, months, injects, moves, turns, resume, save, out, forecast_runs, set_)


def _serve_class(scenario, as_, seed, months, injects, out, forecast_runs, set_, host, port, turn_minutes,
                 **other) -> None:
    """``sim play ... --serve``: a class game held by a server (sim.classroom)."""
    from ..classroom.serve import announce, missing, open_classroom, serve, start_class
    from ..play.game import check_forecast_runs
    from ..scenario.errors import option_error
    from ..webserve import check_options

    lacking = missing()
    if lacking is not None:
        typer.echo(f"sim play: --serve needs the dashboard extra ({lacking} is not installed): "
                   'pip install "sim[dashboard]"', err=True)
        raise typer.Exit(2)
    try:
        bad = [flag for flag, v in (("--moves", other["moves"]), ("--turns", other["turns"]),
                                    ("--resume", other["resume"]), ("--save", other["save"])) if v]
        if bad:
            raise option_error("--serve", f"{', '.join(bad)} cannot be used with --serve (teams play from their browsers)")
        check_options(port, host)
        check_forecast_runs(forecast_runs)
        outputs = out if out is not None else Path("outputs")
        svc = open_classroom(outputs)
        if scenario is not None:
            gid = start_class(svc, scenario, as_, injects=injects, months=months, seed=seed,
                              forecast_runs=forecast_runs, turn_minutes=turn_minutes, overrides=set_)
            typer.echo(f"sim play: class game {gid} started; its forecast before the first move is being made", err=True)
        elif as_ or injects or set_:
            raise option_error("--serve", "give the scenario or pack to start a game on (sim play PACK --serve)")

        def ready(url: str) -> None:
            typer.echo(f"sim play: serving class games on {url}/  (Ctrl-C stops it; the games are kept in "
                       f"{svc.store.path})", err=True)
            for line in announce(svc, url, host):
                typer.echo(line)

        serve(svc, host=host, port=port, ready=ready)
    except InputError as exc:
        fail(exc, "play")
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def _play(scenario, as_, seed, months, injects, moves, turns, resume, save, out, forecast_runs, set_) -> None:
    from ..arguments import check_run_options
    from ..files import OutputError
    from ..outputs import check_out
    from ..play.debrief import write_debrief
    from ..play.game import Game, check_forecast_runs
    from ..play.moves import load_moves
    from ..play.packs import game_setup
    from ..play.savefile import load_game
    from ..play.terminal import Session
    from ..scenario.errors import option_error

    try:
        check_run_options(None, None, months, None, seed=seed)
        check_forecast_runs(forecast_runs)
        if turns is not None and turns < 1:
            raise option_error("--turns", f"must be at least 1 (got {turns})")
        if resume is not None:
            given = [f for f, v in (("SCENARIO", scenario), ("--as", as_), ("--seed", seed), ("--months", months),
                                    ("--injects", injects), ("--set", set_), ("--forecast-runs", forecast_runs)) if v]
            if given:
                raise option_error("--resume", f"{', '.join(given)} cannot be used with --resume: the saved game fixes them")
            game = load_game(resume)
            folder = out if out is not None else resume.parent
            save_to = save or resume
        else:
            if scenario is None:
                raise option_error("SCENARIO", "give a scenario (e.g. karabakh) or an exercise pack (sim packs lists "
                                   "them) and --as ACTOR, or --resume SAVED_GAME")
            setup = game_setup(scenario, as_, injects=injects, months=months, overrides=set_)
            scn = setup.scn
            if out is not None:
                check_out(out)
            game = Game(scn, setup.played, seed=seed, months=setup.months, deck=setup.deck, forecast_runs=forecast_runs)
            folder = out if out is not None else _play_folder(scn.name)
            save_to = save or folder / "game.json"
        script = load_moves(moves, game.scn, game.played, game.total_turns, game.deck) if moves is not None else None
    except InputError as exc:
        fail(exc, "play")
        return

    for note in game.notes:
        typer.echo(f"sim play: note: {note}", err=True)
    session = Session(game, save_to, debrief=lambda g: write_debrief(g, folder))
    try:
        try:
            Path(folder).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError.from_os(Path(folder), exc) from exc
        typer.echo(f"{game.scn.spec.meta.title}\nYou play {', '.join(game.played)}; {game.total_turns} turns of "
                   f"{'a month' if game.turn_months == 1 else f'{game.turn_months} months'}; seed {game.seed}. "
                   f"The game is saved in {save_to} after every turn.")
        if script is not None:
            session.script(script, turns)
        else:
            session.interact(turns)
    except OutputError as exc:  # a full disk, a read-only folder: the last save stays whole
        if common.state["debug"]:
            raise
        kept = ("nothing was saved" if session.saved_turn is None else
                f"the game as saved {f'after turn {session.saved_turn}' if session.saved_turn else 'before the first turn'} "
                f"is whole in {save_to} "
                f"(resume with: sim play --resume {save_to})")
        typer.echo(f"sim play: {exc}; {kept}", err=True)
        raise typer.Exit(1) from None


def _play_folder(name: str) -> Path:
    from ..outputs import new_folder

    return new_folder(Path("outputs") / "play", prefix=f"{name}-", create=False)


def register(app: typer.Typer) -> None:
    app.command(cls=SimCommand)(play)
