"""Dispatchers in their own processes, for the crash test.

    python dispatcher_process.py DATABASE_URL SMTP_HOST SMTP_PORT CONFIG_DIR

The process imports everything once, then reads commands on standard input:

* ``run NOW WORKER``: fork a child that dispatches the outbox once (as
  ``App.dispatch`` with that clock and worker name). The child prints
  ``started PID`` before its first claim; when it ends (or is killed) this
  process prints ``ended PID STATUS``.
* ``quit``: stop.

Forking from this single-threaded process makes each dispatcher start in
milliseconds, so a test can kill many of them at random points quickly.
"""

from __future__ import annotations

import os
import sys

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
from audit_core.bootstrap import App
from audit_core.domain.policy import BoardConfig

MAIL_FROM = "CHSCP Case Audits <case-audits@chscp.example.org>"
PUBLIC_URL = "https://audits.chscp.example.org"


def say(line: str) -> None:
    os.write(1, f"{line}\n".encode())


def child(url: str, settings: SmtpSettings, config: BoardConfig, now: str, worker: str) -> None:
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
        _run, now, worker = command
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                child(url, settings, config, now, worker)
            except BaseException as exc:  # report, never fall back into the parent's loop
                say(f"error {exc!r}")
                code = 1
            finally:
                os._exit(code)
        _pid, status = os.waitpid(pid, 0)
        say(f"ended {pid} {status}")


if __name__ == "__main__":
    main()
