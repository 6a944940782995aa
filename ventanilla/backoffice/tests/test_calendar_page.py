"""The holiday calendar page: the year's days, adding, changing and removing one, and
review deadlines that follow the calendar (a new holiday moves the deadlines that span
it; a day worked again shortens none)."""

import datetime as dt
import itertools
import re
import secrets

import pytest
from django.utils import timezone

from ventanilla.audit.models import AuditEvent
from ventanilla.cases import services as case_services
from ventanilla.cases.constants import CaseStatus
from ventanilla.cases.models import Case, CorrectionRequest
from ventanilla.cases.numbers import case_number_format
from ventanilla.testing.factories import PEOPLE, submission_fields, submission_files, submit_request
from ventanilla.testing.staff import staff_login
from ventanilla.workdays.models import Holiday
from ventanilla.workdays.selectors import ECUADOR, working_day_deadline

pytestmark = pytest.mark.django_db

CALENDAR = "/gestion/calendario/"
QUEUE = "/gestion/"
_sequence = itertools.count(1)


def _working_day(n: int, start: dt.datetime | None = None) -> dt.date:
    """The nth working day after `start`'s day (now), on the calendar as it is."""
    return working_day_deadline(start or timezone.now(), n).date()


def _end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.max, tzinfo=ECUADOR)


def _past_working_weekday() -> dt.date:
    """A recent weekday before today that the calendar counts as working."""
    day = timezone.now().astimezone(ECUADOR).date()
    while True:
        day -= dt.timedelta(days=1)
        if day.weekday() < 5 and not Holiday.objects.filter(date=day).exists():
            return day


def make_case(
    *,
    submitted_at: dt.datetime,
    status: str = CaseStatus.IN_REVIEW,
    due: dt.datetime | None | str = "auto",
    days_left: int | None = None,
) -> Case:
    """A case row (no files: deadlines are all that matter here)."""
    seq = next(_sequence)
    return Case.objects.create(
        **PEOPLE[seq % len(PEOPLE)],
        id_type="cedula",
        sector="Centro",
        message="Solicito la actualización de mis datos de contacto.",
        number=case_number_format(2026, 500000 + seq),
        status=status,
        submitted_at=submitted_at,
        status_changed_at=submitted_at,
        review_due_at=working_day_deadline(submitted_at, 3) if due == "auto" else due,
        review_working_days_left=days_left,
    )


def _add(client, day: dt.date, name: str = "Feriado local", *, worked: bool = False):
    data = {"date": day.isoformat(), "name": name}
    if worked:
        data["is_working_day"] = "on"
    return client.post(CALENDAR, data, follow=True)


def _queue_row(client, number: str) -> str:
    page = client.get(QUEUE, {"q": number}).content.decode()
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    [row] = [chunk for chunk in body.split("<tr") if number in chunk]
    return row


# --- who may open it --------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["analyst", "auditor"])
def test_analysts_and_auditors_get_403(client, request, persona):
    staff_login(client, request.getfixturevalue(persona))
    holiday = Holiday.objects.order_by("date").first()
    before = Holiday.objects.count()

    assert client.get(CALENDAR).status_code == 403
    assert _add(client, _working_day(5)).status_code == 403
    assert client.get(f"{CALENDAR}{holiday.pk}/").status_code == 403
    assert client.post(f"{CALENDAR}{holiday.pk}/quitar/").status_code == 403
    assert Holiday.objects.count() == before
    assert not AuditEvent.objects.filter(action__startswith="workdays.").exists()


@pytest.mark.parametrize("persona", ["administrator", "supervisor"])
def test_administrators_and_supervisors_see_the_year(client, request, persona):
    staff_login(client, request.getfixturevalue(persona))

    page = client.get(CALENDAR, {"anio": 2026}).content.decode()

    assert "Calendario de feriados 2026" in page
    # Seeded by the migration: Carnival and the 2 January 2026 decree day.
    assert 'data-date="2026-02-16"' in page and 'data-date="2026-01-02"' in page
    assert 'data-date="2027-01-01"' not in page
    assert "los plazos ya dados no se acortan" in page


# --- deadlines follow the calendar -----------------------------------------------------------


