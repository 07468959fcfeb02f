"""Golden outputs: fingerprints of every shipped scenario's results at a fixed seed.

Refactors must leave results byte-identical; a commit that changes them says so. This
records (``python -m tests.golden record``) and checks (``python -m tests.golden check``)
the SHA-256 of each shipped scenario's ``summary.json`` (without timings), ``outcomes.csv``,
``timeseries.csv`` and ``counts.csv`` for a plain run (2,000 runs, seed 1, float32) and, for
karabakh, a run with a lever pulled and the per-replicate table. The file written
(``tests/data/golden.json`` by default) carries the environment it was recorded in (Python,
NumPy, numba, platform): results are only comparable in the same environment, so ``check``
refuses to compare across environments rather than report a false difference.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sys
import tempfile
from pathlib import Path

GOLDEN = Path(__file__).parent / "data" / "golden.json"
VARIANTS = {
    "plain": {},
    "lever": {"levers": ["armenia.freeze_csto"]},
}


def environment() -> dict[str, str]:
    import numba
    import numpy

    return {"python": ".".join(map(str, sys.version_info[:2])), "numpy": numpy.__version__,
            "numba": numba.__version__, "machine": platform.machine()}


def _digest(path: Path, drop: tuple[str, ...] = ()) -> str:
    if path.suffix == ".json":
        data = json.loads(path.read_text())
        for key in drop:
            data.pop(key, None)
        raw = json.dumps(data, sort_keys=True).encode()
    else:
        raw = path.read_bytes()
    return hashlib.sha256(raw).hexdigest()[:16]


def fingerprints(runs: int = 2000, seed: int = 1) -> dict[str, dict[str, str]]:
    import sim

    out: dict[str, dict[str, str]] = {}
    names = [s["name"] for s in sim.api.list_scenarios()]
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            for variant, kw in VARIANTS.items():
                if variant != "plain" and name != "karabakh":
                    continue
                scn = sim.load_scenario(name)
                res = sim.run(scn, runs=runs, seed=seed, **kw)
                folder = Path(tmp) / f"{name}-{variant}"
                res.save(folder)
                out[f"{name}/{variant}"] = {
                    "summary.json": _digest(folder / "summary.json", drop=("timing", "timings", "wall_seconds")),
                    **{f: _digest(folder / f) for f in ("outcomes.csv", "timeseries.csv", "counts.csv")},
                }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("action", choices=["record", "check", "show"])
    ap.add_argument("--file", type=Path, default=GOLDEN)
    a = ap.parse_args(argv)
    env = environment()
    if a.action == "show":
        print(json.dumps({"environment": env, "outputs": fingerprints()}, indent=1))
        return 0
    if a.action == "record":
        a.file.write_text(json.dumps({"environment": env, "outputs": fingerprints()}, indent=1) + "\n")
        print(f"recorded {a.file}")
        return 0
    golden = json.loads(a.file.read_text())
    if golden["environment"] != env:
        print(f"{a.file} was recorded in {golden['environment']}, this is {env}: record it here first "
              "(on the commit before your change), then check", file=sys.stderr)
        return 2
    now = fingerprints()
    bad = [f"{k}: {f} {golden['outputs'].get(k, {}).get(f)} -> {v}" for k, files in now.items()
           for f, v in files.items() if golden["outputs"].get(k, {}).get(f) != v]
    missing = sorted(set(golden["outputs"]) - set(now))
    for line in bad + [f"{k}: no longer produced" for k in missing]:
        print(line)
    print("golden outputs identical" if not (bad or missing) else f"{len(bad) + len(missing)} differ")
    return 0 if not (bad or missing) else 1


if __name__ == "__main__":
    raise SystemExit(main())
