"""War shares by stakes: the dyad-year panel's side of the checks (issue 22).

``war_by_stakes`` counts, among a panel's dyad-years with a dispute onset, those whose onset
dispute reached war, by ``onset_terr``; ``checks_of`` compares the model's plain and
territorial episodes with the 1990-2002 shares, stored as constants that a test here
recomputes from the shared panel when it is found.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.analysis.calibrate import episodes
from sim.analysis.checks import (
    CHECK_YEARS,
    FIT_YEARS,
    PANEL_WARS_CHECK,
    PANEL_WARS_FIT,
    checks_of,
    war_by_stakes,
    wilson,
)
from sim.analysis.panel import read_panel
from sim.scenario.errors import InputError

SAMPLE = Path(__file__).parent / "data" / "dyad_years_1985_1992_sample.csv"
"""Every onset row of the shared panel in 1985-1992 plus 600 calm rows (see test_hindcast_cli.py),
so its onsets are the panel's, countable by eye: the one war onset of 1985-89 is China-Vietnam
1986 (ccodes 710-816, onset_terr 0); the 17 of 1990-92 are the Gulf war's dyads (Iraq 645 or
Jordan 663 against a coalition state among 2, 200, 220, 255, 640, 651, 652, 670, 690, 692, 694),
all with onset_terr 1. Onsets of unknown stakes (onset_terr empty): 4 in 1985-89, 3 in 1990-92."""

SHARED_PANEL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dyad_years_1946_2002.csv"
"""Where the benchmarks find the shared panel (benchmarks/bench_hindcast.py: ``shared/data`` beside the repository)."""


def test_war_by_stakes_counts_the_onsets_of_a_sample_panel():
    before, after = war_by_stakes(SAMPLE, "1985-1989"), war_by_stakes(read_panel(SAMPLE), "1990-1992")
    assert before.years == (1985, 1989) and after.years == (1990, 1992)
    assert (before.plain, before.territorial, before.unknown) == ((1, 119), (0, 18), (0, 4))
    assert (after.plain, after.territorial, after.unknown) == ((0, 41), (17, 30), (0, 3))
    assert after.mixed == (17, 71) and after.all == (17, 74)
    assert after.share("territorial") == pytest.approx(17 / 30) and after.share("plain") == 0.0
    assert after.interval("territorial") == wilson(17, 30)
    raw = pd.read_csv(SAMPLE)  # every onset falls in one of the three groups
    for w, (a, b) in ((before, (1985, 1989)), (after, (1990, 1992))):
        assert w.all[1] == int(raw.loc[raw.year.between(a, b), "onset"].sum())


def test_a_panel_without_onset_terr_is_one_problem_naming_the_file_and_column(tmp_path):
    path = tmp_path / "panel.csv"
    pd.read_csv(SAMPLE).drop(columns=["onset_terr"]).to_csv(path, index=False)
    with pytest.raises(InputError) as e:
        war_by_stakes(path, "1985-1992")
    assert len(e.value.problems) == 1
    line = e.value.format()
    assert str(path) in line and "onset_terr" in line and "\n" not in line


def test_the_stored_panel_shares_are_what_the_shared_panel_gives():
    if not SHARED_PANEL.exists():
        pytest.skip(f"the shared panel is not at {SHARED_PANEL}: the stored counts are not rechecked")
    panel = read_panel(SHARED_PANEL)
    assert war_by_stakes(panel, FIT_YEARS) == PANEL_WARS_FIT
    assert war_by_stakes(panel, CHECK_YEARS) == PANEL_WARS_CHECK
    # SOURCES.md's base rates: 110 war onsets of 1,531 in 1946-2002, 38 of 446 in 1990-2002
    assert PANEL_WARS_FIT.all[0] + PANEL_WARS_CHECK.all[0] == 110
    assert PANEL_WARS_FIT.all[1] + PANEL_WARS_CHECK.all[1] == 1531 and PANEL_WARS_CHECK.all == (38, 446)


def test_checks_compare_plain_and_territorial_war_shares_with_the_1990_2002_panel():
    plain, terr = episodes(runs=200, seed=2), episodes(runs=200, seed=3, territorial=True)
    rows = {c.name: c for c in checks_of(plain, terr)}
    for name, eps, (k, n) in (("war: share of episodes reaching war, without stakes", plain, PANEL_WARS_CHECK.plain),
                              ("war: share of episodes reaching war, territorial", terr, PANEL_WARS_CHECK.territorial)):
        c = rows[name]
        assert c.model == eps.share("war") and c.data == k / n and c.interval == wilson(k, n)
        assert "1990-2002" in c.source and "onset_terr" in c.source and not c.fitted
