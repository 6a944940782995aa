"""Seed the holiday calendar from the `holidays` package, plus the decree rest day of
2 January 2026 that the package cannot know (see DOMAIN.md). Administrators edit the
table afterwards; `manage.py seed_holidays YEAR` adds later years."""

import datetime as dt

import holidays as holidays_lib
from django.db import migrations

YEARS = range(2025, 2031)
DECREE_REST_DAYS = {dt.date(2026, 1, 2): "Descanso obligatorio (decreto ejecutivo)"}


def seed(apps, schema_editor):
    Holiday = apps.get_model("workdays", "Holiday")
    for day, name in holidays_lib.country_holidays("EC", years=YEARS, language="es").items():
        if day.weekday() < 5:
            Holiday.objects.get_or_create(date=day, defaults={"name": name, "source": "package"})
    for day, name in DECREE_REST_DAYS.items():
        Holiday.objects.get_or_create(date=day, defaults={"name": name, "source": "manual"})


class Migration(migrations.Migration):
    dependencies = [("workdays", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
