"""Backtest question files: reading, checking, and binding questions to scenarios.

A question file (YAML) holds forecasting questions with known answers, each tied to
an outcome of a scenario::

    selection: every outcome the shipped scenarios declare, at 12 and 24 months
    model: calibration-frozen          # the tag or commit the questions are scored against
    scenario: karabakh                 # default for questions that name none (optional)
    questions:
      - id: lachin_war_12
        scenario: karabakh             # a shipped name or a path (relative to this file)
        question: Will Armenia and Azerbaijan fight a war within twelve months?
        outcome: war                   # an outcome the scenario declares, or inline:
                                       # {kind: escalation, flashpoint: lachin, reaches: 5}
        window_months: 12              # months 1..12 from the scenario's start
        resolution: {answer: no, date: 2024-06, source: "citation"}
        base_rate: {probability: 0.03, reference_class: "...", source: "citation"}

Reading it is two steps: :func:`read_questions` checks the file on its own (schema,
ids, numbers); :func:`bind_questions` loads each scenario once with its questions'
inline outcomes added and checks what needs the scenario (outcome names and specs,
resolution dates against the window). Both report every problem at once as
``file:line:col: questions[3].window_months: message``.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from .. import api
from ..api import find_scenario
from ..scenario.errors import InputError, Mark, Problem, known_hint, suggest
from ..scenario.expr import month_index, month_text
from ..scenario.load import read_tree
from ..scenario.schema import NAME_RE
from ..scenario.validation import validate_model
from ..scenario.yamlsafe import PDict, load_yaml_file, mark_of

MAX_WINDOW = 600
"""Longest window in months (the longest run ``sim run --months`` allows)."""
INLINE_PREFIX = "question_"
"""Inline outcomes are added to the scenario as ``question_<id>``."""


# ----------------------------------------------------------------------- schema


def _text(v: Any) -> str:
    if not isinstance(v, str):
        raise ValueError(f"expected text, got {v!r}; put it in quotes")
    if not v.strip():
        raise ValueError("is empty; write it out")
    return v.strip()


def _source(v: Any) -> str:
    if v is None or (isinstance(v, str) and not v.strip()):
        raise ValueError("is empty; cite where it comes from (author, title, date, page or address)")
    return _text(v)


def _probability(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        hint = ", e.g. 0.15 for 15%" if isinstance(v, str) and v.strip().endswith("%") else ""
        raise ValueError(f"a probability is a number between 0 and 1{hint} (got {v!r})")
    if not math.isfinite(v) or not 0 <= v <= 1:
        raise ValueError(f"a probability is between 0 and 1 (got {v:g})")
    return float(v)


def _window(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int | float) or (isinstance(v, float) and not v.is_integer()):
        raise ValueError(f"a window is a whole number of months from the scenario's start, 1 to {MAX_WINDOW} (got {v!r})")
    if not 1 <= v <= MAX_WINDOW:
        raise ValueError(f"a window is 1 to {MAX_WINDOW} months from the scenario's start (got {v:g})")
    return int(v)


def _answer(v: Any) -> bool:
    if isinstance(v, bool):  # YAML reads yes/no/true/false as booleans
        return v
    if isinstance(v, str) and v.strip().lower() in ("yes", "no"):
        return v.strip().lower() == "yes"
    raise ValueError(f"the answer is yes or no (got {v!r})")


def _date(v: Any) -> str:
    text = v if isinstance(v, str) else repr(v)
    if not isinstance(v, str) or not re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", v.strip()):
        raise ValueError(f"write the date as YYYY-MM-DD or YYYY-MM (got {text})")
    v = v.strip()
    try:
        if len(v) == 7:
            month_index(v)
        else:
            _dt.date.fromisoformat(v)
    except ValueError:
        raise ValueError(f"{v} is not a date; write YYYY-MM-DD or YYYY-MM") from None
    return v


def _outcome(v: Any) -> Any:
    if isinstance(v, str):
        if not NAME_RE.match(v):
            raise ValueError(f"'{v}' is not an outcome name; name an outcome of the scenario, "
                             "or give one inline as a mapping with kind:")
        return v
    if isinstance(v, dict):
        return v
    raise ValueError(f"expected the name of an outcome of the scenario, or an outcome as a mapping "
                     f"({{kind: escalation, flashpoint: lachin, reaches: 5}}), got {v!r}")


def _name(v: Any) -> str:
    if not isinstance(v, str) or not NAME_RE.match(v):
        raise ValueError(f"{v!r} is not a valid id; use lowercase letters, digits and '_' starting with a letter")
    return v


Text = Annotated[str, BeforeValidator(_text)]
SourceText = Annotated[str, BeforeValidator(_source)]
Probability = Annotated[float, BeforeValidator(_probability)]
Window = Annotated[int, BeforeValidator(_window)]
Answer = Annotated[bool, BeforeValidator(_answer)]
DateText = Annotated[str, BeforeValidator(_date)]
OutcomeField = Annotated[Any, BeforeValidator(_outcome)]
Id = Annotated[str, BeforeValidator(_name)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Resolution(_Strict):
    """How a question resolved: yes or no, when, and who says so."""

    answer: Answer = Field(description="yes: the outcome happened within the window; no: it did not.")
    date: DateText = Field(description="yes: when it happened; no: the end of the window (or when that was known).")
    source: SourceText = Field(description="Where the resolution comes from (a citation someone can check).")


class BaseRate(_Strict):
    """The reference-class forecaster's probability, and where it comes from."""

    probability: Probability
    reference_class: str = Field("", description="The class of past cases the rate is taken from.")
    source: SourceText


