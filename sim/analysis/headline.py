"""Model uncertainty beside the headline: how much each probability moves across
plausible inputs, and which inputs move it.

``sim run --uncertainty`` (:func:`sim.workflows.run_with_uncertainty`) keeps the headline numbers
of a plain run — each probability and its Monte Carlo interval, at the file's
values — and adds, from a Latin-hypercube sweep over the scenario's
``uncertainties:`` evaluated in the same vectorized engine, the 10-90% range of the
probability across the parameter sets and the inputs that explain most of that
range (RBD-FAST first-order indices, SALib). It is an option, not the default: a
plain run's outputs stay as they were, and the sweep costs ``sets x runs`` more runs.
"""

from __future__ import annotations

from typing import Any

from .sweep import sweep

DEFAULT_SETS = 64
DEFAULT_RUNS = 500


def _pct(x: float) -> str:
    return "-" if x != x else (f"{100 * x:.1f}%" if x >= 0.001 or x == 0 else "<0.1%")


def model_uncertainty(res: Any, scn: Any, *, sets: int = DEFAULT_SETS, runs: int = DEFAULT_RUNS, seed: int | None = None,
                      levers: list[str] | None = None, **options: Any) -> dict[str, Any]:
    """Run the sweep over the scenario's uncertainties and describe each outcome's range.

    Returns the ``uncertainty`` entry of ``summary.json``: the method, the inputs, and
    per outcome ``p10``, ``p90``, ``mc_share`` (Monte Carlo share of the variance
    across sets), ``drivers`` (inputs with their first-order index and 95% half-width,
    largest first) and ``words``. Without uncertainties it says there are none. A sweep
    stopped before every set ran (Ctrl-C, SIGTERM) gives no ranges: only ``stopped_by`` and
    its ``runs_finished`` of ``runs_requested``.
    """
    inputs = [u.path for u in scn.uncertainties()]
    if not inputs:
        return {"method": None, "inputs": [], "words": "This scenario declares no uncertainties, so only the Monte "
                "Carlo interval is given: the range across plausible inputs needs an uncertainties: section."}
    sw = sweep(scn, "lhs", sets, runs, seed=res.seed if seed is None else seed, months=res.horizon, pull=levers,
               **options)
    if not sw.results.complete:  # stopped (Ctrl-C, SIGTERM): the sets that finished are not the design's range
        return {"stopped_by": sw.results.stopped_by, "runs_finished": sw.results.runs,
                "runs_requested": sw.results.runs_requested}
    nz = sw.noise()
    out: dict[str, Any] = {}
    rows = {r["outcome"]: r for r in res.outcome_rows()}
    for o in sw.outcomes:
        # the indices above zero beyond their intervals and not flagged (noise, outside 0..1): never a noisy one
        drivers = [{"input": n, "S1": v, "S1_conf": c} for n, v, c in sw.drivers(o)][:3]
        r, z = rows[o], nz.loc[o]
        lo, hi = r["ci95"]
        text = (f"{_pct(r['probability'])} ({_pct(lo)}–{_pct(hi)} Monte Carlo); across plausible inputs "
                f"{_pct(z['p10'])}–{_pct(z['p90'])}")
        if drivers:
            text += ", driven mostly by " + " and ".join(d["input"] for d in drivers[:2])
        elif z["variance"] == z["variance"] and z["variance"] > 0:
            text += "; no single input stands out"
        else:
            text += "; the inputs do not move it"
        if z["mc_share"] == z["mc_share"] and z["mc_share"] > 0.8:
            text += (f" (Monte Carlo noise is {100 * z['mc_share']:.0f}% of that spread: the range is mostly noise; "
                     "more runs per set, --uncertainty-runs, would narrow it)")
        elif z["mc_share"] == z["mc_share"] and z["mc_share"] > 0.3:
            text += f" (Monte Carlo noise is {100 * z['mc_share']:.0f}% of that spread: the range is partly noise)"
        out[o] = {"p10": float(z["p10"]), "p90": float(z["p90"]), "mean": float(z["mean"]),
                  "mc_share": float(z["mc_share"]), "drivers": drivers, "words": text + "."}
    return {
        "method": "Latin hypercube over the scenario's uncertainties; first-order indices by RBD-FAST (SALib)",
        "inputs": [{"name": i.name, "describe": i.describe()} for i in sw.inputs],
        "sets": sw.sets,
        "runs_per_set": sw.runs_per_set,
        "seed": sw.seed,
        "outcomes": out,
        "words": (f"Beside each probability: the 10–90% range of that probability across {sw.sets} parameter sets "
                  f"drawn from the scenario's {len(inputs)} uncertainties ({sw.runs_per_set} runs each), and the "
                  "inputs that explain most of it."),
    }
