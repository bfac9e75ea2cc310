"""The follow-up of the action plan through the composition root, day by day with a fixed
clock, its emails delivered to a real SMTP server on loopback.

Round 2026-H1 is at its briefing (:mod:`support.briefing_rounds`). On Monday 2 March 2026
the business unit makes five actions from its lessons, each owner emailed their link:

- 1 and 2, Amara Bello (Hackney Children and Families Service), due Thursday 7 May;
- 3, DS Sarah Chukwuma (Metropolitan Police), due Thursday 7 May;
- 4, Tomasz Wierzbicki (Hackney Children and Families Service), due Friday 20 March;
- 5, Kwabena Owusu (City of London Children and Families Team), due Tuesday 2 June.

With the example cadence the reminders for 7 May fall on 22 April and 7 May, the
overdue reminder on 8 May and the escalation on 14 May (the early May bank holiday is
Monday 4 May); the digest goes on Mondays.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from support import LONDON
from support.briefing_rounds import briefing_round
from support.trail import events

from audit_core.adapters.settings import SmtpSettings
from audit_core.adapters.smtp_sink import Received, Sink
from audit_core.bootstrap import App
from audit_core.domain.models import Action, ActionChaseStep, Finding, FindingKind, OutboxMessage
from audit_core.services.action_follow_up import FollowUpReport, follow_up
from audit_core.services.action_links import open_action, record_progress
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database
MakeApp = Callable[..., App]
LINK = re.compile(r"https://audits\.chscp\.example\.org/action/[A-Za-z0-9_-]+")
AMARA, SARAH = "amara.bello@example.org", "sarah.chukwuma@example.org"
TOMASZ, KWABENA = "tomasz.wierzbicki@example.org", "kwabena.owusu@example.org"
HACKNEY_LEAD, MET_LEAD = "adaeze.okonkwo-reid@example.org", "priya.raghunathan@example.org"
UNIT, QA = "chscp.audits@example.org", "chscp.qa-subgroup@example.org"
PLAN = [  # lesson theme, owner, due date
    ("voice-of-the-child", "amara-bello", dt.date(2026, 5, 7)),
    ("engaging-fathers", "amara-bello", dt.date(2026, 5, 7)),
    ("think-family", "sarah-chukwuma", dt.date(2026, 5, 7)),
    ("voice-of-the-child", "tomasz-wierzbicki", dt.date(2026, 3, 20)),
    ("think-family", "kwabena-owusu", dt.date(2026, 6, 2)),
]


def at(month: int, day: int, hour: int = 8, minute: int = 30) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=LONDON)


@dataclass
class Plan:
    """The actions made, by their number in :data:`PLAN` (1 to 5), and the owners' links."""

    ids: dict[int, int]
    make_app: MakeApp
    settings: SmtpSettings
    sink: Sink

    def follow_up(self, when: dt.datetime) -> FollowUpReport:
        """The follow-up at ``when``, then the outbox sent (the sink cleared first)."""
        self.sink.clear()
        report, sent = self.make_app(self.settings, at=when).change_then_send(follow_up)
        assert sent.failed == 0 and sent.retrying == 0
        return report

    def to(self, address: str) -> list[Received]:
        return [m for m in self.sink.messages if address in m.rcpt_tos]


def text_of(message: Received) -> str:
    body = message.parsed().get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def everything_in(message: Received) -> str:
    """Subject, headers and every part, decoded: what a reader of the email could see."""
    parsed = message.parsed()
    parts = [str(parsed["Subject"])]
    parts += [str(p.get_content()) for p in parsed.walk() if p.get_content_maintype() == "text"]
    return "\n".join(parts)


def token_of(link: str) -> str:
    return link.rsplit("/", 1)[1]


def first_links(sink: Sink) -> dict[int, str]:
    """The link in each action's first email (its subject names the action), by action id."""
    links = {}
    for message in sink.messages:
        named = re.search(r"your action (\d+)", str(message.parsed()["Subject"]))
        if named:
            [links[int(named.group(1))]] = LINK.findall(text_of(message))
    return links


@pytest.fixture
def plan(uow: UnitOfWork, make_app: MakeApp, mail_settings: SmtpSettings, sink: Sink) -> Plan:
    briefing_round(uow)
    lessons = {
        f.theme_id: f.id
        for f in uow.session.scalars(select(Finding).where(Finding.kind == FindingKind.LESSON))
    }
    app, ids = make_app(mail_settings, at=at(3, 2, 10, 0)), {}
    for number, (theme, owner, due_on) in enumerate(PLAN, start=1):
        added, sent = app.add_action(
            lesson_id=lessons[theme],
            text=f"Team {number} records the child's own words in every plan.",
            measure="A dip sample of ten plans shows it in eight.",
            owner=owner,
            due_on=due_on,
        )
        assert sent.sent == 1
        ids[number] = added.id
    return Plan(ids, make_app, mail_settings, sink)


