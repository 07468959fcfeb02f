"""Writing files and folders whole, and what is left when a write fails.

Every file a command writes goes through :func:`atomic_write` or :func:`atomic_copy`: a
temporary name in the same folder, then a rename, so a file is either whole or absent.
A result folder (a run, a sweep, a comparison) is written by :func:`write_folder`: data
files first, ``manifest.json`` last. When the disk fills up or turns out read-only on the
way, nothing half-written stays behind and nothing that was there before is touched:

* temporary files are removed;
* the files already written are kept, with a ``manifest.json`` that says the folder is
  incomplete (``outputs_complete: false``, ``outputs_error``, ``outputs_written``) -- or, when not even that
  small file can be written, the files this save wrote are removed, so that no folder is
  left that cannot say what it holds; a folder left empty is removed;
* :class:`OutputError` says which of the two happened, in one line.

:func:`private_dir` makes the scratch folders a command keeps in the system's temporary
directory while it runs (``--replicates`` streams its Parquet file there); a folder whose
process was killed (SIGKILL, a power cut) is removed by the next command that makes one.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

TEMPORARY = (".tmp", ".partial")
"""Endings of the names files have while they are being written."""


class OutputError(RuntimeError):
    """A file or folder could not be written (disk full, read-only, no permission).

    Attributes:
        folder: What was being written (a folder, or a file such as a saved game).
        reason: The system's reason in words (``no space left on device``).
        left: What is left of a result folder that failed half-way: ``"kept"`` (the files
            written before, and a manifest marking the folder incomplete), ``"removed"``
            (nothing: not even the manifest could be written) or None (nothing was
            written, or not a result folder).
    """

    def __init__(self, folder: Path, reason: str, left: str | None = None):
        self.folder, self.reason, self.left = Path(folder), reason, left
        super().__init__(self._text())

    def _text(self) -> str:
        what = {"kept": " (the files written before it are kept; manifest.json marks the folder incomplete)",
                "removed": " (the partly written folder is removed: not even its manifest could be written)"}
        return f"cannot write to {self.folder}: {self.reason}{what.get(self.left or '', '')}"

    def leaving(self, left: str | None) -> OutputError:
        """The same error, saying what is left of the folder."""
        self.left = left
        self.args = (self._text(),)
        return self

    @classmethod
    def from_os(cls, folder: Path, exc: OSError) -> OutputError:
        """From the system's error: its reason in words (``no space left on device``), also for
        libraries (pyarrow) whose message wraps the reason in their own words."""
        reason = os.strerror(exc.errno) if isinstance(exc.errno, int) and exc.errno > 0 else (exc.strerror or str(exc))
        reason = reason.strip()
        return cls(folder, reason[:1].lower() + reason[1:])


def _remove(p: Path) -> None:
    try:
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink()
    except OSError:
        pass


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write a file whole or not at all: temporary name in the same folder, then rename.

    If writing fails (a full disk, say) the temporary file is removed and the error
    re-raised: nothing half-written stays behind, and what was there before is untouched.
    """
    if isinstance(data, bytes):
        _whole(path, "wb", lambda fh: fh.write(data))
    else:
        _whole(path, "w", lambda fh: fh.write(data), encoding="utf-8")


def atomic_copy(src: Path, path: Path) -> None:
    """Copy a file whole or not at all (as :func:`atomic_write`)."""
    with open(src, "rb") as fin:
        _whole(path, "wb", lambda fout: shutil.copyfileobj(fin, fout, 1 << 20))


