"""``python -m audit_core`` runs the CLI (the same as the ``auditround`` command)."""

from audit_core.cli import main

main()
