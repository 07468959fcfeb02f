"""Class games held by a server (sim.classroom): seats and their rights, secret moves,
the turn/version checks, the timer on an injected clock, the umpire's rulings, undo,
overruling, channels, a restart, and the HTTP app (a real server in this process)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from sim.classroom import BadRequest, Classroom, Conflict, Forbidden, ManualClock, Store, pages
from sim.classroom.serve import open_classroom, start_class

pytest.importorskip("starlette")
RUNS = 100
TEAMS = ["armenia", "azerbaijan", "russia", "india"]


@pytest.fixture
def svc(tmp_path):
    return Classroom(Store(tmp_path / "class.db"), tmp_path, ManualClock(), synchronous=True)


@pytest.fixture
def gid(svc):
    return start_class(svc, "caucasus-credibility", TEAMS, forecast_runs=RUNS, months=6, turn_minutes=5)


def seats(svc, gid):
    return {s["seat"]: s for s in svc.store.seats(gid)}


def act(svc, gid, seat, action, **payload):
    """An action as a screen sends it: with the turn and the seat's version it last saw."""
    g = svc.store.game(gid)
    row = svc.store.one("SELECT version FROM seats WHERE game=? AND seat=?", gid, seat)
    body = {"turn": g["turn"] + 1, "seat_version": row["version"], **payload}
    svc.act(seats(svc, gid)[seat]["token"], action, body)


def text(svc, gid, seat) -> str:
    return " ".join(pages.sections(svc, seats(svc, gid)[seat], svc.store.game(gid)).values())


def test_a_game_has_a_seat_per_team_a_facilitator_and_a_projector(svc, gid):
    s = seats(svc, gid)
    assert set(s) == {*TEAMS, "facilitator", "projector"}
    assert len({x["token"] for x in s.values()}) == 6 and len({x["code"] for x in s.values()}) == 6
    assert all(len(x["token"]) >= 24 for x in s.values())
    g = svc.store.game(gid)
    assert g["phase"] == "open" and g["turn"] == 0 and g["paused"] == 1
    assert svc.store.seat_by_code(s["armenia"]["code"].lower())["seat"] == "armenia"  # codes are typed loosely
    assert (Path(g["config"]["folder"]) / "game.json").is_file()  # the file sim play --resume reads


def test_moves_stay_secret_until_the_turn_runs(svc, gid):
    act(svc, gid, "armenia", "tick", key="armenia.freeze_csto", on=True)
    act(svc, gid, "armenia", "submit")
    lever = "Freeze participation in the CSTO"
    assert lever in text(svc, gid, "armenia")
    for other in ("azerbaijan", "projector"):
        t = text(svc, gid, other)
        assert lever not in t and "armenia.freeze_csto" not in t
        assert "Armenia" in t and "submitted" in t
    assert "armenia.freeze_csto" in text(svc, gid, "facilitator")  # the umpire sees submitted moves
    for team in ("azerbaijan", "russia", "india"):
        act(svc, gid, team, "submit")
    act(svc, gid, "facilitator", "resume")  # the game starts paused: the clock runs, the turn runs (all submitted)
    g = svc.store.game(gid)
    assert g["turn"] == 1 and g["phase"] == "open"
    t = text(svc, gid, "azerbaijan")
    assert "freeze participation in the CSTO" in t and "The teams' moves" in t
    assert "Why the forecast moved" in t


def test_a_seat_token_acts_for_its_own_seat_only(svc, gid):
    s = seats(svc, gid)
    g = svc.store.game(gid)
    base = {"turn": g["turn"] + 1, "seat_version": 0}
    with pytest.raises(Forbidden, match="Armenia's seat: it cannot act for azerbaijan"):
        svc.act(s["armenia"]["token"], "submit", {**base, "seat": "azerbaijan"})
    with pytest.raises(Forbidden, match="not one of Armenia's levers"):
        svc.act(s["armenia"]["token"], "tick", {**base, "key": "azerbaijan.launch_offensive", "on": True})
    with pytest.raises(Forbidden, match="team screen cannot undo"):
        svc.act(s["armenia"]["token"], "undo", base)
    with pytest.raises(Forbidden, match="projector screen cannot tick"):
        svc.act(s["projector"]["token"], "tick", {**base, "key": "armenia.mobilise", "on": True})
    with pytest.raises(Forbidden, match="no seat has this link"):
        svc.act("not-a-token", "submit", base)
    assert svc.store.choices(gid, 1) == {}  # nothing was written for anyone


