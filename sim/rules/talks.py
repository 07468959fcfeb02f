"""Negotiation: talks that open, make progress, stall, resume and end in an agreement.

Model ``process`` (docs/MODEL.md §D10), a slot of its own in the escalation phase, run
after the ladder and limited offensives. Every flashpoint that is not settled has talks
in one of three states — 0 none, 1 open, 2 stalled — and a ``progress`` 0..1: the share
of the dispute already agreed (for a border, the share delimited by a demarcation
commission). Each month, with mediation m = exp(b_med * M) (M the mediators' available
capacity, as in the ladder) and r = exp(-b_res * (mean resolve - 1/2)):

* none -> open w.p. 1 - exp(-open_rate * m * r);
* open -> stalled w.p. 1 - (1 - clash_stall * [a fatal clash or worse this month]) * exp(-stall_rate / m);
  talks still open make progress: progress <- progress + progress_rate * m * (1 - progress),
  and an agreement is signed w.p. 1 - exp(-sign_rate * progress * m * r);
* stalled -> open w.p. 1 - exp(-resume_rate * m), in a month without a fatal clash.

An agreement settles the dispute: the flashpoint goes to rung 0 and stays there (as any
settlement; the ladder's ``relapse`` may reopen it), a blockade there is lifted, and
``agreement`` records it. Levers and events open talks (``flashpoints.F.talks: 1``) or
bring mediators (``flashpoints.F.mediators``).
"""

from __future__ import annotations

import numpy as np

from ..parts import declare_attr, declare_event, declare_reading, declare_state
from ..scenario.values import P, default
from ..world.compile import Plan
from .reads import declare_affinity_reads
from .registry import RuleParams, register

declare_attr(
    "flashpoints", "talks", P(0, 2, integer=True), 0, "no talks unless the scenario says so",
    doc="Talks at the start: 0 none, 1 open, 2 stalled.", array="talks0", state="talks",
)
declare_attr(
    "flashpoints", "progress", P(0, 1), 0.0, "nothing agreed yet unless the scenario says so",
    doc="Share of the dispute already agreed in talks (for a border: the share delimited), 0..1.",
    label="share already agreed in the talks on the {flashpoint}",
    array="progress0", state="progress",
)
declare_state("talks", ("F",), "int8", lambda ctx: np.rint(ctx.par.talks0), doc="talks: 0 none, 1 open, 2 stalled")
declare_state("progress", ("F",), init=lambda ctx: ctx.par.progress0.copy(), doc="share of the dispute agreed, 0..1")
declare_state("agreement", ("F",), "bool", False, doc="an agreement has been signed")

declare_event("talks.open", ("flashpoint",), "talks open at {flashpoint}", doc="talks open (or resume)")
declare_event("talks.stall", ("flashpoint",), "the talks at {flashpoint} stall (progress {progress:.2f})",
              ("progress",), doc="open talks stall")
declare_event("talks.agreement", ("flashpoint",), "an agreement is signed at {flashpoint} (progress {progress:.2f})",
              ("progress",), doc="an agreement settles the dispute")


declare_reading("talks", "talks", ("flashpoint",), "num", "talks(border)", doc="0 none, 1 open, 2 stalled")
declare_reading("progress", "progress", ("flashpoint",), "num", "progress(border)", doc="share agreed 0..1")
declare_reading("agreement", "agreement", ("flashpoint",), "bool", "agreement(border)", doc="an agreement was signed")


class TalksParams(RuleParams):
    """Monthly rates of the talks process (assumptions; docs/CALIBRATION.md checks them)."""

    open_rate: P(0, 5) = default(1 / 24, "neighbours in a live dispute open talks about every two years",
                                 symbol="h_open", unit="1/month", label="talks: rate at which talks open")
    stall_rate: P(0, 5) = default(1 / 12, "open talks stall about once a year", symbol="h_stall", unit="1/month", label="talks: rate at which talks stall")
    clash_stall: P(0, 1) = default(0.5, "a fatal clash stalls open talks half the time", symbol="c_stall")
    resume_rate: P(0, 5) = default(1 / 6, "stalled talks resume within about six calm months",
                                   symbol="h_resume", unit="1/month", label="talks: rate at which stalled talks resume")
    progress_rate: P(0, 1) = default(
        1 / 24, "open talks settle 1/24 of what is left a month: half of a border delimited in about "
        "17 months of open talks", symbol="g_p", unit="1/month", label="talks: pace of progress")
    sign_rate: P(0, 5) = default(
        0.05, "with everything agreed, an agreement is signed within about 20 months", symbol="h_sign", unit="1/month", label="talks: rate of signing an agreement")
    beta_mediation: P(0, 10) = default(
        0.7, "one fully available mediator doubles the pace of talks (mediation succeeds more often than "
        "not in low-fatality disputes, Bercovitch 1996, secondary), as it doubles the ladder's down-rate",
        symbol="β_med")
    beta_resolve: P(0, 10) = default(1.0, "as the ladder's settlement: resolute sides sign less readily",
                                     symbol="β_res")


declare_affinity_reads("talks", "process", None)


@register("talks", "process", TalksParams, phase="escalation", order=20)
def build(plan: Plan):
    """Talks open, progress, stall and resume; an agreement settles the dispute."""
    if plan.F == 0:
        return lambda w: None
    sides = plan.sides

    # numba: imported (and the kernel compiled, or loaded from its cache) when a run uses the rule
    from .talks_kernel import negotiate

    sides = np.ascontiguousarray(sides, dtype=np.intp)
    names = ("settled", "talks", "progress", "agreement", "level", "war_months")

    def step(w) -> None:
        st = w.st
        R, F = st.level.shape
        c = np.ascontiguousarray
        u = w.stream("talks").random((R, F, 3))

        for name in names:  # updated in place by the kernel
            if not st[name].flags.c_contiguous:
                st[name] = c(st[name])
        opened, stalled, signed = (np.empty((R, F), dtype=bool) for _ in range(3))
        negotiate(u=u, sides=sides, mediators=c(st.mediators), capacity=c(w.par.capacity, dtype=np.float64),
                  resolve=c(w.par.resolve, dtype=np.float64), peak=c(st.peak), settled=st.settled, talks=st.talks,
                  progress=st.progress, agreement=st.agreement, level=st.level, war_months=st.war_months,
                  open_rate=w.rp("talks", "open_rate"), stall_rate=w.rp("talks", "stall_rate"),
                  clash_stall=w.rp("talks", "clash_stall"), resume_rate=w.rp("talks", "resume_rate"),
                  progress_rate=w.rp("talks", "progress_rate"), sign_rate=w.rp("talks", "sign_rate"),
                  b_med=w.rp("talks", "beta_mediation"), b_res=w.rp("talks", "beta_resolve"), opened_out=opened,
                  stalled_out=stalled, signed_out=signed)
        w.emit("talks.open", opened)
        w.emit("talks.stall", stalled, progress=st.progress)
        w.emit("talks.agreement", signed, progress=st.progress)

    return step
