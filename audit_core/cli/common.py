"""What every command shares: the application (from the composition root) and output."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rich.console import Console

if TYPE_CHECKING:
    from audit_core.bootstrap import App

console = Console()


class State:
    """The application the global options describe, made when a command first needs it."""

    def __init__(self) -> None:
        self._options: dict[str, str | None] = {}
        self._app: App | None = None

    def configure(self, **options: str | None) -> None:
        """Keep the global options given (``--now``, ``--config``, ``--database``, ``--as``)."""
        self._options = {key: value for key, value in options.items() if value}
        self._app = None
        if "now" in self._options:
            self.app  # noqa: B018 - a wrong --now is reported before anything runs

    @property
    def app(self) -> App:
        if self._app is None:
            from audit_core.bootstrap import App

            self._app = App.from_env(**self._options)
        return self._app


STATE = State()


def print_json(data: Any) -> None:
    """Machine-readable output: plain JSON on stdout, nothing else."""
    print(json.dumps(data, indent=2, default=str, sort_keys=False))


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """'1 case', '2 cases' ('1 agency lead', '3 agency leads'; an irregular plural as given)."""
    return f"{count} {noun if count == 1 else (nouns or noun + 's')}"
