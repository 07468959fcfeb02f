"""The world: one Mesa model evolving R replicates in lockstep.

Every dynamic quantity is an array whose first axis is the replicate. Parameters
sampled once per replicate live in ``world.par``; the evolving state in ``world.st``.
A step runs the rule pipeline (events, procurement, escalation, alliance response,
alignment, membership), then the observers (outcome detectors). Nothing in a step
loops over replicates in Python; R = 1 is the same code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import seeding
from ..parts import InitContext, lent_default, registry
from .agents import MesaModel, Replicate, forget, make_agents, views
from .arrays import Arrays
from .compile import Plan
from .effects import compile_effect

Rule = Callable[["World"], None]


class World(MesaModel):
    """R replicates of one scenario, advanced one month per :meth:`step`.

    Args:
        plan: The compiled scenario.
        n: Number of replicates R.
        seed_seq: The run's root seed sequence; parameter draws, each rule's random
            stream and Mesa's own generator are all derived from it (:mod:`sim.seeding`).
        pipeline: ``(kind, rule)`` pairs run in order each month.
        dtype: Floating-point type of parameter and state arrays.
        fixed: Per-replicate values of some parameters (``{path: array (R,)}``): a
            study's parameter sets, replacing the file's value or distribution.
        first: The global index of this world's first replicate in the run (its chunk's
            offset): replicate i draws the random numbers of replicate ``first + i``. A
            chunk's sequence (:func:`sim.seeding.chunk_sequence`) as ``seed_seq`` stands for
            its run's root and that chunk's first replicate (chunks of ``n``).
        ids: The global index of each replicate, instead of ``first``'s consecutive ones.
    """

    def __init__(
        self,
        plan: Plan,
        n: int,
        seed_seq: np.random.SeedSequence,
        pipeline: list[tuple[str, Rule]] | None = None,
        dtype: Any = np.float64,
        fixed: dict[str, np.ndarray] | None = None,
        first: int = 0,
        ids: np.ndarray | None = None,
    ):
        if ids is None:  # a chunk's sequence (sim.seeding.chunk_sequence) is that chunk of a run
            seed_seq, first = seeding.world_origin(seed_seq, n, first)
        self.ids = seeding.replicate_ids(first, n) if ids is None else np.ascontiguousarray(ids, dtype=np.int64)
        if self.ids.shape != (n,):
            raise ValueError(f"{n} replicates need {n} global indices, got {self.ids.shape}")
        super().__init__(rng=seeding.mesa_seed(seed_seq, int(self.ids[0]) if n else 0))
        self.plan = plan
        self.n = n
        self.dtype = dtype
        self.seed_seq = seed_seq
        self.key = seeding.root_key(seed_seq)
        self.pipeline: list[tuple[str, Rule]] = list(pipeline or [])
        self.observers: list[Callable[[World], None]] = []
        self.elapsed = 0  # months simulated so far
        self.current_month = plan.start  # calendar month being (or last) simulated
        self.month_cache: dict | None = None
        self.streams: dict[str, seeding.Stream] = {}
        self._rp: dict[tuple, tuple] = {}  # rp's and per_parameters' answers (see rp, parameters_changed)
        self._reading: list | None = None  # the parameters a per_parameters' make reads
        self.par = Arrays(**plan.sample(n, self.key, self.ids, dtype, fixed))
        self.fixed_paths = frozenset(fixed or ())
        self.st = self._initial_state()
        self.counts: dict[str, np.ndarray] = self._zero_counts()
        self.log: Any = None  # an event log (sim.world.log.EventLog) narrating some replicates
        self._effects: dict[int, Any] = {}
        self.written: dict[str, set[tuple[int, ...]]] = {}
        """Elements of state arrays an effect has written (array name -> indices after the
        replicate axis): the recorder sums them every month from then on, as it does the
        elements the rules move (:attr:`sim.parts.StateVar.moves`)."""
        self.latest: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, int]] = {}
        """Copies, contiguous, of some elements of a state array as a rule last wrote them
        (state name -> (the array written, the elements' flat indices after the replicate
        axis, increasing, their (R, n) values, the month written: :attr:`elapsed` after
        it)): the alignment rule's read pairs of ``affinity``, which the recorder sums
        (:class:`sim.outcomes.recorder.Carried`) and deterrence and procurement read
        (:func:`sim.rules.common.affinity_rows`) from there until the next month's, rather
        than from S rows of the (S, S) matrix each. An effect that writes an element
        writes its copy too; writing an agent's attribute drops the state's copy; code that
        writes the array directly between months should clear this."""
        self._make_agents()
        for actor, lever in plan.levers:  # levers pulled from the start
            self.apply_effect(plan.scenario.levers[actor][lever].effect)

    # ----------------------------------------------------------------- set-up

    def stream(self, name: str) -> seeding.Stream:
        """The random stream ``name`` (:class:`sim.seeding.Stream`, created on first use):
        ``w.stream("talks").random((R, F, 3))``. Its numbers are addressed by the name, the
        month, the call within the month and each replicate's global index, so they do not
        depend on the chunk; keyed by name, a rule's draws stay the same when another rule
        is switched off or changed (common random numbers across variants).
        """
        g = self.streams.get(name)
        if g is None:
            g = self.streams[name] = seeding.Stream(seeding.name_key(self.key, name), self.ids, self._month_index)
        return g

    def _month_index(self) -> int:
        return self.elapsed

    def _initial_state(self) -> Arrays:
        """Every declared state array. An initialiser may read other state arrays
        (``ctx.st["capability"]``): those are initialised first, on demand."""
        decls = registry().state
        sizes = self.plan.sizes
        busy: list[str] = []

        class _OnDemand(dict):
            def __missing__(self, name: str) -> np.ndarray:
                if name not in decls:
                    raise KeyError(f"no state array '{name}' is declared")
                if name in busy:
                    raise ValueError("state initialisers depend on each other in a cycle: " + " -> ".join([*busy, name]))
                busy.append(name)
                self[name] = decls[name].allocate(ctx, sizes)
                busy.pop()
                return self[name]

        st = _OnDemand()
        ctx = InitContext(self.plan, self.par, st, self.n, self.dtype, self.fixed_paths)
        for name in decls:
            st[name]  # noqa: B018 - allocates it (and what it reads) if not done yet
        return Arrays(**dict(st))

    def _zero_counts(self) -> dict[str, np.ndarray]:
        return {name: np.zeros(self.n, dtype=np.int32) for name in registry().events}

    def _make_agents(self) -> None:
        """One Mesa agent per actor (``self.agents_by_type[State]``, ``self.by_key``), its
        attributes views onto this world's arrays derived from the declarations
        (:mod:`sim.world.agents`)."""
        self.agent_views = views(registry())
        self.by_key: dict[str, Any] = make_agents(self, self)

    def replicate(self, k: int) -> Replicate:
        """The actors in replicate ``k`` alone, as Mesa agents of a model of their own (a
        story's run): ``world.replicate(k).agents_by_type[State].agg("capability", max)``."""
        return Replicate(self, k)

    # ------------------------------------------------------------------ running

    @property
    def month(self) -> int:
        """Calendar month index (year * 12 + month - 1) of the simulated month.

        During a step it is the month being simulated; after it (outcome detection) it
        is still that month, until the next step starts.
        """
        return self.current_month

    # ------------------------------------------------------------- events, effects

    def emit(self, name: str, mask: np.ndarray, where: tuple | None = None, **fields: Any) -> None:
        """Report that a declared event happened where ``mask`` is true.

        ``mask`` has the replicate axis first and then the event type's ``over``
        dimensions; each replicate's count of the event goes up by the number of places
        it happened. ``where`` maps the mask's axes to actor indices when they cover a
        subset (``(buyers, None)``: axis 1 runs over the states in ``buyers``).
        ``fields`` (arrays broadcastable to ``mask``) are kept only for narrated
        replicates (``world.log``).
        """
        m = np.asarray(mask)
        counts = self.counts.get(name)
        if counts is None:
            raise KeyError(f"event '{name}' is not declared (sim.parts.declare_event)")
        if m.any():  # most events happen in few months: skip the sum when none did
            if m.ndim == 1:
                counts += m
            elif m.dtype == np.bool_ and m.shape[0] == counts.shape[0]:
                from .tally_kernel import add_rows  # numba (compiled on first use, cached on disk)

                add_rows(counts, np.ascontiguousarray(m).reshape(m.shape[0], -1).view(np.uint8))
            else:
                counts += m.sum(axis=tuple(range(1, m.ndim)), dtype=np.int32)
        if self.log is not None:
            self.log.record(self, name, m, fields, where)

    def apply_effect(self, effect: Any, mask: np.ndarray | None = None) -> None:
        """Apply a scenario effect (a lever's, an inject's) now, where ``mask`` is true
        (default: every replicate). Events it names are fired by the events rule in the
        next month, each with its own probability."""
        key = id(effect)
        compiled = self._effects.get(key)
        if compiled is None:
            compiled = self._effects[key] = (effect, *compile_effect(effect, self.plan))
        _, ops, triggers = compiled
        mask = np.ones(self.n, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        for op in ops:  # each tells the world when it changes parameters (sim.world.effects)
            op(self, mask)
        self._rp.clear()  # and an on_change hook might have: rp's answers are made afresh
        ev = self.plan.index_of("event")
        for t in triggers:
            self.st.triggered[:, ev[t]] |= mask

    @property
    def par(self) -> Arrays:
        """The per-replicate parameter arrays (see the class's description)."""
        return self._par

    @par.setter
    def par(self, value: Arrays) -> None:
        self._par = value
        self._rp.clear()

    def rp(self, kind: str, name: str, dtype: Any = np.float64) -> np.ndarray:
        """A rule parameter's per-replicate values, shape (R,) (or (R, L) for a vector), as a
        C-contiguous float64 array: what compiled kernels and the formulas of
        :mod:`sim.rules.formulas` take. ``dtype=world.dtype`` gives them in the world's
        precision instead, for numpy code that computes in it (a float32 world's state
        stays float32). Read-only: the array may be the parameter's own, or a copy
        this world keeps and gives again.

        The answer is kept from month to month (a float32 world's parameters are otherwise
        converted to float64 every month): it is made afresh after an effect (applied by
        :meth:`apply_effect`, a scenario event or a policy: :mod:`sim.world.effects`), when ``world.par`` or the parameter's array is replaced, and
        after :meth:`parameters_changed`, which code that writes into a rule parameter's
        array in place (``w.par["rule:talks.sign_rate"][:] = 50.0``) calls before the
        rules read it again.

        A parameter of another slot that a rule in use declared it reads
        (``register(..., reads=...)``) comes from whichever model runs that slot; one that
        does not declare it lends its default (:func:`sim.parts.lent_default`).
        """
        key = (kind, name, dtype)
        hit = self._rp.get(key)
        if hit is not None and self._par.__dict__.get(hit[0]) is hit[1]:
            if self._reading is not None:
                self._reading.append(hit[:2])
            return hit[2]
        where = f"rule:{kind}.{name}"
        arr = src = self._par.__dict__.get(where)
        if arr is None:
            value = lent_default({k: rs.model for k, rs in self.plan.rules.items()}, kind, name)
            arr = np.broadcast_to(np.asarray(value, dtype=np.float64), (self.n, *np.shape(value)))
        out = np.ascontiguousarray(arr, dtype=dtype)
        self._rp[key] = (where, src, out)
        if self._reading is not None:
            self._reading.append((where, src))
        return out

    def parameters_changed(self) -> None:
        """Say that a parameter array was written in place other than by an effect: what
        :meth:`rp` and :meth:`per_parameters` kept is made afresh when next asked."""
        self._rp.clear()

    def per_parameters(self, key: Any, make: Callable[[World], Any]) -> Any:
        """``make(self)``, kept while the parameters stay as they are: for what a rule
        derives from parameters alone (a table of coefficients built from :meth:`rp`),
        made again after an effect, a replaced ``world.par`` or :meth:`parameters_changed`.
        ``key`` names it (the rule's own, e.g. ``("spells", "columns")``)."""
        hit = self._rp.get(("per_parameters", key))
        par = self._par.__dict__
        if hit is not None and all(par.get(where) is src for where, src in hit[0]):
            return hit[1]
        was, self._reading = self._reading, []  # the parameters make reads through rp
        try:
            value = make(self)
            self._rp[("per_parameters", key)] = (self._reading, value)
        finally:
            self._reading = was
        return value

    def step(self) -> None:
        """Simulate one month: every rule in order, then the observers."""
        self.current_month = self.plan.start + self.elapsed
        self.month_cache = {}  # quantities rules share within this month (see sim.rules.common)
        for _, rule in self.pipeline:
            rule(self)
        self.month_cache = None  # outside a step nothing is cached
        self.elapsed += 1
        for obs in self.observers:
            obs(self)

    # --------------------------------------------------------- snapshot/restore

    def snapshot(self) -> dict:
        """Everything needed to continue this world later from exactly this point."""
        return {
            "elapsed": self.elapsed,
            "current_month": self.current_month,
            "par": self.par.copy(),
            "st": self.st.copy(),
            "counts": {k: v.copy() for k, v in self.counts.items()},
            "streams": {k: g.state() for k, g in self.streams.items()},
            "n": self.n,
        }

    def restore(self, snap: dict, replicate: int | None = None, seed_seq: np.random.SeedSequence | None = None) -> None:
        """Return to a :meth:`snapshot`.

        With the same number of replicates (and no ``replicate``), the world continues
        exactly as it would have from the snapshot, random streams included. With
        ``replicate=k``, every replicate of this world becomes a copy of replicate k of
        the snapshot (the snapshot may hold any number of replicates: one played game,
        say): the state and the parameters drawn for it are copied, and the random
        streams start afresh from ``seed_seq`` (default: this world's own) at this world's
        own replicate indices, so the R copies continue differently — the Monte Carlo
        continuations of that world.
        """
        if replicate is None:
            if snap["n"] != self.n:
                raise ValueError(
                    f"snapshot has {snap['n']} replicates, this world {self.n}; "
                    "say which replicate to continue (replicate=k)"
                )
            self.elapsed = snap["elapsed"]
            self.current_month = snap["current_month"]
            self.par = snap["par"].copy()
            self.st = snap["st"].copy()
            self.latest = {}
            self.counts = {k: v.copy() for k, v in snap["counts"].items()}
            self.streams = {}
            for k, state in snap["streams"].items():
                self.stream(k).set_state(state)
            return
        if not 0 <= replicate < snap["n"]:
            raise ValueError(f"the snapshot has replicates 0..{snap['n'] - 1}, not {replicate}")

        def spread(a: Arrays) -> Arrays:
            # arrays only: a rule's cache kept beside them (a name starting with "_") is
            # per world, not per replicate, and is rebuilt by the rule when missing
            return Arrays(**{k: np.repeat(v[replicate: replicate + 1], self.n, axis=0) for k, v in a.__dict__.items()
                             if isinstance(v, np.ndarray) and not k.startswith("_")})

        self.elapsed = snap["elapsed"]
        self.current_month = snap["current_month"]
        self.par = spread(snap["par"])
        self.st = spread(snap["st"])
        self.latest = {}
        self.counts = {k: np.repeat(v[replicate: replicate + 1], self.n) for k, v in snap["counts"].items()}
        if seed_seq is not None:
            self.seed_seq = seed_seq
            self.key = seeding.root_key(seed_seq)
        self.streams = {}

    def subset(self, idx: np.ndarray, seed_seq: np.random.SeedSequence | None = None) -> World:
        """A world of the replicates ``idx`` of this one, continuing from where they are
        (what some replicates do next, without simulating the rest: the follow-up of
        disputes still running at a window's end). Each keeps its global index, so with
        this world's seed (the default) it draws the numbers it would have drawn here: it
        continues exactly as it would have in the whole world; another ``seed_seq`` gives
        fresh streams."""
        idx = np.asarray(idx, dtype=np.intp)
        sub = World(self.plan, len(idx), self.seed_seq if seed_seq is None else seed_seq, self.pipeline,
                    dtype=self.dtype, ids=self.ids[idx])

        def take(a: Arrays) -> Arrays:
            return Arrays(**{k: v[idx] for k, v in a.__dict__.items()
                             if isinstance(v, np.ndarray) and not k.startswith("_")})

        sub.elapsed, sub.current_month = self.elapsed, self.current_month
        sub.par, sub.st = take(self.par), take(self.st)
        sub.counts = {k: v[idx] for k, v in self.counts.items()}
        return sub

    def release(self) -> None:
        """Let Mesa forget this finished world, so that it can be garbage-collected
        (:func:`sim.world.agents.forget`: Mesa 3.3 keeps a reference to every model, 3.5
        none). Call it when done: many runs in one process otherwise keep every world
        they built on Mesa 3.3. Also drops what the world keeps of its parameters
        (:meth:`rp`, :meth:`per_parameters`) and its month's cache: a world lives on until
        the cycle collector frees it (it and its agents refer to each other), and a worker
        that runs hundreds of chunks otherwise held several chunks' copies at a time."""
        forget(self)
        self._rp.clear()
        self.month_cache = None
        self.latest = {}
