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
import platform
import subprocess
import sys
from collections.abc import Callable, Iterable
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
from .scenario.validation import fields_at, validate_model
from .scenario.values import Param

DEPENDENCIES = ("mesa", "numpy", "pandas", "pydantic", "pyyaml", "matplotlib", "typer", "rich", "scipy", "salib")


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


@dataclass(frozen=True)
class Uncertainty:
    """A named input whose value nobody controls, with its plausible range.

    Attributes:
        path: The parameter it sets (``alliances.csto.credibility``).
        dist: Its distribution over parameter sets (:class:`sim.scenario.values.Dist`).
        source: Where the range comes from, if the file says.
        kind: ``num`` or ``int``.
        bounds: The parameter's allowed range.
    """

    path: str
    dist: Any
    source: Any
    kind: str
    bounds: tuple[float, float]


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

    spec: Any
    rules: dict
    path: Path
    overrides: dict[str, Any]
    facts: FactBase
    tree: Any = field(repr=False, default=None)
    _plan: Any = field(repr=False, default=None, compare=False)

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
        from .parts import registry

        raw_rules = data.get("rules") or {}
        for kind in (s.kind for s in registry().slots_in_order()):
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

    def uncertainties(self) -> list[Uncertainty]:
        """The scenario's ``uncertainties:``: named inputs a study samples once per
        parameter set (a plain run keeps the file's values)."""
        from .scenario.values import parse_dist, parse_source

        plan = self.compiled()
        out = []
        for path, raw in self.spec.uncertainties.items():
            raw = dict(raw)
            source = parse_source(raw.pop("source")) if raw.get("source") is not None else None
            raw.pop("source", None)
            ad = plan.address(path)
            if ad is None and path.startswith("rules."):
                continue  # a parameter of a mechanism switched off in this run
            out.append(Uncertainty(path, parse_dist(raw), source, ad.kind if ad else "num",
                                   (ad.bounds.lo, ad.bounds.hi) if ad else (float("-inf"), float("inf"))))
        return out

    def problem(self, params: dict[str, tuple[float, float]] | list[str] | None = None,
                levers: list[str] | None = None, outputs: list[str] | None = None) -> Any:
        """A SALib ``ProblemSpec`` of the scenario's uncertainties (or of ``params``
        ranges ``{path: (lo, hi)}`` / ``["PATH=LO:HI"]``), plus levers switched on/off
        (uniform on [0, 1], on from 0.5). Names are the parameter paths; ``outputs`` are
        the outcomes whose probabilities the results will hold, in that order (default:
        every outcome of the scenario), so SALib's analyses are keyed by outcome name
        (``sp.analysis["lachin_fatal_clash"]``) rather than ``Y1, Y2...``.
        :func:`sim.evaluate` gives those results: ``sp.set_results(ev.outputs(sp))``."""
        from .analysis.design import inputs_for, parse_ranges, problem

        names = list(self.spec.outcomes)
        chosen = names if outputs is None else [outputs] if isinstance(outputs, str) else list(outputs)
        bad = [o for o in chosen if o not in names]
        if bad or not chosen:
            what = f"no outcome '{bad[0]}'{suggest(bad[0], names)}" if bad else "give at least one outcome"
            raise option_error("outputs", f"{what}; outcomes are {', '.join(names)}")
        return problem(inputs_for(self, parse_ranges(params) or None, levers), chosen)

    def compiled(self) -> Any:
        """The scenario's plan at its own horizon, without levers (compiled once)."""
        if self._plan is None:
            from .world.compile import compile_plan

            self._plan = compile_plan(self.spec, self.rules)
        return self._plan

    def parameters(self) -> list[dict[str, Any]]:
        """Every numeric parameter: path, value, source kind and note (for reports)."""
        plan = self.compiled()
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
    problems: list[Problem] = []  # merging a child over its base can find some
    if isinstance(ref, dict):
        from .scenario.load import from_mapping

        path = Path("<mapping>")
        tree = from_mapping(ref, str(path), problems=problems)
    else:
        path = find_scenario(ref)
        tree = read_tree(path, problems=problems)
    return load_tree(tree, path, overrides, seeds=seeds, problems=problems)


