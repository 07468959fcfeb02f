"""Why the forecast moved: a turn's change in each outcome, split into the teams' moves,
the injects, chance and their interaction.

After turn k the forecast F_k is the share of N continuations from the world after the
turn in which each outcome happens by the horizon; before it, F_{k-1}. The turn is
replayed from the snapshot before it (:func:`replay`: the same random streams, so the
same draws wherever the structure allows) in four variants — with the moves and the
injects (the turn as played), with the moves only, with the injects only, and with
neither — and each world's N continuations are run on the same seed as the game's own
forecast (common random numbers: continuation i of every variant shares its draws).
With F_mi = F_k, F_m, F_i and F_0 the four forecasts:

* **chance** = F_0 − F_{k-1}: what the turn's months did with neither moves nor injects
  (this turn's draws, and the months passing);
* **moves** = F_m − F_0 and **injects** = F_i − F_0: each on its own;
* **interaction** = F_mi − F_m − F_i + F_0: the rest, shown where it exceeds its Monte
  Carlo error (1.96 standard errors of its per-continuation values).

They sum to F_k − F_{k-1} exactly. A turn without moves has F_m = F_0 (the same world),
so the moves' part is exactly 0; one with only injects gives them the whole change
that chance does not. Each move's own part is the change when it alone is taken back
(F_mi minus the forecast without it); a move that changed nothing in the model (the
world replayed without it is the same), or no outcome beyond Monte Carlo error, is
flagged. "Injects" are every inject and instructor's event of the turn, at the months
they took effect (an inject that fires on a condition is taken as given: it happened).

The moves are the levers (``ACTOR.LEVER``) a team pulled and the decisions it ordered
(``ACTOR.DECISION(ARGS)``, :mod:`sim.play.decisions`), applied at the start of the turn
(:func:`sim.play.moves.apply_move`); "hold back" changes nothing. The replays are the
game's own months, where the model takes no decision for a played country, while each
forecast's continuations draw the played countries' later decisions at the model's odds
(:mod:`sim.play.continuations`): that the played countries held back in the turn (where
F_{k-1} drew their decisions) is in chance, and an order's part is what it did beside
holding back. Every variant's continuations start the same way (advised, the same deck
injects still to come, the same seed), so the identities above stay exact.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Z = 1.96
"""Standard errors that make a part "beyond Monte Carlo error" (a two-sided 95% band)."""


def _effect(data: Any) -> Any:
    from ..scenario.schema import Effect

    return data if isinstance(data, Effect) else Effect.model_validate(data)


def replay(game: Any, before: dict[str, Any], first: int, last: int, pulls: list[tuple[str, str]],
           applied: list[dict[str, Any]]) -> dict[str, Any]:
    """The snapshot after replaying months ``first``..``last`` from ``before`` (a game
    snapshot with its history) with only these moves (``(actor, lever)``) and these
    injects (``{"month", "effect"}``, applied at the start of their month in the order
    given), on the random streams the game had at ``before``. With a turn's own moves
    and injects it is the game's snapshot after that turn, array for array."""
    from .. import seeding
    from ..outcomes import Recorder
    from ..parts import build_pipeline
    from ..world.model import World
    from .moves import apply_move

    plan = game.plan
    w = World(plan, 1, seeding.root_sequence(game.seed), build_pipeline(plan),
              dtype=np.dtype(game.dtype))
    try:
        w.restore({k: v for k, v in before.items() if k != "history"})
        rec = Recorder(w, game.detectors, 0, 0, 1, 1)
        rec.preload(before["history"])
        for actor, lever in pulls:
            apply_move(w, game.scn, actor, lever)
        effects = [(int(a["month"]), _effect(a["effect"])) for a in applied]
        for m in range(first, last + 1):
            for month, eff in effects:
                if month == m:
                    w.apply_effect(eff)
            w.step()
        snap = w.snapshot()
        snap["history"] = rec.history()
        return snap
    finally:
        w.release()


