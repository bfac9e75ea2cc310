"""What would identify a child, in a column's heading or in a value.

The register holds pseudonymous case references only: a child's name, date
of birth, NHS number, address or postcode stays in the agency's own case
system. These checks are pure functions so the register reader, and any
later input (a return's free text, a moderation file), can share them. A
value they refuse is never repeated in a message.
"""

from __future__ import annotations

import datetime as dt
import re

NOT_REPEATED = (
    "which could identify a child; the register takes pseudonymous references only "
    "(the value is not repeated here)"
)

_NOT_ALNUM = re.compile(r"[^a-z0-9]")


def compact(text: str) -> str:
    """Lower-case letters and digits only: 'Date of Birth' -> 'dateofbirth'."""
    return _NOT_ALNUM.sub("", text.lower())


# (what the column holds, compact headers, substrings of compact headers, header words)
IDENTIFYING_HEADERS: tuple[tuple[str, frozenset[str], tuple[str, ...], frozenset[str]], ...] = (
    (
        "names",
        frozenset({"name", "names"}),
        (
            "forename",
            "surname",
            "firstname",
            "lastname",
            "fullname",
            "childname",
            "childsname",
            "givenname",
            "familyname",
            "middlename",
            "preferredname",
        ),
        frozenset({"name", "names"}),
    ),
    ("dates of birth", frozenset({"dob", "dobs"}), ("birth",), frozenset({"dob"})),
    ("NHS numbers", frozenset(), ("nhs",), frozenset()),
    ("email addresses", frozenset(), ("email",), frozenset()),  # before "address"
    ("addresses", frozenset(), ("address", "street"), frozenset()),
    ("postcodes", frozenset(), ("postcode", "postalcode", "zipcode"), frozenset()),
    ("unique pupil numbers", frozenset({"upn", "upns"}), ("pupilnumber",), frozenset({"upn"})),
    (
        "National Insurance numbers",
        frozenset({"ni", "nin", "nino"}),
        ("nationalinsurance", "ninumber"),
        frozenset({"nino"}),
    ),
    ("phone numbers", frozenset({"tel"}), ("phone", "mobile"), frozenset({"tel"})),
)


def identifying_header(header: str) -> str | None:
    """What a column would hold that identifies a child (e.g. "dates of birth"), or None."""
    squeezed = compact(header)
    words = frozenset(re.split(r"[^a-z0-9]+", header.lower()))
    for what, exact, parts, header_words in IDENTIFYING_HEADERS:
        if squeezed in exact or words & header_words or any(p in squeezed for p in parts):
            return what
    return None


# A separator between the parts of a postcode, an NHS number or a date: up to three
# characters that are neither letters nor digits ("E8-1DY", "943/476/5919", "31 - 12 - 2015").
_SEP = r"[^A-Za-z0-9]{1,3}"
# Runs of digits joined by separators; letters end a run ("HK-31122015" holds "31122015").
DIGIT_RUN = re.compile(rf"\d+(?:{_SEP}\d+)*")
_DIGITS = re.compile(r"\d+")
# Letters may come before a postcode ("HKE81DY" holds E8 1DY), but nothing may follow it.
POSTCODE = re.compile(
    rf"(?<!\d)[A-Za-z]{{1,2}}\d[A-Za-z0-9]?(?:{_SEP})?\d[A-Za-z]{{2}}(?![A-Za-z0-9])"
)
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_YEARS = range(1900, 2100)


def identifying_value(text: str, *, dates: bool = True) -> str | None:
    """What ``text`` looks like that identifies a child, or None.

    NHS numbers (ten digits whose check digit is right), UK postcodes, email
    addresses and dates are found whatever separates their parts, inside
    longer text too. ``dates=False`` is for a date column, where a date is
    the value expected.

    A run of six digits alone is not taken for a date (ddmmyy): it is the
    commonest shape of a case reference, and only the area's reference
    pattern can tell the two apart.
    """
    runs = [[run] if run.isdigit() else _DIGITS.findall(run) for run in DIGIT_RUN.findall(text)]
    if any(_nhs_number(groups) for groups in runs):
        return "an NHS number"
    if runs and POSTCODE.search(text):
        return "a postcode"
    if "@" in text and EMAIL.search(text):
        return "an email address"
    if dates and any(_date(groups) for groups in runs):
        return "a date of birth"
    return None


def _nhs_number(groups: list[str]) -> bool:
    """Whether consecutive groups of digits make ten digits with a valid check digit."""
    if len(groups) == 1 and len(groups[0]) != 10:
        return False
    for start in range(len(groups)):
        digits = ""
        for group in groups[start:]:
            digits += group
            if len(digits) >= 10:
                break
        if len(digits) == 10 and nhs_check_digit_ok(digits):
            return True
    return False


def nhs_check_digit_ok(digits: str) -> bool:
    """The NHS number's modulus 11 check: weights 10 to 2 on the first nine digits."""
    total = sum(int(d) * weight for d, weight in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    return check != 10 and (check % 11) == int(digits[9])


def _date(groups: list[str]) -> bool:
    """Whether some consecutive groups read as a calendar date.

    Eight digits together (ddmmyyyy, yyyymmdd), or three groups: day, month
    and year in either order of day and month (31.12.15, 12/31/2015), or
    year, month and day (2015-12-31).
    """
    if len(groups) == 1 and len(groups[0]) != 8:
        return False
    for index, group in enumerate(groups):
        if len(group) == 8 and (
            _real(group[4:], group[2:4], group[:2]) or _real(group[:4], group[4:6], group[6:])
        ):
            return True
        if index + 3 <= len(groups) and _three_part_date(*groups[index : index + 3]):
            return True
    return False


def _three_part_date(first: str, second: str, third: str) -> bool:
    if len(first) == 4 and len(second) <= 2 and len(third) <= 2:
        return _real(first, second, third)
    if len(first) <= 2 and len(second) <= 2 and len(third) in (2, 4):
        return _real(third, second, first) or _real(third, first, second)
    return False


def _real(year: str, month: str, day: str) -> bool:
    full = int(year) if len(year) == 4 else 2000 + int(year)
    if full not in _YEARS:
        return False
    try:
        dt.date(full, int(month), int(day))
    except ValueError:
        return False
    return True
