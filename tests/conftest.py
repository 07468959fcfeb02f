"""Shared fixtures: small scenarios written to temporary files, worlds built from them."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.world.compile import compile_plan

# The suite's runs start no background tuning of the kernels (sim.ahead.after_run) in the
# cache they share: tests/test_kernels_ahead.py tests it, each in a cache of its own.
os.environ.setdefault("SIM_TUNE_KERNELS", "0")
from sim.world.model import World
from sim.world.opening import open_world

MINI = """
meta:
  name: mini
  title: Mini world
  start: 2023-07
  horizon_months: 24
  runs: 500
  seed: 7
states:
  aa: {name: A, capability: 2.0, resolve: 0.7, affinity: {cc: 0.8}}
  bb: {name: B, capability: 1.0, resolve: 0.6}
  cc: {name: C, capability: 10.0, available_capacity: 0.5}
  dd: {name: D, capability: 1.0}
alliances:
  pact:
    name: Pact
    leader: cc
    members: [cc, bb, dd]
    credibility: 0.3
    trust: {bb: 0.5}
territories:
  land: {controller: bb, claimants: [aa, bb]}
flashpoints:
  front: {sides: [aa, bb], stakes: land, location: bb, level: 2, mediators: [cc]}
outcomes:
  clash: {kind: escalation, flashpoint: front, reaches: 3}
  war: {kind: escalation, flashpoint: front, reaches: 5}
  taken: {kind: territory, territory: land, controller: aa}
  frozen: {kind: membership, state: bb, alliance: pact, becomes: frozen}
"""


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    """Write a (dedented) scenario file and return its path."""
    p = tmp_path / name
    p.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return p


def make_world(scn: sim.LoadedScenario, n: int = 1000, seed: int = 0, *, rules: bool = True, horizon: int | None = None) -> World:
    """A world of ``n`` replicates for a loaded scenario (rules in its pipeline)."""
    plan = compile_plan(scn.spec, scn.rules, horizon)
    ss = np.random.SeedSequence(seed, spawn_key=(0,))
    return open_world(plan, n, ss, pipeline=None if rules else [])


@pytest.fixture
def mini_path(tmp_path: Path) -> Path:
    return write(tmp_path, MINI)


@pytest.fixture
def mini(mini_path: Path) -> sim.LoadedScenario:
    return sim.load_scenario(mini_path)


def load_text(tmp_path: Path, text: str, overrides=None) -> sim.LoadedScenario:
    return sim.load_scenario(write(tmp_path, text), overrides=overrides)
