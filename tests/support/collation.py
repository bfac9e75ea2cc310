"""A launched round with returns in, for the tests of collation.

The test round (:mod:`support.rounds`) is launched and its tasks are answered through
:mod:`audit_core.services.returns`, as the return form does:

- HK-00123, Hackney Children and Families Service: submitted, every section good but
  recognition (outstanding); a strength on information sharing, a lesson on the voice
  of the child;
- HK-00123, the Met Police: submitted, every section requires improvement; a strength
  on information sharing; an immediate concern (:data:`CONCERN`);
- CT-00042, the City of London Children and Families Team: submitted, every section
  good; a lesson on Think Family;
- CT-00042, the City of London Police: declined;
- HK-00456, Health Visiting: a draft only (every section outstanding);
- HK-00123, GP and HK-00456, Housing: unfilled since planning.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from audit_core.domain.policy import BoardConfig
from audit_core.services import returns
from audit_core.services.unit_of_work import UnitOfWork
from support.portal import known_tokens
from support.rounds import launched_round, planned_round

CONCERN = "The younger sibling has not been seen by any agency since January."


def graded(config: BoardConfig, grade: str, **extra: str) -> dict[str, str]:
    """Every section of the audit tool given one grade, with more fields if asked."""
    return {f"grade-{s.id}": grade for s in config.audit_tool.sections} | extra


def collation_round(uow: UnitOfWork, session: Session) -> None:
    """Plan and launch the test round, then answer its tasks as the module says; committed."""
    planned_round(uow)
    launched_round(uow)
    tokens = known_tokens(session)
    config = uow.config
    answers = {
        ("HK-00123", "hackney-csc"): graded(
            config,
            "good",
            **{
                "grade-recognition": "outstanding",
                "strength-1-theme": "information-sharing",
                "strength-1-phrase": "a shared chronology",
                "strength-1-text": "Health and police shared what they knew within a day.",
                "lesson-1-theme": "voice-of-the-child",
                "lesson-1-text": "The child's own words were not recorded.",
            },
        ),
        ("HK-00123", "met-police"): graded(
            config,
            "requires-improvement",
            **{
                "strength-1-theme": "information-sharing",
                "strength-1-phrase": "same-day referral",
                "strength-1-text": "The referral reached children's services the same day.",
                "concern": "yes",
                "concern_text": CONCERN,
            },
        ),
        ("CT-00042", "city-cft"): graded(
            config,
            "good",
            **{
                "lesson-1-theme": "think-family",
                "lesson-1-text": "The mother's own needs were not assessed.",
            },
        ),
    }
    for key, fields in answers.items():
        outcome = returns.submit(uow, tokens[key], fields)
        assert outcome is not None and outcome.submitted, outcome and outcome.problems
        session.commit()
    returns.decline_task(uow, tokens[("CT-00042", "city-police")], "I supervised this case.")
    session.commit()
    draft = returns.save_draft(
        uow, tokens[("HK-00456", "health-visiting")], graded(config, "outstanding")
    )
    assert draft is not None and draft.saved
    session.commit()