def _whole(path: Path, mode: str, fill: Callable[[Any], Any], **kw: Any) -> None:
    """Write ``path`` through a temporary file of the same folder (``fill`` writes it), flushed
    to the disk, then renamed into place; on any failure the temporary file is removed."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, mode, **kw) as fh:
            fill(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise


def is_temporary(p: Path) -> bool:
    return p.name.endswith(TEMPORARY)


def write_folder(folder: str | Path, write: Callable[[Path], Any], manifest: Callable[[Path, dict], Any]) -> Path:
    """Write a result folder: ``write(folder)`` writes the data files, ``manifest(folder, {})``
    writes ``manifest.json`` last.

    On an :class:`OSError` (disk full, read-only) the folder is tidied (see the module's
    text: temporaries removed; the files written kept with ``manifest(folder, {...})``
    marking it incomplete, or removed if that fails too) and an :class:`OutputError`
    naming the folder and saying which is raised. Entries the folder held before are
    never touched.
    """
    folder = Path(folder)
    try:
        before: set[str] | None = set(os.listdir(folder))
    except OSError:
        before = None  # the folder is made here
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write(folder)
        manifest(folder, {})
    except OSError as exc:
        err = OutputError.from_os(folder, exc)
        raise err.leaving(_tidy(folder, before or set(), err, manifest)) from exc
    return folder


def _tidy(folder: Path, before: set[str], err: OutputError, manifest: Callable[[Path, dict], Any]) -> str | None:
    """After a failed write: what is left (``kept``, ``removed`` or None); see :func:`write_folder`."""
    try:
        new = [folder / n for n in os.listdir(folder) if n not in before]
    except OSError:
        return None  # the folder itself could not be made
    for p in new:
        if is_temporary(p):
            _remove(p)
        elif p.is_dir():
            for q in p.rglob("*"):
                if is_temporary(q):
                    _remove(q)
    written = [p for p in new if p.exists() and not is_temporary(p) and p.name != "manifest.json"]
    left: str | None = None
    if written:
        try:
            manifest(folder, {"outputs_complete": False, "outputs_error": str(err),
                              "outputs_written": sorted(p.name for p in written)})
            return "kept"
        except OSError:
            for p in new:
                _remove(p)
            left = "removed"
    try:
        folder.rmdir()  # only if empty: never anything that was there before
    except OSError:
        pass
    return left


# --------------------------------------------------------------- scratch folders


def private_dir(kind: str) -> Path:
    """A new scratch folder ``sim-KIND-PID-XXXX`` in the system's temporary directory, locked
    by this process until it ends; stale folders of the same kind (their process gone:
    killed with SIGKILL, say) are removed first (:func:`clean_stale`).

    The caller removes the folder when done (``shutil.rmtree``).
    """
    clean_stale(kind)
    pid = os.getpid()
    made = Path(tempfile.mkdtemp(prefix=f".sim-{kind}-{pid}-"))  # not yet a name clean_stale looks at
    fd = os.open(made / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    _lock(fd, block=True)
    final = made.with_name(made.name[1:])
    os.rename(made, final)  # the lock is held before the folder has a name others may clean
    _HELD[str(final)] = fd
    return final


_HELD: dict[str, int] = {}
"""Lock files this process holds open (one per scratch folder it made), kept until it ends."""


def release(folder: str | Path) -> None:
    """Remove a scratch folder made by :func:`private_dir` and let go of its lock."""
    shutil.rmtree(folder, ignore_errors=True)
    fd = _HELD.pop(str(folder), None)
    if fd is not None:
        os.close(fd)


def _lock(fd: int, block: bool) -> bool:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX: the PID alone decides
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
        return True
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(kind: str) -> list[Path]:
    """Remove the scratch folders ``sim-KIND-PID-*`` whose process has ended; return them.

    A folder is stale only when both say so: its process (the PID in its name) is not
    running, and its lock is free (the lock is held for as long as the process that made
    it, or any worker it started, lives). A live run's folder is never touched.
    """
    removed = []
    root = Path(tempfile.gettempdir())
    try:
        entries = list(root.glob(f"sim-{kind}-*"))
    except OSError:
        return removed
    for p in entries:
        parts = p.name.split("-")
        if len(parts) < 4 or not parts[2].isdigit() or not p.is_dir() or p.is_symlink():
            continue
        if int(parts[2]) == os.getpid() or _alive(int(parts[2])):
            continue
        try:
            fd = os.open(p / "lock", os.O_RDWR)
        except OSError:
            continue  # no lock file: not a folder this code made
        try:
            if not _lock(fd, block=False):
                continue
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
        finally:
            os.close(fd)
    return removed
