"""A package's submodules without its ``__init__`` (until a name of the package is asked for).

Importing any submodule of a package runs the package's ``__init__`` first, and some
packages' ``__init__`` imports far more than the one module a run needs: ``mesa/__init__.py``
the whole framework (:mod:`sim.world.mesacore`), ``scipy/special/__init__.py`` scipy's
array-API layer (0.3 s on scipy 1.17) before the two functions a distribution's quantiles use
(:meth:`sim.scenario.values.Dist.quantile`).

:func:`package` puts a package in ``sys.modules`` without running its ``__init__``: its
submodules then import as usual. The package gets a module ``__getattr__`` (PEP 562) that
runs the ``__init__`` the first time anything asks for a name it does not hold
(``mesa.DataCollector``, ``scipy.special.__version__``, ``from scipy.special import gamma``):
the package is then the one a plain import makes, with the same submodules and objects,
whoever imports it afterwards. A package imported before is left as it is. Python's import
system only: the same on every version of the package.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from types import ModuleType
from typing import Any

_lock = threading.RLock()


def package(name: str) -> None:
    """Put package ``name`` in ``sys.modules`` without running its ``__init__`` (its parents
    are imported as usual, or must be put there first the same way); nothing where it is
    there already or is no package."""
    with _lock:
        if name in sys.modules:
            return
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None or spec.submodule_search_locations is None:
            return
        module = importlib.util.module_from_spec(spec)
        module.__getattr__ = _completer(module)  # type: ignore[attr-defined]
        sys.modules[name] = module
        parent, _, child = name.rpartition(".")
        if parent:
            set_child(child, module, sys.modules[parent])


def set_child(name: str, module: ModuleType, parent: ModuleType) -> None:
    """``parent.name = module``, as the import system sets a submodule on its package, unless
    the package holds that name already."""
    if name not in vars(parent):
        setattr(parent, name, module)


def forget(prefix: str) -> None:
    """Drop package ``prefix`` and its submodules from ``sys.modules`` (an import that failed
    half way: the next one starts afresh)."""
    with _lock:
        for name in [n for n in sys.modules if n == prefix or n.startswith(prefix + ".")]:
            del sys.modules[name]


def _completer(module: ModuleType):
    """The package's ``__getattr__`` until its ``__init__`` has run: runs it (once), then
    answers from the whole package."""

    def __getattr__(name: str) -> Any:
        with _lock:
            if vars(module).get("__getattr__") is __getattr__:
                del module.__getattr__
                module.__spec__.loader.exec_module(module)  # type: ignore[union-attr]
        return getattr(module, name)

    return __getattr__
