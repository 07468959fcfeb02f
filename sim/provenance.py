"""What made a run: the versions of this package, Python and the dependencies, and the git
commit of a source checkout. The manifest of every run, sweep and backtest records them
(:func:`sim.montecarlo.manifest`), and ``sim rerun`` compares them with its own."""

from __future__ import annotations

import functools
import platform
import subprocess
from importlib import metadata

from .paths import repo_root
from .version import __version__

DEPENDENCIES = ("mesa", "numpy", "pandas", "pydantic", "pyyaml", "matplotlib", "typer", "rich", "scipy", "salib")
"""The distributions whose versions a manifest records."""


@functools.lru_cache(maxsize=1)
def _versions() -> tuple:
    out = {"sim": __version__, "python": platform.python_version()}
    for d in DEPENDENCIES:
        try:
            out[d] = metadata.version(d)
        except metadata.PackageNotFoundError:
            out[d] = "not installed"
    return tuple(out.items())


def versions() -> dict[str, str]:
    """Versions of this package, Python and the dependencies (for the manifest)."""
    return dict(_versions())


def git_commit() -> str | None:
    """The commit of a source checkout, with ``-dirty`` when tracked files changed; None outside one."""
    root = repo_root()
    if root is None:
        return None
    try:
        sha = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        if sha.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, timeout=5)
        return sha.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None
