"""How the installation is doing, in one place, for a person or a monitor: ``auditround status``.

:func:`check` gathers, in one read-only transaction:

1. the outbox (from :func:`.outbox.status`): messages waiting to be sent (queued or being
   sent) and when the oldest of them was queued, what is due now, the next retry, and
   each message not delivered, with when it failed (its ``failed`` audit event);
2. when the last message was sent;
3. when the chase of returns, and the follow-up of actions, last did something: the last
   step taken (``chase_step``; the ``action_chased`` events) or digest queued. A run that
   found nothing due leaves no trace, so a quiet day shows the day before;
4. the embedded scheduler's jobs and their next run times (its job table): a next run
   time long gone means no scheduler is running them. The table is empty when the jobs
   run as Prefect deployments, which Prefect itself watches;
5. every round with its status and progress (from :func:`.round_list.list_rounds`).

:func:`problems` then turns it into the sentences a monitor acts on: a message not
delivered recently, a waiting message older than the limit, a scheduler job overdue.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit_core.domain.models import (
    AuditEvent,
    ChaseRecord,
    OutboxMessage,
    OutboxStatus,
    ScheduledJob,
)
from audit_core.services import action_digest, chase_digest, outbox
from audit_core.services.round_list import RoundLine, list_rounds
from audit_core.services.unit_of_work import UnitOfWork

WAITING = (OutboxStatus.QUEUED, OutboxStatus.SENDING)


@dataclass(frozen=True)
class Limits:
    """When a figure needs attention."""

    max_pending_age: dt.timedelta = dt.timedelta(minutes=60)  # the oldest waiting message
    failed_within: dt.timedelta = dt.timedelta(hours=24)  # a failure this recent
    scheduler_lag: dt.timedelta = dt.timedelta(minutes=15)  # a job's run this overdue


@dataclass(frozen=True)
class Failure:
    """A message not delivered: to whom, why, and when it was given up on."""

    id: int
    kind: str
    recipients: list[str]
    last_error: str | None
    failed_at: dt.datetime | None
    round_id: str | None


@dataclass(frozen=True)
class Job:
    """One job of the embedded scheduler and when it runs next (None: paused)."""

    id: str
    next_run_at: dt.datetime | None


@dataclass
class Status:
    checked_at: dt.datetime
    pending: int = 0  # queued or being sent
    due_now: int = 0
    oldest_pending_at: dt.datetime | None = None
    next_retry_at: dt.datetime | None = None
    failures: list[Failure] = field(default_factory=list)
    last_sent_at: dt.datetime | None = None
    last_chase_at: dt.datetime | None = None
    last_follow_up_at: dt.datetime | None = None
    jobs: list[Job] = field(default_factory=list)
    rounds: list[RoundLine] = field(default_factory=list)

    @property
    def oldest_pending_age(self) -> dt.timedelta | None:
        if self.oldest_pending_at is None:
            return None
        return max(self.checked_at - self.oldest_pending_at, dt.timedelta(0))

    def recent_failures(self, within: dt.timedelta) -> list[Failure]:
        """The failures given up on within ``within`` of the check (or at an unknown time)."""
        since = self.checked_at - within
        return [f for f in self.failures if f.failed_at is None or f.failed_at >= since]

    def job_lag(self, job: Job) -> dt.timedelta:
        """How long the job's run is overdue (zero when it is still to come, or paused)."""
        if job.next_run_at is None:
            return dt.timedelta(0)
        return max(self.checked_at - job.next_run_at, dt.timedelta(0))


def check(uow: UnitOfWork) -> Status:
    """Gather the figures (see the module's numbered steps); nothing is changed."""
    session, now = uow.session, uow.now
    report = outbox.status(session, now=now)
    found = Status(checked_at=now)
    found.pending = sum(report.by_status.get(s, 0) for s in WAITING)
    found.due_now, found.next_retry_at = report.due_now, report.next_retry_at
    found.oldest_pending_at = session.scalar(
        select(func.min(OutboxMessage.queued_at)).where(OutboxMessage.status.in_(WAITING))
    )
    found.failures = _failures(session, report.failures)
    found.last_sent_at = session.scalar(select(func.max(OutboxMessage.sent_at)))
    found.last_chase_at = _latest(
        session.scalar(select(func.max(ChaseRecord.taken_at))),
        _last_queued(session, chase_digest.DIGEST_KIND),
    )
    found.last_follow_up_at = _latest(
        session.scalar(select(func.max(AuditEvent.at)).where(AuditEvent.action == "action_chased")),
        _last_queued(session, action_digest.DIGEST_KIND),
    )
    found.jobs = _jobs(session)
    found.rounds = list_rounds(uow)
    return found


