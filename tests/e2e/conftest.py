"""One temporary Prefect server for the whole test session (it takes several seconds to start),
and the environment that points the CLI and the flows at a test's sink."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator

import pytest
from support import MAIL_FROM, PUBLIC_URL

from audit_core.adapters.smtp_sink import Sink
from audit_core.domain.models import CaseFile, CaseInvolvement
from audit_core.services.reference import sync_reference_data
from audit_core.services.unit_of_work import UnitOfWork


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Run flows against a throwaway Prefect server with its own home folder."""
    settings = {
        "PREFECT_HOME": str(tmp_path_factory.mktemp("prefect-home")),
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    saved = {key: os.environ.get(key) for key in settings}
    os.environ.update(settings)
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    try:
        # no heartbeats (they find a dead worker's runs): each run would wait up to a second
        with (
            prefect_test_harness(server_startup_timeout=None),
            temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
        ):
            yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def add_hackney_cases(
    make_uow: Callable[..., UnitOfWork], now: dt.datetime
) -> Callable[[tuple[str, ...]], None]:
    """Adds child protection cases HK-0, HK-1, ... (one per age band), each known to three
    agencies, after mirroring the board's reference data."""

    def add(age_bands: tuple[str, ...]) -> None:
        uow = make_uow(actor="test")
        sync_reference_data(uow)
        for n, band in enumerate(age_bands):
            case = CaseFile(
                area_id="hackney",
                reference=f"HK-{n}",
                category="child_protection",
                age_band=band,
                flags=["domestic_abuse"],
                last_activity_on=dt.date(2026, 2, 2),
                created_at=now,
                updated_at=now,
            )
            case.involvements = [
                CaseInvolvement(agency_id=a) for a in ("hackney-csc", "met-police", "gp")
            ]
            uow.session.add(case)
        uow.session.flush()

    return add


@pytest.fixture
def smtp_env(monkeypatch: pytest.MonkeyPatch, cli_env: str, sink: Sink) -> Sink:
    """The CLI and the flows read their mail settings from the environment: point them at
    the sink, with a sender and a public address."""
    for name, value in sink.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AUDITROUND_MAIL_FROM", MAIL_FROM)
    monkeypatch.setenv("AUDITROUND_PUBLIC_URL", PUBLIC_URL)
    return sink
