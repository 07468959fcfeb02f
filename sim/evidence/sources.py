"""What every input of a scenario rests on: rows for ``sim sources``, validation and reports."""

from __future__ import annotations

from typing import Any

from .cards import FactBase
from .provenance import CITED

KINDS = ("fact", "calibration", "assumption", "none")


def fact_ref(facts: FactBase, fid: str) -> dict[str, Any]:
    """A fact as a citation: id, statement, figure, date, confidence, card citation."""
    f = facts.get(fid)
    if f is None:
        return {"id": fid, "statement": "(unknown fact)", "citation": ""}
    fig = ""
    if f.value is not None:
        fig = f"{f.value:,.6g} {f.unit}"
    elif f.range is not None:
        fig = f"{f.range[0]:,.6g}-{f.range[1]:,.6g} {f.unit}"
    return {
        "id": fid,
        "statement": f.statement,
        "figure": fig,
        "date": f.date,
        "confidence": f.confidence + (f" ({f.claimed_by})" if f.claimed_by else ""),
        "card": facts.card_of.get(fid, ""),
        "citation": facts.citation(fid),
    }


def provenance_rows(scn) -> list[dict[str, Any]]:
    """One row per numeric parameter: path, value, kind, note, and the facts it cites.

    ``facts`` are the facts a ``fact`` source names; ``cited`` the facts an assumption or
    calibration note cites in [brackets].
    """
    rows = []
    for r in scn.parameters():
        cited = CITED.findall(r["note"]) if r["kind"] in ("assumption", "calibration") else []
        rows.append(
            {
                **r,
                "fact_refs": [fact_ref(scn.facts, f) for f in r["facts"]],
                "cited_refs": [fact_ref(scn.facts, f) for f in cited],
            }
        )
    return rows


def coverage(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts by source kind, and the share with any source."""
    counts = {k: 0 for k in KINDS}
    for r in rows:
        counts[r["kind"]] = counts.get(r["kind"], 0) + 1
    n = len(rows)
    with_src = n - counts["none"]
    scenario_set = [r for r in rows if r["origin"] != "default"]
    by_kind_set = {k: sum(1 for r in scenario_set if r["kind"] == k) for k in KINDS}
    return {
        "parameters": n,
        "with_source": with_src,
        "share": with_src / n if n else 1.0,
        "by_kind": counts,
        "set_by_scenario": len(scenario_set),
        "set_by_scenario_by_kind": by_kind_set,
        "facts_cited": sorted({f["id"] for r in rows for f in r["fact_refs"] + r["cited_refs"]}),
    }
