"""A dyad-year as a scenario: the template every row of a dyad-year panel becomes.

One template, many rows: every row of the panel (``shared/data/dyad_years_1946_2002.csv``,
or any file with its feature columns) is the same small scenario — two states ``a``
(ccode1) and ``b`` (ccode2), a flashpoint between them with a territory at stake, and for
each side a major-power ally — and rows differ only in parameter values (and in levers
switched on per replicate, as a sweep switches them). The mapping below is the whole of it;
docs/CALIBRATION.md ("hindcast") prints it. No parameter is set per dyad by hand.

Replicates are laid out by row: with R runs per row, replicate i belongs to row i // R
(as a sweep's parameter sets). Within a row, two things are split evenly rather than
drawn: which side holds the land at stake (replicates of even index: a; odd: b), and for
a dyad in a dispute at the start, the share of runs whose dispute is still running on
1 January (:data:`PERSISTENCE` of them start at rung 2, the rest at rung 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..runner import LEVER_PREFIX, PerSet

MAJOR_ALLY_CINC = 0.0995
"""Capability (CINC) of a side's major-power ally: the median CINC of the major powers'
state-years in the panel, 1946-2002 (305 state-years; the panel does not say which major
power a side is allied with)."""
ALLY_CREDIBILITY = 0.22
"""P(an ally answers a request for help): allies honoured their commitments in 22% of the
wars that invoked them in 1945-2003 (Berkemeier & Fuhrmann 2018; docs/CALIBRATION.md,
``alliance-prior``)."""
PERSISTENCE = 0.5
"""Share of the runs of a dyad in a dispute the year before whose dispute still runs on
1 January (the rest start at rung 1, tension). Fitted on the panel's ``ongoing`` column
(docs/CALIBRATION.md); this is the value before the fit."""
MEDIAN_CINC = 0.0053
"""Median CINC of the panel's state-years: the capability of a side whose CINC is missing
when the other side's is missing too."""

SIDES = ("a", "b")


@dataclass(frozen=True)
class Feature:
    """One line of the mapping: panel column(s) -> what the template takes from them."""

    columns: str
    target: str
    how: str
    missing: str


MAPPING: tuple[Feature, ...] = (
    Feature("cinc1, cinc2", "states.a.capability, states.b.capability",
            "CINC (COW National Material Capabilities): the standard capability measure of the dyadic "
            "conflict literature, known for 98% of rows (military spending is missing more often and is "
            "in current dollars); only the ratio enters the hazards, absolute values the weight of allies",
            "the other side's CINC (parity); both missing: the panel's median CINC"),
    Feature("major1, major2", "states.a.major_power, states.b.major_power", "0/1 as given", "-"),
    Feature("conttype", "flashpoints.f.contiguity", "COW contiguity type 1-6 as given", "-"),
    Feature("defense_pact", "lever a.pact (alliances.pact.members += a, b)",
            "the sides are treaty allies: both active members of one collective-defence alliance", "-"),
    Feature("def_major1, def_major2", "levers a.major_ally, b.major_ally",
            "the side is a member of an alliance led by a major power (capability MAJOR_ALLY_CINC, "
            "credibility ALLY_CREDIBILITY): it deters the other side (MODEL.md D3)", "-"),
    Feature("mid_ongoing_prev", "flashpoints.f.level",
            "1: in a dispute at the start: rung 2 in a share PERSISTENCE of the runs, rung 1 in the rest; "
            "0: rung 0", "-"),
    Feature("peace_years", "flashpoints.f.peace_years", "as given (capped at 50)", "-"),
    Feature("mids_past10", "flashpoints.f.disputes_past10", "as given", "-"),
    Feature("fatal_prev", "flashpoints.f.last_fatal", "as given (the running dispute's eventual peak: a history "
            "covariate, not last year's rung)", "-"),
    Feature("hostlev_prev", "flashpoints.f.last_hostility", "as given (0, 2-5)", "-"),
    Feature("terr_prev", "flashpoints.f.territorial", "as given",
            "the share of territorial disputes among rows that have one (TERRITORIAL_MISSING)"),
)
"""The mapping from a panel row to the template's inputs (printed in docs/CALIBRATION.md)."""

