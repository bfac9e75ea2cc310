"""What would identify a child, in a column's heading or in a value.

The register holds pseudonymous case references only: a child's name, date
of birth, NHS number, address or postcode stays in the agency's own case
system. These checks are pure functions so the register reader, and any
later input (a return's free text, a moderation file), can share them. A
value they refuse is never repeated in a message.
"""

from __future__ import annotations

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


DIGIT = re.compile(r"\d")
NHS_NUMBER = re.compile(r"(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)")
POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}(?![A-Za-z0-9])"
)
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
DATE_LIKE = re.compile(
    r"(?<!\d)(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})|\d{4}[/.-]\d{1,2}[/.-]\d{1,2})(?!\d)"
)


def identifying_value(text: str, *, free_text: bool) -> str | None:
    """What ``text`` looks like that identifies a child, or None.

    NHS numbers, postcodes and email addresses are refused in every field; a
    date is refused only in free text (a case reference, a practitioner id),
    where it is most likely a date of birth.
    """
    has_digit = DIGIT.search(text) is not None
    if has_digit and NHS_NUMBER.search(text):
        return "an NHS number"
    if has_digit and POSTCODE.search(text):
        return "a postcode"
    if "@" in text and EMAIL.search(text):
        return "an email address"
    if free_text and has_digit and DATE_LIKE.search(text):
        return "a date of birth"
    return None
