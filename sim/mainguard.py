"""Scripts and worker processes: the ``if __name__ == "__main__":`` guard.

Worker processes are started with ``spawn`` (Mesa switches multiprocessing to it), and
a spawned process imports the main script again before it can do any work. A script
whose code calls :func:`sim.run` at its top level, outside an
``if __name__ == "__main__":`` block, would run again in every worker, try to start
workers of its own, and die — which the pool can only report as "a worker process
died". :func:`check_main_guard` finds that case before any process is started and
says what to do.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from .scenario.errors import InputError, Mark, Problem


def _guard_lines(tree: ast.Module) -> list[tuple[int, int]]:
    """Line ranges of the module's top-level ``if __name__ == "__main__":`` blocks."""
    out = []
    for node in tree.body:
        if not isinstance(node, ast.If):
            continue
        t = node.test
        if (isinstance(t, ast.Compare) and len(t.ops) == 1 and isinstance(t.ops[0], ast.Eq)
                and {type(t.left), type(t.comparators[0])} == {ast.Name, ast.Constant}):
            name = t.left if isinstance(t.left, ast.Name) else t.comparators[0]
            const = t.comparators[0] if isinstance(t.left, ast.Name) else t.left
            if name.id == "__name__" and const.value == "__main__":
                out.append((node.body[0].lineno, node.end_lineno or node.lineno))
    return out


def unguarded_call() -> tuple[str, int] | None:
    """Where the main script calls into sim from its top level outside a
    ``__main__`` guard (file, line), or None (a notebook, ``python -c``, a guarded
    script, a call from inside a function, the ``sim`` command)."""
    main = sys.modules.get("__main__")
    file = getattr(main, "__file__", None)
    if main is None or not file or not str(file).endswith(".py"):
        return None
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_globals is vars(main) and frame.f_code.co_name == "<module>":
            break
        frame = frame.f_back
    if frame is None:
        return None  # called from a function the script defines, and the function from elsewhere
    line = frame.f_lineno
    try:
        tree = ast.parse(Path(file).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None
    if any(lo <= line <= hi for lo, hi in _guard_lines(tree)):
        return None
    return str(file), line


def check_main_guard(what: str = "sim.run") -> None:
    """Raise a clear :class:`InputError` if worker processes would re-run the calling script."""
    found = unguarded_call()
    if found is None:
        return
    file, line = found
    raise InputError([Problem(Mark(file, line, 1), "", (
        f"{what} starts worker processes, and each one imports this script again, which would run "
        "this line again and fail ('a worker process died'). Put the script's code under "
        '`if __name__ == "__main__":` (see README, "Scripts and worker processes"), or keep '
        "the run in this process with workers=1 or backend='local'"))])
