"""The institute's published history is loaded by the data migration and served exactly
as published. SEED_TABLE is the "Transparencia" table of the procedure's text, copied
verbatim (most recent first, tab-separated, as the seed prints it): the seed file lives
outside the repository, so the test carries its own copy."""

import datetime as dt

import pytest

from ventanilla.transparency.constants import FigureSource
from ventanilla.transparency.models import PublishedMonth
from ventanilla.transparency.selectors import monthly_figures

pytestmark = pytest.mark.django_db

SEED_TABLE = """\
2026	04	0	517
2026	03	1	512
2026	02	0	385
2026	01	3	438
2025	12	0	329
2025	11	1	38
2025	10	0	342
2025	09	0	895
2025	08	0	751
2025	07	0	539
2025	06	1	599
2025	05	2	323
2025	04	3	334
2025	03	1	190
2025	02	1	111
2025	01	1	209
2024	12	2	140
2024	11	1	133
2024	10	0	151
2024	09	0	184
2024	08	1	182
2024	07	0	225
2024	06	1	184
2024	05	1	172
2024	04	0	125
2024	03	0	150
2024	02	0	160
2024	01	2	149
"""


def seed_rows() -> list[tuple[int, int, int, int]]:
    """(year, month, complaints, attentions), oldest first."""
    rows = [tuple(int(cell) for cell in line.split("\t")) for line in SEED_TABLE.splitlines()]
    return sorted(rows)


def test_the_migration_loads_the_28_published_months_exactly():
    loaded = list(
        PublishedMonth.objects.order_by("year", "month").values_list(
            "year", "month", "complaints", "attentions", "source"
        )
    )
    assert len(loaded) == 28
    assert [row[:4] for row in loaded] == seed_rows()
    assert {row[4] for row in loaded} == {FigureSource.SEED}


def test_the_published_months_are_served_as_published():
    rows = monthly_figures(until=dt.date(2026, 4, 30))
    assert [(r.year, r.month, r.complaints, r.attentions) for r in rows] == seed_rows()
    assert {r.source for r in rows} == {FigureSource.SEED}
    assert not any(r.partial for r in rows)


def test_the_published_history_ends_where_asked():
    rows = monthly_figures(until=dt.datetime(2025, 1, 1, 3, 0, tzinfo=dt.UTC))
    # 03:00 UTC on 1 January is still 31 December in Guayaquil.
    assert (rows[-1].year, rows[-1].month) == (2024, 12)
    assert len(rows) == 12
