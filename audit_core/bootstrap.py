"""The composition root: settings become the engine, the configuration, the clock and the actor.

Every entry point (the CLI, the flows, and later the portal and the scheduler)
starts here::

    app = bootstrap.App()            # settings from the environment
    with app.unit_of_work() as uow:  # one transaction, committed on success
        plan_round(uow, ...)

:class:`App` is the one place that knows which adapter serves which need: it
opens the database, reads the configuration, gives the use cases a composer
for their email, and runs the dispatcher with the SMTP transport. It also holds
the few sequences every entry point shares, such as "launch, then dispatch".
Every part (the database, the mail stack, the migrations, the register reader)
is imported when first used, so ``auditround --help`` and light commands start
at once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from zoneinfo import ZoneInfo

from audit_core.adapters.clock import current_time
from audit_core.adapters.settings import Settings, SmtpSettings, login_name, mail_from_env
from audit_core.domain.errors import AuditRoundError, ConcurrentChange

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from audit_core.adapters.dispatcher import Claimed, DispatchResult
    from audit_core.adapters.smtp_transport import Transport
    from audit_core.domain.actions import ActionView
    from audit_core.domain.briefing_scope import Scope
    from audit_core.domain.moderation import Sheet
    from audit_core.domain.policy import BoardConfig
    from audit_core.domain.trail import TrailCheck
    from audit_core.domain.year_report import YearReport
    from audit_core.services.action_follow_up import FollowUpReport
    from audit_core.services.briefings import IssuedBriefing
    from audit_core.services.chase import ChaseReport
    from audit_core.services.launch import LaunchResult
    from audit_core.services.moderation import AuditDayResult
    from audit_core.services.ports import BriefingRenderer, Mail, Passwords
    from audit_core.services.register_import import ImportResult
    from audit_core.services.round_cancel import CancelResult
    from audit_core.services.unit_of_work import UnitOfWork

DISPATCHER = "dispatcher"
_T = TypeVar("_T")


class App:
    """One process's wiring. Parts not given are made from ``settings`` when first needed."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        config: BoardConfig | None = None,
        engine: Engine | None = None,
        smtp: SmtpSettings | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.settings = settings if settings is not None else Settings()
        self._config, self._engine, self._smtp = config, engine, smtp
        self._installation: str | None = None
        self._migrated = False
        self._passwords: Passwords | None = None
        self._portal_key: bytes | None = None
        if clock is None:
            current_time(self.settings.now)  # a wrong --now is reported before anything runs
        self._clock = clock or (lambda: current_time(self.settings.now))

    @classmethod
    def from_env(cls, **overrides: str | None) -> App:
        """The application the environment describes; options given here win over it
        (``config``, ``database_url``, ``now``, ``actor``)."""
        given = {key: value for key, value in overrides.items() if value}
        return cls(Settings.model_validate(given) if given else Settings())

    # --- the parts ---------------------------------------------------------------------

    @property
    def now(self) -> dt.datetime:
        return self._clock()

    @property
    def actor(self) -> str:
        return self.settings.actor or f"cli:{login_name()}"

    def config(self) -> BoardConfig:
        if self._config is None:
            from audit_core.adapters.config import load_config

            self._config = load_config(self.settings.config)
        return self._config

    def engine(self, *, migrated: bool = True) -> Engine:
        from audit_core.adapters import db

        if self._engine is None:
            self._engine = db.make_engine(
                self.settings.database_url, retry_seconds=self.settings.database_retry_seconds
            )
        if migrated and not self._migrated:
            if not db.is_migrated(self._engine):
                raise AuditRoundError(
                    "The database has not been set up yet: run 'auditround db upgrade' first."
                )
            self._migrated = True  # checked once: a long-running process asks no more
        return self._engine

    def smtp(self) -> SmtpSettings:
        """The mail settings (read from the environment the first time)."""
        if self._smtp is None:
            self._smtp = mail_from_env()
        return self._smtp

    def mail(self, *, links: bool = True) -> Mail:
        """What the use cases need to write email: refused unless a sender is set, and (for
        email with secure links) the public address the links start with."""
        from audit_core.adapters.mail_render import EmailComposer
        from audit_core.services.ports import Mail

        smtp = self.smtp()
        if links:
            smtp.check_composing()
        else:
            smtp.check_sender()
        zone = ZoneInfo(self.config().board.timezone)  # the Date header is the board's time
        composer = EmailComposer(installation=self.installation(), zone=zone)
        return Mail(composer, smtp.mail_from, smtp.public_url)

    def installation(self) -> str:
        """This installation's id (made with the database), read once."""
        if self._installation is None:
            from audit_core.adapters import db

            self._installation = db.installation_id(self.engine())
        return self._installation

    def passwords(self) -> Passwords:
        """Password hashing for the dashboard's users (Argon2id)."""
        if self._passwords is None:
            from audit_core.adapters.passwords import Argon2Passwords

            self._passwords = Argon2Passwords()
        return self._passwords

    def briefing_renderer(self) -> BriefingRenderer:
        """What turns a briefing's content into its HTML page and PDF, in the board's
        branding (the logo read from the configuration folder)."""
        from audit_core.adapters.briefing_render import WeasyPrintRenderer

        return WeasyPrintRenderer(self.config(), self.settings.config)

    def portal_key(self) -> bytes:
        """The key that signs the portal's sign-in form: ``AUDITROUND_PORTAL_SECRET``, else a
        random key kept for this process's life (a form opened before a restart is refused)."""
        if self._portal_key is None:
            import secrets

            given = self.settings.portal_secret.get_secret_value()
            self._portal_key = given.encode() if given else secrets.token_bytes(32)
        return self._portal_key

    @contextmanager
    def unit_of_work(self, *, mail: bool = False, actor: str | None = None) -> Iterator[UnitOfWork]:
        """One transaction for one use case: committed if it returns, rolled back if it raises."""
        from audit_core.adapters import db
        from audit_core.services.unit_of_work import UnitOfWork

        config, outgoing = self.config(), self.mail() if mail else None
        with db.transaction(self.engine()) as session:
            yield UnitOfWork(session, config, self.now, actor or self.actor, outgoing)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    # --- what every entry point does the same way -----------------------------------------

    def upgrade_database(self) -> str | None:
        """Create the database or apply new migrations, as the owner of the tables; the
        schema revision after."""
        from audit_core.adapters import db

        with self._as_owner() as engine:
            db.upgrade(engine)
            return db.current_revision(engine)

    def grant_application_role(self, role: str, *, dry_run: bool = False) -> list[str]:
        """Give a PostgreSQL role the application's privileges (as the owner); the SQL."""
        from audit_core.adapters import db_roles

        with self._as_owner() as engine:
            return db_roles.grant_application_role(engine, role, dry_run=dry_run)

    @contextmanager
    def _as_owner(self) -> Iterator[Engine]:
        """The engine of the tables' owner (``AUDITROUND_MIGRATION_DATABASE_URL``), else the
        application's own."""
        from audit_core.adapters import db_roles

        engine = self.engine(migrated=False)
        if not self.settings.migration_database_url:
            yield engine
            return
        owner = db_roles.owner_engine(self.settings.migration_database_url, engine)
        try:
            yield owner
        finally:
            owner.dispose()

    def verify_trail(self, noted: tuple[int, str] | None = None) -> TrailCheck:
        """Check the audit trail: every event as written, in its place, none missing (and the
        event at a place ``noted`` earlier still with the hash noted)."""
        from audit_core.adapters import db
        from audit_core.services.audit_verify import verify_trail

        with db.transaction(self.engine()) as session:
            return verify_trail(session, noted)

    def database_revision(self) -> str | None:
        from audit_core.adapters import db

        return db.current_revision(self.engine(migrated=False))

    def database_label(self) -> str:
        return self.engine(migrated=False).url.render_as_string(hide_password=True)

    def import_register(self, path: Path | str) -> ImportResult:
        """Read and check a register file, then import it in one transaction (all or nothing)."""
        from audit_core.adapters.register_file import collector_paused, read_register
        from audit_core.services.register_import import import_register

        with collector_paused():
            parsed = read_register(path, self.config(), now=self.now)
            with self.unit_of_work() as uow:
                return import_register(uow, parsed)

    def audit_day_sheet(self, round_id: str, path: Path | str, *, force: bool = False) -> Sheet:
        """Write the sheet a round's audit day starts from to a YAML file (refusing one that
        exists unless ``force``): the round collated, merged with what is recorded."""
        from audit_core.adapters.moderation_file import check_writable, write_sheet
        from audit_core.services.moderation import start_sheet

        check_writable(path, force=force)  # before the collation is made and recorded
        with self.unit_of_work() as uow:
            sheet = start_sheet(uow, round_id)
        when = self.now.astimezone(ZoneInfo(self.config().board.timezone))
        note = f"Written {when:%d/%m/%Y at %H:%M} by {self.actor}."
        write_sheet(path, sheet, self.config(), force=force, note=note)
        return sheet

    def record_audit_day(self, round_id: str, path: Path | str) -> AuditDayResult:
        """Read an audit day's YAML file whole, then record it in one transaction; each
        problem names the file, the key path with its line, and the reason."""
        from audit_core.adapters.moderation_file import located, read_sheet
        from audit_core.domain.errors import ProblemsError
        from audit_core.services.moderation import record_audit_day

        sheet = read_sheet(path)
        try:
            with self.unit_of_work() as uow:
                return record_audit_day(uow, round_id, sheet)
        except ProblemsError as exc:
            raise located(path, exc) from None

    def dispatch(
        self,
        *,
        limit: int | None = None,
        transport: Transport | None = None,
        worker: str | None = None,
    ) -> DispatchResult:
        """Send what is due in the outbox; a message refused for good alerts the business unit."""
        from audit_core.adapters.dispatcher import dispatch
        from audit_core.adapters.smtp_transport import SmtpTransport

        owned = transport is None
        # the notice of a message given up on needs a sender; every missing setting is named
        self.smtp().check(sending=owned, links=False)
        if transport is None:
            transport = SmtpTransport(self.smtp())
        try:
            return dispatch(
                self.engine(),
                transport,
                policy=self.config().board.outbox,
                clock=self._clock,
                on_failure=self._report_failure,
                worker=worker,
                limit=limit,
            )
        finally:
            if owned:
                transport.close()

    def _report_failure(
        self, session: Session, claimed: Claimed, error: str, now: dt.datetime
    ) -> bool:
        from audit_core.services.outbox import Undelivered, report_failure
        from audit_core.services.unit_of_work import UnitOfWork

        uow = UnitOfWork(session, self.config(), now, DISPATCHER, self.mail(links=False))
        failed = Undelivered(
            claimed.id,
            claimed.kind,
            claimed.recipients,
            claimed.subject,
            claimed.attempts,
            error,
            claimed.round_id,
        )
        return report_failure(uow, failed)

    def launch(
        self, round_id: str, *, early: bool = False, actor: str | None = None
    ) -> tuple[LaunchResult, DispatchResult]:
        """Open the round and queue its emails in one transaction, then send them; then queue
        the business unit's summary of what was delivered and send it too.

        If the mail server could not be reached, the summary waits: launching again (safe)
        sends what is waiting, then the summary. The dispatch result covers both sends.
        """
        from audit_core.services.launch import launch_round, send_launch_summary

        self.smtp().check(sending=True, links=True)  # every missing setting named at once

        def open_and_queue() -> LaunchResult:
            with self.unit_of_work(mail=True, actor=actor) as uow:
                return launch_round(uow, round_id, early=early)  # early: before its day

        try:
            launched = open_and_queue()
        except ConcurrentChange:  # another launch opened it just now: this one finds it open
            launched = open_and_queue()
        sent = self.dispatch()
        if sent.stopped:
            launched.summary_deferred = f"the mail server could not be reached ({sent.stopped})"
            return launched, sent
        with self.unit_of_work(mail=True, actor=actor) as uow:
            launched.add_summary(send_launch_summary(uow, launched.round_id))
        return launched, _added(sent, self.dispatch())

    def change_then_send(
        self, change: Callable[[UnitOfWork], _T], *, actor: str | None = None
    ) -> tuple[_T, DispatchResult]:
        """Run a use case that queues email (a fix to an open round) in one transaction, then
        send what is due. Nothing changes unless the mail could be written and sent."""
        self.smtp().check(sending=True, links=True)
        with self.unit_of_work(mail=True, actor=actor) as uow:
            result = change(uow)
        return result, self.dispatch()

    def add_action(
        self,
        *,
        lesson_id: int,
        text: str,
        measure: str,
        owner: str | tuple[str, str, str],
        due_on: dt.date | None = None,
        actor: str | None = None,
    ) -> tuple[ActionView, DispatchResult]:
        """Make an action from a lesson and queue its owner's secure link in one
        transaction, then send what is due."""
        from audit_core.services import actions
        from audit_core.services.action_links import send_link

        def add_and_send(uow: UnitOfWork) -> ActionView:
            added = actions.add(
                uow, lesson_id=lesson_id, text=text, measure=measure, owner=owner, due_on=due_on
            )
            send_link(uow, added.id)
            return actions.show(uow, added.id)

        return self.change_then_send(add_and_send, actor=actor)

    def chase(self) -> tuple[ChaseReport, DispatchResult]:
        """Take the chase steps due now, then send what is due."""
        from audit_core.services.chase import sweep

        return self.change_then_send(sweep)

    def chase_preview(self) -> ChaseReport:
        """What the chase would take now: nothing is written, nothing sent."""
        from audit_core.services.chase import sweep

        return self.preview(lambda uow: sweep(uow, dry_run=True))

    def follow_up(self) -> tuple[FollowUpReport, DispatchResult]:
        """Take the follow-up steps of the actions due now, then send what is due."""
        from audit_core.services.action_follow_up import follow_up

        return self.change_then_send(follow_up)

    def follow_up_preview(self) -> FollowUpReport:
        """What the follow-up of actions would take now: nothing is written, nothing sent."""
        from audit_core.services.action_follow_up import follow_up

        return self.preview(lambda uow: follow_up(uow, dry_run=True))

    def preview(self, look: Callable[[UnitOfWork], _T]) -> _T:
        """Run a use case's dry run in a transaction that is rolled back: a look only."""
        with self.unit_of_work() as uow:
            result = look(uow)
            uow.session.rollback()
        return result

    def launch_due_rounds(self) -> list[tuple[str, LaunchResult, DispatchResult]]:
        """Launch each round whose launch moment has come, and finish each launch whose
        summary is still to send (see ``services.launch.rounds_to_launch``)."""
        from audit_core.services.launch import rounds_to_launch

        with self.unit_of_work() as uow:
            due = rounds_to_launch(uow)
        return [(round_id, *self.launch(round_id)) for round_id in due]

    @contextmanager
    def scheduler_lock(self) -> Iterator[str]:
        """Hold this database's one scheduler lock (or refuse, naming its holder)."""
        from audit_core.adapters import scheduler_lock

        holder = scheduler_lock.holder_name(
            self.now.astimezone(ZoneInfo(self.config().board.timezone))
        )
        with scheduler_lock.hold(self.engine(), holder):
            yield holder

    def cancel_round(
        self, round_id: str, reason: str, *, actor: str | None = None
    ) -> tuple[CancelResult, DispatchResult | None]:
        """Cancel a round in one transaction; if it was open, send the notices at once.

        A planned round needs no mail settings: nobody has been told anything yet.
        """
        from audit_core.services.round_cancel import cancel_round, tells_people

        with self.unit_of_work(actor=actor) as uow:
            if tells_people(uow, round_id):
                self.smtp().check_sending()
                uow.mail = self.mail(links=False)  # the notices carry no link
            cancelled = cancel_round(uow, round_id, reason)
        return cancelled, self.dispatch() if cancelled.message_ids else None

    def write_due(self, directory: Path, *, limit: int | None = None) -> list[Path]:
        """A dry run: write each message that is due to ``<id>-<kind>.eml``; change nothing."""
        from audit_core.adapters import db
        from audit_core.services.outbox import due_messages

        with db.transaction(self.engine()) as session:
            due = due_messages(session, now=self.now, limit=limit)
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for message in due:
            path = directory / f"{message.id:06d}-{message.kind}.eml"
            path.write_bytes(message.raw)
            written.append(path)
        return written

    def year_report(
        self, year: str, area_id: str | None, out: Path
    ) -> tuple[YearReport, list[Path]]:
        """The board year's report (the reading recorded) written to ``out`` as HTML and
        PDF, each file whole or not at all; nothing is recorded if it cannot be rendered."""
        from audit_core.adapters.report_render import YearReportRenderer
        from audit_core.domain.year_report import out_stem
        from audit_core.services.year_report import year_report

        _writable_folder(out)
        renderer = YearReportRenderer(self.config(), self.settings.config)
        with self.unit_of_work() as uow:
            report = year_report(uow, year, area_id)
            rendered = renderer.render(report)
        stem = out_stem(report.year, area_id)
        try:
            written = [
                _write_whole(out / f"{stem}.html", rendered.html.encode()),
                _write_whole(out / f"{stem}.pdf", rendered.pdf),
            ]
        except OSError as exc:
            raise AuditRoundError(
                f"The year's report could not be written to {out} ({exc.strerror or exc})."
            ) from None
        return report, written

    def issue_briefing(
        self, area_id: str, scope: Scope, out: Path, *, actor: str | None = None
    ) -> tuple[IssuedBriefing, list[Path], DispatchResult]:
        """Issue a briefing's approved version in one transaction, write its files to ``out``
        (each whole or not at all), then send its email; issued already, it sends nothing
        new and writes the files again."""
        from audit_core.services.briefings import issue

        self.smtp().check(sending=True, links=False)  # the email carries no secure link
        _writable_folder(out)  # before anything is issued
        renderer = self.briefing_renderer()
        with self.unit_of_work(actor=actor) as uow:
            uow.mail = self.mail(links=False)
            issued = issue(uow, area_id, scope, renderer)
        try:
            written = [_write_whole(out / name, data) for name, data in issued.files()]
        except OSError as exc:
            raise AuditRoundError(
                f"The briefing is issued, but its files could not be written to {out} "
                f"({exc.strerror or exc}); its email waits in the outbox: issue it again to "
                "write them and send it."
            ) from None
        return issued, written, self.dispatch()


