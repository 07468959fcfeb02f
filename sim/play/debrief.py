"""The debrief: one HTML page at the end of a game, for the class to discuss.

Decisions turn by turn, the forecast after each turn as a chart, the comparison with the
no-player baseline (the scenario's own Monte Carlo), the story of the game, and
questions for discussion.
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


def questions(game: Any) -> list[str]:
    """Questions for discussion: the scenario's own, then some drawn from this game."""
    scn = game.scn
    qs = list(scn.spec.play.questions) or list(scn.spec.meta.questions)
    turns = {t["turn"]: t for t in game.turns}
    for r in biggest_moves(game):
        t = turns.get(r["turn"], {})
        moves = ", ".join(t.get("moves", [])) or "no moves"
        inj = f" and injects {', '.join(t['injects'])}" if t.get("injects") else ""
        qs.append(f"After turn {r['turn']} ({moves}{inj}) the forecast of \"{r['description']}\" went from "
                  f"{_p(r['before'])} to {_p(r['after'])}. What in the situation drove that, and was it what the "
                  "players intended?")
    happened = game.happened()
    base = (game.baseline or {}).get("outcomes", {})
    for d in game.detectors:
        b = base.get(d.name, {}).get("p")
        if b is None:
            continue
        if d.name in happened and b < 0.25:
            qs.append(f"\"{d.description}\" happened in this game, though the scenario's own Monte Carlo gives it "
                      f"{_p(b)}. Bad luck, or the players' choices?")
        elif d.name not in happened and b > 0.75 and game.finished:
            qs.append(f"\"{d.description}\" did not happen here, though the scenario's own Monte Carlo gives it "
                      f"{_p(b)}. What held it off?")
    qs.append("Which actor that nobody played shaped the game most, and could the players have anticipated it?")
    return qs


def render(game: Any, chart: Path | None, timeline: Path) -> str:
    scn = game.scn
    story = game.story()
    played = ", ".join(story.labels["states"][game.plan.index_of("state")[a]] for a in game.played)
    status = "finished" if game.finished else f"stopped after turn {game.turn} of {game.total_turns}"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Debrief — {_e(scn.spec.meta.title)}</title><style>{CSS}{EXTRA_CSS}</style></head><body>",
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
        parts.append(f"<tr><td>{t['turn']}</td><td class='num'>{_e(span)}</td><td>{_e(', '.join(t['moves']) or '—')}</td>"
                     f"<td>{_e('; '.join(inj) or '—')}</td><td>{_e(what or 'quiet')}</td></tr>")
    parts.append("</table>")
    parts.append("<h2>The forecast after each turn</h2>")
    if chart is not None:
        parts.append(_img(chart, "Forecast after each turn"))
    parts.append("<p class='note'>Each point is the share of the continuations from the state after that turn in "
                 "which the outcome happens by the horizon (an outcome that already happened in the game counts); "
                 "bands are Wilson 95% intervals. Turn 0 is this game's world before any move: its hidden "
                 "parameters (an alliance's credibility, an actor's resolve) are drawn once for the game, so it "
                 "can differ from the baseline, which averages over them.</p>")
    parts.append("<h2>Compared with nobody playing</h2><table><tr><th>Outcome</th><th>Baseline: the scenario's own "
                 "Monte Carlo</th><th>This game, before any move</th><th>This game, now</th><th>In the game</th></tr>")
    happened = game.happened()
    base = (game.baseline or {}).get("outcomes", {})
    first, last = game.forecasts[0]["outcomes"], game.forecasts[-1]["outcomes"]
    for d in game.detectors:
        b = base.get(d.name, {}).get("p")
        inside = f"happened {game.date(happened[d.name])}" if d.name in happened else ("did not happen" if game.finished else "not yet")
        parts.append(f"<tr><td>{_e(d.description)}</td><td class='num'>{_p(b)}</td><td class='num'>"
                     f"{_p(first[d.name]['p'])}</td><td class='num'>{_p(last[d.name]['p'])}</td><td>{_e(inside)}</td></tr>")
    parts.append("</table>")
    parts.append("<h2>The story of the game</h2>")
    parts.append(outcome_list(story))
    parts.append(_img(timeline, "The game month by month"))
    parts.append("<table class='story'>" + story_rows(story, 1, game.elapsed) + "</table>")
    parts.append("<h2>Questions for discussion</h2><ol>" + "".join(f"<li>{_e(q)}</li>" for q in questions(game)) + "</ol>")
    parts.append("<p class='note'>Replay: the saved game holds the moves, injects, seed and every forecast's seed; "
                 "<code>sim run --from-game GAME.json --turn N</code> reruns the forecast after turn N. "
                 "Made with sim.</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_debrief(game: Any, folder: str | Path, name: str = "debrief") -> Path:
    """Write ``NAME.html`` (self-contained) into ``folder`` (an :class:`~sim.files.OutputError`
    naming it if it cannot be written: a full disk, a read-only folder)."""
    from ..results import atomic_write
    from .figures import forecast_chart, timeline

    path = Path(folder) / f"{name}.html"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            story = game.story()
            tl = timeline(story, Path(tmp) / "timeline.png", title="The game month by month")
            outs = [{"name": d.name, "description": d.description} for d in game.detectors]
            ticks = ["0\nstart"] + [f"{t['turn']}\n{t['to']}" for t in game.turns][: len(game.forecasts) - 1]
            chart = (forecast_chart(game.forecasts, outs, game.baseline, Path(tmp) / "forecast.png", ticks=ticks)
                     if game.forecasts else None)
            atomic_write(path, render(game, chart, tl))
    except OSError as exc:
        raise OutputError.from_os(path, exc) from exc
    return path