def test_two_screens_on_one_seat_see_one_game_never_a_fork(svc, gid):
    s = seats(svc, gid)["armenia"]
    seen = svc.store.one("SELECT version FROM seats WHERE token=?", s["token"])["version"]
    act(svc, gid, "armenia", "tick", key="armenia.mobilise", on=True)  # the first screen ticks
    with pytest.raises(Conflict, match="another screen on your seat"):  # the second, drawn before, is refused
        svc.act(s["token"], "tick", {"turn": 1, "seat_version": seen, "key": "armenia.freeze_csto", "on": True})
    assert svc.store.choices(gid, 1)["armenia"]["keys"] == ["armenia.mobilise"]
    with pytest.raises(Conflict, match="moved on"):  # a screen of an old turn
        svc.act(s["token"], "tick", {"turn": 7, "seat_version": seen + 1, "key": "armenia.mobilise", "on": False})


def test_the_timer_ends_a_turn_on_the_injected_clock(svc, gid):
    clock = svc.clock
    act(svc, gid, "armenia", "tick", key="armenia.mobilise", on=True)
    act(svc, gid, "armenia", "submit")
    act(svc, gid, "russia", "tick", key="russia.delay_deliveries", on=True)  # ticked, never submitted
    act(svc, gid, "facilitator", "resume")
    g = svc.store.game(gid)
    assert svc.timer(g)["state"] == "running" and svc.timer(g)["remaining"] == 300
    clock.advance(250)
    assert svc.timer(svc.store.game(gid))["state"] == "warning"  # a minute or less left
    assert not svc.tick(gid)
    act(svc, gid, "facilitator", "pause")
    clock.advance(10_000)  # paused: the time does not run out
    assert not svc.tick(gid) and svc.store.game(gid)["turn"] == 0
    act(svc, gid, "facilitator", "resume")
    clock.advance(51)
    assert svc.tick(gid)
    g = svc.store.game(gid)
    assert g["turn"] == 1
    game = svc.game_obj(gid)
    assert game.turns[0]["moves"] == ["armenia.mobilise"]  # Russia's unsubmitted tick was not played
    logged = " ".join(r["text"] for r in svc.store.log_rows(gid))
    assert "the time was up" in logged and "Azerbaijan, Russia, India had not submitted" in logged