def load_tree(
    tree: Any,
    path: Path,
    overrides: dict[str, Any] | list[str] | None = None,
    *,
    seeds: str | Path | None = None,
    problems: list[Problem] | None = None,
) -> LoadedScenario:
    """Override and check a scenario already read into a positioned tree (``extends`` merged).

    The second half of :func:`load_scenario`, for callers that add to a scenario's tree
    before it is checked (``sim backtest`` adds its questions' outcomes, whose positions
    point into the question file).

    Args:
        tree: The scenario as :class:`~sim.scenario.yamlsafe.PDict` (``read_tree``).
        path: The file it was read from (named in problems without a position).
        overrides: As for :func:`load_scenario`.
        seeds: Folder of fact cards (default: the shipped ``seeds/``).
        problems: Problems already found reading the tree (merging a child over its base).
    """
    from .parts import registry
    from .rules import resolve_rules
    from .scenario.references import rule_bounds, rule_paths
    from .scenario.schema import scenario_model

    reg = registry()
    Scenario = scenario_model()
    file = str(path)
    problems = list(problems or [])
    ov = parse_overrides(overrides)
    if ov:
        rpaths = rule_paths(tree.get("rules"))
        known = addressable(tree, rpaths)

        def valid_new(parts: list[str]) -> bool:
            """May ``--set`` create this path? Never a new actor, only a known field."""
            dotted = ".".join(parts)
            if dotted in known:
                return True
            if parts[0] == "rules" and len(parts) == 3 and parts[1] in reg.slots:
                if parts[2] == "model":
                    return True  # --set rules.KIND.model=NAME picks another model (or off)
                rd = _chosen_rule(tree, parts[1])
                return rd is not None and parts[2] in rd.params.model_fields
            parent: Any = tree
            for part in parts[:-1]:
                if not isinstance(parent, dict) or part not in parent:
                    return False
                parent = parent[part]
            fields = fields_at(Scenario, tuple(parts[:-1]))
            return fields is not None and parts[-1] in fields

        def default_of(path: str) -> Any:
            """The default of a vector rule parameter the file does not write."""
            parts = path.split(".")
            if parts[0] != "rules" or len(parts) != 3:
                return None
            rd = _chosen_rule(tree, parts[1])
            f = rd.params.model_fields.get(parts[2]) if rd is not None else None
            if f is None:
                return None
            value = f.get_default(call_default_factory=True).value
            return list(value) if isinstance(value, tuple) else None

        tree, p = apply_overrides(tree, ov, valid_new, default_of)
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


def _chosen_rule(tree: Any, kind: str) -> Any:
    """The registered rule a scenario tree picks for slot ``kind`` (None if off or unknown)."""
    from .parts import registry

    reg = registry()
    slot = reg.slots.get(kind)
    if slot is None:
        return None
    rules = tree.get("rules") if isinstance(tree.get("rules"), dict) else {}
    spec = rules.get(kind) if isinstance(rules.get(kind), dict) else {}
    model = spec.get("model", slot.default)
    return reg.rules.get(kind, {}).get(model) if isinstance(model, str) else None


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


SEED_MAX = 2**63 - 1
"""Largest seed (the same bound as ``meta.seed`` in a scenario file)."""
BACKENDS = ("auto", "local", "processes", "dask")
DTYPES = ("float32", "float64")


