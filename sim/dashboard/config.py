"""What ``sim dashboard`` was started with, shared by every browser session of the server."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Config:
    """The server's settings.

    Attributes:
        scenario: The scenario given on the command line (a path or a shipped name), or None.
        outputs: Where runs, stories and games are written (as ``sim run`` writes to ``outputs/``).
        studies: Folders searched for ``sim sweep`` and ``sim compare`` outputs.
        root: The folder under which the page may open a path typed in it (a study, a saved
            game); None: ``outputs`` (``sim dashboard --root DIR`` widens it).
    """

    scenario: str | None = None
    outputs: Path = field(default_factory=lambda: Path("outputs"))
    studies: list[Path] = field(default_factory=lambda: [Path("outputs")])
    root: Path | None = None
    classroom: Any = None
    """The class games served at ``/class`` (:class:`sim.classroom.Classroom`), once serving."""

    @property
    def opens(self) -> Path:
        """The folder under which typed paths may be opened (``root``, else ``outputs``)."""
        return self.root if self.root is not None else self.outputs


CONFIG = Config()
"""Set by :func:`sim.dashboard.server.serve` before the first page is served."""