def stored(session: Session, action_id: int) -> Action:
    session.expire_all()
    found = session.get(Action, action_id)
    assert found is not None
    return found


def test_each_owner_gets_one_email_listing_each_of_their_actions_with_a_fresh_link(
    plan: Plan, make_app: MakeApp, mail_settings: SmtpSettings, sink: Sink
) -> None:
    firsts = first_links(sink)
    report = plan.follow_up(at(4, 22))  # ten working days before 7 May
    assert sorted((f.action_id, f.step) for f in report.reminders) == [
        (plan.ids[1], "reminder-10"),
        (plan.ids[2], "reminder-10"),
        (plan.ids[3], "reminder-10"),
    ]
    [to_amara] = plan.to(AMARA)
    [to_sarah] = plan.to(SARAH)
    text = text_of(to_amara)
    assert "Team 1 records" in text and "Team 2 records" in text
    assert "in 10 working days" in text
    links = LINK.findall(text)
    assert len(links) == 2 and len(set(links)) == 2  # one link each, each its own
    assert len(LINK.findall(text_of(to_sarah))) == 1
    with make_app(mail_settings, at=at(4, 22, 9)).unit_of_work() as uow:
        opened = [open_action(uow, token_of(link)) for link in links]
        assert sorted(v.action.id for v in opened if v) == [plan.ids[1], plan.ids[2]]
        earlier = [firsts[plan.ids[1]], firsts[plan.ids[2]]]  # the first emails' links
        assert all(open_action(uow, token_of(link)) is None for link in earlier)
    assert not plan.to(KWABENA)  # due on 2 June: nothing yet


def test_an_agency_lead_gets_one_email_for_their_agency_s_late_actions_and_no_owner_s_link(
    plan: Plan, session: Session
) -> None:
    report = plan.follow_up(at(5, 14))  # five working days after 7 May: the escalation
    assert not report.reminders  # the reminders before it lapsed: only the newest step
    assert sorted((f.action_id, f.to_email) for f in report.escalations) == sorted(
        [
            (plan.ids[1], HACKNEY_LEAD),
            (plan.ids[2], HACKNEY_LEAD),
            (plan.ids[3], MET_LEAD),
            (plan.ids[4], HACKNEY_LEAD),  # due 20 March, never chased: escalated at once
        ]
    )
    [to_lead] = plan.to(HACKNEY_LEAD)
    seen = everything_in(to_lead)
    assert "/action/" not in seen and "audits.chscp.example.org" not in seen
    for owner in ("Amara Bello", "Tomasz Wierzbicki"):
        assert owner in seen
    assert "3 overdue actions in Hackney Children and Families Service" in seen
    assert len(plan.to(MET_LEAD)) == 1
    assert not plan.to(AMARA) and not plan.to(TOMASZ)  # owners are not written to again
    steps = session.scalars(select(ActionChaseStep).order_by(ActionChaseStep.action_id)).all()
    assert {(s.step, s.to) for s in steps} == {
        ("escalation", HACKNEY_LEAD),
        ("escalation", MET_LEAD),
    }


def test_a_second_run_the_same_day_sends_nothing(plan: Plan, session: Session) -> None:
    first = plan.follow_up(at(4, 22))
    # two owners, the lead (action 4) and the week's digest, missed on Monday
    assert len(first.reminders) == 3 and plan.sink.count == 4
    again = plan.follow_up(at(4, 22, 17, 0))
    assert not again.taken and not again.messages and plan.sink.count == 0
    before = session.scalar(select(func.count()).select_from(OutboxMessage))
    assert plan.follow_up(at(4, 23)).taken == []  # the reminder is not sent twice
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == before
    assert plan.sink.count == 0


def test_a_done_action_is_not_followed_up_and_nothing_goes_on_a_bank_holiday(
    plan: Plan, make_app: MakeApp, mail_settings: SmtpSettings, sink: Sink
) -> None:
    link = first_links(sink)[plan.ids[3]]
    with make_app(mail_settings, at=at(4, 20, 11, 0)).unit_of_work() as uow:
        done = record_progress(
            uow, token_of(link), {"status": "done", "note": "Briefed every team."}
        )
        assert done is not None and done.recorded
    report = plan.follow_up(at(4, 22))
    assert plan.ids[3] not in {f.action_id for f in report.taken}
    assert not plan.to(SARAH)
    holiday = plan.follow_up(at(5, 4))  # the early May bank holiday
    assert holiday.not_working == "a bank holiday (May Day)" and not holiday.taken
    assert plan.sink.count == 0


