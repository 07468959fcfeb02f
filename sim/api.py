"""The Python API: load a scenario, run it, get results. The CLI calls exactly these.

::

    import sim
    scn = sim.load_scenario("karabakh", overrides={"flashpoints.lachin.level": 3})
    res = sim.run(scn, runs=5000, seed=1)
    res.probabilities()
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import __version__
from .evidence.cards import FactBase, load_cards
from .evidence.provenance import check_sources
from .paths import repo_root, scenarios_dir
from .scenario.errors import InputError, Mark, Problem, option_error, suggest
from .scenario.load import apply_overrides, parse_overrides, read_tree
from .scenario.references import addressable, check_references
from .scenario.schema import Scenario
from .scenario.validation import fields_at, validate_model
from .scenario.values import Param

DEPENDENCIES = ("mesa", "numpy", "pandas", "pydantic", "pyyaml", "matplotlib", "typer", "rich")


# ----------------------------------------------------------------------- loading


def find_scenario(ref: str | Path) -> Path:
    """A scenario path, or the name of a shipped scenario (``karabakh``)."""
    if not isinstance(ref, str | Path):
        raise InputError([Problem(Mark(repr(ref)[:60]), "", "a scenario is a file path, a shipped scenario's name, or a mapping")])
    p = Path(ref)
    try:
        exists = p.exists() or p.is_symlink()  # a link that loops is reported as one
    except (OSError, ValueError):  # a name too long for the system, or with a NUL
        raise InputError([Problem(Mark(str(ref)[:60] + "..."), "", "not a usable file path; check the name")]) from None
    names = [q.stem for q in scenarios_dir().glob("*.yaml")]
    if not exists and p.suffix in (".yaml", ".yml") and p.stem in names:
        raise InputError(
            [
                Problem(
                    Mark(str(ref)),
                    "",
                    f"no such file; '{p.stem}' is a shipped scenario: to use it, give its name alone ({p.stem})",
                )
            ]
        )
    if exists or p.suffix in (".yaml", ".yml") or "/" in str(ref):
        return p
    shipped = scenarios_dir() / f"{ref}.yaml"
    if shipped.exists():
        return shipped
    raise InputError(
        [
            Problem(
                Mark(str(ref)),
                "",
                f"no such file, and no shipped scenario '{ref}'{suggest(str(ref), names)}; "
                "`sim list` shows the shipped ones",
            )
        ]
    )


def _plain(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_plain(v) for v in x]
    return x


@dataclass
class LoadedScenario:
    """A validated scenario with its mechanisms, ready to run.

    Attributes:
        spec: The typed scenario (:class:`sim.scenario.schema.Scenario`).
        rules: The mechanisms it uses, with every parameter (defaults filled in).
        path: The file it was read from.
        overrides: The ``--set`` overrides applied, ``{path: value}``.
        facts: The fact cards its sources were checked against.
    """

    spec: Scenario
    rules: dict
    path: Path
    overrides: dict[str, Any]
    facts: FactBase
    tree: Any = field(repr=False, default=None)

    @property
    def name(self) -> str:
        return self.spec.meta.name

    @property
    def meta(self):
        return self.spec.meta

    def resolved(self) -> dict[str, Any]:
        """The whole scenario as data: merged, overridden, every rule parameter explicit."""
        data = _plain(self.tree)
        data.pop("extends", None)
        rules: dict[str, Any] = {}
        from .rules import PHASES

        raw_rules = data.get("rules") or {}
        for kind in PHASES:
            rs = self.rules.get(kind)
            if rs is None:
                if isinstance(raw_rules.get(kind), dict) and raw_rules[kind].get("model") in ("off", False, "none"):
                    rules[kind] = {"model": "off"}
                continue
            entry: dict[str, Any] = {"model": rs.model}
            for pname, p in rs.params.items():
                entry[pname] = p.to_data() if p.source is not None else p.value
            rules[kind] = entry
        data["rules"] = rules
        return data

    def resolved_yaml(self) -> str:
        head = (
            f"# Resolved scenario '{self.name}' from {self.path}\n"
            "# (extends merged, overrides applied, every rule parameter explicit).\n"
            "# `sim run` on this file reproduces the run.\n"
        )
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        return head + yaml.dump(self.resolved(), Dumper=dumper, sort_keys=False, allow_unicode=True, width=100)

    def sha256(self) -> str:
        """Hash of the resolved scenario (canonical JSON)."""
        blob = json.dumps(self.resolved(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(blob.encode()).hexdigest()

    def with_overrides(self, overrides: dict[str, Any]) -> LoadedScenario:
        """The same scenario with more ``{path: value}`` overrides applied."""
        merged = {**self.overrides, **parse_overrides(overrides)}
        return load_scenario(self.path, overrides=merged, seeds=self.facts.folder)

    def parameters(self) -> list[dict[str, Any]]:
        """Every numeric parameter: path, value, source kind and note (for reports)."""
        from .world.compile import compile_plan

        plan = compile_plan(self.spec, self.rules)
        rows = []
        for e in plan.entries:
            p: Param = e.param
            src = p.source
            rows.append(
                {
                    "path": e.path,
                    "value": p.show(),
                    "kind": src.kind if src else "none",
                    "facts": list(src.facts) if src else [],
                    "derive": src.derive if src else None,
                    "note": src.note if src else "",
                    "origin": p.origin,
                }
            )
        return rows


def load_scenario(
    ref: str | Path | dict,
    overrides: dict[str, Any] | list[str] | None = None,
    *,
    seeds: str | Path | None = None,
) -> LoadedScenario:
    """Read, merge, override and check a scenario; raise :class:`InputError` listing all problems.

    Args:
        ref: A path to a YAML file, the name of a shipped scenario, or a mapping with
            the same content as a file (``extends`` resolved relative to the
            shipped scenarios).
        overrides: ``{"flashpoints.lachin.level": 3}`` or ``["flashpoints.lachin.level=3"]``.
        seeds: Folder of fact cards (default: the shipped ``seeds/``).
    """
    from .rules import DEFAULT_MODEL, REGISTRY, resolve_rules, rule_bounds, rule_paths

    problems: list[Problem] = []  # merging a child over its base can find some
    if isinstance(ref, dict):
        from .scenario.load import from_mapping

        path = Path("<mapping>")
        file = str(path)
        tree = from_mapping(ref, file, problems=problems)
    else:
        path = find_scenario(ref)
        file = str(path)
        tree = read_tree(path, problems=problems)
    ov = parse_overrides(overrides)
    if ov:
        rpaths = rule_paths(tree.get("rules"))
        known = addressable(tree, rpaths)

        def valid_new(parts: list[str]) -> bool:
            """May ``--set`` create this path? Never a new actor, only a known field."""
            dotted = ".".join(parts)
            if dotted in known:
                return True
            if parts[0] == "rules" and len(parts) == 3 and parts[1] in REGISTRY:
                spec = tree.get("rules", {}).get(parts[1], {}) if isinstance(tree.get("rules"), dict) else {}
                model = spec.get("model", DEFAULT_MODEL.get(parts[1])) if isinstance(spec, dict) else None
                rd = REGISTRY[parts[1]].get(model) if isinstance(model, str) else None
                return rd is not None and parts[2] in rd.params.model_fields
            parent: Any = tree
            for part in parts[:-1]:
                if not isinstance(parent, dict) or part not in parent:
                    return False
                parent = parent[part]
            fields = fields_at(Scenario, tuple(parts[:-1]))
            return fields is not None and parts[-1] in fields

        tree, p = apply_overrides(tree, ov, valid_new)
        problems += p
    spec = None
    try:
        spec = validate_model(Scenario, tree, file=file)
    except InputError as exc:
        problems += exc.problems
    rules, p = resolve_rules(tree.get("rules"), file)
    problems += p
    problems += check_references(tree, file, rule_paths(tree.get("rules")), rule_bounds(tree.get("rules")))
    facts = load_cards(seeds)
    problems += check_sources(tree, facts, file)
    if problems or spec is None:
        raise InputError(problems)
    return LoadedScenario(spec, rules, path, ov, facts, tree)


def list_scenarios() -> list[dict[str, str]]:
    """The shipped scenarios: name, title, start, horizon (files without ``meta`` are bases)."""
    out = []
    for p in sorted(scenarios_dir().glob("*.yaml")):
        try:
            raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            continue
        meta = raw.get("meta") if isinstance(raw, dict) else None
        if not isinstance(meta, dict):
            continue
        out.append(
            {
                "name": p.stem,
                "title": str(meta.get("title", "")),
                "start": str(meta.get("start", "")),
                "horizon_months": str(meta.get("horizon_months", "")),
                "path": str(p),
            }
        )
    return out


# ------------------------------------------------------------------------ running


@__import__("functools").lru_cache(maxsize=1)
def _versions() -> tuple:
    from importlib import metadata

    out = {"sim": __version__, "python": platform.python_version()}
    for d in DEPENDENCIES:
        try:
            out[d] = metadata.version(d)
        except metadata.PackageNotFoundError:
            out[d] = "not installed"
    return tuple(out.items())


def versions() -> dict[str, str]:
    """Versions of this package, Python and the dependencies (for the manifest)."""
    return dict(_versions())


def git_commit() -> str | None:
    root = repo_root()
    if root is None:
        return None
    try:
        sha = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        if sha.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, timeout=5)
        return sha.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def check_run_options(runs: int | None, workers: int | None, months: int | None, chunk_size: int | None) -> None:
    """Reject impossible options with the CLI's message format."""
    problems = []
    if runs is not None and runs < 1:
        problems.append(option_error("--runs", f"must be at least 1 (got {runs})").problems[0])
    if workers is not None and workers < 1:
        problems.append(option_error("--workers", f"must be at least 1 (got {workers})").problems[0])
    if months is not None and not 1 <= months <= 600:
        problems.append(option_error("--months", f"must be between 1 and 600 (got {months})").problems[0])
    if chunk_size is not None and chunk_size < 1:
        problems.append(option_error("--chunk-size", f"must be at least 1 (got {chunk_size})").problems[0])
    if problems:
        raise InputError(problems)


