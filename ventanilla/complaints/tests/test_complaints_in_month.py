"""The monthly count the transparency page publishes: complaints by the calendar month in
which they were filed, in Ecuador time (UTC−5), whatever the month is in UTC."""

import datetime as dt

import pytest

from ventanilla.complaints.models import Complaint
from ventanilla.complaints.selectors import complaints_filed_in_month
from ventanilla.complaints.services import complaint_file
from ventanilla.workdays.selectors import ECUADOR

pytestmark = pytest.mark.django_db


def _filed_at(when: dt.datetime) -> Complaint:
    complaint = complaint_file(
        name="Luis Alberto Tene",
        email="luis.tene@example.com",
        text="La página no me dejó subir la foto de mi cédula varias veces.",
    )
    # Filed "then": the clock of the test is now, the month under test is another one.
    Complaint.objects.filter(pk=complaint.pk).update(filed_at=when)
    return complaint


def test_a_complaint_late_on_the_last_evening_of_a_month_counts_in_that_month():
    # 23:30 on 31 January in Guayaquil is already 1 February (04:30) in UTC.
    _filed_at(dt.datetime(2026, 1, 31, 23, 30, tzinfo=ECUADOR))
    # 00:10 on 1 February in Guayaquil (05:10 UTC): February.
    _filed_at(dt.datetime(2026, 2, 1, 0, 10, tzinfo=ECUADOR))
    # 04:00 UTC on 1 February is still 31 January, 23:00, in Guayaquil: January.
    _filed_at(dt.datetime(2026, 2, 1, 4, 0, tzinfo=dt.UTC))

    assert complaints_filed_in_month(2026, 1) == 2
    assert complaints_filed_in_month(2026, 2) == 1
    assert complaints_filed_in_month(2025, 12) == 0


def test_december_and_january_across_the_new_year():
    _filed_at(dt.datetime(2025, 12, 31, 23, 59, tzinfo=ECUADOR))
    _filed_at(dt.datetime(2026, 1, 1, 0, 0, tzinfo=ECUADOR))
    _filed_at(dt.datetime(2025, 12, 1, 0, 0, tzinfo=ECUADOR))
    _filed_at(dt.datetime(2025, 11, 30, 23, 59, 59, tzinfo=ECUADOR))

    assert complaints_filed_in_month(2025, 11) == 1
    assert complaints_filed_in_month(2025, 12) == 2
    assert complaints_filed_in_month(2026, 1) == 1
