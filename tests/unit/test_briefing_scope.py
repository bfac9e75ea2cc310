"""What a briefing covers: some rounds or a board year, written as one key (no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from audit_core.domain.briefing_scope import (
    ScopeError,
    describe_year,
    out_name,
    out_stem,
    parse_scope,
    parse_year,
    period_label,
    scope_from_key,
    year_bounds,
)
from audit_core.domain.errors import AuditRoundError


def test_one_round_is_its_own_scope_whatever_the_case_it_is_typed_in() -> None:
    scope = parse_scope(["2026-h1"])
    assert (scope.key, scope.round_ids, scope.year) == ("2026-H1", ("2026-H1",), None)


def test_several_rounds_are_sorted_joined_by_plus_and_never_repeated() -> None:
    scope = parse_scope(["2026-H2", "2026-h1", "2026-H2"])
    assert scope.key == "2026-H1+2026-H2"
    assert scope.round_ids == ("2026-H1", "2026-H2")


@pytest.mark.parametrize("typed", ["2026-27", "2026/27", "2026-2027", " 2026 - 27 "])
def test_a_board_year_is_written_2026_27(typed: str) -> None:
    scope = parse_scope(year=typed)
    assert (scope.key, scope.year, scope.round_ids) == ("2026-27", "2026-27", ())
    assert scope.is_year


def test_the_year_that_ends_a_century_is_understood() -> None:
    assert parse_year("2099-00") == "2099-00"


@pytest.mark.parametrize("typed", ["2026-28", "2026", "26-27", "2026-H1", "next year"])
def test_a_year_in_any_other_form_is_refused_with_the_form_expected(typed: str) -> None:
    with pytest.raises(ScopeError, match="use the form 2026-27"):
        parse_year(typed)


def test_rounds_and_a_year_together_are_refused() -> None:
    with pytest.raises(ScopeError, match="either some rounds or a board year, not both"):
        parse_scope(["2026-H1"], "2026-27")


def test_a_scope_naming_nothing_is_refused() -> None:
    with pytest.raises(ScopeError, match="one or more rounds"):
        parse_scope([], None)


def test_a_round_id_that_is_not_one_is_refused_by_the_rounds_own_rule() -> None:
    with pytest.raises(AuditRoundError, match="'spring' is not a round"):
        parse_scope(["spring"])


def test_a_stored_key_reads_back_as_the_same_scope() -> None:
    assert scope_from_key("2026-H1+2026-H2") == parse_scope(["2026-H1", "2026-H2"])
    assert scope_from_key("2026-27") == parse_scope(year="2026-27")
    assert scope_from_key("2026-H1") == parse_scope(["2026-H1"])


def test_the_board_year_runs_from_april_to_march_by_default() -> None:
    assert year_bounds("2026-27", 4) == (dt.date(2026, 4, 1), dt.date(2027, 3, 31))
    assert describe_year("2026-27", 4) == "1 April 2026 to 31 March 2027"


def test_a_board_year_starting_in_january_is_the_calendar_year() -> None:
    assert year_bounds("2026-27", 1) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))


def test_the_period_printed_is_the_year_the_round_or_the_span_of_the_rounds() -> None:
    assert period_label(parse_scope(year="2026-27"), ["2026-H2", "2027-H1"]) == "2026-27"
    assert period_label(parse_scope(["2026-H1"]), ["2026-H1"]) == "January to June 2026"
    both = parse_scope(["2026-H1", "2026-H2"])
    assert period_label(both, both.round_ids) == "January to December 2026"
    across = parse_scope(["2026-H2", "2027-H1"])
    assert period_label(across, across.round_ids) == "July 2026 to June 2027"


def test_the_files_are_named_by_area_and_scope() -> None:
    assert out_stem("hackney", "2026-H1") == "briefing-hackney-2026-H1"
    assert out_name("city", "2026-27", "briefing", "pdf") == "briefing-city-2026-27.pdf"
    assert (
        out_name("hackney", "2026-H1+2026-H2", "seven-minute", "html")
        == "briefing-hackney-2026-H1+2026-H2-seven-minute.html"
    )