def test_the_umpire_rejects_delays_overrules_and_undoes(svc, gid):
    act(svc, gid, "armenia", "tick", key="armenia.freeze_csto", on=True)
    act(svc, gid, "armenia", "tick", key="armenia.mobilise", on=True)
    act(svc, gid, "armenia", "submit")
    act(svc, gid, "azerbaijan", "tick", key="azerbaijan.launch_offensive", on=True)
    act(svc, gid, "azerbaijan", "submit")
    act(svc, gid, "facilitator", "rule", target_seat="armenia", key="armenia.freeze_csto", ruling="delay",
        reason="Parliament must vote first")
    act(svc, gid, "facilitator", "rule", target_seat="azerbaijan", key="azerbaijan.launch_offensive", ruling="reject",
        reason="not in this exercise")
    with pytest.raises(Conflict, match="has not submitted"):
        act(svc, gid, "facilitator", "rule", target_seat="russia", key="russia.delay_deliveries", ruling="reject")
    act(svc, gid, "facilitator", "run_now")
    game = svc.game_obj(gid)
    assert game.turns[0]["moves"] == ["armenia.mobilise"]
    fates = {f["key"]: f["fate"] for f in game.turns[0]["fates"]}
    assert fates == {"armenia.freeze_csto": "delayed", "armenia.mobilise": "played", "azerbaijan.launch_offensive": "rejected"}
    assert svc.store.carried(gid, 2)[0]["key"] == "armenia.freeze_csto"
    assert "not in this exercise" in text(svc, gid, "russia")  # the fate is revealed with the moves

    # overrule: a menu choice, a reason; logged, the world changed, the forecast made again
    before = json.dumps(svc.game_obj(gid).forecasts[-1])
    with pytest.raises(BadRequest, match="say why"):
        act(svc, gid, "facilitator", "overrule", path="flashpoints.border.level", op="set", value="0", reason=" ")
    with pytest.raises(BadRequest, match="outside 0 to 5"):
        act(svc, gid, "facilitator", "overrule", path="flashpoints.border.level", op="set", value="9", reason="x")
    with pytest.raises(BadRequest, match="not among the things"):
        act(svc, gid, "facilitator", "overrule", path="rules.escalation.median_3", op="set", value="1", reason="x")
    # (not a flashpoint's rung: the deck's border_incident sets the border at a fatal clash in
    # 2023-10, which the forecast expects, and the blockade holds the corridor at rung 2)
    act(svc, gid, "facilitator", "overrule", path="alliances.csto.trust.armenia", op="set", value="0.05",
        description="Armenia's trust in the CSTO collapses", reason="a snub was agreed off-stage")
    game = svc.game_obj(gid)
    p = game.plan.index_of
    assert game.world.st.trust[0, p("state")["armenia"], p("alliance")["csto"]] == pytest.approx(0.05)
    assert json.dumps(game.forecasts[-1]) != before
    assert "ruling" in game.explanations[0]["outcomes"]["border_fatal_clash"]
    logged = [r for r in svc.store.log_rows(gid) if r["kind"] == "overrule"]
    assert logged and "a snub was agreed off-stage" in logged[0]["text"]

    # undo the turn: back before it, the moves drafts again, the delay gone, logged
    act(svc, gid, "facilitator", "undo")
    g = svc.store.game(gid)
    assert g["turn"] == 0 and g["paused"] == 1
    assert svc.game_obj(gid).turn == 0
    ch = svc.store.choices(gid, 1)
    assert ch["armenia"] == {"keys": ["armenia.freeze_csto", "armenia.mobilise"], "status": "draft", "at": ch["armenia"]["at"]}
    assert svc.store.carried(gid, 2) == [] and svc.store.rulings(gid, 1) == {}
    assert any(r["kind"] == "undo" and "undid turn 1" in r["text"] for r in svc.store.log_rows(gid))


def test_injects_and_events_from_the_facilitators_menu(svc, gid):
    with pytest.raises(BadRequest, match="fires by itself"):
        act(svc, gid, "facilitator", "queue_inject", name="border_incident")
    act(svc, gid, "facilitator", "queue_inject", name="csto_summit_snub")
    with pytest.raises(BadRequest, match="already queued"):
        act(svc, gid, "facilitator", "queue_inject", name="csto_summit_snub")
    act(svc, gid, "facilitator", "queue_event", path="flashpoints.border.mediators", op="add", value="russia",
        kind="names", description="Moscow sends observers")
    act(svc, gid, "facilitator", "queue_event", path="states.armenia.resolve", op="add", value="0.1")
    q = svc.store.queue(gid, 1)
    assert [x["kind"] for x in q] == ["inject", "event", "event"]
    assert q[1]["effect"] == {"add": {"flashpoints.border.mediators": ["russia"]}}
    assert q[2]["description"] == "Raises Armenia's resolve by 0.1 (on a scale of 0 to 1)"
    assert "csto_summit_snub" not in text(svc, gid, "armenia") and "Moscow sends observers" not in text(svc, gid, "armenia")
    act(svc, gid, "facilitator", "run_now")
    game = svc.game_obj(gid)
    assert [a["name"] for a in game.turns[0]["applied"]] == ["csto_summit_snub", "facilitator_event", "facilitator_event"]
    assert "Moscow sends observers" in text(svc, gid, "armenia")  # revealed once the turn ran