def test_a_holiday_added_by_hand_moves_a_deadline_that_spans_it(client, supervisor):
    fields = submission_fields()
    case = case_services.case_mark_checked(
        case_id=submit_request(fields, submission_files(fields)).pk
    )
    staff_login(client, supervisor)
    d1, d2, d3, d4 = (_working_day(n, case.submitted_at) for n in (1, 2, 3, 4))
    assert case.review_due_at == _end_of(d3)
    assert "3 días laborables" in _queue_row(client, case.number)

    page = _add(client, d2).content.decode()

    case.refresh_from_db()
    assert case.review_due_at == _end_of(d4)
    assert case.review_due_at == working_day_deadline(case.submitted_at, 3)
    assert "Se movió el plazo de 1 trámite" in page
    # Still three working days: d1, d3, d4 (without the move it would show 2).
    assert "3 días laborables" in _queue_row(client, case.number)
    moved = AuditEvent.objects.get(action="case.deadline_moved")
    assert moved.case == case and moved.actor == supervisor
    assert moved.old_value == {"review_due_at": _end_of(d3).isoformat()}
    assert moved.new_value == {"review_due_at": _end_of(d4).isoformat()}
    added = AuditEvent.objects.get(action="workdays.holiday_added")
    assert added.new_value == {
        "date": d2.isoformat(),
        "name": "Feriado local",
        "is_working_day": False,
        "source": "manual",
    }


def test_only_cases_whose_running_clock_spans_the_day_move(client, administrator, analyst):
    now = timezone.now()
    d3, d4 = _working_day(3), _working_day(4)
    spans = make_case(submitted_at=now)
    due_on_the_day = make_case(submitted_at=now - dt.timedelta(days=7), due=_end_of(d3))
    due_before = make_case(submitted_at=now, due=_end_of(_working_day(1)))
    submitted_state = make_case(submitted_at=now, status=CaseStatus.SUBMITTED)
    in_correction = make_case(
        submitted_at=now, status=CaseStatus.CORRECTION_REQUESTED, due=None, days_left=2
    )
    reviewed = make_case(submitted_at=now, status=CaseStatus.CALL_PENDING)
    final = make_case(submitted_at=now, status=CaseStatus.REQUIREMENTS_REJECTED)
    staff_login(client, administrator)

    page = _add(client, d3).content.decode()

    assert "Se movió el plazo de 3 trámites" in page
    due = {c.pk: c.review_due_at for c in Case.objects.all()}
    assert due[spans.pk] == _end_of(d4)
    assert due[due_on_the_day.pk] == _end_of(d4)
    assert due[submitted_state.pk] == _end_of(d4)
    assert due[due_before.pk] == _end_of(_working_day(1))
    assert due[in_correction.pk] is None
    assert Case.objects.get(pk=in_correction.pk).review_working_days_left == 2
    assert due[reviewed.pk] == reviewed.review_due_at
    assert due[final.pk] == final.review_due_at
    assert AuditEvent.objects.filter(action="case.deadline_moved").count() == 3


def test_a_case_due_before_the_holiday_is_not_moved(client, administrator):
    case = make_case(submitted_at=timezone.now())
    staff_login(client, administrator)

    page = _add(client, _working_day(4)).content.decode()

    case_due = Case.objects.get(pk=case.pk).review_due_at
    assert case_due == case.review_due_at
    assert "no se movió ningún plazo" in page
    assert not AuditEvent.objects.filter(action="case.deadline_moved").exists()


def test_a_clock_started_after_the_day_does_not_move(client, administrator, analyst):
    """A holiday added for a past day: only a clock that started before it had counted it.
    After a correction the clock restarts at the citizen's answer."""
    past = _past_working_weekday()
    day_before = dt.datetime.combine(past - dt.timedelta(days=1), dt.time(10), tzinfo=ECUADOR)
    now = timezone.now()
    fresh = make_case(submitted_at=now)
    old_clock = make_case(submitted_at=day_before, due=_end_of(_working_day(1)))
    resumed = make_case(submitted_at=day_before, due=working_day_deadline(now, 2))
    CorrectionRequest.objects.create(
        case=resumed,
        items=["selfie"],
        reasons=["face_not_visible"],
        message="Tome la foto sin gorra.",
        token_hash=secrets.token_hex(32),
        expires_at=now + dt.timedelta(days=10),
        requested_by=analyst,
        answered_at=now,
    )
    staff_login(client, administrator)

    page = _add(client, past).content.decode()

    assert "Se movió el plazo de 1 trámite" in page
    assert Case.objects.get(pk=fresh.pk).review_due_at == fresh.review_due_at
    assert Case.objects.get(pk=resumed.pk).review_due_at == resumed.review_due_at
    assert Case.objects.get(pk=old_clock.pk).review_due_at == _end_of(_working_day(2))


