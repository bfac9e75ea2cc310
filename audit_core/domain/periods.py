"""A round's period: its id, a year and a half (``2026-H1``, ``2026-H2``)."""

from __future__ import annotations

import re

from audit_core.domain.errors import PlanningError

PERIOD = re.compile(r"^(\d{4})-[Hh]([12])$")


def parse_period(text: str) -> str:
    """'2026-h1' -> '2026-H1'; anything else is refused with the expected form."""
    match = PERIOD.match(text.strip())
    if not match:
        raise PlanningError(f"'{text}' is not a period: use the form 2026-H1 or 2026-H2.")
    return f"{match.group(1)}-H{match.group(2)}"
