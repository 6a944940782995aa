"""Complaint numbers: `QJ-2026-000123-K`, sequential per Ecuador calendar year, with the
same ISO 7064 mod 37,36 check character as case numbers (ventanilla/cases/numbers.py)."""

import re

from stdnum.iso7064 import mod_37_36

from ventanilla.cases.numbers import case_number_normalize

COMPLAINT_NUMBER_RE = re.compile(r"^QJ-(?P<year>\d{4})-(?P<seq>\d{6})-(?P<check>[0-9A-Z])$")


def complaint_number_format(year: int, sequence: int) -> str:
    body = f"{year:04d}{sequence:06d}"
    return f"QJ-{year:04d}-{sequence:06d}-{mod_37_36.calc_check_digit(body)}"


def complaint_number_is_valid(raw: str) -> bool:
    match = COMPLAINT_NUMBER_RE.match(case_number_normalize(raw))
    if not match:
        return False
    return mod_37_36.is_valid(match["year"] + match["seq"] + match["check"])
