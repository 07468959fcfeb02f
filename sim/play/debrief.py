"""The debrief: one HTML page at the end of a game, for the class to discuss.

Decisions turn by turn (with the umpire's rulings), why the forecast moved after each
turn — the teams' moves, the injects, chance (:mod:`sim.play.explain`) — the forecast
after each turn as a chart (outcomes that happened, or can no longer happen, shown as
such), the comparison with the game without players (the scenario's own Monte Carlo
with the game's injects), the messages between the teams and the requests for
information (a class game's channels), the story of the game with each month's highest
rung, and questions for discussion drawn from the same split.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from ..files import OutputError
from ..report.html import CSS, _e, _img
from .html import EXTRA_CSS, outcome_list, story_rows


def _p(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def biggest_moves(game: Any, top: int = 3) -> list[dict[str, Any]]:
    """The turns after which a forecast moved most: turn, outcome, before, after."""
    out = []
    fc = game.forecasts
    for k in range(1, len(fc)):
        for d in game.detectors:
            a, b = fc[k - 1]["outcomes"][d.name]["p"], fc[k]["outcomes"][d.name]["p"]
            out.append({"turn": k, "outcome": d.name, "description": d.description, "before": a, "after": b})
    out.sort(key=lambda r: -abs(r["after"] - r["before"]))
    return [r for r in out[:top] if abs(r["after"] - r["before"]) >= 0.01]


PART_WORDS = {"moves": "the teams' moves", "injects": "the injects", "chance": "chance (this turn's draws)",
              "interaction": "moves and injects together", "ruling": "the umpire's ruling"}


def split_sentence(row: dict[str, Any]) -> tuple[str, str]:
    """A turn's split of one outcome in words, and which part did most."""
    parts = [(k, row.get(k)) for k in ("moves", "injects", "chance", "interaction", "ruling")
             if row.get(k) is not None and (k != "interaction" or row.get("interaction_shown"))]
    said = [f"{PART_WORDS[k]} {100 * v:+.1f} points" for k, v in parts if abs(v) >= 0.0005]
    top = max(parts, key=lambda kv: abs(kv[1]))[0] if parts else "chance"
    return ("; ".join(said) or "no part above a twentieth of a point"), top


FOLLOW_UP = {
    "moves": "What in the teams' moves drove that, and was it what they intended?",
    "injects": "The injects did most of it: how could the teams have answered them?",
    "chance": "Most of it was chance: would you make the same moves again, knowing the odds rather than the result?",
    "interaction": "Moves and injects together did what neither did alone: which combination, and why?",
    "ruling": "The umpire's ruling did most of it: was the ruling fair to the model's logic?",
}


def questions(game: Any) -> list[str]:
    """Questions for discussion: the scenario's own, then some drawn from this game, each
    change attributed to the teams' moves, the injects and chance as the turn's split says."""
    scn = game.scn
    qs = list(scn.spec.play.questions) or list(scn.spec.meta.questions)
    turns = {t["turn"]: t for t in game.turns}
    for r in biggest_moves(game):
        t = turns.get(r["turn"], {})
        moves = ", ".join(t.get("moves", [])) or "no moves"
        inj = f" and injects {', '.join(t['injects'])}" if t.get("injects") else ""
        ex = game.explanations[r["turn"] - 1] if len(game.explanations) >= r["turn"] else None
        row = ex["outcomes"].get(r["outcome"]) if ex else None
        head = (f"After turn {r['turn']} ({moves}{inj}) the forecast of \"{r['description']}\" went from "
                f"{_p(r['before'])} to {_p(r['after'])}.")
        if row is None:
            qs.append(head + " What in the situation drove that, and was it what the players intended?")
        else:
            said, top = split_sentence(row)
            qs.append(f"{head} Of that, {said}. {FOLLOW_UP[top]}")
    happened = game.happened()
    base = (game.baseline or {}).get("outcomes", {})
    for d in game.detectors:
        b = base.get(d.name, {}).get("p")
        if b is None:
            continue
        if d.name in happened and b < 0.25:
            qs.append(f"\"{d.description}\" happened in this game, though the scenario's own Monte Carlo with the "
                      f"same injects gives it {_p(b)}. Bad luck, or the players' choices?")
        elif d.name not in happened and b > 0.75 and game.finished:
            qs.append(f"\"{d.description}\" did not happen here, though the scenario's own Monte Carlo with the "
                      f"same injects gives it {_p(b)}. What held it off?")
    qs.append("Which actor that nobody played shaped the game most, and could the players have anticipated it?")
    return qs


def _fates(t: dict[str, Any]) -> str:
    """A turn's moves with what the umpire did to those not played as submitted."""
    played = list(t["moves"])
    others = [f"{f['key']} ({f['fate']}{': ' + f['reason'] if f.get('reason') else ''})"
              for f in t.get("fates", []) if f["fate"] != "played"]
    return ", ".join(played + others) or "—"


