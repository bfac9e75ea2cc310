"""Helpers shared by the test layers: rounds built for tests, scripted mail servers.

The constants every layer uses live here (``from support import MAIL_FROM``): a module
named ``conftest`` is not a reliable import, since each folder may have its own.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

PROJECT = Path(__file__).resolve().parent.parent.parent
CONFIG_DIR = PROJECT / "config"
LONDON = ZoneInfo("Europe/London")
MAIL_FROM = "CHSCP Case Audits <case-audits@chscp.example.org>"
PUBLIC_URL = "https://audits.chscp.example.org"
