"""The shipped calibration reaches the rules and the scenarios: fitted defaults, and the
coefficients the panel does not identify as declared uncertainties (scenarios/base.yaml)."""

from __future__ import annotations

import typing

import pytest

from sim import api
from sim.rules import fitted
from sim.rules.offensive import OffensiveParams
from sim.rules.spells import SpellParams
from sim.scenario.values import Bounds

CLASSES = {"escalation": SpellParams, "offensive": OffensiveParams}


def _bounds(rule: str, name: str) -> Bounds:
    ann = typing.get_type_hints(CLASSES[rule], include_extras=True)[name]
    return next(m for m in ann.__metadata__ if isinstance(m, Bounds))


def test_the_calibration_file_ships_and_its_values_are_the_rules_defaults():
    assert fitted.FILE.exists()
    for key in ("escalation.beta_peace", "escalation.beta_land", "offensive.base_rate", "offensive.war_risk"):
        rule, name = key.split(".")
        p = getattr(CLASSES[rule](), name)
        assert float(p.value) == pytest.approx(fitted.entry(key)["value"]), key
        assert p.source.kind == "calibration" and p.source.note.startswith("hindcast-dyad-years: "), key


@pytest.mark.parametrize("scenario", ["karabakh", "kyrgyz_tajik", "suppliers", "alignment", "tajik_afghan"])
def test_every_unidentified_coefficient_is_a_declared_uncertainty_over_its_interval(scenario):
    unc = api.load_scenario(scenario).spec.uncertainties
    expected = fitted.uncertain()
    assert expected, "the shipped calibration identifies everything?"
    for key, (lo, hi) in expected.items():
        _, rule, name = key.split(".")
        b = _bounds(rule, name)
        lo, hi = max(lo, b.lo), min(hi, b.hi)
        assert key in unc, f"{scenario}: {key} is not declared an uncertainty"
        low, high = unc[key]["uniform"]
        assert low <= 0.0 <= high, (key, low, high)  # the range includes no effect
        assert low == pytest.approx(lo, abs=1e-3) and high == pytest.approx(hi, abs=1e-3), (key, unc[key])
        assert unc[key]["source"]["calibration"].startswith("hindcast-dyad-years: ")


def test_base_yaml_declares_the_block_the_shipped_calibration_writes():
    """scenarios/base.yaml's uncertainties are what ``sim calibrate`` writes (uncertainties.yaml)
    for the shipped calibration, line for line: a refit is pasted, not retyped."""
    from pathlib import Path

    from sim.analysis import calibration as C

    block = C.uncertainties_yaml(C.Calibration.read(fitted.FILE))
    base = (Path(__file__).resolve().parents[1] / "scenarios" / "base.yaml").read_text()
    assert block.strip() and block in base
