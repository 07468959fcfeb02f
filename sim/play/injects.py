"""The instructor's injects: a deck of events added to a game from outside the scenario.

An inject file::

    injects:
      - name: convoy_fired_on
        description: A humanitarian convoy is fired on at the corridor checkpoint.
        at: 2023-10                       # optional: fires at the start of that month
        when: "level(lachin) >= 3"        # optional: fires the first month it holds
        effect: {set: {flashpoints.lachin.level: 3}}
        note: For the instructor — what it is meant to test.

An inject with neither ``at`` nor ``when`` waits in the deck until the instructor plays
it (``inject NAME`` at the prompt, or ``injects:`` in a moves file). The instructor can
also write an event on the spot (:func:`parse_event`). Every inject is applied with
:meth:`sim.world.model.World.apply_effect`, so its effect uses the scenario's language
and events it names fire the next month. Injects are the game's, not the scenario's; the
forecast after each turn expects those that fire by themselves and have not fired yet
(:func:`still_to_come`), as the game would apply them, and none the instructor plays by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from ..scenario.errors import InputError, Mark, Problem, suggest
from ..scenario.expr import month_index
from ..scenario.references import _Checker, rule_paths
from ..scenario.schema import Effect, Month, Name, Predicate, Strict
from ..scenario.validation import validate_model
from ..scenario.yamlsafe import load_yaml_file, load_yaml_text, mark_of


class Inject(Strict):
    """One event of the instructor's deck."""

    name: Name
    description: str = Field(description="What happens, in one sentence (the players read it).")
    at: Month | None = Field(None, description="Fires at the start of this month (YYYY-MM).")
    when: Predicate | None = Field(None, description="Fires at the start of the first month this holds.")
    effect: Effect
    note: str = Field("", description="For the instructor: what it is meant to test.")


class InjectFile(Strict):
    """A deck of injects."""

    injects: list[Inject] = Field(min_length=1)


def check_effect(scn: Any, effect: Any, container: Any, path: str, file: str) -> list[Problem]:
    """Problems with an effect's paths and names, as the scenario's own effects are checked."""
    ck = _Checker(scn.tree, file, rule_paths(scn.tree.get("rules")))
    ck.effect(effect, container, path)
    return ck.problems


def check_predicate(scn: Any, text: str, container: Any, key: str, path: str, file: str) -> list[Problem]:
    ck = _Checker(scn.tree, file, rule_paths(scn.tree.get("rules")))
    ck.predicate(text, container, key, path)
    return ck.problems


def read_checked(path: str | Path, model: type, key: str) -> tuple[str, Any, list[Problem], Any]:
    """A play file read and validated against ``model``: ``(file, parsed or None, the
    schema's problems, the raw list or mapping under key)``, for the checks that follow."""
    file = str(path)
    data = load_yaml_file(path)
    problems: list[Problem] = []
    parsed = None
    try:
        parsed = validate_model(model, data, file=file)
    except InputError as exc:
        problems += exc.problems
    raw = data.get(key) if isinstance(data, dict) else None
    return file, parsed, problems, raw


def load_injects(path: str | Path, scn: Any) -> list[Inject]:
    """Read and check an inject file against a scenario: one ``file:line:col`` problem each."""
    file, deck, problems, raw = read_checked(path, InjectFile, "injects")
    start = month_index(scn.spec.meta.start)
    seen: dict[str, int] = {}
    for i, item in enumerate(raw if isinstance(raw, list) else []):
        if not isinstance(item, dict):
            continue
        p = f"injects[{i}]"
        name = item.get("name")
        if isinstance(name, str):
            if name in seen:
                problems.append(Problem(mark_of(item, "name") or Mark(file), f"{p}.name",
                                        f"inject name '{name}' is used twice (also injects[{seen[name]}])"))
            seen[name] = i
        if isinstance(item.get("effect"), dict):
            problems += check_effect(scn, item["effect"], item, f"{p}.effect", file)
        if isinstance(item.get("when"), str):
            problems += check_predicate(scn, item["when"], item, "when", f"{p}.when", file)
        at = item.get("at")
        if isinstance(at, str):
            try:
                if month_index(at) < start:
                    problems.append(Problem(mark_of(item, "at") or Mark(file), f"{p}.at",
                                            f"{at} is before the scenario starts ({scn.spec.meta.start})"))
            except ValueError:
                pass  # the schema reports it
        for key in ("description", "note"):  # fact ids cited in [brackets] must exist, as in a scenario
            from ..evidence.provenance import CITED

            text = item.get(key)
            for m in CITED.finditer(text if isinstance(text, str) else ""):
                if m.group(1) not in scn.facts.facts:
                    where = mark_of(item, key)
                    problems.append(Problem(where.shifted(m.start() + 1) if where else Mark(file), f"{p}.{key}",
                                            f"cites unknown fact [{m.group(1)}]{suggest(m.group(1), scn.facts.facts)}"))
        if item.get("at") is not None and item.get("when") is not None:
            problems.append(Problem(mark_of(item, "when") or Mark(file), f"{p}.when",
                                    "an inject has either 'at' (a month) or 'when' (a condition), not both"))
    if problems or deck is None:
        raise InputError(problems)
    return deck.injects


def parse_event(text: str, scn: Any, name: str = "instructor_event") -> Inject:
    """An event the instructor writes at the prompt: ``DESCRIPTION | EFFECT``, the effect in
    the scenario's language as YAML, e.g.
    ``Embargo on Russian arms | {multiply: {suppliers.russia_arms.reliability: 0.5}}``."""
    desc, bar, eff = text.partition("|")
    file = "<event>"
    if not bar or not desc.strip() or not eff.strip():
        raise InputError([Problem(Mark(file), "", "write an event as DESCRIPTION | EFFECT, e.g. "
                                  "Embargo on Russian arms | {multiply: {suppliers.russia_arms.reliability: 0.5}}")])
    effect = load_yaml_text(eff.strip(), file)
    data = {"name": name, "description": desc.strip(), "effect": effect}
    inj = validate_model(Inject, data, file=file)
    problems = check_effect(scn, effect, data, "effect", file)
    if problems:
        raise InputError(problems)
    return inj


def find(deck: list[Inject], name: str) -> Inject:
    """The deck's inject called ``name`` (a clear error naming the deck's injects if none)."""
    for inj in deck:
        if inj.name == name:
            return inj
    names = [i.name for i in deck]
    hint = suggest(name, names) or (f"; the deck holds {', '.join(names)}" if names else "; no inject file was given (--injects)")
    raise InputError([Problem(Mark("<inject>"), "", f"no inject '{name}'{hint}")])


def still_to_come(deck: list[Inject], turns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The injects of ``deck`` that fire by themselves (``at`` a month or ``when`` a
    condition holds) and did not fire in ``turns`` (a game's turn records, each naming the
    injects it applied): ``{"name", "at", "when", "effect"}`` as
    :attr:`sim.runner.RunSpec.month_effects` takes them (a forecast's continuations apply
    them as the game would: at the start of their month, before its rules)."""
    fired = {name for t in turns for name in t.get("injects", [])}
    return [{"name": i.name, "at": i.at, "when": i.when, "effect": i.effect.model_dump(mode="json")}
            for i in deck if (i.at is not None or i.when is not None) and i.name not in fired]