def test_messages_and_requests_for_information_reach_the_right_seats_and_the_debrief(svc, gid):
    act(svc, gid, "armenia", "message", to="azerbaijan", text="We propose talks on the border.")
    act(svc, gid, "russia", "message", to="facilitator", text="How many troops can we spare?")
    act(svc, gid, "facilitator", "message", to="all", text="About a third of the usual, as the briefing says.")
    with pytest.raises(BadRequest, match="send to one of"):
        act(svc, gid, "armenia", "message", to="armenia", text="to myself")
    with pytest.raises(BadRequest, match="at most 1000"):
        act(svc, gid, "armenia", "message", to="all", text="x" * 1001)
    assert "We propose talks" in text(svc, gid, "azerbaijan") and "We propose talks" not in text(svc, gid, "india")
    assert "How many troops" in text(svc, gid, "facilitator") and "How many troops" not in text(svc, gid, "armenia")
    assert "About a third" in text(svc, gid, "india") and "About a third" in text(svc, gid, "projector")
    for k in (1, 2):
        act(svc, gid, "facilitator", "run_now")
        assert svc.store.game(gid)["turn"] == k
    assert svc.store.game(gid)["phase"] == "over"
    page = Path(svc.store.game(gid)["config"]["folder"], "debrief.html").read_text(encoding="utf-8")
    for quote in ("We propose talks on the border.", "How many troops can we spare?", "About a third of the usual"):
        assert quote in page
    assert "Russia asks the facilitator" in page and "Armenia writes to Azerbaijan" in page and "Why the forecast moved" in page


def test_a_restart_keeps_the_game_and_runs_a_turn_that_was_running(tmp_path):
    clock = ManualClock()
    svc = Classroom(Store(tmp_path / "class.db"), tmp_path, clock, synchronous=True)
    gid = start_class(svc, "caucasus-credibility", ["armenia", "azerbaijan"], forecast_runs=RUNS, months=6)
    act(svc, gid, "armenia", "tick", key="armenia.mobilise", on=True)
    act(svc, gid, "armenia", "submit")
    with svc.store.tx() as db:  # the server dies as the turn starts
        db.execute("UPDATE games SET phase='running', busy='turn 1' WHERE id=?", (gid,))
    svc.store.close()
    again = Classroom(Store(tmp_path / "class.db"), tmp_path, clock, synchronous=True)
    assert again.store.choices(gid, 1)["armenia"]["keys"] == ["armenia.mobilise"]
    again.recover()
    g = again.store.game(gid)
    assert g["turn"] == 1 and g["phase"] == "open"
    assert again.game_obj(gid).turns[0]["moves"] == ["armenia.mobilise"]


def test_the_http_app(tmp_path):
    from sim.classroom.serve import Background

    svc = open_classroom(tmp_path, ManualClock(), synchronous=True)
    gid = start_class(svc, "caucasus-credibility", ["armenia", "azerbaijan"], forecast_runs=RUNS, months=6)
    srv = Background(svc)
    try:
        s = seats(svc, gid)

        def call(path: str, body: dict | None = None) -> tuple[int, dict | str]:
            data = None if body is None else json.dumps(body).encode()
            req = urllib.request.Request(srv.url + path, data=data, headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=60) as r:
                    raw = r.read().decode()
                    return r.status, json.loads(raw) if r.headers.get_content_type() == "application/json" else raw
            except urllib.error.HTTPError as exc:
                raw = exc.read().decode()
                return exc.code, json.loads(raw) if exc.headers.get_content_type() == "application/json" else raw

        st, view = call(f"/api/{s['armenia']['token']}/view")
        assert st == 200 and view["turn"] == 1 and "moves" in view["sections"] and view["timer"]["state"] == "paused"
        st, again = call(f"/api/{s['armenia']['token']}/view?v={view['version']}")
        assert st == 200 and "sections" not in again  # nothing changed: nothing redrawn
        st, out = call(f"/api/{s['armenia']['token']}/tick", {"turn": 1, "seat_version": view["seat_version"],
                                                               "key": "armenia.mobilise", "on": True})
        assert st == 200 and out["seat_version"] == view["seat_version"] + 1
        st, out = call(f"/api/{s['armenia']['token']}/tick", {"turn": 1, "seat_version": view["seat_version"],
                                                               "key": "armenia.mobilise", "on": False})
        assert st == 409 and "another screen on your seat" in out["error"]
        st, out = call(f"/api/{s['armenia']['token']}/submit", {"turn": 1, "seat_version": 1, "seat": "azerbaijan"})
        assert st == 403
        st, out = call(f"/api/{s['armenia']['token']}/resume", {"turn": 1})
        assert st == 403 and "team screen cannot resume" in out["error"]
        st, out = call(f"/api/{s['armenia']['token']}/tick", {"turn": 1})
        assert st == 403  # not a lever of Armenia's
        st, out = call(f"/api/{s['armenia']['token']}/nothing", {})
        assert st == 400
        st, page = call(f"/s/{s['projector']['token']}")
        assert st == 200 and "class.js" in page and s["armenia"]["token"] not in page
        st, page = call("/s/not-a-token")
        assert st == 404
        req = urllib.request.Request(srv.url + "/join", data=f"code={s['azerbaijan']['code']}".encode(), method="POST")
        with urllib.request.urlopen(req, timeout=30) as r:  # the code opens its seat's page
            assert r.url.endswith(f"/s/{s['azerbaijan']['token']}")
        st, out = call(f"/s/{s['armenia']['token']}/debrief")
        assert st == 404  # not before the game is over
    finally:
        srv.stop()