TERRITORIAL_MISSING = 0.108
"""``territorial`` of a row whose ``terr_prev`` is empty: the share of rows with terr_prev = 1
among the rows that have it (6,391 / 59,271 in the shared panel)."""

_SRC = {"calibration": "hindcast-dyad-years: a row's value in the dyad-year template (docs/CALIBRATION.md)"}


def template(rules: dict | None = None) -> dict:
    """The scenario every row becomes, as plain data (values of one row are filled in per
    replicate by :func:`row_inputs`). ``rules``: settings per slot, merged over the template's."""
    def v(x: Any) -> dict:
        return {"value": x, "source": _SRC}

    def state(name: str, cap: float, major: int) -> dict:
        return {"name": name, "capability": v(cap), "resolve": v(0.5), "major_power": v(major)}

    own = {
        "escalation": {"model": "spells"}, "offensive": {"model": "fait_accompli"},
        "alliance": {"model": "response"}, "history": {"model": "record"},
        "talks": {"model": "off"}, "patronage": {"model": "off"}, "alignment": {"model": "off"},
        "membership": {"model": "off"}, "procurement": {"model": "off"}, "blockade": {"model": "off"},
    }
    for slot, setting in (rules or {}).items():  # vectors as lists: the scenario is data (a worker validates it again)
        own[slot] = {**own.get(slot, {}), **{k: (list(v) if isinstance(v, tuple | np.ndarray) else v)
                                              for k, v in setting.items()}}
    return {
        "meta": {"name": "dyad_year", "title": "A dyad-year of the panel", "start": "2000-01",
                 "horizon_months": 12,
                 "description": "The template every row of a dyad-year panel becomes (sim.analysis.dyadyear)."},
        "states": {"a": state("A (ccode1)", 1.0, 0), "b": state("B (ccode2)", 1.0, 0),
                   "pa": state("A's major-power ally", MAJOR_ALLY_CINC, 1),
                   "pb": state("B's major-power ally", MAJOR_ALLY_CINC, 1)},
        "alliances": {
            "pact": {"name": "a-b defence pact", "kind": "collective_defence", "leader": "a", "members": ["a"], "member_vs_member": "abstain",
                     "credibility": v(ALLY_CREDIBILITY)},
            "ally_a": {"name": "A's alliance with a major power", "kind": "collective_defence", "leader": "pa", "members": ["pa"], "credibility": v(ALLY_CREDIBILITY)},
            "ally_b": {"name": "B's alliance with a major power", "kind": "collective_defence", "leader": "pb", "members": ["pb"], "credibility": v(ALLY_CREDIBILITY)},
        },
        "territories": {"land": {"controller": "b", "claimants": ["a", "b"]}},
        "flashpoints": {"f": {"sides": ["a", "b"], "stakes": "land", "level": v(0)}},
        "levers": {
            "a": {"pact": {"description": "a and b are treaty allies",
                           "effect": {"add": {"alliances.pact.members": ["b"]}}},
                  "major_ally": {"description": "a has a major-power ally",
                                 "effect": {"add": {"alliances.ally_a.members": ["a"]}}},
                  "holds": {"description": "a holds the land at stake",
                            "effect": {"set": {"territories.land.controller": "a"}}}},
            "b": {"major_ally": {"description": "b has a major-power ally",
                                 "effect": {"add": {"alliances.ally_b.members": ["b"]}}}},
        },
        "rules": own,
        "outcomes": {"war": {"kind": "escalation", "flashpoint": "f", "reaches": 5}},
    }


SWITCHED = (("a", "pact"), ("a", "major_ally"), ("b", "major_ally"), ("a", "holds"))
"""Levers of the template switched per replicate (``RunSpec.switch``)."""


