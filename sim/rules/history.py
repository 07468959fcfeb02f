"""A flashpoint's record of disputes, and where the dyad sits: the history the hazards read.

Model ``record`` of the ``history`` slot, first in the escalation phase (docs/MODEL.md §D3b).
The escalation hazards (:func:`sim.rules.escalation.rates`) read a flashpoint's history as
the dyad-year panel codes it (docs/CALIBRATION.md, "hindcast"): the coefficients that turn
it into hazards are fitted there once and shared by every scenario. What a scenario states
(from pre-vantage sources) is the history *before its start*, in calendar years:

* ``peace_years`` — complete years before the current one without a militarized dispute
  (0: a dispute last year; at most 50);
* ``disputes_past10`` — how many of the last ten years saw a dispute;
* ``last_fatal`` — last year's disputes killed someone;
* ``last_hostility`` — the highest MID hostility of last year's disputes (0 none, 2 threat,
  3 display, 4 use of force, 5 war);
* ``territorial`` — the dispute is over territory (the last one was, in the panel);
* ``contiguity`` — COW contiguity of the two sides (1 land border; 2, 3, 4, 5 separated by
  at most 12, 24, 150, 400 miles of water; 6 neither), and each state's ``major_power``.

During a run the record moves on: each month the month's peak rung and deaths are added
to the current calendar year; at each new year the year closes (a year whose highest rung
was 2 or more is a dispute year: rung 2 counts as MID display, 3-4 as use of force, 5 as
war) and the counts roll over. The record changes nothing by itself; the hazards read it.
"""

from __future__ import annotations

import numpy as np

from ..parts import declare_attr, declare_reading, declare_state
from ..scenario.values import P
from ..world.compile import Plan
from .reads import declare_affinity_reads
from .registry import RuleParams, register

YEARS = 10
"""Years the count of past disputes looks back."""
MASK = (1 << (YEARS + 1)) - 1
"""Bits kept of the dispute-year record: the current year (bit 0) and the ten before."""
PEACE_CAP = 50.0

declare_attr("flashpoints", "peace_years", P(0, PEACE_CAP), PEACE_CAP,
             "no dispute known: the panel's cap of 50 years (a scenario states its flashpoint's record)",
             doc="Complete years before the start without a militarized dispute between the sides (0: one last "
                 "year; at most 50).", unit="years", array="peace_years0")
declare_attr("flashpoints", "disputes_past10", P(0, YEARS, integer=True), 0,
             "no dispute known in the ten years before the start",
             doc="How many of the ten years before the start saw a militarized dispute between the sides.",
             unit="years", array="past10_0")
declare_attr("flashpoints", "last_fatal", P(0, 1, integer=True), 0, "no fatal dispute known last year",
             doc="1 if the sides' disputes of the year before the start killed anyone.", array="last_fatal0")
declare_attr("flashpoints", "last_hostility", P(0, 5, integer=True), 0, "no dispute known last year",
             doc="Highest MID hostility of the year-before-start disputes: 0 none, 2 threat, 3 display, 4 use "
                 "of force, 5 war.", array="last_hostility0")
declare_attr("flashpoints", "fatal_this_year", P(0, 1, integer=True), 0,
             "no deaths known in the start's calendar year before the start",
             doc="1 if the sides' disputes killed anyone in the start's calendar year before the start (the year "
                 "closes with it).", array="fatal_this_year0")
declare_attr("flashpoints", "territorial", P(0, 1), 0, "a dispute not over territory unless the scenario says so",
             doc="1 if the dispute is over territory (the panel: the last dispute was territorial).")
declare_attr("flashpoints", "contiguity", P(1, 6, integer=True), 1,
             "a flashpoint is usually on a shared land border",
             doc="COW contiguity of the sides: 1 land border; 2, 3, 4, 5 water of at most 12, 24, 150, 400 miles; "
                 "6 none.")
