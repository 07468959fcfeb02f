"""Listening on a port for a browser app (``sim dashboard``, a class game's server):
the options checked before anything starts, the socket, on 127.0.0.1 by default, and the
paths a page may open (:func:`within`)."""

from __future__ import annotations

import errno
import socket
from pathlib import Path

from .scenario.errors import InputError, Mark, Problem, option_error

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def check_options(port: int, host: str) -> None:
    """Reject a port or host that cannot be served before anything starts."""
    if not 0 <= port <= 65535:
        raise option_error("--port", f"must be between 1 and 65535, or 0 for a free port (got {port})")
    if not host or not host.strip():
        raise option_error("--host", "must be an address to listen on, e.g. 127.0.0.1")


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free one); :class:`InputError` if it
    cannot be had (in use, not an address of this machine)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise option_error("--port", f"{port} is in use on {host}; choose another (--port 0 picks a free one)") from None
        if isinstance(exc, socket.gaierror) or exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
            raise option_error("--host", f"cannot listen on {host!r}: {exc.strerror or exc}") from None
        raise option_error("--port", f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def within(text: str, root: str | Path, server: str = "dashboard") -> Path:
    """A path typed in a page (the dashboard's, a class game's), resolved (symbolic links
    followed), if it lies under ``root``; otherwise an :class:`InputError` that is the same
    whether or not the path exists, so that the page tells nothing about the server's files
    outside ``root``."""
    typed = str(text).strip()
    try:
        real = Path(typed).expanduser().resolve()
        inside = bool(typed) and real.is_relative_to(Path(root).expanduser().resolve())
    except (OSError, RuntimeError, ValueError):  # an unknown ~user, a NUL character, a link loop
        inside = False
    if not inside:
        raise InputError([Problem(Mark(typed or "''"), "", f"outside {root}/, the folder this {server} opens paths in; "
                                  "start it with --root DIR to open paths under DIR")])
    return real
