"""The scale-out deployment as real processes, for ``tests/e2e/test_scale_out.py``.

- :func:`prefect_server`: ``prefect server start`` on a free loopback port, on a
  PostgreSQL database made for it (with ``pg_trgm``, as Prefect needs) and dropped
  after it, with a ``PREFECT_HOME`` of its own.
- :class:`Workers`: ``prefect worker start --pool NAME --type process`` (taking runs
  from one work queue of the pool), each in a session of its own. A process worker
  starts each flow run in a session of its own too, so :meth:`Workers.kill` ends the
  worker's process group and then those of the flow runs it started, with SIGKILL, as
  a machine that loses power would.
- :class:`HoldingHandler`: an SMTP handler that, once told to, holds one message in
  the middle of its transfer and never accepts it, so that a test can kill the
  sender while that message is in flight.

Every process is ended by its id, in finalizers that run when a test fails too; the
failure messages carry the tail of the server's and the workers' logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, make_url, text

from audit_core.adapters.smtp_sink import LOOPBACK, free_port
from support.databases import empty_database
from support.scripted_smtp import ScriptedHandler, message_id_of

PREFECT = Path(sys.executable).parent / "prefect"
STARTUP_SECONDS = 120  # generous: the server migrates its database as it starts


def tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` of a log file, headed by its name."""
    try:
        said = path.read_text(errors="replace").splitlines()[-lines:]
    except FileNotFoundError:
        said = ["(no log yet)"]
    return "\n".join([f"--- {path.name} (last {lines} lines)", *said])


def prefect_env(home: Path, api_url: str) -> dict[str, str]:
    """This process's environment without its own Prefect or application settings, pointed
    at the test's server and home folder."""
    kept = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("PREFECT_", "AUDITROUND_"))
    }
    return {
        **kept,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": api_url,
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }


def _start(
    args: list[str], env: Mapping[str, str], log: Path, cwd: Path
) -> subprocess.Popen[bytes]:
    """Start ``args`` as the leader of a new session (its process group is its id)."""
    with log.open("ab") as out:
        return subprocess.Popen(
            args,
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _state(pid: int) -> str | None:
    """The process's state letter from ``/proc`` (``Z`` for a zombie), or None once gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat.rpartition(")")[2].split()[0]


def is_dead(pid: int) -> bool:
    """Gone, or a zombie nobody has reaped yet: either way it runs no more."""
    return _state(pid) in (None, "Z")


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (children, their children, ...), from ``/proc``."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def wait_until(
    condition: Callable[[], bool], seconds: float, what: str, logs: Callable[[], str] | None = None
) -> None:
    """Poll ``condition`` until it holds; else fail, saying what was awaited, with the logs."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {seconds:.0f} s\n{logs() if logs else ''}")
        time.sleep(0.1)


@dataclass
class Server:
    """A running Prefect server: its API, its home folder and its log."""

    api_url: str
    home: Path
    log: Path
    process: subprocess.Popen[bytes]

    def env(self) -> dict[str, str]:
        return prefect_env(self.home, self.api_url)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return bool(answer.status == 200 and answer.read().strip() == b"true")
    except OSError:
        return False


@contextlib.contextmanager
def prefect_server(pg_url: str, folder: Path) -> Iterator[Server]:
    """``prefect server start`` on a PostgreSQL database of its own; stopped and dropped after."""
    with empty_database(pg_url) as url:
        admin = create_engine(url)
        with admin.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        admin.dispose()
        port = free_port(LOOPBACK)
        api_url = f"http://{LOOPBACK}:{port}/api"
        home = folder / "prefect-home"
        home.mkdir(parents=True, exist_ok=True)
        env = {
            **prefect_env(home, api_url),
            "PREFECT_SERVER_DATABASE_CONNECTION_URL": make_url(url)
            .set(drivername="postgresql+asyncpg")
            .render_as_string(hide_password=False),
            "PREFECT_UI_ENABLED": "false",  # the API is what is tested; the UI only slows start
        }
        log = folder / "prefect-server.log"
        args = [str(PREFECT), "server", "start", "--host", LOOPBACK, "--port", str(port)]
        server = Server(api_url, home, log, _start(args, env, log, folder))
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while not _healthy(f"{api_url}/health"):
                if server.process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the Prefect server did not answer {api_url}/health\n{tail(log)}")
                time.sleep(0.2)
            yield server
        finally:
            _kill_group(server.process.pid)
            server.process.wait(timeout=30)


