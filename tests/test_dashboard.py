"""sim dashboard without a browser: uploads and their problems, jobs and cancelling, study
folders, the command's option errors, and the outcome figure's uncertainty range.
(The page itself is driven in a real browser by tests/test_dashboard_browser.py.)"""

from __future__ import annotations

import io
import json
import socket
import threading
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.dashboard.jobs import Job, error_lines
from sim.dashboard.logic import (
    file_choice,
    find_studies,
    load_choice,
    parameter_rows,
    save_upload,
    study_kind,
    zip_folder,
)
from sim.scenario.errors import InputError

runner = CliRunner()

CHILD = "extends: karabakh\nmeta:\n  name: my_variant\n  title: My variant\n"


def upload_problems(tmp_path: Path, name: str, text: str) -> list[str]:
    c = save_upload(name, text, tmp_path)
    try:
        load_choice(c)
    except InputError as exc:
        return error_lines(exc, hide=c.hide)
    return []


def cli_lines(*args: str) -> tuple[int, list[str]]:
    r = runner.invoke(app, list(args))
    return r.exit_code, [ln for ln in r.output.splitlines() if ln.strip()]


# ------------------------------------------------------------------ uploads


def test_an_uploaded_file_may_extend_a_shipped_scenario_by_name(tmp_path):
    c = save_upload("variant.yaml", CHILD, tmp_path)
    scn = load_choice(c)
    assert scn.name == "my_variant" and scn.spec.meta.title == "My variant"
    base = sim.load_scenario("karabakh")
    assert list(scn.spec.outcomes) == list(base.spec.outcomes)
    assert Path(c.ref).name == "variant.yaml" and c.upload


@pytest.mark.parametrize("ext, expect", [
    ("../scenarios/karabakh.yaml", "relchild.yaml:1:10: extends: an uploaded file cannot extend "
     "'../scenarios/karabakh.yaml' (the dashboard has the file, not the folder it came from); 'karabakh' is a shipped "
     "scenario: write extends: karabakh"),
    ("mine/base_of_mine.yaml", "relchild.yaml:1:10: extends: an uploaded file cannot extend 'mine/base_of_mine.yaml' "
     "(the dashboard has the file, not the folder it came from); extend a shipped scenario by name (extends: karabakh), "
     "or start the dashboard on the file where it lies: sim dashboard PATH/TO/relchild.yaml"),
    ("karabak", "relchild.yaml:1:10: extends: 'karabak' is not a shipped scenario (did you mean 'karabakh'?); an "
     "uploaded file can extend a shipped scenario by name (extends: karabakh)"),
])
def test_other_extends_in_an_upload_is_one_clear_line(tmp_path, ext, expect):
    assert upload_problems(tmp_path, "relchild.yaml", f"extends: {ext}\nmeta:\n  name: v2\n") == [expect]


