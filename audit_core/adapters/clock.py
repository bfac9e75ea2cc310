"""The clock an entry point hands to the use cases: the wall clock, or a rehearsal's time.

``--now`` on the CLI or ``AUDITROUND_NOW`` fixes it for rehearsals and
simulations (an ISO date or datetime; a date means 09:00 London time).
"""

from __future__ import annotations

import datetime as dt

from audit_core.domain.errors import AuditRoundError


def parse_now(text: str) -> dt.datetime:
    """Parse an ISO date or datetime; naive values are London time."""
    from audit_core.domain.workdays import LONDON  # the calendar's zone (imported when needed)

    text = text.strip()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return dt.datetime.combine(day, dt.time(9, 0), tzinfo=LONDON)
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise AuditRoundError(
            f"'{text}' is not a date or time: use the form 2026-03-02 or 2026-03-02T09:30."
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=LONDON)
    return value


def current_time(override: str = "") -> dt.datetime:
    """The rehearsal's time if one is given, else the wall clock (UTC)."""
    if override:
        return parse_now(override)
    return dt.datetime.now(dt.UTC)
