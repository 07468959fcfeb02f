"""Serving the dashboard: Solara's Starlette app under uvicorn, on 127.0.0.1 by default.

Solara is configured before it is imported: production mode, no telemetry, no banner,
and its front-end assets from the ``solara-assets`` package, so the page loads with no
internet connection.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..api import load_scenario
from ..scenario.errors import InputError, option_error
from ..webserve import LOOPBACK, bind, check_options  # shared with sim.classroom's server
from .config import CONFIG


def missing() -> str | None:
    """The first package the dashboard needs that is not installed (the ``dashboard`` extra)."""
    for name in ("solara", "uvicorn", "starlette"):
        if importlib.util.find_spec(name) is None:
            return name
    return None


def configure_solara() -> None:
    """Solara's settings for a local, offline app (before Solara is imported)."""
    os.environ["SOLARA_APP"] = "sim.dashboard.app"
    os.environ.setdefault("SOLARA_MODE", "production")
    os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    os.environ["SOLARA_THEME_SHOW_BANNER"] = "False"


def mount_classroom(app: Any, outputs: str | Path) -> Any:
    """Serve the class games of ``outputs`` at ``/class`` on the dashboard's own Starlette app
    (teams join a game started in the Play tab from their browsers: sim.classroom). Returns
    the :class:`sim.classroom.Classroom`."""
    from starlette.routing import Mount

    from ..classroom.serve import open_classroom
    from ..classroom.web import make_app

    svc = open_classroom(outputs)
    app.routes.insert(0, Mount("/class", app=make_app(svc, "/class")))
    svc.recover()
    svc.start_ticker()
    return svc


def serve(scenario: str | None = None, *, host: str = "127.0.0.1", port: int = 8765, outputs: str | Path = "outputs",
          studies: list[str | Path] | None = None, root: str | Path | None = None,
          ready: Callable[[str], None] | None = None) -> None:
    """Serve the dashboard until interrupted (Ctrl-C or SIGTERM).

    Args:
        scenario: A scenario to start with (a path or a shipped name), checked first.
        host: Address to listen on (127.0.0.1: this machine only).
        port: Port (0: a free one).
        outputs: Folder for runs, stories and games.
        studies: Folders searched for sweeps and comparisons (default: ``outputs``).
        root: The folder under which paths typed in the page (a study, a saved game) may be
            opened (default: ``outputs``); a path outside it is refused, with the same
            message whether or not it exists.
        ready: Called with the page's address once the server listens.
    """
    check_options(port, host)
    if root is not None and not Path(root).expanduser().is_dir():
        raise option_error("--root", f"{root} is not a folder; give the folder whose sweeps, comparisons and saved "
                           "games the page may open")
    if scenario is not None:
        load_scenario(scenario)  # bad input: the CLI's problem lines, before anything starts
    CONFIG.scenario = scenario
    CONFIG.outputs = Path(outputs)
    CONFIG.studies = [Path(s) for s in (studies or [outputs])]
    CONFIG.root = Path(root).expanduser() if root is not None else None
    sock = bind(host, port)
    configure_solara()
    import warnings

    # served over http on this machine: Solara's advice for https behind a proxy does not apply
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https", category=UserWarning)
    import uvicorn
    from solara.server.starlette import app

    CONFIG.classroom = mount_classroom(app, CONFIG.outputs)

    real_port = sock.getsockname()[1]
    url = f"http://{'[' + host + ']' if ':' in host else host}:{real_port}/"
    from .widgets import WS_MAX_SIZE

    config = uvicorn.Config(app, log_level="warning", lifespan="on", ws_max_size=WS_MAX_SIZE)
    server = uvicorn.Server(config)
    if ready is not None:
        ready(url)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


__all__ = ["serve", "check_options", "bind", "LOOPBACK", "InputError"]
