"""The pure checks of what would identify a child: a column's heading, a value.

How the register reader applies them to a file is tested in
``tests/integration/test_register_identifying.py``.
"""

from __future__ import annotations

import pytest

from audit_core.domain.privacy import identifying_header, identifying_value


@pytest.mark.parametrize(
    "header", ["case_ref", "Area", "Category", "Age band", "Flags", "Agencies", "Opened on"]
)
def test_the_registers_own_columns_are_not_mistaken_for_identifying_ones(header: str) -> None:
    assert identifying_header(header) is None


def test_dates_in_date_columns_and_ordinary_references_are_not_identifying() -> None:
    for text in ("2026-02-02", "02/02/2026"):
        assert identifying_value(text, free_text=False) is None
    for text in ("HK-204518", "CL/2024/0001", "hackney-csc:HCS-104+HCS-221|met-police:MET-3381"):
        assert identifying_value(text, free_text=True) is None
