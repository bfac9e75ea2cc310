"""A real HTTP server for tests: uvicorn serving an ASGI app in a background thread.

The listening socket is bound first (:func:`listening_socket`), so the address is known
before the application is built (the portal's emails carry links that start with it)
and no other process can take the port between choosing and binding it::

    sock = listening_socket()
    with LiveServer(create_app(app), sock) as server:
        httpx.get(f"{server.url}/health")
"""

from __future__ import annotations

import socket
import threading
import time
import urllib.error
import urllib.request
from types import TracebackType
from typing import Any

import uvicorn

LOOPBACK = "127.0.0.1"
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy


def listening_socket(host: str = LOOPBACK) -> socket.socket:
    """A TCP socket bound to a free port on ``host``, listening.

    Made with ``IPPROTO_TCP`` named: asyncio sets ``TCP_NODELAY`` only on connections of such
    a socket, and without it every response written in two parts (headers, then body) waits
    some 40 ms for the client's delayed acknowledgement.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    sock.listen(128)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


class LiveServer:
    """uvicorn over ``asgi`` on ``sock``; started and stopped by ``with`` (or the methods)."""

    def __init__(self, asgi: Any, sock: socket.socket, *, health: str = "/health") -> None:
        self.sock = sock
        self.url = url_of(sock)
        self.health = health
        config = uvicorn.Config(
            asgi, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=5
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, name="live-server", daemon=True
        )

    def start(self, timeout: float = 15.0) -> None:
        """Start serving, and return once ``health`` answers 200 (or raise)."""
        self.thread.start()
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if not self.thread.is_alive():
                raise RuntimeError(f"the server at {self.url} stopped while starting")
            try:
                with _DIRECT.open(self.url + self.health, timeout=2) as answer:
                    if answer.status == 200:
                        return
                    last = f"status {answer.status}"
            except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
                last = str(exc)
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.url}{self.health} did not answer in {timeout:.0f} s ({last})")

    def stop(self) -> None:
        """Ask uvicorn to finish and wait for its thread."""
        self.server.should_exit = True
        if self.thread.ident is not None:
            self.thread.join(timeout=10)
        self.sock.close()

    def __enter__(self) -> LiveServer:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()
