"""How a subject access request recognises its subject: a case reference as a whole word,
an address whatever its case, anywhere in an audit event's details."""

from __future__ import annotations

import pytest

from audit_core.domain.subject_access import holds_value, is_address, like_pattern, names_reference


@pytest.mark.parametrize(
    ("subject", "named"),
    [
        ("Audit of case HK-123 (Hackney): your task", True),
        ("HK-123", True),
        ("Reminder: HK-123, due Monday", True),
        ("Audit of case HK-1234: your task", False),  # a longer reference
        ("Audit of case XHK-123", False),
        ("Audit of case HK-123-B", False),
        ("", False),
    ],
)
def test_a_case_is_named_by_its_whole_reference(subject: str, named: bool) -> None:
    assert names_reference(subject, "HK-123") is named


def test_a_value_is_found_anywhere_in_an_events_details_whatever_its_case() -> None:
    details = {
        "cases": [{"id": 4, "area": "hackney", "reference": "HK-00123"}],
        "to": ["Amara.Bello@example.org"],
    }
    assert holds_value(details, ["HK-00123"])
    assert holds_value(details, ["amara.bello@example.org"])
    assert not holds_value(details, ["HK-0012"])  # a part of a value is not the value
    assert not holds_value({"count": 4}, ["4"])  # numbers are not names


def test_a_like_pattern_takes_the_value_literally() -> None:
    assert like_pattern("first_last@example.org") == "%first\\_last@example.org%"
    assert like_pattern("100%") == "%100\\%%"


def test_an_address_is_told_from_an_id() -> None:
    assert is_address("amara.bello@example.org")
    assert not is_address("amara-bello")
