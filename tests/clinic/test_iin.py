"""IIN validation: the table the issue asks for, plus the second-pass check digit and consistency."""

from __future__ import annotations

from datetime import date

import pytest

from tests.fixtures.clinic import VALID_IIN_FEMALE_1995, VALID_IIN_MALE_1990
from webapp.clinic.services.iin import check_digit, compose_iin, validate_iin

TODAY = date(2030, 1, 6)


@pytest.mark.parametrize(
    "raw,birth_date,sex,valid,code",
    [
        (VALID_IIN_MALE_1990, date(1990, 1, 1), "M", True, None),
        (VALID_IIN_FEMALE_1995, date(1995, 5, 20), "F", True, None),
        ("900101 300017", None, None, True, None),  # spaces between groups are tolerated
        # Second pass: weights 1..11 give 175 mod 11 = 10; weights 3..11,1,2 give 155 mod 11 = 1.
        ("850315301801", date(1985, 3, 15), "M", True, None),
        ("900101300018", None, None, False, "checksum"),
        ("850315301800", None, None, False, "checksum"),
        (VALID_IIN_MALE_1990, date(1990, 1, 1), "F", False, "sex_mismatch"),
        (VALID_IIN_MALE_1990, date(1990, 1, 2), "M", False, "birth_date_mismatch"),
        ("900101700017", None, None, False, "century"),  # 7th digit 7 is no century
        ("900101000017", None, None, False, "century"),
        ("901301300017", None, None, False, "birth_date"),  # month 13
        ("90010130001", None, None, False, "format"),  # 11 digits
        ("9001013000170", None, None, False, "format"),  # 13 digits
        ("90010130001A", None, None, False, "format"),  # a letter
        ("", None, None, False, "format"),
        ("350101500012", None, None, False, "future"),  # born 2035
    ],
)
def test_iin_table(raw, birth_date, sex, valid, code):
    result = validate_iin(raw, birth_date=birth_date, sex=sex, today=TODAY)
    assert result.valid is valid
    assert result.code == code
    assert (result.reason is None) is valid


def test_iin_yields_birth_date_and_sex():
    result = validate_iin(VALID_IIN_FEMALE_1995, today=TODAY)
    assert (result.birth_date, result.sex) == (date(1995, 5, 20), "F")
    # Century digit 5/6: the 2000s.
    composed = compose_iin(date(2005, 7, 1), "F", 123)
    assert composed[6] == "6"
    assert validate_iin(composed, date(2005, 7, 1), "F", today=TODAY).valid


def test_check_digit_never_issued():
    """80010130072: weights 1..11 give 131 mod 11 = 10, weights 3..11,1,2 give 76 mod 11 = 10 — never issued."""
    assert check_digit("80010130072") is None
    assert [d for d in "0123456789" if validate_iin("80010130072" + d, today=TODAY).valid] == []
    assert {validate_iin("80010130072" + d, today=TODAY).code for d in "0123456789"} == {"checksum"}
