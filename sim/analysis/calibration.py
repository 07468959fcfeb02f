"""``sim calibrate``: fit the generic hazard coefficients on a dyad-year panel, and the file they live in.

:func:`calibrate` runs the two blocks of :mod:`sim.analysis.panelfit` (how often disputes
start, exact likelihood; how far they go, corrected exact likelihood), the first again once
the second is known (a dispute running at the start must end before a new one starts), and
the share of disputes that MID codes as a use of force without deaths. The result is a
:class:`Calibration`, written as JSON; the shipped one (``sim/rules/calibration.json``,
key ``hindcast-dyad-years`` in docs/CALIBRATION.md) is what the rules' defaults read
(:mod:`sim.rules.fitted`). A coefficient whose 95% interval includes 0 is not identified
by the panel: it keeps its estimate as default and becomes a declared uncertainty over its
interval (``uncertainties()``), so that sweeps and ``sim run --uncertainty`` show what it may do.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import dyadyear, onset, panelfit

KEY = "hindcast-dyad-years"
FIXED = {
    "escalation.beta_advantage": "not separately identified from beta_preponderance on the panel (both read the "
                                 "balance in the same place); kept at the ladder's assumption",
    "escalation.beta_resolve": "resolve is not in the panel (every side neutral); kept at its assumption",
    "escalation.base_up[3]": "the panel has no count of deaths beyond 'fatal'; kept at the mid-spells fit "
                             "(disputes with more than 25 dead, GML-MID 1992-2010)",
    "escalation.base_down": "durations are not in the panel (a year is longer than most disputes): rung 2's "
                            "standing exit rate fitted with the incidents on GML-MID durations of 1946-1991 "
                            "(mid-durations-1946-1991), the clashes' at their assumptions",
    "escalation.standing_share": "fitted on GML-MID durations of 1946-1991 (mid-durations-1946-1991)",
    "escalation.incident_down": "fitted on GML-MID durations of 1946-1991 (mid-durations-1946-1991)",
    "offensive.decisiveness": "who wins an offensive is not in the panel; kept at its assumption",
    "offensive.beta_resolve": "resolve is not in the panel; kept at its assumption",
}
"""Parameters of the fitted rules the panel does not reach, and why."""

MECHANISMS = {
    "escalation": {k: 0.0 for k in ("beta_land", "beta_sea", "beta_far", "beta_major", "beta_allied",
                                    "beta_preponderance", "beta_deterrence", "beta_advantage", "gamma_sea",
                                    "gamma_far")},
    "offensive": {"beta_balance": 0.0, "beta_isolation": 0.0},
}
"""The mechanisms' terms (reach, power, alliances, balance, deterrence): held at 0 by an
ablation (``sim calibrate --ablation``), which leaves the history terms and base rates to
fit, so a hindcast scores what the mechanisms add."""

IDENTIFIES = {
    "base_up[0]": "onset: the rate tension starts (with base_up[1] the yearly onset rate)",
    "base_up[1]": "onset: the rate tension turns militarized",
    "beta_peace": "onset by years at peace", "beta_recent": "onset by disputes in the past ten years",
    "beta_fatal_last": "onset after a fatal year", "beta_force_last": "onset after a year with force or war",
    "beta_territorial": "onset when the last dispute was over territory",
    "beta_land": "onset of land neighbours", "beta_sea": "onset across up to 24 miles of water",
    "beta_far": "onset across up to 400 miles of water", "beta_major": "onset by major powers involved",
    "beta_allied": "onset between treaty allies", "beta_preponderance": "onset by the capability ratio",
    "beta_deterrence": "onset by each side's major-power ally (expected help)",
    "persistence": "ongoing: disputes of the year before still running on 1 January",
    "base_up[2]": "fatal share of disputes", "base_up[4]": "war share of disputes",
    "gamma_fatal_last": "fatal share after a fatal year", "gamma_territorial": "fatal share of territorial dyads",
    "gamma_sea": "fatal share across up to 24 miles of water", "gamma_far": "fatal share across up to 400 miles of water",
    "offensive.base_rate": "occupation-or-seizure share of disputes",
    "offensive.war_risk": "war and seizure shares among offensives",
    "offensive.beta_balance": "occupation share by the capability ratio",
    "offensive.beta_isolation": "occupation share by the sides' major-power allies",
    "offensive.beta_territorial": "occupation share of disputes over territory",
    "force_share": "force share of disputes without deaths",
}


@dataclass
class Calibration:
    """Fitted values with 95% intervals, keyed ``rule.parameter`` (``escalation.beta_peace``,
    ``escalation.base_up[0]``, ``offensive.war_risk``) or ``hindcast.NAME`` for the template's own."""

    values: dict
    lo: dict
    hi: dict
    identified: dict
    panel: dict = field(default_factory=dict)
    fit: dict = field(default_factory=dict)
    fixed: dict = field(default_factory=lambda: dict(FIXED))

    def to_json(self) -> str:
        return json.dumps({"key": KEY, **asdict(self)}, indent=1, sort_keys=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Calibration:
        d = json.loads(text)
        d.pop("key", None)
        return cls(**d)

    @classmethod
    def read(cls, path: str | Path) -> Calibration:
        return cls.from_json(Path(path).read_text())

    def rules(self) -> dict:
        """The fitted values as rule settings: ``{"escalation": {...}, "offensive": {...}}`` (base_up
        entries as ``base_up[i]``; merge them over a full vector with :func:`merge_rules`)."""
        out: dict = {}
        for k, v in self.values.items():
            rule, _, name = k.partition(".")
            if rule in ("escalation", "offensive"):
                out.setdefault(rule, {})[name] = v
        return out

    def uncertainties(self) -> dict:
        """Declared uncertainties of the parameters the panel does not identify: ``{path: (lo, hi)}``."""
        return {f"rules.{k}": (self.lo[k], self.hi[k]) for k, ok in self.identified.items() if not ok}


def merge_rules(defaults: dict, fitted: dict) -> dict:
    """Rule settings ``defaults`` (full values) with ``fitted`` (``base_up[i]`` entries allowed) put in."""
    out = {k: dict(v) for k, v in defaults.items()}
    for rule, vals in fitted.items():
        tgt = out.setdefault(rule, {})
        for name, v in vals.items():
            if name.startswith("base_up["):
                up = list(tgt.get("base_up"))
                up[int(name[8])] = v
                tgt["base_up"] = up
            else:
                tgt[name] = v
    return out


def _template_rules(extra: dict | None = None) -> dict:
    """The escalation and offensive rules' full parameter values in the template (defaults, then ``extra``)."""
    from .. import api

    scn = api.load_scenario(dyadyear.template())
    base = {k: {n: (list(p.value) if isinstance(p.value, tuple) else p.value) for n, p in scn.rules[k].params.items()}
            for k in ("escalation", "offensive")}
    return merge_rules(base, extra or {})


def _block1_values(fit: panelfit.BlockFit) -> dict:
    return {("escalation." + k if k != "persistence" else "hindcast.persistence"): v for k, v in fit.values.items()}


def calibrate(panel, *, boot: int = 2000, seed: int = 1, runs: int = 200, verbose: bool = False,
              start: dict | None = None, fix: dict | None = None) -> Calibration:
    """Fit block 1, block 2, block 1 again and the force share on ``panel`` (a DataFrame with the
    feature and outcome columns: the training rows). ``fix``: ``{rule: {name: value}}`` held
    fixed and not fitted (an ablation switches mechanisms' terms off this way)."""
    t0 = time.perf_counter()
    rules = _template_rules(start)
    fixed = fix or {}
    rules = merge_rules(rules, fixed)
    frozen = {f"{r}.{n}" for r, vals in fixed.items() for n in vals}
    onsets = panel[panel["onset"] == 1].reset_index(drop=True)
    dz = onset.design(panel, rules)
    log = {}

    def base_rates(rules: dict) -> onset.Rates:
        return onset.Rates.of(rules["escalation"], rules["offensive"])

    def free1(fit_vals: dict) -> dict:
        return {k: v for k, v in fit_vals.items() if f"escalation.{k}" not in frozen}

    b1 = panelfit.fit_onset(panel, base_rates(rules), dz=dz, boot=boot, seed=seed, verbose=verbose,
                            free=[k for k in panelfit.ONSET_FREE if f"escalation.{k}" not in frozen])
    rules = merge_rules(rules, {"escalation": {k: v for k, v in free1(b1.values).items() if k != "persistence"}})
    start2 = {k: (rules["escalation"]["base_up"][int(k[8])] if k.startswith("base_up[") else
                  rules["offensive"][k.split(".", 1)[1]] if k.startswith("offensive.") else rules["escalation"][k])
              for k in panelfit.ESC_FREE}
    b2 = panelfit.fit_escalation(onsets, base_rates(rules), rules, start2, seed=seed + 6, boot=boot, runs=runs,
                                 verbose=verbose, free=[k for k in panelfit.ESC_FREE if
                                                        (k if k.startswith("offensive.") else f"escalation.{k}")
                                                        not in frozen])
    rules = merge_rules(rules, _as_rules(b2.values))
    b1 = panelfit.fit_onset(panel, base_rates(rules), start={**b1.values}, dz=dz, boot=boot, seed=seed,
                            verbose=verbose, free=[k for k in panelfit.ONSET_FREE if f"escalation.{k}" not in frozen])
    rules = merge_rules(rules, {"escalation": {k: v for k, v in free1(b1.values).items() if k != "persistence"}})
    sim = panelfit.simulate_disputes(onsets, rules, runs=runs, seed=seed + 6)
    esc, force = float(sim["escalated"].mean()), float(onsets["onset_force"].mean())
    share = float(np.clip((force - esc) / max(1.0 - esc, 1e-9), 0.0, 1.0))
    log["force_share"] = {"onset_force": force, "simulated_escalated": esc}
    values, lo, hi, ident = {}, {}, {}, {}
    for fit, name_of in ((b1, lambda k: "hindcast.persistence" if k == "persistence" else f"escalation.{k}"),
                         (b2, lambda k: k if k.startswith("offensive.") else f"escalation.{k}")):
        for k, v in fit.values.items():
            key = name_of(k)
            if key in frozen:
                continue
            values[key], lo[key], hi[key] = v, fit.lo[k], fit.hi[k]
            ident[key] = fit.identified(k)
    values["hindcast.force_share"] = share
    lo["hindcast.force_share"] = hi["hindcast.force_share"] = share
    ident["hindcast.force_share"] = True
    events = {c: int(panel[c].sum()) for c in ("onset", "onset_force", "onset_fatal", "onset_war",
                                                "onset_occupation", "onset_occupy", "ongoing")}
    years = (int(panel["year"].min()), int(panel["year"].max()))
    from .panel import FORECAST_OUTCOMES, scored_rows

    rates = {k: float(panel[k].to_numpy(dtype=float)[scored_rows(panel, k)].mean())
             for k in FORECAST_OUTCOMES if k in panel.columns and scored_rows(panel, k).any()}
    return Calibration(values, lo, hi, ident,
                       panel={"rows": int(len(panel)), "years": f"{years[0]}-{years[1]}", "events": events,
                              "base_rates": rates},
                       fit={"seconds": time.perf_counter() - t0, "block1": {"loglik": b1.loglik, **b1.notes},
                            "block2": {"loglik": b2.loglik, **b2.notes}, **log, "fixed": fixed})


def _as_rules(values: dict) -> dict:
    out: dict = {"escalation": {}, "offensive": {}}
    for k, v in values.items():
        if k.startswith("offensive."):
            out["offensive"][k.split(".", 1)[1]] = v
        else:
            out["escalation"][k] = v
    return out


def rules_of(cal: Calibration) -> dict:
    """The template's full escalation and offensive settings with a calibration's values put in."""
    fitted = {"escalation": {}, "offensive": {}}
    for k, v in cal.values.items():
        rule, _, name = k.partition(".")
        if rule in fitted:
            fitted[rule][name] = v
    return merge_rules(_template_rules(), fitted)


def template_inputs(cal: Calibration) -> dict[str, Any]:
    """The template's own fitted values (persistence, force share) as :func:`sim.analysis.hindcast.forecast` takes them."""
    return {"persistence": cal.values.get("hindcast.persistence", dyadyear.PERSISTENCE),
            "force_share": cal.values.get("hindcast.force_share", 0.65)}


def markdown(cal: Calibration) -> str:
    """The fitted values as a Markdown table (docs/CALIBRATION.md): value, 95% interval, what
    identifies it, and whether the panel does."""
    rows = ["| parameter | value | 95% interval | identified by | identified |", "|---|---|---|---|---|"]
    for k, v in cal.values.items():
        name = k.split(".", 1)[1] if k.startswith(("escalation.", "hindcast.")) else k
        what = IDENTIFIES.get(k, IDENTIFIES.get(name, ""))
        ok = "yes" if cal.identified.get(k, True) else "**no**: a declared uncertainty over its interval"
        rows.append(f"| `{k}` | {v:.4g} | {cal.lo[k]:.4g} to {cal.hi[k]:.4g} | {what} | {ok} |")
    return "\n".join(rows) + "\n"


def uncertainties_yaml(cal: Calibration) -> str:
    """The ``uncertainties:`` entries scenarios/base.yaml declares for the parameters the panel
    does not identify: uniform over the 95% interval clipped to the parameter's bounds (a range
    that includes no effect), in the order of the fit (``sim calibrate`` writes it as
    uncertainties.yaml; tests/test_fitted_uncertainties.py checks base.yaml against the shipped file)."""
    import typing

    from ..rules.offensive import OffensiveParams
    from ..rules.spells import SpellParams
    from ..scenario.values import Bounds

    classes = {"escalation": SpellParams, "offensive": OffensiveParams}

    def g(x: float) -> str:
        return "0" if x == 0 else f"{x:.4g}"

    lines = []
    for k in cal.values:
        rule, _, name = k.partition(".")
        if cal.identified.get(k, True) or rule not in classes:
            continue
        ann = typing.get_type_hints(classes[rule], include_extras=True)[name]
        b = next(m for m in ann.__metadata__ if isinstance(m, Bounds))
        lo, hi = cal.lo[k], cal.hi[k]
        clo, chi = max(lo, b.lo), min(hi, b.hi)
        clip = ", clipped to the parameter bounds" if (clo, chi) != (lo, hi) else ""
        what = IDENTIFIES.get(k, IDENTIFIES.get(name, name))
        lines.append(f'  rules.{k}: {{uniform: [{g(clo)}, {g(chi)}], source: {{calibration: "{KEY}: {what}; not '
                     f'identified by the panel (95% interval {lo:.3g} to {hi:.3g}{clip})"}}}}')
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - a maintenance script
    import argparse

    ap = argparse.ArgumentParser(description="Print a calibration file's parameters as a Markdown table.")
    ap.add_argument("file")
    a = ap.parse_args(argv)
    print(markdown(Calibration.read(a.file)), end="")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
