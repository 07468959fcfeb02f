"""Reading a run folder's ``manifest.json`` back, for ``sim rerun``: checked field by field.

A manifest is written by sim, but a folder may be copied, cut short or edited by hand.
:func:`read_manifest` checks what a rerun uses (:class:`RunManifest`: seed, runs, chunk
size, horizon, precision, levers, adaptive precision, model uncertainty, custom parts,
and a sweep's design) and reports every problem as one line naming the manifest and
the field (``run/manifest.json: seed: expected a whole number, got the text 'x'``).
:func:`sweep_arguments` turns a sweep's manifest back into the arguments of
:func:`sim.analysis.sweep.sweep`, so that ``sim rerun`` reruns a sweep as a sweep.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, field_validator

from .api import SEED_MAX
from .scenario.errors import InputError, Mark, Problem, json_cut_short
from .scenario.validation import sha256_hex, validate_model, whole_number


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow")


class CustomPart(_Loose):
    what: str
    name: str
    module: str


class UncertaintyEntry(_Loose):
    sets: Annotated[int, whole_number(8)]
    runs: Annotated[int, whole_number(1)]


class FromGame(_Loose):
    turn: Annotated[int, whole_number(0)]
    file: str = "SAVED_GAME"


class SweepEntry(_Loose):
    """What ``sim sweep`` records of its design (``manifest.json``: ``sweep``)."""

    method: Literal["sobol", "morris", "lhs", "grid"]
    samples: Annotated[int, whole_number(1)]
    sets: Annotated[int, whole_number(1)]
    runs_per_set: Annotated[int, whole_number(1)]
    inputs: list[str]
    pulled: list[str] = []
    second_order: StrictBool | None = None
    ci_halfwidth: float | None = Field(None, gt=0, lt=0.5, strict=True)
    params: dict[str, tuple[float, float]] | None = None


class RunManifest(_Loose):
    """The fields of a run's manifest that ``sim rerun`` uses (others are kept as they are)."""

    scenario_sha256: Annotated[str, BeforeValidator(sha256_hex)]
    seed: Annotated[int, whole_number(0, SEED_MAX)]
    runs_requested: Annotated[int, whole_number(1)]
    chunk_size: Annotated[int, whole_number(1)]
    horizon_months: Annotated[int, whole_number(1, 600)]
    versions: dict[str, str]
    dtype: Literal["float32", "float64"] = "float64"
    levers: list[str] = []
    ci_halfwidth: float | None = Field(None, gt=0, lt=0.5, strict=True)
    uncertainty: UncertaintyEntry | None = None
    custom_parts: list[CustomPart] = []
    from_game: FromGame | None = None
    complete: StrictBool = True
    runs_completed: Annotated[int, whole_number(0)] | None = None
    sweep: SweepEntry | None = None

    @field_validator("versions")
    @classmethod
    def _sim_version(cls, v: dict[str, str]) -> dict[str, str]:
        if "sim" not in v:
            raise ValueError("missing the version of sim that made the run ('sim')")
        return v


def read_manifest(path: str | Path) -> tuple[dict, Path]:
    """A run's manifest (checked, as written) and its folder; :class:`InputError` otherwise."""
    p = Path(path)
    if p.is_dir():
        p = p / "manifest.json"
    where = Mark(str(p))
    if not p.is_file():
        raise InputError([Problem(where, "", "no such manifest; give a run folder or its manifest.json")])
    try:
        text = p.read_text(encoding="utf-8")
        m = json.loads(text)
    except json.JSONDecodeError as exc:
        if json_cut_short(text, exc):
            raise InputError([Problem(where, "", "the file is cut short (its JSON ends early): a copy that did not "
                                      "finish? give a whole copy of the run folder")]) from None
        raise InputError([Problem(where, "", f"not a run manifest (invalid JSON: {exc})")]) from None
    except UnicodeDecodeError as exc:
        raise InputError([Problem(where, "", f"not a run manifest (not UTF-8 text: {exc.reason} at offset "
                                  f"{exc.start})")]) from None
    except OSError as exc:
        raise InputError([Problem(where, "", f"cannot read it: {exc.strerror or exc}")]) from None
    need = [k for k, f in RunManifest.model_fields.items() if f.is_required()]
    if not isinstance(m, dict) or not any(k in m for k in need):
        raise InputError([Problem(where, "", "not a run manifest (none of " + ", ".join(need) + "); give the folder "
                                  "`sim run` or `sim sweep` wrote")])
    validate_model(RunManifest, m, file=str(p))
    if not (p.parent / "scenario.resolved.yaml").is_file():
        raise InputError([Problem(where, "", "the run folder has no scenario.resolved.yaml to rerun")])
    return m, p.parent


