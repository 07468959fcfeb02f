"""When most problems of a scenario have one cause, the first line says it and the rest
are folded (``sim --verbose`` lists all): a shipped scenario without its ``extends:``
line gets one line naming the missing line instead of 36 consequences."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.paths import scenarios_dir
from sim.scenario.errors import InputError

runner = CliRunner()


def without_extends(name: str, tmp: Path, typo: bool = False) -> Path:
    text = (scenarios_dir() / f"{name}.yaml").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("extends:")]
    assert len(lines) < len(text.splitlines()), "the shipped scenario extends a base"
    if typo:  # a mistake of its own, beside the missing line
        lines = [line + ("\n  horizon_monhts: 3" if line.startswith("  horizon_months:") else "") for line in lines]
    p = tmp / f"{name}_copy.yaml"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


@pytest.mark.parametrize("name", ["karabakh", "kyrgyz_tajik", "tajik_afghan", "suppliers", "alignment"])
def test_a_shipped_scenario_without_its_extends_line_says_so_first(name, tmp_path):
    p = without_extends(name, tmp_path)
    with pytest.raises(InputError) as info:
        sim.load_scenario(p)
    n = len(info.value.problems)
    assert n > 5
    r = runner.invoke(app, ["validate", str(p)])
    assert r.exit_code == 2
    assert r.output.strip().splitlines() == [
        f"{p}: {n} of {n} problems name things that base.yaml declares: is `extends: base` missing? "
        "(sim --verbose lists them)"]
    r = runner.invoke(app, ["--verbose", "validate", str(p)])
    assert r.exit_code == 2 and len(r.output.strip().splitlines()) == n
    assert "is `extends: base` missing?" not in r.output


def test_the_problems_the_cause_does_not_explain_follow_it(tmp_path):
    p = without_extends("karabakh", tmp_path, typo=True)
    r = runner.invoke(app, ["validate", str(p)])
    lines = r.output.strip().splitlines()
    assert r.exit_code == 2 and len(lines) == 2, r.output
    assert lines[0] == (f"{p}: 36 of 37 problems name things that base.yaml declares: is `extends: base` missing? "
                        "(the other one follows; sim --verbose lists all 37)")
    assert lines[1].endswith("meta.horizon_monhts: unknown key 'horizon_monhts' (did you mean 'horizon_months'?)")
    with pytest.raises(InputError) as info:  # the library keeps every problem; its text is folded as printed
        sim.load_scenario(p)
    assert info.value.cause is not None and len(info.value.problems) == 37
    assert str(info.value).splitlines() == [line.replace("sim validate", "sim") for line in lines]


def test_beside_a_copy_of_its_base_the_line_still_names_the_shipped_one(tmp_path):
    (tmp_path / "base.yaml").write_text((scenarios_dir() / "base.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(InputError) as info:
        sim.load_scenario(without_extends("karabakh", tmp_path))
    assert "is `extends: base` missing?" in info.value.cause.message


def test_a_mapping_without_extends_is_told_the_same(tmp_path):
    import yaml

    data = yaml.safe_load((scenarios_dir() / "tajik_afghan.yaml").read_text(encoding="utf-8"))
    data.pop("extends")
    with pytest.raises(InputError) as info:
        sim.load_scenario(data)
    assert info.value.cause is not None
    assert info.value.cause.format().startswith("<mapping>: ")
    assert "is `extends: base` missing?" in info.value.cause.message


def test_no_cause_is_claimed_for_unrelated_problems(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("extends: karabakh\nmeta: {horizon_monhts: 3, runs: -1}\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        sim.load_scenario(p)
    assert info.value.cause is None  # it extends its base: whatever is wrong, it is not that
    own = tmp_path / "own.yaml"
    own.write_text("meta: {name: own, title: Own, start: 2023-07, horizon_months: 12}\n"
                   "states:\n  north: {name: North, capability: 1}\n"
                   "flashpoints:\n  ridge: {sides: [north, southh], level: 1, mediators: [westt]}\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        sim.load_scenario(own)
    assert info.value.cause is None  # its unknown names are its own typos, not a shipped file's actors
