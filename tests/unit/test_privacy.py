"""The pure checks of what would identify a child: a column's heading, a value.

How the register reader applies them to a file is tested in
``tests/integration/test_register_identifying.py``.
"""

from __future__ import annotations

import pytest

from audit_core.domain.privacy import identifying_header, identifying_value, nhs_check_digit_ok


@pytest.mark.parametrize(
    "header", ["case_ref", "Area", "Category", "Age band", "Flags", "Agencies", "Opened on"]
)
def test_the_registers_own_columns_are_not_mistaken_for_identifying_ones(header: str) -> None:
    assert identifying_header(header) is None


@pytest.mark.parametrize(
    ("text", "what"),
    [
        # the references that were once let through
        ("E8-1DY", "a postcode"),
        ("HKE81DY", "a postcode"),
        ("EC1A-1BB", "a postcode"),
        ("HK/401/023/2137", "an NHS number"),
        ("HK-31122015", "a date of birth"),
        # postcodes: any case, with or without a separator, inside a longer text
        ("E8 1DY", "a postcode"),
        ("e81dy", "a postcode"),
        ("ec1a 1bb", "a postcode"),
        ("EC1A.1BB", "a postcode"),
        ("EC1A/1BB", "a postcode"),
        ("N16 5AB", "a postcode"),
        ("SW1A 2AA", "a postcode"),
        ("M1 1AE", "a postcode"),
        ("CL-N165AB", "a postcode"),
        ("HK11AB", "a postcode"),
        # NHS numbers: ten digits with a valid check digit, whatever separates them
        ("9434765919", "an NHS number"),
        ("943 476 5919", "an NHS number"),
        ("943-476-5919", "an NHS number"),
        ("943/476/5919", "an NHS number"),
        ("943.476.5919", "an NHS number"),
        ("94 34 76 59 19", "an NHS number"),
        ("HK-4010232137", "an NHS number"),
        ("HK-000123-9434765919", "an NHS number"),
        # dates, whatever the separators and the order
        ("31122015", "a date of birth"),
        ("20151231", "a date of birth"),
        ("31-12-2015", "a date of birth"),
        ("31/12/2015", "a date of birth"),
        ("31 12 2015", "a date of birth"),
        ("31 - 12 - 2015", "a date of birth"),
        ("2015/12/31", "a date of birth"),
        ("2015.12.31", "a date of birth"),
        ("31.12.15", "a date of birth"),
        ("1-2-15", "a date of birth"),
        ("12/31/2015", "a date of birth"),
        ("HK-12-03-2015", "a date of birth"),
        ("HK_31_12_2015", "a date of birth"),
        ("parent@example.org", "an email address"),
    ],
)
def test_identifying_values_are_found_whatever_separates_their_parts(text: str, what: str) -> None:
    assert identifying_value(text) == what


@pytest.mark.parametrize(
    "text",
    [
        # case references of the shapes areas use, six digits included
        "HK-204518",
        "HK-000123",
        "HK-311215",  # six digits are never taken for ddmmyy: see identifying_value
        "HK-123456",
        "HK-1",
        "CL-30412",
        "CL/2024/0001",
        "HK/2024/123456",
        # ten digits whose check digit is wrong are not an NHS number
        "9434765918",
        "HK/401/023/2138",
        # practitioner ids and agency codes
        "HCS-104",
        "MET-3381",
        "CAMHS-508",
        "ELFT-6316",
        "hackney-csc",
        "hackney-csc:HCS-104+HCS-221|met-police:MET-3381",
        "s47_enquiry",
        "health-visiting",
        # things that are not dates: no such day or month, or a year out of range
        "32-12-2015",
        "31-13-2015",
        "31122150",
        "2015-13-45",
        "5-10",
        "11-15",
        "16-17",
    ],
)
def test_legitimate_register_values_are_not_identifying(text: str) -> None:
    assert identifying_value(text) is None


def test_a_date_column_expects_dates() -> None:
    for text in ("2026-02-02", "02/02/2026", "31122015", "2.2.26"):
        assert identifying_value(text, dates=False) is None
    assert identifying_value("E8 1DY", dates=False) == "a postcode"
    assert identifying_value("9434765919", dates=False) == "an NHS number"


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("9434765919", True),
        ("4010232137", True),
        ("9434765918", False),
        ("0000000000", True),  # check digit 11 is written 0
        ("1000000010", False),  # check digit 10: no NHS number has it
    ],
)
def test_the_nhs_check_digit(digits: str, valid: bool) -> None:
    assert nhs_check_digit_ok(digits) is valid