def run(
    scenario: LoadedScenario | str | Path,
    runs: int | None = None,
    seed: int | None = None,
    *,
    months: int | None = None,
    workers: int | None = None,
    chunk_size: int | None = None,
    dtype: str = "float32",
    progress: Callable[[int, int], None] | None = None,
    keep_trajectories: int = 300,
    backend: str = "auto",
    scheduler: str | None = None,
):
    """Run a scenario's Monte Carlo and return :class:`~sim.results.Results`.

    Args:
        scenario: A loaded scenario, or a path / shipped name to load.
        runs: Replicates (default: the scenario's ``meta.runs``).
        seed: Random seed (default: the scenario's ``meta.seed``).
        months: Horizon in months (default: the scenario's); events after it are ignored.
        workers: Processes (default: 1 for small runs, all cores for large ones).
        chunk_size: Replicates per chunk (results depend on it; recorded).
        dtype: Floating-point precision of the world's arrays: ``float32`` (default;
            results agree with ``float64`` within Monte Carlo error, ~25% faster) or
            ``float64``.
        progress: Called with (replicates done, total) as chunks finish.
        backend: ``auto`` (in-process for small runs, processes for large), ``local``
            (in-process), ``processes``, or ``dask`` (a LocalCluster, or the cluster at
            ``scheduler``, e.g. ``tcp://host:8786``). Results do not depend on it.

    On Ctrl-C the run stops at once and returns the chunks finished so far, with
    ``complete`` False. If a chunk fails, :class:`sim.runner.ChunkFailed` is raised,
    naming the chunk and the scenario; its ``partial`` holds the results merged before.
    """
    from .evidence.sources import provenance_rows
    from .outcomes import compile_outcomes
    from .results import OutcomeInfo, Results
    from .runner import (
        DEFAULT_CHUNK,
        ChunkFailed,
        InProcess,
        ProcessPool,
        choose_workers,
        empty_result,
        execute,
        make_tasks,
        peak_rss_mb,
    )
    from .world.compile import compile_plan

    t0 = time.perf_counter()
    scn = scenario if isinstance(scenario, LoadedScenario) else load_scenario(scenario)
    check_run_options(runs, workers, months, chunk_size)
    meta = scn.spec.meta
    runs = meta.runs if runs is None else runs
    seed = meta.seed if seed is None else seed
    horizon = meta.horizon_months if months is None else months
    chunk = chunk_size or DEFAULT_CHUNK
    plan = compile_plan(scn.spec, scn.rules, horizon)
    dets = compile_outcomes(plan)
    sha = scn.sha256()
    key = hashlib.sha256(f"{sha}:{horizon}:{dtype}".encode()).hexdigest()
    tasks = make_tasks(key, (scn.spec, scn.rules, horizon, dtype), runs, seed, chunk, 10_000, keep_trajectories)
    if dtype not in ("float32", "float64"):
        from .scenario.errors import option_error

        raise option_error("--precision", f"must be float32 or float64 (got {dtype!r})")
    if backend not in ("auto", "local", "processes", "dask"):
        from .scenario.errors import option_error

        raise option_error("--backend", f"must be auto, local, processes or dask (got {backend!r})")
    if scheduler and backend != "dask":
        backend = "dask"
    if backend == "dask":
        from .runner import DaskBackend

        runner_backend = DaskBackend(workers, scheduler)
        n_workers = runner_backend.workers
    else:
        if backend == "local":
            n_workers = 1
        elif backend == "processes":
            n_workers = max(2, workers or (os.cpu_count() or 2))
        else:
            n_workers = choose_workers(workers, runs, horizon, len(tasks))
        runner_backend = InProcess() if n_workers == 1 else ProcessPool(n_workers)
    res = Results(
        scenario=scn.name,
        title=meta.title,
        start=plan.start,
        horizon=horizon,
        seed=seed,
        runs_requested=runs,
        outcomes=[OutcomeInfo(d.name, d.kind, d.description, d.value_label) for d in dets],
        names={
            "states": plan.states,
            "alliances": plan.alliances,
            "suppliers": plan.suppliers,
            "flashpoints": plan.flashpoints,
            "territories": plan.territories,
        },
        labels={k: getattr(a, "name", "") or k for sect in (scn.spec.states, scn.spec.alliances, scn.spec.suppliers, scn.spec.flashpoints, scn.spec.territories) for k, a in sect.items()},
        structure={
            "sides": plan.sides.tolist(),
            "leaders": plan.leader.tolist(),
            "alliance_kind": list(plan.alliance_kind),
            "buyers": [i for i, s in enumerate(plan.states) if scn.spec.states[s].procurement_budget_usd.mean() > 0],
            "supplier_state": plan.supplier_state.tolist(),
        },
        resolved_yaml=scn.resolved_yaml(),
        inputs=provenance_rows(scn),
    )
    res.description = meta.description  # type: ignore[attr-defined]
    res.questions = list(meta.questions)  # type: ignore[attr-defined]
    res.merge(empty_result(tasks[0]))
    res.chunk_seconds.clear()
    t_setup = time.perf_counter()
    interrupted = False
    failure: ChunkFailed | None = None
    worker_rss: list[float] = []

    def merge(r) -> None:
        res.merge(r)
        worker_rss.append(r.peak_rss_mb)

    try:
        execute(tasks, runner_backend, merge, progress)
    except KeyboardInterrupt:
        interrupted = True
    except ChunkFailed as exc:
        failure = exc
    t_sim = time.perf_counter()
    res.complete = not interrupted and failure is None and res.runs == runs
    res.manifest = {
        "started": t0,  # perf_counter at the start; becomes wall_s in the written manifest
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "scenario": scn.name,
        "scenario_file": str(scn.path),
        "scenario_sha256": sha,
        "overrides": {k: v for k, v in scn.overrides.items()},
        "seed": seed,
        "runs_requested": runs,
        "horizon_months": horizon,
        "chunk_size": chunk,
        "chunks": len(tasks),
        "workers": n_workers,
        "backend": runner_backend.name,
        "scheduler": getattr(runner_backend, "scheduler", None),
        "dtype": dtype,
        "versions": versions(),
        "platform": platform.platform(),
        "git_commit": git_commit(),
        "command": sys.argv if sys.argv and sys.argv[0].endswith("sim") else None,
        "timings_s": {"setup": t_setup - t0, "simulation": t_sim - t_setup},
        "replicate_months_per_s": (res.runs * horizon) / max(t_sim - t_setup, 1e-9),
        "peak_rss_mb": {"main": peak_rss_mb(), "workers_max": max(worker_rss, default=0.0) if n_workers > 1 else None},
    }
    res.interrupted = interrupted  # type: ignore[attr-defined]
    if interrupted:
        res.manifest["stopped"] = "interrupted (Ctrl-C); chunks finished before it are kept"
    if failure is not None:
        res.manifest["stopped"] = str(failure)
        failure.partial = res  # type: ignore[attr-defined]
        raise failure
    return res


