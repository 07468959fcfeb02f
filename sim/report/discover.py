"""Figures and files of scenario discovery: PRIM's peeling trajectory (returned as a
matplotlib Figure; never shown)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure


def peeling_trajectory(finding: Any, description: str) -> Figure:
    """Coverage against density along PRIM's peeling trajectory, one point per box (its
    index beside it), coloured by how many inputs it restricts; the box taken is ringed."""
    t = finding.trajectory
    fig = Figure(figsize=(7.2, 5.0))
    ax = fig.add_subplot()
    restricted = t["restricted"].to_numpy()
    sc = ax.scatter(t["coverage"], t["density"], c=restricted, cmap="viridis", s=28, zorder=3,
                    vmin=0, vmax=max(1, int(restricted.max())))
    ax.plot(t["coverage"], t["density"], color="#bbb", lw=0.8, zorder=2)
    step = max(1, len(t) // 12)
    for i, (c, d) in enumerate(zip(t["coverage"], t["density"], strict=True)):
        if i % step == 0 or i == finding.box or i == len(t) - 1:
            ax.annotate(str(i), (c, d), textcoords="offset points", xytext=(4, 4), fontsize=7, color="#333")
    if finding.box is not None:
        c, d = t.loc[finding.box, "coverage"], t.loc[finding.box, "density"]
        ax.scatter([c], [d], s=170, facecolors="none", edgecolors="#c44e52", linewidths=2, zorder=4,
                   label=f"box {finding.box}, taken")
        ax.legend(loc="lower left", fontsize=8, frameon=False)
    cb = fig.colorbar(sc, ax=ax)
    cb.set_label("inputs restricted")
    ax.set_xlabel("coverage: share of the sets where it is likely that are in the box")
    ax.set_ylabel("density: share of the box's sets where it is likely")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.set_title("\n".join(textwrap.wrap(f"PRIM's peeling trajectory: {description}", 70)), fontsize=10)
    fig.tight_layout()
    return fig


def write_discovery(found: dict[str, Any], folder: str | Path) -> list[Path]:
    """Write PRIM's peeling trajectory of ``found`` (:func:`sim.analysis.discover.discover`)
    into ``folder``: ``prim_trajectory_<outcome>.csv`` and ``fig_prim_<outcome>.png``."""
    from ..files import atomic_write
    from .sweep import _png

    b = found.get("prim")
    if b is None or b.trajectory is None:
        return []
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    name = found["outcome"]
    table = b.trajectory.copy()
    table["taken"] = np.arange(len(table)) == b.box
    csv = folder / f"prim_trajectory_{name}.csv"
    atomic_write(csv, table.to_csv(float_format="%.6g"))
    return [csv, _png(peeling_trajectory(b, found["description"]), folder / f"fig_prim_{name}.png")]
