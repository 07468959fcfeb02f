"""A narrated run: one replicate, month by month, in the words of the declared events.

``sim story karabakh --seed 7 --replicate 12`` tells replicate 12 of ``sim run karabakh
--seed 7``: the chunk holding it is simulated again exactly as the run simulates it
(same seed, chunk size and precision), with an event log and a :class:`Track` on that
replicate. So a story is the same for the same seed, and it is the very replicate the
run counted. A played game is told the same way, with the players' moves and the
instructor's injects among the events (:mod:`sim.play.game`).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import arguments as A
from .. import montecarlo
from ..api import run_option_problems
from ..outcomes import Recorder
from ..parts import registry
from ..scenario.errors import InputError, option_error
from ..scenario.expr import month_text
from ..world.log import _FORMATTER, EventLog, _label, short_name
from .track import Track


@dataclass
class Story:
    """One replicate's months in words, and its state month by month.

    Attributes:
        scenario, title: The scenario's name and title.
        start: Calendar month index of the first simulated month.
        horizon: Months simulated.
        seed: The run's (or game's) seed.
        replicate: Which replicate of the run (None for a played game).
        command: The command that tells this story again.
        records: What happened, in order: dicts with ``month`` (YYYY-MM), ``elapsed``
            (1-based month), ``event`` (a declared event, ``move`` or ``inject``),
            ``text``, ``routine`` (summarised rather than listed), ``fields``, ``actors``.
        track: The replicate's state at the start and after every month.
        outcomes: Each outcome with ``name``, ``description`` and ``month`` (1-based
            month it first happened, 0 if it did not).
        labels: Display names: ``flashpoints``, ``states``, ``alliances``, ``suppliers``,
            ``territories`` (lists in the world's order), ``pairs`` (member, alliance)
            index pairs whose trust matters (members on a flashpoint's side), ``sides``.
    """

    scenario: str
    title: str
    start: int
    horizon: int
    seed: int
    replicate: int | None
    command: str
    records: list[dict[str, Any]] = field(default_factory=list)
    track: Track = field(default_factory=Track)
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    labels: dict[str, Any] = field(default_factory=dict)

    # ----------------------------------------------------------------- reading

    def date(self, elapsed: int) -> str:
        """YYYY-MM of simulated month ``elapsed`` (1 = the start month)."""
        return month_text(self.start + elapsed - 1)

    def months(self, first: int = 1, last: int | None = None) -> list[tuple[int, list[dict[str, Any]]]]:
        """``(elapsed, records)`` for every month from ``first`` to ``last`` that has notable
        (not routine) records."""
        last = self.horizon if last is None else last
        by: OrderedDict[int, list[dict[str, Any]]] = OrderedDict()
        for r in self.records:
            if first <= r["elapsed"] <= last and not r.get("routine"):
                by.setdefault(r["elapsed"], []).append(r)
        return list(by.items())

    def routine(self, first: int = 1, last: int | None = None, limit: int = 6) -> list[str]:
        """Routine events of months ``first``..``last`` summed into one sentence each, the
        ``limit`` largest first."""
        last = self.horizon if last is None else last
        groups: OrderedDict[tuple, dict[str, Any]] = OrderedDict()
        for r in self.records:
            if not (r.get("routine") and first <= r["elapsed"] <= last):
                continue
            key = (r["event"], tuple(sorted(r["actors"].items())))
            g = groups.setdefault(key, {"rec": r, "months": set(), "sums": {}})
            g["months"].add(r["elapsed"])
            for k, v in r["fields"].items():
                g["sums"][k] = g["sums"].get(k, 0.0) + v
        for key in [k for k, g in groups.items() if g["sums"] and max(abs(v) for v in g["sums"].values()) < 0.5]:
            del groups[key]  # amounts that round to nothing
        ranked = sorted(groups.values(), key=lambda g: -max(g["sums"].values(), default=len(g["months"])))
        out = []
        for g in ranked[:limit]:
            n = len(g["months"])
            text = _resummarise(g["rec"], g["sums"])
            out.append(f"{text} (in {n} month{'s' if n != 1 else ''})")
        if len(ranked) > limit:
            out.append(f"and {len(ranked) - limit} smaller ones")
        return out

    def happened(self) -> list[dict[str, Any]]:
        """Outcomes that happened, in the order they did."""
        return sorted((o for o in self.outcomes if o["month"]), key=lambda o: o["month"])

    def segments(self, first: int, last: int, routine_every: int = 12, routine_limit: int = 6):
        """Months ``first``..``last`` in the order a story tells them: ``("month", m, records)``
        for a month with notable events, ``("quiet", a, b)`` for a stretch without, and every
        ``routine_every`` months (and at the end) ``("routine", a, b, sentences)`` summing the
        routine events since the last such block."""
        notable = dict(self.months(first, last))
        quiet = None
        block = first
        for m in range(first, last + 1):
            if m in notable:
                if quiet is not None:
                    yield ("quiet", quiet, m - 1)
                    quiet = None
                yield ("month", m, notable[m])
            elif quiet is None:
                quiet = m
            if (m - first + 1) % routine_every == 0 or m == last:
                if quiet is not None:
                    yield ("quiet", quiet, m)
                    quiet = None
                rt = self.routine(block, m, routine_limit)
                if rt:
                    yield ("routine", block, m, rt)
                block = m + 1

    def text(self, first: int = 1, last: int | None = None, *, routine_every: int = 12, routine_limit: int = 6) -> str:
        """The story of months ``first``..``last`` as plain text, one line per month with
        notable events; routine events are summed every ``routine_every`` months (the
        ``routine_limit`` largest)."""
        last = min(self.horizon, len(self.track) - 1 if len(self.track) else self.horizon) if last is None else last
        lines: list[str] = []
        for seg in self.segments(first, last, routine_every, routine_limit):
            if seg[0] == "month":
                lines.append(f"{self.date(seg[1])}  " + sentences([r["text"] for r in seg[2]]))
            elif seg[0] == "quiet":
                lines.append(_quiet(self, seg[1], seg[2]))
            else:
                _, a, b, rt = seg
                span = self.date(a) + (f" to {self.date(b)}" if b > a else "")
                lines.append(f"         Routine, {span}: " + "; ".join(rt) + ".")
        return "\n".join(lines)


def _quiet(story: Story, a: int, b: int) -> str:
    if a == b:
        return f"{story.date(a)}  Quiet."
    return f"{story.date(a)} to {story.date(b)}  Quiet."


def sentences(texts: list[str]) -> str:
    """Sentences from event texts: each starts with a capital and ends with a stop."""
    out = []
    for t in texts:
        t = t.strip()
        if not t:
            continue
        t = t[0].upper() + t[1:]
        out.append(t if t.endswith((".", "!", "?")) else t + ".")
    return " ".join(out)


def _resummarise(rec: dict[str, Any], sums: dict[str, float]) -> str:
    """A routine event's sentence with its numeric fields summed over the period."""
    et = registry().events.get(rec["event"])
    if et is None or not sums:
        return rec["text"]
    try:
        return _FORMATTER.format(et.template, **rec.get("labels", {}), **sums)
    except (KeyError, ValueError, IndexError):
        return rec["text"]


# ------------------------------------------------------------------- simulation


def labels_of(plan: Any) -> dict[str, Any]:
    """Display names of a plan's actors and the (member, alliance) pairs a story shows."""
    scn = plan.scenario
    pairs = []
    side_states = sorted({int(s) for s in plan.sides.flatten()})
    for j, a in enumerate(plan.alliances):
        spec = scn.alliances[a]
        if spec.kind != "collective_defence":
            continue
        for s in side_states:
            if plan.states[s] in spec.members and plan.states[s] != spec.leader:
                pairs.append((s, j))
    return {
        "flashpoints": [short_name(plan, "flashpoint", f) for f in plan.flashpoints],
        "states": [short_name(plan, "state", s) for s in plan.states],
        "alliances": [short_name(plan, "alliance", a) for a in plan.alliances],
        "suppliers": [short_name(plan, "supplier", k) for k in plan.suppliers],
        "territories": [short_name(plan, "territory", t) for t in plan.territories],
        "keys": {"states": list(plan.states), "alliances": list(plan.alliances), "flashpoints": list(plan.flashpoints),
                 "suppliers": list(plan.suppliers), "territories": list(plan.territories)},
        "pairs": pairs,
        "sides": plan.sides.tolist(),
    }


def record_dict(rec: Any, plan: Any) -> dict[str, Any]:
    """An :class:`~sim.world.log.Record` as story data (routine flag and labels added)."""
    et = registry().events.get(rec.event)
    d = rec.to_dict()
    d["routine"] = bool(et and et.routine)
    if d["routine"]:
        d["labels"] = {k: _label(plan, "state" if k == "opponent" else k, v) for k, v in rec.actors.items()}
    return d


def follow(scn: Any, replicates: list[int], *, seed: int | None = None, runs: int | None = None,
           months: int | None = None, chunk_size: int | None = None, dtype: str = "float32",
           levers: list[str] | None = None) -> list[Story]:
    """The stories of some replicates of a run (``sim run`` with the same options).

    Each chunk holding one of them is simulated again as the run simulates it, with an
    event log and a track on those replicates.
    """
    from ..world.opening import opened

    wrong = A.problems(scn=(A.loaded_scenario, scn), levers=(A.levers, levers))
    wrong += [p for k in replicates for p in A.problems(replicate=(A.count(0), k))]
    wrong += run_option_problems(runs, None, months, chunk_size, seed=seed, dtype=dtype)
    if wrong:
        raise InputError(wrong)
    job = montecarlo.prepare(scn, runs=runs, seed=seed, months=months, chunk_size=chunk_size, dtype=dtype,
                             levers=levers, keep_trajectories=0)
    bad = [k for k in replicates if not 0 <= int(k) < job.runs]
    if bad:
        raise option_error("replicate", f"{bad[0]} is not a replicate of a {job.runs:,}-run run; give 0 to {job.runs - 1}")
    plan, spec = job.plan, job.spec
    labels = labels_of(plan)
    out: dict[int, Story] = {}
    for task in job.tasks:
        mine = [k for k in replicates if task.offset <= k < task.offset + task.n]
        if not mine:
            continue
        local = [k - task.offset for k in mine]
        with opened(plan, task.n, spec.root(), dtype=np.dtype(spec.dtype), first=task.first) as world:
            world.log = EventLog(local)
            tracks = {k: Track(j).attach(world) for k, j in zip(mine, local, strict=True)}
            rec = Recorder(world, job.detectors, task.chunk, task.offset, 0, 0)
            while world.elapsed < plan.horizon:
                world.step()
            rec.result()
        for k, j in zip(mine, local, strict=True):
            lever_opts = "".join(f" --lever {a}.{lv}" for a, lv in job.levers)
            run_opts = "" if runs is None else f" --runs {job.runs}"
            chunk_opts = "" if chunk_size is None else f" --chunk-size {job.chunk}"
            prec = "" if dtype == "float32" else f" --precision {dtype}"
            out[k] = Story(
                scenario=scn.name, title=scn.spec.meta.title, start=plan.start, horizon=plan.horizon, seed=job.seed,
                replicate=k,
                command=(f"sim story {scn.path} --seed {job.seed} --replicate {k}{run_opts}{chunk_opts}"
                         f"{' --months ' + str(plan.horizon) if months is not None else ''}{prec}{lever_opts}"),
                records=[record_dict(r, plan) for r in world.log.for_replicate(j)],
                track=tracks[k],
                outcomes=[{"name": d.name, "description": d.description, "month": int(rec.first[i, j])}
                          for i, d in enumerate(job.detectors)],
                labels=labels,
            )
    return [out[k] for k in replicates]


def tell(scn: Any, *, seed: int | None = None, replicate: int = 0, **options: Any) -> Story:
    """The story of one replicate of a run (see :func:`follow`)."""
    return follow(scn, [replicate], seed=seed, **options)[0]


def typical_replicates(res: Any) -> dict[str, int]:
    """For each outcome that happened in the run's sampled replicates, the replicate
    whose first month of it is closest to the outcome's median month (the lowest such
    index on ties): "a run in which Armenia leaves"."""
    sample = res.first_hit_sample
    if sample is None or not sample.shape[0]:
        return {}
    out = {}
    for i, row in enumerate(res.outcome_rows()):
        months = sample[:, i]
        hit = np.flatnonzero(months > 0)
        if not hit.size or row["median_month"] is None:
            continue
        gap = np.abs(months[hit].astype(int) - int(row["median_month"]))
        out[row["outcome"]] = int(hit[np.argmin(gap)])
    return out


def check_story_options(replicate: int | None, runs: int | None) -> None:
    """Reject a negative replicate before anything runs."""
    if replicate is not None and replicate < 0:
        raise option_error("replicate", f"must be 0 or more (got {replicate})")
    if runs is not None and runs < 1:
        raise option_error("runs", f"must be at least 1 (got {runs})")


__all__ = ["Story", "follow", "labels_of", "sentences", "tell", "typical_replicates"]
