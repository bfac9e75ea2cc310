"""The earlier rounds' actions in a briefing's content, as a version stores them and an
edited file holds them: read back as they were, a content stored before they existed
read as none, and every problem named by its key path (no database)."""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

import pytest
from test_briefing_edit import CONTENT, SOURCE, problems_of, where

from audit_core.domain.briefing import ActionProgress
from audit_core.domain.briefing_edit import from_data, to_data

ACTION = ActionProgress(
    round_id="2025-H2",
    theme_id="engaging-fathers",
    heading="Engagement with fathers",
    text="Add a prompt on fathers to the early help assessment.",
    agency="Hackney Children and Families Service",
    due_on="14 November 2026",
    status="in_progress",
    rag="amber",
    progress="The prompt is drafted.",
)
WITH_ACTIONS = dataclasses.replace(
    CONTENT, actions=(ACTION, dataclasses.replace(ACTION, status="dropped", rag=""))
)


def data_with(**changes: Any) -> dict[str, Any]:
    """The content's data with the first action's keys changed (None: left out)."""
    data = copy.deepcopy(to_data(WITH_ACTIONS))
    for key, value in changes.items():
        if value is None:
            del data["actions"][0][key]
        else:
            data["actions"][0][key] = value
    return data


def test_the_actions_read_back_as_they_were_stored() -> None:
    data = to_data(WITH_ACTIONS)

    assert data["actions"][0]["agency"] == "Hackney Children and Families Service"
    assert from_data(json.loads(json.dumps(data)), SOURCE) == WITH_ACTIONS


def test_content_stored_before_the_actions_existed_reads_as_having_none() -> None:
    data = to_data(CONTENT)
    del data["actions"]

    assert from_data(data, SOURCE).actions == ()


def test_an_actions_progress_may_be_left_out() -> None:
    assert from_data(data_with(progress=None), SOURCE).actions[0].progress == ""


def test_every_problem_of_an_action_is_named_by_its_key_path() -> None:
    data = data_with(status="finished", rag="purple", heading="", due_on=None, owner="Amara")

    found = where(problems_of(data))

    assert found == {
        "actions[0].status": "'finished' is not one of: open, in_progress, done, dropped",
        "actions[0].rag": "'purple' is not one of: red, amber, green",
        "actions[0].heading": "is empty",
        "actions[0].due_on": "missing",
        "actions[0].owner": (
            "unknown key (expected: round_id, theme_id, heading, text, agency, due_on, "
            "status, rag, progress)"
        ),
    }


@pytest.mark.parametrize(
    ("key", "text", "what"),
    [
        ("text", "Write to jo.bloggs@example.org about the case.", "an email address"),
        ("progress", "Visited the family at E8 1DY.", "a postcode"),
    ],
)
def test_an_action_that_could_identify_a_child_is_refused_without_repeating_it(
    key: str, text: str, what: str
) -> None:
    [problem] = problems_of(data_with(**{key: text}))

    assert problem.location == f"actions[0].{key}"
    assert what in problem.reason and text not in problem.reason


def test_a_date_in_an_action_is_its_business_and_is_kept() -> None:
    content = from_data(data_with(progress="Training given on 12/05/2026."), SOURCE)

    assert content.actions[0].progress == "Training given on 12/05/2026."


def test_a_list_of_actions_is_limited_and_a_round_id_checked() -> None:
    data = to_data(WITH_ACTIONS)
    data["actions"] = [to_data(WITH_ACTIONS)["actions"][0]] * 61
    data["actions"][3] = dict(data["actions"][3], round_id="spring")

    found = where(problems_of(data))

    assert found["actions"] == "at most 60 items, not 61"
    assert "actions[3].round_id" in found
