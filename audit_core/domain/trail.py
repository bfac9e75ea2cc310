"""The audit trail's hash chain: what an event's hash covers, and how a trail is checked.

Each event stores its place in the trail (``seq``: 1, 2, 3, ...), the hash of the
event before it (``prev_hash``; the first event's is :data:`GENESIS`) and its own
``hash``: the SHA-256 of its canonical bytes (:func:`canonical`) and ``prev_hash``.
The chain head (one row) holds the last ``seq`` and ``hash``. So an event changed
behind the software's back no longer matches its hash; one removed or replaced
breaks the link of the event after it; the last ones removed leave the trail
shorter than its head says.

No IO here: :func:`chained` gives rows their place and hashes before they are
written (``domain.trail_append`` writes them), and :func:`check` reads a trail
as stored and names its first broken link.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

GENESIS = "0" * 64  # the prev_hash of the first event
FORMAT = "auditround-trail-1"  # first in the hashed bytes; a new format would get a new name


@functools.lru_cache(maxsize=256)  # the events of one transaction share their time
def utc_text(at: dt.datetime) -> str:
    """An aware time as the trail hashes it: UTC, ISO 8601, to the microsecond."""
    return at.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def canonical_json(value: Any) -> str:
    """``value`` as compact JSON with sorted keys, as it reads back from the database (where
    every key is a string: a value with other keys goes through JSON first)."""
    if not _string_keys(value):
        value = json.loads(json.dumps(value))
    return _encode(value)


_encode = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode  # made once: faster


def _string_keys(value: Any) -> bool:
    if isinstance(value, dict):
        return all(type(k) is str and _string_keys(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(_string_keys(v) for v in value)
    return True


def canonical(event: Mapping[str, Any]) -> bytes:
    """The bytes an event's hash covers: its place, time, actor, action, object, round and
    details (JSON with sorted keys), as one compact JSON array."""
    fields = [
        FORMAT,
        event["seq"],
        utc_text(event["at"]),
        event["actor"],
        event["action"],
        event["object_type"],
        event["object_id"],
        event["round_id"],
    ]
    return f"{_encode(fields)[:-1]},{canonical_json(event['details'])}]".encode()


def event_hash(event: Mapping[str, Any], prev_hash: str) -> str:
    """The hex SHA-256 of an event's canonical bytes followed by the hash before it."""
    digest = hashlib.sha256(canonical(event))
    digest.update(prev_hash.encode())
    return digest.hexdigest()


def chained(
    events: Sequence[Mapping[str, Any]], last_seq: int, last_hash: str
) -> list[dict[str, Any]]:
    """The events, in order, as rows to write after the event ``last_seq`` with ``last_hash``:
    each with its ``seq``, ``prev_hash`` and ``hash``."""
    rows = []
    prev = last_hash
    for seq, event in enumerate(events, start=last_seq + 1):
        row = {**event, "seq": seq, "prev_hash": prev}
        prev = row["hash"] = event_hash(row, prev)
        rows.append(row)
    return rows


# --- checking a trail -----------------------------------------------------------------


# What each kind of break means, in one sentence (``where``: "event #seq (id n)").
BREAKS = {
    "content": "audit trail broken at {where}: its content does not match its hash",
    "link": "audit trail broken at {where}: the event before it is missing or changed",
    "head": "audit trail broken at {where}: it is the last event, and its hash is not the one "
    "the chain head holds",
    "unknown": "audit trail broken at {where}: the chain head ends before it, so {events} from "
    "there on were not added by auditround",
    "missing": "audit trail broken: the last {events} are missing (the chain head says the "
    "trail ends at event #{seq})",
    "noted": "audit trail broken at {where}: its hash is not the one noted for it, so the trail "
    "was rewritten up to there",
    "noted_gone": "audit trail broken: event #{seq}, whose hash was noted, is gone",
    "no_head": "audit trail broken: its chain head is missing",
}


@dataclasses.dataclass(frozen=True)
class Break:
    """The first broken link of a trail: where, and what is wrong there."""

    why: str  # a key of BREAKS
    seq: int  # the event where the trail breaks (for ``missing``: the last one the head names)
    event_id: int | None = None
    count: int = 0  # for ``missing`` and ``unknown``: how many events

    def sentence(self) -> str:
        where = f"event #{self.seq} (id {self.event_id})"
        return BREAKS[self.why].format(where=where, seq=self.seq, events=_events(self.count))


def _events(count: int) -> str:
    return "1 event" if count == 1 else f"{count} events"


@dataclasses.dataclass(frozen=True)
class TrailCheck:
    """What checking a trail found: how many events, its last hash, its first break."""

    checked: int
    last_seq: int
    last_hash: str
    broken: Break | None = None

    @property
    def intact(self) -> bool:
        return self.broken is None

    def sentence(self) -> str:
        if self.broken is not None:
            return self.broken.sentence()
        if not self.checked:
            return "audit trail intact: 0 events (nothing recorded yet)"
        return (
            f"audit trail intact: {_events(self.checked)} checked; the last, "
            f"#{self.last_seq}, has hash {self.last_hash}"
        )


def check(
    head_seq: int,
    head_hash: str,
    events: Iterable[Mapping[str, Any]],
    noted: tuple[int, str] | None = None,
) -> TrailCheck:
    """Check stored events (in ``seq`` order, with ``id``, ``prev_hash`` and ``hash``) against
    each other and the chain head; stop at the first broken link.

    1. Each event's hash must be that of its content and its ``prev_hash``.
    2. Each event must follow the one before it: the next ``seq``, and its ``prev_hash``
       that event's hash (the first: ``seq`` 1 and :data:`GENESIS`).
    3. The trail must end where the head says, with the head's hash.
    4. If a place and hash were ``noted`` earlier (kept outside the database), the event
       there must still have that hash: a trail rewritten whole, head and all, shows here.
    """
    seq, prev, checked = 0, GENESIS, 0
    stored = iter(events)
    for event in stored:
        broken = _broken_link(event, seq, prev, head_seq, noted)
        if broken is not None:
            if broken.why == "unknown":
                broken = dataclasses.replace(broken, count=1 + sum(1 for _ in stored))
            return TrailCheck(checked, seq, prev, broken)
        seq, prev, checked = event["seq"], event["hash"], checked + 1
        if seq == head_seq and prev != head_hash:
            return TrailCheck(checked, seq, prev, Break("head", seq, event["id"]))
    if seq < head_seq:
        return TrailCheck(checked, seq, prev, Break("missing", head_seq, count=head_seq - seq))
    if noted is not None and noted[0] > seq:
        return TrailCheck(checked, seq, prev, Break("noted_gone", noted[0]))
    return TrailCheck(checked, seq, prev)


def _broken_link(
    event: Mapping[str, Any], seq: int, prev: str, head_seq: int, noted: tuple[int, str] | None
) -> Break | None:
    """What is wrong with one event, after the event ``seq`` with hash ``prev``; or nothing."""
    where = (event["seq"], event["id"])
    if event["seq"] > head_seq:
        return Break("unknown", *where)
    if event_hash(event, event["prev_hash"]) != event["hash"]:
        return Break("content", *where)
    if event["seq"] != seq + 1 or event["prev_hash"] != prev:
        return Break("link", *where)
    if noted is not None and event["seq"] == noted[0] and event["hash"] != noted[1]:
        return Break("noted", *where)
    return None
