"""Output folders: where a run, a sweep, a comparison, a story or a game is written.

``--out DIR`` is checked before anything runs (:func:`check_out`: new or empty, and
writable through the same write layer as the results); a folder without ``--out`` is a new
one under ``outputs/`` (:func:`default_output_dir`, :func:`new_folder`), never an existing
one, so runs never overwrite each other. :func:`out_or_new` is what a command does after a
long run: ``--out`` if it can still be written, else a new folder, and why.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import files
from .files import OutputError
from .scenario.errors import InputError, option_error


def default_output_dir(res: Any, root: str | Path = "outputs") -> Path:
    """A new folder ``outputs/<scenario>/<YYYYmmdd-HHMMSS>-<hash>/`` (never an existing one)."""
    h = hashlib.sha256(f"{res.manifest.get('scenario_sha256')}:{res.seed}:{res.runs_requested}:{res.horizon}".encode()).hexdigest()[:8]
    return new_folder(Path(root) / res.scenario, suffix=f"-{h}")


def new_folder(base: str | Path, prefix: str = "", suffix: str = "", *, create: bool = True) -> Path:
    """A new folder ``BASE/<prefix><YYYYmmdd-HHMMSS><suffix>``, ``-2``, ``-3``... appended when
    that exists (never an existing one); made at once, or with ``create=False`` only named.
    A folder that cannot be made is an :class:`~sim.results.OutputError` naming it."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path(base)
    if create:
        try:
            base.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError.from_os(base, exc) from exc
    for i in range(1000):
        p = base / (f"{prefix}{stamp}{suffix}" + (f"-{i + 1}" if i else ""))
        if not create:
            if not p.exists():
                return p
            continue
        try:
            p.mkdir()
            return p
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError.from_os(p, exc) from exc
    raise RuntimeError("could not find a new output folder")  # pragma: no cover


def check_out(out: str | Path) -> Path:
    """``--out DIR``: accept a new or empty folder that can be written, refuse a non-empty
    one, a file, or a place where nothing can be written (checked before the run, not after).

    Creates nothing that stays: the folder is made when the run is saved
    (:func:`prepare_out`), so a run stopped by a bad option leaves nothing behind.
    """
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise option_error("--out", f"{p} exists and is not a folder; choose a new folder")
    if p.is_dir() and any(p.iterdir()):
        raise option_error("--out", f"{p} is not empty; choose a new folder (runs never overwrite each other)")
    check_writable(p)
    return p


def check_writable(folder: str | Path, option: str = "--out") -> None:
    """Can ``folder`` (or the folder it would be made in) be written? A file is written there
    through the same write layer as the results (:func:`sim.files.atomic_write`) and removed;
    a read-only or full disk, or a folder without permission, is an :class:`InputError` on
    ``option`` before anything runs."""
    p = Path(folder)
    here = p
    while not here.exists() and here != here.parent:
        here = here.parent
    if not here.is_dir():
        raise option_error(option, f"{here} is a file, so {p} cannot be made; choose another folder")
    probe = here / f".sim-write-test-{os.getpid()}"
    try:
        files.atomic_write(probe, b"")  # looked up here: the write layer a test may replace
        probe.unlink()
    except OSError as exc:
        reason = (exc.strerror or str(exc)).strip()
        made = "" if here == p else f" (where {p} would be made)"
        raise option_error(option, f"cannot write in {here.absolute()}{made}: {reason[:1].lower() + reason[1:]}; choose a "
                                   "folder you can write to") from None


def prepare_out(out: str | Path) -> Path:
    """``--out DIR``: check it (:func:`check_out`) and create it.

    A folder that cannot be created (read-only, full disk) is an
    :class:`~sim.results.OutputError`, reported after the results have been shown.
    """
    p = check_out(out)
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError.from_os(p, exc) from exc
    return p


def out_or_new(out: str | Path | None, new: Callable[[], Path]) -> tuple[Path, InputError | None]:
    """The folder to save into after a run: ``out`` made ready (:func:`prepare_out`; it is
    checked again, since it may have filled up during the run), or, when it can no longer
    be used or none was given, ``new()``; with the problem that made ``out`` unusable, for
    the caller to say (nothing computed is lost for it)."""
    if out is not None:
        try:
            return prepare_out(out), None
        except InputError as exc:
            return new(), exc
    return new(), None
