"""One small builder per kind of email: the plain data its templates get, and who it goes to.

Templates never touch the database: a builder reads what it needs from rows
already loaded and hands over plain values (strings, dates, lists, dicts).
An email names the case by its pseudonymous reference, the area, the agency
and the focus, and nothing else about the child.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from audit_core.domain.chasing import Step
from audit_core.domain.models import Assignment, AuditRound
from audit_core.domain.policy import BoardConfig
from audit_core.services.ports import CalendarEntry, Letter


def business_unit(config: BoardConfig) -> dict[str, str]:
    unit = config.board.business_unit
    return {"name": unit.name, "email": unit.email, "phone": unit.phone}


def _unit_address(config: BoardConfig) -> tuple[str, str]:
    unit = config.board.business_unit
    return (unit.name, unit.email)


def round_facts(config: BoardConfig, audit_round: AuditRound) -> dict[str, Any]:
    """What every email about a round says: the board, the round, its focus, the audit day."""
    return {
        "board_name": config.board.name,
        "business_unit": business_unit(config),
        "round_id": audit_round.id,
        "focus_name": config.focus(audit_round.focus_id).name,
        "audit_day_on": audit_round.audit_day_on,
    }


def case_facts(
    round_context: dict[str, Any], assignment: Assignment, area_names: dict[str, str]
) -> dict[str, Any]:
    """The round's facts and one agency's part in one case (by reference only)."""
    area_id = assignment.round_case.area_id
    return {
        **round_context,
        "case_ref": assignment.round_case.case.reference,
        "area_name": area_names.get(area_id, area_id),
        "agency_name": assignment.agency.name,
        "due_on": assignment.due_on,
    }


def task(config: BoardConfig, facts: dict[str, Any], assignment: Assignment, link: str) -> Letter:
    """The auditor's task: the case, the dates, the secure link, and a calendar file."""
    auditor = assignment.auditor
    assert auditor is not None
    return Letter(
        template="task",
        context={
            **facts,
            "auditor_name": auditor.name,
            "link": link,
            "audit_tool_name": config.audit_tool.name,
            "sections": [s.title for s in config.audit_tool.sections],
        },
        to=[(auditor.name, auditor.email)],
        reply_to=_unit_address(config),
        calendar=task_calendar(facts),
    )


def task_calendar(facts: dict[str, Any]) -> tuple[CalendarEntry, ...]:
    """The return's deadline and the audit day, as two all-day entries."""
    return (
        CalendarEntry(
            key="due",
            day=facts["due_on"],
            summary=f"Case audit return due: {facts['case_ref']} ({facts['focus_name']})",
            description=(
                f"Submit your audit of case {facts['case_ref']} for {facts['agency_name']}. "
                "The link to the audit is in the task email."
            ),
        ),
        CalendarEntry(
            key="audit-day",
            day=facts["audit_day_on"],
            summary=f"Case audit day: round {facts['round_id']} ({facts['focus_name']})",
            description=f"The multi-agency audit day of round {facts['round_id']}.",
        ),
    )


def nomination(config: BoardConfig, facts: dict[str, Any], assignment: Assignment) -> Letter:
    """The agency lead is asked to nominate an auditor for a slot nobody could take."""
    agency = assignment.agency
    return Letter(
        template="nomination",
        context={**facts, "lead_name": agency.lead_name},
        to=[(agency.lead_name, agency.lead_email)],
        reply_to=_unit_address(config),
    )


def launch_summary(
    config: BoardConfig,
    round_context: dict[str, Any],
    *,
    launched_on: dt.date,
    area_names: list[str],
    due_on: dt.date,
    case_count: int,
    tasks: list[dict[str, str]],
    nominations: list[dict[str, str]],
) -> Letter:
    """The business unit's summary of a launch, once its emails have been tried: whose task
    was delivered, failed or waits for a retry, and which agency leads were asked to nominate.
    Each row's ``state`` is ``delivered``, ``failed`` or ``waiting``."""
    return Letter(
        template="launch_summary",
        context={
            **round_context,
            "launched_on": launched_on,
            "area_names": area_names,
            "due_on": due_on,
            "case_count": case_count,
            "tasks": tasks,
            "nominations": nominations,
            **{
                f"{name}_{state}": [row for row in rows if row["state"] == state]
                for name, rows in (("tasks", tasks), ("nominations", nominations))
                for state in ("delivered", "failed", "waiting")
            },
        },
        to=[_unit_address(config)],
    )


