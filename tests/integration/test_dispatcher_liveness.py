"""A dispatcher takes back at once the messages of a dispatcher on this machine whose process
has ended, and only those: a process that has exited but is not yet reaped by its parent (a
zombie, which still answers signal 0) has ended too."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

from audit_core.adapters.dispatch_run import _died

HOST = socket.gethostname()


def name_of(pid: int) -> str:
    return f"{HOST}:{pid}:abc123"  # as adapters.dispatcher.worker_name makes it


def test_a_running_process_is_alive_and_an_ended_one_is_not() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert not _died(name_of(child.pid), HOST)
    finally:
        child.kill()
        child.wait()
    assert _died(name_of(child.pid), HOST)  # reaped: no such process


def test_a_process_that_exited_but_was_not_reaped_has_ended() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 20
    while not _zombie(child.pid):
        assert time.monotonic() < deadline, "the child did not exit"
        time.sleep(0.02)
    try:
        os.kill(child.pid, 0)  # it still answers signal 0 ...
        assert _died(name_of(child.pid), HOST)  # ... yet it has ended
    finally:
        child.wait()


def test_this_process_another_host_and_a_bad_name_are_never_taken_for_dead() -> None:
    assert not _died(name_of(os.getpid()), HOST)
    assert not _died(name_of(999_999_999), "another-host")
    assert not _died("not-a-worker-name", HOST)


def _zombie(pid: int) -> bool:
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        return stat.read().rpartition(")")[2].split()[0] == "Z"
