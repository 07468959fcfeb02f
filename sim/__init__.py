"""sim: scenario and wargame simulation kit for Eurasian security.

The Python API is the one the CLI uses::

    import sim
    scn = sim.load_scenario("karabakh")            # a path or a shipped name
    res = sim.run(scn, runs=5000, seed=1)
    res.probabilities()                            # pandas DataFrame
    sim.save(res, "outputs/karabakh/my-run")     # data files, figures, report.html
    sw = sim.sweep(scn, "sobol", samples=64, runs=200)   # all parameter sets in one Monte Carlo
    cmp = sim.compare(scn, b_levers=["armenia.freeze_csto"])  # common random numbers
    ev = sim.evaluate(scn, design, runs=200)      # your own parameter sets, one Monte Carlo
    opt = sim.optimize(scn, minimize=["new_war"], robustness="regret")  # robust policy search
"""

import time as _time

STARTED = _time.perf_counter()
"""When the package began to load: the ``sim`` command's own start (its run footer counts
start-up from here, not from the process's start)."""

from .ahead import start as _compile_ahead  # noqa: E402  (the standard library only)

_compile_ahead()  # first thing: on a new install the kernels compile in the background meanwhile (sim.ahead)

# isort: split
from .analysis.backtest import backtest  # noqa: E402
from .analysis.compare import compare  # noqa: E402
from .analysis.evaluate import evaluate  # noqa: E402
from .analysis.optimize import optimize  # noqa: E402
from .analysis.sweep import sweep  # noqa: E402
from .api import LoadedScenario, find_scenario, list_scenarios, load_scenario, run, save  # noqa: E402
from .scenario.errors import InputError  # noqa: E402
from .version import __version__  # noqa: E402

__all__ = ["InputError", "LoadedScenario", "__version__", "backtest", "compare", "evaluate", "find_scenario",
           "list_scenarios", "load_scenario", "optimize", "run", "save", "sweep"]
