"""Case numbers: `VV-2026-000123-K`, sequential per year, with an ISO 7064 mod 37,36 check
character so that a mistyped number is caught before any look-up."""

import re

from django.db import connections, router
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
    caller's transaction ends, so take the number as late as possible.

    One statement, ``UPDATE ... RETURNING`` (PostgreSQL, and SQLite since 3.35): the
    increment takes the row's lock and reads the value in one round trip. The year's row
    is created the first time, by whichever transaction gets there first."""
    connection = connections[router.db_for_write(sequence_model)]
    quote_name = connection.ops.quote_name
    statement = (
        f"UPDATE {quote_name(sequence_model._meta.db_table)} "  # noqa: S608 (names, not input)
        f"SET {quote_name('last_value')} = {quote_name('last_value')} + 1 "
        f"WHERE {quote_name('year')} = %s RETURNING {quote_name('last_value')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [year])
        row = cursor.fetchone()
        if row is None:  # the year's first number
            sequence_model.objects.get_or_create(year=year)
            cursor.execute(statement, [year])
            row = cursor.fetchone()
    return row[0]
