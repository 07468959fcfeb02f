"""One declaration per parameter: what the parts declare is what the schema, the plan,
the world, ``sim sources`` and ``sim schema`` show; overrides reach declared parameters
(numpy scalars, vector elements, a slot's model); a snapshot restores into N replicates."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import sim
from sim import docs
from sim.cli import app
from sim.parts import (
    declare_attr,
    declare_event,
    declare_predicate,
    declare_state,
    register,
    registry,
    scoped,
)
from sim.rules import RuleParams
from sim.scenario.schema import scenario_model
from sim.scenario.values import P, default
from sim.world.compile import compile_plan

from .conftest import MINI, load_text, make_world, write


def test_docs_parameter_tables_are_generated_from_the_declarations():
    assert docs.main(["--check"]) == 0  # docs/MODEL.md's tables equal what the declarations say
    text = docs.parameter_tables()
    for a in registry().attrs.values():
        assert f".{a.name}" in text
    for models in registry().rules.values():
        for d in models.values():
            for name in d.params.model_fields:
                assert f"`{name}`" in text


def test_stock_attribute_flows_from_declaration_to_every_layer(tmp_path, mini):
    attr = registry().attrs[("alliances", "credibility")]
    # schema and JSON Schema
    props = scenario_model().model_json_schema()["$defs"]["AllianceSpec"]["properties"]
    assert "credibility" in props and props["credibility"]["description"] == attr.doc
    # plan: a parameter entry and an address
    plan = compile_plan(mini.spec, mini.rules)
    assert any(e.path == "alliances.pact.credibility" for e in plan.entries)
    assert plan.address("alliances.pact.credibility").array == attr.array
    # sim sources lists it
    rows = {r["path"] for r in sim.load_scenario(tmp_path / "s.yaml").parameters()}
    assert "alliances.pact.credibility" in rows


def test_a_custom_attribute_rule_state_predicate_and_event_appear_everywhere(tmp_path):
    with scoped():
        declare_attr("states", "morale", P(0, 1), 0.5, "even morale unless stated", doc="Fighting morale, 0..1.")
        declare_state("weariness", ("S",), init=0.0, doc="war weariness")
        declare_predicate("weariness", ("state",), "num", "weariness(aa)",
                          lambda plan, a: (lambda s: lambda w: w.st.weariness[:, s])(plan.index_of("state")[a[0]]))
        declare_event("weariness.rises", ("state",), "{state} tires of war ({level:.2f})", ("level",))

        class WearyParams(RuleParams):
            rate: P(0, 1) = default(0.1, "a tenth of morale a month", symbol="w")

        @register("weariness", "simple", WearyParams, phase="escalation", default=True)
        def build(plan):
            def step(w):
                w.st.weariness += w.rp("weariness", "rate")[:, None] * (1 - w.par.morale)
                w.emit("weariness.rises", w.st.weariness > 0.5, level=w.st.weariness)
            return step

        text = MINI.replace("bb: {name: B, capability: 1.0, resolve: 0.6}",
                            "bb: {name: B, capability: 1.0, resolve: 0.6, morale: 0.9}")
        text += "  weary: {kind: condition, when: \"weariness(aa) > 1\"}\n"
        scn = load_text(tmp_path, text)
        assert scn.rules["weariness"].model == "simple"
        props = scenario_model().model_json_schema()["$defs"]["StateSpec"]["properties"]
        assert props["morale"]["description"] == "Fighting morale, 0..1."
        paths = {r["path"]: r for r in scn.parameters()}
        assert paths["states.bb.morale"]["value"] == "0.9" and paths["rules.weariness.rate"]["kind"] == "assumption"
        w = make_world(scn, n=20)
        for _ in range(12):
            w.step()
        # aa: morale 0.5 -> 0.05 a month; bb: 0.9 -> 0.01 a month
        assert np.allclose(w.st.weariness[:, 0], 0.6) and np.allclose(w.st.weariness[:, 1], 0.12)
        # above 0.5 in months 11 and 12 for aa, cc and dd (morale 0.5: 0.05 a month); never for bb
        assert np.all(w.counts["weariness.rises"] == 6)
        res = sim.run(scn, runs=50, seed=1)
        assert res.counts().loc["weariness.rises", "per_run"] > 0
        assert res.probabilities().loc["weary", "probability"] == 1.0  # 0.05 a month passes 1 in month 21
    # forgotten on leaving the scope
    assert "weariness" not in registry().slots and ("states", "morale") not in registry().attrs
    assert "morale" not in scenario_model().model_json_schema()["$defs"]["StateSpec"]["properties"]


def test_sim_schema_and_sources_show_declared_parameters(mini_path):
    r = CliRunner().invoke(app, ["schema"])
    assert r.exit_code == 0
    schema = json.loads(r.output)
    assert "available_capacity" in schema["$defs"]["StateSpec"]["properties"]
    r = CliRunner().invoke(app, ["sources", str(mini_path), "--format", "json"])
    assert r.exit_code == 0, r.output
    paths = {p["path"] for p in json.loads(r.output)["parameters"]}
    assert {"states.aa.available_capacity", "rules.escalation.beta_resolve", "alliances.pact.trigger_level"} <= paths


# ------------------------------------------------------------------- overrides


def test_overrides_accept_numpy_scalars(mini_path):
    scn = sim.load_scenario(mini_path, overrides={
        "alliances.pact.credibility": np.float32(0.25),
        "flashpoints.front.level": np.int64(3),
        "rules.escalation.beta_resolve": np.float64(2.0),
        "rules.alliance.cooldown_months": np.int32(4),
    })
    assert scn.spec.alliances["pact"].credibility.value == pytest.approx(0.25)
    assert scn.spec.flashpoints["front"].level.value == 3
    assert scn.rules["alliance"].params["cooldown_months"].value == 4


def test_element_paths_into_vector_parameters(mini_path):
    scn = sim.load_scenario(mini_path, overrides={"rules.escalation.base_up[2]": 0.5})
    up = scn.rules["escalation"].params["base_up"]
    assert up.value[2] == 0.5 and up.value[3] == 5.101  # the rest of the default vector is kept
    assert up.source is not None and "command line" in up.source.note
    plan = compile_plan(scn.spec, scn.rules)
    ad = plan.address("rules.escalation.base_up[2]")
    assert ad.index == (2,)
    w = make_world(scn, n=5)
    assert np.all(w.rp("escalation", "base_up")[:, 2] == 0.5)
    with pytest.raises(sim.InputError, match=r"has 6 entries \(0..5\); there is no \[6\]"):
        sim.load_scenario(mini_path, overrides={"rules.escalation.base_up[6]": 0.5})
    r = CliRunner().invoke(app, ["validate", str(mini_path), "--set", "rules.escalation.base_up[0]=0.1"])
    assert r.exit_code == 0, r.output


def test_element_paths_in_predicates_and_uncertainties(tmp_path):
    text = MINI + '  steep: {kind: condition, when: "value(rules.escalation.base_up[3]) > 0.04"}\n'
    text += "uncertainties:\n  rules.escalation.base_up[3]: {uniform: [0.01, 0.09]}\n"
    scn = load_text(tmp_path, text)
    res = sim.run(scn, runs=40, seed=2)
    assert res.probabilities().loc["steep", "probability"] == 1.0  # the file's default, 5.101


def test_set_a_slots_model(mini_path):
    assert "escalation" not in sim.load_scenario(mini_path, overrides=["rules.escalation.model=off"]).rules
    with scoped():
        class NoParams(RuleParams):
            pass

        @register("escalation", "frozen_conflict", NoParams)
        def build(plan):
            return lambda w: None

        # (limited offensives, a slot of their own, would still make clashes: off here)
        scn = sim.load_scenario(mini_path, overrides=["rules.escalation.model=frozen_conflict", "rules.offensive.model=off"])
        assert scn.rules["escalation"].model == "frozen_conflict"
        res = sim.run(scn, runs=30, seed=1)
        assert res.probabilities().loc["clash", "probability"] == 0.0  # nothing moves the ladder
        # an offensive borrows the ladder's defaults when the escalation model declares none
        res = sim.run(sim.load_scenario(mini_path, overrides=["rules.escalation.model=frozen_conflict"]), runs=30, seed=1)
        assert res.counts().loc["offensive.launch", "per_run"] > 0
    r = CliRunner().invoke(app, ["validate", str(mini_path), "--set", "rules.escalation.model=ladr"])
    assert r.exit_code == 2 and "unknown model 'ladr' (did you mean 'ladder'?)" in r.output


def test_a_phase_holds_several_rules_in_order(mini):
    with scoped():
        seen: list[str] = []

        class NoParams(RuleParams):
            pass

        @register("watch", "first", NoParams, phase="escalation", default=True)
        def b1(plan):
            return lambda w: seen.append(f"watch:{int(w.st.level[0, 0])}")

        from sim.rules import build_pipeline

        plan = compile_plan(mini.spec, sim.rules.resolve_rules({})[0])
        kinds = [k for k, _ in build_pipeline(plan)]
        assert kinds.index("escalation") < kinds.index("watch") < kinds.index("alliance")


# --------------------------------------------------------------- one to many


def test_a_snapshot_replicate_restores_into_n_continuations(mini):
    from sim.seeding import chunk_sequence, root_sequence

    one = make_world(mini, n=3, seed=5)
    for _ in range(4):
        one.step()
    snap = one.snapshot()
    many = make_world(mini, n=500, seed=9)
    many.restore(snap, replicate=1, seed_seq=chunk_sequence(root_sequence(123), 0))
    assert many.elapsed == 4 and many.n == 500
    for name in ("level", "trust", "capability", "status"):
        assert np.array_equal(many.st[name], np.repeat(snap["st"][name][1:2], 500, axis=0))
    assert np.array_equal(many.par.resolve, np.repeat(snap["par"].resolve[1:2], 500, axis=0))
    for _ in range(12):
        many.step()
    assert len(np.unique(many.st.level[:, 0])) > 1  # the continuations differ
    # the same seed gives the same continuations
    again = make_world(mini, n=500, seed=9)
    again.restore(snap, replicate=1, seed_seq=chunk_sequence(root_sequence(123), 0))
    for _ in range(12):
        again.step()
    assert np.array_equal(again.st.level, many.st.level)
    with pytest.raises(ValueError, match="say which replicate"):
        make_world(mini, n=7).restore(snap)


# ------------------------------------------------------- levers, uncertainties


def test_uncertainties_are_named_inputs_and_a_plain_run_ignores_them(tmp_path):
    text = MINI + "uncertainties:\n  alliances.pact.credibility: {uniform: [0.05, 0.5], source: {assumption: a wide range}}\n" \
                  "  flashpoints.front.level: {choice: [1, 2, 3]}\n"
    scn = load_text(tmp_path, text)
    unc = {u.path: u for u in scn.uncertainties()}
    assert unc["alliances.pact.credibility"].dist.support() == (0.05, 0.5)
    assert unc["alliances.pact.credibility"].source.note == "a wide range"
    assert unc["flashpoints.front.level"].kind == "int"
    plain = sim.run(scn, runs=400, seed=3)
    same = sim.run(load_text(tmp_path, MINI), runs=400, seed=3)
    assert plain.summary()["outcomes"] == same.summary()["outcomes"]


def test_parameter_sets_override_the_file_per_replicate(tmp_path):
    from sim import montecarlo

    scn = load_text(tmp_path, MINI + '  credible: {kind: condition, when: "value(alliances.pact.credibility) > 0.5"}\n')
    cred = np.repeat([0.0, 1.0, 0.9], 200)  # three parameter sets of 200 replicates, across chunks
    job = montecarlo.prepare(scn, runs=600, seed=2, chunk_size=150, fixed={"alliances.pact.credibility": cred})
    res = montecarlo.execute(job, *montecarlo.backend_for(job))
    assert res.probabilities().loc["credible", "hits"] == 400  # exactly the replicates of sets 2 and 3
    assert scn.spec.alliances["pact"].credibility.value == 0.3  # the file's value, untouched


def test_levers_pulled_from_the_start(tmp_path):
    text = MINI + """levers:
  bb:
    leave_pact: {description: Leave the pact, effect: {remove: {alliances.pact.members: [bb]}}}
  cc:
    send_monitors: {description: Monitors, effect: {add: {flashpoints.front.mediators: [dd]}}}
