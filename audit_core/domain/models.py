"""The data model (SQLAlchemy 2, typed ORM).

Reference data (areas, agencies, people) is mirrored from the configuration
by :func:`audit_core.services.reference.sync_reference_data`; the register (cases and
their agency involvement) comes from imports; everything else is made by the
round's use cases. No table holds a child's name, birth date, NHS number or
address: a case is known by its pseudonymous reference within its area.

Datetimes are stored as naive UTC and returned timezone-aware (UTC).

A round's and an assignment's status change only through their methods
(:meth:`AuditRound.open`, :meth:`AuditRound.cancel`, :meth:`Assignment.give_to`,
:meth:`Assignment.task_issued`, :meth:`Assignment.decline`),
which refuse a step the life cycle does not allow with a business error.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from audit_core.domain.errors import InvalidState

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out; naive UTC in the database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; pass an aware datetime")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class RoundStatus(enum.StrEnum):
    PLANNED = "planned"
    OPEN = "open"
    MODERATION = "moderation"
    BRIEFING = "briefing"
    CLOSED = "closed"
    CANCELLED = "cancelled"  # stopped before its end; its period can be planned again


class AssignmentStatus(enum.StrEnum):
    UNFILLED = "unfilled"  # no eligible auditor: the agency lead is asked to nominate
    ASSIGNED = "assigned"  # an auditor is chosen; no task issued yet
    ISSUED = "issued"  # the task email is in the outbox (whether it was delivered: its message)
    DECLINED = "declined"  # the auditor declined; the business unit reassigns
    SUBMITTED = "submitted"  # the return is in


# The steps each life cycle allows: status -> the statuses it may move to.
ROUND_STEPS: dict[str, frozenset[str]] = {
    RoundStatus.PLANNED: frozenset({RoundStatus.OPEN, RoundStatus.CANCELLED}),
    RoundStatus.OPEN: frozenset({RoundStatus.MODERATION, RoundStatus.CANCELLED}),
    RoundStatus.MODERATION: frozenset({RoundStatus.BRIEFING}),
    RoundStatus.BRIEFING: frozenset({RoundStatus.CLOSED}),
    RoundStatus.CLOSED: frozenset(),
    RoundStatus.CANCELLED: frozenset(),
}
_A = AssignmentStatus
ASSIGNMENT_STEPS: dict[str, frozenset[str]] = {
    _A.UNFILLED: frozenset({_A.ASSIGNED}),
    _A.ASSIGNED: frozenset({_A.ASSIGNED, _A.UNFILLED, _A.ISSUED}),
    # after launch an issued task may pass to another auditor (reassigned, or left unfilled)
    # an issued task may also be issued again: a fresh link sent (the old one retired)
    _A.ISSUED: frozenset({_A.ASSIGNED, _A.UNFILLED, _A.DECLINED, _A.SUBMITTED, _A.ISSUED}),
    _A.DECLINED: frozenset({_A.ASSIGNED, _A.UNFILLED}),
    # a submitted return reopened by the business unit during moderation: issued again,
    # with a fresh link, so that its auditor can change it and submit it once more
    _A.SUBMITTED: frozenset({_A.ISSUED}),
}


# What an issued task really is, from its email's outbox status: an assignment reads
# ``queued`` until the mail server has accepted its task, then ``sent``, or ``failed``.
_DELIVERY = {
    "queued": "queued",
    "sending": "queued",
    "sent": "sent",
    "failed": "failed",
    "withdrawn": "withdrawn",
}


def delivery_state(status: str, message_status: str | None) -> str:
    """The state an assignment shows: its own status, or for an issued task its email's fate."""
    if status != AssignmentStatus.ISSUED:
        return status
    return _DELIVERY.get(message_status or "", "queued")


class ReturnStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class BriefingStatus(enum.StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    ISSUED = "issued"


class ActionStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DROPPED = "dropped"  # with a reason: no longer to be done


_S = ActionStatus
# An update may keep the status (a progress note); a done action may be reopened.
ACTION_STEPS: dict[str, frozenset[str]] = {
    _S.OPEN: frozenset({_S.OPEN, _S.IN_PROGRESS, _S.DONE, _S.DROPPED}),
    _S.IN_PROGRESS: frozenset({_S.IN_PROGRESS, _S.DONE, _S.DROPPED}),
    _S.DONE: frozenset({_S.IN_PROGRESS}),
    _S.DROPPED: frozenset(),
}


class OutboxStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for its (next) attempt
    SENDING = "sending"  # claimed by a dispatcher
    SENT = "sent"
    FAILED = "failed"  # permanently refused, or out of attempts
    WITHDRAWN = "withdrawn"  # not to be sent after all: its link was retired before it went


def _enum(cls: type[enum.StrEnum]) -> String:
    return String(max(len(m.value) for m in cls))


# --- reference data ------------------------------------------------------------


class Area(Base):
    __tablename__ = "area"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Agency(Base):
    __tablename__ = "agency"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    sector: Mapped[str] = mapped_column(String(32))
    areas: Mapped[list[Any]] = mapped_column(default=list)
    lead_name: Mapped[str] = mapped_column(String(200))
    lead_email: Mapped[str] = mapped_column(String(254))


class Person(Base):
    """An auditor (the business unit's contacts and agency leads live on Board/Agency)."""

    __tablename__ = "person"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    agency_id: Mapped[str] = mapped_column(ForeignKey("agency.id"))
    areas: Mapped[list[Any]] = mapped_column(default=list)
    capacity: Mapped[int] = mapped_column(Integer, default=0)
    practitioner_ids: Mapped[list[Any]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    agency: Mapped[Agency] = relationship()


# --- the register ------------------------------------------------------------------


class CaseFile(Base):
    """A case known to the partnership, by pseudonymous reference only."""

    __tablename__ = "case_file"
    __table_args__ = (UniqueConstraint("area_id", "reference", name="uq_case_file_area_reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[str] = mapped_column(ForeignKey("area.id"), index=True)
    reference: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(64), index=True)
    age_band: Mapped[str] = mapped_column(String(32))
    flags: Mapped[list[Any]] = mapped_column(default=list)
    opened_on: Mapped[dt.date | None] = mapped_column(Date)
    last_activity_on: Mapped[dt.date] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    last_audited_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]

    involvements: Mapped[list[CaseInvolvement]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseInvolvement.agency_id"
    )


class CaseInvolvement(Base):
    """One agency's involvement in a case, with the practitioners who worked on it."""

    __tablename__ = "case_involvement"
    __table_args__ = (
        UniqueConstraint("case_id", "agency_id", name="uq_case_involvement_case_agency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agency.id"), index=True)
    practitioner_ids: Mapped[list[Any]] = mapped_column(default=list)

    case: Mapped[CaseFile] = relationship(back_populates="involvements")


# --- a round ---------------------------------------------------------------------------


class AuditRound(Base):
    __tablename__ = "audit_round"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # the period, e.g. 2026-H1
    focus_id: Mapped[str] = mapped_column(String(64))
    areas: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(_enum(RoundStatus), default=RoundStatus.PLANNED)
    seed: Mapped[int] = mapped_column(Integer)
    cases_requested: Mapped[dict[str, Any]] = mapped_column(default=dict)  # area id -> cases
    audit_tool_id: Mapped[str] = mapped_column(String(64))
    audit_tool_version: Mapped[int] = mapped_column(Integer)
    launch_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)
    audit_day_on: Mapped[dt.date] = mapped_column(Date)
    briefing_due_on: Mapped[dt.date] = mapped_column(Date)
    planned_at: Mapped[dt.datetime]
    planned_by: Mapped[str] = mapped_column(String(200))
    launched_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    cancelled_at: Mapped[dt.datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    purged_at: Mapped[dt.datetime | None]  # its returns' free text purged (retention)

    cases: Mapped[list[RoundCase]] = relationship(
        back_populates="round", cascade="all, delete-orphan", order_by="RoundCase.id"
    )

    # The status is the round's version: every UPDATE of a round is made only WHERE its
    # status is still the one this session read, so of two commands that move a round at
    # once (two launches, a launch and a cancel) only the first does; the second's flush
    # raises StaleDataError (see UnitOfWork.flush_round).
    __mapper_args__ = {  # noqa: RUF012 - SQLAlchemy's own attribute
        "version_id_col": status,
        "version_id_generator": False,
    }

    def _move_to(self, status: RoundStatus) -> None:
        if status not in ROUND_STEPS[self.status]:
            raise InvalidState(f"Round {self.id} is {self.status}: it cannot become {status}.")
        self.status = status

    def require_planned(self) -> None:
        """Cases and auditors may be changed only while the round is in planning."""
        if self.status != RoundStatus.PLANNED:
            raise InvalidState(
                f"Round {self.id} is {self.status}, no longer in planning: its cases and "
                "auditors can only be changed before it is launched."
            )

    def open(self, now: dt.datetime) -> None:
        """Launch: the round moves from planned to open."""
        if self.status not in (RoundStatus.PLANNED, RoundStatus.OPEN):
            raise InvalidState(
                f"Round {self.id} is {self.status}: only a planned round can be launched."
            )
        self._move_to(RoundStatus.OPEN)
        self.launched_at = now

    def start_moderation(self) -> None:
        """The returns are closed: the round moves from open to moderation (the deadline
        lock), and its audit day can be prepared from what came in."""
        if self.status != RoundStatus.OPEN:
            raise InvalidState(
                f"Round {self.id} is {self.status}: only an open round can move to moderation."
            )
        self._move_to(RoundStatus.MODERATION)

    def finish_moderation(self) -> None:
        """The audit day's record is complete: the round moves from moderation to briefing."""
        if self.status != RoundStatus.MODERATION:
            raise InvalidState(
                f"Round {self.id} is {self.status}: only a round in moderation can move to "
                "briefing."
            )
        self._move_to(RoundStatus.BRIEFING)

    def require_moderating(self) -> None:
        """The audit day's record may change in moderation, and in briefing until a
        briefing covering the round is issued (the caller checks that)."""
        if self.status not in (RoundStatus.MODERATION, RoundStatus.BRIEFING):
            raise InvalidState(
                f"Round {self.id} is {self.status}: its audit day can be recorded only once "
                "its returns are closed (auditround round lock) and before it is closed."
            )

    def close(self, now: dt.datetime) -> None:
        """Every area's briefing covering the round is issued: the round is closed (its
        links expire, and its retention period starts)."""
        if self.status != RoundStatus.BRIEFING:
            raise InvalidState(
                f"Round {self.id} is {self.status}: only a round at its briefing can be closed."
            )
        self._move_to(RoundStatus.CLOSED)
        self.closed_at = now

    def cancel(self, reason: str, now: dt.datetime) -> None:
        """Stop a planned or open round, for a reason the audit trail keeps."""
        if self.status not in (RoundStatus.PLANNED, RoundStatus.OPEN):
            raise InvalidState(
                f"Round {self.id} is {self.status}: only a planned or open round can be cancelled."
            )
        self._move_to(RoundStatus.CANCELLED)
        self.cancelled_at = now
        self.cancel_reason = reason

    def require_open(self) -> None:
        """Fieldwork changes (reassign, decline, fill, extend) need an open round."""
        if self.status != RoundStatus.OPEN:
            raise InvalidState(
                f"Round {self.id} is {self.status}: its audits can be changed only while it "
                "is open."
            )


class RoundCase(Base):
    """A case selected for a round, with why it was eligible and its stratum."""

    __tablename__ = "round_case"
    __table_args__ = (UniqueConstraint("round_id", "case_id", name="uq_round_case_round_case"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("audit_round.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"))
    area_id: Mapped[str] = mapped_column(ForeignKey("area.id"))
    stratum: Mapped[str] = mapped_column(String(128))
    rationale: Mapped[str] = mapped_column(Text)
    selected_at: Mapped[dt.datetime]

    round: Mapped[AuditRound] = relationship(back_populates="cases")
    case: Mapped[CaseFile] = relationship()
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="round_case", cascade="all, delete-orphan", order_by="Assignment.agency_id"
    )


class Assignment(Base):
    """One agency's audit of one selected case, by one auditor."""

    __tablename__ = "assignment"
    __table_args__ = (
        UniqueConstraint("round_case_id", "agency_id", name="uq_assignment_round_case_agency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_case_id: Mapped[int] = mapped_column(ForeignKey("round_case.id"), index=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agency.id"))
    auditor_id: Mapped[str | None] = mapped_column(ForeignKey("person.id"), index=True)
    status: Mapped[str] = mapped_column(_enum(AssignmentStatus), default=AssignmentStatus.ASSIGNED)
    due_on: Mapped[dt.date] = mapped_column(Date)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    issued_at: Mapped[dt.datetime | None]  # when the (latest) task email was queued
    task_number: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    declined_at: Mapped[dt.datetime | None]
    declined_reason: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[dt.datetime | None]
    updated_at: Mapped[dt.datetime]
    # The next working day a step of its chase may be due; None once nothing is left to
    # chase. The daily sweep looks only at assignments with this date on or before today.
    chase_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    opened_at: Mapped[dt.datetime | None]  # when its auditor first opened the current link

    round_case: Mapped[RoundCase] = relationship(back_populates="assignments")
    auditor: Mapped[Person | None] = relationship()
    agency: Mapped[Agency] = relationship()

    def _move_to(self, status: AssignmentStatus, now: dt.datetime) -> None:
        if status not in ASSIGNMENT_STEPS[self.status]:
            raise InvalidState(
                f"The {self.agency_id} audit is {self.status}: it cannot become {status}."
            )
        self.status = status
        self.updated_at = now

    def give_to(self, auditor_id: str | None, now: dt.datetime) -> None:
        """Give the audit to an auditor, or leave it unfilled (``None``)."""
        self._move_to(AssignmentStatus.ASSIGNED if auditor_id else AssignmentStatus.UNFILLED, now)
        self.auditor_id = auditor_id

    @property
    def task_key(self) -> str:
        """The dedupe key of the current task email: each auditor given it gets their own."""
        return f"task:{self.id}" if not self.task_number else f"task:{self.id}:{self.task_number}"

    def task_issued(self, token_hash: str, now: dt.datetime) -> None:
        """The task email is queued, carrying the link whose token hashes to ``token_hash``."""
        self._move_to(AssignmentStatus.ISSUED, now)
        self.token_hash = token_hash
        self.issued_at = now

    def retire_link(self, now: dt.datetime) -> None:
        """The secure link stops working at once; the next task issued gets a key of its own."""
        self.token_hash = None
        self.opened_at = None  # the next link is opened afresh
        if self.issued_at is not None:
            self.task_number = (self.task_number or 0) + 1
        self.updated_at = now

    def submit(self, now: dt.datetime) -> None:
        """The return is in: nothing more to chase."""
        self._move_to(AssignmentStatus.SUBMITTED, now)
        self.submitted_at = now
        self.chase_on = None

    def decline(self, reason: str, now: dt.datetime) -> None:
        """The auditor declined (not their agency's case, a conflict of interest)."""
        self._move_to(AssignmentStatus.DECLINED, now)
        self.declined_at = now
        self.declined_reason = reason
        self.retire_link(now)
        self.chase_on = None  # nothing to chase until it is given to someone else


class ChaseRecord(Base):
    """A step of a return's chase, taken: at most one of each per task and deadline.

    A new auditor (a new task number) or a new deadline starts the steps again.
    """

    __tablename__ = "chase_step"
    __table_args__ = (
        UniqueConstraint(
            "assignment_id", "task_number", "due_on", "step", name="uq_chase_step_once"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"))
    task_number: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[dt.date] = mapped_column(Date)
    step: Mapped[str] = mapped_column(String(32))  # reminder-5, overdue, escalation-1, ...
    recipient: Mapped[str] = mapped_column(String(254))  # the address it was sent to
    taken_on: Mapped[dt.date] = mapped_column(Date)
    taken_at: Mapped[dt.datetime]
    outbox_message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_message.id"))


class ScheduledJob(Base):
    """The embedded scheduler's job store (APScheduler's ``SQLAlchemyJobStore`` reads and
    writes it; its layout is APScheduler's). Made by the migrations, like every table, so
    that the application's database role needs no right to create tables."""

    __tablename__ = "apscheduler_jobs"

    id: Mapped[str] = mapped_column(String(191), primary_key=True)
    next_run_time: Mapped[float | None] = mapped_column(Float(25), index=True)
    job_state: Mapped[bytes] = mapped_column(LargeBinary)


class AuditReturn(Base):
    """An auditor's answers, validated against the audit tool version of the round."""

    __tablename__ = "audit_return"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"), unique=True)
    audit_tool_id: Mapped[str] = mapped_column(String(64))
    audit_tool_version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(_enum(ReturnStatus), default=ReturnStatus.DRAFT)
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)  # section id -> grade, notes
    overall_grade: Mapped[str | None] = mapped_column(String(64))
    strengths: Mapped[list[Any]] = mapped_column(default=list)  # [{theme, text}]
    lessons: Mapped[list[Any]] = mapped_column(default=list)  # [{theme, text}]
    immediate_concern: Mapped[bool] = mapped_column(Boolean, default=False)
    concern_text: Mapped[str | None] = mapped_column(Text)  # what the concern is
    submitted_at: Mapped[dt.datetime | None]
    reopened_at: Mapped[dt.datetime | None]  # the business unit let it be changed again
    reopened_by: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime]

    assignment: Mapped[Assignment] = relationship()


class CaseModeration(Base):
    """What the audit day agreed about one case of a round: the grade, the key findings,
    and the brief summary the briefing prints (written so that no child can be known)."""

    __tablename__ = "case_moderation"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_case_id: Mapped[int] = mapped_column(ForeignKey("round_case.id"), unique=True)
    agreed_grade: Mapped[str | None] = mapped_column(String(64))  # a grade id of the scale
    key_findings: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    moderated_at: Mapped[dt.datetime]
    moderated_by: Mapped[str] = mapped_column(String(200))

    round_case: Mapped[RoundCase] = relationship()


class FindingKind(enum.StrEnum):
    STRENGTH = "strength"
    LESSON = "lesson"


class Finding(Base):
    """A strength or a lesson of a round as the audit day moderated it, tagged with a theme.

    ``forward`` is the audit day's decision: True, it goes forward to the briefing (in the
    wording here); False, it stays in the round's record only; None, not decided yet.
    ``case_refs`` are ``{"area": .., "ref": ..}`` pairs, so a briefing of one area takes
    the findings that came from its cases.
    """

    __tablename__ = "finding"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("audit_round.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # strength | lesson
    theme_id: Mapped[str] = mapped_column(String(64))
    key_phrase: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text)
    case_refs: Mapped[list[Any]] = mapped_column(default=list)
    agencies: Mapped[list[Any]] = mapped_column(default=list)  # agency ids it came from
    forward: Mapped[bool | None] = mapped_column(Boolean)
    position: Mapped[int] = mapped_column(Integer, default=0)  # its order within the round
    recurring: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime | None]


class Briefing(Base):
    """One version of a learning briefing: one area, over one or more rounds.

    ``scope`` names the rounds it covers: a round (``2026-H1``), rounds joined by ``+``
    (``2026-H1+2026-H2``) or a board year (``2026-27``); ``round_ids`` lists them.
    Every version is kept; an issued version is frozen (its HTML and the PDF's SHA-256
    are kept), and a correction is a new version.
    """

    __tablename__ = "briefing"
    __table_args__ = (
        UniqueConstraint("area_id", "scope", "version", name="uq_briefing_area_scope_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[str] = mapped_column(ForeignKey("area.id"), index=True)
    scope: Mapped[str] = mapped_column(String(64))
    round_ids: Mapped[list[Any]] = mapped_column(default=list)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(_enum(BriefingStatus), default=BriefingStatus.DRAFT)
    content: Mapped[dict[str, Any]] = mapped_column(default=dict)
    note: Mapped[str] = mapped_column(Text, default="")  # what this version changed
    html: Mapped[str | None] = mapped_column(Text)  # as issued
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))  # as issued
    created_at: Mapped[dt.datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    approved_at: Mapped[dt.datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(200))
    issued_at: Mapped[dt.datetime | None]
    issued_by: Mapped[str | None] = mapped_column(String(200))


class Action(Base):
    """A SMART action arising from a lesson, owned by a person in an agency.

    It stays with the board across rounds and years until it is done or dropped. Its
    owner records progress through a secure link (``token_hash``, as a return's: only
    the hash is kept; ``link_number`` counts the links sent, so each has its own email).
    ``chase_on`` is the next working day a follow-up step may be due (None: nothing to
    chase), as an assignment's is. Status changes go through :meth:`record`.
    """

    __tablename__ = "action"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("audit_round.id"), index=True)
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("finding.id"))
    theme_id: Mapped[str] = mapped_column(String(64), default="")
    area_id: Mapped[str | None] = mapped_column(ForeignKey("area.id"))
    text: Mapped[str] = mapped_column(Text)
    measure: Mapped[str] = mapped_column(Text, default="")  # how success will be measured
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("person.id"))
    owner_name: Mapped[str] = mapped_column(String(200))
    owner_email: Mapped[str] = mapped_column(String(254))
    agency_id: Mapped[str | None] = mapped_column(ForeignKey("agency.id"))
    due_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(_enum(ActionStatus), default=ActionStatus.OPEN)
    status_reason: Mapped[str] = mapped_column(Text, default="")  # why it was dropped
    rag: Mapped[str] = mapped_column(String(8), default="green")
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    link_number: Mapped[int] = mapped_column(Integer, default=0)
    link_sent_at: Mapped[dt.datetime | None]
    chase_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    created_at: Mapped[dt.datetime]
    created_by: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]  # done or dropped

    updates: Mapped[list[ActionUpdate]] = relationship(
        back_populates="action", cascade="all, delete-orphan", order_by="ActionUpdate.id"
    )

    @property
    def closed(self) -> bool:
        return self.status in (ActionStatus.DONE, ActionStatus.DROPPED)

    def record(
        self,
        *,
        status: str,
        note: str,
        by: str,
        now: dt.datetime,
        rag: str,
        evidence: str = "",
        reason: str = "",
    ) -> ActionUpdate:
        """An update of the action (its owner's or the business unit's): kept in order,
        with the status it moved to. A dropped action needs its reason; a closed one
        leaves nothing to chase."""
        if status not in ACTION_STEPS[self.status]:
            raise InvalidState(
                f"Action {self.id} is {self.status.replace('_', ' ')}: it cannot become "
                f"{status.replace('_', ' ')}."
            )
        if status == ActionStatus.DROPPED and not reason.strip():
            raise InvalidState(f"Action {self.id} can be dropped only with a reason.")
        self.status, self.rag, self.updated_at = status, rag, now
        if status == ActionStatus.DROPPED:
            self.status_reason = reason.strip()
        if self.closed:
            self.closed_at, self.chase_on = now, None
        else:
            self.closed_at = None
        update = ActionUpdate(at=now, by=by, note=note, status=status, rag=rag, evidence=evidence)
        self.updates.append(update)
        return update


