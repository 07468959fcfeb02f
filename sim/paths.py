"""Where the shipped scenarios and fact cards live.

In a source checkout (or an editable install) they are the top-level ``scenarios/``
and ``seeds/`` folders; in an installed wheel they are package data under
``sim/_scenarios`` and ``sim/_seeds``. ``SIM_SCENARIOS`` / ``SIM_SEEDS`` override both.
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


def repo_root() -> Path | None:
    """The source checkout this package runs from, if any (for the git commit)."""
    root = _PKG.parent
    return root if (root / ".git").exists() else None