"""
    scn = load_text(tmp_path, text)
    res = sim.run(scn, runs=200, seed=1, levers=["bb.leave_pact"])
    assert res.levers == ["bb.leave_pact"] and res.manifest["levers"] == ["bb.leave_pact"]
    w = make_world(scn, n=4)
    assert np.all(w.st.status[:, 1, 0] == 1)  # without the lever bb is an active member
    from sim.world.compile import compile_plan as cp
    from sim.world.opening import open_world

    plan = cp(scn.spec, scn.rules, None, [("bb", "leave_pact"), ("cc", "send_monitors")])
    w2 = open_world(plan, 4, np.random.SeedSequence(1))
    assert np.all(w2.st.status[:, 1, 0] == 3)  # exited from the start
    assert np.all(w2.st.mediators[:, 0, 3])
    with pytest.raises(sim.InputError, match="'bb.leave': bb has no lever 'leave' \\(did you mean 'leave_pact'\\?\\)"):
        sim.run(scn, runs=10, levers=["bb.leave"])
    r = CliRunner().invoke(app, ["run", str(write(tmp_path, MINI, "plain.yaml")), "--runs", "10", "--lever", "bb.leave_pact"])
    assert r.exit_code == 2 and "--lever: 'bb.leave_pact': no levers for 'bb'" in r.output


@pytest.mark.parametrize("kwargs, message", [
    ({"record": "sum"}, "record is one of none, mean, counts"),
    ({"record": "counts", "levels": ("a", "b")}, "counts over levels need an integer array"),
    ({"record": "mean", "label": "{state} and {supplier}"}, r"unknown placeholder \{supplier\}"),
    ({"chart": "mine"}, "a charted state is recorded"),
    ({"column": "{state}.x"}, "a timeseries column needs record="),
])
def test_what_a_state_shows_is_checked_when_it_is_declared(kwargs, message):
    with scoped(), pytest.raises(ValueError, match=message):
        declare_state("odd", ("S",), **kwargs)


def test_declared_labels_and_columns_name_the_stock_parts(tmp_path):
    from sim.report.labels import label

    scn = sim.load_scenario("karabakh")
    assert label("states.armenia.resolve", scn.spec) == "Armenia's resolve"
    assert label("alliances.csto.trust.armenia", scn.spec) == "Armenia's trust in the CSTO"
    assert label("rules.escalation.base_up[2]", scn.spec) == \
        "escalation: up-rate from rung 2 (display or blockade) to 3 (fatal clash)"
    assert label("rules.escalation.base_up[5]", scn.spec) == "escalation: base up[5]"  # no phrase for it
    with scoped():
        declare_attr("states", "grit", P(0, 1), 0.2, "test", label="{state's} grit")
        assert label("states.armenia.grit", sim.load_scenario("karabakh").spec) == "Armenia's grit"
    res = sim.run(scn, runs=50, seed=1)
    cols = list(res.timeseries().columns)
    # groups by actor kind: flashpoints, then alliance members, territories, states' suppliers, outcomes
    assert cols[2:11] == [f"lachin.rung{i}" for i in range(6)] + ["lachin.mean_rung", "lachin.settled", "lachin.deaths"]
    assert cols.index("csto.armenia.trust") + 1 == cols.index("csto.armenia.active")
    assert cols.index("csto.armenia.exited") < cols.index("karabakh.held_by.azerbaijan") < \
        cols.index("armenia.share.russia_arms") < cols.index(f"P({res.outcomes[0].name})")
    assert "csto.azerbaijan.trust" not in cols  # never a member: none of its alliance columns
