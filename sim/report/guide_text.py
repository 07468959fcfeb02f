"""The text of docs/SCENARIO-GUIDE.md, from scenarios, their default runs and sweeps.

Pure rendering: :func:`page` takes :class:`sim.guide.Entry` objects (already
run) and returns Markdown. Numbers are rounded to what a reader uses (probabilities to
a tenth of a point, indices to two decimals), so the page is the same on every machine
that gets the same runs.
"""

from __future__ import annotations

import calendar
from typing import Any

from ..scenario.values import Dist
from .labels import RUNGS, actor_name, alliance_name, label, possessive

TALKS = ("no talks", "talks open", "talks stalled")
SETS = 256
"""Parameter sets of each scenario's sweep (a Latin hypercube over its uncertainties)."""
RUNS_PER_SET = 250
"""Monte Carlo runs per parameter set of the sweep."""
COMMAND = "python -m sim.guide"
"""The command that writes the page (:mod:`sim.guide`)."""


def _pct(x: float) -> str:
    if x != x:
        return "-"
    return f"{100 * x:.1f}%" if x >= 0.001 or x == 0 else "<0.1%"


def _cell(text: Any) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _month_words(ym: str) -> str:
    y, m = ym.split("-")
    return f"{calendar.month_name[int(m)]} {y}"


def _name(spec: Any, section: str, key: str) -> str:
    """An actor's display name without a parenthesised aside."""
    return actor_name(spec, section, key)


def _num(x: float) -> str:
    return f"{x:g}"


def _value(p: Any) -> str:
    """A parameter's value in words: ``0.3``, ``between 0.1 and 0.5``, ``Beta(2, 10), mean 0.17``."""
    v = p.value if hasattr(p, "value") else p
    if not isinstance(v, Dist):
        return _num(float(v))
    a = v.args
    if v.family == "uniform":
        return f"between {_num(a[0])} and {_num(a[1])}"
    if v.family == "choice":
        opts = ", ".join(_num(x) for x in a[:-1]) + f" or {_num(a[-1])}"
        return f"{opts} (drawn per run)"
    return f"{str(v).replace(v.family, v.family.capitalize(), 1)}, mean {v.mean():.2g}"


def _dist(d: Any) -> str:
    a = d.args
    if d.family == "uniform":
        return f"{_num(a[0])} to {_num(a[1])}"
    return str(d)


# ----------------------------------------------------------------- what it represents


def _flashpoint(spec: Any, key: str, f: Any) -> str:
    a, b = (_name(spec, "states", s) for s in f.sides)
    parts = [f"{a} and {b}"]
    if f.stakes:
        t = spec.territories[f.stakes]
        parts.append(f"over {t.name or f.stakes}, held by {_name(spec, 'states', t.controller)}")
    if f.location:
        parts.append(f"on {possessive(_name(spec, 'states', f.location))} territory")
    lv = f.level.value
    rung = (f"rung {int(lv)} ({RUNGS[int(lv)]})" if not hasattr(lv, "family")
            else f"rung {_value(f.level)}")
    parts.append(f"at {rung} at the start")
    if f.blockade.mean() != 0:
        who = (a, b) if f.blockade.mean() > 0 else (b, a)
        parts.append(f"{who[0]} blockades {who[1]}")
    if f.mediators:
        parts.append("mediators: " + ", ".join(_name(spec, "states", m) for m in f.mediators))
    talks = f.talks.value
    if hasattr(talks, "family"):
        parts.append(" or ".join(TALKS[int(x)] for x in talks.args) + " (drawn per run)")
    else:
        parts.append(TALKS[int(talks)])
    if f.progress.is_dist or f.progress.mean() > 0:
        parts.append(f"share agreed {_value(f.progress)}")
    return f"{f.name or key} — " + "; ".join(parts) + "."


def _alliance(spec: Any, key: str, al: Any) -> str:
    kind = "collective defence" if al.kind == "collective_defence" else "consultative, no mutual defence"
    members = ", ".join(_name(spec, "states", m) for m in al.members)
    text = (f"{alliance_name(spec, key)} ({al.name}; {kind}) — led by {_name(spec, 'states', al.leader)}; "
            f"members {members}")
    if al.frozen:
        text += "; frozen: " + ", ".join(_name(spec, "states", m) for m in al.frozen)
    if al.kind == "collective_defence":
        text += f"; credibility (chance it answers a member's request) {_value(al.credibility)}"
    return text + "."