def _whole(x: Any) -> bool:
    import numbers

    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def check_run_options(
    runs: int | None,
    workers: int | None,
    months: int | None,
    chunk_size: int | None,
    *,
    seed: int | None = None,
    dtype: str | None = None,
    backend: str | None = None,
    scheduler: str | None = None,
    ci_halfwidth: float | None = None,
    worker_timeout: float | None = None,
) -> None:
    """Reject impossible options before anything is computed or created.

    Problems name the arguments of :func:`run` (``seed``, ``dtype``, ``chunk_size``);
    the CLI names its flags instead (``--seed``, ``--precision``, ``--chunk-size``).
    """
    problems = []

    def bad(name: str, message: str) -> None:
        problems.append(option_error(name, message).problems[0])

    import numpy as np

    if isinstance(seed, np.random.SeedSequence):
        seed = None  # a SeedSequence is valid as it is
    for name, value, low in (("runs", runs, 1), ("workers", workers, 1), ("chunk_size", chunk_size, 1), ("seed", seed, 0)):
        if value is None:
            continue
        if not _whole(value):
            bad(name, f"must be a whole number (got {value!r})")
        elif value < low:
            bad(name, f"must be at least {low} (got {value})")
    if _whole(seed) and seed > SEED_MAX:
        bad("seed", f"must be at most {SEED_MAX} (got {seed})")
    if months is not None and not (_whole(months) and 1 <= months <= 600):
        bad("months", f"must be between 1 and 600 (got {months!r})")
    if dtype is not None and dtype not in DTYPES:
        bad("dtype", f"must be float32 or float64 (got {dtype!r})")
    if backend is not None and backend not in BACKENDS:
        bad("backend", f"must be auto, local, processes or dask (got {backend!r})")
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
        bad("scheduler", f"must be a scheduler address such as tcp://host:8786 (got {scheduler!r})")
    if scheduler and backend not in (None, "auto", "dask"):
        bad("scheduler", f"needs the dask backend (got backend {backend!r})")
    if ci_halfwidth is not None:
        ok = isinstance(ci_halfwidth, int | float) and not isinstance(ci_halfwidth, bool)
        if not ok or not 0 < ci_halfwidth < 0.5:
            bad("ci_halfwidth", f"must be a number between 0 and 0.5, e.g. 0.01 for +/- one point (got {ci_halfwidth!r})")
    if worker_timeout is not None:
        ok = isinstance(worker_timeout, int | float) and not isinstance(worker_timeout, bool)
        if not ok or not 0 < worker_timeout < 1e7:
            bad("worker_timeout", f"must be a number of seconds above 0 (got {worker_timeout!r})")
    if problems:
        raise InputError(problems)


ADAPTIVE_MAX_RUNS = 1_000_000
"""Most runs an adaptive run (``ci_halfwidth``) does unless ``runs`` says otherwise."""


def run(
    scenario: LoadedScenario | str | Path,
    runs: int | None = None,
    seed: int | Any | None = None,
    *,
    months: int | None = None,
    workers: int | None = None,
    chunk_size: int | None = None,
    dtype: str = "float32",
    progress: Callable[[int, int], None] | None = None,
    keep_trajectories: int = 300,
    backend: str = "auto",
    scheduler: str | None = None,
    oversubscribe: bool = False,
    levers: list[str] | None = None,
    replicates: bool | str | Path = False,
    ci_halfwidth: float | None = None,
    trajectories: bool | str | Path = False,
    worker_timeout: float | None = None,
):
    """Run a scenario's Monte Carlo and return :class:`~sim.results.Results`.

    Args:
        scenario: A loaded scenario, or a path / shipped name to load.
        runs: Replicates (default: the scenario's ``meta.runs``).
        seed: Random seed, 0 to 2**63 - 1, or a ``numpy.random.SeedSequence``
            (default: the scenario's ``meta.seed``).
        months: Horizon in months (default: the scenario's); events after it are ignored.
        workers: Local worker processes (default: 1 for small runs, all cores for large
            ones). At most the cores available (a :class:`~sim.runner.WorkersCapped`
            warning says so) unless ``oversubscribe``; never more than the chunks.
        chunk_size: Replicates per chunk (results depend on it; recorded).
        dtype: Floating-point precision of the world's arrays: ``float32`` (default;
            results agree with ``float64`` within Monte Carlo error, ~25% faster) or
            ``float64``.
        progress: Called with (replicates done, total) as chunks finish.
        backend: ``auto`` (in-process for small runs, processes for large), ``local``
            (in-process), ``processes``, or ``dask`` (a LocalCluster, or the cluster at
            ``scheduler``, e.g. ``tcp://host:8786``). Results do not depend on it.
        oversubscribe: Allow more workers than cores.
        levers: Levers pulled from the start, ``["armenia.freeze_csto", ...]`` (the
            scenario's ``levers:``).
        replicates: Keep one row per replicate for :meth:`Results.replicates`:
            ``True`` in memory, or a path to stream a Parquet file to, chunk by chunk
            (needs pyarrow, ``sim[research]``). Off by default.
        ci_halfwidth: Adaptive precision: stop adding chunks once every outcome's 95%
            interval is narrower than +/- this (0.01 = one percentage point); ``runs``
            is then the most runs to do (default 1,000,000). Results are the same on
            every backend (chunks are merged and checked in order).
        trajectories: Keep every replicate's monthly values of the recorded states for
            :meth:`Results.trajectories`: ``True`` in memory, or a path to stream a
            Parquet file to, chunk by chunk (:mod:`sim.trajectories` gives its schema;
            needs pyarrow, ``sim[research]``). Off by default: it holds
            chunk size x months x recorded elements values per chunk.
        worker_timeout: Dask: seconds to wait with no worker left (all lost) before the
            run stops with ``workers-lost`` (default :data:`sim.runner.WORKER_TIMEOUT_S`,
            60). A worker lost on the way is said (a :class:`sim.runner.WorkerLost`
            warning) and recorded in the manifest (``workers_lost``, ``chunks_retried``);
            the scheduler runs its chunks elsewhere and the results do not change.

    Every option is checked before anything runs (:class:`InputError` naming the
    argument; a scheduler that does not answer is one too). On Ctrl-C (or
    :class:`sim.interrupts.Terminated`, which the CLI raises on SIGTERM) the run stops at
    once and returns the chunks finished so far, with ``complete`` False and
    ``stopped_by`` saying what stopped it. If a chunk fails or a worker dies,
    :class:`sim.runner.ChunkFailed` is raised, naming the chunk and the scenario; its
    ``partial`` holds the results merged before.
    """
    from . import montecarlo

    check_run_options(runs, workers, months, chunk_size, seed=seed, dtype=dtype, backend=backend, scheduler=scheduler,
                      ci_halfwidth=ci_halfwidth, worker_timeout=worker_timeout)
    scn = scenario if isinstance(scenario, LoadedScenario) else load_scenario(scenario)
    if ci_halfwidth is not None and runs is None:
        runs = ADAPTIVE_MAX_RUNS
    consumers = []
    if replicates is not False and replicates is not None:
        from .replicates import ReplicateTable

        consumers.append(ReplicateTable(None if replicates is True else replicates))
    if trajectories is not False and trajectories is not None:
        from .trajectories import TrajectoryTable

        consumers.append(TrajectoryTable(None if trajectories is True else trajectories))
    job = montecarlo.prepare(scn, runs=runs, seed=seed, months=months, chunk_size=chunk_size, dtype=dtype,
                             levers=levers, keep_trajectories=keep_trajectories, per_replicate=bool(consumers),
                             trajectories=trajectories is not False and trajectories is not None)
    engine, n_workers = montecarlo.backend_for(job, workers=workers, backend=backend, scheduler=scheduler,
                                              oversubscribe=oversubscribe, worker_timeout=worker_timeout)
    return montecarlo.execute(job, engine, n_workers, progress, workers_requested=workers, oversubscribe=oversubscribe,
                              consumers=consumers, ci_halfwidth=ci_halfwidth)


