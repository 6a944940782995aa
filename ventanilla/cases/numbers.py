"""Case numbers: `VV-2026-000123-K`, sequential per year, with an ISO 7064 mod 37,36 check
character so that a mistyped number is caught before any look-up."""

import re

from stdnum.iso7064 import mod_37_36

CASE_NUMBER_RE = re.compile(r"^VV-(?P<year>\d{4})-(?P<seq>\d{6})-(?P<check>[0-9A-Z])$")


def case_number_format(year: int, sequence: int) -> str:
    body = f"{year:04d}{sequence:06d}"
    return f"VV-{year:04d}-{sequence:06d}-{mod_37_36.calc_check_digit(body)}"


def case_number_normalize(raw: str) -> str:
    """Upper-case, trim, and turn spaces or other dashes into the canonical form."""
    cleaned = re.sub(r"[\s\u2010-\u2015_]+", "-", raw.strip().upper())
    return re.sub(r"-+", "-", cleaned)


def case_number_is_valid(raw: str) -> bool:
    match = CASE_NUMBER_RE.match(case_number_normalize(raw))
    if not match:
        return False
    return mod_37_36.is_valid(match["year"] + match["seq"] + match["check"])


def yearly_sequence_next(sequence_model, year: int) -> int:
    """The next number of `year` in a yearly sequence (a model with `year` as primary key
    and `last_value`: cases' and complaints'). The year's row stays locked until the
    caller's transaction ends, so take the number as late as possible."""
    sequence_model.objects.get_or_create(year=year)
    sequence = sequence_model.objects.select_for_update().get(year=year)
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    return sequence.last_value
