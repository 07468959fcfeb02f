"""The model's shared formulas, each written once: scalar functions that numba compiles.

A formula takes numbers and gives one number (or one truth value). Written once here, it
is called by the same name three ways:

* from a kernel (``sim.rules.*_kernel``) or any ``@njit`` code, where numba compiles it
  into the caller: ``toll(m, s, z, 1.0)``;
* from a per-replicate loop, compiled the same way (a whole month compiled as one pass
  composes these functions);
* from the rules' numpy code, on arrays: ``contest_success(k, lr)`` runs the same body
  with numpy's functions, elementwise and broadcasting, in the arrays' own precision.

So that both readings agree, a body uses only what numba (on scalars) and numpy (on
arrays) read the same way: arithmetic, comparisons, ``&`` and ``|`` between truth values
(never ``~``, ``not``, ``and``, ``or`` or ``if``), and ``np.exp``, ``np.expm1``,
``np.log``, ``np.rint``, ``np.maximum``, ``np.minimum``. A formula is a plain Python
function (``numba.extending.register_jitable``), so a rule written outside the package
that calls one is shipped to worker processes by reference like any other import.
Compiled and numpy readings may differ in the last bit where they call ``np.exp`` or
``np.log`` (numba and numpy implement them differently): a call site that moves from one
reading to the other moves results in the last bits, and rarely a decision (the compiled
month of ``spells``, :mod:`sim.rules.spells_kernel`, did so; its commit says by how much).

Kernels that call formulas are decorated with :func:`kernel`: numba's disk cache follows
only the source file of the function it compiles, so a kernel would otherwise keep a
stale compiled copy of a formula after the formula changed.

Symbols are those of docs/MODEL.md §Details.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numba import njit
from numba.extending import register_jitable

from ..quickload import quick_load

WAR = 5
"""The top rung of the escalation ladder (docs/MODEL.md §D3)."""

_SOURCE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
"""This file's content: part of the disk-cache stamp of every kernel (see :func:`kernel`)."""
KERNELS: list[Any] = []
"""Every kernel made with :func:`kernel` in this process (:func:`sim.rules.kernels.counts`)."""


def formula(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Make ``fn`` a formula: numba compiles it into any jitted code that calls it; called
    from Python it runs as written, with numpy on arrays (see the module's docstring)."""
    return register_jitable(fn)


def kernel(fn: Callable[..., Any] | None = None, *, also: tuple[str, ...] = ()) -> Any:
    """``njit(cache=True, nogil=True)`` for a rule's kernel, its disk cache kept fresh with
    the formulas it may call (and with ``also``: content hashes of other files whose
    functions it inlines, ``@kernel(also=(...,))``).

    numba stamps a cached function with the source of its own file only: a kernel in
    ``spells_kernel.py`` that calls :func:`toll` would load its old compiled code after
    ``toll`` changed here. The stamp of a kernel compiled through this decorator also
    holds this file's content, so changing a formula recompiles the kernels (and
    :func:`sim.rules.kernels.uncached` lists them). Where numba's internals differ from
    the ones this relies on, the kernel is compiled in every process instead (correct,
    slower to start), with a warning.
    """
    if fn is None:
        return lambda f: kernel(f, also=also)
    compiled = quick_load(depends_on(njit(cache=True, nogil=True)(fn), _SOURCE, *also))
    KERNELS.append(compiled)
    return compiled


def source_hash(path: str | Path) -> str:
    """The content hash of a file, for :func:`kernel`'s ``also``."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def depends_on(compiled: Any, *sources: str) -> Any:
    """Tie the disk cache of a numba function compiled with ``cache=True`` to ``sources``
    too (strings that change when what the function calls changes: the content hash of
    another file): its cached code is used only while they are unchanged."""
    try:
        cache_file = compiled._cache._cache_file
        stamp = cache_file._source_stamp
        cache_file._source_stamp = (stamp, *sources)
    except AttributeError:  # another numba's cache: do not risk stale code, compile every time
        try:
            from numba.core.caching import NullCache

            compiled._cache = NullCache()
        except ImportError:  # pragma: no cover - numba without its caching module
            pass
        warnings.warn(f"{compiled.py_func.__name__}: numba's disk cache could not follow sim.rules.formulas; "
                      "compiling it in every process", RuntimeWarning, stacklevel=3)
    return compiled


# ------------------------------------------------------------------------ formulas


@formula
def chance(rate):
    """1 - e^{-λ}: the probability that something happening at monthly hazard λ happens
    within a month (D3 Λ, D8 h_lift, D9 λ_σ, D10 h_open, h_resume, h_sign)."""
    return -np.expm1(-rate)


@formula
def contest_success(k, x):
    """P_k = c_a^k / (c_a^k + c_b^k) = 1 / (1 + e^{-k x}): the chance that side a wins a
    contest of strength, x = log(c_a / c_b), k the ``decisiveness`` (a war's winner, D3
    and D3a; a limited offensive's seizure, D9)."""
    return 1.0 / (1.0 + np.exp(-k * x))


@formula
def log_ratio(ca, cb):
    """log(c_a / c_b), each capability floored at 1e-9 (a side with none is very weak, not
    infinitely weak): the balance before clipping (D3 ``log_balance``, ``lr_ema``)."""
    return np.log(np.maximum(ca, 1e-9) / np.maximum(cb, 1e-9))


@formula
def balance(lr):
    """x = clip(log(c_a / c_b), -3, 3): the capability balance the initiation terms read
    (D3 η, D9 λ_σ); a side more than e^3 = 20 times stronger gains nothing more."""
    return np.minimum(np.maximum(lr, -3.0), 3.0)


@formula
def weight(c_x, c_self):
    """w_X = c_X / (c_X + c_σ): how much X's help would weigh against side σ (D3
    deterrence: an alliance's leader w_A, a patron w_p, committed support s_ō); the 1e-12
    keeps 0 / 0 at 0."""
    return c_x / (c_x + c_self + 1e-12)


@formula
def toll(median, sigma, z, least):
    """Deaths: round(median · e^{σ_c z}), at least ``least``. Lognormal with median
    ``median`` and log-sd σ_c (``casualty_sigma``), z ~ N(0, 1). A clash that breaks out
    kills at least one (``least`` = 1: D3a median_3, median_4; D9); a month at a rung
    (``ladder``, D3 median_L) or at war (D3a median_5 · T_5) may round to none (0)."""
    return np.maximum(least, np.rint(median * np.exp(sigma * z)))


@formula
def climbs(rung):
    """The up and settlement hazards act: the rung is below war (at war, only the war's
    end moves it; D3, D3a)."""
    return rung < WAR


@formula
def steps_down(rung, floor):
    """The down hazard d0[L] · f_down acts: at rungs 1-4 above the rung floor (0 at L = 0,
    at war, and at L ≤ ``rung_floor``: a blockade holds rung 2; D3, D3a, D8)."""
    return (rung > 0) & (rung < WAR) & (rung > floor)


@formula
def ema(memory, old, new):
    """memory · old + (1 - memory) · new: an exponential moving average (D3 momentum m with
    δ, the balance's average ``lr_ema`` with s)."""
    return memory * old + (1.0 - memory) * new


@formula
def revert(x, base, rate):
    """x + ρ (base - x): a step of reversion towards a baseline (D5 affinities, D6 trust)."""
    return x + rate * (base - x)
