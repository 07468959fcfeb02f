"""A run's figures drawn once and cropped (sim.report.canvas): the report embeds every figure
written, each a whole PNG holding every text drawn; a figure that outgrows its margins is
saved whole all the same; a write that fails stops the figures with its error; the
garbage collector comes back as it was."""

from __future__ import annotations

import base64
import errno
import gc
import io
import re
import threading

import numpy as np
import pytest
from PIL import Image

import sim
from sim.report import canvas, figures, write_report


@pytest.fixture(scope="module")
def karabakh():
    return sim.run("karabakh", runs=400, seed=3)


def _outside(fig, box) -> list[str]:
    """Which sides of what matplotlib counts as drawn (the figure's tight bounding box, what
    ``bbox_inches="tight"`` keeps) fall outside ``box`` (rows top:bottom, columns
    left:right of its canvas), by more than a pixel."""
    top, bottom, left, right = box
    height = fig.canvas.get_width_height()[1]
    bb = fig.get_tightbbox(fig.canvas.get_renderer()).transformed(fig.dpi_scale_trans)  # pixels, from the bottom
    sides = {"left": bb.x0 < left - 1, "right": bb.x1 > right + 1,
             "top": height - bb.y1 < top - 1, "bottom": height - bb.y0 > bottom + 1}
    return [k for k, v in sides.items() if v]


def test_every_figure_of_a_run_is_in_its_report_whole_with_all_its_text(karabakh, tmp_path, monkeypatch):
    monkeypatch.setenv("SIM_FIGURES_FORK", "0")  # seen from this process: every figure drawn here (test_report_shared.py)
    seen = []
    real = canvas.render

    def render(fig):
        encode = real(fig)
        box = canvas.crop_box(np.asarray(fig.canvas.buffer_rgba()), round(canvas.PAD_IN * fig.dpi))
        seen.append((fig.texts[0].get_text() if fig.texts else fig.axes[0].get_title(loc="left"), box,
                     None if box is None else _outside(fig, box)))
        return encode

    monkeypatch.setattr(canvas, "render", render)
    write_report(karabakh, tmp_path)
    files = sorted(tmp_path.glob("fig_*.png"))
    assert {p.stem.removeprefix("fig_") for p in files} == {"outcomes", "cumulative", "escalation", "casualties",
                                                           "relations"}
    assert len(seen) == len(files)
    for title, box, outside in seen:
        assert box is not None, f"{title!r} reached the edge of its canvas"  # laid out once, drawn once
        assert outside == [], f"{title!r}: cropped on the {outside}"
    html = (tmp_path / "report.html").read_text()
    embedded = [base64.b64decode(b) for b in re.findall(r'src="data:image/png;base64,([^"]+)"', html)]
    assert sorted(embedded) == sorted(p.read_bytes() for p in files)
    for data in embedded:
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        with Image.open(io.BytesIO(data)) as im:
            im.verify()
        with Image.open(io.BytesIO(data)) as im:
            pixels = np.asarray(im.convert("RGB"))
            assert im.size[0] > 300 and im.size[1] > 200
            # cropped with a white border of canvas.PAD_IN, and something drawn inside it
            pad = round(canvas.PAD_IN * 100)
            assert (pixels[: pad - 1] == 255).all() and (pixels[:, : pad - 1] == 255).all()
            assert (pixels[-(pad - 1):] == 255).all() and (pixels[:, -(pad - 1):] == 255).all()
            assert (pixels != 255).any(axis=2).mean() > 0.05


def test_a_figure_that_outgrows_its_margins_is_saved_whole_as_with_a_tight_bounding_box(tmp_path):
    def figure():
        fig, axes = canvas.panels(1, 1, 3.0, 2.0, left=0.2, right=0.2, top=0.2, bottom=0.2)
        ax = axes[0, 0]
        ax.plot([0, 1], [0, 1], label="a legend entry beside the axes, well beyond the figure's right edge")
        ax.set_ylabel("a label left of the axes, beyond the margin")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1))
        return fig

    fig = figure()
    width, height = fig.canvas.get_width_height()
    png = canvas.render(fig)()
    tight = io.BytesIO()
    figure().savefig(tight, format="png", bbox_inches="tight", facecolor="white")
    with Image.open(io.BytesIO(png)) as got, Image.open(tight) as want:
        assert got.size == want.size and got.size[0] > width + 200
        assert np.array_equal(np.asarray(got), np.asarray(want))
    canvas.save(figure(), tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes() == png


@pytest.mark.parametrize("failing", ["fig_cumulative.png", "fig_relations.png"])  # one early, the last one
def test_a_figure_that_cannot_be_written_stops_the_figures_with_that_error(karabakh, tmp_path, monkeypatch, failing):
    monkeypatch.setenv("SIM_FIGURES_FORK", "0")  # seen from this process: every figure drawn here (test_report_shared.py)
    from sim import results

    real = results.atomic_write
    written = []

    def full(path, data):
        if path.name == failing:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, data)
        written.append(path.name)

    monkeypatch.setattr(results, "atomic_write", full)
    with pytest.raises(OSError, match="No space left"):
        figures.write_figures(karabakh, tmp_path)
    assert not [t for t in threading.enumerate() if t.name.startswith("sim-figures")]  # no write after it
    names = sorted(p.name for p in tmp_path.iterdir())  # no temporary file left either
    assert names == sorted(written) and "fig_outcomes.png" in names and failing not in names
    for name in names:
        with Image.open(tmp_path / name) as im:
            im.verify()


def test_the_garbage_collector_is_paused_while_figures_are_drawn_and_comes_back_as_it_was(karabakh, tmp_path,
                                                                                          monkeypatch):
    monkeypatch.setenv("SIM_FIGURES_FORK", "0")  # seen from this process: every figure drawn here (test_report_shared.py)
    during = []
    real = figures.outcome_probabilities
    monkeypatch.setattr(figures, "outcome_probabilities", lambda res, path: during.append(gc.isenabled()) or real(res, path))
    assert gc.isenabled()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    figures.write_figures(karabakh, tmp_path / "a")
    assert during == [False] and gc.isenabled()
    gc.disable()
    try:
        figures.write_figures(karabakh, tmp_path / "b")
        assert not gc.isenabled()  # off before, off after
    finally:
        gc.enable()
    # two holders at once (the dashboard's threads): back on only when the last is done
    first_in, second_out, inside = threading.Event(), threading.Event(), []

    def first():
        with canvas.collector_paused():
            first_in.set()
            second_out.wait(10)
            inside.append(gc.isenabled())

    t = threading.Thread(target=first)
    t.start()
    assert first_in.wait(10)
    with canvas.collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()  # the first still holds it
    second_out.set()
    t.join(10)
    assert inside == [False] and gc.isenabled()
