"""Validation does work linear in the size of the scenario, not in its square.

A scenario with a few thousand states (written by a script) has millions of
addressable ``states.S.affinity.T`` paths; nothing on the ``load_scenario`` path (nor
what ``sim validate`` prints after it) may build them all. These tests measure the
work, not the time: the peak of Python memory allocations (tracemalloc) while loading
and listing the provenance of a 250- and a 1,000-state scenario (and, marked slow, of
1,000 and 4,000 states). Linear work gives a ratio near 4, quadratic work near 16. The times are printed by
``benchmarks/bench_validate.py``.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

import sim
from benchmarks.bench_validate import big_scenario
from sim.evidence.sources import provenance_rows
from sim.scenario.errors import InputError
from sim.scenario.load import read_tree
from sim.scenario.references import addressable, rule_paths
from sim.world.compile import compile_plan

BASE = Path(__file__).parent / "bad_inputs" / "_base.yaml"


def _validate_peak(tmp_path: Path, n: int) -> int:
    """Peak bytes allocated by what `sim validate` does for an n-state scenario."""
    p = tmp_path / f"big_{n}.yaml"
    p.write_text(big_scenario(n), encoding="utf-8")
    sim.load_scenario(BASE)  # warm: imports, fact cards, caches
    tracemalloc.start()
    try:
        scn = sim.load_scenario(p)
        rows = provenance_rows(scn)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(scn.spec.states) == n and rows
    return peak


@pytest.mark.parametrize(
    "small,large",
    [(250, 1000), pytest.param(1000, 4000, marks=pytest.mark.slow)],
)
def test_validation_memory_grows_linearly_with_the_number_of_states(tmp_path, small, large):
    a = _validate_peak(tmp_path, small)
    b = _validate_peak(tmp_path, large)
    ratio = b / a
    assert ratio < 6, f"4x the states took {ratio:.1f}x the memory ({a / 1e6:.0f} MB -> {b / 1e6:.0f} MB)"


def _expected_paths(tree) -> dict[str, str]:
    """The addressable paths, enumerated the obvious way (small worlds only): every declared
    attribute and effect target of every actor, and the chosen rules' parameters."""
    from sim.parts import KIND_OF_SECTION, SECTIONS, registry

    reg = registry()
    names = {sec: list(tree.get(sec) or {}) for sec in SECTIONS}
    out = {}
    for a in reg.attrs.values():
        for actor in names[a.section]:
            kind = "int" if a.integer else "num"
            if a.keyed_by is None:
                out[f"{a.section}.{actor}.{a.name}"] = kind
            else:
                for key in names[a.keyed_by]:
                    if not (a.keyed_by == a.section and key == actor):
                        out[f"{a.section}.{actor}.{a.name}.{key}"] = kind
    for t in reg.targets.values():
        for actor in names[t.section]:
            out[f"{t.section}.{actor}.{t.name}"] = t.kind
    assert set(KIND_OF_SECTION) == set(SECTIONS)
    out.update(rule_paths(tree.get("rules")))
    return out


def test_addressable_paths_are_the_same_as_enumerated():
    tree = read_tree(BASE)
    known = addressable(tree, rule_paths(tree.get("rules")))
    want = _expected_paths(tree)
    assert dict(known.items()) == want
    assert len(known) == len(want)
    for path, kind in want.items():
        assert path in known and known[path] == kind and known.get(path) == kind
    for bad in ("states.north.affinity.north", "states.nowhere.resolve", "states.north", "states.north.resolve.x",
                "alliances.pact.trust.nobody", "flashpoints.ridge.levels", "rules.escalation.nonsense", "", "."):
        assert bad not in known and known.get(bad) is None
        with pytest.raises(KeyError):
            known[bad]


def test_addressable_answers_for_a_large_world_without_enumerating_it():
    tree = {
        "states": {f"s{i}": {} for i in range(4000)},
        "alliances": {"north_pact": {}, "south_pact": {}},
        "suppliers": {f"k{i}": {} for i in range(4)},
        "flashpoints": {f"f{i}": {} for i in range(0, 4000, 2)},
    }
    tracemalloc.start()
    try:
        known = addressable(tree, rule_paths(None))
        assert known["states.s3999.affinity.s0"] == "num"
        assert "states.s12.affinity.s12" not in known
        assert known["alliances.north_pact.trust.s3999"] == "num"
        assert known["flashpoints.f3998.level"] == "int"
        n = len(known)
        hint = known.suggest("states.s17.afinity.s18")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n > 4000 * 3999  # every ordered pair of states has an affinity path
    assert hint == " (did you mean 'states.s17.affinity.s18'?)"
    assert peak < 5_000_000, f"{peak / 1e6:.0f} MB to answer a few questions"


def test_a_mistyped_path_in_a_large_world_gets_a_suggestion(tmp_path):
    text = big_scenario(1000).replace("add: {states.s100.affinity.s107:", "add: {states.s100.afinity.s107:")
    p = tmp_path / "big.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as ei:
        sim.load_scenario(p, overrides={"states.s5.reslove": 0.3})
    msgs = [q.format() for q in ei.value.problems]
    assert any("no such path 'states.s100.afinity.s107' (did you mean 'states.s100.affinity.s107'?)" in m for m in msgs), msgs
    assert any("--set states.s5.reslove: no such path (did you mean states.s5.resolve?)" in m for m in msgs), msgs


def test_plan_addresses_resolve_every_path_without_listing_them():
    scn = sim.load_scenario(BASE)
    plan = compile_plan(scn.spec, scn.rules)
    si = plan.index_of("state")
    a = plan.addresses["states.north.affinity.south"]
    assert (a.space, a.array, a.index, a.kind) == ("st", "affinity", (si["north"], si["south"]), "num")
    b = plan.addresses["states.east.affinity.south"]  # written nowhere, still addressable
    assert (b.array, b.index) == ("affinity", (si["east"], si["south"]))
    c = plan.addresses["alliances.pact.trust.south"]
    assert (c.array, c.index) == ("trust", (si["south"], 0))
    d = plan.addresses["states.east.orders.patron_arms"]
    assert (d.array, d.index) == ("backlog", (si["east"], 0))
    assert "states.north.affinity.north" not in plan.addresses
    with pytest.raises(KeyError):
        plan.addresses["states.nobody.affinity.south"]
    known = addressable(scn.tree, rule_paths(scn.tree.get("rules")))
    # every path a scenario can address has a place in the world, and the other way round
    assert set(plan.addresses) == {p for p in known}
    assert len(plan.addresses) == len(known)
