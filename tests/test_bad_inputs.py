"""The bad-input catalogue: every mistake in tests/bad_inputs/ gets exactly its message.

Each case is a small file in ``tests/bad_inputs/`` that begins with a comment header::

    # what the mistake is
    # run: validate {file} --set ...     (optional; default: validate {file})
    # expect:
    # {file}:4:17: states.north.capability: expected a number, got the text 'strong'

Files that cannot carry a header (empty, binary, not UTF-8) or that are not files at
all (a directory, a missing path, an oversized file made by the test) have their
header in ``NAME.expect`` instead. Placeholders: ``{file}`` is the case's ``.yaml``,
``{dir}`` the catalogue folder, ``{big}`` a file over the size limit written by the
test, ``{loop}`` a symbolic link to itself and ``{loop_child}`` a scenario that
extends it (made by the test: a looping link in the repository would trip tools that
walk the tree). Files starting with ``_`` are helpers (``_base.yaml`` is the small
valid scenario most cases extend).

No case asserts how long its rejection takes (machines are shared and noisy):
tests/test_yaml_loader.py checks what the loader does with the hostile ones instead
(how many nodes it builds, how deep it composes, what it opens), and
``benchmarks/bench_bad_inputs.py`` prints the time of every case.

Every case goes through the real CLI in-process and must exit with status 2, print no
traceback, and print exactly the expected lines; a few also go through the installed
``sim`` entry point.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.scenario.yamlsafe import MAX_BYTES

HERE = Path(__file__).parent / "bad_inputs"
runner = CliRunner()


@dataclass(frozen=True)
class Case:
    name: str
    title: str
    run: str
    expect: tuple[str, ...]

    @property
    def file(self) -> Path:
        return HERE / f"{self.name}.yaml"

    def args(self, tmp: Path) -> list[str]:
        made = make_placeholders(tmp, self.run)
        text = self.run.replace("{file}", str(self.file)).replace("{dir}", str(HERE))
        args = shlex.split(text)
        for name, path in made.items():
            args = [a.replace("{" + name + "}", str(path)) for a in args]
        return args

    def normalize(self, output: str, tmp: Path) -> list[str]:
        """The output lines with the paths put back as placeholders."""
        out = output.replace(str(self.file), "{file}").replace(str(HERE), "{dir}")
        # longest first: {loop_child} before {loop}'s folder
        for name in ("loop_child", "loop", "big"):
            out = out.replace(str(tmp / PLACEHOLDERS[name]), "{" + name + "}")
        out = out.replace(str(tmp), "{tmp}")
        return [line for line in out.splitlines() if line.strip()]


PLACEHOLDERS = {"big": "big.yaml", "loop": "loop.yaml", "loop_child": "child.yaml"}


def make_placeholders(tmp: Path, run: str) -> dict[str, Path]:
    """Write the files a case's run line names by placeholder, in ``tmp``."""
    made: dict[str, Path] = {}
    for name, file in PLACEHOLDERS.items():
        if "{" + name + "}" not in run:
            continue
        path = tmp / file
        made[name] = path
        if path.exists() or path.is_symlink():
            continue
        if name == "big":
            path.write_text("# padding\n" * (MAX_BYTES // 10 + 1), encoding="utf-8")
        elif name == "loop":
            path.symlink_to("loop.yaml")  # a link to itself
        elif name == "loop_child":
            if not (tmp / "loop.yaml").is_symlink():
                (tmp / "loop.yaml").symlink_to("loop.yaml")
            path.write_text("extends: loop.yaml\nmeta: {name: child}\n", encoding="utf-8")
    return made


def parse_header(name: str, text: str) -> Case:
    title, run, expect = "", "validate {file}", []
    in_expect = False
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        body = line[1:].strip()
        if in_expect:
            if body:
                expect.append(body)
            continue
        if body.startswith("run:"):
            run = body[4:].strip()
        elif body == "expect:":
            in_expect = True
        elif not title:
            title = body
    return Case(name, title, run, tuple(expect))


def load_cases() -> list[Case]:
    cases = []
    for p in sorted(HERE.iterdir()):
        if p.name.startswith("_"):
            continue
        if p.suffix == ".expect":
            cases.append(parse_header(p.stem, p.read_text(encoding="utf-8")))
        elif p.suffix == ".yaml" and not (HERE / f"{p.stem}.expect").exists():
            cases.append(parse_header(p.stem, p.read_text(encoding="utf-8")))
    return cases


CASES = load_cases()
BY_NAME = {c.name: c for c in CASES}


def invoke(case: Case, tmp_path: Path) -> tuple[int, str, BaseException | None]:
    r = runner.invoke(app, case.args(tmp_path))
    return r.exit_code, r.output, r.exception


def test_the_catalogue_is_large_and_well_formed():
    assert len(CASES) >= 45
    for c in CASES:
        assert c.title and c.expect, f"{c.name}: every case needs a title and expected lines"


def test_the_base_scenario_is_valid_and_runs():
    """The cases extend _base.yaml, so each one tests its own mistake only."""
    scn = sim.load_scenario(HERE / "_base.yaml")
    res = sim.run(scn, runs=4, seed=0, months=3)
    assert res.runs == 4


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_gets_its_message(case: Case, tmp_path: Path):
    code, output, exc = invoke(case, tmp_path)
    assert exc is None or isinstance(exc, SystemExit), f"crashed: {exc!r}"
    assert "Traceback" not in output
    got = case.normalize(output, tmp_path)
    assert got == list(case.expect), "\n".join(["got:", *got])
    assert code == 2


FILE_CASES = [c for c in CASES if c.run == "validate {file}"]


@pytest.mark.parametrize("case", FILE_CASES, ids=[c.name for c in FILE_CASES])
def test_sim_run_reports_the_same_lines(case: Case, tmp_path: Path):
    """`sim run` rejects the file before simulating, with the same lines."""
    run_case = Case(case.name, case.title, "run {file} --runs 2 --no-report --out " + str(tmp_path / "out"), case.expect)
    code, output, exc = invoke(run_case, tmp_path)
    assert exc is None or isinstance(exc, SystemExit), f"crashed: {exc!r}"
    assert code == 2 and "Traceback" not in output
    assert case.normalize(output, tmp_path) == list(case.expect)
    assert not (tmp_path / "out").exists()


def _sim_exe() -> str:
    exe = Path(sys.executable).parent / "sim"
    return str(exe) if exe.exists() else shutil.which("sim") or "sim"


SUBPROCESS = [
    "binary_junk",
    "tab_indent",
    "alias_bomb",
    "extends_cycle",
    "option_runs_zero",
    "option_set_no_such_path",
    "several_mistakes_full_file",
    "python_tag",
    "symlink_loop",
    "child_removes_state",
]


@pytest.mark.parametrize("name", SUBPROCESS)
def test_through_the_installed_entry_point(name: str, tmp_path: Path):
    case = BY_NAME[name]
    env = {k: v for k, v in os.environ.items() if k not in ("SIM_SCENARIOS", "SIM_SEEDS")}
    p = subprocess.run(
        [_sim_exe(), *case.args(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env,
    )
    assert p.returncode == 2
    assert "Traceback" not in p.stderr and p.stdout == ""
    assert case.normalize(p.stderr, tmp_path) == list(case.expect)


if __name__ == "__main__":  # pragma: no cover - a helper for writing cases
    # `python -m tests.test_bad_inputs NAME ...` prints what each case prints now, as
    # header lines to paste under `# expect:` (after reading them as a user would).
    import tempfile

    for name in sys.argv[1:] or [c.name for c in CASES]:
        case = BY_NAME[name]
        tmp = Path(tempfile.mkdtemp())
        code, output, _ = invoke(case, tmp)
        print(f"== {name} (exit {code})")
        for line in case.normalize(output, tmp):
            print(f"# {line}")
