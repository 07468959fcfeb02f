"""``sim dashboard``: a local browser app over the library's Python API.

Three modes, one page (Solara, the web framework of Mesa's own visualization):

* **Run** — a scenario (shipped, given on the command line, or uploaded), runs, seed,
  ``--set``-style overrides and levers from the scenario's declarations; the Monte Carlo
  in a worker thread with a progress bar and a cancel button; the outcome table beside
  the report's figures, the model-uncertainty headline, the story of a chosen run, and
  the run folder and report to download. It calls what ``sim run`` calls:
  :func:`sim.workflows.run_with_uncertainty`, :func:`sim.workflows.save_run` and
  :func:`sim.workflows.run_story`.
* **Study** — the folders ``sim sweep`` and ``sim compare`` write, and ``sim discover``'s
  boxes and rules over a sweep (:func:`sim.analysis.discover.discover`).
* **Play** — a class game on one screen (:class:`sim.play.game.Game`): roles, moves,
  the instructor's injects, the forecast after each turn, save and resume, the debrief.

The app computes nothing of its own: every number it shows comes from the library, and
every file it offers is one the library wrote. :mod:`.logic` holds the few helpers that
are not display (uploads, folders, jobs), testable without a browser.
"""