def same_world(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two snapshots hold the same world (state, parameters, counts and history)."""
    for space in ("st", "par"):
        for name in a[space].names():
            if name.startswith("_"):
                continue  # a rule's cache
            if not np.array_equal(a[space][name], b[space][name], equal_nan=True):
                return False
    if a["history"]["first"] != b["history"]["first"]:
        return False
    return all(np.array_equal(v, b["counts"][k]) for k, v in a["counts"].items())


class _Hits:
    """Which outcomes each continuation saw: (outcomes, runs) booleans, by outcome name."""

    def __init__(self, game: Any, snap: dict[str, Any], turn: int):
        from ..analysis.compare import Flags
        from .continuations import continuations

        flags = Flags()
        res = continuations(game.scn, snap, game.seed, turn, runs=game.forecast_runs, months=game.months,
                            injects=game.pending_injects(turn), chunk_size=game.chunk_size, dtype=game.dtype,
                            consumers=[flags])
        self.names = [o.name for o in res.outcomes]
        self.m = flags.matrix(len(self.names)).astype(np.int8)

    def p(self) -> np.ndarray:
        return self.m.mean(axis=1)


def _se(x: np.ndarray) -> np.ndarray:
    """Standard error of the mean of each row (per-continuation values)."""
    n = x.shape[1]
    return x.std(axis=1, ddof=1) / np.sqrt(n) if n > 1 else np.zeros(x.shape[0])


def explain_turn(game: Any, k: int) -> dict[str, Any]:
    """Why the forecast moved in turn ``k`` (1-based) of ``game``.

    Returns ``{"turn", "runs", "outcomes": {NAME: {"total", "moves", "injects", "chance",
    "interaction", "interaction_se", "interaction_shown"}}, "moves": [{"move", "parts":
    {NAME: part}, "se": {NAME: se}, "nothing": None | "model" | "forecast"}]}``; the parts
    are differences of probabilities (0.05 = 5 points) and sum to ``total``, the change of
    the forecast from turn k-1 to turn k.
    """
    rec = game.turns[k - 1]
    if "applied" not in rec:
        raise ValueError(f"turn {k} was saved by an older version of sim: it cannot be replayed")
    before, after = game.snapshots[k - 1], game.snapshots[k]
    pulls = [tuple(m.split(".", 1)) for m in rec["moves"]]
    applied = list(rec["applied"])
    first, last = rec["first"], rec["last"]

    full = (tuple(pulls), bool(applied))
    snaps: dict[tuple, dict[str, Any]] = {full: after}
    hits: dict[tuple, _Hits] = {}

    def snap(key: tuple) -> dict[str, Any]:
        if key not in snaps:
            snaps[key] = replay(game, before, first, last, list(key[0]), applied if key[1] else [])
        return snaps[key]

    def hits_of(key: tuple) -> _Hits:
        key = (key[0], key[1] and bool(applied))
        if key not in hits:
            # the same world gives the same continuations: no need to run them again
            same = next((h for k2, h in hits.items() if same_world(snap(k2), snap(key))), None)
            hits[key] = same if same is not None else _Hits(game, snap(key), k)
        return hits[key]

    h_all = hits_of(full)
    h_none = hits_of(((), False))
    h_m = hits_of((tuple(pulls), False))
    h_i = hits_of(((), True))
    prev = game.forecasts[k - 1]["outcomes"]
    p_prev = np.array([prev[n]["p"] for n in h_all.names])
    inter = h_all.m - h_m.m - h_i.m + h_none.m
    parts = {
        "total": h_all.p() - p_prev,
        "moves": h_m.p() - h_none.p(),
        "injects": h_i.p() - h_none.p(),
        "chance": h_none.p() - p_prev,
        "interaction": inter.mean(axis=1),
    }
    inter_se = _se(inter.astype(float))
    outcomes = {}
    for j, name in enumerate(h_all.names):
        row = {key: float(v[j]) for key, v in parts.items()}
        row["interaction_se"] = float(inter_se[j])
        row["interaction_shown"] = bool(abs(row["interaction"]) > Z * row["interaction_se"])
        outcomes[name] = row
    moves = []
    for i, mv in enumerate(pulls):
        key = (tuple(pulls[:i] + pulls[i + 1:]), True)
        h_without = hits_of(key)
        unchanged = same_world(snap((key[0], key[1] and bool(applied))), after)
        diff = h_all.m - h_without.m
        part, se = diff.mean(axis=1), _se(diff.astype(float))
        nothing = "model" if unchanged else "forecast" if bool(np.all(np.abs(part) <= Z * se)) else None
        moves.append({"move": f"{mv[0]}.{mv[1]}", "parts": dict(zip(h_all.names, map(float, part), strict=True)),
                      "se": dict(zip(h_all.names, map(float, se), strict=True)), "nothing": nothing})
    return {"turn": k, "runs": int(h_all.m.shape[1]), "outcomes": outcomes, "moves": moves}


def add_ruling(ex: dict[str, Any], before: dict[str, Any], after: dict[str, Any]) -> None:
    """An umpire's ruling after turn ``ex["turn"]``: its part (the forecast after the ruling
    minus the one before it, on the same seed) joins the turn's parts and total."""
    for name, row in ex["outcomes"].items():
        d = after["outcomes"][name]["p"] - before["outcomes"][name]["p"]
        row["ruling"] = row.get("ruling", 0.0) + d
        row["total"] += d


PARTS = ("moves", "injects", "chance", "interaction", "ruling")
"""The parts of a change, in the order they are shown."""


def parts_words(row: dict[str, Any], *, digits: int = 1) -> str:
    """A split in words: "moves +12.0 pts, injects −3.5, chance +1.0" (parts under half a
    point left out; the interaction only where it exceeds Monte Carlo error)."""
    out = []
    for key in PARTS:
        v = row.get(key)
        if v is None or (key == "interaction" and not row.get("interaction_shown")):
            continue
        if abs(v) >= 0.005 or (key == "moves" and v != 0 and abs(v) >= 0.001):
            out.append(f"{'teams' if key == 'moves' else key} {100 * v:+.{digits}f}")
    return ", ".join(out) if out else "no part above half a point"