@dataclass
class Worker:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    flow_runs: list[int] = field(default_factory=list)  # process ids, each its own session


class Workers:
    """Process workers of one queue of a pool, with the application's environment; all ended
    at :meth:`close`."""

    def __init__(
        self, server: Server, pool: str, queue: str, app_env: Mapping[str, str], folder: Path
    ) -> None:
        self.server, self.folder = server, folder
        self.args = ["worker", "start", "--pool", pool, "--work-queue", queue, "--type", "process"]
        self.env = {
            **server.env(),
            **app_env,
            "PREFECT_WORKER_QUERY_SECONDS": "1",  # pick a run up within a second, not ten
        }
        self.started: list[Worker] = []

    def start(self, name: str) -> Worker:
        log = self.folder / f"worker-{name}.log"
        args = [str(PREFECT), *self.args, "--name", name]
        worker = Worker(name, _start(args, self.env, log, self.folder), log)
        self.started.append(worker)
        return worker

    def kill(self, worker: Worker) -> None:
        """SIGKILL the worker's process group, then each flow run's (a session of its own),
        and wait until none of them runs."""
        below = descendants(worker.process.pid)
        worker.flow_runs += [pid for pid in below if _session_of(pid) == pid]
        _kill_group(worker.process.pid)
        for pid in worker.flow_runs:
            _kill_group(pid)
        worker.process.wait(timeout=30)
        wait_until(
            lambda: all(is_dead(pid) for pid in below),
            30,
            f"the processes of worker {worker.name} still run after SIGKILL",
            self.logs,
        )

    def logs(self) -> str:
        return "\n".join([tail(self.server.log), *(tail(w.log) for w in self.started)])

    def close(self) -> None:
        for worker in self.started:
            if worker.process.poll() is None:
                self.kill(worker)
            for pid in worker.flow_runs:
                _kill_group(pid)


def _session_of(pid: int) -> int | None:
    """The session ``pid`` leads or belongs to; None if it is gone meanwhile."""
    try:
        return os.getsid(pid)
    except ProcessLookupError:
        return None


class HoldingHandler(ScriptedHandler):
    """Accepts every message, as scripted (``refuse`` at RCPT), except one once told to:
    :meth:`hold` picks the n-th message from now, which at DATA is never answered nor
    accepted. ``held`` is set when it arrives. Its sender's death closes the connection,
    which ends the wait; so does :meth:`release` (answered with a temporary failure) or
    ``seconds``."""

    def __init__(self, *, refuse: Mapping[str, str] | None = None, seconds: float = 120) -> None:
        super().__init__(refuse=refuse)
        self.seconds = seconds
        self.seen = 0  # messages that reached DATA
        self.target: int | None = None
        self.held = threading.Event()
        self.held_message_id = ""
        self._released = threading.Event()

    def hold(self, nth: int) -> None:
        with self.attempt_lock:
            self.target = self.seen + nth

    def release(self) -> None:
        self.target = None
        self._released.set()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.attempt_lock:
            self.seen += 1
            holding = self.seen == self.target
        if not holding:
            return await super().handle_DATA(server, session, envelope)
        self.held_message_id = message_id_of(bytes(envelope.original_content))
        self.held.set()
        deadline = time.monotonic() + self.seconds
        while not self._released.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)  # cancelled when the client's connection is lost
        return "451 4.3.0 held by the test: try again later"
