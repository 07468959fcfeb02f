"""How far a class's choices move each pack's headline outcomes: games played to the end
with fixed strategies, 40 games (seeds) per strategy by default.

Usage (from the repository root)::

    .venv/bin/python benchmarks/pack_strategies.py              # both packs, 40 games per strategy
    .venv/bin/python benchmarks/pack_strategies.py --games 10 --pack ferghana-border

A strategy is a list of moves per turn for the pack's default teams (every other turn each
team holds back); the deck's injects that fire by themselves fire as in class, and none
is played by hand. Each game is one world played turn by turn through :class:`sim.play.game.Game`
(the same engine a class uses; forecasts are made with a few continuations only, since
what is measured is what happened in the game). Prints, per strategy, the share of games
in which each headline outcome happened, with its Wilson 95% interval. A measurement for
the closing notes of the classroom issue, not a test.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sim.play.decisions import HOLD  # noqa: E402
from sim.play.game import Game  # noqa: E402
from sim.play.moves import TurnMoves  # noqa: E402
from sim.play.packs import game_setup, pack_names  # noqa: E402

# Moves by turn (1-based). Written from the teams' levers as a class might play them, before
# any game was run; the example moves are the pack's own moves-example.yaml.
STRATEGIES: dict[str, dict[str, dict[int, list[str]]]] = {
    "caucasus-credibility": {
        "escalate": {1: ["azerbaijan.mobilise", "armenia.mobilise", "armenia.appeal_to_csto"],
                     2: ["azerbaijan.launch_offensive", "russia.delay_deliveries"],
                     3: ["armenia.freeze_csto", "armenia.buy_more_from_india"]},
        "de-escalate": {1: ["azerbaijan.lift_blockade", "armenia.open_peace_talks", "azerbaijan.open_peace_talks",
                            "russia.reinforce_peacekeepers"],
                        2: ["russia.mediate_on_the_border", "armenia.invite_russian_mediation",
                            "armenia.accept_csto_monitors"]},
    },
    "ferghana-border": {
        "arms race": {1: ["kyrgyzstan.order_more_turkish_drones", "tajikistan.request_russian_armour",
                          "russia.arm_tajikistan"],
                      2: ["kyrgyzstan.reinforce_border", "tajikistan.reinforce_border",
                          "tajikistan.buy_chinese_arms"],
                      3: ["kyrgyzstan.appeal_to_csto", "russia.raise_base_readiness"]},
        "mediation": {1: ["russia.mediate", "kyrgyzstan.ask_russia_to_mediate", "tajikistan.ask_russia_to_mediate"],
                      2: ["kyrgyzstan.open_border_talks"]},
    },
}


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, mid - half), min(1.0, mid + half)


def example_moves(setup, g: Game) -> dict[int, TurnMoves]:
    from sim.play.moves import load_moves

    if not setup.pack.spec.moves:
        return {}
    return load_moves(setup.pack.folder / setup.pack.spec.moves, setup.scn, setup.played, g.total_turns, setup.deck)


def play(setup, seed: int, plan: dict[int, object], runs: int) -> dict[str, int]:
    g = Game(setup.scn, setup.played, seed=seed, deck=setup.deck, months=setup.months, forecast_runs=runs)
    while not g.finished:
        k = g.turn + 1
        mv = plan.get(k)
        if isinstance(mv, TurnMoves):
            g.play_turn(mv)
        else:
            moves = list(mv or [])
            movers = {m.split(".")[0] for m in moves}
            g.play_turn(moves + [f"{a}.{HOLD}" for a in setup.played if a not in movers])
    return g.happened()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--games", type=int, default=40, help="games (seeds) per strategy")
    ap.add_argument("--pack", action="append", help="a pack (default: every pack)")
    ap.add_argument("--runs", type=int, default=20, help="continuations per forecast (not what is measured)")
    args = ap.parse_args()
    for pack in args.pack or pack_names():
        setup = game_setup(pack, default_teams=True)
        headline = list(setup.pack.spec.headline)
        probe = Game(setup.scn, setup.played, deck=setup.deck, months=setup.months, forecast_runs=1)
        strategies = {"hold back": {}, **STRATEGIES.get(pack, {}), "example moves": example_moves(setup, probe)}
        print(f"\n## {pack} ({args.games} games per strategy; teams {', '.join(setup.played)})\n")
        print("| strategy | " + " | ".join(headline) + " |")
        print("|---|" + "---|" * len(headline))
        for name, plan in strategies.items():
            t0 = time.perf_counter()
            counts = dict.fromkeys(headline, 0)
            for s in range(args.games):
                hit = play(setup, 1000 + s, plan, args.runs)
                for h in headline:
                    counts[h] += h in hit
            cells = []
            for h in headline:
                lo, hi = wilson(counts[h], args.games)
                cells.append(f"{counts[h]}/{args.games} ({lo:.0%}-{hi:.0%})")
            print(f"| {name} | " + " | ".join(cells) + f" |  <!-- {time.perf_counter() - t0:.0f} s -->", flush=True)


if __name__ == "__main__":
    main()
