"""``auditround scheduler`` as a process: one per database, and a clean stop on SIGTERM."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from audit_core.adapters.scheduler_lock import SchedulerRunning
from audit_core.adapters.smtp_sink import Sink
from audit_core.bootstrap import App

pytestmark = pytest.mark.database


AUDITROUND = Path(sys.executable).parent / "auditround"


def test_a_second_scheduler_on_the_same_database_is_refused_and_told_who_holds_it(
    app: App, make_app: object
) -> None:
    other = App(config=app.config(), engine=app.engine(), smtp=None, clock=lambda: app.now)
    with app.scheduler_lock() as holder:
        assert f"pid {os.getpid()}" in holder
        with pytest.raises(SchedulerRunning) as refused, other.scheduler_lock():
            pass
        assert holder in str(refused.value)
    with other.scheduler_lock():  # free again once the first has stopped
        pass


def _wait_for(process: subprocess.Popen[str], text: str, seconds: float) -> str:
    """Read the process's stderr until ``text`` appears (or fail after ``seconds``)."""
    assert process.stderr is not None
    seen = ""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stderr, selectors.EVENT_READ)
        while text not in seen:
            if not selector.select(timeout=seconds):
                pytest.fail(f"no {text!r} from the scheduler within {seconds} s: {seen!r}")
            line = process.stderr.readline()
            if not line:
                pytest.fail(f"the scheduler ended before saying {text!r}: {seen!r}")
            seen += line
    return seen


def test_the_scheduler_refuses_a_second_one_and_stops_cleanly_on_sigterm(
    smtp_env: Sink, tmp_path: Path
) -> None:
    env = {**os.environ, "AUDITROUND_ACTOR": "scheduler-test"}
    first = subprocess.Popen(
        [str(AUDITROUND), "scheduler"],
        env=env,
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        said = _wait_for(first, "Scheduler running as", 60)
        holder = said.split("Scheduler running as ", 1)[1].split(".\n", 1)[0]
        second = subprocess.run(
            [str(AUDITROUND), "scheduler", "--once"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1
        message = " ".join(second.stderr.split())
        assert "Another scheduler already runs for this database" in message
        assert f"pid {first.pid}" in message and holder.split(" since ")[0] in message
        assert "Traceback" not in second.stderr

        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=60) == 0
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    once = subprocess.run(
        [str(AUDITROUND), "scheduler", "--once"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert once.returncode == 0, once.stderr  # the lock went with the first scheduler
