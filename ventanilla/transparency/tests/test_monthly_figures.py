"""Months after the published history are counted from the Ventanilla's records, by
Ecuador calendar month. Cases are moved through the real state machine and their final
step is then dated; complaints are filed through the complaints service and dated; a
"this was not me" report is a FraudReview row."""

import datetime as dt
from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ventanilla.cases import statemachine
from ventanilla.cases.constants import CaseStatus as S
from ventanilla.cases.models import Case, CaseTransition
from ventanilla.cases.numbers import case_number_format
from ventanilla.complaints.models import Complaint
from ventanilla.complaints.services import complaint_file
from ventanilla.registry.constants import ReportChannel
from ventanilla.registry.models import FraudReview, InsuredPerson
from ventanilla.testing.factories import PEOPLE
from ventanilla.transparency.constants import FigureSource
from ventanilla.transparency.selectors import monthly_figures
from ventanilla.workdays.selectors import ECUADOR

pytestmark = pytest.mark.django_db

_sequence = count(1)

# The path of each final status through the state machine, after `submitted`.
PATHS = {
    S.COMPLETED: [S.IN_REVIEW, S.CALL_PENDING, S.CALL_SCHEDULED, S.IDENTITY_VALIDATED, S.COMPLETED],
    S.REQUIREMENTS_REJECTED: [S.IN_REVIEW, S.REQUIREMENTS_REJECTED],
    S.IDENTITY_REJECTED: [S.IN_REVIEW, S.CALL_PENDING, S.CALL_SCHEDULED, S.IDENTITY_REJECTED],
    S.WITHDRAWN: [S.IN_REVIEW, S.WITHDRAWN],
    S.EXPIRED: [S.IN_REVIEW, S.CORRECTION_REQUESTED, S.EXPIRED],
}


def guayaquil(year, month, day, hour=12, minute=0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=ECUADOR)


def case_ended(status: str, at: dt.datetime, actor) -> Case:
    """A case (without files) taken to a final status by the state machine; the final
    step is then dated `at`, and the earlier ones a week before."""
    seq = next(_sequence)
    person = dict(PEOPLE[seq % len(PEOPLE)])
    submitted_at = at - dt.timedelta(days=7)
    case = Case.objects.create(
        **person,
        id_type="cedula",
        sector="Centro",
        message="Solicito la actualización de mis datos de contacto.",
        number=case_number_format(2026, seq),
        status=S.SUBMITTED,
        submitted_at=submitted_at,
        status_changed_at=submitted_at,
    )
    CaseTransition.objects.create(
        case=case, to_status=S.SUBMITTED, at=submitted_at, actor_label="citizen"
    )
    for step in PATHS[status]:
        statemachine.transition(case, step, actor=actor, reason="preparación de la prueba")
    CaseTransition.objects.filter(case=case).exclude(to_status=status).update(at=submitted_at)
    CaseTransition.objects.filter(case=case, to_status=status).update(at=at)
    Case.objects.filter(pk=case.pk).update(status_changed_at=at)
    return case


def complaint_filed(at: dt.datetime) -> Complaint:
    complaint = complaint_file(
        name="Rosa Elena Chiriboga",
        email="rosa.chiriboga@example.org",
        text="Nadie me respondió el correo en dos semanas.",
    )
    Complaint.objects.filter(pk=complaint.pk).update(filed_at=at)
    return complaint


def fraud_reported(case: Case, at: dt.datetime) -> FraudReview:
    person = InsuredPerson.objects.create(
        id_number=case.id_number, first_names=case.first_names, last_names=case.last_names
    )
    return FraudReview.objects.create(
        case=case, person=person, reported_at=at, channel=ReportChannel.EMAIL
    )


def by_month(rows):
    return {(row.year, row.month): row for row in rows}


def test_months_after_the_history_are_computed_in_ecuador_time(analyst):
    # 23:30 on 31 May in Guayaquil is 04:30 on 1 June in UTC: May.
    case_ended(S.COMPLETED, guayaquil(2026, 5, 31, 23, 30), analyst)
    # 00:30 on 1 June in Guayaquil (05:30 UTC): June.
    case_ended(S.REQUIREMENTS_REJECTED, guayaquil(2026, 6, 1, 0, 30), analyst)
    case_ended(S.IDENTITY_REJECTED, guayaquil(2026, 6, 15), analyst)
    # Ended without a decision of the institute: not attentions.
    case_ended(S.WITHDRAWN, guayaquil(2026, 6, 10), analyst)
    case_ended(S.EXPIRED, guayaquil(2026, 6, 20), analyst)
    # Decided in a published month: the published figure stands, this case changes nothing.
    reported = case_ended(S.COMPLETED, guayaquil(2026, 4, 30, 23, 59), analyst)
    complaint_filed(guayaquil(2026, 7, 31, 23, 30))  # 04:30 UTC on 1 August: July
    complaint_filed(guayaquil(2026, 8, 1, 0, 10))
    fraud_reported(reported, guayaquil(2026, 7, 15))

    rows = by_month(monthly_figures())

    assert (rows[2026, 4].complaints, rows[2026, 4].attentions) == (0, 517)  # as published
    assert rows[2026, 4].source == FigureSource.SEED
    assert (rows[2026, 5].complaints, rows[2026, 5].attentions) == (0, 1)
    assert (rows[2026, 6].complaints, rows[2026, 6].attentions) == (0, 2)
    assert (rows[2026, 7].complaints, rows[2026, 7].attentions) == (2, 0)
    assert (rows[2026, 8].complaints, rows[2026, 8].attentions) == (1, 0)
    assert all(rows[m].source == FigureSource.COMPUTED for m in rows if m >= (2026, 5))


def test_the_current_month_is_computed_and_partial(analyst):
    case = case_ended(S.COMPLETED, timezone.now(), analyst)
    fraud_reported(case, timezone.now())
    complaint_filed(timezone.now())

    rows = monthly_figures()

    now = timezone.localtime(timezone.now(), ECUADOR)
    current = rows[-1]
    assert (current.year, current.month) == (now.year, now.month)
    assert current.partial
    assert (current.complaints, current.attentions) == (2, 1)
    assert not any(row.partial for row in rows[:-1])


def test_every_month_is_listed_once_oldest_first_without_gaps():
    rows = monthly_figures()
    months = [(row.year, row.month) for row in rows]
    assert months[0] == (2024, 1)
    assert months == sorted(set(months))
    for (year, month), (next_year, next_month) in zip(months, months[1:], strict=False):
        assert (next_year, next_month) == ((year + 1, 1) if month == 12 else (year, month + 1))


def test_a_past_month_asked_for_is_complete(analyst):
    case_ended(S.COMPLETED, guayaquil(2026, 6, 30, 23, 59), analyst)
    rows = monthly_figures(until=guayaquil(2026, 6, 30))
    assert (rows[-1].year, rows[-1].month, rows[-1].attentions) == (2026, 6, 1)
    assert not rows[-1].partial


def test_queries_do_not_grow_with_the_cases(analyst):
    """One query for the history, one grouped query for every month's attentions, and
    the two per-month complaint counts (the shared selectors)."""
    for day in range(1, 6):
        case_ended(S.COMPLETED, guayaquil(2026, 5 + day % 3, day), analyst)
    computed = sum(1 for row in monthly_figures() if row.source == FigureSource.COMPUTED)
    with CaptureQueriesContext(connection) as queries:
        monthly_figures()
    assert len(queries) == 2 + 2 * computed
