"""Measures of the package's structure: import cycles, imports that run back up the layers,
the share of imports inside functions, the command line's size and the longest function.

``python -m tests.structure`` prints them (the figures a refactor reports before and after);
``tests/test_layers.py`` uses :func:`graph` and :func:`cycles` to fail on a new cycle.

Definitions:

- The graph is the one import-linter checks (grimp, ``sim`` only), with the imports inside
  functions included: a lazy import still makes one module need another.
- A cycle is a strongly connected component of more than one module (a set of modules each
  of which reaches every other); its size is the number of modules in it.
- An upward import goes from a module to one in a higher layer of :data:`LAYERS` (the order
  of docs/DESIGN.md section 2, lowest first); imports within a layer are not counted.
- An in-function import is an ``import``/``from`` statement of a ``sim`` module inside a
  function's body (``TYPE_CHECKING`` blocks do not count: they never run); counted as
  statements, and as pairs of modules one imports from the other only inside functions.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "sim"

LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("ground floor", ("sim.paths", "sim.seeding", "sim.seeding_kernel", "sim.kernel_modules", "sim.interrupts", "sim.files", "sim.parts", "sim.version", "sim.lazyimport", "sim.collector", "sim.csvtext", "sim.quickload")),
    ("scenario", ("sim.scenario",)),
    ("evidence", ("sim.evidence",)),
    ("world", ("sim.world",)),
    ("rules", ("sim.rules", "sim.ahead")),
    ("outcomes", ("sim.outcomes",)),
    ("loading", ("sim.arguments", "sim.inputs", "sim.loading", "sim.provenance", "sim.outputs", "sim.docs")),
    ("runner", ("sim.runner", "sim.mainguard")),
    ("results", ("sim.results", "sim.replicates", "sim.trajectories")),
    ("engine", ("sim.montecarlo", "sim.budget", "sim.precompile")),
    ("report", ("sim.report",)),
    ("facade", ("sim.api",)),
    ("analysis", ("sim.analysis", "sim.ema")),
    ("play", ("sim.play",)),
    ("workflows", ("sim.workflows", "sim.manifests", "sim.guide")),
    ("classroom", ("sim.webserve", "sim.classroom")),
    ("package", ("sim",)),
    ("dashboard", ("sim.dashboard",)),
    ("command line", ("sim.cli", "sim.cli_research")),
]
"""The layers, lowest first: a module may import its own layer and those below."""


def layer_of(module: str) -> int | None:
    best, level = -1, None
    for i, (_, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and len(p) > best:
                best, level = len(p), i
    return level


def graph():
    """The import graph of ``sim`` (grimp), imports inside functions included."""
    import grimp

    return grimp.build_graph("sim", include_external_packages=False, exclude_type_checking_imports=True,
                             cache_dir=None)


def edges(g=None) -> set[tuple[str, str]]:
    g = g or graph()
    return {(m, i) for m in g.modules for i in g.find_modules_directly_imported_by(m)}


def cycles(g=None) -> list[list[str]]:
    """The strongly connected components of more than one module, each sorted, largest first."""
    succ: dict[str, set[str]] = defaultdict(set)
    nodes: set[str] = set()
    for a, b in edges(g):
        succ[a].add(b)
        nodes |= {a, b}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:  # Tarjan, iterative over each node's successors
        work = [(v, iter(sorted(succ[v])))]
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        while work:
            node, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(succ[w]))))
                    break
                if w in on:
                    low[node] = min(low[node], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == node:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return sorted(out, key=lambda c: (-len(c), c))


def upward(g=None) -> list[tuple[str, str]]:
    """Imports from a module to one in a higher layer."""
    out = []
    for a, b in sorted(edges(g)):
        la, lb = layer_of(a), layer_of(b)
        if la is not None and lb is not None and lb > la:
            out.append((a, b))
    return out


def _module_name(path: Path, root: Path = ROOT) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom | ast.Import) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    base = module.split(".") if is_package else module.split(".")[:-1]
    if node.level:
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    return [target]


def imports(root: Path = ROOT) -> list[tuple[str, str, bool]]:
    """Every import statement of a ``sim`` module by a ``sim`` module: (importer, imported,
    inside a function)."""
    out = []
    for path in sorted(root.rglob("*.py")):
        module = _module_name(path, root)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_package = path.name == "__init__.py"

        def walk(node: ast.AST, in_function: bool, type_checking: bool, module: str = module,
                 is_package: bool = is_package) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                    for c in child.orelse:
                        walk(c, in_function, type_checking)
                    continue
                if isinstance(child, ast.Import | ast.ImportFrom):
                    for target in _resolve(module, is_package, child):
                        if target == "sim" or target.startswith("sim."):
                            out.append((module, target, in_function))
                    continue
                walk(child, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda),
                     type_checking)

        walk(tree, False, False)
    return out


def functions(root: Path = ROOT) -> list[tuple[int, str]]:
    """(lines, module.function) of every function and method, longest first."""
    out = []
    for path in sorted(root.rglob("*.py")):
        module = _module_name(path, root)
        tree = ast.parse(path.read_text(encoding="utf-8"))

        def walk(node: ast.AST, prefix: str, module: str = module) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                    out.append((child.end_lineno - child.lineno + 1, f"{module}.{prefix}{child.name}"))
                    walk(child, f"{prefix}{child.name}.")
                elif isinstance(child, ast.ClassDef):
                    walk(child, f"{prefix}{child.name}.")
                else:
                    walk(child, prefix)

        walk(tree, "")
    return sorted(out, reverse=True)


def code_lines(path: Path) -> int:
    """Lines of a file that are code: not blank, not comments, not docstrings."""
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    doc: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                doc.update(range(first.lineno, first.end_lineno + 1))
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            doc.update(range(node.lineno, node.end_lineno + 1))  # an attribute's docstring
    return sum(1 for i, line in enumerate(text.splitlines(), 1)
               if line.strip() and not line.strip().startswith("#") and i not in doc)


def cli_lines(root: Path = ROOT) -> dict[str, tuple[int, int]]:
    """(lines, code lines) of each file of the command line."""
    files = [root / "cli.py", root / "cli_research.py", *sorted((root / "cli").glob("*.py"))]
    return {str(f.relative_to(root.parent)): (len(f.read_text(encoding="utf-8").splitlines()), code_lines(f))
            for f in files if f.is_file()}


def main() -> int:
    g = graph()
    cyc = cycles(g)
    print(f"import cycles (strongly connected groups of modules): {len(cyc)}")
    for c in cyc:
        print(f"  {len(c)} modules: {', '.join(c)}")
    up = upward(g)
    print(f"upward imports (to a higher layer): {len(up)}")
    for a, b in up:
        print(f"  {a} -> {b}")
    imp = imports()
    inside = sum(1 for *_, f in imp if f)
    print(f"imports of sim modules inside functions: {inside} of {len(imp)} statements ({100 * inside / max(len(imp), 1):.0f}%)")
    pairs = {(a, b) for a, b, _ in imp}
    lazy = pairs - {(a, b) for a, b, f in imp if not f}
    print(f"  {len(lazy)} of {len(pairs)} (importer, imported) pairs only inside functions ({100 * len(lazy) / max(len(pairs), 1):.0f}%)")
    lines = cli_lines()
    print(f"command line: {sum(n for n, _ in lines.values())} lines ({sum(c for _, c in lines.values())} of code: "
          f"no blank lines, comments or docstrings) in {len(lines)} files")
    for f, (n, c) in lines.items():
        print(f"  {n:5d} {c:5d} {f}")
    fs = functions()
    print("longest functions:")
    for n, name in fs[:5]:
        print(f"  {n:4d} {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
