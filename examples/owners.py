"""Simulated owners of actions for the rehearsal: they record progress on their own page.

Each owner finds the newest link to their action page in the emails the local mail server
received for them (the first email when the action was made, or a reminder, which carries
a fresh link and retires the one before), and uses it as a browser would: GET the page,
then POST a note, the status and perhaps evidence. In the rehearsal each owner has one
action, so the newest link in their mail is that action's.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx

from audit_core.adapters.smtp_sink import Received

ACTION_LINK = re.compile(r"https?://\S+?/action/([A-Za-z0-9_-]{43})")


def newest_link(messages: list[Received], address: str) -> str:
    """The token of the newest action link emailed to ``address``."""
    found = None
    for message in messages:
        if address not in message.rcpt_tos:
            continue
        body = message.parsed().get_body(preferencelist=("plain",))
        links = ACTION_LINK.findall(str(body.get_content()) if body is not None else "")
        found = links[-1] if links else found
    if found is None:
        raise RuntimeError(f"no action link was emailed to {address}")
    return found


class Owners:
    """The owners of actions, visiting the portal at ``base`` with the mail of ``messages``."""

    def __init__(self, base: str, messages: Callable[[], list[Received]]) -> None:
        self.messages = messages
        self.http = httpx.Client(base_url=base, follow_redirects=False, timeout=30)

    def record(self, address: str, status: str, note: str, evidence: str = "") -> None:
        """Open the newest link emailed to ``address`` and record an update there."""
        page = f"/action/{newest_link(self.messages(), address)}"
        opened = self.http.get(page)
        if opened.status_code != 200:
            raise RuntimeError(f"the owner's page answered {opened.status_code}")
        fields = {"status": status, "note": note, "evidence": evidence}
        answer = self.http.post(page, data=fields)
        if answer.status_code != 303:
            raise RuntimeError(f"the update of {address} was refused: {answer.text[:300]}")

    def close(self) -> None:
        self.http.close()
