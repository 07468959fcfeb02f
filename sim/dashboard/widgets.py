"""Small components the three modes share: jobs with a progress bar, problems, tables, images."""

from __future__ import annotations

import html
import itertools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import solara

from .jobs import Job

_ticks = itertools.count(1)


UPLOAD_LIMIT = 10_000_000
"""The largest file the page uploads, in bytes (10 MB). A larger one is refused in the page, with
a message, before it is sent; the server's websocket takes messages of twice that and more
(:data:`WS_MAX_SIZE`), so an upload within the limit never drops the connection."""

WS_MAX_SIZE = 2 * UPLOAD_LIMIT + (1 << 20)
"""Largest websocket message the server accepts (uvicorn's ``ws_max_size``, 16 MiB by default,
which dropped the connection on a 20 MB upload): an upload's text, JSON-escaped (at most
about twice its size for a text file), and the message around it."""


def too_big(limit: int = UPLOAD_LIMIT, hint: str = "") -> str:
    """What follows ``NAME: SIZE MB`` when a file is over the upload limit."""
    return f"is over the upload limit of {limit / 1e6:g} MB" + (f"; {hint}" if hint else "")


def refused(data: dict, limit: int = UPLOAD_LIMIT, hint: str = "") -> str | None:
    """Why an uploaded file (``{"name", "text"}``) is refused -- over the limit -- or None."""
    size = len(str(data.get("text") or "").encode("utf-8", errors="replace"))
    if size <= limit:
        return None
    return f"{data.get('name') or 'the file'}: {size / 1e6:.1f} MB {too_big(limit, hint)}"


@solara.component_vue("upload.vue")
def _UploadButton(label: str, accept: str, max_bytes: int, too_big: str, event_upload: Callable[[dict], None]):
    """The browser's file picker; sends the chosen file's text, or says it is too big."""


@solara.component
def Upload(label: str, accept: str, event_upload: Callable[[dict], None], hint: str = ""):
    """A button that opens the browser's file picker and hands the chosen file's text
    (``{"name", "text"}``) to ``event_upload``. A file over :data:`UPLOAD_LIMIT` is refused
    with a message in the page (``hint`` says what to do instead), in the browser before it
    is sent, and here for a client that sends one anyway."""
    error, set_error = solara.use_state("")

    def got(data: dict) -> None:
        why = refused(data, hint=hint)
        set_error(why or "")
        if why is None:
            event_upload(data)

    _UploadButton(label=label, accept=accept, max_bytes=UPLOAD_LIMIT, too_big=too_big(hint=hint), event_upload=got)
    if error:
        solara.Text(error, classes=["sim-upload-error"])


def start_job(slot: solara.Reactive, tick: solara.Reactive, fn: Callable[[Job], Any], label: str) -> Job:
    """Start ``fn`` in a worker thread as the job held by ``slot``; ``tick`` changes whenever
    the job does, so that the page showing it renders again."""
    job = Job(fn, label, on_change=lambda: tick.set(next(_ticks)))
    slot.set(job)
    return job.start()


@solara.component
def JobStatus(job: Job | None, tick: int, cancel: bool = True):
    """The progress of a job (a bar and a line of text) and its Cancel button; its problems
    when it failed."""
    if job is None:
        return
    if job.running:
        frac = job.fraction
        with solara.Column(classes=["sim-job"], gap="2px"):
            solara.ProgressLinear(True if frac is None else 100 * frac)
            with solara.Row(style={"align-items": "center"}):
                text = f"{job.stage}: {job.done:,} of {job.total:,} runs" if job.total else f"{job.stage} ..."
                if job.cancel_requested:
                    text += " — cancelling after the current chunk"
                solara.Text(text, classes=["sim-job-text"])
                if cancel:
                    solara.Button("Cancel", on_click=job.cancel, disabled=job.cancel_requested, outlined=True,
                                  color="error", classes=["sim-cancel"])
    elif job.state == "failed":
        Problems(job.errors)
    elif job.state == "cancelled":
        solara.Warning(f"{job.label} cancelled" + (f" after {job.done:,} of {job.total:,} runs" if job.total else "")
                       + ".", classes=["sim-cancelled"])


