"""Rules whose month is one compiled pass (procurement, limited offensives, alliance
requests and responses, patronage, membership, alignment): the kernel draws the numbers the
rule's stream would draw, and counts the events ``world.emit`` would count, so a narrated
world (a log attached, events emitted from the kernel's places) and a counted one (events
counted in the kernel) run identically."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

import sim
from sim import seeding
from sim.seeding_kernel import bits16_at, normal_at, uniform_at
from sim.world.compile import compile_plan
from sim.world.log import EventLog
from sim.world.opening import open_world


@njit
def _drawn_in_a_kernel(key_u, key_z, ids, per):  # pragma: no cover - compiled
    u = np.empty((ids.size, per))
    z = np.empty((ids.size, per))
    for i in range(ids.size):
        for e in range(per):
            u[i, e] = uniform_at(key_u, ids[i], per, e)
            z[i, e] = normal_at(key_z, ids[i], per, e)
    return u, z


def test_a_kernel_draws_what_the_stream_would_draw():
    """``Stream.keys`` counts its calls as draws do; ``uniform_at`` and ``normal_at`` at their
    keys give ``random`` and ``standard_normal``'s numbers, replicate by replicate, to the bit."""
    ids = seeding.replicate_ids(40, 25)
    key = seeding.name_key(seeding.root_key(seeding.root_sequence(3)), "x")
    month = [4]
    drawn, called = (seeding.Stream(key, ids, lambda: month[0]) for _ in range(2))
    u, z = drawn.random((25, 6)), drawn.standard_normal((25, 6))
    ku, kz = called.keys(2)
    assert called.state() == drawn.state() == {"month": 4, "calls": 2}
    u2, z2 = _drawn_in_a_kernel(ku, kz, ids, 6)
    assert np.array_equal(u, u2) and np.array_equal(z, z2)


@njit
def _bits16_in_a_kernel(key, ids, per):  # pragma: no cover - compiled
    out = np.empty((ids.size, per), dtype=np.uint16)
    for i in range(ids.size):
        for e in range(per):
            out[i, e] = bits16_at(key, ids[i], per, e)
    return out


def test_a_kernel_draws_the_streams_16_bit_integers():
    """``bits16_at`` at a call's key gives ``Stream.bits16``'s numbers, replicate by replicate,
    to the bit (the alignment rule's noise)."""
    ids = seeding.replicate_ids(7, 30)
    key = seeding.name_key(seeding.root_key(seeding.root_sequence(5)), "y")
    drawn, called = (seeding.Stream(key, ids, lambda: 2) for _ in range(2))
    drawn.random((30, 3))  # the call before
    b = drawn.bits16((30, 77))
    _, kb = called.keys(2)
    assert called.state() == drawn.state()
    out = _bits16_in_a_kernel(kb, ids, 77)
    assert out.dtype == b.dtype == np.uint16 and np.array_equal(out, b)


EVENTS = ("procurement.delivery", "procurement.slip", "procurement.refusal", "offensive.launch", "offensive.seizure",
          "offensive.gain", "offensive.retake", "offensive.failure", "offensive.war", "escalation.deaths",
          "patronage.letdown", "patronage.backing", "alliance.request", "alliance.response", "alliance.refusal",
          "alliance.abstention", "membership.freeze", "membership.exit", "membership.reengage",
          "membership.accession", "alignment.exercise")


EVERY_PATH = {"alliances.csto.outside_zone": 0.5, "alliances.csto.candidates": ["azerbaijan"],
              "alliances.csto.trust.azerbaijan": 0.9, "rules.membership.reengage_above": 0.0}
"""Karabakh where every path of the alliance phase is taken: the CSTO stands by protégés
outside its zone (patronage backs), Azerbaijan joins it (accession, and then Armenia's
requests against a member are abstentions) and frozen members take part again."""


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("overrides", [None, EVERY_PATH], ids=["karabakh", "every-path"])
def test_a_narrated_world_runs_and_counts_as_a_counted_one(dtype, overrides):
    """Karabakh, 400 replicates, 36 months, with a log following every replicate and without:
    the same state and the same counts of every event (the log's path emits the places the
    kernels say; the other counts in the kernels); the log holds the events counted. As
    shipped, and changed so that every event of the alliance phase happens (``EVERY_PATH``)."""
    scn = sim.load_scenario("karabakh", overrides=overrides)
    plan = compile_plan(scn.spec, scn.rules, scn.spec.meta.horizon_months, [])
    n = 400
    worlds = [open_world(plan, n, seeding.root_sequence(11), dtype=dtype) for _ in range(2)]
    worlds[1].log = EventLog(list(range(n)), limit=10_000_000)
    for _ in range(plan.horizon):
        for w in worlds:
            w.step()
    counted, narrated = worlds
    for k, v in counted.st.__dict__.items():
        if isinstance(v, np.ndarray):
            assert np.array_equal(v, narrated.st[k], equal_nan=True), k
    logged = {name: np.zeros(n, dtype=np.int64) for name in EVENTS}
    for rec in narrated.log.records:
        if rec.event in logged:
            logged[rec.event][rec.replicate] += 1
    for name in EVENTS:
        assert np.array_equal(counted.counts[name], narrated.counts[name]), name
        if name != "escalation.deaths":  # the ladder emits deaths too
            assert np.array_equal(logged[name], counted.counts[name]), name
    taken = ("procurement.delivery", "procurement.slip", "offensive.launch", "offensive.war", "offensive.failure",
             "patronage.letdown", "alliance.request", "alliance.response", "alliance.refusal", "membership.freeze",
             "membership.exit", "alignment.exercise")
    if overrides:
        taken += ("patronage.backing", "alliance.abstention", "membership.reengage", "membership.accession")
    for name in taken:
        assert counted.counts[name].sum() > 0, name  # the test sees each path taken
    for w in worlds:
        w.release()


