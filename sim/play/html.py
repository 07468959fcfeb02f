"""The story's page: one self-contained HTML file with the timeline and the months in words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..report.html import CSS, _e, _img
from .story import Story, follow, sentences, typical_replicates

EXTRA_CSS = """
table.story td.m{white-space:nowrap;width:8em;font-family:Helvetica,Arial,sans-serif;color:#333}
tr.move td{background:#f5f0e6} tr.inject td{background:#f3ecf7} tr.quiet td{color:#888}
.routine{color:#555;font-size:.88em}
"""


def story_rows(story: Story, first: int = 1, last: int | None = None) -> str:
    """The months of a story as table rows (quiet stretches folded, routine events summed per year)."""
    last = story.horizon if last is None else last
    out: list[str] = []
    for seg in story.segments(first, last):
        if seg[0] == "month":
            recs = seg[2]
            cls = "inject" if any(r["event"] == "inject" for r in recs) else "move" if any(r["event"] == "move" for r in recs) else ""
            out.append(f"<tr class='{cls}'><td class='m'>{_e(story.date(seg[1]))}</td><td>{_e(sentences([r['text'] for r in recs]))}</td></tr>")
        elif seg[0] == "quiet":
            out.append(_quiet_row(story, seg[1], seg[2]))
        else:
            _, a, b, rt = seg
            out.append(f"<tr><td class='m'></td><td class='routine'>Routine, {_e(story.date(a))} to "
                       f"{_e(story.date(b))}: {_e('; '.join(rt))}.</td></tr>")
    return "\n".join(out)


def _quiet_row(story: Story, a: int, b: int) -> str:
    span = story.date(a) if a == b else f"{story.date(a)} – {story.date(b)}"
    return f"<tr class='quiet'><td class='m'>{_e(span)}</td><td>Quiet.</td></tr>"


def outcome_list(story: Story) -> str:
    got = story.happened()
    if not got:
        return "<p>None of the scenario's outcomes happened in this run.</p>"
    items = "".join(f"<li>{_e(o['description'])} — <b>{_e(story.date(o['month']))}</b></li>" for o in got)
    missed = [o for o in story.outcomes if not o["month"]]
    tail = ("<p class='note'>Did not happen: " + "; ".join(_e(o["description"]) for o in missed) + ".</p>") if missed else ""
    return f"<ul>{items}</ul>{tail}"


def render_story(story: Story, figure: Path) -> str:
    which = f"replicate {story.replicate} of seed {story.seed}" if story.replicate is not None else f"seed {story.seed}"
    return "\n".join([
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{_e(story.title)} — a story</title><style>{CSS}{EXTRA_CSS}</style></head><body>",
        f"<h1>{_e(story.title)}</h1>",
        f"<p class='sub'>One run told month by month: {_e(which)} · {story.horizon} months from "
        f"{_e(story.date(1))}</p>",
        "<p class='note'>This is one possible future drawn by the model, not a forecast: the report's "
        "probabilities count how often each outcome happens over thousands of such runs.</p>",
        "<h2>What happened</h2>", outcome_list(story),
        "<h2>Timeline</h2>", _img(figure, "Escalation rungs and trust, month by month"),
        "<h2>Month by month</h2><table class='story'>", story_rows(story), "</table>",
        f"<p class='note'>Tell this story again with <code>{_e(story.command)}</code>.</p>",
        "</body></html>",
    ])


def write_story(story: Story, folder: str | Path, name: str = "story") -> dict[str, Path]:
    """Write ``NAME.html`` (self-contained), ``NAME.txt`` and ``NAME_timeline.png`` into ``folder``
    (:class:`~sim.files.OutputError` if the disk refuses)."""
    from ..files import OutputError, atomic_write
    from .figures import timeline

    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        png = timeline(story, folder / f"{name}_timeline.png")
        page = folder / f"{name}.html"
        atomic_write(page, render_story(story, png))
        txt = folder / f"{name}.txt"
        atomic_write(txt, f"{story.title}\n{story.command}\n\n{story.text()}\n")
    except OSError as exc:  # a read-only or full disk: one line, as for a run folder
        raise OutputError.from_os(folder, exc) from exc
    return {"html": page, "text": txt, "figure": png}


def write_run_stories(scn: Any, res: Any, folder: str | Path) -> list[dict[str, Any]]:
    """Stories of a typical replicate per outcome of a run, written into its folder.

    Returns what the report links: ``outcome``, ``description``, ``replicate``, ``file``.
    """
    pick = typical_replicates(res)
    if not pick:
        return []
    m = res.manifest
    reps = sorted(set(pick.values()))
    stories = dict(zip(reps, follow(scn, reps, seed=res.seed, runs=res.runs_requested, months=res.horizon,
                                    chunk_size=m.get("chunk_size"), dtype=m.get("dtype", "float32"),
                                    levers=list(res.levers)), strict=True))
    done: dict[int, str] = {}
    out = []
    for row in res.outcome_rows():
        k = pick.get(row["outcome"])
        if k is None:
            continue
        if k not in done:
            name = f"story_replicate_{k}"
            write_story(stories[k], folder, name)
            done[k] = f"{name}.html"
        out.append({"outcome": row["outcome"], "description": row["description"], "replicate": k, "file": done[k]})
    return out
