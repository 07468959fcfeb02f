"""Counter-based random numbers (sim.seeding): a draw depends on its address (seed, stream,
month, call, global replicate, element) only, so results do not depend on how a run is cut
into chunks, and the numbers are uniform and independent."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import sim
from sim import seeding
from sim.world.compile import compile_plan
from sim.world.opening import open_world

from .conftest import MINI, load_text

pytestmark = pytest.mark.pythons


def _stream(name: str, ids: np.ndarray, seed: int = 1, month: list[int] | None = None) -> seeding.Stream:
    clock = month if month is not None else [0]
    return seeding.Stream(seeding.name_key(seeding.root_key(seeding.root_sequence(seed)), name), ids,
                          lambda: clock[0])


# ------------------------------------------------------------------ addresses


def test_a_replicate_draws_its_own_numbers_wherever_it_sits():
    """Replicates 300-399 drawn as a world of their own, as rows of a bigger world, or one
    by one get the same numbers; ``rows=`` draws each selected replicate's own."""
    whole = _stream("x", seeding.replicate_ids(0, 1000))
    part = _stream("x", seeding.replicate_ids(300, 100))
    for kind in ("random", "standard_normal", "standard_exponential", "bits16"):
        a = getattr(whole, kind)((1000, 3, 2))
        b = getattr(part, kind)((100, 3, 2))
        assert np.array_equal(a[300:400], b), kind
    rows = np.array([5, 17, 998])
    c = _stream("x", seeding.replicate_ids(0, 1000))
    c.random((1000, 4))  # the first call of the month, as in `whole`... then the second:
    sub = c.random((3, 4), rows=rows)
    whole2 = _stream("x", seeding.replicate_ids(0, 1000))
    whole2.random((1000, 4))
    assert np.array_equal(whole2.random((1000, 4))[rows], sub)
    with pytest.raises(ValueError, match="first axis"):
        c.random((999, 4))


def test_calls_are_counted_within_a_month_and_months_differ():
    month = [0]
    s = _stream("x", seeding.replicate_ids(0, 50), month=month)
    a1, a2 = s.random((50, 2)), s.random((50, 2))
    month[0] = 1
    b1 = s.random((50, 2))
    month[0] = 0
    assert np.array_equal(s.random((50, 2)), a1)  # a new month from the start of month 0 again
    assert s.state() == {"month": 0, "calls": 1}
    assert not np.array_equal(a1, a2) and not np.array_equal(a1, b1)
    t = _stream("y", seeding.replicate_ids(0, 50), month=month)
    assert not np.array_equal(t.random((50, 2)), a1)  # another stream, other numbers


def test_python_mix_and_the_kernel_agree():
    key = seeding.call_key(12345, 3, 1)
    out = np.empty(6)
    from sim.seeding_kernel import uniform

    uniform(np.uint64(key), np.array([5, 7], dtype=np.int64), 3, out)
    want = [(seeding.mix64(key + (r * 3 + e) * 0x9E3779B97F4A7C15) >> 11) * 2.0 ** -53 for r in (5, 7) for e in range(3)]
    assert out.tolist() == want


# ---------------------------------------------------------------- statistics


N = 200_000


def test_uniforms_are_uniform_and_independent():
    """KS and chi-square on fixed seeds; correlations between neighbouring replicates,
    months, calls, elements and streams within 4.5 standard errors (1/sqrt(n))."""
    ids = seeding.replicate_ids(0, N)
    month = [0]
    s = _stream("events", ids, month=month)
    u = s.random((N, 2))
    assert stats.kstest(u[:, 0], "uniform").pvalue > 1e-4
    counts = np.bincount((u[:, 0] * 100).astype(int), minlength=100)
    chi2 = ((counts - N / 100) ** 2 / (N / 100)).sum()
    assert abs(chi2 - 99) < 5 * math.sqrt(2 * 99)  # chi-square(99): mean 99, sd 14
    # pairs of neighbouring replicates in a 10 x 10 grid: chi-square(99)
    grid = np.bincount((u[:-1:2, 0] * 10).astype(int) * 10 + (u[1::2, 0] * 10).astype(int), minlength=100)
    m = N / 2 / 100
    assert abs(((grid - m) ** 2 / m).sum() - 99) < 5 * math.sqrt(2 * 99)
    u2 = s.random((N, 2))  # the next call
    month[0] = 1
    u3 = s.random((N, 2))  # the next month
    v = _stream("escalation", ids).random((N, 2))  # another stream
    w = _stream("events", ids, seed=2).random((N, 2))  # another seed
    tol = 4.5 / math.sqrt(N)
    for other in (u[1:, 0], u[:, 1], u2[:, 0], u3[:, 0], v[:, 0], w[:, 0]):
        x = u[: other.size, 0]
        assert abs(np.corrcoef(x, other)[0, 1]) < tol
    assert u.min() >= 0.0 and u.max() < 1.0


def test_normals_and_exponentials_have_their_distributions():
    ids = seeding.replicate_ids(10_000_000, N)  # far from 0: global indices of a late chunk
    s = _stream("escalation", ids)
    z = s.standard_normal(N)
    e = s.standard_exponential(N)
    b = s.bits16(N)
    assert stats.kstest(z, "norm").pvalue > 1e-4
    assert stats.kstest(e, "expon").pvalue > 1e-4
    assert abs(z.mean()) < 4.5 / math.sqrt(N) and abs(z.std() - 1) < 4.5 * math.sqrt(0.5 / N)
    assert abs(e.mean() - 1) < 4.5 / math.sqrt(N)
    assert stats.kstest(b / 65536.0, "uniform").pvalue > 1e-4 and b.dtype == np.uint16
    assert np.isfinite(z).all() and (e >= 0).all()


