"""The class game's web app: a small Starlette app (Starlette comes with the dashboard
extra), server-rendered pages and a little script that polls.

Routes (under ``prefix``, "" when served alone, ``/class`` inside ``sim dashboard``):

* ``GET /`` — the join page; ``POST /join`` — a join code opens its seat.
* ``GET /s/TOKEN`` — a seat's page (team, facilitator or projector).
* ``GET /api/TOKEN/view?v=N`` — the seat's screen: the game's version, the timer, and its
  sections as HTML when the version differs from ``N``.
* ``POST /api/TOKEN/ACTION`` — an action (JSON): 200 with the new screen, 400 one line
  saying what is wrong, 403 beyond the seat's rights, 409 when the screen acted on a
  state that has changed (it is redrawn).
* ``GET /s/TOKEN/debrief`` — the debrief page, once the game is over (a file under the
  outputs folder, opened only there).

The seat is the token's and nothing else: no route takes a seat from the request.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..scenario.errors import InputError
from .service import BadRequest, Classroom, Forbidden
from .store import Conflict

STATIC = Path(__file__).resolve().parent / "static"
HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                      "script-src 'self'; frame-ancestors 'none'"}


def make_app(svc: Classroom, prefix: str = "") -> Any:
    """The Starlette app of a :class:`Classroom` (mount it at ``prefix``)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import (
        FileResponse,
        HTMLResponse,
        JSONResponse,
        PlainTextResponse,
        RedirectResponse,
    )
    from starlette.routing import Route

    from . import pages

    svc.prefix = prefix

    def base(request: Request) -> str:
        return f"{request.url.scheme}://{request.url.netloc}"

    def view(token: str, since: int | None, request: Request) -> dict[str, Any]:
        seat = svc.seat(token)
        svc.tick(seat["game"])
        g = svc.store.game(seat["game"])
        row = svc.store.one("SELECT version FROM seats WHERE token=?", token)
        out: dict[str, Any] = {"version": g["version"], "phase": g["phase"], "turn": g["turn"] + 1,
                               "seat_version": row["version"], "timer": svc.timer(g), "busy": g["busy"]}
        if since != g["version"]:
            out["sections"] = pages.sections(svc, seat, g, base(request))
            out["once"] = list(pages.ONCE)
        return out

    def fail(exc: Exception) -> JSONResponse:
        status = 403 if isinstance(exc, Forbidden) else 409 if isinstance(exc, Conflict) else 400
        message = exc.problems[0].message if isinstance(exc, InputError) else str(exc)
        return JSONResponse({"error": message}, status_code=status, headers=HEADERS)

    async def join_page(request: Request):
        return HTMLResponse(pages.join_page(prefix), headers=HEADERS)

    async def join(request: Request):
        from urllib.parse import parse_qs

        raw = (await request.body())[:1000].decode("utf-8", "replace")  # a form of one field (no multipart parser)
        code = (parse_qs(raw).get("code") or [""])[0]
        seat = svc.store.seat_by_code(code)
        if seat is None:
            return HTMLResponse(pages.join_page(prefix, "No seat has this code; check it with your instructor."),
                                status_code=404, headers=HEADERS)
        return RedirectResponse(f"{prefix}/s/{seat['token']}", status_code=303)

    async def seat_page(request: Request):
        s = svc.store.seat_by_token(request.path_params["token"])
        if s is None:
            return HTMLResponse(pages.join_page(prefix, "This link opens no seat; ask your instructor for yours."),
                                status_code=404, headers=HEADERS)
        return HTMLResponse(pages.shell(s, svc.store.game(s["game"]), prefix), headers=HEADERS)

    async def api_view(request: Request):
        from starlette.concurrency import run_in_threadpool

        v = request.query_params.get("v")
        try:
            since = int(v) if v not in (None, "") else None
            return JSONResponse(await run_in_threadpool(view, request.path_params["token"], since, request),
                                headers=HEADERS)
        except (Forbidden, BadRequest, Conflict, InputError) as exc:
            return fail(exc)
        except ValueError:
            return fail(BadRequest("v is the version a screen has (a whole number)"))

    async def api_act(request: Request):
        from starlette.concurrency import run_in_threadpool

        token, action = request.path_params["token"], request.path_params["action"]
        try:
            payload = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return fail(BadRequest("an action is sent as JSON"))
        if not isinstance(payload, dict):
            return fail(BadRequest("an action is a JSON object"))
        try:
            await run_in_threadpool(svc.act, token, action, payload)
        except (Forbidden, BadRequest, Conflict, InputError) as exc:
            return fail(exc)
        return JSONResponse(await run_in_threadpool(view, token, None, request), headers=HEADERS)

    async def debrief(request: Request):
        from starlette.concurrency import run_in_threadpool

        from ..webserve import within

        s = svc.store.seat_by_token(request.path_params["token"])
        if s is None:
            return PlainTextResponse("This link opens no seat.", status_code=404, headers=HEADERS)
        g = svc.store.game(s["game"])
        if g["phase"] != "over" and s["role"] != "facilitator":
            return PlainTextResponse("The debrief opens when the game is over.", status_code=404, headers=HEADERS)
        try:
            folder = within(g["config"]["folder"], svc.outputs, "class server")
        except InputError as exc:
            return PlainTextResponse(exc.problems[0].message, status_code=403, headers=HEADERS)
        path = folder / "debrief.html"
        if not path.is_file() or s["role"] == "facilitator":
            path = await run_in_threadpool(svc.write_debrief, s["game"])
        return FileResponse(path, media_type="text/html", headers={"Cache-Control": "no-store"})

    async def static(request: Request):
        name = request.path_params["name"]
        if name not in ("class.js", "class.css"):
            return PlainTextResponse("not found", status_code=404)
        kind = "text/javascript" if name.endswith(".js") else "text/css"
        return FileResponse(STATIC / name, media_type=kind, headers={"Cache-Control": "no-cache"})

    routes = [
        Route("/", join_page), Route("/join", join, methods=["POST"]),
        Route("/s/{token}", seat_page), Route("/s/{token}/debrief", debrief),
        Route("/api/{token}/view", api_view), Route("/api/{token}/{action}", api_act, methods=["POST"]),
        Route("/static/{name}", static),
    ]
    return Starlette(routes=routes)


def links(svc: Classroom, gid: str, base: str) -> list[dict[str, str]]:
    """Every seat's label, role, join code and link (what the teacher hands out)."""
    prefix = getattr(svc, "prefix", "")
    return [{"label": s["label"], "role": s["role"], "seat": s["seat"], "code": s["code"],
             "url": f"{base}{prefix}/s/{s['token']}"} for s in svc.store.seats(gid)]
