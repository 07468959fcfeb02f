"""The classroom exercise packs (docs/classroom/): each runs with the one command its
README gives, with its inject deck and its sample moves."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.play.briefings import briefings_html
from sim.play.injects import load_injects
from sim.play.moves import load_moves
from sim.play.packs import find_pack, game_setup, list_packs, load_pack

ROOT = Path(__file__).resolve().parents[1]
PACKS = sorted(p.parent for p in (ROOT / "docs" / "classroom").glob("*/README.md"))
runner = CliRunner()


def command(pack: Path) -> list[str]:
    """The `sim play ...` command of a pack's README (its first bash block)."""
    block = re.search(r"```bash\n(.*?)```", (pack / "README.md").read_text(), re.S).group(1)
    args = shlex.split(block.replace("\\\n", " "))
    assert args[:2] == ["sim", "play"]
    return args[1:]


def test_there_are_at_least_two_packs_with_what_a_class_needs():
    assert len(PACKS) >= 2
    for pack in PACKS:
        text = (pack / "README.md").read_text()
        for part in ("## Learning goals", "## Roles", "## Timing (90 minutes)", "## Debrief questions", "injects.yaml"):
            assert part in text, (pack.name, part)
        assert (pack / "injects.yaml").is_file() and (pack / "moves-example.yaml").is_file()