def represents(e: Any) -> list[str]:
    spec, res = e.scn.spec, e.res
    meta = spec.meta
    start, end = res.date(1), res.date(res.horizon)
    out = [" ".join(meta.description.split()), ""]
    out.append(f"- **When**: from {_month_words(start)} ({start}, the vantage point: nothing after it is used) "
               f"for {res.horizon} months, to {_month_words(end)} ({end}).")
    actors = []
    for k, s in spec.states.items():
        actors.append(_name(spec, "states", k) + ("" if s.kind == "state" else f" ({s.kind.replace('_', ' ')})"))
    out.append(f"- **Actors** ({len(actors)}): " + ", ".join(actors) + ".")
    for k, f in spec.flashpoints.items():
        out.append("- **Flashpoint**: " + _flashpoint(spec, k, f))
    for k, al in spec.alliances.items():
        out.append("- **Alliance**: " + _alliance(spec, k, al))
    if spec.suppliers:
        out.append("- **Arms suppliers**: " + ", ".join(s.name or k for k, s in spec.suppliers.items()) + ".")
    levers = sum(len(v) for v in spec.levers.values())
    out.append(f"- **Scripted**: {len(spec.events)} event{'s' if len(spec.events) != 1 else ''}; "
               f"{levers} lever{'s' if levers != 1 else ''} for play and comparison (none pulled in the default run).")
    return out


# ------------------------------------------------------------------- default run


def default_run(e: Any) -> list[str]:
    res = e.res
    out = [f"`sim run {e.name} --runs {res.runs_requested} --seed {res.seed}` (the scenario's own `runs` and "
           f"`seed`, so plain `sim run {e.name}` gives the same numbers):", "",
           "| Outcome | Probability | 95% interval | Median month |", "|---|---:|---:|---:|"]
    for r in res.outcome_rows():
        lo, hi = r["ci95"]
        out.append(f"| {_cell(r['description'])} (`{r['outcome']}`) | {_pct(r['probability'])} | "
                   f"{_pct(lo)}–{_pct(hi)} | {r['median_date'] or '-'} |")
    return out + ["", *decided(e)]


def decided(e: Any) -> list[str]:
    """The outcomes decided at the start (``sim validate`` warns about them)."""
    found = getattr(e, "decided", None) or []
    if not found:
        return [f"Decided at the start: none (`sim validate {e.name}` finds no outcome that holds in every run "
                "from the first month, and none that cannot happen)."]
    out = [f"Decided at the start (`sim validate {e.name}` warns about these: their probability says nothing "
           "about what happens later):", ""]
    for d in found:
        head = "holds in every run from the first month" if d.verdict == "always" else "cannot happen"
        out.append(f"- `{d.outcome}` {head}: {_cell(d.why)}.")
    return out


# ---------------------------------------------------------------------- the sweep


def _direction(tab: Any, inp: str, outcome: str) -> str:
    rho = tab[inp].rank().corr(tab[outcome].rank())
    if rho != rho or abs(rho) < 0.1:
        return "not monotone"
    return "the higher, the likelier" if rho > 0 else "the higher, the less likely"


def drivers(sw: Any, outcome: str, top: int = 3) -> list[tuple[str, float, float, str]]:
    """The inputs whose first-order index exceeds its 95% half-width, largest first:
    ``(path, S1, half-width, direction)``."""
    tab = sw.table()
    return [(n, v, c, _direction(tab, n, outcome)) for n, v, c in sw.ranking(outcome)
            if v == v and c == c and v - c > 0][:top]


