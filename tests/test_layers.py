"""The layers are checked, not hoped for: import-linter contracts (pyproject.toml) and a
scan that the world names no rule."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import sim
from sim.parts import KIND_OF_SECTION, registry

ROOT = Path(sim.__file__).resolve().parent


def test_import_contracts_are_kept():
    lint = Path(sys.executable).parent / "lint-imports"
    r = subprocess.run([str(lint), "--config", str(ROOT.parent / "pyproject.toml")],
                       capture_output=True, text=True, cwd=ROOT.parent)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "BROKEN" not in r.stdout
    kept = [line for line in r.stdout.splitlines() if line.endswith(" KEPT")]
    assert len(kept) >= 5, r.stdout


def _string_constants(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            doc = ast.get_docstring(node, clean=False)
            if doc is not None:
                docstrings.add(doc)
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and n.value not in docstrings]


def test_the_world_names_no_rule():
    reg = registry()
    models = {m for models in reg.rules.values() for m in models}
    params = {f"{k}.{p}" for k, models in reg.rules.items() for d in models.values() for p in d.params.model_fields}
    found = []
    for path in sorted((ROOT / "world").glob("*.py")):
        for text in _string_constants(path):
            if text in KIND_OF_SECTION.values():
                continue  # actor kinds ('alliance'), not the rule of that name
            if text in models or any(p in text for p in params) or text in reg.slots:
                found.append((path.name, text))
    assert found == []


def test_what_a_part_shows_is_declared_not_listed():
    """The recorder, results, the replicate a story or game follows, the Mesa agents, the
    run's set-up and the parameter labels name no state array: what each records, keeps,
    follows and calls its elements comes from the declarations (sim.parts.Shows)."""
    names = set(registry().state)
    found = []
    for rel in ("outcomes/recorder.py", "results.py", "play/track.py", "world/agents.py", "montecarlo.py",
                "report/labels.py"):
        found += [(rel, text) for text in _string_constants(ROOT / rel) if text in names]
    assert found == []


ALLOWED_CYCLES: list[list[str]] = []
"""Import cycles among ``sim`` modules that are allowed, each with why (none today). A cycle
makes the order modules load in matter and hides a layer that is really two; break it (move
the shared piece down) rather than adding it here."""


def test_no_import_cycles_among_sim_modules():
    """The import graph (grimp, as import-linter builds it, imports inside functions included)
    has no cycle that is not on the allow-list."""
    from .structure import cycles, graph

    found = [c for c in cycles(graph()) if c not in ALLOWED_CYCLES]
    assert found == [], "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_no_import_runs_back_up_the_layers():
    """Every module sits in a layer of tests/structure.py's LAYERS (docs/DESIGN.md's order) and
    imports only its own layer and those below, inside functions too."""
    from .structure import graph, layer_of, upward

    g = graph()
    unplaced = sorted(m for m in g.modules if layer_of(m) is None)
    assert unplaced == [], f"modules in no layer of tests/structure.py: {unplaced}"
    assert upward(g) == []


def test_the_checks_above_see_a_cycle_and_an_upward_import():
    import grimp

    from .structure import cycles, upward

    g = grimp.ImportGraph()
    for m in ("sim.parts", "sim.scenario.values", "sim.scenario.expr", "sim.runner"):
        g.add_module(m)
    g.add_import(importer="sim.parts", imported="sim.scenario.values")  # the circle issue 20 found
    g.add_import(importer="sim.scenario.values", imported="sim.scenario.expr")
    g.add_import(importer="sim.scenario.expr", imported="sim.parts")
    g.add_import(importer="sim.runner", imported="sim.parts")
    assert cycles(g) == [["sim.parts", "sim.scenario.expr", "sim.scenario.values"]]
    assert upward(g) == [("sim.parts", "sim.scenario.values")]
