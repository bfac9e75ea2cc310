"""The portal's defences that sit around every route: security headers and rate limits.

- :class:`SecurityHeaders` adds to every response a Content Security Policy with no
  inline script (the pages have no script at all), ``X-Frame-Options: DENY``,
  ``Referrer-Policy: no-referrer`` (a policy link followed from a return page never
  carries the token in a Referer header), ``X-Content-Type-Options: nosniff`` and
  ``Cache-Control: no-store`` (a shared computer's back button shows no return).
- :class:`Throttle` counts failures per client with the ``limits`` library (a moving
  window in memory): wrong tokens, wrong passwords. A client over its limit gets 429
  before its request is looked at.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    """ASGI middleware: the headers above on every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in HEADERS if n not in names]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


class Throttle:
    """At most ``rate`` failures (e.g. ``"20/minute"``) per client and purpose."""

    def __init__(self, rate: str) -> None:
        self.item: RateLimitItem = parse(rate)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def blocked(self, purpose: str, client: str) -> bool:
        """Whether the client has used up its failures for this purpose."""
        return not self.limiter.test(self.item, purpose, client)

    def failed(self, purpose: str, client: str) -> None:
        """Count one failure of the client."""
        self.limiter.hit(self.item, purpose, client)
