"""A briefing's life over a real database: drafted from the audit day, edited, approved by a
second person, issued with its PDF emailed through the outbox, corrected, and refused
with a sentence when the step does not fit.

The rounds are at their briefing through the audit day's own service
(:mod:`support.briefing_rounds`); the briefing is rendered by the real renderer of the
composition root (WeasyPrint).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from support import CONFIG_DIR, LONDON
from support.briefing_rounds import (
    SECOND_CASES,
    SECOND_FINDINGS,
    SUMMARIES,
    audit_day,
    briefing_round,
    moderating_round,
)
from support.rounds import DEFAULT_CASES
from support.trail import events

from audit_core.adapters.smtp_sink import Sink
from audit_core.bootstrap import App
from audit_core.domain.briefing_scope import parse_scope
from audit_core.domain.errors import (
    AuditRoundError,
    ConcurrentChange,
    InvalidState,
    NotFound,
    ProblemsError,
)
from audit_core.domain.models import AuditRound, Briefing, OutboxMessage
from audit_core.domain.policy import BoardConfig
from audit_core.services import briefings
from audit_core.services.moderation import record_audit_day
from audit_core.services.ports import BriefingRenderer, Mail
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database
H1 = parse_scope(["2026-H1"])
MakeUow = Callable[..., UnitOfWork]


@pytest.fixture
def at_briefing(uow: UnitOfWork) -> AuditRound:
    return briefing_round(uow)


def approved(make_uow: MakeUow, area: str = "hackney") -> briefings.BriefingVersion:
    """Drafted by alice, approved by bob; committed."""
    alice, bob = make_uow("alice"), make_uow("bob")
    briefings.draft(alice, area, H1)
    done = briefings.approve(bob, area, H1)
    alice.session.commit()
    return done


def outbox(session: Session) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def parsed(message: OutboxMessage) -> EmailMessage:
    found = BytesParser(policy=policy.default).parsebytes(message.raw)
    assert isinstance(found, EmailMessage)
    return found


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return " ".join(str(body.get_content()).split())


# --- drafting ------------------------------------------------------------------------------


def test_a_draft_takes_the_areas_cases_and_the_findings_sent_forward(
    at_briefing: AuditRound, uow: UnitOfWork, session: Session
) -> None:
    made = briefings.draft(uow, "hackney", H1)

    assert (made.version, made.status, made.created_by) == (1, "draft", "alice")
    assert made.round_ids == ("2026-H1",)
    content = made.content
    assert (content.title, content.area_name, content.period) == (
        "CHSCP Case Audits",
        "Hackney",
        "January to June 2026",
    )
    [part] = content.rounds
    assert part.heading == "Think Family"
    assert [(c.label, c.summary) for c in part.cases] == [
        ("Case 1", SUMMARIES["HK-00123"]),
        ("Case 2", SUMMARIES["HK-00456"]),
    ]
    assert {g.grade_id: g.count for g in part.grades} == {
        "outstanding": 0,
        "good": 1,
        "requires-improvement": 1,
        "inadequate": 0,
    }
    assert [(g.heading, [i.key_phrase for i in g.items]) for g in part.strengths] == [
        ("Information sharing", ["a shared chronology", "same-day referral"])
    ]
    assert [lesson.heading for lesson in part.lessons] == [
        "Voice of the child",
        "Engagement with fathers and significant others",
    ]
    assert "whole-family" not in str(content) and "kept back" not in str(content)
    assert "HK-00123" not in str(content)


def test_the_draft_is_recorded_with_counts_and_none_of_its_text(
    at_briefing: AuditRound, uow: UnitOfWork, session: Session
) -> None:
    made = briefings.draft(uow, "hackney", H1)
    session.commit()

    [event] = [e for e in events(session, "briefing")]
    assert (event.action, event.actor, event.object_id, event.round_id) == (
        "briefing_drafted",
        "alice",
        str(made.id),
        "2026-H1",
    )
    assert event.details == {
        "area": "hackney",
        "scope": "2026-H1",
        "version": 1,
        "rounds": ["2026-H1"],
        "cases": 2,
        "strengths": 2,
        "lessons": 2,
    }


def test_drafting_again_from_the_same_record_makes_nothing_new(
    at_briefing: AuditRound, uow: UnitOfWork, session: Session
) -> None:
    briefings.draft(uow, "hackney", H1)
    again = briefings.draft(uow, "hackney", H1)
    assert (again.version, again.changed) == (1, False)
    assert [v.version for v in briefings.versions(uow, "hackney", H1)] == [1]


def test_a_new_draft_after_the_audit_day_changes_is_the_next_version_and_keeps_the_first(
    at_briefing: AuditRound, uow: UnitOfWork, session: Session
) -> None:
    first = briefings.draft(uow, "hackney", H1)
    session.commit()
    sheet = audit_day("2026-H1", DEFAULT_CASES, [])
    changed = dataclasses.replace(
        sheet,
        cases=tuple(
            dataclasses.replace(c, summary="A shorter summary.") if c.reference == "HK-00456" else c
            for c in sheet.cases
        ),
    )
    record_audit_day(uow, "2026-H1", changed)

    second = briefings.draft(uow, "hackney", H1)

    assert (second.version, second.status) == (2, "draft")
    assert second.content.rounds[0].cases[1].summary == "A shorter summary."
    assert second.content.rounds[0].lessons == ()  # the findings were taken out
    assert briefings.show(uow, "hackney", H1, version=1).content == first.content


def test_several_rounds_or_a_year_are_one_briefing_with_its_cases_numbered_through(
    uow: UnitOfWork, session: Session
) -> None:
    briefing_round(uow, launched_at=dt.datetime(2026, 4, 20, 9, tzinfo=LONDON))
    briefing_round(
        uow,
        round_id="2026-H2",
        cases=SECOND_CASES,
        findings=SECOND_FINDINGS,
        launched_at=dt.datetime(2026, 9, 7, 9, tzinfo=LONDON),
        focus="looked-after-children",
    )

    by_rounds = briefings.draft(uow, "hackney", parse_scope(["2026-H2", "2026-H1"]))
    by_year = briefings.draft(uow, "hackney", parse_scope(year="2026-27"))

    assert by_rounds.scope == "2026-H1+2026-H2" and by_year.scope == "2026-27"
    assert by_rounds.round_ids == by_year.round_ids == ("2026-H1", "2026-H2")
    assert by_year.content.period == "2026-27"
    assert by_rounds.content.period == "January to December 2026"
    labels = [[c.label for c in part.cases] for part in by_year.content.rounds]
    assert labels == [["Case 1", "Case 2"], ["Case 3"]]
    assert [p.heading for p in by_year.content.rounds] == ["Think Family", "Looked after children"]


def test_a_year_takes_only_the_rounds_launched_within_it(uow: UnitOfWork) -> None:
    briefing_round(uow)  # launched 2 March 2026: in the year 2025-26
    with pytest.raises(NotFound, match=r"No round covering Hackney was launched in 2026-27 \("):
        briefings.draft(uow, "hackney", parse_scope(year="2026-27"))
    assert briefings.draft(uow, "hackney", parse_scope(year="2025-26")).round_ids == ("2026-H1",)


# --- refusals of the scope -------------------------------------------------------------------


def test_a_round_still_in_moderation_is_refused_with_what_to_do(uow: UnitOfWork) -> None:
    moderating_round(uow)
    with pytest.raises(InvalidState) as refused:
        briefings.draft(uow, "hackney", H1)
    assert str(refused.value).startswith(
        "Round 2026-H1 is in moderation: its audit day is not recorded in full yet"
    )
    assert "auditround round moderate 2026-H1 FILE" in str(refused.value)


def test_a_round_of_other_areas_an_unknown_round_or_area_is_refused(
    at_briefing: AuditRound, uow: UnitOfWork
) -> None:
    briefing_round(uow, round_id="2026-H2", cases=SECOND_CASES[1:], findings=SECOND_FINDINGS[2:])
    with pytest.raises(InvalidState, match="Round 2026-H2 does not include Hackney"):
        briefings.draft(uow, "hackney", parse_scope(["2026-H1", "2026-H2"]))
    with pytest.raises(NotFound, match="There is no round 2027-H1"):
        briefings.draft(uow, "hackney", parse_scope(["2027-H1"]))
    with pytest.raises(NotFound, match="There is no area 'islington'"):
        briefings.draft(uow, "islington", H1)


def test_a_year_with_a_round_not_at_its_briefing_names_that_round(uow: UnitOfWork) -> None:
    briefing_round(uow)
    moderating_round(uow, round_id="2026-H2", cases=SECOND_CASES)
    with pytest.raises(InvalidState, match="Round 2026-H2 is in moderation"):
        briefings.draft(uow, "hackney", parse_scope(year="2025-26"))


# --- editing ---------------------------------------------------------------------------------


def test_an_edit_is_a_new_draft_version_and_the_one_before_stays(
    at_briefing: AuditRound, make_uow: MakeUow, session: Session
) -> None:
    alice, bob = make_uow("alice"), make_uow("bob")
    first = briefings.draft(alice, "hackney", H1)
    changed = dataclasses.replace(first.content, introduction="The audits found good practice.")

    second = briefings.edit(bob, "hackney", H1, changed, "an opening line")
    session.commit()

    assert (second.version, second.status, second.created_by, second.note) == (
        2,
        "draft",
        "bob",
        "an opening line",
    )
    assert [
        (v.version, v.content.introduction) for v in briefings.versions(alice, "hackney", H1)
    ] == [
        (1, ""),
        (2, "The audits found good practice."),
    ]
    [event] = [e for e in events(session, "briefing") if e.action == "briefing_edited"]
    assert event.actor == "bob" and "The audits found" not in str(event.details)
    assert "an opening line" not in str(event.details)


def test_an_edit_that_changes_nothing_makes_no_version(
    at_briefing: AuditRound, uow: UnitOfWork
) -> None:
    first = briefings.draft(uow, "hackney", H1)
    same = briefings.edit(uow, "hackney", H1, first.content, "no change")
    assert (same.version, same.changed) == (1, False)


def test_an_edit_of_another_area_scope_or_rounds_is_refused_naming_each_key(
    at_briefing: AuditRound, uow: UnitOfWork
) -> None:
    first = briefings.draft(uow, "hackney", H1).content
    wrong = dataclasses.replace(first, area_id="city", scope="2026-H2", rounds=())
    with pytest.raises(ProblemsError) as refused:
        briefings.edit(uow, "hackney", H1, wrong, source="hackney.yaml")
    assert [(p.file, p.location) for p in refused.value.problems] == [
        ("hackney.yaml", "area_id"),
        ("hackney.yaml", "scope"),
        ("hackney.yaml", "rounds"),
    ]
    assert "must be the rounds 2026-H1, in that order" in str(refused.value)


def test_there_is_nothing_to_edit_or_approve_before_a_draft(
    at_briefing: AuditRound, uow: UnitOfWork
) -> None:
    with pytest.raises(NotFound, match="There is no Hackney briefing 2026-H1 yet: draft one"):
        briefings.approve(uow, "hackney", H1)


# --- approving -------------------------------------------------------------------------------


def test_whoever_wrote_a_version_may_not_approve_it_and_is_told_who_may(
    at_briefing: AuditRound, make_uow: MakeUow
) -> None:
    briefings.draft(make_uow("cli:alice"), "hackney", H1)
    for same in ("cli:alice", "portal:alice", "alice"):
        with pytest.raises(InvalidState) as refused:
            briefings.approve(make_uow(same), "hackney", H1)
        assert str(refused.value) == (
            "Version 1 of the Hackney briefing 2026-H1 was written by cli:alice: someone else "
            "must approve it (the board's briefings need a second approver); anyone but "
            "cli:alice may."
        )

    done = briefings.approve(make_uow("portal:bob"), "hackney", H1)

    assert (done.status, done.approved_by, done.changed) == ("approved", "portal:bob", True)


def test_without_a_second_approver_the_writer_may_approve(
    at_briefing: AuditRound, uow: UnitOfWork, config: BoardConfig
) -> None:
    policy_ = config.board.briefing.model_copy(update={"second_approver": False})
    board = config.board.model_copy(update={"briefing": policy_})
    uow.config = config.model_copy(update={"board": board})
    briefings.draft(uow, "hackney", H1)
    assert briefings.approve(uow, "hackney", H1).approved_by == "alice"


def test_approving_an_older_version_than_the_latest_or_twice(
    at_briefing: AuditRound, make_uow: MakeUow, session: Session
) -> None:
    alice, bob = make_uow("alice"), make_uow("bob")
    first = briefings.draft(alice, "hackney", H1)
    briefings.edit(alice, "hackney", H1, dataclasses.replace(first.content, introduction="New."))
    with pytest.raises(InvalidState, match=r"Version 1 is not the latest of the Hackney briefing"):
        briefings.approve(bob, "hackney", H1, version=1)

    briefings.approve(bob, "hackney", H1, version=2)
    again = briefings.approve(bob, "hackney", H1)

    assert (again.version, again.changed) == (2, False)
    assert [e.action for e in events(session, "briefing")].count("briefing_approved") == 1


# --- issuing ---------------------------------------------------------------------------------


def test_a_draft_is_not_issued(
    at_briefing: AuditRound, uow: UnitOfWork, renderer: BriefingRenderer
) -> None:
    briefings.draft(uow, "hackney", H1)
    with pytest.raises(InvalidState, match="is a draft: it is issued once approved"):
        briefings.issue(uow, "hackney", H1, renderer)


def test_issuing_keeps_the_html_and_the_pdfs_hash_and_emails_the_pdf_to_the_distribution(
    at_briefing: AuditRound,
    make_uow: MakeUow,
    session: Session,
    renderer: BriefingRenderer,
    config: BoardConfig,
) -> None:
    approved(make_uow)

    issued = briefings.issue(make_uow("carol"), "hackney", H1, renderer)
    session.commit()

    names = [name for name, _ in issued.files()]
    assert names == [
        "briefing-hackney-2026-H1.html",
        "briefing-hackney-2026-H1.pdf",
        "briefing-hackney-2026-H1-seven-minute.html",
        "briefing-hackney-2026-H1-seven-minute.pdf",
    ]
    pdf = dict(issued.files())["briefing-hackney-2026-H1.pdf"]
    assert pdf.startswith(b"%PDF")
    row = session.scalars(select(Briefing)).one()
    assert (row.status, row.issued_by) == ("issued", "carol")
    assert row.pdf_sha256 == hashlib.sha256(pdf).hexdigest()
    assert row.html is not None and "Voice of the child" in row.html

    [message] = outbox(session)
    assert (message.kind, message.dedupe_key) == ("briefing", "briefing:hackney:2026-H1:v1")
    assert message.recipients == list(config.board.briefing.distribution)
    email = parsed(message)
    assert (
        email["Subject"] == "CHSCP Case Audits - Hackney, January to June 2026: learning briefing"
    )
    [attached] = list(email.iter_attachments())
    assert attached.get_filename() == "briefing-hackney-2026-H1.pdf"
    assert attached.get_content_type() == "application/pdf"
    assert attached.get_content() == pdf
    assert "Attached is the City & Hackney Safeguarding Children Partnership learning" in (
        text_of(email)
    )
    assert "corrected" not in text_of(email).lower()
    [event] = [e for e in events(session, "briefing") if e.action == "briefing_issued"]
    assert event.details["pdf_sha256"] == row.pdf_sha256
    assert event.details["outbox_message"] == message.id


def test_the_round_closes_when_every_area_has_its_briefing_issued(
    at_briefing: AuditRound, make_uow: MakeUow, session: Session, renderer: BriefingRenderer
) -> None:
    approved(make_uow, "hackney")
    hackney = briefings.issue(make_uow("carol"), "hackney", H1, renderer)
    session.commit()
    assert hackney.rounds_closed == ()
    assert session.get(AuditRound, "2026-H1").status == "briefing"  # type: ignore[union-attr]

    approved(make_uow, "city")
    city = briefings.issue(make_uow("carol"), "city", H1, renderer)
    session.commit()

    assert city.rounds_closed == ("2026-H1",)
    audit_round = session.get(AuditRound, "2026-H1")
    assert audit_round is not None and audit_round.status == "closed"
    assert audit_round.closed_at is not None
    [closed] = [e for e in events(session, round_id="2026-H1") if e.action == "round_closed"]
    assert closed.details == {"briefings_issued": ["city", "hackney"]}


def test_issuing_again_sends_nothing_and_changes_nothing(
    at_briefing: AuditRound, make_uow: MakeUow, session: Session, renderer: BriefingRenderer
) -> None:
    approved(make_uow)
    first = briefings.issue(make_uow("carol"), "hackney", H1, renderer)
    session.commit()
    trail = len(events(session))

    again = briefings.issue(make_uow("carol"), "hackney", H1, renderer)
    session.commit()

    assert again.already_issued and not first.already_issued
    assert again.message_id is None and again.version.issued_at == first.version.issued_at
    assert [name for name, _ in again.files()] == [name for name, _ in first.files()]
    assert len(outbox(session)) == 1
    assert len(events(session)) == trail


def test_a_correction_is_the_next_version_with_its_own_email_saying_so(
    at_briefing: AuditRound, make_uow: MakeUow, session: Session, renderer: BriefingRenderer
) -> None:
    first = approved(make_uow)
    briefings.issue(make_uow("carol"), "hackney", H1, renderer)
    session.commit()
    with pytest.raises(InvalidState, match="was issued already; a correction is a new version"):
        briefings.approve(make_uow("bob"), "hackney", H1)

    fixed = dataclasses.replace(first.content, introduction="Corrected: one summary changed.")
    briefings.edit(make_uow("alice"), "hackney", H1, fixed, "a summary corrected")
    briefings.approve(make_uow("bob"), "hackney", H1)
    second = briefings.issue(make_uow("carol"), "hackney", H1, renderer)
    session.commit()

    assert (second.version.version, second.corrects) == (2, 1)
    old, new = outbox(session)
    assert new.dedupe_key == "briefing:hackney:2026-H1:v2" and new.id != old.id
    email = parsed(new)
    assert email["Subject"] == (
        "Corrected: CHSCP Case Audits - Hackney, January to June 2026: learning briefing "
        "(version 2, replaces version 1)"
    )
    assert "This is a corrected issue" in text_of(email)
    assert "It replaces version 1, issued earlier" in text_of(email)
    statuses = [(v.version, v.status) for v in briefings.versions(make_uow(), "hackney", H1)]
    assert statuses == [(1, "issued"), (2, "issued")]


def test_with_nobody_to_receive_it_the_briefing_is_not_issued(
    at_briefing: AuditRound,
    make_uow: MakeUow,
    session: Session,
    renderer: BriefingRenderer,
    config: BoardConfig,
) -> None:
    approved(make_uow)
    policy_ = config.board.briefing.model_copy(update={"distribution": ()})
    board = config.board.model_copy(update={"briefing": policy_})
    carol = make_uow("carol")
    carol.config = config.model_copy(update={"board": board})
    with pytest.raises(InvalidState, match=r"board\.briefing\.distribution in board\.yaml"):
        briefings.issue(carol, "hackney", H1, renderer)
    assert outbox(session) == []


def test_once_issued_the_audit_day_of_its_round_stays_as_issued(
    at_briefing: AuditRound, make_uow: MakeUow, session: Session, renderer: BriefingRenderer
) -> None:
    approved(make_uow)
    briefings.issue(make_uow("carol"), "hackney", H1, renderer)
    session.commit()
    with pytest.raises(InvalidState, match="the audit day's record stays as it was issued"):
        record_audit_day(make_uow(), "2026-H1", audit_day("2026-H1", DEFAULT_CASES, []))


def test_issuing_through_the_composition_root_writes_the_files_and_delivers_the_pdf(
    at_briefing: AuditRound,
    make_uow: MakeUow,
    app: App,
    sink: Sink,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AUDITROUND_CONFIG", str(CONFIG_DIR))
    approved(make_uow)
    out = tmp_path / "out"

    issued, written, sent = app.issue_briefing("hackney", H1, out, actor="carol")

    assert sent.sent == 1 and sent.failed == 0
    assert sorted(p.name for p in written) == sorted(name for name, _ in issued.files())
    assert all(p.parent == out and p.stat().st_size > 0 for p in written)
    assert not list(out.glob(".*"))  # nothing half-written left behind
    [received] = sink.messages
    assert sorted(received.rcpt_tos) == sorted(app.config().board.briefing.distribution)
    [attached] = list(received.parsed().iter_attachments())
    assert attached.get_content() == (out / "briefing-hackney-2026-H1.pdf").read_bytes()


def test_of_two_issues_at_once_the_second_changes_and_sends_nothing(
    at_briefing: AuditRound,
    make_uow: MakeUow,
    session: Session,
    session_factory: sessionmaker[Session],
    config: BoardConfig,
    now: dt.datetime,
    mail: Mail,
    renderer: BriefingRenderer,
) -> None:
    approved(make_uow)
    with session_factory() as other:
        late = UnitOfWork(other, config, now, "dave", mail)
        read = other.scalars(select(Briefing)).one()  # dave's command has read it, approved
        briefings.issue(make_uow("carol"), "hackney", H1, renderer)
        session.commit()

        with pytest.raises(ConcurrentChange) as refused:
            briefings.issue(late, "hackney", H1, renderer)
        assert read.status == "approved"  # as dave's command read it
        other.rollback()

    assert str(refused.value) == (
        "Version 1 of the Hackney briefing 2026-H1 was changed by another command at the same "
        "moment (it is no longer approved); nothing was changed by this one."
    )
    assert len(outbox(session)) == 1
    assert session.scalars(select(Briefing)).one().issued_by == "carol"


def test_a_folder_that_cannot_be_made_stops_the_issue_before_anything_changes(
    at_briefing: AuditRound,
    make_uow: MakeUow,
    app: App,
    session: Session,
    tmp_path: Path,
) -> None:
    approved(make_uow)
    taken = tmp_path / "out"
    taken.write_text("a file where the folder should be", encoding="utf-8")

    with pytest.raises(AuditRoundError, match=f"The folder {taken} cannot be made"):
        app.issue_briefing("hackney", H1, taken)

    session.expire_all()
    assert session.scalars(select(Briefing)).one().status == "approved"
    assert outbox(session) == []
