"""The clock is a parameter: every rule takes ``now``; only entry points read it.

``--now`` on the CLI or ``AUDITROUND_NOW`` sets it for rehearsals and
simulations (an ISO date or datetime; a date means 09:00 London time).
"""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

from audit_core.errors import AuditRoundError

LONDON = ZoneInfo("Europe/London")


def parse_now(text: str) -> dt.datetime:
    """Parse an ISO date or datetime; naive values are London time."""
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


def current_time(override: str | None = None) -> dt.datetime:
    """The time the entry point should pass on: the override, AUDITROUND_NOW, or the wall clock."""
    text = override or os.environ.get("AUDITROUND_NOW")
    if text:
        return parse_now(text)
    return dt.datetime.now(dt.UTC)


def london_date(now: dt.datetime) -> dt.date:
    return now.astimezone(LONDON).date()