class QuestionSpec(_Strict):
    id: Id
    scenario: Text | None = None
    question: Text
    outcome: OutcomeField
    window_months: Window
    resolution: Resolution
    base_rate: BaseRate


class QuestionFile(_Strict):
    selection: Text = Field(description="The rule by which the questions were chosen.")
    model: Text = Field(description="The git tag or commit the questions are scored against.")
    scenario: Text | None = None
    questions: list[QuestionSpec] = Field(min_length=1)


# ------------------------------------------------------------------------ reading


@dataclass(frozen=True)
class Question:
    """One backtest question, checked on its own (not yet against its scenario).

    Attributes:
        id: Its id (unique in the file).
        index: Its place in the file's list (0-based), for messages.
        scenario: The scenario it names (``None``: the file's or the caller's default).
        text: The question in words.
        outcome: An outcome name the scenario declares, or an inline outcome mapping.
        window: Months from the scenario's start (month 1 is the start month).
        answer: True if it resolved yes.
        resolved_on: The resolution date as written (``YYYY-MM`` or ``YYYY-MM-DD``).
        resolution_source: The citation for the resolution.
        base_rate: The reference-class probability, 0..1.
        base_rate_source: Its citation.
        reference_class: The class it is taken from, in words.
        node: The question's mapping in the file (for positions).
    """

    id: str
    index: int
    scenario: str | None
    text: str
    outcome: str | dict
    window: int
    answer: bool
    resolved_on: str
    resolution_source: str
    base_rate: float
    base_rate_source: str
    reference_class: str
    node: Any = field(repr=False, compare=False, default=None)

    @property
    def inline(self) -> bool:
        return isinstance(self.outcome, dict)

    @property
    def outcome_name(self) -> str:
        """The name the outcome has in the run (``question_<id>`` for an inline one)."""
        return f"{INLINE_PREFIX}{self.id}" if self.inline else str(self.outcome)

    def where(self, key: str | None = None) -> Mark:
        return mark_of(self.node, key) if key is not None else mark_of(self.node)

    def path(self, *keys: str) -> str:
        return ".".join([f"questions[{self.index}]", *keys])


@dataclass(frozen=True)
class QuestionSet:
    """A question file, checked on its own.

    Attributes:
        path: The file.
        selection: The rule by which the questions were chosen.
        model: The tag or commit they are scored against, as written.
        scenario: The file's default scenario, if any.
        questions: The questions in file order.
        text: The file's content (saved with the backtest).
        node: The file's top mapping (for positions).
    """

    path: Path
    selection: str
    model: str
    scenario: str | None
    questions: list[Question]
    text: str = field(repr=False, default="")
    node: Any = field(repr=False, compare=False, default=None)


def read_questions(path: str | Path) -> QuestionSet:
    """Read and check a question file; :class:`InputError` lists every problem."""
    path = Path(path)
    file = str(path)
    tree = load_yaml_file(path)
    if not isinstance(tree, dict):
        raise InputError([Problem(getattr(tree, "mark", None) or Mark(file), "",
                                  "a question file is a mapping (selection:, model:, questions:), "
                                  f"not {'a list' if isinstance(tree, list) else repr(tree)}")])
    problems = _duplicate_ids(tree)
    try:
        spec = validate_model(QuestionFile, tree, file=file)
    except InputError as exc:
        raise InputError(problems + [_explained(p) for p in _misspelt(exc.problems)]) from None
    if problems:
        raise InputError(problems)
    nodes = tree["questions"]
    qs = [Question(q.id, i, q.scenario, q.question, q.outcome, q.window_months, q.resolution.answer,
                   q.resolution.date, q.resolution.source, q.base_rate.probability, q.base_rate.source,
                   q.base_rate.reference_class, nodes[i])
          for i, q in enumerate(spec.questions)]
    text = path.read_text(encoding="utf-8")
    return QuestionSet(path, spec.selection, spec.model, spec.scenario, qs, text, tree)