class ActionUpdate(Base):
    """One update of an action, in order: the note, the status and RAG it left, evidence
    (a link or a short text; never an upload of case material)."""

    __tablename__ = "action_update"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("action.id"), index=True)
    at: Mapped[dt.datetime]
    by: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(_enum(ActionStatus))
    rag: Mapped[str] = mapped_column(String(8))
    evidence: Mapped[str] = mapped_column(Text, default="")

    action: Mapped[Action] = relationship(back_populates="updates")


class ActionChaseStep(Base):
    """A follow-up step of an action, taken: at most one of each per action and due date
    (a reminder before the due date, the overdue reminder, the escalation to the owner's
    agency lead). A new due date starts the steps again."""

    __tablename__ = "action_chase_step"
    __table_args__ = (
        UniqueConstraint("action_id", "step", "due_on", name="uq_action_chase_step_once"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("action.id"), index=True)
    step: Mapped[str] = mapped_column(
        String(32)
    )  # "reminder-10", "reminder-0", "overdue", "escalation"
    due_on: Mapped[dt.date] = mapped_column(Date)  # the due date it was taken for
    taken_on: Mapped[dt.date] = mapped_column(Date)
    to: Mapped[str] = mapped_column(String(254))
    outbox_message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_message.id"))


# --- the business unit's sign-in ---------------------------------------------------------


class UserRole(enum.StrEnum):
    COORDINATOR = "coordinator"  # runs the round: reads returns, reassigns, extends, reopens
    QA = "qa"  # a QA subgroup member: reads progress, changes nothing


class PortalUser(Base):
    """Someone of the business unit or the QA subgroup who signs in to the dashboard."""

    __tablename__ = "portal_user"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the sign-in name
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(_enum(UserRole))
    password_hash: Mapped[str] = mapped_column(String(255))  # Argon2id, with its parameters
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime]
    password_changed_at: Mapped[dt.datetime]