@solara.component
def Problems(lines: Sequence[str]):
    """Problems, one line each, as the CLI prints them."""
    if not lines:
        return
    solara.HTML(tag="div", unsafe_innerHTML="<pre class='sim-problem-lines'>" + html.escape("\n".join(lines)) + "</pre>",
                classes=["sim-problems"])


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], cls: str, *, titles: Sequence[str] | None = None,
          numeric: Sequence[int] = (), raw: Sequence[int] = ()) -> str:
    """An HTML table (cells escaped, but for the ``raw`` columns, already HTML); ``numeric``
    columns are right-aligned."""
    th = "".join(f"<th title='{html.escape(t or '')}'>{html.escape(h)}</th>"
                 for h, t in zip(headers, titles or [""] * len(headers), strict=True))
    body = []
    for r in rows:
        tds = "".join(f"<td class='{'num' if i in numeric else ''}'>{c if i in raw else html.escape(str(c))}</td>"
                      for i, c in enumerate(r))
        body.append(f"<tr>{tds}</tr>")
    return f"<table class='sim-table {cls}'><thead><tr>{th}</tr></thead><tbody>{''.join(body)}</tbody></table>"


@solara.component
def Table(headers: Sequence[str], rows: Sequence[Sequence[Any]], cls: str, titles: Sequence[str] | None = None,
          numeric: Sequence[int] = (), raw: Sequence[int] = ()):
    solara.HTML(tag="div", unsafe_innerHTML=table(headers, rows, cls, titles=titles, numeric=numeric, raw=raw),
                classes=["sim-table-box"])


def Png(path: str | Path | None, caption: str = "", classes: list[str] | None = None):
    """A figure the library wrote. The file's modification time is passed on, so that a figure
    drawn again under the same name (the game's forecast chart) shows anew."""
    p = Path(path) if path is not None else None
    stamp = p.stat().st_mtime_ns if p is not None and p.is_file() else None
    return _Png(str(p) if p is not None else None, stamp, caption, classes or [])


@solara.component
def _Png(path: str | None, stamp: int | None, caption: str, classes: list[str]):
    data = solara.use_memo(lambda: Path(path).read_bytes() if stamp is not None else None, [path, stamp])
    if data is None:
        return
    with solara.Column(classes=["sim-figure", *classes], gap="0px"):
        solara.Image(data, width="100%")
        if caption:
            solara.Text(caption, classes=["sim-caption"])


def pct(x: float | None, digits: int = 2) -> str:
    """A probability in percent, as the outcome tables show it."""
    return "-" if x is None or x != x else f"{100 * x:.{digits}f}%"


CSS = """
.sim-table { border-collapse: collapse; font-size: 0.82rem; margin: 4px 0 10px 0; }
.sim-table th, .sim-table td { border-bottom: 1px solid #ddd; padding: 3px 6px; text-align: left; vertical-align: top; }
.sim-table th { background: #f3f5f8; font-weight: 600; }
.sim-table td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.sim-table-box { overflow-x: auto; max-width: 100%; }
.sim-run-outcomes > .sim-table-box { flex: 0 1 auto; }
.sim-run-outcomes > .sim-figure { flex: 1 1 340px; min-width: 340px; }
.sim-problem-lines { background: #fdecea; color: #611a15; padding: 8px 10px; border-radius: 4px; white-space: pre-wrap;
  font-size: 0.85rem; margin: 4px 0; }
.sim-name { font-size: 0.75rem; color: #666; background: none; padding: 0; }
.sim-outcomes td:first-child { min-width: 200px; max-width: 290px; }
.sim-forecasts td, .sim-forecasts th { white-space: nowrap; }
.sim-override, .sim-chipbtn { text-transform: none !important; letter-spacing: normal !important; }
.sim-run .v-input--checkbox { margin-top: 0; padding-top: 0; }
.sim-lever label { font-size: 0.82rem; line-height: 1.2; }
.sim-lever .v-input__slot { margin-bottom: 2px; }
.sim-lever .v-messages { display: none; }
.sim-caption { color: #555; font-size: 0.8rem; }
.sim-story { white-space: pre-wrap; font-size: 0.82rem; background: #fafafa; padding: 8px; border: 1px solid #eee;
  max-height: 420px; overflow-y: auto; }
.sim-words li { margin-bottom: 4px; }
.sim-note { color: #555; font-size: 0.85rem; }
.sim-chip { display: inline-block; background: #e8eef4; border-radius: 12px; padding: 1px 10px; margin: 2px; font-size: 0.85rem; }
.sim-section-title { font-weight: 600; font-size: 1.05rem; margin-top: 8px; }
"""
