"""Play mode, a class on their own laptops: start a class game held by this server
(:mod:`sim.classroom`, served at ``/class``) and hand out its seats' links and codes.

The game itself is played in the class game's own screens (a team's, the facilitator's,
the projector's), not in this page: this card only starts games and lists them.
"""

from __future__ import annotations

import html
from typing import Any

import solara

from . import state
from .config import CONFIG
from .jobs import Job
from .logic import played_candidates
from .widgets import JobStatus, start_job

class_job = solara.reactive(None)
class_tick = solara.reactive(0)


def class_options(scn: Any) -> dict[str, dict[str, Any]]:
    """What a class game can be started on: each shipped pack (its teams, timer) and the
    scenario chosen above (its actors with levers)."""
    from ..play.packs import list_packs

    out: dict[str, dict[str, Any]] = {}
    for p in list_packs():
        out[f"pack: {p['name']} — {p['title']}"] = {"pack": p["name"], "teams": p["teams"],
                                                    "optional": p["optional_teams"]}
    if scn is not None:
        out[f"the scenario above: {scn.spec.meta.title}"] = {"pack": None, "teams": [], "optional": played_candidates(scn)}
    return out


def start_class_game(svc: Any, scn: Any, option: dict[str, Any], teams: list[str], minutes: float,
                     runs: int | None) -> str:
    """Start a class game on a pack (its deck, months and title) or on the chosen scenario."""
    from ..classroom.serve import start_class

    if option["pack"] is not None:
        return start_class(svc, option["pack"], teams, turn_minutes=minutes, forecast_runs=runs)
    return svc.create_game(scn, teams, forecast_runs=runs, turn_minutes=minutes)


def class_games(svc: Any) -> list[dict[str, Any]]:
    """The class games of this server that are not over, with their seats' links (relative to
    this page's address) and codes."""
    from ..classroom.web import links

    out = []
    for g in reversed(svc.store.games()):
        if g["phase"] == "over":
            continue
        out.append({"id": g["id"], "title": g["title"], "phase": g["phase"], "turn": g["turn"] + 1,
                    "seats": links(svc, g["id"], "")})
    return out


@solara.component
def ClassCard(scn: Any):
    svc = CONFIG.classroom
    job = class_job.value
    _ = class_tick.value
    opts = class_options(scn)
    choice, set_choice = solara.use_state(next(iter(opts), None))
    teams, set_teams = solara.use_state(None)
    minutes, set_minutes = solara.use_state(6.0)
    runs, set_runs = solara.use_state(2000)
    with solara.Card("A class on their own laptops", margin=0, classes=["sim-class"]):
        if svc is None:
            solara.Info("Class games are served by sim dashboard (or sim play PACK --serve).")
            return
        solara.Text("Each team plays from its own browser with a code or link for its seat; a facilitator's and a "
                    "projector's screen join the same game, held by this server.", classes=["sim-note"])
        solara.Select("Start a game on", values=list(opts), value=choice, on_value=lambda v: (set_choice(v), set_teams(None)),
                      classes=["sim-class-choice"])
        opt = opts.get(choice) or {"pack": None, "teams": [], "optional": []}
        chosen = list(opt["teams"]) if teams is None else list(teams)
        cands = list(dict.fromkeys([*opt["teams"], *opt["optional"]]))
        with solara.Row(style={"flex-wrap": "wrap"}):
            for a in cands:
                solara.Checkbox(label=a, value=a in chosen, on_value=lambda on, a=a: set_teams(
                    tuple(x for x in cands if (x in chosen and x != a) or (x == a and on))))
        with solara.Row():
            solara.InputFloat("Minutes a turn", value=minutes, on_value=set_minutes, classes=["sim-class-minutes"])
            solara.InputInt("Continuations per forecast", value=runs, on_value=set_runs, classes=["sim-class-runs"])

        def start() -> None:
            def work(job: Job) -> str:
                job.begin("Starting the class game")
                gid = start_class_game(svc, scn, opt, chosen, float(minutes), int(runs))
                state.game_tick.set(state.game_tick.value + 1)
                return gid

            start_job(class_job, class_tick, work, "Starting the class game")

        solara.Button("Start a class game", color="primary", disabled=not chosen or (job is not None and job.running),
                      on_click=start, classes=["sim-class-start"])
        JobStatus(job, class_tick.value, cancel=False)
        for g in class_games(svc):
            solara.Text(f"{g['title']} (game {g['id']}, turn {g['turn']}, {g['phase']})", classes=["sim-section-title"])
            for s in g["seats"]:
                who = {"facilitator": "Facilitator", "projector": "Projector"}.get(s["role"], s["label"])
                code = f" · code {s['code']}" if s["role"] == "team" else ""
                solara.HTML(tag="div", unsafe_innerHTML=f"{_e(who)}: <a href='{_e(s['url'])}' target='_blank'>"
                            f"{_e(s['url'])}</a>{_e(code)}", classes=["sim-class-seat"])


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)
