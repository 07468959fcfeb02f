"""The fitted defaults of the generic coefficients, read from the shipped calibration file.

``sim/rules/calibration.json`` is what ``sim calibrate`` wrote when it fitted the rules'
generic coefficients on the dyad-year panel (docs/CALIBRATION.md, key
``hindcast-dyad-years``); a rule's declaration cites a value by its key
(``escalation.beta_peace``) and gets it with its 95% interval in the note. A key the file
does not hold gives the declaration's fallback, said as such. The file is read once.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from ..scenario.values import default

FILE = Path(__file__).with_name("calibration.json")
KEY = "hindcast-dyad-years"
CAL = "calibration"


@functools.cache
def _file() -> dict:
    try:
        return json.loads(FILE.read_text())
    except FileNotFoundError:  # pragma: no cover - the file ships with the package
        return {}


def entry(key: str) -> dict | None:
    """The fitted value of ``key``, its interval and whether the panel identifies it, or None."""
    d = _file()
    if key not in d.get("values", {}):
        return None
    return {"value": d["values"][key], "lo": d["lo"][key], "hi": d["hi"][key],
            "identified": d["identified"][key]}


def value(key: str, fallback: float) -> float:
    e = entry(key)
    return float(e["value"]) if e else float(fallback)


def note(key: str, identifies: str) -> str:
    """The provenance note of a fitted value (the calibration key first)."""
    e = entry(key)
    if e is None:
        return f"{KEY}: not yet fitted ({identifies}); no effect"
    years = _file().get("panel", {}).get("years", "1946-2002")
    text = (f"{KEY}: {identifies}, fitted on the dyad-years {years} (95% interval {e['lo']:.3g} to "
            f"{e['hi']:.3g})")
    if not e["identified"]:
        text += "; not identified by the panel (the interval includes no effect): a declared uncertainty"
    return text


def fitted(key: str, identifies: str, fallback: float = 0.0, **kw: Any) -> Any:
    """A pydantic field default taken from the calibration file (``default(..., kind=calibration)``)."""
    e = entry(key)
    if e is None:
        return default(fallback, note(key, identifies), **kw)
    return default(float(e["value"]), note(key, identifies), CAL, **kw)


def uncertain() -> dict[str, tuple[float, float]]:
    """The parameters the panel does not identify, as ``{rules.KEY: (lo, hi)}``: declared uncertainties."""
    d = _file()
    return {f"rules.{k}": (d["lo"][k], d["hi"][k]) for k, ok in d.get("identified", {}).items()
            if not ok and not k.startswith("hindcast.")}
