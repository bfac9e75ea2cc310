"""Statements compiled once and run straight on the driver's cursor, for hot loops.

SQLAlchemy spends a few tens of microseconds on each execution of a Core
statement (finding its compiled form, setting up parameter and result
processing, wrapping the cursor in a result). A loop that runs the same few
statements thousands of times, like the outbox dispatcher, can compile them
once for its database and hand the values to the driver itself.

The values still pass through the columns' own type converters, the same ones
SQLAlchemy uses (aware datetimes to naive UTC, and on SQLite to its text form;
JSON to text; JSON text back to lists and dicts), so what is stored and read is
exactly what the ORM stores and reads.

Run them only inside a transaction begun on the SQLAlchemy connection
(``with conn.begin():``), which commits or rolls back as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.selectable import Select

Convert = Callable[[Any], Any]


class Precompiled:
    """One Core statement (``select``, ``insert``, ``update``), compiled for one dialect.

    Its parameters are the named ``bindparam`` of the statement; literal values in
    the statement are filled in once, here.
    """

    def __init__(self, statement: Select[Any] | UpdateBase, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if compiled.escaped_bind_names:
            raise ValueError("bind parameter names must be plain identifiers")
        self.sql = compiled.string
        self._order = compiled.positiontup  # for positional paramstyles (SQLite's "?")
        self._convert: dict[str, Convert] = {}
        self._fixed: dict[str, Any] = {}
        for bind, name in compiled.bind_names.items():
            convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if bind.required:
                if convert is not None:
                    self._convert[name] = convert
            else:
                value = bind.effective_value
                self._fixed[name] = value if convert is None else convert(value)
        self._results: list[Convert | None] = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in statement.exported_columns
        ]

    def _parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        params = dict(self._fixed)
        for name, value in values.items():
            convert = self._convert.get(name)
            params[name] = value if convert is None else convert(value)
        if self._order is None:
            return params
        return [params[name] for name in self._order]

    def run(self, cursor: DBAPICursor, values: Mapping[str, Any]) -> int:
        """Execute; return the number of rows changed (for UPDATE and INSERT)."""
        cursor.execute(self.sql, self._parameters(values))
        return cursor.rowcount

    def one_or_none(self, cursor: DBAPICursor, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """Execute a statement that returns at most one row (``SELECT``, ``RETURNING``)."""
        cursor.execute(self.sql, self._parameters(values))
        rows = cursor.fetchall()  # to the end, so that the statement is finished
        if not rows:
            return None
        if len(rows) > 1:
            raise ValueError(f"expected at most one row, got {len(rows)}")
        (row,) = rows
        return tuple(
            value if convert is None else convert(value)
            for value, convert in zip(row, self._results, strict=True)
        )


def driver_cursor(conn: Connection) -> DBAPICursor:
    """A cursor of the driver's own connection under ``conn`` (close it when done)."""
    return conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
