"""No email says anything about a child beyond the case reference."""

from __future__ import annotations

from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.rounds import CaseSpec, delivered_round

from audit_core.adapters.smtp_sink import Sink
from audit_core.bootstrap import App
from audit_core.domain.models import OutboxMessage
from audit_core.domain.policy import BoardConfig
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database

# Register fields given values that cannot turn up in an email by chance.
SECRET_CATEGORY = "zq-category-child-protection-plan"
SECRET_AGE_BAND = "zq-age-band-11-15"
SECRET_FLAGS = ("zq-flag-domestic-abuse", "zq-flag-exploitation")
SECRET_PRACTITIONERS = ("ZQ-PRAC-0917", "ZQ-PRAC-5521", "ZQ-PRAC-7730")
CASES = (
    CaseSpec(
        "HK-77001",
        "hackney",
        {"hackney-csc": "tomasz-wierzbicki", "met-police": "daniel-costa", "probation": None},
        category=SECRET_CATEGORY,
        age_band=SECRET_AGE_BAND,
        flags=SECRET_FLAGS,
        practitioners={
            "hackney-csc": SECRET_PRACTITIONERS[:2],
            "met-police": SECRET_PRACTITIONERS[2:],
        },
    ),
    CaseSpec(
        "CT-77002",
        "city",
        {"city-cft": "kwabena-owusu", "city-schools": "louise-carmichael"},
        category=SECRET_CATEGORY,
        age_band=SECRET_AGE_BAND,
        flags=SECRET_FLAGS[:1],
        practitioners={"city-cft": SECRET_PRACTITIONERS},
    ),
)


def everything_a_reader_sees(message: EmailMessage) -> str:
    """Every header and every decoded part (text, HTML, calendar), as one string."""
    pieces = [f"{name}: {value}" for name, value in message.items()]
    for part in message.walk():
        if part.is_multipart():
            continue
        content = part.get_content()
        pieces.append(content.decode("utf-8", "replace") if isinstance(content, bytes) else content)
    return "\n".join(pieces)


def test_no_register_field_but_the_case_reference_reaches_any_email(
    uow: UnitOfWork, session: Session, config: BoardConfig, app: App, sink: Sink
) -> None:
    received = delivered_round(uow, app, sink, cases=CASES)

    stored = list(session.scalars(select(OutboxMessage)))
    assert len(stored) == len(received) == 6  # 4 tasks, 1 nomination request, the summary
    category_names = {c.id: c.name for c in config.categories}
    forbidden = [
        SECRET_CATEGORY,
        SECRET_AGE_BAND,
        *SECRET_FLAGS,
        *SECRET_PRACTITIONERS,
        # the auditors' own practitioner ids, from the configuration
        *(pid for a in config.auditors for pid in a.practitioner_ids),
        # and the register's vocabulary, in case a template spelled a field out
        *category_names.values(),
        *(b.name for b in config.age_bands),
        *(f.name for f in config.flags),
    ]
    readable = [
        everything_a_reader_sees(BytesParser(policy=default_policy).parsebytes(m.raw))
        for m in stored
    ] + [everything_a_reader_sees(r.parsed()) for r in received]
    for text in readable:
        lowered = text.lower()
        for value in forbidden:
            assert value.lower() not in lowered, f"{value!r} appears in an email"
    for raw in [m.raw for m in stored] + [r.content for r in received]:
        for value in forbidden:
            assert value.encode() not in raw
    tasks = [m for m in stored if m.kind == "task"]
    assert len(tasks) == 4
    for task in tasks:
        assert task.subject.split(": ", 1)[1].startswith(("HK-77001", "CT-77002"))
