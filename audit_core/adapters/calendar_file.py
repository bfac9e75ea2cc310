"""Calendar attachments (iCalendar, RFC 5545), built with the ``icalendar`` library.

A task email carries one calendar with two all-day events: the day the
return is due and the audit day. The UIDs are derived from the message's
dedupe key, so a calendar that is sent again updates the same entries
instead of adding new ones.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

from icalendar import Calendar, Event

from audit_core.services.ports import CalendarEntry

PRODUCT_ID = "-//auditround//Case file audit rounds//EN"


def event_uid(dedupe_key: str, event_key: str, domain: str) -> str:
    digest = hashlib.sha256(f"{dedupe_key}#{event_key}".encode()).hexdigest()[:32]
    return f"{digest}@{domain}"


def calendar(
    events: Sequence[CalendarEntry], *, dedupe_key: str, domain: str, stamp: dt.datetime
) -> bytes:
    """A VCALENDAR (METHOD:PUBLISH) holding the given all-day events."""
    cal = Calendar()
    cal.add("prodid", PRODUCT_ID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    for item in events:
        event = Event()
        event.add("uid", event_uid(dedupe_key, item.key, domain))
        event.add("dtstamp", stamp.astimezone(dt.UTC))
        event.add("dtstart", item.day)
        event.add("dtend", item.day + dt.timedelta(days=1))
        event.add("summary", item.summary)
        if item.description:
            event.add("description", item.description)
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return bytes(cal.to_ical())
