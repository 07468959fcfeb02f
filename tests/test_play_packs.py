"""The classroom exercise packs (docs/classroom/): each runs with the one command its
README gives, with its inject deck and its sample moves."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.play.injects import load_injects
from sim.play.moves import load_moves

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
    scn_arg = args[1]
    scn = sim.load_scenario(scn_arg)
    months = int(args[args.index("--months") + 1]) if "--months" in args else scn.spec.meta.horizon_months
    deck = load_injects(pack / "injects.yaml", scn)
    played = [args[i + 1] for i, a in enumerate(args) if a == "--as"]
    turns = load_moves(pack / "moves-example.yaml", scn, played, -(-months // 3), deck)
    assert turns and max(turns) <= months // 3
