"""What the dashboard does besides display: scenario choices and uploads, the controls a
scenario declares, zipped run folders, and the study folders on disk.

Nothing here computes a result: numbers come from :mod:`sim.api` and the analysis and
play modules; these helpers find, check and package what those take and write.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..api import find_scenario, list_scenarios, load_scenario
from ..paths import classroom_dir, scenarios_dir
from ..scenario.errors import InputError, Mark, Problem, suggest
from ..scenario.yamlsafe import PDict, load_yaml_file
from ..webserve import within  # noqa: F401 - the page opens typed paths under a root (shared with sim.classroom)

# ------------------------------------------------------------------ scenario choices


@dataclass(frozen=True)
class Choice:
    """A scenario the user can pick.

    Attributes:
        key: Unique key in the picker.
        label: What the picker shows.
        ref: What :func:`sim.load_scenario` takes (a shipped name or a path).
        upload: True for a file uploaded through the page (``hide`` is its temporary folder).
    """

    key: str
    label: str
    ref: str
    upload: bool = False
    hide: str | None = None


def shipped_choices() -> list[Choice]:
    """The shipped scenarios, and the classroom exercise packs' own scenario files (shipped
    with the package: :func:`sim.paths.classroom_dir`)."""
    out = [Choice(s["name"], f"{s['name']} — {s['title']}", s["name"]) for s in list_scenarios()]
    for p in sorted(classroom_dir().glob("*/exercise.yaml")):
        out.append(Choice(f"exercise:{p.parent.name}", f"exercise pack {p.parent.name}", str(p)))
    return out


def file_choice(ref: str) -> Choice:
    """The scenario given on the command line: a shipped name or a path."""
    p = find_scenario(ref)
    for c in shipped_choices():
        if c.key == ref or find_scenario(c.ref).resolve() == p.resolve():
            return c
    return Choice(f"file:{p}", f"{p.name} ({p.parent})", str(p))


SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def save_upload(name: str, data: str | bytes, folder: Path) -> Choice:
    """Write an uploaded scenario into ``folder`` (a temporary folder of the session) under its
    own file name, so that problems name the file the user knows."""
    base = SAFE.sub("_", Path(str(name or "")).name).strip("._") or "uploaded.yaml"
    if Path(base).suffix.lower() not in (".yaml", ".yml"):
        base += ".yaml"
    sub = folder / f"upload-{len(list(folder.glob('upload-*')))}"
    sub.mkdir(parents=True, exist_ok=True)
    path = sub / base
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return Choice(f"upload:{path}", f"{base} (uploaded)", str(path), upload=True, hide=str(sub))


def check_upload(path: str | Path) -> None:
    """An uploaded file has no folder around it: ``extends:`` may name a shipped scenario
    (``extends: karabakh``), and any other base is a clear problem at the ``extends`` line."""
    data = load_yaml_file(Path(path))  # bad YAML: the loader's own problem lines
    if not isinstance(data, PDict) or "extends" not in data:
        return
    ext = data["extends"]
    if not isinstance(ext, str) or not ext.strip():
        return  # the loader says what extends must be
    names = sorted(q.stem for q in scenarios_dir().glob("*.yaml"))  # what the loader accepts by name
    if ext in names:
        return
    where = data.value_marks.get("extends") or data.key_marks.get("extends") or Mark(str(path), 1, 1)
    bare = "/" not in ext and "\\" not in ext and not Path(ext).suffix and not ext.startswith(".")
    stem = Path(ext).stem
    if bare:
        msg = f"'{ext}' is not a shipped scenario{suggest(ext, names)}; an uploaded file can extend a shipped scenario by name (extends: karabakh)"
    elif stem in names:
        msg = (f"an uploaded file cannot extend '{ext}' (the dashboard has the file, not the folder it came from); "
               f"'{stem}' is a shipped scenario: write extends: {stem}")
    else:
        msg = (f"an uploaded file cannot extend '{ext}' (the dashboard has the file, not the folder it came from); "
               "extend a shipped scenario by name (extends: karabakh), or start the dashboard on the file where it "
               f"lies: sim dashboard PATH/TO/{Path(path).name}")
    raise InputError([Problem(where, "extends", msg)])


def load_choice(choice: Choice, overrides: list[str] | None = None) -> Any:
    """The chosen scenario, loaded with ``--set``-style overrides (:class:`InputError` if bad)."""
    if choice.upload:
        check_upload(choice.ref)
    return load_scenario(choice.ref, overrides=overrides or None)


# ------------------------------------------------------------------ declared controls


def parameter_rows(scn: Any) -> list[dict[str, Any]]:
    """Every parameter ``--set`` can change, from the scenario's declarations: path, value
    (as written), source kind and note, and its allowed range."""
    plan = scn.compiled()
    bounds = {e.path: e.bounds for e in plan.entries}
    rows = []
    for r in scn.parameters():
        b = bounds.get(r["path"])
        rows.append({**r, "lo": None if b is None else float(b.lo), "hi": None if b is None else float(b.hi),
                     "integer": bool(b is not None and b.integer)})
    return rows


def lever_rows(scn: Any) -> list[dict[str, str]]:
    """The scenario's levers: ``key`` (ACTOR.LEVER), actor, lever, description."""
    return [{"key": f"{a}.{lv}", "actor": a, "lever": lv, "description": spec.description}
            for a, levers in scn.spec.levers.items() for lv, spec in levers.items()]


