"""Staff handling: who may take, assign and answer a complaint, what an answered one
refuses, and the list by deadline with overdue complaints first."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from ventanilla.complaints.constants import ComplaintStatus
from ventanilla.complaints.models import Complaint
from ventanilla.complaints.selectors import complaint_answer_time
from ventanilla.complaints.services import (
    ComplaintRefused,
    complaint_answer,
    complaint_assign,
    complaint_due_at,
    complaint_file,
    complaint_take,
)
from ventanilla.notifications.models import OutboundEmail
from ventanilla.staff.roles import Role
from ventanilla.staff.services import staff_user_ensure
from ventanilla.testing.staff import staff_login
from ventanilla.workdays.models import Holiday
from ventanilla.workdays.selectors import ECUADOR

pytestmark = pytest.mark.django_db


def _file(n: int = 0) -> Complaint:
    return complaint_file(
        name="Jorge Caicedo",
        email=f"jorge{n}@example.com",
        text="El enlace de la videollamada no abría y nadie contestó el teléfono.",
    )


@pytest.fixture
def other_analyst(db):
    return staff_user_ensure(
        username="otto.analista", password="una-clave-de-prueba-larga", role=Role.ANALYST
    )


def test_an_analyst_cannot_take_or_answer_a_complaint_another_analyst_holds(analyst, other_analyst):
    complaint = complaint_take(complaint=_file(), actor=analyst)

    with pytest.raises(ComplaintRefused, match="Esta queja la atiende ana.analista"):
        complaint_take(complaint=complaint, actor=other_analyst)
    with pytest.raises(ComplaintRefused, match="pida a un supervisor"):
        complaint_answer(complaint=complaint, actor=other_analyst, answer="Respuesta.")
    complaint.refresh_from_db()
    assert complaint.assigned_to == analyst and complaint.status == ComplaintStatus.IN_PROGRESS


def test_a_supervisor_assigns_and_may_step_in(analyst, other_analyst, supervisor, auditor):
    complaint = complaint_take(complaint=_file(), actor=analyst)

    with pytest.raises(ComplaintRefused, match="Solo un supervisor"):
        complaint_assign(complaint=complaint, actor=analyst, assignee=other_analyst)
    with pytest.raises(ComplaintRefused, match="no atiende quejas"):
        complaint_assign(complaint=complaint, actor=supervisor, assignee=auditor)
    complaint_assign(complaint=complaint, actor=supervisor, assignee=other_analyst)
    complaint.refresh_from_db()
    assert complaint.assigned_to == other_analyst

    complaint_answer(complaint=complaint, actor=supervisor, answer="Lo revisamos y se corrigió.")
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.ANSWERED
    assert complaint.answered_by == supervisor


def test_an_answered_complaint_is_not_answered_twice(analyst):
    complaint = complaint_answer(complaint=_file(), actor=analyst, answer="Primera respuesta.")

    with pytest.raises(ComplaintRefused, match="ya fue respondida"):
        complaint_answer(complaint=complaint, actor=analyst, answer="Segunda respuesta.")
    with pytest.raises(ComplaintRefused, match="ya fue respondida"):
        complaint_take(complaint=complaint, actor=analyst)
    assert OutboundEmail.objects.filter(template="complaint_answered").count() == 1
    complaint.refresh_from_db()
    assert complaint.answer == "Primera respuesta."


def test_an_empty_answer_is_refused_and_an_auditor_cannot_answer(analyst, auditor):
    complaint = _file()
    with pytest.raises(ValidationError, match="Escriba la respuesta"):
        complaint_answer(complaint=complaint, actor=analyst, answer="   ")
    with pytest.raises(ComplaintRefused, match="no atiende quejas"):
        complaint_answer(complaint=complaint, actor=auditor, answer="Respuesta.")
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.RECEIVED


def test_the_deadline_is_the_15th_working_day_and_holidays_move_it():
    # Filed on Monday 2 March 2026: 15 working days later is Monday 23 March.
    filed = dt.datetime(2026, 3, 2, 10, 0, tzinfo=ECUADOR)
    assert complaint_due_at(filed).date() == dt.date(2026, 3, 23)
    Holiday.objects.create(date="2026-03-10", name="Feriado de prueba")
    assert complaint_due_at(filed).date() == dt.date(2026, 3, 24)


def test_time_to_answer_in_working_days(analyst):
    complaint = _file()
    # Filed on Friday 6 March 2026 at 17:00, answered on Tuesday 10 March at 09:00.
    filed = dt.datetime(2026, 3, 6, 17, 0, tzinfo=ECUADOR)
    Complaint.objects.filter(pk=complaint.pk).update(
        filed_at=filed, due_at=dt.datetime(2026, 3, 27, 23, 59, tzinfo=ECUADOR)
    )
    complaint.refresh_from_db()
    complaint.answered_at = dt.datetime(2026, 3, 10, 9, 0, tzinfo=ECUADOR)

    answer_time = complaint_answer_time(complaint)

    assert answer_time.working_days == 2
    assert answer_time.hours == 88
    assert answer_time.late is False
    assert complaint_answer_time(_file(1)) is None


def test_the_list_shows_overdue_first_then_by_deadline_in_few_queries(client, analyst, supervisor):
    now = timezone.now()
    later, overdue, sooner, answered = (_file(n) for n in range(4))
    Complaint.objects.filter(pk=later.pk).update(due_at=now + dt.timedelta(days=20))
    Complaint.objects.filter(pk=overdue.pk).update(due_at=now - dt.timedelta(days=1))
    Complaint.objects.filter(pk=sooner.pk).update(due_at=now + dt.timedelta(days=5))
    complaint_take(complaint=later, actor=analyst)
    complaint_answer(complaint=answered, actor=analyst, answer="Resuelto.")
    staff_login(client, supervisor)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("backoffice:complaints"))

    assert response.status_code == 200
    rows = [row.complaint for row in response.context["rows"]]
    assert rows == [overdue, sooner, later, answered]
    assert [row.overdue for row in response.context["rows"]] == [True, False, False, False]
    html = response.content.decode()
    assert html.index(overdue.number) < html.index(sooner.number) < html.index(answered.number)
    assert "Vencida" in html
    many = len(queries)
    for n in range(4, 10):
        _file(n)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("backoffice:complaints"))
    assert len(queries) == many


def test_an_auditor_reads_a_complaint_but_gets_no_action(client, auditor):
    complaint = _file()
    staff_login(client, auditor)
    html = client.get(reverse("backoffice:complaint", args=[complaint.number])).content.decode()
    assert complaint.text in html
    assert 'id="complaint-take"' not in html
    assert 'id="complaint-answer-form"' not in html
    assert client.get(reverse("backoffice:complaint", args=["QJ-2026-999999-X"])).status_code == 404


def test_the_answer_form_refuses_an_empty_answer_in_spanish(client, analyst):
    complaint = _file()
    staff_login(client, analyst)
    response = client.post(
        reverse("backoffice:complaint_answer", args=[complaint.number]), {"answer": ""}
    )
    assert response.status_code == 400
    assert "Escriba la respuesta" in response.content.decode()
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.RECEIVED
    assert not OutboundEmail.objects.filter(template="complaint_answered").exists()


def test_the_page_offers_another_analysts_complaint_no_action(client, analyst, other_analyst):
    complaint = complaint_take(complaint=_file(), actor=other_analyst)
    staff_login(client, analyst)
    html = client.get(reverse("backoffice:complaint", args=[complaint.number])).content.decode()
    assert 'id="complaint-take"' not in html
    assert 'id="complaint-answer-form"' not in html
    refused = client.post(reverse("backoffice:complaint_take", args=[complaint.number]))
    assert refused.status_code == 302
    followed = client.get(refused["Location"]).content.decode()
    assert "Esta queja la atiende otto.analista" in followed
    complaint.refresh_from_db()
    assert complaint.assigned_to == other_analyst
