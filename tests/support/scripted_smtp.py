"""A scripted SMTP handler: temporary or permanent refusals and dropped connections on cue."""

from __future__ import annotations

import asyncio
import re
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from audit_core.adapters.smtp_sink import SinkHandler

MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>]+>)", re.MULTILINE | re.IGNORECASE)


def message_id_of(content: bytes) -> str:
    found = MESSAGE_ID.search(content)
    return found.group(1).decode() if found else ""


class ScriptedHandler(SinkHandler):
    """Answers each attempt at a message as scripted, then accepts it.

    ``script`` maps a Message-ID to the answers for its successive attempts at DATA:
    an SMTP reply such as ``"451 4.3.0 try again"`` or ``"550 5.7.1 refused"``, or
    ``"drop"`` to close the connection without answering. ``refuse`` maps a recipient
    address, or ``"@domain"`` for every address there, to the reply given to RCPT for
    it. ``delay`` slows every DATA down.
    ``connections`` counts the connections opened (one EHLO each).
    """

    def __init__(
        self,
        script: Mapping[str, Sequence[str]] | None = None,
        *,
        refuse: Mapping[str, str] | None = None,
        delay: float = 0.0,
    ) -> None:
        super().__init__()
        self.script = dict(script or {})
        self.refuse = dict(refuse or {})
        self.delay = delay
        self.attempts: Counter[str] = Counter()
        self.attempt_lock = threading.Lock()
        self.connections = 0  # EHLO greetings: one per connection

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        with self.attempt_lock:
            self.connections += 1
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        refusal = self.refuse.get(address) or self.refuse.get("@" + address.rpartition("@")[2])
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        message_id = message_id_of(bytes(envelope.original_content))
        with self.attempt_lock:
            attempt = self.attempts[message_id]
            self.attempts[message_id] += 1
        answers = self.script.get(message_id, ())
        if attempt < len(answers):
            answer = answers[attempt]
            if answer == "drop":
                server.transport.abort()
                return "421 4.4.2 connection dropped"
            return answer
        self.accept(envelope)
        return "250 2.0.0 OK: queued"