def played_candidates(scn: Any) -> list[str]:
    """Actors a class can play: states with levers."""
    return [a for a, levers in scn.spec.levers.items() if levers and a in scn.spec.states]


def decks_for(scn: Any) -> list[Path]:
    """Inject decks that may fit: files beside the scenario named ``*injects*.yaml``, and the
    exercise packs' decks."""
    out: list[Path] = []
    here = Path(scn.path).resolve().parent
    if here.is_dir() and here != scenarios_dir().resolve():
        out += sorted(here.glob("*injects*.y*ml"))
    seen = {p.resolve() for p in out}
    out += [p for p in sorted(classroom_dir().glob("*/injects.yaml")) if p.resolve() not in seen]
    return out


# ------------------------------------------------------------------ files


def zip_folder(folder: str | Path) -> bytes:
    """A folder as a zip archive in memory (its files under the folder's name)."""
    folder = Path(folder)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                z.write(p, Path(folder.name) / p.relative_to(folder))
    return buf.getvalue()


def study_kind(folder: str | Path) -> str:
    """``sweep`` or ``compare`` for a folder ``sim sweep`` or ``sim compare`` wrote; an
    :class:`InputError` naming the folder otherwise."""
    p = Path(str(folder).strip()).expanduser()
    where = Mark(str(p))
    if not p.is_dir():
        raise InputError([Problem(where, "", "no such folder; give a folder written by `sim sweep` or `sim compare`")])
    s = p / "summary.json"
    try:
        summary = json.loads(s.read_text(encoding="utf-8")) if s.is_file() else None
    except (json.JSONDecodeError, UnicodeDecodeError, OSError) as exc:
        raise InputError([Problem(Mark(str(s)), "", f"cannot read it ({type(exc).__name__}: {exc})")]) from None
    if isinstance(summary, dict) and "sweep_version" in summary:
        return "sweep"
    if isinstance(summary, dict) and "compare_version" in summary:
        return "compare"
    what = "a `sim run` folder (open runs in the Run mode)" if isinstance(summary, dict) and "outcomes" in summary \
        else "no summary.json" if summary is None else "an unknown summary.json"
    raise InputError([Problem(where, "", f"not a sweep or comparison folder ({what}); give a folder written by "
                              "`sim sweep` or `sim compare`")])


def find_studies(roots: list[Path], depth: int = 3, limit: int = 200) -> list[dict[str, Any]]:
    """Sweep and comparison folders under ``roots`` (newest first): path, kind, label."""
    found: list[dict[str, Any]] = []

    def walk(p: Path, d: int) -> None:
        if d > depth or len(found) >= limit:
            return
        try:
            children = [c for c in p.iterdir() if c.is_dir()]
        except OSError:
            return
        if (p / "summary.json").is_file():
            try:
                kind = study_kind(p)
                found.append({"path": str(p), "kind": kind, "mtime": (p / "summary.json").stat().st_mtime})
            except InputError:
                pass
            return
        for c in sorted(children):
            walk(c, d + 1)

    for r in roots:
        if Path(r).is_dir():
            walk(Path(r), 0)
    found.sort(key=lambda f: -f["mtime"])
    return found


def read_compare(folder: str | Path) -> tuple[Any, dict[str, Any]]:
    """A comparison folder's ``comparison.csv`` and ``summary.json``."""
    import pandas as pd

    p = Path(folder)
    try:
        table = pd.read_csv(p / "comparison.csv", index_col="outcome")
        summary = json.loads((p / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, UnicodeDecodeError) as exc:
        raise InputError([Problem(Mark(str(p)), "", f"cannot read the comparison ({type(exc).__name__}: {exc})")]) from None
    return table, summary


def figures(folder: str | Path, prefix: str) -> list[Path]:
    """The ``fig_PREFIX*.png`` files of a folder, in name order."""
    return sorted(Path(folder).glob(f"fig_{prefix}*.png"))