@pytest.mark.parametrize("pack", PACKS, ids=[p.name for p in PACKS])
def test_a_pack_runs_with_its_one_command(pack, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # the README's paths are relative to the repository
    args = command(pack)
    out = tmp_path / "game"
    r = runner.invoke(app, [*args, "--moves", str(pack / "moves-example.yaml"), "--forecast-runs", "100",
                            "--turns", "3", "--out", str(out)])
    assert r.exit_code == 0, r.output
    saved = json.loads((out / "game.json").read_text())
    assert saved["turn"] == 3 and saved["turn_months"] == 3
    assert saved["deck"], "the pack's injects were loaded"
    assert any(rec["event"] == "inject" for rec in saved["records"]), "an inject fired in the first three turns"
    assert (out / "debrief.html").is_file()
    # the whole sample game checks against the game's turns
    setup = game_setup(args[1], [args[i + 1] for i, a in enumerate(args) if a == "--as"])
    months = setup.months or setup.scn.spec.meta.horizon_months
    deck = load_injects(pack / "injects.yaml", setup.scn)
    turns = load_moves(pack / "moves-example.yaml", setup.scn, setup.played, -(-months // 3), deck)
    assert turns and max(turns) <= months // 3


@pytest.mark.parametrize("pack", PACKS, ids=[p.name for p in PACKS])
def test_a_packs_roles_table_lists_exactly_its_scenarios_levers(pack):
    pk = load_pack(pack)
    scn = pk.load_scenario()
    roles = {r.actor: r for r in pk.roles() if r.actor}
    assert set(pk.all_teams) == set(roles), "every team of pack.yaml has a row in the README's roles table"
    for actor, role in roles.items():
        assert role.levers == list(scn.spec.levers[actor]), (pack.name, actor)
        assert role.wants


@pytest.mark.parametrize("pack", PACKS, ids=[p.name for p in PACKS])
def test_the_briefings_lever_lists_come_from_the_scenario(pack):
    pk = load_pack(pack)
    scn = pk.load_scenario()
    page = briefings_html(pk)
    teams = re.findall(r"<section class='page team' id='team-(\w+)'>(.*?)</section>", page, re.S)
    assert [a for a, _ in teams] == pk.all_teams
    for actor, body in teams:
        listed = re.findall(r"<code>(\w+\.\w+)</code>", body.split("<h2>Your levers</h2>")[1].split("<h2>")[0])
        assert listed == [f"{actor}.{lv}" for lv in scn.spec.levers[actor]], actor
        assert "<h2>The situation" in body and "<h2>Your aims</h2>" in body and "<h2>Who controls what</h2>" in body
    guide = page.split("id='facilitator'>")[1]
    deck = pk.deck(scn)
    assert deck and all(f"<code>{i.name}</code>" in guide for i in deck)
    assert "Timing" in guide and "Debrief questions" in guide


def test_the_briefings_list_each_teams_decisions_open_at_the_start():
    """A team's page lists the decisions the rules take for its country that it could order at
    the start (issue 23: the briefings listed levers only): Azerbaijan's offensive at Lachin;
    Armenia's freeze, exit and request for the CSTO's help; never a request to an alliance the
    country is not in; the facilitator's table gives the same."""
    pk = load_pack(next(p for p in PACKS if p.name == "caucasus-credibility"))
    page = briefings_html(pk)
    teams = dict(re.findall(r"<section class='page team' id='team-(\w+)'>(.*?)</section>", page, re.S))

    def decisions(actor: str) -> list[str]:
        row = teams[actor].split("<tr class='lever decisions'>")[1].split("</tr>")[0]
        return re.findall(r"<code>([\w(),]+)</code>", row)

    assert decisions("azerbaijan") == ["launch_offensive(lachin)"]
    assert decisions("armenia") == ["ask_for_help(border,csto)", "freeze(csto)", "leave(csto)"]
    guide = page.split("id='facilitator'>")[1]
    assert "launch_offensive(lachin)" in guide and "ask_for_help(lachin,csto)" not in page


def test_packs_are_listed_and_found_by_name_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    names = [p["name"] for p in list_packs()]
    assert names == sorted(p.name for p in PACKS)
    r = runner.invoke(app, ["packs"])
    assert r.exit_code == 0 and all(n in r.output for n in names)
    r = runner.invoke(app, ["packs", "caucasus-credibilty"])
    assert r.exit_code == 2 and "did you mean 'caucasus-credibility'" in r.output
    setup = game_setup("caucasus-credibility", ["armenia"])
    assert setup.pack.name == "caucasus-credibility" and setup.deck and setup.played == ["armenia"]
    assert game_setup("ferghana-border", None, default_teams=True).played == ["kyrgyzstan", "tajikistan", "russia"]
    assert find_pack("karabakh") is None  # a scenario, not a pack


def test_a_copied_pack_still_finds_its_scenario(tmp_path):
    import shutil

    copy = tmp_path / "my-copy"
    shutil.copytree(ROOT / "docs" / "classroom" / "caucasus-credibility", copy)
    pk = find_pack(str(copy))
    assert pk is not None and pk.load_scenario().spec.meta.horizon_months == 24


def test_sim_play_a_pack_from_an_empty_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, ["play", "caucasus-credibility", "--as", "armenia", "--forecast-runs", "50",
                            "--turns", "1", "--out", "g"], input="done\n")
    assert r.exit_code == 0, r.output
    saved = json.loads((tmp_path / "g" / "game.json").read_text())
    assert saved["played"] == ["armenia"] and saved["deck"] and saved["turn"] == 1


def test_a_turn_in_the_terminal_stays_on_a_projector_screen(tmp_path):
    pack = ROOT / "docs" / "classroom" / "caucasus-credibility"
    r = runner.invoke(app, ["play", "caucasus-credibility", "--as", "armenia", "--as", "azerbaijan", "--as", "russia",
                            "--moves", str(pack / "moves-example.yaml"), "--forecast-runs", "100", "--turns", "4",
                            "--out", str(tmp_path / "g")])
    assert r.exit_code == 0, r.output
    blocks = r.output.split("\n=== Turn ")[1:]
    assert len(blocks) == 4
    for b in blocks:
        lines = b.split("\nGame saved:")[0].splitlines()
        happened = lines[next(i for i, ln in enumerate(lines) if ln.startswith("--- What happened")):]
        assert len(happened) <= 36, "\n".join(happened)  # what happened and the forecast: one screen
        assert len(lines) <= 55, b
        assert max(len(ln) for ln in lines) <= 120
    # grouped: one row for Karabakh, not one per outcome
    assert sum(ln.startswith("  Nagorno-Karabakh:") for ln in blocks[0].splitlines()) == 1
    assert "Why " in r.output and "teams " in r.output


@pytest.mark.slow
def test_the_installed_sim_plays_a_pack_from_an_empty_folder(tmp_path):
    """A wheel of the package, installed into a folder of its own: its entry point finds the
    packs and the scenarios they extend in the package data, from a folder with nothing in it."""
    import os
    import subprocess
    import sys

    wheels, target, empty = tmp_path / "wheels", tmp_path / "installed", tmp_path / "empty"
    empty.mkdir()
    pip = [sys.executable, "-m", "pip"]
    done = subprocess.run([*pip, "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = wheels.glob("sim-*.whl")
    done = subprocess.run([*pip, "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    env = {**os.environ, "PYTHONPATH": str(target)}
    for k in ("SIM_SCENARIOS", "SIM_SEEDS", "SIM_CLASSROOM"):
        env.pop(k, None)
    sim_exe = target / "bin" / "sim"
    where = subprocess.run([sys.executable, "-c", "import sim.paths as p; print(p.classroom_dir(), p.scenarios_dir())"],
                           cwd=empty, env=env, capture_output=True, text=True)
    assert where.stdout.split() == [str(target / "sim" / "_classroom"), str(target / "sim" / "_scenarios")]
    listed = subprocess.run([str(sim_exe), "packs"], cwd=empty, env=env, capture_output=True, text=True)
    assert listed.returncode == 0 and "caucasus-credibility" in listed.stdout and "ferghana-border" in listed.stdout
    played = subprocess.run([str(sim_exe), "play", "caucasus-credibility", "--as", "armenia", "--forecast-runs", "50",
                             "--turns", "1", "--out", "game"], cwd=empty, env=env, input="done\n",
                            capture_output=True, text=True, timeout=600)
    assert played.returncode == 0, played.stderr
    assert "Turn 1 of 8" in played.stdout and (empty / "game" / "game.json").is_file()
    assert sorted(p.name for p in empty.iterdir()) == ["game"]


def _pdf_pages(path: Path) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", path.read_bytes()))


@pytest.mark.slow
@pytest.mark.parametrize("pack", PACKS, ids=[p.name for p in PACKS])
def test_the_printed_briefings_give_each_team_one_page(pack, tmp_path):
    from sim.play.briefings import chromium, print_pdf

    if chromium() is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    pk = load_pack(pack)
    teams_only = tmp_path / "teams.html"
    teams_only.write_text(briefings_html(pk, facilitator=False), encoding="utf-8")
    assert _pdf_pages(print_pdf(teams_only, tmp_path / "teams.pdf")) == len(pk.all_teams)
    r = runner.invoke(app, ["packs", pk.name, "--briefings", str(tmp_path / "out"), "--pdf"])
    assert r.exit_code == 0, r.output
    pdf = tmp_path / "out" / "briefings.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert len(pk.all_teams) + 1 <= _pdf_pages(pdf) <= len(pk.all_teams) + 2  # the guide: one or two pages
