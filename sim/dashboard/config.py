"""What ``sim dashboard`` was started with, shared by every browser session of the server."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Config:
    """The server's settings.

    Attributes:
        scenario: The scenario given on the command line (a path or a shipped name), or None.
        outputs: Where runs, stories and games are written (as ``sim run`` writes to ``outputs/``).
        studies: Folders searched for ``sim sweep`` and ``sim compare`` outputs.
    """

    scenario: str | None = None
    outputs: Path = field(default_factory=lambda: Path("outputs"))
    studies: list[Path] = field(default_factory=lambda: [Path("outputs")])


CONFIG = Config()
"""Set by :func:`sim.dashboard.server.serve` before the first page is served."""