@dataclass(frozen=True)
class Stratified(PerSet):
    """Per-replicate values that vary within a row: ``values`` (rows, runs_per_set) are laid
    out as :class:`PerSet` lays out one value per row."""

    def take(self, offset: int, n: int) -> np.ndarray:
        i = np.arange(offset, offset + n)
        R = self.runs_per_set
        return np.asarray(self.values, dtype=float)[(i // R) % len(self.values), i % R]


def split_switched(fixed: dict) -> tuple[dict, dict]:
    """Per-replicate values taken apart: parameter values, and the levers switched on where their
    value is 0.5 or more (``{(actor, lever): mask}``, as :func:`sim.world.opening.opened` takes them)."""
    params = {k: v for k, v in fixed.items() if not k.startswith(LEVER_PREFIX)}
    switch = {tuple(k[len(LEVER_PREFIX):].split(".", 1)): np.asarray(v) >= 0.5
              for k, v in fixed.items() if k.startswith(LEVER_PREFIX)}
    return params, switch


def capabilities(panel) -> tuple[np.ndarray, np.ndarray]:
    """Each side's CINC, with the mapping's rule for missing values."""
    c1 = panel["cinc1"].to_numpy(dtype=float)
    c2 = panel["cinc2"].to_numpy(dtype=float)
    c1f = np.where(np.isnan(c1), c2, c1)
    c2f = np.where(np.isnan(c2), c1, c2)
    both = np.isnan(c1f) | np.isnan(c2f)
    c1f = np.where(both, MEDIAN_CINC, c1f)
    c2f = np.where(both, MEDIAN_CINC, c2f)
    return np.maximum(c1f, 1e-9), np.maximum(c2f, 1e-9)


def row_inputs(panel, runs: int, persistence: float = PERSISTENCE) -> dict[str, Any]:
    """Per-replicate inputs of the template for every row of ``panel`` (a DataFrame with the
    feature columns), ``runs`` replicates per row: ``{path: PerSet or Stratified}``, switched
    levers under ``lever:ACTOR.LEVER`` (as :class:`sim.runner.RunSpec` takes them)."""
    n = len(panel)
    col = {c: panel[c].to_numpy(dtype=float) for c in (
        "major1", "major2", "conttype", "defense_pact", "def_major1", "def_major2", "mid_ongoing_prev",
        "peace_years", "mids_past10", "fatal_prev", "hostlev_prev", "terr_prev")}
    c1, c2 = capabilities(panel)
    terr = np.where(np.isnan(col["terr_prev"]), TERRITORIAL_MISSING, col["terr_prev"])
    j = np.arange(runs)
    still = j < int(round(persistence * runs))  # runs whose dispute still runs on 1 January
    level = np.where(col["mid_ongoing_prev"][:, None] > 0.5, np.where(still[None, :], 2.0, 1.0), 0.0)
    holds_a = np.broadcast_to((j % 2 == 0).astype(float), (n, runs))

    def per_row(x: np.ndarray) -> PerSet:
        return PerSet(np.ascontiguousarray(x, dtype=float), runs)

    return {
        "states.a.capability": per_row(c1), "states.b.capability": per_row(c2),
        "states.a.major_power": per_row(col["major1"]), "states.b.major_power": per_row(col["major2"]),
        "flashpoints.f.contiguity": per_row(col["conttype"]),
        "flashpoints.f.peace_years": per_row(np.minimum(col["peace_years"], 50.0)),
        "flashpoints.f.disputes_past10": per_row(col["mids_past10"]),
        "flashpoints.f.last_fatal": per_row(col["fatal_prev"]),
        "flashpoints.f.last_hostility": per_row(col["hostlev_prev"]),
        "flashpoints.f.territorial": per_row(terr),
        "flashpoints.f.level": Stratified(level, runs),
        f"{LEVER_PREFIX}a.pact": per_row(col["defense_pact"]),
        f"{LEVER_PREFIX}a.major_ally": per_row(col["def_major1"]),
        f"{LEVER_PREFIX}b.major_ally": per_row(col["def_major2"]),
        f"{LEVER_PREFIX}a.holds": Stratified(holds_a, runs),
    }
