"""A small SMTP server on loopback that keeps what it receives (tests, benchmark, demo).

    with smtp_sink.running(save_dir=Path("out/mail")) as sink:
        settings = sink.settings(mail_from="...", public_url="...")
        ...  # dispatch to it; sink.messages holds what arrived

It runs aiosmtpd's threaded ``Controller``. Its ``port=0`` does not work (the
controller probes the port it was given), so a free port is picked first.
Each message is kept in memory and/or written to ``save_dir`` as a numbered
``.eml`` file. ``python -m audit_core.adapters.smtp_sink --save out/mail`` runs one by hand.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import signal
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from audit_core.adapters.settings import SmtpSettings

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Received:
    """One message as the server got it: envelope and bytes."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes

    def parsed(self) -> EmailMessage:
        return BytesParser(policy=policy.default).parsebytes(self.content)

    @property
    def message_id(self) -> str:
        return str(self.parsed()["Message-ID"] or "")


class SinkHandler:
    """Accepts every message; keeps it in memory (``keep``) and/or saves it (``save_dir``).

    Subclasses may override :meth:`handle_DATA` or :meth:`handle_RCPT` to answer
    differently (temporary or permanent refusals, dropped connections).
    """

    def __init__(self, *, save_dir: Path | None = None, keep: bool = True) -> None:
        self.save_dir = save_dir
        self.keep = keep
        self.lock = threading.Lock()
        self.messages: list[Received] = []
        self.count = 0
        if save_dir is not None:
            save_dir.mkdir(parents=True, exist_ok=True)

    def accept(self, envelope: Any) -> None:
        """Record one message (called from the server's thread)."""
        content = bytes(envelope.original_content or b"")
        with self.lock:
            self.count += 1
            number = self.count
            if self.keep:
                self.messages.append(
                    Received(envelope.mail_from, tuple(envelope.rcpt_tos), content)
                )
        if self.save_dir is not None:
            (self.save_dir / f"{number:06d}.eml").write_bytes(content)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.accept(envelope)
        return "250 2.0.0 OK: queued"


def free_port(host: str = LOOPBACK) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class Sink:
    """A running sink: where it listens and what it has received."""

    def __init__(self, handler: SinkHandler, controller: Controller, host: str, port: int) -> None:
        self.handler = handler
        self.controller = controller
        self.host = host
        self.port = port

    @property
    def messages(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.messages)

    @property
    def count(self) -> int:
        with self.handler.lock:
            return self.handler.count

    def clear(self) -> None:
        with self.handler.lock:
            self.handler.messages.clear()
            self.handler.count = 0

    def settings(
        self, base: SmtpSettings | None = None, *, mail_from: str = "", public_url: str = ""
    ) -> SmtpSettings:
        """Mail settings that send here (plain SMTP on loopback, no login)."""
        base = base or SmtpSettings()
        if mail_from:
            base = replace(base, mail_from=mail_from)
        if public_url:
            base = replace(base, public_url=public_url)
        return base.with_server(self.host, self.port, "none")

    def env(self) -> dict[str, str]:
        """Environment variables that point ``auditround`` at this sink."""
        return {
            "AUDITROUND_SMTP_HOST": self.host,
            "AUDITROUND_SMTP_PORT": str(self.port),
            "AUDITROUND_SMTP_SECURITY": "none",
        }

    def stop(self) -> None:
        self.controller.stop()


def start(
    handler: SinkHandler | None = None,
    *,
    save_dir: Path | str | None = None,
    keep: bool = True,
    host: str = LOOPBACK,
    port: int | None = None,
    **server_options: Any,
) -> Sink:
    """Start a sink in a background thread; stop it with :meth:`Sink.stop`.

    ``server_options`` go to aiosmtpd's ``Controller`` (``tls_context`` for STARTTLS,
    ``ssl_context`` for implicit TLS, ...).
    """
    if handler is None:
        handler = SinkHandler(save_dir=Path(save_dir) if save_dir else None, keep=keep)
    for _attempt in range(5):
        chosen = port or free_port(host)
        controller = Controller(
            handler, hostname=host, port=chosen, ready_timeout=10.0, **server_options
        )
        try:
            controller.start()
        except OSError as exc:  # the port was taken between picking and binding
            if port is not None or exc.errno != errno.EADDRINUSE:
                raise
            continue
        return Sink(handler, controller, host, chosen)
    raise RuntimeError("could not find a free port for the SMTP sink")


@contextlib.contextmanager
def running(
    handler: SinkHandler | None = None,
    *,
    save_dir: Path | str | None = None,
    keep: bool = True,
    host: str = LOOPBACK,
    port: int | None = None,
    **server_options: Any,
) -> Iterator[Sink]:
    """A sink for the length of a ``with`` block."""
    sink = start(handler, save_dir=save_dir, keep=keep, host=host, port=port, **server_options)
    try:
        yield sink
    finally:
        sink.stop()


def main() -> None:
    """Run a sink until Ctrl-C or SIGTERM; then print how many messages it received."""
    parser = argparse.ArgumentParser(description="Run a local SMTP sink on loopback.")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--save", default=None, help="folder for the .eml files [default: none]")
    args = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with running(save_dir=args.save, keep=False, port=args.port) as sink:
        where = f", saving to {args.save}" if args.save else ""
        print(f"SMTP sink on {sink.host}:{sink.port}{where}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
        print(f"received {sink.count}", flush=True)


if __name__ == "__main__":
    main()
