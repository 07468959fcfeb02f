"""The page's state. Module-level Solara reactives are per browser session: two tabs (or two
classes) on one server never see each other's runs or games."""

from __future__ import annotations

import shutil
import tempfile

import solara

from .config import CONFIG
from .logic import Choice, file_choice, shipped_choices

# the scenario, shared by the three modes
choices: solara.Reactive[tuple[Choice, ...]] = solara.reactive(())
choice_key: solara.Reactive[str | None] = solara.reactive(None)
choice_problems: solara.Reactive[tuple[str, ...]] = solara.reactive(())
upload_dir: solara.Reactive[str | None] = solara.reactive(None)

# Run
overrides: solara.Reactive[tuple[str, ...]] = solara.reactive(())
levers: solara.Reactive[tuple[str, ...]] = solara.reactive(())
runs: solara.Reactive[int | None] = solara.reactive(None)
seed: solara.Reactive[int | None] = solara.reactive(None)
uncertainty: solara.Reactive[bool] = solara.reactive(False)
uncertainty_sets: solara.Reactive[int] = solara.reactive(16)
uncertainty_runs: solara.Reactive[int] = solara.reactive(200)
run_job = solara.reactive(None)
run_tick = solara.reactive(0)
run_result = solara.reactive(None)  # dict: res, folder, scn, levers
story_job = solara.reactive(None)
story_tick = solara.reactive(0)

# Study
study_folder: solara.Reactive[str] = solara.reactive("")
study_open = solara.reactive(None)  # dict: path, kind
study_problems: solara.Reactive[tuple[str, ...]] = solara.reactive(())
discover_job = solara.reactive(None)
discover_tick = solara.reactive(0)

# Play
game = solara.reactive(None)  # dict: game, folder, save
game_tick = solara.reactive(0)
play_job = solara.reactive(None)
play_tick = solara.reactive(0)


def init_session() -> None:
    """The choices a new session starts with: the scenario given to ``sim dashboard`` first."""
    items = shipped_choices()
    if CONFIG.scenario is not None:
        given = file_choice(CONFIG.scenario)
        items = [given, *[c for c in items if c.key != given.key]]
    choices.set(tuple(items))
    first = items[0].key if CONFIG.scenario is not None or not any(c.key == "karabakh" for c in items) else "karabakh"
    choice_key.set(first if items else None)


def current_choice() -> Choice | None:
    """The scenario picked in this session."""
    for c in choices.value:
        if c.key == choice_key.value:
            return c
    return None


def session_folder() -> str:
    """A temporary folder of this session (uploads), removed when the session ends."""
    if upload_dir.value is None:
        upload_dir.set(tempfile.mkdtemp(prefix="sim-dashboard-"))
    return upload_dir.value


def end_session() -> None:
    if upload_dir.value is not None:
        shutil.rmtree(upload_dir.value, ignore_errors=True)
