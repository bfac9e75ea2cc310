"""A briefing's content as plain data and back: what a version stores and an edited file
holds, every problem named by its key path (no database)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from audit_core.domain.briefing import (
    BriefingContent,
    CaseSummary,
    GradeCount,
    Lesson,
    Link,
    RoundPart,
    Strength,
    StrengthGroup,
)
from audit_core.domain.briefing_edit import BriefingFileError, from_data, to_data
from audit_core.domain.errors import Problem

CONTENT = BriefingContent(
    board_name="City & Hackney Safeguarding Children Partnership",
    board_short_name="CHSCP",
    title="CHSCP Case Audits",
    area_id="city",
    area_name="City of London",
    scope="2026-H1",
    period="January to June 2026",
    introduction="The audits found positive practice.",
    process="Every six months the partnership audits a sample of case files together.",
    rounds=(
        RoundPart(
            round_id="2026-H1",
            heading="Think Family",
            period="January to June 2026",
            cases=(
                CaseSummary("Case 1", "Mother self-referred to early help for extra support."),
                CaseSummary("Case 2", ""),
            ),
            strengths=(
                StrengthGroup(
                    "partnership-with-parents",
                    "Working in Partnership with Parents",
                    "Good relationships were developed with parents, enabling professionals to:",
                    (Strength("", "hold open and honest conversations"),),
                ),
            ),
            lessons=(
                Lesson(
                    "escalation-and-challenge",
                    "Escalation and Challenge",
                    "Decisions were not challenged.",
                    ("Are you aware of the escalation policy?", "Do you use it?"),
                    (Link("Escalation policy", "https://chscp.example.org/policies/escalation"),),
                    recurring=True,
                ),
            ),
            grades=(GradeCount("good", "Good", 2), GradeCount("inadequate", "Inadequate", 0)),
            lessons_note="More lessons follow next year.",
            strengths_by_theme=False,
        ),
    ),
)
SOURCE = "city.yaml"


def problems_of(data: Any) -> list[Problem]:
    with pytest.raises(BriefingFileError) as caught:
        from_data(data, SOURCE)
    return caught.value.problems


def where(problems: list[Problem]) -> dict[str, str]:
    return {p.location: p.reason for p in problems}


DELETE = object()  # a key to leave out


def edited(**changes: Any) -> dict[str, Any]:
    """The content's data with values set (or keys left out) at key paths written with
    double underscores: ``rounds__0__lessons__0__text``."""
    data = copy.deepcopy(to_data(CONTENT))
    for path, value in changes.items():
        *parents, last = path.split("__")
        target: Any = data
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        if value is DELETE:
            del target[int(last) if last.isdigit() else last]
        else:
            target[int(last) if last.isdigit() else last] = value
    return data


def test_the_content_reads_back_as_it_was_stored() -> None:
    data = to_data(CONTENT)
    assert from_data(data, SOURCE) == CONTENT
    assert from_data(json.loads(json.dumps(data)), SOURCE) == CONTENT  # as the column keeps it


def test_the_data_is_plain_lists_and_mappings_keyed_as_the_fields_are() -> None:
    data = to_data(CONTENT)
    assert list(data)[:4] == ["board_name", "board_short_name", "title", "area_id"]
    lesson = data["rounds"][0]["lessons"][0]
    assert lesson["prompts"] == ["Are you aware of the escalation policy?", "Do you use it?"]
    assert lesson["links"] == [
        {"title": "Escalation policy", "url": "https://chscp.example.org/policies/escalation"}
    ]


def test_keys_with_a_default_may_be_left_out() -> None:
    data = edited(
        introduction=DELETE,
        rounds__0__lessons_note=DELETE,
        rounds__0__strengths_by_theme=DELETE,
        rounds__0__strengths__0__intro=DELETE,
        rounds__0__strengths__0__items__0__key_phrase=DELETE,
        rounds__0__lessons__0__prompts=DELETE,
        rounds__0__lessons__0__links=DELETE,
        rounds__0__lessons__0__recurring=DELETE,
    )
    content = from_data(data, SOURCE)
    part = content.rounds[0]
    assert (content.introduction, part.lessons_note, part.strengths_by_theme) == ("", "", True)
    assert part.lessons[0].prompts == () and part.lessons[0].links == ()
    assert part.lessons[0].recurring is False


def test_text_is_read_without_the_space_around_it() -> None:
    data = edited(rounds__0__lessons__0__text="  Decisions were not challenged.\n")
    assert from_data(data, SOURCE).rounds[0].lessons[0].text == "Decisions were not challenged."


def test_every_problem_is_named_by_its_key_path_at_once() -> None:
    data = edited(
        rounds__0__lessons__0__prompts__1=42,
        rounds__0__lessons__0__links__0__url="chscp.example.org/policies/escalation",
        rounds__0__cases__0__label="",
        rounds__0__grades__1__count=-1,
        rounds__0__strengths_by_theme="yes please",
        rounds__0__heding="a typo",
        title=DELETE,
    )
    found = where(problems_of(data))
    assert found == {
        "title": "missing",
        "rounds[0].heding": found["rounds[0].heding"],
        "rounds[0].cases[0].label": "is empty",
        "rounds[0].lessons[0].prompts[1]": "expected text, got a number (put it in quotes)",
        "rounds[0].lessons[0].links[0].url": (
            "expected a web address starting http:// or https://"
        ),
        "rounds[0].grades[1].count": "expected a whole number of cases, 0 or more",
        "rounds[0].strengths_by_theme": "expected true or false, got text",
    }
    assert found["rounds[0].heding"].startswith("unknown key (expected: round_id, heading,")
    assert all(p.file == SOURCE for p in problems_of(data))


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "ftp://chscp.example.org/policy", "https://", "file:///etc"]
)
def test_a_link_must_be_a_web_address(url: str) -> None:
    data = edited(rounds__0__lessons__0__links__0__url=url)
    assert where(problems_of(data)) == {
        "rounds[0].lessons[0].links[0].url": "expected a web address starting http:// or https://"
    }


def test_text_over_its_limit_is_refused_with_its_length() -> None:
    data = edited(rounds__0__cases__1__summary="x" * 3001, rounds__0__heading="H" * 201)
    assert where(problems_of(data)) == {
        "rounds[0].cases[1].summary": "is 3001 characters long; at most 3000",
        "rounds[0].heading": "is 201 characters long; at most 200",
    }


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("The family moved to E8 1DY last year.", "a postcode"),
        ("Born 31/12/2015, the child was seen twice.", "a date of birth"),
        ("Her NHS number 943 476 5919 was on the referral.", "an NHS number"),
    ],
)
def test_a_summary_that_could_identify_a_child_is_refused_without_repeating_it(
    text: str, what: str
) -> None:
    [problem] = problems_of(edited(rounds__0__cases__0__summary=text))
    assert problem.location == "rounds[0].cases[0].summary"
    assert f"holds what looks like {what}" in problem.reason
    assert text not in str(problem)


def test_lists_and_mappings_in_the_wrong_place_are_named() -> None:
    data = edited(rounds__0__lessons="none", rounds__0__cases__0="Case 1: a summary")
    assert where(problems_of(data)) == {
        "rounds[0].lessons": "expected a list, got text",
        "rounds[0].cases[0]": "expected a mapping of keys, got text",
    }


def test_too_many_items_are_refused() -> None:
    prompts = [f"Question {n}?" for n in range(11)]
    assert where(problems_of(edited(rounds__0__lessons__0__prompts=prompts))) == {
        "rounds[0].lessons[0].prompts": "at most 10 items, not 11"
    }


def test_ids_must_keep_their_shape() -> None:
    data = edited(rounds__0__round_id="spring 2026", rounds__0__lessons__0__theme_id="Escalation")
    found = where(problems_of(data))
    assert found["rounds[0].round_id"].startswith("'spring 2026' is not a round")
    assert found["rounds[0].lessons[0].theme_id"] == (
        "expected an id of lower-case letters, digits and hyphens"
    )


def test_an_empty_file_or_a_list_is_not_a_briefing() -> None:
    assert where(problems_of(None)) == {"": "expected a mapping of keys, got nothing"}
    assert where(problems_of([1, 2])) == {"": "expected a mapping of keys, got a list"}
