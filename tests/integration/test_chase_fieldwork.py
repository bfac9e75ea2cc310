"""A whole fieldwork period, day by day with a fixed clock, chased as the cadence says.

The example round is launched on Monday 2 March 2026 with returns due Monday 30 March
and its audit day on 15 April; Easter falls in the chase (Good Friday 3 April, Easter
Monday 6 April). The sweep runs twice every day, at 08:00 and 17:00. On the way:
- DS Sarah Chukwuma (met-police, HK-00123) declines on 24 March and the audit passes
  to DS Daniel Costa on 25 March;
- Eleanor Ashdown (city-cft, CT-00042) submits on 25 March;
- Fatima El-Amin's deadline (health-visiting, HK-00456) moves to Thursday 9 April on
  27 March;
- Amara Bello (hackney-csc, HK-00123) and Oliver Pemberton (city-police, CT-00042)
  never submit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import select
from support import LONDON, MAIL_FROM, PUBLIC_URL
from support.rounds import delivered_round, launched_round, planned_round
from support.scripted_smtp import ScriptedHandler

from audit_core.adapters.settings import SmtpSettings
from audit_core.adapters.smtp_sink import Sink, SinkHandler
from audit_core.bootstrap import App
from audit_core.domain.models import Assignment, ChaseRecord, RoundCase
from audit_core.domain.policy import BoardConfig
from audit_core.services import deadlines, fieldwork
from audit_core.services.chase import sweep
from audit_core.services.round_changes import reassign
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = [pytest.mark.database, pytest.mark.slow]

ROUND = "2026-H1"
FIRST, LAST = dt.date(2026, 3, 3), dt.date(2026, 4, 14)


def at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, 0, tzinfo=LONDON)


def addresses(config: BoardConfig) -> dict[str, str]:
    """Short names for everyone who may be written to."""
    people = {p.id: p.email for p in config.auditors}
    leads = {f"lead:{a.id}": a.lead.email for a in config.agencies}
    return {
        **people,
        **leads,
        "manager": config.board.business_unit.manager.email,
        "unit": config.board.business_unit.email,
    }


def assignment_of(uow: UnitOfWork, case_ref: str, agency: str) -> Assignment:
    query = (
        select(Assignment)
        .join(RoundCase)
        .where(RoundCase.round_id == ROUND, Assignment.agency_id == agency)
    )
    return next(a for a in uow.session.scalars(query) if a.round_case.case.reference == case_ref)


def what_happens_on(day: dt.date, make_uow: Callable[..., UnitOfWork], app: App) -> None:
    """The business unit's and the auditors' own actions of the day, at 10:00."""
    uow = make_uow(at=at(day, 10))
    if day == dt.date(2026, 3, 24):
        fieldwork.decline(
            uow, round_id=ROUND, case_ref="HK-00123", agency_id="met-police", reason="conflict"
        )
    elif day == dt.date(2026, 3, 25):
        reassign(
            uow,
            round_id=ROUND,
            case_ref="HK-00123",
            agency_id="met-police",
            auditor_id="daniel-costa",
        )
        assignment_of(uow, "CT-00042", "city-cft").submit(uow.now)
    elif day == dt.date(2026, 3, 27):
        deadlines.extend(
            uow,
            round_id=ROUND,
            to=dt.date(2026, 4, 9),
            reason="sickness",
            case_ref="HK-00456",
            agency_id="health-visiting",
        )
    else:
        return
    uow.session.commit()
    app.dispatch()


def kind_of(subject: str) -> str:
    if subject.startswith("Case audit digest"):
        return "digest"
    for start, kind in (
        ("Reminder", "reminder"),
        ("Due today", "due-today"),
        ("Overdue", "overdue"),
    ):
        if subject.startswith(start):
            return kind
    assert "late return" in subject, subject
    return "escalation"


def run_fieldwork(
    uow: UnitOfWork,
    make_uow: Callable[..., UnitOfWork],
    make_app: Callable[..., App],
    mail_settings: SmtpSettings,
    sink: Sink,
) -> list[tuple[str, str, str, str]]:
    """Every email a sweep sent, as (day, hour, recipient, kind)."""
    delivered_round(uow, make_app(mail_settings), sink)
    received: list[tuple[str, str, str, str]] = []
    day = FIRST
    while day <= LAST:
        for hour in (8, 17):
            sink.clear()
            make_app(mail_settings, at=at(day, hour)).change_then_send(sweep)
            for message in sink.messages:
                kind = kind_of(str(message.parsed()["Subject"]))
                received += [(day.isoformat(), str(hour), rcpt, kind) for rcpt in message.rcpt_tos]
            if hour == 8:
                what_happens_on(day, make_uow, make_app(mail_settings, at=at(day, 10)))
        day += dt.timedelta(days=1)
    return received


EXPECTED = {
    "2026-03-23": {
        ("amara-bello", "reminder"),
        ("sarah-chukwuma", "reminder"),
        ("eleanor-ashdown", "reminder"),
        ("oliver-pemberton", "reminder"),
        ("fatima-el-amin", "reminder"),
    },
    # Sarah declined; Daniel took it on 25 March, after its first reminder's day
    "2026-03-30": {
        ("amara-bello", "due-today"),
        ("daniel-costa", "due-today"),
        ("oliver-pemberton", "due-today"),
    },
    "2026-03-31": {
        ("amara-bello", "overdue"),
        ("daniel-costa", "overdue"),
        ("oliver-pemberton", "overdue"),
        ("fatima-el-amin", "reminder"),  # five working days before her new deadline
    },
    "2026-04-01": {
        ("lead:hackney-csc", "escalation"),
        ("lead:met-police", "escalation"),
        ("lead:city-police", "escalation"),
    },
    # Good Friday and Easter Monday push the manager's step to Wednesday 8 April
    "2026-04-08": {("manager", "escalation")},
    "2026-04-09": {("fatima-el-amin", "due-today")},
    "2026-04-10": {("fatima-el-amin", "overdue")},
    "2026-04-13": {("lead:health-visiting", "escalation")},
}


def test_each_person_gets_exactly_the_chase_the_cadence_gives_and_only_on_working_days(
    uow: UnitOfWork,
    make_uow: Callable[..., UnitOfWork],
    make_app: Callable[..., App],
    mail_settings: SmtpSettings,
    sink: Sink,
    config: BoardConfig,
) -> None:
    received = run_fieldwork(uow, make_uow, make_app, mail_settings, sink)
    who = {email: name for name, email in addresses(config).items()}
    by_day: dict[str, set[tuple[str, str]]] = {}
    for day, hour, rcpt, kind in received:
        if kind == "digest":
            continue
        assert hour == "8", f"the 17:00 sweep of {day} sent {kind} to {rcpt} again"
        by_day.setdefault(day, set()).add((who[rcpt], kind))
    assert by_day == EXPECTED
    chased = [r for r in received if r[3] != "digest"]
    assert len(chased) == sum(len(v) for v in EXPECTED.values())  # one email each


def test_an_escalation_lists_every_late_return_of_its_recipient_in_one_email(
    uow: UnitOfWork,
    make_uow: Callable[..., UnitOfWork],
    make_app: Callable[..., App],
    mail_settings: SmtpSettings,
    sink: Sink,
    config: BoardConfig,
) -> None:
    delivered_round(uow, make_app(mail_settings), sink)
    day = FIRST
    while day <= dt.date(2026, 4, 7):
        make_app(mail_settings, at=at(day, 8)).change_then_send(sweep)
        what_happens_on(day, make_uow, make_app(mail_settings, at=at(day, 10)))
        day += dt.timedelta(days=1)
    sink.clear()
    make_app(mail_settings, at=at(dt.date(2026, 4, 8), 8)).change_then_send(sweep)
    [message] = [m for m in sink.messages if "digest" not in str(m.parsed()["Subject"])]
    manager = config.board.business_unit.manager.email
    assert message.rcpt_tos == (manager,)
    text = message.parsed().get_body(("plain",)).get_content()
    for auditor in ("Amara Bello", "DS Daniel Costa", "Oliver Pemberton"):
        assert auditor in text
    assert "Sarah" not in text and "Eleanor" not in text and "Fatima" not in text
    assert text.count("HK-00123") == 2 and text.count("CT-00042") == 1
    assert "5 working days late" in text  # 30 March to 8 April: Easter is not counted
    with uow.session as session:
        steps = session.scalars(select(ChaseRecord.step).where(ChaseRecord.recipient == manager))
        assert sorted(steps) == ["escalation-2"] * 3


def test_the_business_unit_gets_a_digest_only_on_days_with_news(
    uow: UnitOfWork,
    make_uow: Callable[..., UnitOfWork],
    make_app: Callable[..., App],
    mail_settings: SmtpSettings,
    sink: Sink,
    config: BoardConfig,
) -> None:
    received = run_fieldwork(uow, make_uow, make_app, mail_settings, sink)
    unit = config.board.business_unit.email
    digests = [(day, hour) for day, hour, rcpt, kind in received if kind == "digest"]
    assert {rcpt for *_, rcpt, kind in received if kind == "digest"} == {unit}
    assert digests == [
        ("2026-03-23", "8"),  # the first reminders
        ("2026-03-24", "17"),  # Sarah declined in the morning
        ("2026-03-30", "8"),
        ("2026-03-31", "8"),  # three returns late since today
        ("2026-04-01", "8"),
        ("2026-04-08", "8"),
        ("2026-04-09", "8"),
        ("2026-04-10", "8"),
        ("2026-04-13", "8"),
    ]


def test_an_address_that_bounced_gets_nothing_more_and_the_business_unit_is_told_once(
    uow: UnitOfWork,
    make_app: Callable[..., App],
    start_sink: Callable[[SinkHandler], Sink],
    config: BoardConfig,
) -> None:
    oliver = "oliver.pemberton@example.org"
    sink = start_sink(ScriptedHandler(refuse={oliver: "550 5.1.1 mailbox unavailable"}))
    settings = sink.settings(mail_from=MAIL_FROM, public_url=PUBLIC_URL)
    planned_round(uow)
    launched_round(uow)
    make_app(settings).dispatch()  # Oliver's task is refused for good

    for day in (dt.date(2026, 3, 23), dt.date(2026, 3, 30), dt.date(2026, 3, 31)):
        sink.clear()
        make_app(settings, at=at(day, 8)).change_then_send(sweep)
        assert not [m for m in sink.messages if oliver in m.rcpt_tos], day
        told = [m.parsed() for m in sink.messages if "refuses mail" in m.parsed()["Subject"]]
        if day == dt.date(2026, 3, 23):
            [notice] = told
            text = notice.get_body(("plain",)).get_content()
            assert "550 5.1.1 mailbox unavailable" in text and "CT-00042" in text
            assert notice["To"].endswith(f"<{config.board.business_unit.email}>")
        else:
            assert told == []  # once
    with uow.session as session:
        held = session.scalars(
            select(ChaseRecord.step).where(
                ChaseRecord.recipient == oliver, ChaseRecord.outbox_message_id.is_(None)
            )
        )
        assert sorted(held) == ["overdue", "reminder-0", "reminder-5"]