class PortalSession(Base):
    """A signed-in session. The cookie holds a random id; only its hash is kept here."""

    __tablename__ = "portal_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("portal_user.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)

    user: Mapped[PortalUser] = relationship()


# --- mail and the audit trail ---------------------------------------------------------


class OutboxMessage(Base):
    """An email, rendered once at queue time and kept byte for byte as sent.

    The bytes live in :class:`OutboxBody`, written once: the dispatcher changes this
    row two or three times per message, and a small row is cheap to change.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # task | nomination | launch_summary | ...
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    sender: Mapped[str] = mapped_column(String(254))
    recipients: Mapped[list[Any]] = mapped_column(default=list)
    subject: Mapped[str] = mapped_column(String(300))
    round_id: Mapped[str | None] = mapped_column(ForeignKey("audit_round.id"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignment.id"))
    action_id: Mapped[int | None] = mapped_column(ForeignKey("action.id"))
    status: Mapped[str] = mapped_column(_enum(OutboxStatus), default=OutboxStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime]
    claimed_at: Mapped[dt.datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    refused_recipients: Mapped[dict[str, Any]] = mapped_column(default=dict)
    queued_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]
    # its bytes deleted (retention): the row stays as the record of what went to whom
    body_purged_at: Mapped[dt.datetime | None]
    body: Mapped[OutboxBody] = relationship()

    @property
    def raw(self) -> bytes:
        """The RFC 5322 bytes, exactly as the server receives them."""
        return self.body.raw


class OutboxBody(Base):
    """The stored bytes of one outbox message; written when it is queued, never changed,
    and deleted by the retention purge (``OutboxMessage.body_purged_at``)."""

    __tablename__ = "outbox_body"

    id: Mapped[int] = mapped_column(ForeignKey("outbox_message.id"), primary_key=True)
    raw: Mapped[bytes] = mapped_column(LargeBinary)  # RFC 5322 bytes


class Installation(Base):
    """This installation of auditround: one row, made with the database.

    Its random id goes into every Message-ID, so that two installations (or a database
    made anew) never send different emails under the same Message-ID.
    """

    __tablename__ = "installation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    installation_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]


class AuditEvent(Base):
    """Append-only and hash-chained: who did what, when, to which object.

    Triggers refuse UPDATE, DELETE and REPLACE. Events are written only by
    ``domain.trail_append``, which gives each its place in the trail (``seq``), the hash
    of the event before it and its own (``domain.trail``).
    """

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(200))
    round_id: Mapped[str | None] = mapped_column(String(32), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChain(Base):
    """The audit trail's head, one row: the last event's ``seq`` and ``hash``.

    Writers lock it to append, so events take their places one after another; a trail
    shorter than its head has lost its last events. Triggers let it only move forward.
    """

    __tablename__ = "audit_chain"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    last_seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
