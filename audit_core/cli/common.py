"""What every command shares: the clock, the configuration, the database, output."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from audit_core import db
from audit_core.clock import current_time
from audit_core.config import BoardConfig, load_config
from audit_core.errors import AuditRoundError

console = Console()


@dataclass
class State:
    now_text: str | None = None
    config_dir: str | None = None
    database: str | None = None
    actor_name: str | None = None
    _config: BoardConfig | None = field(default=None, repr=False)
    _engine: Engine | None = field(default=None, repr=False)

    def configure(
        self, *, now: str | None, config_dir: str | None, database: str | None, actor: str | None
    ) -> None:
        if now is not None:
            current_time(now)  # a wrong --now is reported before anything runs
        self.now_text, self.config_dir = now, config_dir
        self.database, self.actor_name = database, actor
        self._config = None
        self._engine = None

    @property
    def now(self) -> dt.datetime:
        return current_time(self.now_text)

    @property
    def actor(self) -> str:
        return self.actor_name or f"cli:{_user()}"

    def config(self) -> BoardConfig:
        if self._config is None:
            self._config = load_config(self.config_dir)
        return self._config

    def engine(self, *, migrated: bool = True) -> Engine:
        if self._engine is None:
            self._engine = db.make_engine(self.database)
        if migrated and not db.is_migrated(self._engine):
            raise AuditRoundError(
                "The database has not been set up yet: run 'auditround db upgrade' first."
            )
        return self._engine

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with db.transaction(self.engine()) as session:
            yield session


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "unknown")


STATE = State()


def print_json(data: Any) -> None:
    """Machine-readable output: plain JSON on stdout, nothing else."""
    print(json.dumps(data, indent=2, default=str, sort_keys=False))