def save(res: Any, folder: str | Path | None = None, *, report: bool = True) -> Path:
    """Write a run folder: data files, and figures with report.html unless ``report=False``.

    ``folder`` must be new or empty (default: a new folder under ``outputs/<scenario>/``).
    """
    from .report import write_report

    target = prepare_out(folder) if folder is not None else default_output_dir(res)
    return res.save(target, report=write_report if report else None)


def default_output_dir(res, root: str | Path = "outputs") -> Path:
    """A new folder ``outputs/<scenario>/<YYYYmmdd-HHMMSS>-<hash>/`` (never an existing one)."""
    h = hashlib.sha256(f"{res.manifest.get('scenario_sha256')}:{res.seed}:{res.runs_requested}:{res.horizon}".encode()).hexdigest()[:8]
    return new_folder(Path(root) / res.scenario, suffix=f"-{h}")


def new_folder(base: str | Path, prefix: str = "", suffix: str = "", *, create: bool = True) -> Path:
    """A new folder ``BASE/<prefix><YYYYmmdd-HHMMSS><suffix>``, ``-2``, ``-3``... appended when
    that exists (never an existing one); made at once, or with ``create=False`` only named.
    A folder that cannot be made is an :class:`~sim.results.OutputError` naming it."""
    from .results import OutputError

    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path(base)
    if create:
        try:
            base.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError.from_os(base, exc) from exc
    for i in range(1000):
        p = base / (f"{prefix}{stamp}{suffix}" + (f"-{i + 1}" if i else ""))
        if not create:
            if not p.exists():
                return p
            continue
        try:
            p.mkdir()
            return p
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError.from_os(p, exc) from exc
    raise RuntimeError("could not find a new output folder")  # pragma: no cover


