"""The analysts' queue: nearest deadline first, time left only while the review clock runs."""

import datetime as dt

import pytest
from django.utils import timezone

from conftest import PASSWORD
from ventanilla.cases.models import Case
from ventanilla.cases.services import case_invite, case_mark_checked
from ventanilla.testing.factories import submission_fields, submission_files, submit_request

pytestmark = pytest.mark.django_db


def _case_in_review(person: int) -> Case:
    fields = submission_fields(person)
    case = submit_request(fields, submission_files(fields))
    return case_mark_checked(case_id=case.pk)


def _rows(html: str) -> list[str]:
    return [chunk.split("</tr>")[0] for chunk in html.split("<tr>")[2:]]


def test_overdue_case_is_first_and_marked_and_a_reviewed_case_shows_no_clock(
    client, analyst, django_assert_max_num_queries
):
    later, overdue, invited = _case_in_review(0), _case_in_review(1), _case_in_review(2)
    Case.objects.filter(pk=overdue.pk).update(review_due_at=timezone.now() - dt.timedelta(hours=1))
    case_invite(case=invited, actor=analyst, starts_at=timezone.now() + dt.timedelta(days=2))
    client.login(username=analyst.username, password=PASSWORD)

    # A fixed number of queries, whatever the number of cases (no query per row).
    with django_assert_max_num_queries(8):
        html = client.get("/gestion/").content.decode()

    rows = _rows(html)
    assert overdue.number in rows[0] and "Vencido" in rows[0]
    later_row = next(r for r in rows if later.number in r)
    assert "3 días laborables" in later_row or "2 días laborables" in later_row
    invited_row = next(r for r in rows if invited.number in r)
    assert "Vencido" not in invited_row and "días laborables" not in invited_row
