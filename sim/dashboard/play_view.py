"""Play mode: a class game on one screen, driven through :class:`sim.play.game.Game`.

Roles and an inject deck to start; each turn the played actors' levers as moves, the
instructor's panel (the deck's injects, events written on the spot), then the turn in a
worker thread; the forecast after every turn as a chart that grows and as a table; the
game saved after every turn (``game.json``, resumable here or with ``sim play --resume``);
the debrief page at the end (:func:`sim.play.debrief.write_debrief`).
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import solara

from ..api import check_run_options
from ..play.debrief import write_debrief
from ..play.decisions import FORECAST_NOTE
from ..play.game import Game, check_forecast_runs
from ..play.injects import load_injects, parse_event
from ..play.moves import AdhocEvent, TurnMoves
from ..play.savefile import load_game, save_game
from ..play.situation import situation
from ..scenario.errors import InputError
from . import state
from .config import CONFIG
from .jobs import Job, error_lines
from .logic import decks_for, played_candidates, save_upload, within
from .widgets import JobStatus, Png, Problems, Table, Upload, pct, start_job


def new_folder(name: str) -> Path:
    """A new folder ``OUTPUTS/play/NAME-YYYYmmdd-HHMMSS`` for a game."""
    from ..api import new_folder

    return new_folder(Path(CONFIG.outputs) / "play", prefix=f"{name}-")


def forecast_figure(game: Any, folder: Path) -> Path | None:
    """The forecast after each turn (:func:`sim.play.figures.forecast_chart`), as the debrief draws it."""
    from ..play.figures import forecast_chart
    from ..play.summary import happened_turns

    if not game.forecasts:
        return None
    outs = [{"name": d.name, "description": d.description} for d in game.detectors]
    ticks = ["0\nstart"] + [f"{t['turn']}\n{t['to']}" for t in game.turns][: len(game.forecasts) - 1]
    return forecast_chart(game.forecasts, outs, game.baseline, folder / "forecast.png", ticks=ticks,
                          happened=happened_turns(game), finished=game.finished)


def settle(game: Any, folder: Path, save: Path) -> dict[str, Any]:
    """After a start, a resume or a turn: save the game, draw the chart, write the debrief at the end."""
    save_game(game, save)
    forecast_figure(game, folder)
    debrief = write_debrief(game, folder) if game.finished else None
    return {"game": game, "folder": folder, "save": save, "debrief": debrief}


def start_game(scn: Any, played: list[str], seed: int, runs: int, months: int, deck_path: str | None):
    def work(job: Job) -> dict[str, Any]:
        check_run_options(None, None, months, None, seed=seed)
        check_forecast_runs(runs)
        deck = load_injects(deck_path, scn) if deck_path else []
        game = Game(scn, played, seed=seed, months=months, deck=deck, forecast_runs=runs)
        folder = new_folder(scn.name)
        job.begin(f"Forecast before the first move ({runs:,} continuations) and the scenario's own Monte Carlo")
        game.start()
        out = settle(game, folder, folder / "game.json")
        state.game.set(out)
        return out

    start_job(state.play_job, state.play_tick, work, "Starting the game")


def resume_game(path: str, copy: bool):
    """Resume a saved game: in place (a path on this machine, under the folder the dashboard
    opens paths in) or, for an upload, in a new folder."""
    def work(job: Job) -> dict[str, Any]:
        job.begin("Resuming the saved game")
        if not copy:
            within(path, CONFIG.opens)
        game = load_game(path)
        if copy:
            folder = new_folder(game.scn.name)
            save = folder / "game.json"
        else:
            folder, save = Path(path).parent, Path(path)
        game.start()  # a forecast an interruption left out
        out = settle(game, folder, save)
        state.game.set(out)
        return out

    start_job(state.play_job, state.play_tick, work, "Resuming")


@solara.component
def PlayView(scn: Any):
    g = state.game.value
    _ = state.game_tick.value
    if g is None:
        from .class_view import ClassCard

        PlaySetup(scn)
        ClassCard(scn)
    else:
        GameScreen(g)


@solara.component
def PlaySetup(scn: Any):
    job = state.play_job.value
    _ = state.play_tick.value
    busy = job is not None and job.running
    roles, set_roles = solara.use_state(())
    seed, set_seed = solara.use_state(None)
    runs, set_runs = solara.use_state(None)
    months, set_months = solara.use_state(None)
    deck, set_deck = solara.use_state("none")
    uploaded, set_uploaded = solara.use_state({})
    saved, set_saved = solara.use_state("")
    with solara.Columns([1, 1]):
        with solara.Card("A new game", margin=0, classes=["sim-play-setup"]):
            if scn is None:
                solara.Info("Choose a scenario above to play it.")
            else:
                meta = scn.spec.meta
                cands = played_candidates(scn)
                solara.Text(f"{meta.title}: turns of a {scn.spec.play.turn}, {meta.horizon_months} months. "
                            "Who does the class play? The rules play everyone else.", classes=["sim-note"])
                with solara.Row(style={"flex-wrap": "wrap"}):
                    for a in cands:
                        with solara.Div(classes=["sim-role", f"sim-role-{a}"]):
                            solara.Checkbox(label=a, value=a in roles, on_value=lambda on, a=a: set_roles(
                                tuple(x for x in cands if (x in roles and x != a) or (x == a and on))))
                with solara.Row():
                    solara.InputInt("Game seed", value=int(meta.seed) if seed is None else seed, on_value=set_seed,
                                    classes=["sim-game-seed"])
                    solara.InputInt("Months", value=int(meta.horizon_months) if months is None else months,
                                    on_value=set_months, classes=["sim-game-months"])
                    solara.InputInt("Continuations per forecast", value=int(scn.spec.play.forecast_runs)
                                    if runs is None else runs, on_value=set_runs, classes=["sim-forecast-runs"])
                decks = {"none": None, **{f"{p.parent.name}/{p.name}": str(p) for p in decks_for(scn)}, **uploaded}
                solara.Select("Inject deck (the instructor's)", values=list(decks), value=deck if deck in decks else "none",
                              on_value=set_deck, classes=["sim-deck"])

                def got_deck(data: dict) -> None:
                    c = save_upload(str(data.get("name") or "injects.yaml"), str(data.get("text") or ""),
                                    Path(state.session_folder()))
                    label = f"{Path(c.ref).name} (uploaded)"
                    set_uploaded({**uploaded, label: c.ref})
                    set_deck(label)

                Upload(label="Upload an inject deck…", accept=".yaml,.yml", event_upload=got_deck,
                       hint="decks named *injects*.yaml beside the scenario file are listed above")
                if scn.overrides:
                    solara.Text("With the overrides set in Run: " + ", ".join(f"{k}={v}" for k, v in scn.overrides.items()),
                                classes=["sim-note"])
                solara.Button("Start the game", color="primary", classes=["sim-start-game"], disabled=busy or not roles,
                              on_click=lambda: start_game(scn, list(roles), int(meta.seed if seed is None else seed),
                                                          int(scn.spec.play.forecast_runs if runs is None else runs),
                                                          int(meta.horizon_months if months is None else months),
                                                          decks.get(deck)))
        with solara.Card("Resume a saved game", margin=0, classes=["sim-play-resume"]):
            solara.Text("A game is saved after every turn (game.json in its folder); sim play --resume reads the same "
                        "file.", classes=["sim-note"])

            def got_save(data: dict) -> None:
                folder = Path(state.session_folder()) / f"saved-{len(list(Path(state.session_folder()).glob('saved-*')))}"
                folder.mkdir(parents=True, exist_ok=True)
                p = folder / "game.json"
                p.write_text(str(data.get("text") or ""), encoding="utf-8")
                resume_game(str(p), copy=True)

            Upload(label="Upload a saved game…", accept=".json", event_upload=got_save,
                   hint=f"put it under {CONFIG.opens}/ and give its path below")
            with solara.Row(style={"align-items": "center"}):
                solara.InputText(f"or its path under {CONFIG.opens}/", value=saved, on_value=set_saved, classes=["sim-saved-path"])
                solara.Button("Resume", outlined=True, disabled=busy or not saved.strip(),
                              on_click=lambda: resume_game(saved.strip(), copy=False), classes=["sim-resume"])
    JobStatus(job, state.play_tick.value, cancel=False)


def forecast_rows(game: Any) -> tuple[list[str], list[str], list[list[str]]]:
    """The forecast after each turn: one row per forecast (turn 0 before any move)."""
    names = [d.name for d in game.detectors]
    headers = ["after turn", "month", *names]
    titles = ["", "", *[d.description for d in game.detectors]]
    rows = []
    for f in game.forecasts:
        turn = f["turn"]
        month = "start" if turn == 0 else game.turns[turn - 1]["to"] if turn - 1 < len(game.turns) else f["month"]
        rows.append([str(turn), month, *[pct(f["outcomes"][n]["p"], 1) for n in names]])
    return headers, titles, rows


@solara.component
def GameScreen(g: dict[str, Any]):
    game, folder = g["game"], g["folder"]
    job = state.play_job.value
    _ = state.play_tick.value
    busy = job is not None and job.running
    sit = solara.use_memo(lambda: situation(game), [game.turn, id(game)])
    played = ", ".join(p["name"] for p in sit["played"])
    if game.finished:
        title = f"Game over after {game.turn} turns — played: {played}"
    else:
        span = sit["from"] + (f" to {sit['to']}" if sit["to"] != sit["from"] else "")
        title = f"Turn {sit['turn']} of {sit['turns']}: {span} — the class plays {played}"
    with solara.Row(style={"align-items": "center"}):
        solara.Text(title, classes=["sim-section-title", "sim-turn-title"])
        solara.Button("New game", text=True, disabled=busy, on_click=lambda: state.game.set(None))
    with solara.Columns([1, 1.7]):
        with solara.Column():
            if not game.finished:
                TurnPanel(g, sit, busy).key(f"turn-{game.turn}")  # a new turn starts with nothing chosen
            JobStatus(job, state.play_tick.value, cancel=False)
            Situation(sit)
            with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}):
                solara.FileDownload(lambda: Path(g["save"]).read_bytes(), filename="game.json",
                                    label="Download the saved game", mime_type="application/json")
                solara.Text(f"Saved after every turn in {g['save']}", classes=["sim-note", "sim-saved"])
        with solara.Column():
            Png(Path(folder) / "forecast.png", "Forecast after each turn: probability by the horizon, 95% band; "
                "dashed, the scenario's own Monte Carlo with nobody playing")
            headers, titles, rows = forecast_rows(game)
            solara.Text(f"Forecast after each turn ({game.forecast_runs:,} continuations from the state the class made)",
                        classes=["sim-section-title"])
            solara.Text(FORECAST_NOTE, classes=["sim-note"])
            Table(headers, rows, "sim-forecasts", titles=titles, numeric=list(range(2, len(headers))))
            if game.turns:
                last = game.turns[-1]
                text = game.story().text(last["first"], last["last"], routine_limit=3)
                span = last["from"] + (f" to {last['to']}" if last["to"] != last["from"] else "")
                solara.Text(f"What happened, {span}", classes=["sim-section-title"])
                solara.HTML(tag="pre", unsafe_innerHTML=html.escape(text or "Quiet."), classes=["sim-story", "sim-happened"])
    if g.get("debrief") is not None:
        Debrief(Path(g["debrief"]))


@solara.component
def TurnPanel(g: dict[str, Any], sit: dict[str, Any], busy: bool):
    game = g["game"]
    moves, set_moves = solara.use_state(())
    injects, set_injects = solara.use_state(())
    events, set_events = solara.use_state(())
    text, set_text = solara.use_state("")
    problems, set_problems = solara.use_state([])
    turn = game.turn + 1

    def end_turn() -> None:
        tm = TurnMoves(moves=list(moves), injects=list(injects),
                       events=[AdhocEvent(description=e.description, effect=e.effect) for e in events])

        def work(job: Job) -> dict[str, Any]:
            job.begin(f"Turn {turn}: its months, then {game.forecast_runs:,} continuations")
            game.play_turn(tm)
            out = settle(game, g["folder"], g["save"])
            state.game.set(out)
            return out

        start_job(state.play_job, state.play_tick, work, f"Turn {turn}")

    def add_event() -> None:
        try:
            ev = parse_event(text, game.scn)
        except InputError as exc:
            set_problems(error_lines(exc))
            return
        set_problems([])
        set_events((*events, ev))
        set_text("")

    with solara.Card(f"Moves for turn {turn}", margin=0, classes=["sim-moves"]):
        for a in sit["actors"]:
            if not a["played"]:
                continue
            solara.Text(a["name"], classes=["sim-section-title"])
            for item in a["levers"]:
                k = item["key"]
                with solara.Div(classes=["sim-lever", f"sim-move-{k.replace('.', '-')}"]):
                    solara.Checkbox(label=f"{k} — {item['description']}", value=k in moves,
                                    on_value=lambda on, k=k: set_moves(tuple(x for x in moves if x != k) + ((k,) if on else ())))
            orders = [d for d in a["decisions"] if d["kind"] == "decision"]
            if orders:  # the rules' decisions for a played country: its team's alone (hold back unless ticked)
                solara.Text(f"{a['name']}'s decisions: the model takes none of them for a played country; "
                            "nothing ticked is holding back", classes=["sim-note"])
            for d in orders:
                k = d["key"]
                css = re.sub(r"[^A-Za-z0-9_-]+", "-", k.replace(".", "-")).strip("-")
                with solara.Div(classes=["sim-lever", "sim-decision", f"sim-decision-{css}"]):
                    solara.Checkbox(label=f"{d['description']} ({k}) — {d['advice']}", value=k in moves,
                                    on_value=lambda on, k=k: set_moves(tuple(x for x in moves if x != k) + ((k,) if on else ())))
        solara.Button(f"End turn {turn}", color="primary", on_click=end_turn, disabled=busy, classes=["sim-end-turn"])
    with solara.Card("Instructor", margin=0, classes=["sim-instructor"]):
        if sit["deck"]:
            for inj in sit["deck"]:
                when = f"at {inj['at']}" if inj["at"] else f"when {inj['when']}" if inj["when"] else "when played"
                label = f"{inj['name']} — {inj['description']} [{'played' if inj['played'] else when}]"
                if inj["played"]:
                    solara.Text(label, classes=["sim-note"])
                else:
                    with solara.Div(classes=["sim-lever", f"sim-inject-{inj['name']}"]):
                        solara.Checkbox(label="play this turn: " + label, value=inj["name"] in injects,
                                        on_value=lambda on, n=inj["name"]: set_injects(
                                            tuple(x for x in injects if x != n) + ((n,) if on else ())))
        else:
            solara.Text("No inject deck (choose one when starting a game); events can still be written here.",
                        classes=["sim-note"])
        with solara.Row(style={"align-items": "center"}):
            solara.InputText("Event: DESCRIPTION | EFFECT", value=text, on_value=set_text, classes=["sim-event-text"], continuous_update=True,
                             style={"min-width": "300px"})
            solara.Button("Add", outlined=True, on_click=add_event, disabled="|" not in text, classes=["sim-event-add"])
        solara.Text("e.g. Embargo on Russian arms | {multiply: {suppliers.russia_arms.reliability: 0.5}}",
                    classes=["sim-note"])
        Problems(problems)
        for e in events:
            solara.Button(f"{e.description}  ✕", text=True, classes=["sim-chipbtn"],
                          on_click=lambda e=e: set_events(tuple(x for x in events if x is not e)))


@solara.component
def Situation(sit: dict[str, Any]):
    rows = [[f["name"], f"{f['level']} ({f['rung']})", f"{f['deaths']:,.0f}", f"{f['deaths_last_turn']:,.0f}"]
            for f in sit["flashpoints"]]
    if rows:
        Table(["Flashpoint", "Rung", "Killed", "last turn"], rows, "sim-flashpoints", numeric=[2, 3])
    if sit["members"]:
        Table(["Member", "Status", "Trust (start)"], [[m["label"], m["status"], f"{m['trust']:.2f} ({m['start']:.2f})"]
                                                      for m in sit["members"]], "sim-members", numeric=[2])
    for sec in sit.get("declared", []):
        Table([sec["title"], "Now (start)"], [[r["label"], f"{r['value']:.2f} ({r['start']:.2f})"] for r in sec["rows"]],
              "sim-declared", numeric=[1])
    if sit["happened"]:
        solara.Text("Already happened: " + "; ".join(f"{h['description']} ({h['date']})" for h in sit["happened"]),
                    classes=["sim-note"])


@solara.component
def Debrief(path: Path):
    page = solara.use_memo(lambda: path.read_text(encoding="utf-8"), [str(path), path.stat().st_mtime_ns])
    solara.Text("Debrief", classes=["sim-section-title"])
    with solara.Row(style={"align-items": "center"}):
        solara.FileDownload(page.encode("utf-8"), filename="debrief.html", label="Download the debrief", mime_type="text/html")
        solara.Text(str(path), classes=["sim-note"])
    srcdoc = html.escape(page, quote=True)
    solara.HTML(tag="div", unsafe_innerHTML=f"<iframe class='sim-debrief' srcdoc=\"{srcdoc}\" "
                "style='width:100%;height:900px;border:1px solid #ddd'></iframe>")
