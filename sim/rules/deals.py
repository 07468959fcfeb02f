"""Ceasefires and local deals: how a militarized dispute that eases ends (docs/MODEL.md §D3a).

Part of the ``spells`` escalation model: its compiled month
(:func:`sim.rules.spells_kernel.finish`) draws the deals cell by cell after the month's
chain of moves, with the chances :func:`table` gives. A dispute *eases* in a month when the flashpoint steps below
rung 2 (``calm_at`` is set) without a war's transfer of the stakes or a settlement in
the ladder that month. An eased dispute ended by a **deal** (a ceasefire or a local
agreement: most of what MID codes a negotiated settlement) with probability

    logit q = c0 + c_fat * [the episode killed anyone] + c_ter * [the flashpoint has stakes]

and otherwise without a settlement. A deal only labels how the dispute ended: it does
not settle the underlying conflict (``settled`` is unchanged, so the next dispute can
start) and no later hazard depends on it (an assumption: nothing in shared/data says how
a ceasefire changes the odds of the next dispute). Its random numbers come from a stream
of its own (``escalation.deals``), so no other rule's draws move with it.

*Episode deaths.* ``episode_deaths`` holds the deaths of the dispute running at the start
of the month, from the months before it (every rule's deaths of those months: clashes,
war, limited offensives): at the start of a month it is the previous value plus last
month's deaths if the month starts at rung 2 or above, else 0 (no dispute runs). The
episode killed anyone if that plus the ladder's deaths of the month is at least one. A
dispute that eases resets it to 0; if a new one starts later in the same month it
inherits that month's deaths (a simplification: the ladder does not split a month's
deaths at the moment of easing).
"""

from __future__ import annotations

import numpy as np

from ..parts import declare_event, declare_reading, declare_state
from ..scenario.values import P, default
from .registry import RuleParams

STREAM = "escalation.deals"
"""The stream of the deal draws (one call a month: the rule's other streams draw the same
numbers whether or not a deal is drawn)."""

KEY = "mid-settlements-1946-1991"
"""The calibration key of the deal coefficients (docs/CALIBRATION.md, sim.analysis.dealfit)."""

declare_state("episode_deaths", ("F",), init=0.0,
              doc="deaths of the dispute running at the start of the month, in the months before it (0: none runs)")
declare_state("deal_made", ("F",), "bool", False,
              doc="a ceasefire or local deal ended the dispute this month (it is not settled)")
declare_state("deal_chance", ("F",), init=np.nan,
              doc="the chance of a deal the dispute that eased this month had (NaN: none eased)")
declare_event("escalation.deal", ("flashpoint",), "a ceasefire / local deal ends the dispute at {flashpoint}",
              doc="a dispute that steps below rung 2 ends by a deal (the conflict is not settled)")
declare_reading("deal", "deal_made", ("flashpoint",), "bool", "deal(border)",
                doc="a ceasefire or local deal ended the dispute this month")

_FIT = "; fitted in closed form on the neutral dyad's simulated episodes (sim.analysis.dealfit)"


class DealParams(RuleParams):
    """The deal coefficients (mixed into :class:`sim.rules.spells.SpellParams`)."""

    deal_base: P(-50, 50) = default(
        -1.755, KEY + ": GML-MID 2.2.1 disputes of 1946-1991 (mid_settlement_shares.csv): negotiated share of all "
        "(221/993), fatal (99/290) and territorial (99/283) disputes" + _FIT, "calibration", symbol="c_0",
        label="deals: log-odds that an easing dispute ends by a deal")
    deal_fatal: P(-50, 50) = default(
        0.8291, KEY + ": the fatal disputes' negotiated share (99/290, GML-MID 1946-1991)" + _FIT, "calibration",
        symbol="c_fat", label="deals: weight of a fatal episode")
    deal_territorial: P(-50, 50) = default(
        1.034, KEY + ": the territorial disputes' negotiated share (99/283, GML-MID 1946-1991)" + _FIT,
        "calibration", symbol="c_ter", label="deals: weight of a territorial dispute")


def chance(c0: np.ndarray, c_fat: np.ndarray, c_ter: np.ndarray, fatal: np.ndarray, stakes: np.ndarray) -> np.ndarray:
    """q = 1 / (1 + exp(-(c0 + c_fat * fatal + c_ter * stakes))), broadcast."""
    return 1.0 / (1.0 + np.exp(-(c0 + c_fat * fatal + c_ter * stakes)))


def table(w) -> np.ndarray:
    """q by replicate and kind of episode, (R, 2, 2): ``table(w)[r, fatal, stakes]``, the
    chance of a deal of an eased dispute in replicate r whose episode killed anyone
    (``fatal`` 1) at a flashpoint with stakes (``stakes`` 1), for the compiled month of
    :mod:`sim.rules.spells_kernel`, which draws the deals cell by cell. Kept while the
    parameters stay as they are (:meth:`sim.world.model.World.per_parameters`)."""
    return w.per_parameters("deals", _table)


def _table(w) -> np.ndarray:
    c0, c_fat, c_ter = (w.rp("escalation", n)[:, None, None] for n in ("deal_base", "deal_fatal", "deal_territorial"))
    kind = np.array([0.0, 1.0])
    return np.ascontiguousarray(chance(c0, c_fat, c_ter, kind[None, :, None] >= 1.0, kind[None, None, :]))