def why_rows(game: Any, top: int = 3) -> list[str]:
    """Table rows: for each explained turn, the outcomes that moved most and their split."""
    from .plain import outcome_groups

    where = {n: f"{g.title}: {g.short[n]}" for g in outcome_groups(game.scn) for n in g.outcomes}
    rows = []
    for k, ex in enumerate(game.explanations, start=1):
        if ex is None:
            continue
        moved = sorted(ex["outcomes"].items(), key=lambda kv: -abs(kv[1]["total"]))
        moved = [(n, r) for n, r in moved if abs(r["total"]) >= 0.01][:top]
        idle = [m["move"] + (" (changed nothing in the model)" if m["nothing"] == "model" else
                             " (moved no forecast beyond Monte Carlo error)") for m in ex["moves"] if m["nothing"]]
        for i, (n, r) in enumerate(moved):
            def cell(key: str, r: dict[str, Any] = r) -> str:
                v = r.get(key)
                if v is None or (key == "interaction" and not r.get("interaction_shown")):
                    return "·"
                return f"{100 * v:+.1f}"
            rows.append(f"<tr><td>{k if i == 0 else ''}</td><td>{_e(where.get(n, n))}</td>"
                        f"<td class='num'>{100 * r['total']:+.1f}</td><td class='num'>{cell('moves')}</td>"
                        f"<td class='num'>{cell('injects')}</td><td class='num'>{cell('chance')}</td>"
                        f"<td class='num'>{cell('interaction')}</td><td class='num'>{cell('ruling')}</td>"
                        f"<td>{_e('; '.join(idle)) if i == 0 else ''}</td></tr>")
        if not moved:
            rows.append(f"<tr><td>{k}</td><td colspan='7'>no outcome moved by a point or more</td>"
                        f"<td>{_e('; '.join(idle))}</td></tr>")
    return rows


def in_the_game(game: Any, name: str, happened: dict[str, int]) -> str:
    if name in happened:
        return f"happened {game.date(happened[name])}"
    return "did not happen (no time left)" if game.finished else "not yet: still open"


