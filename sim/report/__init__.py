"""Figures and the self-contained HTML report of a run (matplotlib, imported lazily)."""

from __future__ import annotations

from pathlib import Path

from ..collector import collector_paused
from .html import write_html


def write_report(res, folder: str | Path) -> Path:
    """Write the figures and ``report.html`` of a run into ``folder`` (the cyclic garbage
    collector paused, matplotlib's import included: :mod:`sim.collector`). The figures are
    drawn by the painter :func:`sim.report.early.start` forked before the run, where there
    is one, else here."""
    from . import early

    folder = Path(folder)
    with collector_paused():
        figs = early.draw(res, folder)
        if figs is None:
            from .figures import write_figures

            figs = write_figures(res, folder)
        return write_html(res, folder, figs)


__all__ = ["write_report"]