def sensitivity(e: Any) -> list[str]:
    sw, spec, name = e.sweep, e.scn.spec, e.name
    if sw is None:
        return ["This scenario declares no `uncertainties:`, so nothing was swept."]
    runs = sw.sets * sw.runs_per_set
    out = [f"A Latin hypercube of {sw.sets} parameter sets over the scenario's {len(sw.inputs)} uncertainties "
           f"(each drawn over its range below; everything else as in the file), {sw.runs_per_set} runs per set "
           f"({runs:,} runs), seed {sw.seed}; first-order sensitivity indices by RBD-FAST (SALib). Reproduce with "
           f"`sim sweep {name} --method lhs --samples {sw.sets} --runs {sw.runs_per_set} --seed {sw.seed}`.", ""]
    nz = sw.noise()
    rows, flat, found = [], [], {}
    for o in sw.outcomes:
        z = nz.loc[o]
        if not (z["variance"] > 0):
            flat.append((o, z["mean"]))
            continue
        ds = drivers(sw, o) if z["mc_share"] <= 0.5 else []
        for n, v, _c, _d in ds:
            cnt, best = found.get(n, (0, 0.0))
            found[n] = (cnt + 1, max(best, v))
        if ds:
            words = "; ".join(f"{label(n, spec)} ({v:.2f} ± {c:.2f}; {d})" for n, v, c, d in ds)
        elif z["mc_share"] > 0.5:
            words = "none stands out: Monte Carlo noise is most of the spread"
        else:
            words = "none stands out alone"
        rows.append(f"| {_cell(sw.description(o))} | {_pct(z['p10'])}–{_pct(z['p90'])} | "
                    f"{100 * z['mc_share']:.0f}% | {_cell(words)} |")
    if found:
        out.append("**The inputs that matter most** (the outcomes whose spread across sets each explains "
                   "measurably, and its largest index):")
        out.append("")
        ranked = sorted(found.items(), key=lambda kv: (-kv[1][1], -kv[1][0], kv[0]))
        for i, (n, (cnt, best)) in enumerate(ranked, 1):
            out.append(f"{i}. {label(n, spec)} — {cnt} outcome{'s' if cnt != 1 else ''}, index up to {best:.2f}")
        idle = [label(i.name, spec) for i in sw.inputs if i.name not in found]
        if idle:
            out += ["", "No outcome depends measurably on: " + "; ".join(idle) + "."]
        out.append("")
    else:
        out += ["No input explains a measurable share of any outcome's spread on its own.", ""]
    out += ["| Outcome | 10–90% across sets | Monte Carlo share of the spread | Inputs that matter most "
            "(first-order index ± 95% half-width) |", "|---|---:|---:|---|", *rows]
    if flat:
        out += ["", "The same in every set: " + "; ".join(
            f"{sw.description(o)} (`{o}`, {_pct(m)})" for o, m in flat) + "."]
    out += ["", "The inputs varied:", "", "| Input | Path | Range | Source of the range |", "|---|---|---|---|"]
    for i in sw.inputs:
        src = i.source.note if i.source is not None and getattr(i.source, "note", None) else "not stated"
        out.append(f"| {_cell(label(i.name, spec))} | `{i.name}` | {_cell(_dist(i.dist))} | {_cell(src)} |")
    return out


# -------------------------------------------------------------------------- page

INTRO = """# Scenario guide

What each shipped scenario represents, what its default run shows, which inputs move its
outcomes, and what the model leaves out. **This page is generated**: `{command}` runs every
shipped scenario and writes it; `tests/test_guide.py` regenerates it and fails when it
differs from this file, so after changing a scenario, a mechanism or a caveat, run the
command and commit the page. Do not edit it by hand: the words come from the scenario files
(`meta.description`, `meta.questions`, `meta.caveats`) and the numbers from the runs.

How to read the numbers:

- **Probability**: the share of simulated runs in which the outcome happens at least once
  within the horizon; the **95% interval** is Wilson's, for Monte Carlo error only (it says
  nothing about inputs nobody knows). **Median month**: the month it first happens, the
  median over the runs where it does.
- **Decided at the start**: outcomes that hold in every run from the first month, or cannot
  happen at all (`sim validate` warns about them); their probability says nothing about
  what happens later.
- **Which inputs matter most** comes from a sweep: the scenario's `uncertainties:` are
  drawn together in a Latin hypercube of {sets} parameter sets, each set run {runs} times. The **10–90% range across sets** is how far the probability moves when
  the uncertain inputs take other values in their stated ranges. An input's **first-order
  index** (RBD-FAST, SALib) is the share of that spread it explains alone; an input is named
  only when its index exceeds its 95% half-width, with the direction of its effect. The
  **Monte Carlo share of the spread** is the part that is noise from the finite runs per set:
  above about half, the sweep cannot tell the sets apart and names no input with confidence.
- The model itself, its equations and parameters: docs/MODEL.md; its calibration and the
  statistics it misses out of sample (negotiated settlements too rare, disputes too long):
  docs/CALIBRATION.md.
"""


def section(e: Any) -> list[str]:
    meta = e.scn.spec.meta
    out = [f"## {meta.title}", "", f"`{e.name}` · file `scenarios/{e.name}.yaml`", "", "### What it represents", ""]
    out += represents(e)
    out += ["", "### Its questions", ""]
    out += [f"- {q}" for q in meta.questions] or ["- (none stated)"]
    out += ["", "### What a default run shows", ""]
    out += default_run(e)
    out += ["", "### Which inputs matter most", ""]
    out += sensitivity(e)
    out += ["", "### Caveats: what the model leaves out", ""]
    out += [f"- {' '.join(c.split())}" for c in meta.caveats] or ["- (the scenario states none)"]
    return out


def page(entries: list[Any]) -> str:
    """The whole page for ``entries`` (:class:`sim.guide.Entry`, in order)."""
    out = [INTRO.format(command=COMMAND, sets=SETS, runs=RUNS_PER_SET).rstrip("\n"), "", "Scenarios:", ""]
    for e in entries:
        meta = e.scn.spec.meta
        anchor = "".join(c for c in meta.title.lower().replace(" ", "-") if c.isalnum() or c in "-_")
        out.append(f"- [{meta.title}](#{anchor}) (`{e.name}`)")
    for e in entries:
        out += ["", *section(e)]
    return "\n".join(out).rstrip("\n") + "\n"
