"""Seeding the holiday calendar from the `holidays` package."""

import holidays as holidays_lib
from django.db import transaction

from .models import Holiday


@transaction.atomic
def holidays_seed(*, years: list[int]) -> int:
    """Add Ecuador's public holidays for `years`; never overwrite a row an administrator edited.

    Returns how many rows were added.
    """
    added = 0
    for day, name in sorted(
        holidays_lib.country_holidays("EC", years=years, language="es").items()
    ):
        if day.weekday() >= 5:
            continue
        _, created = Holiday.objects.get_or_create(
            date=day, defaults={"name": name, "source": Holiday.Source.PACKAGE}
        )
        added += int(created)
    return added
