"""``sim packs``: the classroom exercise packs that ship with sim (:mod:`sim.play.packs`) and their
printable briefings (:func:`sim.play.briefings.write_briefings`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..scenario.errors import InputError
from .common import SimCommand, fail

PLACE = 86


def packs(
    name: Annotated[str | None, typer.Argument(help="A pack's name (omit to list the packs).")] = None,
    briefings: Annotated[Path | None, typer.Option("--briefings", help="Write the pack's printable briefings (briefings.html: a page per team, the facilitator's guide) into this folder.")] = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="With --briefings: print them to briefings.pdf as well (needs Debian's chromium).")] = False,
    as_: Annotated[list[str] | None, typer.Option("--as", help="With --briefings: the teams (default: the pack's teams and optional teams).")] = None,
) -> None:
    """The classroom exercise packs that ship with sim, and their printable briefings.

    Without a name: each pack with its title, scenario and teams. With a name: the pack's
    files and teams; --briefings DIR writes its briefings, generated from the scenario
    (each team's levers and what they change in the model, who controls what, the deck
    with its timing), --pdf prints them to PDF too.
    """
    from ..outputs import check_out
    from ..play.briefings import write_briefings
    from ..play.packs import find_pack, list_packs, pack_names
    from ..scenario.errors import option_error, suggest

    try:
        if name is None:
            if briefings is not None or pdf:
                raise option_error("--briefings", "give the pack's name: sim packs NAME --briefings DIR")
            for p in list_packs():
                teams = ", ".join(p["teams"]) + (f" (optional: {', '.join(p['optional_teams'])})" if p["optional_teams"] else "")
                typer.echo(f"{p['name']:<24} {p['title']}\n{'':<24} scenario {p['scenario']}; teams {teams}\n"
                           f"{'':<24} sim play {p['name']} {' '.join('--as ' + t for t in p['teams'])}")
            return
        pack = find_pack(name)
        if pack is None:
            raise option_error("NAME", f"no pack '{name}'{suggest(name, pack_names())}; sim packs lists them")
        if pdf and briefings is None:
            raise option_error("--pdf", "goes with --briefings DIR (where the briefings are written)")
        if briefings is None:
            sp = pack.spec
            typer.echo(f"{sp.title}\n  folder {pack.folder}\n  scenario {sp.scenario}; injects {sp.injects}; "
                       f"sample moves {sp.moves}\n  teams {', '.join(sp.teams)}"
                       + (f"; optional {', '.join(sp.optional_teams)}" if sp.optional_teams else "")
                       + f"\n  a turn lasts {sp.turn_minutes:g} minutes in a class game (sim play {pack.name} --serve)")
            return
        check_out(briefings)
        try:
            files = write_briefings(pack, briefings, pdf=pdf, played=list(as_ or []) or None)
        except RuntimeError as exc:
            raise option_error("--pdf", str(exc)) from None
    except InputError as exc:
        fail(exc, "packs")
        return
    typer.echo("Briefings: " + ", ".join(str(p) for p in files.values()))


def register(app: typer.Typer) -> None:
    app.command(cls=SimCommand)(packs)