def test_the_offensive_odds_are_the_months_hazard():
    """The odds the launch decision reads (``offensive.odds``) are the hazard the month
    draws at: over 12 months of 4,000 replicates, the launches at the flashpoints' sides
    match the sum of 1 - exp(-rate) within Monte Carlo error (4 sd). Both come from one
    compiled version of the kernel."""
    from sim.rules.formulas import chance
    from sim.rules.offensive import odds
    from sim.rules.offensive_kernel import offend

    scn = sim.load_scenario("karabakh")
    plan = compile_plan(scn.spec, scn.rules, scn.spec.meta.horizon_months, [])
    w = open_world(plan, 4000, seeding.root_sequence(2))
    expected = var = launched = 0.0
    for _ in range(12):
        # the odds as the month starts its offensives: after the rules before it (the ladder)
        pipe = dict(w.pipeline)
        w.current_month = plan.start + w.elapsed
        w.month_cache = {}
        for kind, rule in w.pipeline:
            if kind == "offensive":
                o = odds(w)
                p = np.where(o["challenger"], chance(o["rate"]), 0.0)
                p[..., 1] *= 1 - p[..., 0]  # the second side only if the first does not
                expected += p.sum()
                var += (p * (1 - p)).sum()
                before = w.counts["offensive.launch"].sum()
                rule(w)
                launched += w.counts["offensive.launch"].sum() - before
            else:
                rule(w)
        w.month_cache = None
        w.elapsed += 1
        for obs in w.observers:
            obs(w)
    at = offend.py_func.__code__.co_varnames.index("deaths")
    dtypes = [sig[at] for sig in offend.signatures]
    assert len(set(dtypes)) == len(dtypes)  # one version a world's precision: the odds and the month take the same types
    assert "offensive" in pipe and expected > 50
    assert abs(launched - expected) < 4 * np.sqrt(var), (launched, expected)
    w.release()


def test_rule_parameters_are_kept_until_they_change(mini):
    """World.rp keeps its answer from month to month (a float32 world's parameters would
    otherwise be converted every month) and makes it afresh after an effect, a replaced
    array or World.parameters_changed; World.per_parameters follows the same changes."""
    from types import SimpleNamespace

    plan = compile_plan(mini.spec, mini.rules, None)
    w = open_world(plan, 50, np.random.SeedSequence(0, spawn_key=(0,)), dtype=np.float32, pipeline=[])
    path = "rules.escalation.casualty_sigma"
    assert path in plan.addresses
    name = "rule:escalation.casualty_sigma"
    first = w.rp("escalation", "casualty_sigma")
    assert first.dtype == np.float64 and w.rp("escalation", "casualty_sigma") is first
    made = []

    def doubled(world):
        made.append(1)
        return 2 * world.rp("escalation", "casualty_sigma")

    assert np.array_equal(w.per_parameters("t", doubled), 2 * first)
    w.per_parameters("t", doubled)
    assert len(made) == 1
    w.par[name][:] = 0.25  # in place: said so
    w.parameters_changed()
    assert np.all(w.rp("escalation", "casualty_sigma") == 0.25)
    assert np.all(w.per_parameters("t", doubled) == 0.5) and len(made) == 2
    w.par[name] = np.full(50, 0.5, dtype=np.float32)  # a new array: seen without being told
    assert np.all(w.rp("escalation", "casualty_sigma") == 0.5)
    assert np.all(w.per_parameters("t", doubled) == 1.0) and len(made) == 3
    w.apply_effect(SimpleNamespace(set={path: 0.75}, add={}, multiply={}, remove={}, event=[]))
    assert np.all(w.rp("escalation", "casualty_sigma") == 0.75)
    assert np.all(w.per_parameters("t", doubled) == 1.5) and len(made) == 4
    snap = w.snapshot()
    w.par[name][:] = 0.1
    w.restore(snap)  # a replaced world.par
    assert np.all(w.rp("escalation", "casualty_sigma") == 0.75)


def test_an_event_that_changes_a_rule_parameter_is_seen(tmp_path):
    """A scenario event's effect (applied by the events rule, not World.apply_effect) makes
    World.rp answer afresh in the next rule that reads the parameter."""
    from tests.conftest import MINI, load_text

    text = MINI.replace("outcomes:", "events:\n"
                        "  - name: calm\n"
                        "    at: 2023-08\n"
                        "    probability: 1.0\n"
                        "    effect: {set: {rules.escalation.casualty_sigma: 0.125}}\n"
                        "outcomes:", 1)
    scn = load_text(tmp_path, text)
    plan = compile_plan(scn.spec, scn.rules, None)
    w = open_world(plan, 20, np.random.SeedSequence(0, spawn_key=(0,)), dtype=np.float32)  # rp converts: a copy
    before = w.rp("escalation", "casualty_sigma").copy()
    assert not np.any(before == 0.125)
    seen = []
    w.pipeline.append(("probe", lambda w: seen.append(w.rp("escalation", "casualty_sigma").copy())))
    w.step()  # 2023-07: the event is not due
    w.step()  # 2023-08: it fires in the events phase
    assert np.array_equal(seen[0], before) and np.all(seen[1] == 0.125)
