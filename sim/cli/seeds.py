"""``sim seeds``: fact cards from new articles -- a draft card proposed from an article
(:func:`sim.evidence.draft.extract_draft`) and a draft or card checked
(:func:`sim.evidence.draftcheck.check_card_file`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..scenario.errors import InputError
from . import common
from .common import fail

PLACE = 35

seeds_app = typer.Typer(
    no_args_is_help=True,
    help="Fact cards (seeds/): draft one from a new article, check a draft or a card.",
)


@seeds_app.callback()
def seeds_callback() -> None:
    """Fact cards (seeds/): draft one from a new article (extract), check one (check)."""


def seeds_extract(
    article: Annotated[Path, typer.Argument(help="A plain-text article (UTF-8).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the draft card here (default: print it).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Also list figures already in a fact card as draft facts (marked known).")] = False,
    prefix: Annotated[str, typer.Option("--prefix", help="First word of the draft fact ids, e.g. kg.")] = "draft",
    seeds: Annotated[Path | None, typer.Option("--seeds", help="Fact cards to compare with (default: the shipped seeds/).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite --out if it exists.")] = False,
) -> None:
    """Propose a draft fact card from an article, for a person to confirm.

    Finds money (with the conversion the text gives), quantities with units,
    percentages, dates and periods, each with its character offsets and its
    sentence, and the actors and weapon systems named. Figures a fact card
    already holds (same figure, same actors) are listed apart. Fill in the
    values marked CONFIRM, delete the confirm: blocks, then run
    sim seeds check on the draft.
    """
    from ..evidence.draft import extract_draft, slug_id
    from ..scenario.errors import option_error

    try:
        if out is not None and out.exists() and not force:
            raise option_error("--out", f"{out} already exists; choose another file or add --force to overwrite it")
        card_id = slug_id(out.stem) if out is not None else None
        text, ex = extract_draft(article, seeds=seeds, prefix=prefix, card_id=card_id,
                                 out_name=str(out) if out is not None else None, include_known=all_)
    except InputError as exc:
        fail(exc, "seeds extract")
        return
    known = len(ex.candidates) - len(ex.new)
    summary = (f"{article}: {len(ex.candidates)} figures found: {len(ex.new)} new, {known} already in fact cards"
               f"{' (listed as facts, marked known)' if all_ else ' (listed under confirm.known)'}.")
    if out is None:
        typer.echo(text, nl=False)
        typer.echo(summary, err=True)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(option_error("--out", f"cannot write {out}: {exc.strerror or exc}"), "seeds extract")
        return
    typer.echo(summary)
    typer.echo(f"Wrote {out}. Fill in the values marked CONFIRM, delete the confirm: blocks, then: sim seeds check {out}")


def seeds_check(
    card: Annotated[Path, typer.Argument(help="A draft from sim seeds extract, or a fact card.")],
    seeds: Annotated[Path | None, typer.Option("--seeds", help="Fact cards whose ids it must not reuse (default: the shipped seeds/).")] = None,
) -> None:
    """Check a draft or fact card: what is left to confirm, and other problems.

    Lists every value still marked CONFIRM, every confirm: block, and whatever
    else would stop the file loading as a fact card (schema, card id = file
    name, fact ids used by another card): one line each, file:line:col: path:
    message, and exit status 2. A file that passes is a valid fact card.
    """
    from ..evidence.draftcheck import check_card_file

    try:
        c = check_card_file(card, seeds)
    except InputError as exc:
        if any(p.mark.option is not None for p in exc.problems):  # --seeds: not about the card
            fail(exc, "seeds check")
        if common.state["debug"]:
            raise
        typer.echo(exc.format("sim seeds check"), err=True)
        left = sum(p.message.startswith("to confirm:") for p in exc.problems)
        other = len(exc.problems) - left
        typer.echo(f"{card}: not yet a fact card: {left} to confirm, {other} other problem(s).", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{card}: a valid fact card ('{c.card}', {len(c.facts)} facts).")


def register(app: typer.Typer) -> None:
    seeds_app.command("extract")(seeds_extract)
    seeds_app.command("check")(seeds_check)
    app.add_typer(seeds_app, name="seeds")