WHAT = {
    "selection": "the rule by which the questions were chosen, written before their answers were looked up",
    "model": "the git tag or commit the questions are scored against, e.g. calibration-frozen",
    "questions": "the list of questions",
}
"""What each file-level key holds, for a message saying it is missing."""


def _explained(p: Problem) -> Problem:
    """A missing file-level key, with what it holds."""
    for key, what in WHAT.items():
        if p.path == "" and p.message == f"missing required key '{key}'":
            return replace(p, message=f"{p.message}: {what}")
    return p


def _misspelt(problems: list[Problem]) -> list[Problem]:
    """Leave out "missing required key 'x'" where a misspelt key in the same place is
    reported as "(did you mean 'x'?)": one mistake, one line."""
    meant = set()
    for p in problems:
        m = re.match(r"unknown key '[^']*' \(did you mean '([^']*)'\?\)$", p.message)
        if m:
            meant.add((p.path.rpartition(".")[0] if "." in p.path else "", m.group(1)))
    return [p for p in problems
            if not (p.message.startswith("missing required key '")
                    and (p.path, p.message[len("missing required key '"):-1]) in meant)]


def _duplicate_ids(tree: Any) -> list[Problem]:
    """A question id used twice (checked on the file as written, with the schema's problems)."""
    nodes = tree.get("questions") if isinstance(tree, dict) else None
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for i, node in enumerate(nodes if isinstance(nodes, list) else []):
        qid = node.get("id") if isinstance(node, dict) else None
        if not isinstance(qid, str):
            continue
        if qid in seen:
            first = mark_of(nodes[seen[qid]], "id")
            problems.append(Problem(mark_of(node, "id"), f"questions[{i}].id",
                                    f"id '{qid}' is used twice (first at line {first.line}); give each question its own id"))
        seen.setdefault(qid, i)
    return problems


# ------------------------------------------------------------------------ binding


@dataclass
class Group:
    """The questions on one scenario, and the scenario with their outcomes added.

    Attributes:
        ref: The scenario as named (a shipped name or a path).
        scenario: The loaded scenario, inline outcomes added as ``question_<id>``.
        questions: Its questions, in file order.
    """

    ref: str
    scenario: Any
    questions: list[Question]

    @property
    def months(self) -> int:
        """The run's horizon: the longest window (later months cannot change a forecast)."""
        return max(q.window for q in self.questions)


def _scenario_path(ref: str, qfile: Path) -> Path:
    """A question's scenario: a path relative to the question file, else as :func:`sim.api.find_scenario`."""
    p = Path(ref)
    if not p.is_absolute() and ("/" in ref or p.suffix in (".yaml", ".yml")):
        near = qfile.parent / p
        if near.is_file():
            return near
    return find_scenario(ref)


def bind_questions(qset: QuestionSet, scenario: Any = None) -> list[Group]:
    """Load each scenario of the questions once, with their inline outcomes added.

    Args:
        qset: The question file (:func:`read_questions`).
        scenario: The default scenario of questions that name none and of a file that
            names none: a name, a path or a :class:`~sim.api.LoadedScenario`.

    Raises:
        InputError: Every problem at once: a question without a scenario, an unknown
            scenario or outcome, an inline outcome its scenario rejects (with the
            position in the question file), a resolution date outside the window.
    """
    problems: list[Problem] = []
    default = qset.scenario if qset.scenario is not None else scenario
    by_ref: dict[str, list[Question]] = {}
    given: dict[str, Any] = {}  # a LoadedScenario passed by the caller, by its key
    for q in qset.questions:
        ref = q.scenario if q.scenario is not None else default
        if ref is None:
            problems.append(Problem(q.where("id"), q.path(), "names no scenario; add scenario: to the question "
                                    "or to the file, or give the scenario on the command line"))
            continue
        key = ref if isinstance(ref, str) else f"<loaded {getattr(ref, 'name', '?')}>"
        by_ref.setdefault(key, []).append(q)
        if not isinstance(ref, str):
            given[key] = ref
    groups: list[Group] = []
    for ref, questions in by_ref.items():
        loaded = given.get(ref)
        try:
            if loaded is not None:
                tree, path, seeds, ov = loaded.tree, loaded.path, loaded.facts.folder, dict(loaded.overrides)
            else:
                path = _scenario_path(ref, qset.path)
                tree, seeds, ov = read_tree(path), None, {}
        except InputError as exc:
            for q in questions:
                if q.scenario is not None:  # named by the question
                    where, at = q.where("scenario"), q.path("scenario")
                elif qset.scenario is not None:  # named by the file
                    where, at = mark_of(qset.node, "scenario") or Mark(str(qset.path)), "scenario"
                else:  # the caller's (the command line's): its own problems say where
                    problems += exc.problems
                    continue
                problems += [Problem(where, at, f"scenario '{ref}': {p.message}") for p in exc.problems]
            continue
        start = _start(tree)
        if start is not None:  # checked even if the scenario has problems: all are reported at once
            problems += [pr for q in questions if (pr := _date_problem(q, start)) is not None]
        outs = tree.get("outcomes")
        declared = list(outs) if isinstance(outs, dict) else []
        tree, p = _with_outcomes(tree, questions, declared, str(qset.path))
        problems += p
        try:
            scn = api.load_tree(tree, path, seeds=seeds)
        except InputError as exc:
            problems += [_in_question(pr, questions) for pr in exc.problems]
            continue
        scn.overrides = ov
        groups.append(Group(ref, scn, questions))
    if problems:
        raise InputError(problems)
    return groups