def problems(found: Status, limits: Limits) -> list[str]:
    """What needs attention, one sentence each; none when all is well."""
    said = []
    recent = found.recent_failures(limits.failed_within)
    if recent:
        hours = _hours(limits.failed_within)
        said.append(
            f"{_count(len(recent), 'message')} could not be delivered in the last {hours}: "
            "see 'auditround outbox list --status failed'."
        )
    age = found.oldest_pending_age
    if age is not None and age > limits.max_pending_age:
        said.append(
            f"The oldest message waiting in the outbox was queued {_minutes(age)} ago "
            f"(the limit is {_minutes(limits.max_pending_age)}): is the dispatcher running, "
            "and can it reach the mail server? See 'auditround outbox status'."
        )
    late = [job for job in found.jobs if found.job_lag(job) > limits.scheduler_lag]
    if late:
        names = ", ".join(f"{job.id} ({_minutes(found.job_lag(job))} late)" for job in late)
        said.append(f"The scheduler has not run {names}: is 'auditround scheduler' running?")
    return said


def _failures(session: Session, failed: list[outbox.MessageSummary]) -> list[Failure]:
    """Each failed message, with the time of its last ``failed`` event."""
    ids = [str(message.id) for message in failed]
    when: dict[str, dt.datetime] = {}
    if ids:
        rows = session.execute(
            select(AuditEvent.object_id, func.max(AuditEvent.at))
            .where(
                AuditEvent.action == "failed",
                AuditEvent.object_type == "outbox_message",
                AuditEvent.object_id.in_(ids),
            )
            .group_by(AuditEvent.object_id)
        )
        when = {object_id: at for object_id, at in rows}
    return [
        Failure(m.id, m.kind, m.recipients, m.last_error, when.get(str(m.id)), m.round_id)
        for m in failed
    ]


def _last_queued(session: Session, kind: str) -> dt.datetime | None:
    return session.scalar(
        select(func.max(OutboxMessage.queued_at)).where(OutboxMessage.kind == kind)
    )


def _latest(*moments: dt.datetime | None) -> dt.datetime | None:
    known = [moment for moment in moments if moment is not None]
    return max(known) if known else None


def _jobs(session: Session) -> list[Job]:
    rows = session.execute(
        select(ScheduledJob.id, ScheduledJob.next_run_time).order_by(ScheduledJob.id)
    )
    return [
        Job(job_id, dt.datetime.fromtimestamp(stamp, dt.UTC) if stamp is not None else None)
        for job_id, stamp in rows
    ]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _minutes(span: dt.timedelta) -> str:
    return _count(int(span.total_seconds() // 60), "minute")


def _hours(span: dt.timedelta) -> str:
    hours = span.total_seconds() / 3600
    return _count(int(hours), "hour") if hours == int(hours) else f"{hours:g} hours"


def to_json(found: Status, limits: Limits) -> dict[str, Any]:
    """The figures as plain JSON values (times in ISO 8601, ages in minutes)."""
    age, said = found.oldest_pending_age, problems(found, limits)
    return {
        "checked_at": found.checked_at.isoformat(),
        "healthy": not said,
        "problems": said,
        "outbox": {
            "pending": found.pending,
            "due_now": found.due_now,
            "oldest_pending_at": _iso(found.oldest_pending_at),
            "oldest_pending_minutes": round(age.total_seconds() / 60, 1) if age else None,
            "next_retry_at": _iso(found.next_retry_at),
            "failed": len(found.failures),
            "failed_recently": len(found.recent_failures(limits.failed_within)),
            "failures": [
                {
                    "id": f.id,
                    "kind": f.kind,
                    "to": f.recipients,
                    "round": f.round_id,
                    "failed_at": _iso(f.failed_at),
                    "last_error": f.last_error,
                }
                for f in found.failures
            ],
            "last_sent_at": _iso(found.last_sent_at),
        },
        "chase": {"last_at": _iso(found.last_chase_at)},
        "follow_up": {"last_at": _iso(found.last_follow_up_at)},
        "scheduler": [
            {
                "job": job.id,
                "next_run_at": _iso(job.next_run_at),
                "late_minutes": int(found.job_lag(job).total_seconds() // 60),
            }
            for job in found.jobs
        ],
        "rounds": [line.to_json() for line in found.rounds],
    }


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