declare_attr("states", "major_power", P(0, 1, integer=True), 0, "not a major power unless the scenario says so",
             doc="1 for a COW major power (reach: its disputes start more often, far from home too).")


def _bits(ctx) -> np.ndarray:
    """Past disputes as bits 1..10 of the dispute years: the k of them in the most recent years that
    the years at peace allow (after ``peace_years`` quiet years: bits p+1 .. p+k, as many as fit
    in ten); bit 0 the current year so far."""
    k = np.rint(ctx.par.past10_0).astype(np.int64)
    p = np.minimum(np.floor(ctx.par.peace_years0).astype(np.int64), YEARS)
    k = np.minimum(k, YEARS - p)
    bits = (((np.int64(1) << k) - 1) << (p + 1)).astype(np.int16)
    return bits | (ctx.st["level"] >= 2).astype(np.int16)


declare_state("peace", ("F",), init=lambda ctx: ctx.par.peace_years0.copy(),
              doc="complete calendar years without a dispute (capped at 50)")
declare_state("dispute_years", ("F",), "int16", _bits,
              doc="bit k: a dispute k calendar years ago (bit 0: this year so far)")
declare_state("fatal_last", ("F",), "bool", lambda ctx: ctx.par.last_fatal0 > 0.5, doc="last year's disputes were fatal")
declare_state("hostility_last", ("F",), "int8", lambda ctx: np.rint(ctx.par.last_hostility0),
              doc="highest MID hostility of last year's disputes (0 none)")
declare_state("year_top", ("F",), "int8", lambda ctx: ctx.st["level"].copy(), doc="highest rung this calendar year so far")
declare_state("year_fatal", ("F",), "bool", lambda ctx: ctx.par.fatal_this_year0 > 0.5,
              doc="deaths this calendar year so far")

declare_reading("peace_years", "peace", ("flashpoint",), "num", "peace_years(border)",
                doc="complete calendar years without a dispute")


def past_disputes(st) -> np.ndarray:
    """Disputes in the last ten completed years (R, F): the bits 1..10 of the record."""
    b = (st.dispute_years.astype(np.int32) >> 1) & ((1 << YEARS) - 1)
    out = np.zeros(b.shape, dtype=np.int32)
    for _ in range(YEARS):
        out += b & 1
        b >>= 1
    return out


def hostility_of(top: np.ndarray) -> np.ndarray:
    """MID hostility of a year whose highest rung was ``top``: 0 below rung 2, 3 at rung 2 (display),
    4 at rungs 3-4 (use of force), 5 at war."""
    return np.select([top >= 5, top >= 3, top >= 2], [5, 4, 3], 0).astype(np.int8)


declare_affinity_reads("history", "record", None)


class RecordParams(RuleParams):
    """The record has no parameters: it keeps the count the hazards read."""


@register("history", "record", RecordParams, phase="escalation", order=-10)
def build(plan: Plan):
    """Keep each flashpoint's record of dispute years up to date (closing a calendar year each January)."""
    if plan.F == 0:
        return lambda w: None

    def step(w) -> None:
        st = w.st
        # last month's peak and deaths belong to the year they happened in
        st.year_top = np.maximum(st.year_top, st.peak)
        st.year_fatal |= st.deaths > 0
        if w.elapsed > 0 and w.month % 12 == 0:  # a new calendar year: close the last one
            disputed = st.year_top >= 2
            st.peace = np.where(disputed, 0.0, np.minimum(st.peace + 1.0, PEACE_CAP)).astype(st.peace.dtype)
            st.dispute_years = (((st.dispute_years.astype(np.int32) | disputed) << 1) & MASK).astype(np.int16)
            st.fatal_last = st.year_fatal & disputed
            st.hostility_last = hostility_of(st.year_top)
            st.year_top = st.level.copy()
            st.year_fatal = np.zeros_like(st.year_fatal)
        st.dispute_years |= (st.year_top >= 2).astype(np.int16)

    return step