def test_removing_the_holiday_keeps_the_longer_deadline(client, administrator):
    case = make_case(submitted_at=timezone.now())
    d2, d4 = _working_day(2), _working_day(4)
    staff_login(client, administrator)
    _add(client, d2)
    holiday = Holiday.objects.get(date=d2)

    page = client.post(f"{CALENDAR}{holiday.pk}/quitar/", follow=True).content.decode()

    assert not Holiday.objects.filter(date=d2).exists()
    assert Case.objects.get(pk=case.pk).review_due_at == _end_of(d4)
    assert "no se acortan" in page
    removed = AuditEvent.objects.get(action="workdays.holiday_removed")
    assert removed.old_value["date"] == d2.isoformat() and removed.new_value is None


def test_a_day_marked_worked_then_closed_moves_deadlines_once(client, administrator):
    case = make_case(submitted_at=timezone.now())
    d2, d4 = _working_day(2), _working_day(4)
    staff_login(client, administrator)

    worked = _add(client, d2, "Feriado trasladado", worked=True).content.decode()
    assert Case.objects.get(pk=case.pk).review_due_at == case.review_due_at
    assert "Este día cuenta como laborable" in worked
    holiday = Holiday.objects.get(date=d2)
    edit = f"{CALENDAR}{holiday.pk}/"
    assert client.get(edit).status_code == 200

    closed = client.post(edit, {"date": d2.isoformat(), "name": "Feriado trasladado"}, follow=True)
    assert "Se movió el plazo de 1 trámite" in closed.content.decode()
    assert Case.objects.get(pk=case.pk).review_due_at == _end_of(d4)
    # Saving it again closed, or opening it again, moves nothing more and shortens nothing.
    client.post(edit, {"date": d2.isoformat(), "name": "Feriado (nombre corregido)"})
    client.post(edit, {"date": d2.isoformat(), "name": "Feriado", "is_working_day": "on"})
    assert Case.objects.get(pk=case.pk).review_due_at == _end_of(d4)
    assert AuditEvent.objects.filter(action="case.deadline_moved").count() == 1
    changes = AuditEvent.objects.filter(action="workdays.holiday_changed").order_by("pk")
    assert [(e.old_value["is_working_day"], e.new_value["is_working_day"]) for e in changes] == [
        (True, False),
        (False, False),
        (False, True),
    ]


def test_a_holiday_from_the_package_stays_as_a_worked_day(client, administrator):
    carnival = Holiday.objects.get(date=dt.date(2026, 2, 16))
    assert carnival.source == Holiday.Source.PACKAGE
    staff_login(client, administrator)

    page = client.post(f"{CALENDAR}{carnival.pk}/quitar/", follow=True).content.decode()

    carnival.refresh_from_db()
    assert carnival.is_working_day and carnival.source == Holiday.Source.MANUAL
    assert "queda marcado como día que se trabaja" in page


def test_a_date_already_listed_or_a_blank_name_is_refused(client, administrator):
    staff_login(client, administrator)

    taken = client.post(CALENDAR, {"date": "2026-02-16", "name": "Otro"})
    assert taken.status_code == 400
    assert "ya está en el calendario" in taken.content.decode()

    blank = client.post(CALENDAR, {"date": "2026-03-10", "name": "   "})
    assert blank.status_code == 400
    assert not Holiday.objects.filter(date=dt.date(2026, 3, 10)).exists()
    assert not AuditEvent.objects.filter(action__startswith="workdays.").exists()


def test_the_year_selector(client, administrator):
    staff_login(client, administrator)

    page = client.get(CALENDAR, {"anio": "2029"}).content.decode()

    assert "Calendario de feriados 2029" in page
    assert re.search(r'aria-current="page">2029<', page)
    assert "?anio=2030" in page and "?anio=2028" in page
    assert "Calendario de feriados" in client.get(CALENDAR, {"anio": "nada"}).content.decode()