def delivery_alert(config: BoardConfig, failed: dict[str, Any]) -> Letter:
    """The business unit is told that an email could not be delivered."""
    return Letter(
        template="outbox_alert",
        context={
            "board_name": config.board.name,
            "business_unit": business_unit(config),
            "failed": failed,
        },
        to=[_unit_address(config)],
    )


# --- fixing an open round (services.fieldwork) --------------------------------------------


def _case_only(facts: dict[str, Any]) -> dict[str, Any]:
    """The round and the case by reference, agency and focus: nothing more."""
    keys = ("board_name", "business_unit", "round_id", "focus_name", "case_ref", "agency_name")
    return {key: facts[key] for key in keys}


def released(
    config: BoardConfig, facts: dict[str, Any], *, auditor_name: str, auditor_email: str
) -> Letter:
    """The auditor released from a task: which case, and that they need do nothing more."""
    return Letter(
        template="released",
        context={**_case_only(facts), "auditor_name": auditor_name},
        to=[(auditor_name, auditor_email)],
        reply_to=_unit_address(config),
    )


def declined(
    config: BoardConfig,
    facts: dict[str, Any],
    *,
    auditor_name: str,
    reason: str,
    candidates: list[str],
    agency_id: str,
) -> Letter:
    """The business unit is told that an auditor declined, why, and who could take it."""
    return Letter(
        template="declined",
        context={
            **_case_only(facts),
            "area_name": facts["area_name"],
            "due_on": facts["due_on"],
            "auditor_name": auditor_name,
            "reason": reason,
            "candidates": candidates,
            "agency_id": agency_id,
        },
        to=[_unit_address(config)],
    )


def extended(
    config: BoardConfig,
    facts: dict[str, Any],
    *,
    auditor_name: str,
    auditor_email: str,
    previous_due: dt.date,
) -> Letter:
    """The auditor is told their return is now due later (their link is unchanged)."""
    return Letter(
        template="extended",
        context={
            **_case_only(facts),
            "auditor_name": auditor_name,
            "previous_due": previous_due,
            "due_on": facts["due_on"],
            "audit_day_on": facts["audit_day_on"],
        },
        to=[(auditor_name, auditor_email)],
        reply_to=_unit_address(config),
    )


def reopened(
    config: BoardConfig,
    facts: dict[str, Any],
    *,
    auditor_name: str,
    auditor_email: str,
    link: str,
) -> Letter:
    """The auditor is told their submitted return is open again, with a fresh link to it
    (the business unit reopened it during moderation; see ``services.return_review``)."""
    return Letter(
        template="reopened",
        context={
            **_case_only(facts),
            "auditor_name": auditor_name,
            "link": link,
            "audit_day_on": facts["audit_day_on"],
        },
        to=[(auditor_name, auditor_email)],
        reply_to=_unit_address(config),
    )


# --- a round cancelled (services.round_cancel) -----------------------------------------------


def round_cancelled(
    config: BoardConfig,
    facts: dict[str, Any],
    *,
    name: str,
    email: str,
    reason: str,
    role: str,
) -> Letter:
    """Someone who had a part in an open round is told it was cancelled: an auditor with a
    task (``role`` "auditor", or "submitted" if their return was in) or an agency lead asked
    to nominate ("lead"). The case by reference, agency and focus only."""
    keys = ("board_name", "business_unit", "round_id", "focus_name", "case_ref", "agency_name")
    return Letter(
        template="round_cancelled",
        context={**{k: facts[k] for k in keys}, "name": name, "reason": reason, "role": role},
        to=[(name, email)],
        reply_to=_unit_address(config),
    )


def round_cancelled_notice(
    config: BoardConfig,
    round_context: dict[str, Any],
    *,
    reason: str,
    told: list[dict[str, str]],
    links_retired: int,
    returns_in: int,
) -> Letter:
    """The business unit's record of a cancelled round: why, and who was told."""
    return Letter(
        template="round_cancelled_notice",
        context={
            **round_context,
            "reason": reason,
            "told": told,
            "links_retired": links_retired,
            "returns_in": returns_in,
        },
        to=[_unit_address(config)],
    )


