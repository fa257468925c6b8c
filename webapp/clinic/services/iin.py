"""Kazakhstan IIN (ЖСН / ИИН): 12 digits ``YYMMDD C NNNN K``.

- ``YYMMDD``: date of birth;
- ``C`` (7th digit): century and sex — 1/2: 1800s, 3/4: 1900s, 5/6: 2000s; odd male, even female;
- ``K`` (12th digit): check digit. Weights 1..11 over the first eleven digits, sum mod 11; when that
  is 10, a second pass with weights 3..11,1,2; when that is 10 too, the number is never issued.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

WEIGHTS_FIRST = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
WEIGHTS_SECOND = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
CENTURY = {1: 1800, 2: 1800, 3: 1900, 4: 1900, 5: 2000, 6: 2000}

# Reasons are English msgids of the "clinic" catalog, so the bot and the API show them in the reader's language.
REASONS = {
    "format": "The IIN must consist of exactly 12 digits",
    "century": "The 7th digit of the IIN must be from 1 to 6 (century and sex)",
    "birth_date": "The first six digits of the IIN are not a valid date of birth (YYMMDD)",
    "future": "The date of birth in the IIN is in the future",
    "checksum": "The IIN check digit is wrong",
    "birth_date_mismatch": "The IIN does not match the date of birth you entered",
    "sex_mismatch": "The IIN does not match the sex you entered",
}


@dataclass(frozen=True)
class IinCheck:
    iin: str
    valid: bool
    birth_date: date | None = None
    sex: str | None = None  # "M" / "F"
    code: str | None = None  # a key of REASONS when invalid

    @property
    def reason(self) -> str | None:
        return REASONS[self.code] if self.code else None


def check_digit(first_eleven: str) -> int | None:
    """The check digit for 11 leading digits, or None when no valid IIN starts with them."""
    digits = [int(c) for c in first_eleven]
    for weights in (WEIGHTS_FIRST, WEIGHTS_SECOND):
        remainder = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if remainder != 10:
            return remainder
    return None


def clean(raw: str | None) -> str:
    """Spaces and dashes people type between digit groups are not part of the number."""
    return re.sub(r"[\s\-]", "", raw or "")


def validate_iin(
    raw: str | None, birth_date: date | None = None, sex: str | None = None, today: date | None = None
) -> IinCheck:
    """Check an IIN; when ``birth_date``/``sex`` are given it must also agree with them."""
    iin = clean(raw)
    if not re.fullmatch(r"\d{12}", iin):
        return IinCheck(iin, False, code="format")
    century_digit = int(iin[6])
    if century_digit not in CENTURY:
        return IinCheck(iin, False, code="century")
    iin_sex = "M" if century_digit % 2 else "F"
    try:
        born = date(CENTURY[century_digit] + int(iin[0:2]), int(iin[2:4]), int(iin[4:6]))
    except ValueError:
        return IinCheck(iin, False, sex=iin_sex, code="birth_date")
    if born > (today or date.today()):
        return IinCheck(iin, False, born, iin_sex, "future")
    if check_digit(iin[:11]) != int(iin[11]):
        return IinCheck(iin, False, born, iin_sex, "checksum")
    if birth_date is not None and birth_date != born:
        return IinCheck(iin, False, born, iin_sex, "birth_date_mismatch")
    if sex is not None and sex != iin_sex:
        return IinCheck(iin, False, born, iin_sex, "sex_mismatch")
    return IinCheck(iin, True, born, iin_sex)


def compose_iin(birth_date: date, sex: str, serial: int) -> str:
    """A valid IIN for a date of birth, sex and 4-digit serial (demo data); skips never-issued serials."""
    century = next(
        c for c, base in CENTURY.items() if base <= birth_date.year < base + 100 and (c % 2 == 1) == (sex == "M")
    )
    for candidate in range(serial, serial + 10_000):
        head = f"{birth_date:%y%m%d}{century}{candidate % 10_000:04d}"
        digit = check_digit(head)
        if digit is not None:
            return f"{head}{digit}"
    raise ValueError("no valid serial")  # unreachable: most serials have a check digit
