"""Mesa's ``Model`` and ``Agent`` without the rest of ``import mesa``.

The world is a Mesa model and its actors Mesa agents: that is all of Mesa a run uses
(``mesa.model`` and ``mesa.agent``, a few hundredths of a second to import). But importing
any submodule of a package runs the package's ``__init__`` first, and ``mesa/__init__.py``
imports the whole framework: its spaces, batch runner, data collector and
``mesa.experimental``, which bring scipy.spatial, pandas and (Mesa 3.5) networkx: about
0.6 s of every process that builds a world, ``sim run``'s and each worker's.

:func:`load` imports ``mesa.agent`` and ``mesa.model`` under a ``mesa`` package whose
``__init__`` has not run yet, and gives that package a module ``__getattr__`` (PEP 562) that
runs it the first time anything asks for a name it does not hold (``mesa.DataCollector``,
``mesa.__version__``, ``mesa.experimental``, ``from mesa import Model``): the package is
then the one ``import mesa`` makes, with the same ``Model`` and ``Agent`` classes, whoever
imports it. Where ``mesa`` was imported before, it is used as it is. Works the same on the
Mesa 3.3 of Python 3.11 and the Mesa 3.5 of Python 3.12+ (it relies on Python's import
system only); tests/test_mesa.py checks both ways round.
"""

from __future__ import annotations

import importlib
import sys
import threading
from typing import Any

from ..lazyimport import forget, package, set_child

LAZY = ("mesa", "mesa.experimental")
"""The packages whose ``__init__`` waits until a name of theirs is asked for: Mesa's, and (Mesa
3.5, whose ``mesa.model`` imports three modules of it) ``mesa.experimental``'s, which imports
its continuous space and so scipy.spatial."""

_lock = threading.RLock()


def load() -> tuple[type, type]:
    """``(mesa.model.Model, mesa.agent.Agent)``, importing no more of Mesa than they need."""
    with _lock:
        if "mesa" not in sys.modules:
            try:
                for name in LAZY:
                    package(name)
                _on_a_short_stack(lambda: (importlib.import_module("mesa.agent"), importlib.import_module("mesa.model")))
            except BaseException:
                forget("mesa")
                raise
        agent = importlib.import_module("mesa.agent")
        model = importlib.import_module("mesa.model")
        for name, sub in (("agent", agent), ("model", model)):  # as the import system sets them
            set_child(name, sub, sys.modules["mesa"])
    return model.Model, agent.Agent


def _on_a_short_stack(imports: Any) -> None:
    """Run ``imports`` on a thread of its own, and wait for it. Mesa names its module loggers
    and its logged methods' classes from the call stack (``inspect.stack()``,
    ``inspect.getouterframes``), which reads the source of every frame of it: from deep in a
    ``sim run`` that was most of the import (~0.06 s); a new thread's stack is a few frames.
    The same names either way (the calling module's and class's)."""
    failed: list[BaseException] = []

    def run() -> None:
        try:
            imports()
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            failed.append(exc)

    thread = threading.Thread(target=run, name="sim-mesa-import", daemon=True)
    thread.start()
    thread.join()
    if failed:
        raise failed[0]