@pytest.mark.parametrize("raw", [{"uniform": [0.2, 0.5]}, {"normal": [1.0, 2.0]}, {"beta": [2.0, 5.0]},
                                 {"lognormal": [0.0, 0.5]}, {"triangular": [0.0, 0.3, 1.0]},
                                 {"choice": [1.0, 2.0, 4.0], "p": [0.2, 0.5, 0.3]}])
def test_every_distribution_is_its_quantile_of_the_replicate_uniform(raw):
    from sim.scenario.values import parse_dist

    d = parse_dist(raw)
    u = seeding.parameter_uniforms(seeding.root_key(seeding.root_sequence(4)), "states.aa.resolve",
                                   seeding.replicate_ids(0, 50_000))
    assert 0.0 < u.min() and u.max() < 1.0
    x = d.quantile(u)
    fam, a = d.family, d.args
    if fam == "choice":
        freq = np.array([(x == v).mean() for v in a])
        assert np.all(np.abs(freq - np.array(d.p)) < 4.5 * np.sqrt(np.array(d.p) * (1 - np.array(d.p)) / x.size))
        return
    ref = {"uniform": lambda: stats.uniform(a[0], a[1] - a[0]), "normal": lambda: stats.norm(a[0], a[1]),
           "beta": lambda: stats.beta(*a), "lognormal": lambda: stats.lognorm(a[1], scale=math.exp(a[0])),
           "triangular": lambda: stats.triang((a[1] - a[0]) / (a[2] - a[0]), a[0], a[2] - a[0])}[fam]()
    assert stats.kstest(x, ref.cdf).pvalue > 1e-4
    lo, hi = d.support()
    assert (x >= lo).all() and (x <= hi).all()


# ------------------------------------------------------------ worlds and runs


def _plan(tmp_path, text=MINI):
    scn = load_text(tmp_path, text)
    return compile_plan(scn.spec, scn.rules, None)


def test_a_world_of_some_replicates_is_those_replicates_of_a_bigger_one(tmp_path):
    plan = _plan(tmp_path)
    root = seeding.root_sequence(5)
    big = open_world(plan, 300, root)
    small = open_world(plan, 70, root, first=120)
    for k in big.par.__dict__:
        assert np.array_equal(big.par[k][120:190], small.par[k]), k
    for _ in range(6):
        big.step()
        small.step()
    for k, v in small.st.__dict__.items():
        if isinstance(v, np.ndarray):
            assert np.array_equal(big.st[k][120:190], v, equal_nan=True), k


def test_a_subset_continues_exactly_as_in_the_whole_world(tmp_path):
    plan = _plan(tmp_path)
    w = open_world(plan, 200, seeding.root_sequence(8))
    for _ in range(3):
        w.step()
    idx = np.arange(3, 200, 7)
    sub = w.subset(idx)
    for _ in range(4):
        w.step()
        sub.step()
    for k, v in sub.st.__dict__.items():
        if isinstance(v, np.ndarray):
            assert np.array_equal(w.st[k][idx], v, equal_nan=True), k
    fresh = w.subset(idx, seeding.root_sequence(9))  # another seed: other numbers
    for _ in range(6):
        fresh.step()
        sub.step()
    assert any(not np.array_equal(v, fresh.st[k], equal_nan=True) for k, v in sub.st.__dict__.items()
               if isinstance(v, np.ndarray))


def _per_replicate(res) -> object:
    df = res.replicates()
    return df.sort_index() if "replicate" not in df.columns else df.sort_values("replicate").reset_index(drop=True)


def _exact(rows: list[dict]) -> list[dict]:
    """An outcome row without its means and standard deviations over replicates (sums of
    floats merged chunk by chunk: the same to rounding only, see README "Reproducibility")."""
    return [{k: v for k, v in r.items() if k != "final"} | {"final": {k: v for k, v in (r.get("final") or {}).items()
                                                                    if k not in ("mean", "sd")}} for r in rows]


def test_chunk_size_and_workers_change_no_result(tmp_path):
    """The same seed with chunks of 1000, 337 and 5000 replicates, in one process and in two
    worker processes: every replicate's results and every outcome's hits, probability,
    dates and quantiles are bitwise the same; means over replicates agree to rounding."""
    scn = sim.load_scenario("karabakh")
    runs = 3000
    results = [(cs, w, sim.run(scn, runs=runs, seed=21, months=18, chunk_size=cs, workers=w,
                               backend="local" if w == 1 else "processes", oversubscribe=True, replicates=True))
               for cs, w in [(1000, 1), (337, 1), (5000, 1), (337, 2), (1000, 2)]]
    first = _per_replicate(results[0][2])
    rows0 = results[0][2].outcome_rows()
    assert len(first) == runs
    for cs, w, res in results[1:]:
        assert res.manifest["chunk_size"] == cs
        df = _per_replicate(res)
        assert df.equals(first), (cs, w)
        rows = res.outcome_rows()
        assert _exact(rows) == _exact(rows0), (cs, w)
        for a, b in zip(rows, rows0, strict=True):
            for k in ("mean", "sd"):
                if k in (a.get("final") or {}):
                    assert a["final"][k] == pytest.approx(b["final"][k], rel=1e-12, abs=1e-12), (cs, w, a["outcome"])


def test_float32_runs_do_not_depend_on_chunk_size_either():
    scn = sim.load_scenario("karabakh")
    a, b = (sim.run(scn, runs=900, seed=5, months=12, chunk_size=cs, dtype="float32", workers=1, backend="local",
                    replicates=True) for cs in (900, 128))
    assert _per_replicate(a).equals(_per_replicate(b))
    assert _exact(a.outcome_rows()) == _exact(b.outcome_rows())