# --- chasing late returns (services.chase) ------------------------------------------------


def reminder(
    config: BoardConfig, facts: dict[str, Any], assignment: Assignment, step: Step, days_late: int
) -> Letter:
    """The auditor is reminded of a return not yet in: before its deadline, on the day, or
    once it is late. The link is the one in the task email (only its hash is kept)."""
    auditor = assignment.auditor
    assert auditor is not None
    if step.before_due is None:
        when = "overdue"
    else:
        when = "on_the_day" if step.before_due == 0 else "before"
    return Letter(
        template="reminder",
        context={
            **facts,
            "auditor_name": auditor.name,
            "when": when,
            "before_due": step.before_due,
            "days_late": days_late,
            "issued_on": assignment.issued_at.date() if assignment.issued_at else None,
        },
        to=[(auditor.name, auditor.email)],
        reply_to=_unit_address(config),
    )


def escalation(
    config: BoardConfig, rows: list[dict[str, Any]], *, today: dt.date, level: int
) -> Letter:
    """One email to an agency lead or the business unit manager listing every late return
    it is about today: the case by reference, the agency, who holds it, how late it is."""
    first = rows[0]
    ordered = sorted(rows, key=lambda r: (r["agency_name"], -r["days_late"], r["case_ref"]))
    return Letter(
        template="escalation",
        context={
            "board_name": config.board.name,
            "business_unit": business_unit(config),
            "to_name": first["to_name"],
            "level": level,
            "to_manager": level > 1,
            "today": today,
            "rows": ordered,
            "round_ids": sorted({r["round_id"] for r in rows}),
        },
        to=[(first["to_name"], first["to_email"])],
        reply_to=_unit_address(config),
    )


def digest(
    config: BoardConfig,
    *,
    today: dt.date,
    late: list[dict[str, Any]],
    several_late: list[tuple[str, int]],
    declined: list[dict[str, Any]],
    unfilled: list[dict[str, Any]],
    bounced: list[dict[str, Any]],
    sent_today: dict[str, int],
) -> Letter:
    """The business unit's digest of the day: what is late, declined, unfilled or held."""
    return Letter(
        template="digest",
        context={
            "board_name": config.board.name,
            "business_unit": business_unit(config),
            "today": today,
            "late": late,
            "several_late": several_late,
            "declined": declined,
            "unfilled": unfilled,
            "bounced": bounced,
            "sent_today": sent_today,
        },
        to=[_unit_address(config)],
    )


def bounced(config: BoardConfig, rows: list[dict[str, Any]], answer: str) -> Letter:
    """The business unit is told, once, that an address refuses mail for good: the chase
    sends it nothing more, and these steps of the chase were not sent."""
    first = rows[0]
    return Letter(
        template="bounced",
        context={
            "board_name": config.board.name,
            "business_unit": business_unit(config),
            "to_name": first["to_name"],
            "to_email": first["to_email"],
            "answer": answer,
            "rows": rows,
        },
        to=[_unit_address(config)],
    )


# --- the return form (services.returns) ----------------------------------------------------


def receipt(
    config: BoardConfig,
    facts: dict[str, Any],
    *,
    auditor_name: str,
    auditor_email: str,
    submitted_at: dt.datetime,
) -> Letter:
    """The auditor's receipt for a submitted return: which case, and when it came in."""
    return Letter(
        template="receipt",
        context={
            **_case_only(facts),
            "area_name": facts["area_name"],
            "auditor_name": auditor_name,
            "submitted_at": submitted_at,
            "audit_day_on": facts["audit_day_on"],
        },
        to=[(auditor_name, auditor_email)],
        reply_to=_unit_address(config),
    )


def concern(config: BoardConfig, facts: dict[str, Any], *, auditor_name: str, link: str) -> Letter:
    """The business unit alerted to an immediate safeguarding concern in a return.

    It names the case by reference and links to the return on the dashboard: what the
    auditor wrote stays behind the sign-in.
    """
    return Letter(
        template="concern",
        context={
            **_case_only(facts),
            "area_name": facts["area_name"],
            "auditor_name": auditor_name,
            "link": link,
        },
        to=[_unit_address(config)],
    )
