"""How `sim validate` scales with the size of a scenario file.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_validate.py              # 1,000 and 5,000 states
    .venv/bin/python benchmarks/bench_validate.py 500 2000     # other sizes

For each size it writes a valid synthetic scenario (:func:`big_scenario`: states added
by a script, each with an affinity towards its neighbours, flashpoints between
neighbours, alliances, suppliers, events and outcomes), then prints the median wall
and CPU time of ``sim.load_scenario`` (what ``sim validate`` does before printing), the
median wall time of ``sim validate`` itself in-process, the tracemalloc peak of one
load, and each figure per state relative to the smallest size: near 1 means linear
growth, a figure growing with the size means worse than linear.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def big_scenario(n: int) -> str:
    """A valid scenario with ``n`` states (``s0`` ...), as YAML text.

    Each state has a capability, a resolve and an affinity towards the next state; every
    pair ``s2i, s2i+1`` shares a flashpoint; two alliances split the states between
    them; four suppliers sell to everyone; a few events, uncertainties and outcomes
    address parameters by path. The text grows linearly with ``n``.
    """
    assert n >= 4
    out = [
        "meta:",
        "  name: big",
        "  title: Synthetic world",
        "  start: 2023-07",
        "  horizon_months: 12",
        "  runs: 100",
        "  seed: 1",
        "states:",
    ]
    for i in range(n):
        out.append(f"  s{i}:")
        out.append(f"    name: State {i}")
        out.append(f"    capability: {1 + i % 7}")
        out.append(f"    resolve: {{value: 0.{1 + i % 8}, source: {{assumption: synthetic state {i}}}}}")
        out.append(f"    affinity: {{s{(i + 1) % n}: 0.3}}")
        if i % 10 == 0:
            out.append("    procurement_budget_usd: 1000000")
            out.append(f"    suppliers: {{k{i % 4}: 0.5}}")
    half = n // 2
    out.append("alliances:")
    for a, members in (("north_pact", range(0, half)), ("south_pact", range(half, n))):
        ms = list(members)
        out.append(f"  {a}:")
        out.append(f"    name: {a}")
        out.append(f"    leader: s{ms[0]}")
        out.append("    members: [" + ", ".join(f"s{i}" for i in ms) + "]")
        out.append("    credibility: 0.3")
        out.append("    trust: {" + ", ".join(f"s{i}: 0.5" for i in ms[::5]) + "}")
    out.append("suppliers:")
    for k in range(4):
        out.append(f"  k{k}: {{state: s{k}, reliability: 0.8, price_quality: 0.5}}")
    out.append("territories:")
    out.append("  t0: {controller: s0, claimants: [s0, s1]}")
    out.append("flashpoints:")
    for i in range(0, n - 1, 2):
        out.append(f"  f{i}: {{sides: [s{i}, s{i + 1}], level: {i % 3}}}")
    out.append("  f_t0: {sides: [s0, s1], stakes: t0, location: s1, level: 1}")
    out.append("events:")
    for i in range(0, n, max(1, n // 20)):
        out.append(f"  - name: e{i}")
        out.append(f"    when: \"level(f{i - i % 2}) >= 3 and affinity(s{i}, s{(i + 1) % n}) < 0.5\"")
        out.append("    probability: 0.1")
        out.append(
            f"    effect: {{add: {{states.s{i}.affinity.s{(i + 7) % n}: -0.1}}, "
            f"set: {{flashpoints.f{i - i % 2}.level: 2}}}}"
        )
    out.append("uncertainties:")
    for i in range(0, n, max(1, n // 10)):
        out.append(f"  states.s{i}.capability: {{uniform: [1, 2]}}")
    out.append("outcomes:")
    for i in range(0, n, max(1, n // 10)):
        out.append(f"  clash_{i}: {{kind: escalation, flashpoint: f{i - i % 2}, reaches: 3}}")
    out.append("  war_t0: {kind: territory, territory: t0, controller: s1}")
    return "\n".join(out) + "\n"


def write_big(folder: Path, n: int) -> Path:
    p = folder / f"big_{n}.yaml"
    p.write_text(big_scenario(n), encoding="utf-8")
    return p


def measure(path: Path, repeats: int) -> dict[str, float]:
    from typer.testing import CliRunner

    import sim
    from sim.cli import app

    loads, cpus, validates = [], [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        sim.load_scenario(path)
        loads.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        t0 = time.perf_counter()
        r = CliRunner().invoke(app, ["validate", str(path)])
        validates.append(time.perf_counter() - t0)
        assert r.exit_code == 0, r.output
    tracemalloc.start()
    sim.load_scenario(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "load_s": statistics.median(loads),
        "load_cpu_s": statistics.median(cpus),
        "validate_s": statistics.median(validates),
        "peak_mb": peak / 1e6,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sizes", nargs="*", type=int, default=[1000, 5000], help="numbers of states")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    import sim

    sim.load_scenario("karabakh")  # imports and fact cards warm
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            p = write_big(Path(tmp), n)
            m = measure(p, args.repeats)
            rows.append((n, p.stat().st_size, m))
    n0, _, m0 = rows[0]
    print(
        f"{'states':>7} {'file KB':>8} {'load s':>7} {'load cpu s':>10} {'validate s':>10} {'peak MB':>8}"
        f"   per state, relative to {n0} states (load cpu, validate, memory)"
    )
    for n, size, m in rows:
        f = n0 / n
        print(
            f"{n:>7} {size / 1e3:>8.0f} {m['load_s']:>7.2f} {m['load_cpu_s']:>10.2f} {m['validate_s']:>10.2f}"
            f" {m['peak_mb']:>8.1f}   {m['load_cpu_s'] / m0['load_cpu_s'] * f:.2f}, "
            f"{m['validate_s'] / m0['validate_s'] * f:.2f}, {m['peak_mb'] / m0['peak_mb'] * f:.2f}"
        )
    print(
        f"(medians of {args.repeats}; wall times on a shared machine are noisy, CPU time less so; "
        "near-linear means per-state figures near 1, not growing with the size)"
    )


if __name__ == "__main__":
    main()