def test_the_rag_of_every_open_action_is_brought_up_to_date(plan: Plan, session: Session) -> None:
    assert stored(session, plan.ids[4]).rag == "amber"  # due within 20 working days
    assert stored(session, plan.ids[1]).rag == "green"
    report = plan.follow_up(at(3, 23))  # the Monday after action 4 fell due
    assert stored(session, plan.ids[4]).rag == "red"
    assert stored(session, plan.ids[1]).rag == "green"
    assert report.rag_changed == 1
    changed = [e for e in events(session) if e.action == "action_rag_changed"]
    assert [(e.object_id, e.details["to"]) for e in changed] == [(str(plan.ids[4]), "red")]


def test_the_weekly_digest_goes_once_on_its_day_with_the_week_s_figures(
    plan: Plan, make_app: MakeApp, mail_settings: SmtpSettings, sink: Sink
) -> None:
    firsts = first_links(sink)
    owner_page = make_app(mail_settings, at=at(5, 6, 10, 0))
    with owner_page.unit_of_work() as uow:  # Amara starts action 1; Sarah finishes 3
        started = {"status": "in_progress", "note": "Training booked for every team."}
        assert record_progress(uow, token_of(firsts[plan.ids[1]]), started)
        finished = {"status": "done", "note": "Briefed every team.", "evidence": "Minutes"}
        assert record_progress(uow, token_of(firsts[plan.ids[3]]), finished)
    report = plan.follow_up(at(5, 11))  # Monday: the digest's day
    assert report.digest_sent and report.digest is not None
    figures = report.digest
    assert [r["action_id"] for r in figures.updated] == [plan.ids[1]]
    assert [r["action_id"] for r in figures.closed] == [plan.ids[3]]
    assert figures.new == []
    overdue = [plan.ids[4], plan.ids[1], plan.ids[2]]  # by due date
    assert [r["action_id"] for r in figures.overdue] == overdue
    assert [r["action_id"] for r in figures.due_soon] == [plan.ids[5]]
    by_agency = {r["agency_name"]: r for r in figures.by_agency}
    assert by_agency["Hackney Children and Families Service"] == {
        "agency_name": "Hackney Children and Families Service",
        "open": 3,
        "red": 3,
        "amber": 0,
        "green": 0,
        "overdue": 3,
        "closed": 0,
    }
    assert by_agency["Metropolitan Police (Central East BCU)"]["closed"] == 1
    assert by_agency["City of London Children and Families Team"]["amber"] == 1
    assert by_agency["All agencies"]["open"] == 4
    [digest] = [m for m in sink.messages if UNIT in m.rcpt_tos]
    assert QA in digest.rcpt_tos
    text = text_of(digest)
    assert "4 open, 3 overdue, 1 due within a month" in str(digest.parsed()["Subject"])
    assert "Updated (1)" in text and "Closed (1)" in text and "Overdue (3)" in text
    assert "/action/" not in everything_in(digest)  # no owner's link in the digest
    again = plan.follow_up(at(5, 11, 17, 0))
    assert not again.digest_sent and not plan.to(UNIT)
    assert not plan.follow_up(at(5, 12)).digest_sent  # sent for this week already
    next_week = plan.follow_up(at(5, 18))
    assert next_week.digest_sent and next_week.digest is not None
    assert next_week.digest.updated == [] and next_week.digest.closed == []


def test_a_digest_missed_on_its_day_goes_on_the_next_working_day_of_the_week(
    plan: Plan,
) -> None:
    assert not plan.follow_up(at(5, 4)).digest_sent  # the bank holiday Monday
    tuesday = plan.follow_up(at(5, 5))
    assert tuesday.digest_sent and tuesday.digest and tuesday.digest.day == dt.date(2026, 5, 5)
    assert not plan.follow_up(at(5, 6)).digest_sent


def test_a_dry_run_says_what_is_due_and_writes_and_sends_nothing(
    plan: Plan, make_app: MakeApp, session: Session
) -> None:
    messages = session.scalar(select(func.count()).select_from(OutboxMessage))
    app = make_app(at=at(4, 22))  # no mail settings needed to look
    with app.unit_of_work() as uow:
        preview = follow_up(uow, dry_run=True)
        uow.session.rollback()
    assert len(preview.reminders) == 3 and len(preview.escalations) == 1
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == messages
    assert session.scalar(select(func.count()).select_from(ActionChaseStep)) == 0
    report = plan.follow_up(at(4, 22))  # the real run takes the same steps
    assert sorted(f.action_id for f in report.taken) == sorted(f.action_id for f in preview.taken)
