"""Damaged output folders: `sim discover` on a sweep folder and `sim rerun` on a run's
manifest get one line per problem naming the file and the field (or line), exit status 2,
never a traceback; a cut `sets.csv` is refused, not analysed. `sim rerun` on a sweep's
folder reruns the sweep (as `sim sweep` made it) and compares its data files.

The damages are the catalogues in tests/damaged_folders.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app

from .conftest import MINI, write
from .damaged_folders import MANIFEST_DAMAGES, SWEEP_DAMAGES

runner = CliRunner()

LEVERED = MINI + """levers:
  cc:
    reassure: {description: Reassure the pact, effect: {set: {alliances.pact.credibility: 0.9}}}
uncertainties:
  alliances.pact.credibility: {uniform: [0.05, 0.45], source: {assumption: a wide range}}
  states.aa.resolve: {uniform: [0.4, 0.9]}
"""


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory) -> Path:
    return write(tmp_path_factory.mktemp("scn"), LEVERED)


@pytest.fixture(scope="module")
def sweep_folder(scenario_file, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sweep") / "sw"
    r = runner.invoke(app, ["sweep", str(scenario_file), "--method", "lhs", "--samples", "8", "--runs", "10",
                            "--months", "3", "--lever", "cc.reassure", "--out", str(out), "--no-report"])
    assert r.exit_code == 0, r.output
    return out


@pytest.fixture(scope="module")
def run_folder(scenario_file, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "run"
    r = runner.invoke(app, ["run", str(scenario_file), "--runs", "40", "--months", "3", "--lever", "cc.reassure",
                            "--out", str(out), "--no-report"])
    assert r.exit_code == 0, r.output
    return out


def damaged_sweep(good: Path, name: str, tmp: Path) -> Path:
    d = tmp / name
    shutil.copytree(good, d)
    if name == "not_a_folder":
        shutil.rmtree(d)
        d.write_text("x", encoding="utf-8")
    else:
        SWEEP_DAMAGES[name](d)
    return d


def damaged_run(good: Path, name: str, tmp: Path) -> Path:
    d = tmp / name
    shutil.copytree(good, d)
    new = MANIFEST_DAMAGES[name](json.loads((d / "manifest.json").read_text(encoding="utf-8")))
    if isinstance(new, bytes):
        (d / "manifest.json").write_bytes(new)
    else:
        (d / "manifest.json").write_text(new if isinstance(new, str) else json.dumps(new), encoding="utf-8")
    return d


SWEEP_EXPECT = {
    "sets_missing": ["{dir}/sets.csv: missing: the sweep's table of sets is gone; run the sweep again (sim rerun {dir})"],
    "sets_a_folder": ["{dir}/sets.csv: not a file: the sweep's table of sets is gone; run the sweep again (sim rerun {dir})"],
    "sets_empty": ["{dir}/sets.csv: not a table of a sweep's sets (it is empty); run the sweep again (sim rerun {dir})"],
    "sets_header_only": ["{dir}/sets.csv: 0 rows, but the sweep had 8 parameter sets (summary.json); missing: sets 0 to 7. "
                         "A cut table would describe a design nobody ran, so it is not analysed: run the sweep again "
                         "(sim rerun {dir})"],
    "sets_rows_missing": ["{dir}/sets.csv: 4 rows, but the sweep had 8 parameter sets (summary.json); missing: sets 4 to 7. "
                          "A cut table would describe a design nobody ran, so it is not analysed: run the sweep again "
                          "(sim rerun {dir})"],
    "sets_last_line_cut": ["{dir}/sets.csv:9:1: the last line (set 7) is cut short: the file does not end where sim wrote "
                           "it; run the sweep again (sim rerun {dir})"],
    "sets_last_digit_cut": ["{dir}/sets.csv:9:1: the last line (set 7) is cut short: the file does not end where sim wrote "
                            "it; run the sweep again (sim rerun {dir})"],
    "sets_not_utf8": ["{dir}/sets.csv: cannot read it ('utf-8' codec can't decode byte 0xff in position 0: invalid start "
                      "byte)"],
    "sets_no_set_column": ["{dir}/sets.csv: not a table of a sweep's sets (no column 'set', the number of each parameter "
                           "set); run the sweep again (sim rerun {dir})"],
    "sets_no_runs_column": ["{dir}/sets.csv:1:1: no column 'runs', which the sweep has (summary.json); the file was edited "
                            "or is another sweep's: run the sweep again (sim rerun {dir})"],
    "sets_no_outcome_column": ["{dir}/sets.csv:1:1: no column 'clash', which the sweep has (summary.json); the file was "
                               "edited or is another sweep's: run the sweep again (sim rerun {dir})"],
    "sets_input_garbled": ["{dir}/sets.csv:4:1: alliances.pact.credibility: expected a number, got 'abc' (set 2); run the "
                           "sweep again (sim rerun {dir})"],
    "sets_runs_negative": ["{dir}/sets.csv:3:1: runs: expected a whole number of runs, got -3 (set 1); run the sweep again "
                           "(sim rerun {dir})"],
    "sets_probability_above_one": ["{dir}/sets.csv:3:1: clash: expected a probability from 0 to 1, got 1.5 (set 1); run "
                                   "the sweep again (sim rerun {dir})"],
    "sets_runs_edited": ["{dir}/sets.csv: runs: the sets' runs add up to 169, but the sweep ran 80 (summary.json): the file "
                         "was edited; run the sweep again (sim rerun {dir})"],
    "summary_missing": ["{dir}: not a sweep folder (no summary.json); give a folder written by `sim sweep`"],
    "summary_garbled": ["{dir}/summary.json: the file is cut short (its JSON ends early); run the sweep again "
                        "(sim rerun {dir})"],
    "summary_a_list": ["{dir}/summary.json: not a sweep summary (a `sim run` folder?); give a folder written by `sim sweep`"],
    "summary_of_a_run": ["{dir}/summary.json: not a sweep summary (a `sim run` folder?); give a folder written by "
                         "`sim sweep`"],
    "summary_no_inputs": ["{dir}/summary.json: missing required key 'inputs'"],
    "summary_inputs_text": ["{dir}/summary.json: inputs: expected a list ([a, b] or one '- ' item per line), got the text "
                            "'abc'; write it as [abc]"],
    "summary_input_unnamed": ["{dir}/summary.json: inputs[0]: missing required key 'name'"],
    "summary_outcome_undescribed": ["{dir}/summary.json: outcomes.clash: missing required key 'description'"],
    "summary_sets_zero": ["{dir}/summary.json: sets: must be at least 1 (got 0)"],
    "summary_method_unknown": ["{dir}/summary.json: method: unknown method 'magic'; sweeps use sobol, morris, lhs, grid, fast, delta, design"],
    "stopped_sweep": ["{dir}: this sweep stopped before every set had its runs (manifest.json: stopped_by interrupt), so "
                      "it has no summary.json and nothing to analyse; run it again (sim rerun {dir})"],
    "not_a_folder": ["{dir}: not a folder; give a folder written by `sim sweep`"],
}


def test_every_sweep_damage_has_its_lines():
    assert sorted(SWEEP_EXPECT) == sorted(SWEEP_DAMAGES)


@pytest.mark.parametrize("name", sorted(SWEEP_DAMAGES))
def test_discover_on_a_damaged_sweep_folder_is_one_line_per_problem(name, sweep_folder, tmp_path):
    d = damaged_sweep(sweep_folder, name, tmp_path)
    r = runner.invoke(app, ["discover", str(d), "--outcome", "clash"])
    assert r.exit_code == 2, r.output
    assert not isinstance(r.exception, Exception) or isinstance(r.exception, SystemExit), r.exception
    assert r.output.strip().splitlines() == [line.replace("{dir}", str(d)) for line in SWEEP_EXPECT[name]]


def test_discover_reads_only_the_table_and_the_summary(sweep_folder, tmp_path):
    """The manifest, sample.csv and indices.csv are not needed to find boxes: their loss is no problem."""
    d = tmp_path / "sw"
    shutil.copytree(sweep_folder, d)
    for f in ("manifest.json", "sample.csv", "indices.csv"):
        (d / f).write_text("garbage", encoding="utf-8")
    r = runner.invoke(app, ["discover", str(d), "--outcome", "clash"])
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("option, value, what", [
    ("--density", "5", "the least share of likely sets a box must hold"),
    ("--density", "-0.2", "the least share of likely sets a box must hold"),
    ("--density", "nan", "the least share of likely sets a box must hold"),
    ("--likely", "0", "the probability from which a set counts as one where it is likely"),
    ("--likely", "1.5", "the probability from which a set counts as one where it is likely"),
])
def test_discover_options_out_of_range_are_one_line(option, value, what, sweep_folder):
    r = runner.invoke(app, ["discover", str(sweep_folder), "--outcome", "clash", option, value])
    assert r.exit_code == 2
    assert r.output.strip() == f"sim discover: {option}: must be a share in (0, 1], {what} (got {float(value)!r})"


MANIFEST_EXPECT = {
    "seed_text": ["{m}: seed: expected a whole number, got the text 'x'"],
    "seed_negative": ["{m}: seed: must be from 0 to 9,223,372,036,854,775,807 (got -3)"],
    "seed_fraction": ["{m}: seed: expected a whole number, got 1.5"],
    "seed_missing": ["{m}: missing required key 'seed'"],
    "runs_text": ["{m}: runs_requested: expected a whole number, got the text 'many'"],
    "runs_zero": ["{m}: runs_requested: must be at least 1 (got 0)"],
    "runs_null": ["{m}: runs_requested: expected a whole number, got nothing (null)"],
    "chunk_size_text": ["{m}: chunk_size: expected a whole number, got the text 'big'"],
    "horizon_huge": ["{m}: horizon_months: must be from 1 to 600 (got 10000)"],
    "dtype_unknown": ["{m}: dtype: expected 'float32' or 'float64', got the text 'float16' (did you mean 'float64'?)"],
    "levers_a_string": ["{m}: levers: expected a list ([a, b] or one '- ' item per line), got the text 'cc.reassure'; "
                        "write it as [cc.reassure]"],
    "levers_unknown": ["{m}: levers[0]: 'cc.nope': cc has no lever 'nope'; cc's levers are reassure"],
    "versions_a_list": ["{m}: versions: expected a mapping (key: value, ...), got a list ['x']"],
    "versions_without_sim": ["{m}: versions: missing the version of sim that made the run ('sim')"],
    "sha_a_number": ["{m}: scenario_sha256: expected a SHA-256 (64 hexadecimal digits), got 5"],
    "custom_parts_text": ["{m}: custom_parts: expected a list ([a, b] or one '- ' item per line), got the text 'abc'; "
                          "write it as [abc]"],
    "custom_parts_incomplete": ["{m}: custom_parts[0]: missing required key 'module'",
                                "{m}: custom_parts[0]: missing required key 'name'"],
    "ci_halfwidth_text": ["{m}: ci_halfwidth: expected a number, got the text 'tight'"],
    "uncertainty_text": ["{m}: uncertainty: expected a mapping (key: value, ...), got the text 'yes'"],
    "uncertainty_sets_text": ["{m}: uncertainty.sets: expected a whole number, got the text 'x'"],
    "complete_text": ["{m}: complete: expected true or false, got the text 'no'"],
    "from_game_text": ["{m}: from_game: expected a mapping (key: value, ...), got the text 'game.json'"],
    "a_list": ["{m}: not a run manifest (none of scenario_sha256, seed, runs_requested, chunk_size, horizon_months, "
               "versions); give the folder `sim run` or `sim sweep` wrote"],
    "empty": ["{m}: not a run manifest (invalid JSON: Expecting value: line 1 column 1 (char 0))"],
    "cut_short": ["{m}: the file is cut short (its JSON ends early): a copy that did not finish? give a whole copy of "
                  "the run folder"],
    "not_utf8": ["{m}: not a run manifest (not UTF-8 text: invalid start byte at offset 0)"],
    "sweep_method_unknown": ["{m}: sweep.method: expected 'sobol', 'morris', 'lhs', 'grid', 'fast', 'delta' or 'design', got the text 'magic'"],
    "sweep_inputs_text": ["{m}: sweep.inputs: expected a list ([a, b] or one '- ' item per line), got the text 'abc'; "
                          "write it as [abc]"],
    "sweep_lever_unknown": ["{m}: sweep.inputs[0]: 'cc.nope': cc has no lever 'nope'; cc's levers are reassure"],
}


def test_every_manifest_damage_has_its_lines():
    assert sorted(MANIFEST_EXPECT) == sorted(MANIFEST_DAMAGES)


@pytest.mark.parametrize("name", sorted(MANIFEST_DAMAGES))
def test_rerun_of_an_edited_manifest_is_one_line_per_problem_naming_it(name, run_folder, tmp_path):
    d = damaged_run(run_folder, name, tmp_path)
    r = runner.invoke(app, ["rerun", str(d), "--out", str(tmp_path / "again")])
    assert r.exit_code == 2, r.output
    assert not isinstance(r.exception, Exception) or isinstance(r.exception, SystemExit), r.exception
    assert r.output.strip().splitlines() == [line.replace("{m}", str(d / "manifest.json")) for line in MANIFEST_EXPECT[name]]
    assert not (tmp_path / "again").exists()


def test_a_changed_version_or_scenario_names_the_manifest_and_the_field(run_folder, tmp_path):
    d = tmp_path / "run"
    shutil.copytree(run_folder, d)
    m = json.loads((d / "manifest.json").read_text())
    m["versions"]["sim"] = "0.0.1"
    (d / "manifest.json").write_text(json.dumps(m))
    r = runner.invoke(app, ["rerun", str(d)])
    assert r.exit_code == 2
    assert r.output.strip() == (f"{d / 'manifest.json'}: versions.sim: the run was made by sim 0.0.1; this is sim "
                                f"{sim.__version__}. Results may differ; use --force to rerun anyway")


def test_rerun_of_a_sweep_folder_reruns_the_sweep(sweep_folder, tmp_path):
    r = runner.invoke(app, ["rerun", str(sweep_folder), "--out", str(tmp_path / "again")])
    assert r.exit_code == 0, r.output
    assert r.output.strip().splitlines()[-1] == (
        f"Reproduced: sets.csv, sample.csv, indices.csv, noise.csv, summary.json are identical to {sweep_folder}/ "
        f"(new sweep in {tmp_path / 'again'}/).")
    m = json.loads((tmp_path / "again" / "manifest.json").read_text())
    assert m["sweep"]["sets"] == 8 and m["rerun_of"] == str(sweep_folder)


def test_rerun_of_a_param_sweep_without_its_ranges_in_the_manifest(scenario_file, tmp_path):
    """A sweep of --param ranges made before the manifest kept them: the ranges come from
    summary.json; without it, one line says how to make the sweep again."""
    out = tmp_path / "sw"
    r = runner.invoke(app, ["sweep", str(scenario_file), "--method", "lhs", "--samples", "6", "--runs", "5",
                            "--months", "2", "--param", "states.bb.resolve=0.2:0.7", "--out", str(out), "--no-report"])
    assert r.exit_code == 0, r.output
    m = json.loads((out / "manifest.json").read_text())
    assert m["sweep"]["params"] == {"states.bb.resolve": [0.2, 0.7]}
    del m["sweep"]["params"]
    (out / "manifest.json").write_text(json.dumps(m))
    r = runner.invoke(app, ["rerun", str(out), "--out", str(tmp_path / "again")])
    assert r.exit_code == 0 and "Reproduced:" in r.output, r.output
    (out / "summary.json").unlink()
    r = runner.invoke(app, ["rerun", str(out), "--out", str(tmp_path / "third")])
    assert r.exit_code == 2
    assert r.output.strip() == (f"{out / 'manifest.json'}: sweep.inputs: the sweep varied ranges (--param) that neither "
                                "its manifest nor a readable summary.json records; make it again with sim sweep ... "
                                "--param PATH=LO:HI")


@pytest.mark.parametrize("edit, line", [
    (lambda sw: sw.update(params={"alliances.pact.credibility": [0.9, 0.1]}),
     "sweep.params: 'alliances.pact.credibility=0.9:0.1': give a range as PATH=LO:HI with LO < HI, e.g. "
     "alliances.csto.credibility=0.1:0.5"),
    (lambda sw: sw.update(sets=9), "sweep.sets: 9, but its design (lhs, samples 8, 3 inputs) has 8 sets: the manifest "
                                   "was edited"),
    (lambda sw: sw.update(method="sobol"), "sweep.sets: 8, but its design (sobol, samples 8, 3 inputs) has 64 sets: "
                                           "the manifest was edited"),
    (lambda sw: sw.update(method="sobol", samples=6), "sweep.samples: a Sobol sample needs a power of 2 (got 6; try 8)"),
])
def test_rerun_of_a_sweep_with_an_edited_design_names_the_field(edit, line, sweep_folder, tmp_path):
    d = tmp_path / "sw"
    shutil.copytree(sweep_folder, d)
    m = json.loads((d / "manifest.json").read_text())
    edit(m["sweep"])
    (d / "manifest.json").write_text(json.dumps(m))
    r = runner.invoke(app, ["rerun", str(d), "--out", str(tmp_path / "again")])
    assert r.exit_code == 2
    assert r.output.strip() == f"{d / 'manifest.json'}: {line}"
    assert not (tmp_path / "again").exists()