def test_paths_stay_under_the_outputs_folder(tmp_path, svc, gid):
    from sim.webserve import within

    folder = Path(svc.store.game(gid)["config"]["folder"])
    assert within(str(folder), tmp_path) == folder.resolve()
    with pytest.raises(sim_input_error(), match="outside"):
        within("/etc", tmp_path, "class server")


def sim_input_error():
    import sim

    return sim.InputError


def test_the_dashboard_mounts_class_games_and_starts_one_from_a_pack(tmp_path):
    from starlette.applications import Starlette

    from sim.dashboard.class_view import class_games, class_options, start_class_game
    from sim.dashboard.server import mount_classroom

    app = Starlette()
    svc = mount_classroom(app, tmp_path)
    try:
        assert any(getattr(r, "path", "") == "/class" for r in app.routes)
        assert svc.prefix == "/class" and svc.store.path == str(tmp_path / "class" / "class.db")
        opts = class_options(None)
        opt = next(v for k, v in opts.items() if v["pack"] == "caucasus-credibility")
        assert opt["teams"] == ["armenia", "azerbaijan", "russia"] and opt["optional"] == ["india"]
        gid = start_class_game(svc, None, opt, ["armenia", "india"], 4, RUNS)
        svc.wait(120)
        (g,) = class_games(svc)
        assert g["id"] == gid and g["phase"] == "open"
        assert {s["seat"] for s in g["seats"]} == {"facilitator", "projector", "armenia", "india"}
        assert all(s["url"].startswith("/class/s/") for s in g["seats"])
        assert svc.store.game(gid)["config"]["turn_seconds"] == 240
    finally:
        svc.stop()


def test_sim_play_serve_prints_the_seats_and_serves_them(tmp_path):
    import re
    import subprocess
    import sys
    import time

    script = Path(sys.executable).parent / "sim"
    cmd = [str(script)] if script.exists() else [sys.executable, "-c", "from sim.cli import main; main()"]
    log = open(tmp_path / "server.log", "w+", encoding="utf-8")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([*cmd, "play", "ferghana-border", "--serve", "--port", "0", "--forecast-runs", "50",
                             "--out", str(tmp_path / "out")], cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        text = ""
        for _ in range(600):  # the server says where it listens, then each seat's link
            log.seek(0)
            text = log.read()
            if "Teams may also type their code" in text or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert "Teams may also type their code" in text, text
        base = re.search(r"serving class games on (http://127\.0\.0\.1:\d+)/", text).group(1)
        seats = dict(re.findall(r"^  (Kyrgyzstan|Tajikistan|Russia)\s+(http://\S+)", text, re.M))
        assert set(seats) == {"Kyrgyzstan", "Tajikistan", "Russia"}
        assert re.search(r"Kyrgyzstan\s+http://\S+\s+code [A-Z2-9]{6}", text)
        assert "This serves this machine only" in text
        with urllib.request.urlopen(seats["Tajikistan"], timeout=30) as r:
            assert r.status == 200 and "class.js" in r.read().decode()
        with urllib.request.urlopen(base + "/", timeout=30) as r:
            assert "Join a class game" in r.read().decode()
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()
    assert (tmp_path / "out" / "class" / "class.db").is_file()


def test_serve_refuses_what_belongs_to_a_game_in_one_terminal(tmp_path):
    from typer.testing import CliRunner

    from sim.cli import app

    r = CliRunner().invoke(app, ["play", "caucasus-credibility", "--serve", "--moves", "x.yaml", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "--moves cannot be used with --serve" in r.output
    r = CliRunner().invoke(app, ["play", "caucasus-credibility", "--serve", "--port", "70000", "--out", str(tmp_path)])
    assert r.exit_code == 2 and "--port" in r.output and "Traceback" not in r.output
