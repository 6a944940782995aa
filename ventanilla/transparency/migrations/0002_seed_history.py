"""The institute's published history: the "Transparencia" table at the end of the
procedure's text (Año, Mes, Volumen de Quejas, Volumen de Atenciones), copied as
published. Later months are computed from the Ventanilla's own records
(selectors.monthly_figures)."""

from django.db import migrations

# (year, month, complaints, attentions), oldest first.
PUBLISHED = [
    (2024, 1, 2, 149),
    (2024, 2, 0, 160),
    (2024, 3, 0, 150),
    (2024, 4, 0, 125),
    (2024, 5, 1, 172),
    (2024, 6, 1, 184),
    (2024, 7, 0, 225),
    (2024, 8, 1, 182),
    (2024, 9, 0, 184),
    (2024, 10, 0, 151),
    (2024, 11, 1, 133),
    (2024, 12, 2, 140),
    (2025, 1, 1, 209),
    (2025, 2, 1, 111),
    (2025, 3, 1, 190),
    (2025, 4, 3, 334),
    (2025, 5, 2, 323),
    (2025, 6, 1, 599),
    (2025, 7, 0, 539),
    (2025, 8, 0, 751),
    (2025, 9, 0, 895),
    (2025, 10, 0, 342),
    (2025, 11, 1, 38),
    (2025, 12, 0, 329),
    (2026, 1, 3, 438),
    (2026, 2, 0, 385),
    (2026, 3, 1, 512),
    (2026, 4, 0, 517),
]


def seed(apps, schema_editor):
    PublishedMonth = apps.get_model("transparency", "PublishedMonth")
    for year, month, complaints, attentions in PUBLISHED:
        PublishedMonth.objects.update_or_create(
            year=year,
            month=month,
            defaults={"complaints": complaints, "attentions": attentions, "source": "seed"},
        )


def unseed(apps, schema_editor):
    PublishedMonth = apps.get_model("transparency", "PublishedMonth")
    PublishedMonth.objects.filter(source="seed").delete()


class Migration(migrations.Migration):
    dependencies = [("transparency", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