def default_output_dir(res, root: str | Path = "outputs") -> Path:
    """A new folder ``outputs/<scenario>/<YYYYmmdd-HHMMSS>-<hash>/`` (never an existing one)."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    h = hashlib.sha256(f"{res.manifest.get('scenario_sha256')}:{res.seed}:{res.runs_requested}:{res.horizon}".encode()).hexdigest()[:8]
    base = Path(root) / res.scenario
    base.mkdir(parents=True, exist_ok=True)
    for i in range(1000):
        name = f"{stamp}-{h}" + (f"-{i + 1}" if i else "")
        p = base / name
        try:
            p.mkdir()
            return p
        except FileExistsError:
            continue
    raise RuntimeError("could not create a new output folder")  # pragma: no cover


def prepare_out(out: str | Path) -> Path:
    """``--out DIR``: use it if it is new or empty; refuse a non-empty folder or a file."""
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise option_error("--out", f"{p} exists and is not a folder; choose a new folder")
    if p.is_dir() and any(p.iterdir()):
        raise option_error("--out", f"{p} is not empty; choose a new folder (runs never overwrite each other)")
    p.mkdir(parents=True, exist_ok=True)
    return p


# ------------------------------------------------------------------------- rerun

COMPARED = ("summary.json", "outcomes.csv", "timeseries.csv")


def read_manifest(path: str | Path) -> tuple[dict, Path]:
    """A run's manifest and folder; a clear error if it is not one."""
    p = Path(path)
    if p.is_dir():
        p = p / "manifest.json"
    if not p.is_file():
        raise InputError([Problem(Mark(str(p)), "", "no such manifest; give a run folder or its manifest.json")])
    try:
        m = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError([Problem(Mark(str(p)), "", f"not a run manifest (invalid JSON: {exc})")]) from None
    need = ("scenario_sha256", "seed", "runs_requested", "chunk_size", "horizon_months", "versions")
    missing = [k for k in need if k not in m]
    if not isinstance(m, dict) or missing:
        raise InputError([Problem(Mark(str(p)), "", f"not a run manifest (missing {', '.join(missing)})")])
    if not (p.parent / "scenario.resolved.yaml").is_file():
        raise InputError([Problem(Mark(str(p)), "", "the run folder has no scenario.resolved.yaml to rerun")])
    return m, p.parent


def rerun_check(manifest: dict, folder: Path) -> tuple[LoadedScenario, list[str]]:
    """Load the run's resolved scenario; list what differs from the original run."""
    scn = load_scenario(folder / "scenario.resolved.yaml")
    reasons = []
    made_by = manifest["versions"].get("sim")
    if made_by != __version__:
        reasons.append(f"the run was made by sim {made_by}; this is sim {__version__}")
    if scn.sha256() != manifest["scenario_sha256"]:
        reasons.append("scenario.resolved.yaml has changed since the run (its SHA-256 differs from the manifest's)")
    return scn, reasons


def compare_runs(a: Path, b: Path) -> list[str]:
    """The result files that differ between two run folders (byte for byte)."""
    return [f for f in COMPARED if not ((a / f).is_file() and (b / f).is_file() and (a / f).read_bytes() == (b / f).read_bytes())]
