"""Scripts and worker processes: a script without a ``__main__`` guard is told what to do."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from .conftest import MINI, write

UNGUARDED = """
import sim
res = sim.run(sim.load_scenario({path!r}), runs=40, chunk_size=10, backend="processes", workers=2)
print("P", res.runs)
"""

GUARDED = """
import sim

def main():
    res = sim.run(sim.load_scenario({path!r}), runs=40, chunk_size=10, backend="processes", workers=2)
    print("P", res.runs)

if __name__ == "__main__":
    main()
"""


def _script(tmp_path, body: str, name: str):
    scn = write(tmp_path, MINI)
    p = tmp_path / name
    p.write_text(textwrap.dedent(body.format(path=str(scn))), encoding="utf-8")
    return subprocess.run([sys.executable, str(p)], capture_output=True, text=True, timeout=300, cwd=tmp_path)


def test_a_script_without_a_main_guard_is_told_what_to_do(tmp_path):
    r = _script(tmp_path, UNGUARDED, "unguarded.py")
    assert r.returncode != 0
    assert "unguarded.py:3:1: sim.run starts worker processes" in r.stderr
    assert 'if __name__ == "__main__":' in r.stderr and "workers=1" in r.stderr
    assert "out of memory" not in r.stderr and "bootstrapping phase" not in r.stderr  # the old, misleading report


def test_a_guarded_script_runs_on_worker_processes(tmp_path):
    r = _script(tmp_path, GUARDED, "guarded.py")
    assert r.returncode == 0, r.stderr
    assert "P 40" in r.stdout
