"""Alembic environment: runs against the engine handed over by audit_core.adapters.db."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from audit_core.adapters.db import make_engine
from audit_core.domain.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine: Engine = config.attributes.get("engine") or make_engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
