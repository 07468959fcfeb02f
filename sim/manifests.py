"""Reading a run folder's ``manifest.json`` back, for ``sim rerun``: checked field by field.

A manifest is written by sim, but a folder may be copied, cut short or edited by hand.
:func:`read_manifest` checks what a rerun uses (:class:`RunManifest`: seed, runs, chunk
size, horizon, precision, levers, adaptive precision, model uncertainty, custom parts,
and a sweep's design) and reports every problem as one line naming the manifest and
the field (``run/manifest.json: seed: expected a whole number, got the text 'x'``).
:func:`sweep_arguments` turns a sweep's manifest back into the arguments of
:func:`sim.analysis.sweep.sweep`, so that ``sim rerun`` reruns a sweep as a sweep.
:func:`rerun_check` loads the run's resolved scenario and says what differs from the
original run (its custom parts, the versions, the scenario's hash); :func:`compare_runs`
lists the result files that differ between two run folders.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, field_validator

from .analysis.design import SWEEP_METHODS, sample
from .arguments import SEED_MAX
from .inputs import LEVER, inputs_for, parse_levers, parse_ranges
from .loading import LoadedScenario, _import_plugin, load_scenario, replaced_by
from .parts import registry
from .scenario.errors import InputError, Mark, Problem, json_cut_short
from .scenario.validation import sha256_hex, validate_model, whole_number
from .version import __version__


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

    method: Literal[SWEEP_METHODS]  # type: ignore[valid-type] - the sampled methods, or a design of your own
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
    sw = manifest["sweep"]
    file = str(folder / "manifest.json")
    if sw.get("method") == "design":  # its sets are the user's, not a sample the manifest can draw again
        given = f" ({sw['design']})" if sw.get("design") else ""
        raise InputError([Problem(Mark(file), "sweep.method", f"'design': a sweep of a design of your own{given} "
                                  "is not drawn from a seed, so it cannot be rerun from its folder; run `sim sweep "
                                  "SCENARIO --design FILE.csv` again with the same --seed and --runs")])
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


# ------------------------------------------------------------------ rerunning

COMPARED = ("summary.json", "outcomes.csv", "timeseries.csv")
"""The files of a run folder a rerun must reproduce byte for byte."""


def missing_parts(manifest: dict) -> list[str]:
    """What a run used that is not registered here: one sentence each.

    Modules the run's custom parts came from are imported first where they can be
    (a user module on the path); parts defined in a notebook or a script (``__main__``)
    must be registered again by the user.
    """
    used = manifest.get("custom_parts") or []
    for mod in sorted({p["module"] for p in used}):
        if mod != "__main__":
            problem, _ = _import_plugin(mod, "plugins", False, replaced_by(manifest), "add --replace-rule")
            if problem is not None and problem[0] == "replace":  # more than the run replaced
                raise InputError([problem[1]])
            # a module that cannot be imported: its parts are reported below as missing
    reg = registry()
    have = {
        "attrs": {f"{a.section}.*.{a.name}" for a in reg.attrs.values()},
        "state": set(reg.state),
        "targets": {f"{t.section}.*.{t.name}" for t in reg.targets.values()},
        "predicates": set(reg.predicates),
        "events": set(reg.events),
        "slots": set(reg.slots),
        "rules": {f"{k}.{m}" for k, models in reg.rules.items() for m in models},
        "outcomes": set(reg.outcomes),
    }
    out = []
    for p in used:
        if p["name"] not in have.get(p["what"], set()):
            where = ("a notebook or script (__main__)" if p["module"] == "__main__"
                     else f"module '{p['module']}', which cannot be imported here")
            out.append(f"the run used {p['what'][:-1] if p['what'] != 'state' else 'state'} '{p['name']}' from {where}")
    return out


def rerun_check(manifest: dict, folder: Path) -> tuple[LoadedScenario, list[tuple[str, str]]]:
    """Load the run's resolved scenario; list what differs from the original run, as
    ``(manifest field, why)``.

    A run that used custom parts no longer registered cannot be rerun: the
    :class:`InputError` says which parts and where they came from.
    """
    game = manifest.get("from_game")
    if game:  # continuations of a played game: its snapshot is in the saved game, not in the folder
        raise InputError([Problem(Mark(str(folder / "manifest.json")), "",
                                  "this run continued a played game from its state after turn "
                                  f"{game.get('turn')}; run it again with: sim run --from-game "
                                  f"{game.get('file', 'SAVED_GAME')} --turn {game.get('turn')}")])
    missing = missing_parts(manifest)
    if missing:
        raise InputError([Problem(Mark(str(folder / "manifest.json")), "",
                                  "; ".join(missing) + ". Register them (import the module, or run the notebook "
                                  "cell that defines them; `sim rerun --plugin MODULE`) and rerun")])
    scn = load_scenario(folder / "scenario.resolved.yaml")
    check_levers(manifest, scn, str(folder / "manifest.json"))
    reasons = []
    made_by = manifest["versions"].get("sim")
    if made_by != __version__:
        reasons.append(("versions.sim", f"the run was made by sim {made_by}; this is sim {__version__}"))
    if scn.sha256() != manifest["scenario_sha256"]:
        reasons.append(("scenario_sha256", "scenario.resolved.yaml has changed since the run (its SHA-256 differs "
                                           "from the manifest's)"))
    return scn, reasons


def compare_runs(a: Path, b: Path) -> list[str]:
    """The result files that differ between two run folders (byte for byte)."""
    return [f for f in COMPARED if not ((a / f).is_file() and (b / f).is_file() and (a / f).read_bytes() == (b / f).read_bytes())]