@pytest.mark.parametrize("text", [
    "extends: karabakh\nmeta:\n  horizon_months: -3\nstates:\n  armenia:\n    capabilty: 3\n",
    "meta: [1, 2\n",
    "- just\n- a list\n",
])
def test_a_bad_upload_shows_the_lines_sim_validate_prints(tmp_path, text, monkeypatch):
    got = upload_problems(tmp_path / "up", "bad.yaml", text)
    (tmp_path / "bad.yaml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, want = cli_lines("validate", "bad.yaml")
    assert code == 2 and got and got == want


def test_an_upload_is_saved_under_a_safe_name_of_its_own(tmp_path):
    a = save_upload("../../etc/x y.yml", "meta: {}\n", tmp_path)
    b = save_upload("noext", "meta: {}\n", tmp_path)
    assert Path(a.ref).parent.parent == tmp_path and Path(a.ref).name == "x_y.yml"
    assert Path(b.ref).name == "noext.yaml" and Path(a.ref).parent != Path(b.ref).parent


def test_the_scenario_given_on_the_command_line_is_a_choice():
    assert file_choice("karabakh").ref == "karabakh"
    with pytest.raises(InputError):
        file_choice("no_such_scenario")


def test_parameter_controls_come_from_the_declarations():
    scn = sim.load_scenario("karabakh")
    rows = {r["path"]: r for r in parameter_rows(scn)}
    assert set(rows) == {r["path"] for r in scn.parameters()}
    lvl = rows["flashpoints.lachin.level"]
    assert (lvl["lo"], lvl["hi"]) == (0, 5)


# ------------------------------------------------------------------ jobs


@pytest.mark.pythons
def test_a_cancelled_run_stops_at_a_chunk_and_keeps_what_finished():
    scn = sim.load_scenario("karabakh")
    gate = threading.Event()

    def work(job):
        def progress(done, total):
            gate.set()
            job.progress(done, total)
        return sim.run(scn, runs=2000, seed=5, chunk_size=100, backend="local", progress=progress)

    job = Job(work, "run")
    job.cancel()  # cancelled before it starts: it stops after its first chunk
    job.start()
    assert job.wait(300)
    res = job.result
    assert job.state == "cancelled" and not res.complete and res.stopped_by == "interrupt"
    assert res.runs == 100
    same = sim.run(scn, runs=100, seed=5, chunk_size=100, backend="local")
    assert (res.hist == same.hist).all()  # the chunk that finished is the run's first chunk, unchanged


def test_a_job_with_bad_input_fails_with_the_cli_lines():
    job = Job(lambda j: sim.run("karabakh", runs=0), "run").start()
    assert job.wait(60)
    assert job.state == "failed"
    assert job.errors == ["sim dashboard: --runs: must be at least 1 (got 0)"]


def test_a_job_that_breaks_says_so_in_one_line():
    def broken(job):
        raise ZeroDivisionError("oops")

    job = Job(broken, "thing").start()
    assert job.wait(10) and job.state == "failed"
    assert job.errors[0].startswith("internal error in thing: ZeroDivisionError: oops")


# ------------------------------------------------------------------ studies and files


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("studies")
    scn = sim.load_scenario("karabakh")
    sw = sim.sweep(scn, "lhs", samples=8, runs=20, seed=3)
    sw.save(root / "karabakh" / "sweep-1")
    cmp = sim.compare(scn, b_levers=["armenia.freeze_csto"], runs=100, seed=3)
    cmp.save(root / "karabakh" / "compare-1")
    res = sim.run(scn, runs=50, seed=3)
    res.save(root / "karabakh" / "run-1")
    return root


def test_study_folders_are_found_and_told_apart(folders):
    found = {Path(f["path"]).name: f["kind"] for f in find_studies([folders])}
    assert found == {"sweep-1": "sweep", "compare-1": "compare"}
    assert study_kind(folders / "karabakh" / "sweep-1") == "sweep"
    with pytest.raises(InputError) as e:
        study_kind(folders / "karabakh" / "run-1")
    assert "not a sweep or comparison folder (a `sim run` folder" in str(e.value)
    with pytest.raises(InputError) as e:
        study_kind(folders / "nowhere")
    assert "no such folder" in str(e.value)


def test_the_sweep_view_shows_the_indices_csv_rows(folders):
    import pandas as pd

    from sim.dashboard.study_view import index_table

    folder = folders / "karabakh" / "sweep-1"
    ind = pd.read_csv(folder / "indices.csv")
    o = ind["outcome"].iloc[0]
    headers, rows = index_table(ind, o)
    sub = ind[ind["outcome"] == o]
    assert headers == ["input", "S1", "S1_conf", "flag", "driver"]  # with why an index is flagged, and drivers
    assert [r[0] for r in rows] == list(sub["input"])
    assert [r[1] for r in rows] == [f"{v:.3f}" for v in sub["S1"]]
    assert [r[3] for r in rows] == [v if isinstance(v, str) else "" for v in sub["flag"]]
    assert [r[4] for r in rows] == ["yes" if v else "" for v in sub["driver"]]


def test_a_run_folder_zips_whole(folders):
    folder = folders / "karabakh" / "run-1"
    z = zipfile.ZipFile(io.BytesIO(zip_folder(folder)))
    names = set(z.namelist())
    assert {f"run-1/{p.name}" for p in folder.iterdir() if p.is_file()} == names
    assert json.loads(z.read("run-1/summary.json"))["runs"] == 50


# ------------------------------------------------------------------ the command


def test_dashboard_option_errors_are_one_line_exit_2():
    code, lines = cli_lines("dashboard", "--port", "70000")
    assert code == 2 and lines == ["sim dashboard: --port: must be between 1 and 65535, or 0 for a free port (got 70000)"]
    code, lines = cli_lines("dashboard", "no_such_scenario")
    assert code == 2 and lines[0].startswith("no_such_scenario: no such file, and no shipped scenario 'no_such_scenario'")


def test_without_the_extra_the_command_says_what_to_install(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "solara" else real(name, *a))
    code, lines = cli_lines("dashboard")
    assert code == 2 and lines == ['sim dashboard: needs the dashboard extra (solara is not installed): '
                                   'pip install "sim[dashboard]"']


def test_a_port_in_use_is_named():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        code, lines = cli_lines("dashboard", "--port", str(port))
    assert code == 2 and lines == [f"sim dashboard: --port: {port} is in use on 127.0.0.1; choose another "
                                   "(--port 0 picks a free one)"]


# ------------------------------------------------------------------ the outcome figure


def test_the_outcome_figure_draws_the_range_across_inputs(monkeypatch, tmp_path):
    from sim.report import figures

    res = sim.run("karabakh", runs=200, seed=2)
    rows = res.outcome_rows()
    res.uncertainty = {"outcomes": {r["outcome"]: {"p10": 0.1 + i / 100, "p90": 0.5 + i / 100}
                                    for i, r in enumerate(rows)}}
    drawn = []
    monkeypatch.setattr(figures, "_save", lambda fig, path: drawn.append(fig) or path)
    figures.outcome_probabilities(res, tmp_path / "f.png")
    ax = drawn[0].axes[0]
    orange = sorted(tuple(round(x, 6) for x in ln.get_xdata()) for ln in ax.get_lines() if ln.get_color() == "#e08214")
    want = sorted((round(100 * u["p10"], 6), round(100 * u["p90"], 6)) for u in res.uncertainty["outcomes"].values())
    assert orange == want
    res.uncertainty = None
    figures.outcome_probabilities(res, tmp_path / "g.png")
    assert not [ln for ln in drawn[1].axes[0].get_lines() if ln.get_color() == "#e08214"]


# ------------------------------------------------------------------ paths typed in the page


@pytest.fixture
def opens(tmp_path, monkeypatch, folders):
    """The dashboard serving ``tmp_path/outputs`` (with a sweep in it); a secret file and a
    saved game outside it, and a link inside that points out."""
    from sim.dashboard.config import CONFIG

    outputs = tmp_path / "outputs"
    import shutil

    shutil.copytree(folders / "karabakh" / "sweep-1", outputs / "karabakh" / "sweep-1")
    secret = tmp_path / "elsewhere"
    secret.mkdir()
    (secret / "summary.json").write_text('{"sweep_version": 1}')
    (outputs / "link").symlink_to(secret)
    monkeypatch.setattr(CONFIG, "outputs", outputs)
    monkeypatch.setattr(CONFIG, "root", None)
    return outputs, secret


def outside(typed: str, root: Path) -> str:
    return (f"{typed}: outside {root}/, the folder this dashboard opens paths in; "
            "start it with --root DIR to open paths under DIR")


def test_a_typed_path_outside_the_outputs_folder_is_refused_alike_whether_or_not_it_exists(opens, tmp_path):
    from sim.dashboard import state
    from sim.dashboard.study_view import open_folder

    outputs, secret = opens
    inside = outputs / "karabakh" / "sweep-1"
    open_folder(str(inside))
    assert state.study_problems.value == () and state.study_open.value["kind"] == "sweep"
    for typed in (str(secret), str(tmp_path / "no-such-folder"), "/etc", "/no/such/folder", f"{outputs}/../elsewhere",
                  str(outputs / "link"), "~", ""):
        open_folder(typed)
        assert state.study_problems.value == (outside(typed.strip() or "''", outputs),), typed
        assert state.study_open.value is None
    open_folder(str(outputs / "karabakh" / "nothing"))  # inside: what is there may be said
    assert "no such folder" in state.study_problems.value[0]


def test_a_wider_root_opens_more_and_must_exist(opens, monkeypatch):
    from sim.dashboard import state
    from sim.dashboard.config import CONFIG
    from sim.dashboard.study_view import open_folder

    outputs, secret = opens
    monkeypatch.setattr(CONFIG, "root", secret.parent)
    open_folder(str(secret))
    assert state.study_problems.value == () and state.study_open.value["kind"] == "sweep"
    open_folder("/etc")
    assert state.study_problems.value == (outside("/etc", secret.parent),)
    code, lines = cli_lines("dashboard", "--root", str(secret / "nope"), "--port", "0")
    assert code == 2 and lines == [f"sim dashboard: --root: {secret / 'nope'} is not a folder; give the folder whose "
                                   "sweeps, comparisons and saved games the page may open"]
    r = runner.invoke(app, ["dashboard", "--help"], env={"COLUMNS": "200"})
    assert "--root" in r.output


def test_resuming_a_saved_game_by_path_stays_in_the_outputs_folder(opens, tmp_path):
    from sim.dashboard import state
    from sim.dashboard.play_view import resume_game
    from sim.play.game import Game
    from sim.play.savefile import save_game

    outputs, secret = opens
    g = Game(sim.load_scenario("karabakh"), ["armenia"], months=3, forecast_runs=100)
    g.start()
    elsewhere = save_game(g, secret / "game.json")
    before = elsewhere.read_bytes()
    for typed in (str(elsewhere), str(secret / "none.json"), str(outputs / "link" / "game.json")):
        resume_game(typed, copy=False)
        job = state.play_job.value
        assert job.wait(60) and job.state == "failed"
        assert job.errors == [outside(typed, outputs)]
    assert elsewhere.read_bytes() == before  # not rewritten
    inside = save_game(g, outputs / "play" / "mine" / "game.json")
    resume_game(str(inside), copy=False)
    job = state.play_job.value
    assert job.wait(120) and job.state == "done", job.errors
    assert state.game.value["save"] == inside


def test_a_save_that_fails_in_the_dashboard_is_one_line():
    from sim.files import OutputError

    def full(job):
        raise OutputError(Path("outputs/play/x/game.json"), "no space left on device")

    job = Job(full, "Playing the turn").start()
    assert job.wait(10) and job.state == "failed"
    assert job.errors == ["sim dashboard: cannot write to outputs/play/x/game.json: no space left on device"]


# ------------------------------------------------------------------ uploads over the limit


def test_an_upload_over_the_limit_is_refused_with_a_message_and_the_server_takes_up_to_it():
    from sim.dashboard.widgets import UPLOAD_LIMIT, WS_MAX_SIZE, refused

    assert refused({"name": "a.yaml", "text": "x" * UPLOAD_LIMIT}) is None
    big = {"name": "big.json", "text": "x" * 20_200_000}
    assert refused(big, hint="put it under outputs/ and give its path below") == (
        "big.json: 20.2 MB is over the upload limit of 10 MB; put it under outputs/ and give its path below")
    # the websocket message carrying an upload within the limit fits, JSON-escaped at worst
    worst = json.dumps({"name": "a.json", "text": '"' * UPLOAD_LIMIT})
    assert len(worst.encode()) < WS_MAX_SIZE
    assert WS_MAX_SIZE > 16 * 1024 * 1024  # uvicorn's default, which dropped a 20 MB upload
