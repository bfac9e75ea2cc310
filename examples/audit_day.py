"""The rehearsal's audit day: the business unit fills in the sheet ``round moderate --start`` wrote.

As a meeting would, for each case it agrees the grade most of the agencies gave (or
"good" where none was received), writes the key findings and a brief summary that names
no one; it merges the strengths and lessons the auditors wrote in the same words (one
finding, with all their cases and agencies) and sends each merged finding forward.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import yaml

# Brief summaries written so that no child can be known: the meeting's own words.
SUMMARIES = (
    "A family known to early help after the school raised concerns about attendance.",
    "A young child living with a parent whose mental health had worsened.",
    "Siblings of different ages supported after a referral from the police.",
    "A teenager known to several agencies after going missing from home twice.",
    "An infant whose parents were offered support before and after the birth.",
    "A family supported through a period of overcrowded and unsafe housing.",
    "A child whose parent misused alcohol, with a grandparent caring at times.",
    "A young person supported by CAMHS while their family moved between areas.",
)


def agreed_grade(agency_grades: dict[str, Any]) -> str:
    """The grade the agencies' returns gave most often overall, else 'good'."""
    given = [g.get("overall") for g in agency_grades.values() if isinstance(g, dict)]
    counted = Counter(g for g in given if g)
    return counted.most_common(1)[0][0] if counted else "good"


def merged(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One finding for each wording, with every case and agency it came from, forward."""
    kept: dict[tuple[str, str], dict[str, Any]] = {}
    for finding in findings:
        key = (finding["theme"], finding["text"])
        if key not in kept:
            kept[key] = {**finding, "cases": [], "agencies": [], "forward": True}
        into = kept[key]
        into["cases"] += [c for c in finding["cases"] if c not in into["cases"]]
        into["agencies"] += [a for a in finding["agencies"] if a not in into["agencies"]]
    return list(kept.values())


def fill_in(path: Path) -> None:
    """Fill in the sheet at ``path`` as the audit day agreed it."""
    sheet = yaml.safe_load(path.read_text(encoding="utf-8"))
    for n, case in enumerate(sheet["cases"]):
        case["agreed_grade"] = agreed_grade(case.get("agency_grades") or {})
        case["key_findings"] = (
            "The agencies heard each other's audits and agreed the grade; the record "
            "of decisions and the child's own words were the points most discussed."
        )
        case["summary"] = SUMMARIES[n % len(SUMMARIES)]
    sheet["strengths"] = merged(sheet.get("strengths") or [])
    sheet["lessons"] = merged(sheet.get("lessons") or [])
    path.write_text(yaml.safe_dump(sheet, sort_keys=False, allow_unicode=True), encoding="utf-8")
