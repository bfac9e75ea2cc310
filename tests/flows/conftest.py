"""One temporary Prefect server for the whole test session (it takes several seconds to start)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.orm import Session

from audit_core.config import BoardConfig
from audit_core.models import CaseFile, CaseInvolvement
from audit_core.reference import sync_reference_data


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
    from prefect.testing.utilities import prefect_test_harness

    try:
        with prefect_test_harness(server_startup_timeout=None):
            yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def add_hackney_cases(
    session: Session, config: BoardConfig, now: dt.datetime
) -> Callable[[tuple[str, ...]], None]:
    """Adds child protection cases HK-0, HK-1, ... (one per age band), each known to three
    agencies, after mirroring the board's reference data."""

    def add(age_bands: tuple[str, ...]) -> None:
        sync_reference_data(session, config, now=now, actor="test")
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
            session.add(case)
        session.flush()

    return add
