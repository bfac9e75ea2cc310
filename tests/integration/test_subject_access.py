"""A subject access request's listing, on the round run to its close with every kind of
free text (:func:`support.retention_rounds.closed_round`): about the case HK-00123, about
Amara Bello (Hackney's auditor of it, and the owner of the action on its lesson), about an
agency lead known by address only, and about a dashboard user."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from support import LONDON
from support.retention_rounds import (
    ACTION_TEXT,
    CONCERN,
    GOOD_PRACTICE,
    KEY_FINDINGS,
    PROGRESS,
    at,
    closed_round,
    day,
)
from support.trail import events

from audit_core.adapters.settings import SmtpSettings
from audit_core.bootstrap import App
from audit_core.domain.errors import NotFound
from audit_core.domain.subject_access import Listing
from audit_core.services import users
from audit_core.services.ports import BriefingRenderer
from audit_core.services.retention import purge_expired
from audit_core.services.subject_access import subject_access
from audit_core.services.unit_of_work import UnitOfWork

pytestmark = pytest.mark.database
ASKED = dt.datetime(2026, 5, 4, 10, 0, tzinfo=LONDON)
AMARA = "amara.bello@example.org"
HACKNEY_LEAD = "grace.mensah-whitfield@example.org"


@pytest.fixture
def closed(
    uow: UnitOfWork,
    renderer: BriefingRenderer,
    make_app: Callable[..., App],
    mail_settings: SmtpSettings,
) -> int:
    return closed_round(uow, renderer, make_app(mail_settings, at=day(4, 22)))


def listed(uow: UnitOfWork, **subject: Any) -> Listing:
    listing = subject_access(at(uow, ASKED, "cli:alice"), **subject)
    uow.session.commit()
    return listing


def part(listing: Listing, key: str) -> tuple[dict[str, Any], ...]:
    return next(p.rows for p in listing.parts if p.key == key)


def test_a_case_is_listed_with_its_register_row_audits_returns_and_audit_day(
    closed: int, uow: UnitOfWork
) -> None:
    listing = listed(uow, case="HK-00123")

    [row] = part(listing, "register")
    assert (row["area"], row["reference"], row["category"]) == (
        "hackney",
        "HK-00123",
        "child_in_need",
    )
    assert [r["round"] for r in part(listing, "rounds")] == ["2026-H1"]
    assert sorted(a["agency"] for a in part(listing, "audits")) == [
        "gp",
        "hackney-csc",
        "met-police",
    ]
    returns = {r["agency"]: r for r in part(listing, "returns")}
    assert set(returns) == {"hackney-csc", "met-police"}
    assert returns["hackney-csc"]["answers"]["recognition"]["good_practice"] == GOOD_PRACTICE
    assert returns["met-police"]["concern_text"] == CONCERN
    [day_record] = part(listing, "audit_day")
    assert day_record["key_findings"] == KEY_FINDINGS["HK-00123"]
    assert len(part(listing, "findings")) == 3  # the two strengths and the lesson from it
    assert [a["text"] for a in part(listing, "actions")] == [ACTION_TEXT]


def test_a_cases_emails_and_audit_events_are_its_own(closed: int, uow: UnitOfWork) -> None:
    listing = listed(uow, case="HK-00123")

    emails = part(listing, "emails")
    assert sorted(m["kind"] for m in emails) == [
        "concern",
        "nomination",  # the GP's audit, unfilled: the agency lead asked to nominate
        "receipt",
        "receipt",
        "task",
        "task",
    ]
    assert all(m["content"] == "kept" for m in emails)
    trail = part(listing, "events")
    actions = {e["action"] for e in trail}
    assert {"task_issued", "queued", "return_submitted", "concern_raised"} <= actions
    assert "HK-00456" not in str(trail) and "CT-00042" not in str(trail)


def test_the_reading_is_recorded_with_counts_only(closed: int, uow: UnitOfWork) -> None:
    listing = listed(uow, case="HK-00123")

    [event] = [e for e in events(uow.session) if e.action == "subject_access_listed"]
    assert (event.actor, event.object_type, event.object_id) == (
        "cli:alice",
        "case_file",
        "HK-00123",
    )
    assert event.details == {"counts": listing.counts}
    assert listing.counts["returns"] == 2


def test_after_the_purge_a_case_lists_what_is_still_held(closed: int, uow: UnitOfWork) -> None:
    purge_expired(at(uow, dt.datetime(2028, 4, 20, 5, 30, tzinfo=LONDON)))
    uow.session.commit()

    listing = listed(uow, case="HK-00123")

    returns = {r["agency"]: r for r in part(listing, "returns")}
    assert returns["met-police"]["concern_text"] is None
    assert returns["hackney-csc"]["answers"]["recognition"] == {"grade": "good"}
    assert returns["hackney-csc"]["free_text_purged_at"] == "2028-04-20T05:30:00+01:00"
    assert {m["content"] for m in part(listing, "emails")} == {"purged"}


def test_a_person_by_id_or_by_address_gets_the_same_listing(closed: int, uow: UnitOfWork) -> None:
    by_id = listed(uow, person="amara-bello")
    by_address = listed(uow, person=AMARA.upper())

    assert by_id.parts[:-1] == by_address.parts[:-1]
    # the trail about her now holds the first listing too
    first, second = part(by_id, "events"), part(by_address, "events")
    assert second[:-1] == first
    assert (second[-1]["action"], second[-1]["object"]) == (
        "subject_access_listed",
        "person:amara-bello",
    )
    [entry] = part(by_id, "configuration")
    assert (entry["file"], entry["id"], entry["email"]) == ("people.yaml", "amara-bello", AMARA)
    assert [p["id"] for p in part(by_id, "auditor")] == ["amara-bello"]
    assert [(a["case"], a["agency"]) for a in part(by_id, "audits")] == [
        ("HK-00123", "hackney-csc")
    ]
    [written] = part(by_id, "returns")
    assert written["answers"]["recognition"]["good_practice"] == GOOD_PRACTICE
    assert [a["text"] for a in part(by_id, "actions")] == [ACTION_TEXT]
    assert [u["note"] for u in part(by_id, "updates")] == [PROGRESS]
    kinds = sorted(m["kind"] for m in part(by_id, "emails"))
    assert kinds == ["action_link", "receipt", "task"]
    assert all(AMARA in m["to"] for m in part(by_id, "emails"))
    trail = part(by_id, "events")
    assert any(
        e["actor"] == "link:amara-bello" and e["action"] == "return_submitted" for e in trail
    )
    assert any(e["action"] == "action_added" for e in trail)


def test_an_agency_lead_is_found_by_address(closed: int, uow: UnitOfWork) -> None:
    listing = listed(uow, person=HACKNEY_LEAD)

    assert [(c["file"], c["as"]) for c in part(listing, "configuration")] == [
        ("agencies.yaml", "lead of health-visiting")
    ]
    assert part(listing, "auditor") == () and part(listing, "audits") == ()
    assert [m["kind"] for m in part(listing, "emails")] == ["escalation"]  # the late draft


def test_a_dashboard_user_is_listed_without_their_password(closed: int, uow: UnitOfWork) -> None:
    class Plain:
        def hash(self, password: str) -> str:
            return "argon2-hash-of-" + password

    users.add_user(
        uow,
        Plain(),  # type: ignore[arg-type]
        "alice",
        name="Alice Okafor",
        email="alice.okafor@example.org",
        role="coordinator",
        password="correct horse battery staple",
    )
    uow.session.commit()

    listing = listed(uow, person="alice")

    [account] = part(listing, "dashboard")
    assert (account["id"], account["role"], account["sessions_held"]) == ("alice", "coordinator", 0)
    assert "argon2-hash-of" not in str(listing.to_json())
    assert any(e["action"] == "portal_user_added" for e in part(listing, "events"))


def test_an_unknown_case_or_person_is_named(closed: int, uow: UnitOfWork) -> None:
    with pytest.raises(NotFound, match="There is no case HK-99999 in the register"):
        listed(uow, case="HK-99999")
    with pytest.raises(NotFound, match=r"Nobody known as 'nobody@example\.org'"):
        listed(uow, person="nobody@example.org")
    with pytest.raises(NotFound, match="Nobody known as 'no-such-person'"):
        listed(uow, person="no-such-person")
    assert not [e for e in events(uow.session) if e.action == "subject_access_listed"]
