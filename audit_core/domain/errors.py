"""Business exceptions: each carries a sentence a coordinator understands.

The CLI prints ``str(error)`` and exits non-zero; it never shows a traceback
for these. Anything that is not an :class:`AuditRoundError` is a bug.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class AuditRoundError(Exception):
    """An error a user can cause and correct.

    ``missing`` names, in the business's words, the input that would put it right
    ("cases", "area", "replacement"); an entry point may add its own hint (the CLI
    names the option that gives it).
    """

    exit_code = 1

    def __init__(self, message: str = "", *, missing: str | None = None) -> None:
        super().__init__(message)
        self.missing = missing


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is and why it is wrong."""

    file: str
    location: str  # a key path ("agencies[3].lead.email") or "row 12, column area"
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.location}" if self.location else self.file
        return f"{where}: {self.reason}"


class ProblemsError(AuditRoundError):
    """Several problems found at once; nothing was changed."""

    headline = "Problems were found"

    def __init__(self, problems: Sequence[Problem], headline: str | None = None) -> None:
        self.problems = list(problems)
        if headline is not None:
            self.headline = headline
        super().__init__(self.summary())

    def summary(self) -> str:
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [f"{self.headline} ({count} {noun}):"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class ConfigError(ProblemsError):
    headline = "The configuration is not valid"


class ImportRejected(ProblemsError):
    headline = "The case register was not imported; nothing was written"


class NotFound(AuditRoundError):
    """A named thing (round, focus, area, case, message) does not exist."""


class InvalidState(AuditRoundError):
    """The action does not fit the current state (e.g. a round no longer in planning)."""


class ConcurrentChange(InvalidState):
    """Another command changed the same thing first, after this one had read it."""


class PlanningError(AuditRoundError):
    """A round cannot be planned or changed as asked."""


class MailError(AuditRoundError):
    """Mail settings are missing or wrong."""


class SettingError(AuditRoundError):
    """A setting (an environment variable or a global option) is wrong."""


class DatabaseUnavailable(AuditRoundError):
    """The database stayed locked or out of reach longer than the time allowed, or could not
    be used; the sentence says what was done and what was not."""

    exit_code = 2
