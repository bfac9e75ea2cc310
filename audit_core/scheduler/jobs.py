"""The scheduler's jobs. APScheduler stores each by reference (``module:function``), so
each is a plain function that makes its own composition root and calls one method of it.

Every body is idempotent (dedupe keys, state checks), so running one twice, late, or
after a crash sends nothing twice: correctness never depends on the scheduler.
A job that fails logs one line and waits for its next run; the scheduler goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from audit_core.bootstrap import App
from audit_core.domain.errors import AuditRoundError

log = logging.getLogger("auditround.scheduler")


def _run(name: str, body: Callable[[App], str]) -> None:
    app = App.from_env(actor=f"scheduler:{name}")
    try:
        log.info("%s: %s", name, body(app))
    except AuditRoundError as exc:
        log.error("%s did not run: %s", name, exc)
    finally:
        app.close()


def _dispatch(app: App) -> str:
    result = app.dispatch()
    if result.stopped:
        return f"the mail server could not be reached ({result.stopped}); the outbox waits"
    return f"sent {result.sent}, to retry {result.retrying}, failed {result.failed}"


def _chase(app: App) -> str:
    report, sent = app.chase()
    if report.not_working:
        return f"{report.today} is {report.not_working}: nobody chased"
    return (
        f"{len(report.reminders)} reminder(s), {len(report.escalations)} escalated "
        f"return(s); sent {sent.sent}, failed {sent.failed}"
    )


def _launch(app: App) -> str:
    launched = app.launch_due_rounds()
    if not launched:
        return "no round to launch"
    return "; ".join(
        f"{round_id}: {result.tasks_queued} task(s) queued, sent {sent.sent}"
        for round_id, result, sent in launched
    )


def dispatch_outbox() -> None:
    _run("dispatch-outbox", _dispatch)


def chase_returns() -> None:
    _run("chase-returns", _chase)


def launch_rounds() -> None:
    _run("launch-rounds", _launch)


def follow_up_actions() -> None:
    _run("follow-up-actions", _follow_up)


def _follow_up(app: App) -> str:
    report, sent = app.follow_up()
    if report.not_working:
        return f"{report.today} is {report.not_working}: no action followed up"
    digest = ", the weekly digest" if report.digest_sent else ""
    return (
        f"{len(report.reminders)} reminder(s), {len(report.escalations)} escalation(s)"
        f"{digest}; sent {sent.sent}, failed {sent.failed}"
    )


def purge_expired_returns() -> None:
    _run("purge-expired-returns", _purge)


def _purge(app: App) -> str:
    from audit_core.services.retention import purge_expired

    with app.unit_of_work() as uow:
        report = purge_expired(uow)
    if not report.purged:
        return "nothing past its retention"
    totals = report.totals()
    rounds = ", ".join(r.round_id for r in report.purged)
    return f"{rounds}: {totals['returns']} return(s) and {totals['messages']} email(s) purged"