def render(game: Any, chart: Path | None, timeline: Path, *, channels: list[dict[str, Any]] | None = None,
           umpire: list[dict[str, Any]] | None = None) -> str:
    scn = game.scn
    story = game.story()
    played = ", ".join(story.labels["states"][game.plan.index_of("state")[a]] for a in game.played)
    status = "finished" if game.finished else f"stopped after turn {game.turn} of {game.total_turns}"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Debrief — {_e(scn.spec.meta.title)}</title><style>{CSS}{EXTRA_CSS}"
        "blockquote{margin:.3em 0 .3em 1em;padding-left:.6em;border-left:3px solid #ccc}</style></head><body>",
        f"<h1>Debrief: {_e(scn.spec.meta.title)}</h1>",
        f"<p class='sub'>Played: <b>{_e(played)}</b> · {game.turn} turns of "
        f"{'a month' if game.turn_months == 1 else f'{game.turn_months} months'} from {_e(game.date(1))} · "
        f"game {status} · seed {game.seed} · forecasts from {game.forecast_runs:,} continuations</p>",
    ]
    if scn.spec.meta.description:
        parts.append(f"<p>{_e(scn.spec.meta.description)}</p>")
    parts.append("<h2>Decisions, turn by turn</h2><table><tr><th>Turn</th><th>Months</th><th>Moves</th>"
                 "<th>Injects and events</th><th>What happened</th></tr>")
    for t in game.turns:
        rows = [r for r in story.records if t["first"] <= r["elapsed"] <= t["last"]
                and not r.get("routine") and r["event"] not in ("move", "inject", "escalation.deaths")]
        what = "; ".join(r["text"] for r in rows[:4]) + (f"; and {len(rows) - 4} more" if len(rows) > 4 else "")
        inj = [r["text"].removeprefix("Inject: ") for r in story.records
               if r["event"] == "inject" and t["first"] <= r["elapsed"] <= t["last"]]
        span = t["from"] + ("" if t["to"] == t["from"] else f" – {t['to']}")
        parts.append(f"<tr><td>{t['turn']}</td><td class='num'>{_e(span)}</td><td>{_e(_fates(t))}</td>"
                     f"<td>{_e('; '.join(inj) or '—')}</td><td>{_e(what or 'quiet')}</td></tr>")
    parts.append("</table>")
    why = why_rows(game)
    if why:
        parts.append("<h2>Why the forecast moved</h2><table><tr><th>Turn</th><th>Outcome</th><th>Change</th>"
                     "<th>Teams' moves</th><th>Injects</th><th>Chance</th><th>Together</th><th>Umpire</th>"
                     "<th>Moves that changed nothing</th></tr>" + "".join(why) + "</table>")
        parts.append("<p class='note'>Points of probability. Each turn was replayed from the state before it with "
                     "the moves only, the injects only and neither, on the same random numbers, and each world's "
                     "continuations run on the game's own seed: <i>chance</i> is what the turn's months did with "
                     "neither (this turn's draws), <i>together</i> what moves and injects did only in combination "
                     "(shown where it exceeds Monte Carlo error, '·' otherwise). The parts add up to the change.</p>")
    parts.append("<h2>The forecast after each turn</h2>")
    if chart is not None:
        parts.append(_img(chart, "Forecast after each turn"))
    parts.append("<p class='note'>Each point is the share of the continuations from the state after that turn in "
                 "which the outcome happens by the horizon; a star marks an outcome that happened in the game, a "
                 "cross one that did not happen when the time ran out (the probability of anything falls as time "
                 "runs out). Bands are Wilson 95% intervals. Turn 0 is this game's world before any move: its "
                 "hidden parameters (an alliance's credibility, an actor's resolve) are drawn once for the game, "
                 "so it can differ from the baseline, which averages over them.</p>")
    parts.append("<h2>Compared with nobody playing</h2><table><tr><th>Outcome</th><th>Baseline: the scenario's own "
                 "Monte Carlo with this game's injects</th><th>This game, before any move</th><th>This game, now</th>"
                 "<th>In the game</th></tr>")
    happened = game.happened()
    base = (game.baseline or {}).get("outcomes", {})
    first, last = game.forecasts[0]["outcomes"], game.forecasts[-1]["outcomes"]
    for d in game.detectors:
        b = base.get(d.name, {}).get("p")
        now = "—" if d.name in happened or game.finished else _p(last[d.name]["p"])
        parts.append(f"<tr><td>{_e(d.description)}</td><td class='num'>{_p(b)}</td><td class='num'>"
                     f"{_p(first[d.name]['p'])}</td><td class='num'>{now}</td>"
                     f"<td>{_e(in_the_game(game, d.name, happened))}</td></tr>")
    parts.append("</table>")
    if channels:
        parts.append("<h2>Messages and requests for information</h2>")
        for m in channels:
            verb = {"request": "asks", "answer": "answers", "message": "writes to"}.get(m["kind"], "writes to")
            parts.append(f"<p><b>Turn {m['turn']}</b> — {_e(m['from'])} {verb} {_e(m['to'])}:</p>"
                         f"<blockquote class='message'>{_e(m['text'])}</blockquote>")
    if umpire:
        parts.append("<h2>The umpire's log</h2><ul>" + "".join(
            f"<li>Turn {u['turn']}: {_e(u['text'])}</li>" for u in umpire) + "</ul>")
    parts.append("<h2>The story of the game</h2>")
    parts.append(outcome_list(story))
    parts.append(_img(timeline, "The game month by month: each month's highest rung"))
    parts.append("<table class='story'>" + story_rows(story, 1, game.elapsed) + "</table>")
    parts.append("<h2>Questions for discussion</h2><ol>" + "".join(f"<li>{_e(q)}</li>" for q in questions(game)) + "</ol>")
    parts.append("<p class='note'>Replay: the saved game holds the moves, injects, seed and every forecast's seed; "
                 "<code>sim run --from-game GAME.json --turn N</code> reruns the forecast after turn N. "
                 "Made with sim.</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_debrief(game: Any, folder: str | Path, name: str = "debrief", *, channels: list[dict[str, Any]] | None = None,
                  umpire: list[dict[str, Any]] | None = None) -> Path:
    """Write ``NAME.html`` (self-contained) into ``folder`` (an :class:`~sim.files.OutputError`
    naming it if it cannot be written: a full disk, a read-only folder). Turns not yet
    explained are explained first, and the baseline is made again with the injects played
    by hand; ``channels`` (messages: turn, from, to, kind, text) and ``umpire`` (the
    umpire's log: turn, text) are quoted."""
    from ..results import atomic_write
    from .figures import forecast_chart, timeline
    from .summary import happened_turns

    for k, t in enumerate(game.turns, start=1):
        if "applied" in t and (len(game.explanations) < k or game.explanations[k - 1] is None):
            game.explain(k)
    game.baseline_now()
    path = Path(folder) / f"{name}.html"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            story = game.story()
            tl = timeline(story, Path(tmp) / "timeline.png", title="The game month by month")
            outs = [{"name": d.name, "description": d.description} for d in game.detectors]
            ticks = ["0\nstart"] + [f"{t['turn']}\n{t['to']}" for t in game.turns][: len(game.forecasts) - 1]
            chart = (forecast_chart(game.forecasts, outs, game.baseline, Path(tmp) / "forecast.png", ticks=ticks,
                                    happened=happened_turns(game), finished=game.finished)
                     if game.forecasts else None)
            atomic_write(path, render(game, chart, tl, channels=channels, umpire=umpire))
    except OSError as exc:
        raise OutputError.from_os(path, exc) from exc
    return path
