"""Dispatchers in their own processes, for the tests that kill them (crash, reclaim, soak).

    python dispatcher_process.py DATABASE_URL SMTP_HOST SMTP_PORT CONFIG_DIR

The process imports everything once, then reads commands on standard input:

* ``run NOW [WORKER]``: fork a child that dispatches the outbox once (as
  ``App.dispatch`` with that clock, and that worker name or else the usual
  ``host:pid:random`` one, which lets a later dispatcher reclaim what a killed
  one left in ``sending``). The child prints
  ``started PID`` before its first claim; when it ends (or is killed) this
  process prints ``ended PID STATUS``.
* ``quit``: stop.

Forking from this single-threaded process makes each dispatcher start in
milliseconds, so a test can kill many of them at random points quickly.
Tests drive it through :class:`Dispatchers`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

# App imports these when first used; import them here, once, so that a forked child
# starts dispatching at once (else every kill would land before the first send).
import audit_core.adapters.dispatcher
import audit_core.adapters.mail_render
import audit_core.adapters.smtp_transport
import audit_core.services.outbox  # noqa: F401
from audit_core.adapters import db
from audit_core.adapters.clock import parse_now
from audit_core.adapters.config import load_config
from audit_core.adapters.settings import SmtpSettings
from audit_core.adapters.smtp_sink import Sink
from audit_core.bootstrap import App
from audit_core.domain.policy import BoardConfig

MAIL_FROM = "CHSCP Case Audits <case-audits@chscp.example.org>"
PUBLIC_URL = "https://audits.chscp.example.org"


class Dispatchers:
    """This script in a process of its own, driven from a test: one dispatcher at a time.

    ``start`` forks a run and returns its process id; ``kill`` sends it SIGKILL (if it
    is still running) and ``wait`` waits for its end; both say whether it was killed.
    """

    def __init__(self, database_url: str, host: str, port: int) -> None:
        config_dir = Path(__file__).resolve().parents[2] / "config"
        self.process = subprocess.Popen(
            [sys.executable, __file__, database_url, host, str(port), str(config_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._expect("ready")

    def _tell(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{line}\n")
        self.process.stdin.flush()

    def _expect(self, word: str) -> list[str]:
        assert self.process.stdout is not None
        said = self.process.stdout.readline().split()
        assert said[:1] == [word], f"the dispatcher process said {said!r}, not {word!r}"
        return said

    def start(self, now: dt.datetime, worker: str | None = None) -> int:
        self._tell(f"run {now.isoformat()} {worker or ''}")
        return int(self._expect("started")[1])

    def wait(self, pid: int) -> bool:
        ended = self._expect("ended")
        assert ended[1] == str(pid), ended
        status = int(ended[2])
        return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL

    def kill(self, pid: int) -> bool:
        with contextlib.suppress(ProcessLookupError):  # it may have finished already
            os.kill(pid, signal.SIGKILL)
        return self.wait(pid)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._tell("quit")
        try:
            self.process.wait(timeout=10)
        finally:
            if self.process.poll() is None:
                self.process.kill()

    def __enter__(self) -> Dispatchers:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def mid_run(server: Sink, rng: random.Random, *, most: int = 8, spread: float = 0.03) -> None:
    """Wait until ``server`` has taken 1 to ``most`` more messages (or 2 s have passed: nothing
    may be due), then a random moment of up to ``spread`` seconds (several messages' time):
    a point in the midst of a run, wherever the machine's speed puts it."""
    target, deadline = server.count + rng.randint(1, most), time.monotonic() + 2
    while server.count < target and time.monotonic() < deadline:
        time.sleep(0.001)
    time.sleep(rng.uniform(0.0, spread))


def say(line: str) -> None:
    os.write(1, f"{line}\n".encode())


def child(
    url: str, settings: SmtpSettings, config: BoardConfig, now: str, worker: str | None
) -> None:
    when = parse_now(now)
    app = App(config=config, engine=db.make_engine(url), smtp=settings, clock=lambda: when)
    app.engine()  # connected, and the schema checked: what is left is the dispatch itself
    say(f"started {os.getpid()}")
    app.dispatch(worker=worker)


def main() -> None:
    url, host, port, config_dir = sys.argv[1:5]
    settings = SmtpSettings(
        host=host, port=int(port), security="none", mail_from=MAIL_FROM, public_url=PUBLIC_URL
    )
    config = load_config(config_dir)
    say("ready")
    for line in sys.stdin:
        command = line.split()
        if not command or command[0] == "quit":
            break
        _run, now, *worker = command
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                child(url, settings, config, now, worker[0] if worker else None)
            except BaseException as exc:  # report, never fall back into the parent's loop
                say(f"error {exc!r}")
                code = 1
            finally:
                os._exit(code)
        _pid, status = os.waitpid(pid, 0)
        say(f"ended {pid} {status}")


if __name__ == "__main__":
    main()