def _with_outcomes(tree: PDict, questions: list[Question], declared: list[str], file: str) -> tuple[PDict, list[Problem]]:
    """A copy of the scenario tree with the inline outcomes added (the original untouched)."""
    problems = []
    for q in questions:
        if not q.inline and q.outcome not in declared:
            hint = suggest(str(q.outcome), declared) or known_hint("outcome", declared).replace("; outcomes are", "; the scenario's outcomes are")
            problems.append(Problem(q.where("outcome"), q.path("outcome"), f"unknown outcome '{q.outcome}'{hint}"))
    inline = [q for q in questions if q.inline]
    if not inline:
        return tree, problems
    new = PDict(tree, mark=tree.mark)
    new.key_marks, new.value_marks = dict(tree.key_marks), dict(tree.value_marks)
    old = tree.get("outcomes")
    outs = PDict(old if isinstance(old, dict) else {}, mark=getattr(old, "mark", None) or tree.mark)
    if isinstance(old, PDict):
        outs.key_marks, outs.value_marks = dict(old.key_marks), dict(old.value_marks)
    for q in inline:
        name = q.outcome_name
        if name in outs:
            problems.append(Problem(q.where("id"), q.path("id"), f"the scenario already has an outcome '{name}'; "
                                    "choose another id for this question"))
            continue
        outs[name] = q.outcome
        outs.key_marks[name] = outs.value_marks[name] = q.where("outcome")
    new["outcomes"] = outs
    if "outcomes" not in tree.key_marks:
        new.key_marks["outcomes"] = new.value_marks["outcomes"] = Mark(file)
    return new, problems


def _in_question(p: Problem, questions: list[Question]) -> Problem:
    """A scenario problem inside a question's inline outcome, named by the question's path."""
    for q in questions:
        prefix = f"outcomes.{q.outcome_name}"
        if q.inline and (p.path == prefix or p.path.startswith(prefix + ".") or p.path.startswith(prefix + "[")):
            return replace(p, path=q.path("outcome") + p.path[len(prefix):])
    return p


def _start(tree: Any) -> int | None:
    """The scenario's start month index, if its ``meta.start`` is a valid month."""
    meta = tree.get("meta")
    text = meta.get("start") if isinstance(meta, dict) else None
    if not isinstance(text, str) or not re.fullmatch(r"\d{4}-\d{2}", text):
        return None
    try:
        return month_index(text)
    except ValueError:
        return None


def _date_problem(q: Question, start: int) -> Problem | None:
    """A resolution date that does not fit the window (months ``start .. start+window-1``)."""
    when = month_index(q.resolved_on[:7])
    end = start + q.window - 1
    window = f"{month_text(start)} to {month_text(end)}"
    where, at = mark_of(q.node["resolution"], "date"), q.path("resolution", "date")
    if q.answer and when < start:
        return Problem(where, at, f"resolved yes on {q.resolved_on}, before the scenario starts (window {window}); "
                       "a question asks what happens after the start")
    if q.answer and when > end:
        return Problem(where, at, f"resolved yes on {q.resolved_on}, after the window ({window}): for this window "
                       "the answer is no (or give a longer window)")
    if not q.answer and when < end:
        return Problem(where, at, f"a 'no' is known when the window ends ({month_text(end)}), not on "
                       f"{q.resolved_on}; give the window's end (window {window})")
    return None


__all__ = ["BaseRate", "Group", "Question", "QuestionFile", "QuestionSet", "Resolution", "bind_questions", "read_questions"]