def check_out(out: str | Path) -> Path:
    """``--out DIR``: accept a new or empty folder, refuse a non-empty one or a file.

    Creates nothing: the folder is made when the run is saved (:func:`prepare_out`),
    so a run stopped by a bad option leaves nothing behind.
    """
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise option_error("--out", f"{p} exists and is not a folder; choose a new folder")
    if p.is_dir() and any(p.iterdir()):
        raise option_error("--out", f"{p} is not empty; choose a new folder (runs never overwrite each other)")
    return p


def kernels_to_compile(scn: LoadedScenario) -> list[str]:
    """The compiled kernels a run of ``scn`` will compile first (the first run on a machine,
    or after an upgrade: seconds); empty once numba's disk cache holds them all."""
    from .rules.kernels import uncached

    return uncached(scn.compiled())


def prepare_out(out: str | Path) -> Path:
    """``--out DIR``: check it (:func:`check_out`) and create it.

    A folder that cannot be created (read-only, full disk) is an
    :class:`~sim.results.OutputError`, reported after the results have been shown.
    """
    from .results import OutputError

    p = check_out(out)
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError.from_os(p, exc) from exc
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


def load_plugins(modules: list[str] | None, argument: str = "plugins", *, replace_rules: bool = False,
                 allowed: Iterable[str] = (), flag: str = "pass replace_rules=True") -> list[str]:
    """Import modules that register rules or outcome kinds (``--plugin``).

    A module that registers a rule or an outcome kind under the name of a stock one
    would replace it and change every result silently: it is refused (an
    :class:`InputError` naming the module, the part and ``flag``; nothing it registered
    is kept) unless ``replace_rules`` is true or the part's name is in ``allowed``
    (``sim rerun``: the parts the original run replaced).

    Returns:
        One sentence per stock part replaced, for the caller to show.
    """
    problems, notes = [], []
    for name in modules or []:
        problem, said = _import_plugin(name, argument, replace_rules, set(allowed), flag)
        if problem is not None:
            problems.append(problem[1])
        notes += said
    if problems:
        raise InputError(problems)
    return notes


def _import_plugin(name: str, argument: str, replace_rules: bool, allowed: set[str],
                   flag: str) -> tuple[tuple[str, Problem] | None, list[str]]:
    """Import one plugin module: ``(None, notes)``, or ``(("import" | "replace", problem), [])``."""
    import importlib

    from .parts import REGISTRY, registry, replacing_stock

    registry()  # the stock parts first: a plugin's part of the same name then replaces them, visibly
    before = {(r["name"], r["module"]) for r in replacing_stock()}
    snap, imported = REGISTRY.snapshot(), set(sys.modules)
    try:
        importlib.import_module(name)
    except Exception as exc:  # noqa: BLE001 - any failure to import is the user's to fix
        return ("import", Problem(Mark("<options>", option=argument), "",
                                  f"cannot import '{name}': {type(exc).__name__}: {exc}")), []
    new = [r for r in replacing_stock() if (r["name"], r["module"]) not in before]
    refused = [r for r in new if not replace_rules and r["name"] not in allowed]
    if refused:
        REGISTRY.restore(snap)  # nothing of the module stays registered...
        mine = {name, *(r["module"] for r in new)}
        for mod in set(sys.modules) - imported:
            if mod in mine or mod.startswith(name + "."):
                del sys.modules[mod]  # ...and importing it again registers it again
        parts = ", ".join(f"{r['what']} '{r['name']}'" for r in refused)
        return ("replace", Problem(Mark("<options>", option=argument), "",
                                   f"'{name}' registers {parts} under the name of the stock one, which it would "
                                   f"replace; {flag} to run with it in place of the stock one, or register it "
                                   "under another name")), []
    return None, [f"'{name}' replaces the stock {r['what']} '{r['name']}'" for r in new]


def replaced_by(manifest: dict) -> set[str]:
    """Names of the stock rules and outcome kinds a run replaced (its manifest's ``custom_parts``)."""
    from .parts import registry

    stock = registry().stock_names
    return {p["name"] for p in manifest.get("custom_parts") or []
            if p.get("replaces_stock") or (p.get("what"), p.get("name")) in stock}


def missing_parts(manifest: dict) -> list[str]:
    """What a run used that is not registered here: one sentence each.

    Modules the run's custom parts came from are imported first where they can be
    (a user module on the path); parts defined in a notebook or a script (``__main__``)
    must be registered again by the user.
    """

    from .parts import registry

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


def rerun_check(manifest: dict, folder: Path) -> tuple[LoadedScenario, list[str]]:
    """Load the run's resolved scenario; list what differs from the original run.

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