def check_levers(manifest: dict, scn: Any, file: str) -> None:
    """The manifest's levers (pulled, and a sweep's switched and pulled ones) against the scenario."""
    from .analysis.design import LEVER
    from .montecarlo import parse_levers

    problems = []
    sweep = manifest.get("sweep") or {}
    lists = [("levers", manifest.get("levers") or []), ("sweep.pulled", sweep.get("pulled") or []),
             ("sweep.inputs", sweep.get("inputs") or [])]
    for field, items in lists:
        for i, item in enumerate(items):
            if field == "sweep.inputs" and not item.startswith(LEVER):
                continue
            try:
                parse_levers(scn, [item[len(LEVER):] if item.startswith(LEVER) else item])
            except InputError as exc:
                problems.append(Problem(Mark(file), f"{field}[{i}]", exc.problems[0].message))
    if problems:
        raise InputError(problems)


def sweep_arguments(manifest: dict, folder: Path, scn: Any) -> dict[str, Any]:
    """The arguments of :func:`sim.analysis.sweep.sweep` that make a sweep again from its
    manifest (and, for a sweep of ``--param`` ranges made before the manifest recorded them,
    its ``summary.json``)."""
    from .analysis.design import LEVER

    sw = manifest["sweep"]
    file = str(folder / "manifest.json")
    inputs = [i for i in sw["inputs"] if not i.startswith(LEVER)]
    params = sw.get("params")
    if params is None and inputs != [u.path for u in scn.uncertainties()]:
        params = _ranges_from_summary(folder, inputs, file)
    args = {
        "method": sw["method"], "samples": sw["samples"], "runs": sw["runs_per_set"],
        "params": [f"{k}={float(v[0])!r}:{float(v[1])!r}" for k, v in params.items()] if params else None,
        "levers": [i[len(LEVER):] for i in sw["inputs"] if i.startswith(LEVER)] or None,
        "pull": list(sw.get("pulled") or []) or None, "seed": manifest["seed"],
        "months": manifest["horizon_months"], "chunk_size": manifest["chunk_size"],
        "dtype": manifest.get("dtype", "float64"), "second_order": sw.get("second_order") is not False,
        "ci_halfwidth": sw.get("ci_halfwidth"),
    }
    _check_design(args, sw, scn, file)
    return args


FIELD = {"params": "sweep.params", "samples": "sweep.samples", "method": "sweep.method", "levers": "sweep.inputs",
         "switch": "sweep.inputs", "pull": "sweep.pulled"}
"""The manifest field behind each argument of the sweep (problems name the field, not a flag)."""


def _check_design(args: dict[str, Any], sw: dict, scn: Any, file: str) -> None:
    """The design the manifest describes, drawn again before anything runs: its problems name
    the manifest's fields; a design of another size than the manifest says was edited."""
    from .analysis.design import inputs_for, parse_ranges, sample

    try:
        inputs = inputs_for(scn, parse_ranges(args["params"]) or None, args["levers"])
        _, values = sample(inputs, args["method"], args["samples"], int(args["seed"]) % (2**32),
                           second_order=args["second_order"])
    except InputError as exc:
        raise InputError([Problem(Mark(file), FIELD.get(p.mark.option or "", "sweep"), p.message)
                          for p in exc.problems]) from None
    if len(values) != sw["sets"]:
        raise InputError([Problem(Mark(file), "sweep.sets", f"{sw['sets']:,}, but its design ({args['method']}, "
                                  f"samples {args['samples']}, {len(inputs)} inputs) has {len(values):,} sets: "
                                  "the manifest was edited")])


def _ranges_from_summary(folder: Path, inputs: list[str], file: str) -> dict[str, tuple[float, float]]:
    """The ``--param`` ranges of an older sweep, from its summary.json's inputs."""
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        dists = {i["name"]: i["distribution"] for i in summary["inputs"]}
        out = {}
        for name in inputs:
            d = dists[name]
            if d["family"] != "uniform":
                raise ValueError(name)
            out[name] = (float(d["args"][0]), float(d["args"][1]))
        return out
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        raise InputError([Problem(Mark(file), "sweep.inputs", "the sweep varied ranges (--param) that neither its "
                                  "manifest nor a readable summary.json records; make it again with sim sweep ... "
                                  "--param PATH=LO:HI")]) from None
