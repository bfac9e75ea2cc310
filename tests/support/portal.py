"""Secure links known to the test: each issued task of a round given a token of our own.

The real token exists only in the task email; a test that wants to open a form sets
the assignment's ``token_hash`` to the hash of a token it chose, as an email would
carry it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from audit_core.domain.models import AssignmentStatus
from audit_core.domain.tokens import hash_token
from audit_core.services.queries import round_assignments


def known_tokens(session: Session, round_id: str = "2026-H1") -> dict[tuple[str, str], str]:
    """A token for every issued task of the round, by (case reference, agency); committed."""
    tokens = {}
    for assignment in round_assignments(session, round_id):
        if assignment.status != AssignmentStatus.ISSUED:
            continue
        key = (assignment.round_case.case.reference, assignment.agency_id)
        token = f"test-token-{assignment.id:04d}-" + "x" * 28
        assignment.token_hash = hash_token(token)
        tokens[key] = token
    session.commit()
    return tokens
