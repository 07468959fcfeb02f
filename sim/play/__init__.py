"""Narrated runs and turn-based play (classroom exercises).

* :mod:`.story` — one replicate of a run, month by month, in words (``sim story``).
* :mod:`.game` — a game: people play some actors turn by turn; after each turn a Monte
  Carlo forecast from the state they created (``sim play``).
* :mod:`.injects`, :mod:`.moves` — the instructor's inject deck and scripted moves.
* :mod:`.savefile` — saving and resuming a game (one JSON file); :mod:`.savecheck` checks
  a saved game on load (schema, format, the scenario's hash, how its parts agree).
* :mod:`.debrief`, :mod:`.html`, :mod:`.figures` — the story's and the debrief's pages.
* :mod:`.terminal` — the text interface ``sim play`` runs in a terminal.

The same engine serves a browser dashboard: it holds no terminal logic.
"""
