"""sim dashboard in a real browser: Debian's chromium driven by Playwright.

The server is started as a user starts it (``sim dashboard --port 0``, on 127.0.0.1), and
each mode is used through the page: a run whose outcome table must equal what
:func:`sim.run` gives for the same settings; a sweep folder made by ``sim sweep`` whose
indices must be shown; a game played two turns whose forecast table must grow by two
rows, with the numbers :class:`sim.play.game.Game` gives. A screenshot of each mode is
saved in the test's temporary folder.

The browser is Debian's (``apt-get install chromium``, done by ``.ci/run``): a test tool's
own browser download cannot work offline. Where ``CI=true`` and the browser is missing the
tests fail rather than skip.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

import sim

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS: dict[str, Path] = {}
"""Screenshots taken, by mode (for a person to look at)."""


def _missing(what: str) -> None:
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail(f"{what} is missing in CI (.ci/run installs Debian's chromium before the tests)")
    pytest.skip(f"{what} is not installed (apt-get install chromium)")


def _sim_command() -> list[str]:
    script = Path(sys.executable).parent / "sim"
    return [str(script)] if script.exists() else [sys.executable, "-c", "from sim.cli import main; main()"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``sim dashboard karabakh --port 0`` in a subprocess; yields (url, outputs folder)."""
    root = tmp_path_factory.mktemp("dashboard")
    outputs = root / "outputs"
    log = open(root / "server.log", "w+", encoding="utf-8")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([*_sim_command(), "dashboard", "karabakh", "--port", "0", "--outputs", str(outputs)],
                            cwd=root, stdout=log, stderr=subprocess.STDOUT, text=True)
    url = None
    for _ in range(600):
        log.seek(0)
        m = re.search(r"serving (http://127\.0\.0\.1:\d+/)", log.read())
        if m:
            url = m.group(1)
            break
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    log.seek(0)
    assert url is not None, f"the server did not start:\n{log.read()}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.2)
    yield url, outputs
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
    log.seek(0)
    text = log.read()
    log.close()
    assert "Traceback" not in text, text


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        _missing("Debian's chromium (/usr/bin/chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server, tmp_path):
    ctx = browser.new_context(viewport={"width": 1600, "height": 2200}, accept_downloads=True)
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(server[0])
    pg.locator(".sim-runs input").wait_for(timeout=60_000)
    yield pg
    ctx.close()
    assert not errors, errors


def fill(page, selector: str, value: str) -> None:
    box = page.locator(f"{selector} input")
    box.fill(value)
    box.press("Enter")


def tick(page, selector: str) -> None:
    """Tick a Vuetify checkbox (its label takes the click)."""
    page.locator(f"{selector} label").click()
    assert page.locator(f"{selector} input").is_checked()


def cells(page, selector: str) -> list[list[str]]:
    return [[c.strip() for c in row.locator("td").all_inner_texts()] for row in page.locator(f"{selector} tbody tr").all()]


def pct(x: float, digits: int = 2) -> str:
    return f"{100 * x:.{digits}f}%"


def shoot(page, tmp_path: Path, mode: str) -> None:
    page.locator(".sim-scenario-bar").scroll_into_view_if_needed()
    time.sleep(1.0)  # let images finish drawing
    path = tmp_path / f"issue14-{mode}.png"
    page.screenshot(path=str(path), full_page=True)
    SHOTS[mode] = path
    assert path.stat().st_size > 20_000


# ---------------------------------------------------------------------------- Run


def test_run_mode_shows_what_sim_run_gives(page, tmp_path):
    from sim.analysis.headline import model_uncertainty

    fill(page, ".sim-runs", "400")
    fill(page, ".sim-seed", "11")
    tick(page, ".sim-lever-armenia-freeze_csto")
    page.locator(".sim-set-text input").fill("flashpoints.border.level=3")
    page.locator(".sim-set-add").click()
    page.locator(".sim-override").wait_for()
    tick(page, ".sim-uncertainty-toggle")
    fill(page, ".sim-unc-sets", "8")
    fill(page, ".sim-unc-runs", "40")
    cmd = page.locator(".sim-command").inner_text()
    assert "--runs 400 --seed 11 --set flashpoints.border.level=3 --lever armenia.freeze_csto --uncertainty" in cmd
    page.locator(".sim-run-button").click()
    page.locator(".sim-outcomes").wait_for(timeout=300_000)

    scn = sim.load_scenario("karabakh", overrides={"flashpoints.border.level": 3})
    res = sim.run(scn, runs=400, seed=11, levers=["armenia.freeze_csto"])
    unc = model_uncertainty(res, scn, sets=8, runs=40, levers=["armenia.freeze_csto"])["outcomes"]
    want = []
    for r in res.outcome_rows():
        lo, hi = r["ci95"]
        u = unc[r["outcome"]]
        want.append([f"{r['description']}\n{r['outcome']}", pct(r["probability"]), f"{pct(lo)} – {pct(hi)}",
                     f"{pct(u['p10'], 1)} – {pct(u['p90'], 1)}",
                     f"{r['median_date']} ({r['q1_date']} – {r['q3_date']})" if r["median_date"] else "-"])
    shown = cells(page, ".sim-outcomes")
    assert shown == want
    head = page.locator(".sim-run-head").inner_text()
    assert "400 runs, seed 11" in head and "armenia.freeze_csto" in head and "flashpoints.border.level=3" in head

    # the story of a chosen run is the library's story of that replicate
    fill(page, ".sim-replicate", "7")
    page.locator(".sim-tell").click()
    page.locator(".sim-story").wait_for(timeout=120_000)
    from sim.play.story import tell

    story = tell(scn, seed=11, replicate=7, runs=400, levers=["armenia.freeze_csto"])
    assert page.locator(".sim-story").inner_text().strip() == story.text().strip()

    # the run folder, downloaded as a zip, is the run shown
    with page.expect_download(timeout=60_000) as dl:
        page.get_by_role("button", name=re.compile("Download the run folder")).click()
    z = zipfile.ZipFile(io.BytesIO(Path(dl.value.path()).read_bytes()))
    summary = json.loads(z.read(next(n for n in z.namelist() if n.endswith("/summary.json"))))
    assert summary["runs"] == 400 and summary["seed"] == 11
    assert summary["outcomes"]["new_war"]["probability"] == pytest.approx(
        next(r["probability"] for r in res.outcome_rows() if r["outcome"] == "new_war"))
    shoot(page, tmp_path, "run")


def test_an_uploaded_file_extending_a_shipped_scenario_runs_and_a_bad_one_shows_cli_lines(page, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: karabakh\nmeta:\n  horizon_months: -3\n", encoding="utf-8")
    page.locator(".sim-scenario-bar input[type=file]").set_input_files(str(bad))
    page.locator(".sim-problems").wait_for(timeout=60_000)
    assert page.locator(".sim-problems").inner_text().strip() == "bad.yaml:3:19: meta.horizon_months: must be at least 1 (got -3)"
    rel = tmp_path / "rel.yaml"
    rel.write_text("extends: ../scenarios/karabakh.yaml\n", encoding="utf-8")
    page.locator(".sim-scenario-bar input[type=file]").set_input_files(str(rel))
    page.wait_for_function("document.querySelector('.sim-problems') && "
                           "document.querySelector('.sim-problems').innerText.includes('rel.yaml:1:10')", timeout=60_000)
    good = tmp_path / "mine.yaml"
    good.write_text("extends: karabakh\nmeta:\n  name: mine\n  title: My own Karabakh\n", encoding="utf-8")
    page.locator(".sim-scenario-bar input[type=file]").set_input_files(str(good))
    page.get_by_text("My own Karabakh · from 2023-07").wait_for(timeout=60_000)
    assert page.locator(".sim-problems").count() == 0


def test_an_upload_over_the_limit_says_so_in_the_page_and_the_page_stays_connected(page, tmp_path):
    """A 20 MB file dropped the connection (uvicorn's 16 MiB websocket cap) and the page never
    said so: now the page refuses it with a message, and the page keeps working."""
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    big = tmp_path / "big.yaml"
    line = "# " + "x" * 98 + "\n"
    big.write_text("extends: karabakh\n" + line * 202_000, encoding="utf-8")
    size = big.stat().st_size
    assert size > 20_000_000
    page.locator(".sim-scenario-bar input[type=file]").set_input_files(str(big))
    msg = page.locator(".sim-scenario-bar .sim-upload-error")
    msg.wait_for(timeout=60_000)
    assert msg.inner_text().strip() == (f"big.yaml: {size / 1e6:.1f} MB is over the upload limit of 10 MB; start the "
                                        "dashboard on it instead: sim dashboard PATH/TO/FILE.yaml")
    good = tmp_path / "small.yaml"
    good.write_text("extends: karabakh\nmeta:\n  name: small\n  title: Small after big\n", encoding="utf-8")
    page.locator(".sim-scenario-bar input[type=file]").set_input_files(str(good))
    page.get_by_text("Small after big · from 2023-07").wait_for(timeout=60_000)  # the server still answers
    assert page.locator(".sim-scenario-bar .sim-upload-error").count() == 0
    assert not [m for m in console if "Connection lost" in m], console


# ---------------------------------------------------------------------------- Study


def test_study_mode_shows_a_sweeps_indices_and_a_comparison(page, server, tmp_path):
    outputs = server[1]
    sweep = outputs / "karabakh" / "sweep-e2e"
    cmp = outputs / "karabakh" / "compare-e2e"
    for args in (["sweep", "karabakh", "--method", "lhs", "--samples", "16", "--runs", "30", "--out", str(sweep)],
                 ["compare", "karabakh", "--b-lever", "armenia.freeze_csto", "--runs", "200", "--out", str(cmp)]):
        r = subprocess.run([*_sim_command(), *args], capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr
    import pandas as pd

    page.get_by_role("tab", name="Study").click()
    fill(page, ".sim-study-folder", str(sweep))
    page.locator(".sim-study-open").click()
    page.locator(".sim-indices").wait_for(timeout=60_000)
    ind = pd.read_csv(sweep / "indices.csv")
    first = json.loads((sweep / "summary.json").read_text())["outcomes"]
    o = next(iter(first))
    sub = ind[ind["outcome"] == o]
    def three(x: float) -> str:  # a NaN (no confidence half-width: the sets did not vary) shows as '-'
        return "-" if x != x else f"{x:.3f}"

    want = [[i, three(s), three(c), f if isinstance(f, str) else "", "yes" if d else ""]
            for i, s, c, f, d in zip(sub["input"], sub["S1"], sub["S1_conf"], sub["flag"], sub["driver"], strict=True)]
    assert cells(page, ".sim-indices") == want
    page.locator(".sim-discover").click()
    page.locator(".sim-discover-words").wait_for(timeout=120_000)
    from sim.analysis.discover import discover

    found = discover(sweep, o)
    shown = page.locator(".sim-discover-words li").all_inner_texts()
    assert [s.strip() for s in shown] == found["words"]
    shoot(page, tmp_path, "study")

    fill(page, ".sim-study-folder", str(cmp))
    page.locator(".sim-study-open").click()
    page.locator(".sim-comparison").wait_for(timeout=60_000)
    table = pd.read_csv(cmp / "comparison.csv", index_col="outcome")
    rows = cells(page, ".sim-comparison")
    assert [r[1:3] for r in rows] == [[pct(a, 1), pct(b, 1)] for a, b in zip(table["p_a"], table["p_b"], strict=True)]
    shoot(page, tmp_path, "compare")


# ---------------------------------------------------------------------------- Play


def test_play_mode_two_turns_grow_the_forecast_table_by_two_rows(page, server, tmp_path):
    from sim.paths import repo_root
    from sim.play.game import Game
    from sim.play.injects import load_injects
    from sim.play.moves import TurnMoves

    root = repo_root() or Path(__file__).resolve().parents[1]
    deck_file = root / "docs" / "classroom" / "caucasus-credibility" / "injects.yaml"
    page.get_by_role("tab", name="Play").click()
    tick(page, ".sim-role-armenia")
    fill(page, ".sim-game-months", "6")
    fill(page, ".sim-forecast-runs", "300")
    page.locator(".sim-deck").click()
    page.get_by_role("option", name="caucasus-credibility/injects.yaml").click()
    page.locator(".sim-start-game").click()
    page.locator(".sim-forecasts").wait_for(timeout=300_000)
    assert page.locator(".sim-forecasts tbody tr").count() == 1

    tick(page, ".sim-move-armenia-appeal_to_csto")
    tick(page, ".sim-inject-csto_summit_snub")
    page.locator(".sim-end-turn").click()
    page.locator(".sim-forecasts tbody tr").nth(1).wait_for(timeout=300_000)
    page.locator(".sim-event-text input").fill("Embargo on Russian arms | {multiply: {suppliers.russia_arms.reliability: 0.5}}")
    page.locator(".sim-event-add").click()
    tick(page, ".sim-move-armenia-open_peace_talks")
    tick(page, ".sim-decision-armenia-freeze-csto")  # a decision the model takes for nobody played Armenia
    shoot(page, tmp_path, "play")  # mid-game: moves and an event chosen, the instructor's panel, the forecast so far
    page.locator(".sim-end-turn").click()
    page.locator(".sim-forecasts tbody tr").nth(2).wait_for(timeout=300_000)
    assert page.locator(".sim-forecasts tbody tr").count() == 3
    page.locator(".sim-debrief").wait_for(timeout=120_000)  # six months: the game is over, the debrief shown

    # the same game through the library: the same forecasts
    scn = sim.load_scenario("karabakh")
    g = Game(scn, ["armenia"], months=6, forecast_runs=300, deck=load_injects(deck_file, scn))
    g.start()
    g.play_turn(TurnMoves(moves=["armenia.appeal_to_csto"], injects=["csto_summit_snub"]))
    g.play_turn(TurnMoves(moves=["armenia.open_peace_talks", "armenia.freeze(csto)"], events=[{
        "description": "Embargo on Russian arms", "effect": {"multiply": {"suppliers.russia_arms.reliability": 0.5}}}]))
    names = [d.name for d in g.detectors]
    want = [[str(f["turn"]), m, *[pct(f["outcomes"][n]["p"], 1) for n in names]]
            for f, m in zip(g.forecasts, ["start", g.turns[0]["to"], g.turns[1]["to"]], strict=True)]
    assert cells(page, ".sim-forecasts") == want
    saved = Path(page.locator(".sim-saved").inner_text().split(" in ", 1)[1].strip())
    assert json.loads(saved.read_text())["turn"] == 2
    shoot(page, tmp_path, "debrief")

    # resume the saved game from its file: the same table
    page.get_by_role("button", name="New game").click()
    fill(page, ".sim-saved-path", str(saved))
    page.locator(".sim-resume").click()
    page.locator(".sim-forecasts").wait_for(timeout=120_000)
    assert cells(page, ".sim-forecasts") == want


def test_play_mode_starts_a_class_game_served_at_class(page, server, tmp_path):
    url, _ = server
    with urllib.request.urlopen(url + "class/", timeout=30) as r:  # the class server shares the dashboard's port
        assert r.status == 200 and "Join a class game" in r.read().decode()
    page.get_by_role("tab", name="Play").click()
    page.locator(".sim-class").wait_for(timeout=60_000)
    fill(page, ".sim-class-runs", "100")
    page.locator(".sim-class-start").click()
    link = page.locator(".sim-class-seat a").first
    link.wait_for(timeout=300_000)
    href = link.get_attribute("href")
    assert href.startswith("/class/s/")
    fac = page.context.new_page()
    fac.goto(url.rstrip("/") + href)
    fac.locator("#head").get_by_text("Facilitator").wait_for(timeout=120_000)
    fac.locator("#codes table.codes").wait_for(timeout=120_000)
    fac.close()
