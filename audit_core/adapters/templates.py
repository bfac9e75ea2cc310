"""Where the Jinja2 templates are: ``templates/`` of the project, shipped in the wheel.

The top-level ``templates/`` folder is installed as the package data
``audit_core/templates`` (see ``pyproject.toml``), so an installed wheel
renders from its own copy and a checkout renders from the folder itself.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

TEMPLATES = Path(str(files("audit_core.templates")))
