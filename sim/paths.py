"""Where the shipped scenarios and fact cards live.

In a source checkout (or an editable install) they are the top-level ``scenarios/``,
``seeds/`` and ``docs/classroom/`` (the exercise packs) folders; in an installed wheel
they are package data under ``sim/_scenarios``, ``sim/_seeds`` and ``sim/_classroom``.
``SIM_SCENARIOS`` / ``SIM_SEEDS`` / ``SIM_CLASSROOM`` override them.
"""

from __future__ import annotations

import os
from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _find(env: str, packaged: str, checkout: str) -> Path:
    if os.environ.get(env):
        return Path(os.environ[env])
    repo = _PKG.parent / checkout
    if repo.is_dir():
        return repo
    return _PKG / packaged


def scenarios_dir() -> Path:
    """The folder of shipped scenarios."""
    return _find("SIM_SCENARIOS", "_scenarios", "scenarios")


def seeds_dir() -> Path:
    """The folder of fact cards (one YAML file per source article)."""
    return _find("SIM_SEEDS", "_seeds", "seeds")


def classroom_dir() -> Path:
    """The folder of classroom exercise packs (one folder each, with its ``pack.yaml``)."""
    return _find("SIM_CLASSROOM", "_classroom", "docs/classroom")


def repo_root() -> Path | None:
    """The source checkout this package runs from, if any (for the git commit)."""
    root = _PKG.parent
    return root if (root / ".git").exists() else None

