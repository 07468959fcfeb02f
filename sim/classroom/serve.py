"""Serving class games: the store in the outputs folder, the web app under uvicorn on
127.0.0.1 unless another host is asked for, the timer checked every second."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .service import Classroom, Clock
from .store import Store


def open_classroom(outputs: str | Path = "outputs", clock: Clock | None = None, **options: Any) -> Classroom:
    """The class games of an outputs folder (their database: ``OUTPUTS/class/class.db``)."""
    outputs = Path(outputs)
    return Classroom(Store(outputs / "class" / "class.db"), outputs, clock, **options)


def _server(svc: Classroom, sock: Any) -> Any:
    import uvicorn

    from .web import make_app

    config = uvicorn.Config(make_app(svc), log_level="warning", lifespan="off")
    return uvicorn.Server(config)


def serve(svc: Classroom, *, host: str = "127.0.0.1", port: int = 8777,
          ready: Callable[[str], None] | None = None) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM); ``ready`` gets the base address."""
    from ..webserve import bind, check_options

    check_options(port, host)
    sock = bind(host, port)
    svc.recover()
    svc.start_ticker()
    server = _server(svc, sock)
    real = sock.getsockname()[1]
    if ready is not None:
        ready(f"http://{'[' + host + ']' if ':' in host else host}:{real}")
    try:
        server.run(sockets=[sock])
    finally:
        svc.stop()
        sock.close()


class Background:
    """A class server in a thread of this process (tests; a notebook): ``url``, ``stop()``."""

    def __init__(self, svc: Classroom, host: str = "127.0.0.1", port: int = 0):
        from ..webserve import bind

        self.svc = svc
        self.sock = bind(host, port)
        self.url = f"http://{host}:{self.sock.getsockname()[1]}"
        self.server = _server(svc, self.sock)
        svc.recover()
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True,
                                       name="sim-class-server")
        self.thread.start()
        while not self.server.started and self.thread.is_alive():
            self.thread.join(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)
        self.svc.stop()
        self.sock.close()


def missing() -> str | None:
    """The first package a class server needs that is not installed (the ``dashboard`` extra)."""
    import importlib.util

    for name in ("starlette", "uvicorn"):
        if importlib.util.find_spec(name) is None:
            return name
    return None


def start_class(svc: Classroom, ref: str, played: list[str] | None = None, *, injects: str | Path | None = None,
                months: int | None = None, seed: int | None = None, forecast_runs: int | None = None,
                turn_minutes: float | None = None, warning_minutes: float | None = None,
                overrides: list[str] | None = None) -> str:
    """A class game on a pack or a scenario (``sim play REF --serve``): the pack's teams
    unless ``played`` is given, its timer unless ``turn_minutes`` is. Returns its id."""
    from ..play.packs import game_setup

    setup = game_setup(ref, played, injects=injects, months=months, overrides=overrides, default_teams=True)
    pk = setup.pack
    minutes = turn_minutes if turn_minutes is not None else (pk.spec.turn_minutes if pk else 6)
    warn = warning_minutes if warning_minutes is not None else (pk.spec.warning_minutes if pk else 1)
    return svc.create_game(setup.scn, setup.played, deck=setup.deck, seed=seed, months=setup.months,
                           forecast_runs=forecast_runs, turn_minutes=minutes, warning_minutes=warn,
                           title=pk.spec.title if pk else None, pack=pk.name if pk else None)


def announce(svc: Classroom, base: str, host: str) -> list[str]:
    """What the teacher reads when the server starts: every game's seats with their codes and links."""
    from .web import links

    lines = []
    for g in svc.store.games():
        if g["phase"] == "over":
            continue
        lines.append(f"{g['title']} (game {g['id']}, turn {g['turn'] + 1}, {g['phase']}):")
        for s in links(svc, g["id"], base):
            who = {"facilitator": "Facilitator (keep it to yourself)", "projector": "Projector"}.get(s["role"], s["label"])
            lines.append(f"  {who:<36} {s['url']}" + (f"   code {s['code']}" if s["role"] == "team" else ""))
        lines.append(f"  Teams may also type their code at {base}/")
    if not lines:
        lines.append("No class game is open here; start one: sim play PACK --serve (sim packs lists the packs)")
    if host in ("127.0.0.1", "localhost", "::1"):
        lines.append("This serves this machine only: for a class on their own laptops start it with --host 0.0.0.0 "
                     "(anyone on the network with a code or a link can then join that seat)")
    else:
        lines.append(f"{host} is not this machine only: anyone who reaches it with a seat's code or link can act for "
                     "that seat (the facilitator's link is the umpire's: keep it to yourself)")
    return lines
