"""Printable briefings of a pack: one page per team and a facilitator's guide, as HTML with
a print stylesheet, and as PDF through Debian's chromium (the browser the tests drive).

They are generated, so they cannot drift from the scenario: each team's levers, what
each changes in the model (:func:`sim.play.plain.effect_words`), who controls what
(teams, the policies of the actors nobody plays) and the deck with its timing come from
the scenario and the pack's files; the situation, aims, timing, questions and limits are
the README's own sections.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from ..report.html import CSS
from .packs import Pack, markdown_table
from .plain import choices_for, effect_words

PRINT_CSS = """
body{max-width:860px}
.page{page-break-after:always;break-after:page;padding-top:.2em}
.page:last-child{page-break-after:auto;break-after:auto}
.who{font-family:Helvetica,Arial,sans-serif;color:#555;font-size:.95em;margin:.1em 0 .8em}
.lever td:first-child{width:34%} .lever .changes{color:#333} .lever .src{color:#777;font-size:.8em}
.join{border:1px dashed #888;padding:.4em .6em;font-family:Helvetica,Arial,sans-serif;margin:.8em 0}
h1{font-size:1.45em} h2{font-size:1.1em;margin-top:1.1em}
.lever code{font-size:.8em;color:#555}
@page{size:A4;margin:12mm 13mm 12mm 13mm}
@media print{body{margin:0;font-size:9.5pt;line-height:1.3} h1{font-size:1.35em;margin:0}
 h2{margin:.7em 0 .25em;padding-bottom:.1em;font-size:1.05em} p{margin:.3em 0} ul{margin:.2em 0}
 .page{padding:0} table{font-size:8pt} th,td{padding:.15em .4em} a{color:inherit;text-decoration:none}}
"""


def _e(x: Any) -> str:
    return html.escape(str(x))


def _inline(text: str) -> str:
    """Markdown's inline marks: `code`, **bold**, *italic*, [text](link) (as text)."""
    t = _e(text)
    t = re.sub(r"`([^`]+)`", r"<code>\1</code>", t)
    t = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", t)
    t = re.sub(r"(?<![*\w])\*([^*]+)\*(?!\w)", r"<i>\1</i>", t)
    return re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", t)


def markdown(text: str) -> str:
    """A README section as HTML: paragraphs, lists, tables and code blocks (what packs use)."""
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        ln = lines[i]
        if not ln.strip():
            i += 1
        elif ln.startswith("```"):
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            out.append("<pre>" + _e("\n".join(lines[i + 1: j])) + "</pre>")
            i = j + 1
        elif ln.lstrip().startswith("|"):
            j = i
            while j < len(lines) and lines[j].lstrip().startswith("|"):
                j += 1
            block = "\n".join(lines[i:j])
            head = [c.strip() for c in re.split(r"(?<!\\)\|", lines[i].strip().strip("|"))]
            rows = markdown_table(block)
            out.append("<table><tr>" + "".join(f"<th>{_inline(h)}</th>" for h in head) + "</tr>"
                       + "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in rows)
                       + "</table>")
            i = j
        elif re.match(r"\s*(?:[-*]|\d+\.)\s", ln):
            ordered = bool(re.match(r"\s*\d+\.", ln))
            items: list[str] = []
            while i < len(lines) and lines[i].strip():
                m = re.match(r"\s*(?:[-*]|\d+\.)\s+(.*)", lines[i])
                if m:
                    items.append(m.group(1))
                elif items:
                    items[-1] += " " + lines[i].strip()
                i += 1
            tag = "ol" if ordered else "ul"
            out.append(f"<{tag}>" + "".join(f"<li>{_inline(x)}</li>" for x in items) + f"</{tag}>")
        else:
            para = []
            while i < len(lines) and lines[i].strip() and not lines[i].lstrip().startswith(("|", "```")) \
                    and not re.match(r"\s*(?:[-*]|\d+\.)\s", lines[i]):
                para.append(lines[i].strip())
                i += 1
            out.append(f"<p>{_inline(' '.join(para))}</p>")
    return "\n".join(out)


def _names(scn: Any, actor: str) -> str:
    from ..report.labels import actor_name

    return actor_name(scn.spec, "states", actor)


def who_controls(pack: Pack, scn: Any, played: list[str]) -> list[str]:
    """Who decides what, in sentences: each team's actor, the policies of actors nobody
    plays, the rules for the rest, the umpire."""
    from .situation import policy_words

    out = [f"{_names(scn, a)}: a team of the class (its {len(scn.spec.levers.get(a, {}))} levers, "
           "chosen in secret each turn)" for a in played]
    for actor, levers in scn.spec.levers.items():
        if actor in played:
            continue
        pol = [f"'{spec.description.strip().rstrip('.')}' {policy_words(spec.policy)}"
               for spec in levers.values() if spec.policy is not None]
        if pol:
            out.append(f"{_names(scn, actor)} (no team): follows the model's rules and pulls levers by its "
                       f"policy: {'; '.join(pol)}")
    out.append("Every other actor follows the model's rules only (docs/MODEL.md).")
    out.append("The instructor (umpire) plays injects, may accept, reject or delay a move, and may overrule "
               "a result, with the reason shown to the class.")
    return out


def _lever_rows(scn: Any, actor: str, decisions: list[str]) -> str:
    """The levers table, and as its last row the decisions only the team can take (the model
    takes none for a played country)."""
    rows = []
    for c in choices_for(scn, actor):
        rows.append(f"<tr class='lever'><td><b>{_e(c.title)}</b><br><code>{_e(c.key)}</code></td>"
                    f"<td class='changes'>{_e('; '.join(c.changes))}.</td></tr>")
    items = ", ".join(f"<code>{_e(d)}</code>" for d in decisions) or "none"
    rows.append(f"<tr class='lever decisions'><td><b>Your decisions</b></td><td class='changes'>{items}: only if you "
                "order them (the model takes none for you; your screen shows its odds as advice)</td></tr>")
    return "<table class='levers'><tr><th>Lever</th><th>What it changes in the model</th></tr>" + "".join(rows) + "</table>"


def _decisions(scn: Any, actors: list[str]) -> dict[str, list[str]]:
    """For each actor, the decisions the scenario's rules take for it that its team could
    order at the start, as ``NAME(ARGS)`` (:mod:`sim.play.decisions`; a game's screen lists
    those open each turn). One world, opened once."""
    import numpy as np

    from ..world.compile import compile_plan
    from ..world.opening import opened
    from .decisions import elements, odds_now

    plan = compile_plan(scn.spec, scn.rules, scn.spec.meta.horizon_months)
    with opened(plan, 1, np.random.SeedSequence(0)) as world:
        return {a: [e.key.split(".", 1)[1] for e in elements(plan, a) if odds_now(world, e)[0]] for a in actors}


def team_page(pack: Pack, scn: Any, actor: str, played: list[str], decisions: list[str]) -> str:
    role = next((r for r in pack.roles() if r.actor == actor), None)
    team = role.team if role else _names(scn, actor)
    minutes = pack.spec.turn_minutes
    parts = [
        f"<section class='page team' id='team-{_e(actor)}'>",
        f"<h1>{_e(pack.spec.title)}</h1>",
        f"<p class='who'>Briefing for the team of <b>{_e(_names(scn, actor))}</b> ({_e(team)}) · "
        f"{_e(scn.spec.meta.start)}, {pack.spec.months or scn.spec.meta.horizon_months} months in turns of "
        f"{'a month' if scn.spec.play.turn == 'month' else 'three months'}</p>",
        f"<h2>{_e(pack.section_title('The situation'))}</h2>", markdown(pack.section("The situation")),
        "<h2>Your aims</h2>", f"<p>{_inline(role.wants[:1].upper() + role.wants[1:]) if role else '—'}.</p>",
        "<h2>Your levers</h2>", _lever_rows(scn, actor, decisions),
        "<h2>Who controls what</h2><ul>" + "".join(f"<li>{_e(x)}</li>" for x in who_controls(pack, scn, played)) + "</ul>",
        "<h2>Each turn</h2>",
        f"<p>You have {minutes:g} minutes. Tick your moves in secret on your team's screen and submit; the turn "
        "runs when every team has submitted or the time is up, and then everyone sees every team's moves, what "
        "happened, and the forecast with why it moved (your moves, the injects, chance).</p>",
        "<div class='join'>Your join code: ____________ &nbsp; (or the link the instructor gives you); "
        "messages to other teams and questions to the instructor go through the same screen.</div>",
        "</section>",
    ]
    return "\n".join(parts)


def _when(inj: Any) -> str:
    if inj.at is not None:
        return f"{inj.at} (by itself)"
    if inj.when is not None:
        return f"the first month {inj.when} (by itself)"
    return "when the instructor plays it"


def facilitator_page(pack: Pack, scn: Any, played: list[str], decisions: dict[str, list[str]]) -> str:
    deck = pack.deck(scn)
    rows = "".join(f"<tr><td><code>{_e(i.name)}</code></td><td>{_e(_when(i))}</td><td>{_e(i.description)}</td>"
                   f"<td>{_e('; '.join(effect_words(scn, i.effect)))}</td><td class='note'>{_e(i.note)}</td></tr>"
                   for i in deck)
    teams = "".join(f"<tr><td>{_e(_names(scn, a))}</td><td>{_e(', '.join(c.key.split('.', 1)[1] for c in choices_for(scn, a)))}"
                    f"</td><td>{_e(', '.join(decisions[a]) or '—')}</td></tr>"
                    for a in played)
    parts = [
        "<section class='page facilitator' id='facilitator'>",
        f"<h1>{_e(pack.spec.title)}: the facilitator's guide</h1>",
        f"<p class='who'>Scenario {_e(scn.spec.meta.title)} · turns of {pack.spec.turn_minutes:g} minutes, a "
        f"warning {pack.spec.warning_minutes:g} minute(s) before the end · start the class game with "
        f"<code>sim play {_e(pack.name)} --serve</code></p>",
        "<h2>Teams, their levers and their decisions</h2><table><tr><th>Team</th><th>Levers</th><th>Decisions (the "
        "model takes none for a team)</th></tr>" + teams + "</table>",
        "<h2>Who controls what</h2><ul>" + "".join(f"<li>{_e(x)}</li>" for x in who_controls(pack, scn, played)) + "</ul>",
        "<h2>The deck (hidden from the teams)</h2><table><tr><th>Inject</th><th>When</th><th>What the class reads</th>"
        "<th>What it changes</th><th>Note</th></tr>" + rows + "</table>",
        f"<h2>{_e(pack.section_title('Timing'))}</h2>", markdown(pack.section("Timing")),
        "<h2>Debrief questions</h2>", markdown(pack.section("Debrief questions")),
        f"<h2>{_e(pack.section_title('Limits'))}</h2>", markdown(pack.section("Limits")),
        "</section>",
    ]
    return "\n".join(parts)


def briefings_html(pack: Pack, played: list[str] | None = None, *, facilitator: bool = True) -> str:
    """The pack's briefings as one HTML document: a page per team, then (``facilitator``)
    the facilitator's guide."""
    scn = pack.load_scenario()
    teams = list(played or pack.all_teams)
    orders = _decisions(scn, teams)
    body = [team_page(pack, scn, a, teams, orders[a]) for a in teams] + (
        [facilitator_page(pack, scn, teams, orders)] if facilitator else [])
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>Briefings — {_e(pack.spec.title)}</title><style>{CSS}{PRINT_CSS}</style></head><body>"
            + "\n".join(body) + "</body></html>")


def chromium() -> str | None:
    """Debian's chromium, if installed."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def print_pdf(page: str | Path, pdf: str | Path, browser: str | None = None) -> Path:
    """Print an HTML file to PDF with headless chromium (its print stylesheet applies).
    :class:`RuntimeError` with one line saying what to install if there is no chromium."""
    exe = browser or chromium()
    if exe is None:
        raise RuntimeError("printing to PDF needs Debian's chromium (apt-get install chromium); the HTML is written")
    pdf = Path(pdf).resolve()
    with tempfile.TemporaryDirectory() as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
               Path(page).resolve().as_uri()]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    if done.returncode != 0 or not pdf.is_file():
        raise RuntimeError(f"chromium could not print {page} (exit {done.returncode}): "
                           f"{(done.stderr or '').strip().splitlines()[-1:] or ''}")
    return pdf


def write_briefings(pack: Pack, folder: str | Path, *, pdf: bool = False, played: list[str] | None = None) -> dict[str, Path]:
    """Write ``briefings.html`` (and with ``pdf``, ``briefings.pdf``) into ``folder``."""
    from ..results import atomic_write

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / "briefings.html"
    atomic_write(page, briefings_html(pack, played))
    out = {"html": page}
    if pdf:
        out["pdf"] = print_pdf(page, folder / "briefings.pdf")
    return out
