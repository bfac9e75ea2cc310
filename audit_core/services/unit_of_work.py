"""The unit of work a use case runs in: one transaction, the time, who acts, the policy.

Every use case takes a :class:`UnitOfWork` and plain values. The caller (a CLI
command, a flow, a web request, a test) owns the transaction: it commits or
rolls back the ``session`` when the use case returns. :meth:`UnitOfWork.record`
adds the audit event of a change to that same transaction, so a change and its
event are kept or lost together; the events are chained into the trail as the
transaction commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from audit_core.domain.errors import ConcurrentChange, MailError
from audit_core.domain.models import AuditRound
from audit_core.domain.policy import BoardConfig
from audit_core.domain.trail_append import defer_in_session
from audit_core.domain.workdays import local_date
from audit_core.services.ports import Mail


@dataclass
class UnitOfWork:
    session: Session
    config: BoardConfig
    now: dt.datetime
    actor: str
    mail: Mail | None = None  # only the use cases that queue email need it

    @property
    def timezone(self) -> str:
        """The board's time zone (``board.timezone``): its calendar dates are dates there."""
        return self.config.board.timezone

    @property
    def today(self) -> dt.date:
        """The date now in the board's zone."""
        return local_date(self.now, self.timezone)

    def mailer(self) -> Mail:
        if self.mail is None:
            raise MailError("Email cannot be written: the sender and public address are not set.")
        return self.mail

    def flush_round(self, audit_round: AuditRound, was: str) -> None:
        """Write a change of the round's status now; if another command moved the round
        first (its status is no longer ``was``), say so: nothing of this one is kept."""
        round_id = audit_round.id  # read before the failed flush expires it
        try:
            self.session.flush()
        except StaleDataError:
            raise ConcurrentChange(
                f"Round {round_id} was changed by another command at the same moment "
                f"(it is no longer {was}); nothing was changed by this one."
            ) from None

    def record(
        self,
        action: str,
        object_type: str,
        object_id: str | int,
        *,
        round_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Add the audit event of a change; it commits (or not) with the change."""
        self.record_many(action, object_type, [(object_id, details or {})], round_id=round_id)

    def record_many(
        self,
        action: str,
        object_type: str,
        events: Sequence[tuple[str | int, dict[str, Any]]],
        *,
        round_id: str | None = None,
    ) -> int:
        """Add many events of one kind, as (object id, details).

        They join the audit trail's chain when the transaction commits, after every other
        change, in one bulk insert (``domain.trail_append``).
        """
        if events:
            defer_in_session(
                self.session,
                [
                    {
                        "at": self.now,
                        "actor": self.actor,
                        "action": action,
                        "object_type": object_type,
                        "object_id": str(object_id),
                        "round_id": round_id,
                        "details": details,
                    }
                    for object_id, details in events
                ],
            )
        return len(events)
