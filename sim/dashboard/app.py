"""The page: the scenario picker above three modes, Run, Study and Play.

Served by :func:`sim.dashboard.server.serve` (``sim dashboard``); Solara renders the
``Page`` component for each browser session.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import solara
import solara.lab

from ..scenario.errors import InputError
from . import state
from .jobs import error_lines
from .logic import load_choice, save_upload
from .widgets import CSS, Problems, Upload


@solara.lab.on_kernel_start
def _session() -> Any:
    state.init_session()
    return state.end_session


def use_scenario() -> tuple[Any, Any, list[str]]:
    """The chosen scenario as written, and with the Run mode's overrides (None if they are
    bad), each loaded once per change; and the problems, as the CLI prints them."""
    choice = state.current_choice()
    overrides = tuple(state.overrides.value)

    def load_base():
        if choice is None:
            return None, ["sim dashboard: no scenario chosen"]
        try:
            return load_choice(choice), []
        except InputError as exc:
            return None, error_lines(exc, hide=choice.hide)

    base, base_problems = solara.use_memo(load_base, [choice])

    def load_overridden():
        if base is None or not overrides:
            return base, []
        try:
            return base.with_overrides(list(overrides)), []
        except InputError as exc:
            return None, error_lines(exc, hide=choice.hide if choice else None)

    scn, problems = solara.use_memo(load_overridden, [base, overrides])
    return base, scn, base_problems + problems


def on_upload(data: dict) -> None:
    """A scenario file chosen in the browser: saved in the session's folder and picked."""
    try:
        c = save_upload(str(data.get("name") or ""), str(data.get("text") or ""), Path(state.session_folder()))
    except OSError as exc:
        state.choice_problems.set((f"sim dashboard: upload: cannot save the file ({exc})",))
        return
    state.choices.set((c, *state.choices.value))
    state.overrides.set(())
    state.levers.set(())
    state.choice_key.set(c.key)


@solara.component
def ScenarioBar(scn: Any, problems: list[str]):
    choices = state.choices.value
    labels = {c.label: c.key for c in choices}
    current = state.current_choice()

    def pick(label: str | None) -> None:
        if label in labels and labels[label] != state.choice_key.value:
            state.overrides.set(())
            state.levers.set(())
            state.choice_key.set(labels[label])

    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}, classes=["sim-scenario-bar"]):
        solara.Select("Scenario", values=list(labels), value=current.label if current else None, on_value=pick,
                      classes=["sim-scenario"], style={"min-width": "420px", "max-width": "640px"})
        Upload(label="Upload a scenario file…", accept=".yaml,.yml", event_upload=on_upload,
               hint="start the dashboard on it instead: sim dashboard PATH/TO/FILE.yaml")
        if scn is not None:
            m = scn.spec.meta
            solara.Text(f"{m.title} · from {m.start} · {m.horizon_months} months · seed {m.seed}",
                        classes=["sim-note"])
    Problems(list(state.choice_problems.value) + list(problems))


@solara.component
def Page():
    from .play_view import PlayView
    from .run_view import RunView
    from .study_view import StudyView

    solara.Title("sim dashboard")
    solara.Style(CSS)
    base, scn, problems = use_scenario()
    with solara.Column(style={"padding": "8px 16px"}, gap="6px"):
        with solara.Row(style={"align-items": "baseline"}):
            solara.HTML(tag="h2", unsafe_innerHTML="sim dashboard", style={"margin": "0"})
            solara.Text("Monte Carlo runs, studies and class play over the sim library", classes=["sim-note"])
        ScenarioBar(base, problems)
        with solara.lab.Tabs():
            with solara.lab.Tab("Run", classes=["sim-tab-run"]):
                RunView(base, scn)
            with solara.lab.Tab("Study", classes=["sim-tab-study"]):
                StudyView()
            with solara.lab.Tab("Play", classes=["sim-tab-play"]):
                PlayView(scn)