def _writable_folder(folder: Path) -> None:
    """Make the folder if need be; refuse one that cannot be made or written to."""
    import os

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AuditRoundError(
            f"The folder {folder} cannot be made ({exc.strerror or exc}); nothing was done."
        ) from None
    if not os.access(folder, os.W_OK):
        raise AuditRoundError(f"The folder {folder} cannot be written to; nothing was done.")


def _write_whole(path: Path, data: bytes) -> Path:
    """Write the file whole or not at all (a part file renamed into place)."""
    temporary = path.with_name(f".{path.name}.part")
    try:
        temporary.write_bytes(data)
        return temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


def _added(first: DispatchResult, second: DispatchResult) -> DispatchResult:
    """Two dispatch runs counted as one (the second's reason to stop, if it stopped)."""
    counts = {
        f.name: getattr(first, f.name) + getattr(second, f.name)
        for f in dataclasses.fields(first)
        if f.name != "stopped"
    }
    return dataclasses.replace(first, **counts, stopped=second.stopped or first.stopped)


def portal_templates() -> Path:
    """The folder of the portal's templates and static files (``templates/portal``)."""
    from audit_core.adapters.templates import TEMPLATES

    return TEMPLATES / "portal"


def progress_workbook(title: str, rows: list[list[str]]) -> bytes:
    """A table of text (headings first) as an Excel workbook's bytes: every cell a string."""
    from audit_core.adapters.progress_export import workbook

    return workbook(title, rows)
