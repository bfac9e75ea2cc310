"""The installed ``auditround`` command run as a coordinator types it, for the end-to-end
tests: a real process, its output as a terminal 200 characters wide would show it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

AUDITROUND = Path(sys.executable).parent / "auditround"


def auditround(
    *args: str, now: str, actor: str = "alice", cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``auditround --now NOW --as ACTOR ARGS...``; its exit code, stdout and stderr."""
    return subprocess.run(
        [str(AUDITROUND), "--now", now, "--as", actor, *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200"},
    )


def flat(text: str) -> str:
    """The text with its table rules taken out and one space between words."""
    return " ".join(re.sub("[\u2500-\u257f]", " ", text).split())
