"""The supervisors' dashboard: workload, age, SLA compliance, breaches and their causes.

The cases are built through the real services (review, correction, rejection,
assignment) and then moved back in time, so that the figures can be checked on a
calendar with a weekend and Ecuador's November holidays.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ventanilla.cases import services
from ventanilla.cases.constants import CaseStatus, ReviewReason
from ventanilla.cases.dashboard import (
    dashboard_at_risk,
    dashboard_overdue,
    dashboard_sla,
    dashboard_states_by_age,
    dashboard_workload,
    review_deadline_day,
)
from ventanilla.cases.models import Case, CaseTransition
from ventanilla.cases.numbers import case_number_format
from ventanilla.testing.factories import PEOPLE
from ventanilla.testing.staff import staff_login
from ventanilla.workdays.models import Holiday
from ventanilla.workdays.selectors import non_working_dates, working_day_deadline

pytestmark = pytest.mark.django_db

ECUADOR = ZoneInfo("America/Guayaquil")
URL = "/gestion/tablero/"
# Wednesday 18 November 2026, 15:00 in Quito. Monday 2 and Tuesday 3 are holidays.
NOW = dt.datetime(2026, 11, 18, 15, 0, tzinfo=ECUADOR)


def at(day: int, hour: int = 10, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=ECUADOR)


_sequence = iter(range(1, 100_000))


def make_case(submitted_at: dt.datetime, *, checked_at: dt.datetime | None = None) -> Case:
    """A case as `case_submit` leaves it (without files), submitted at `submitted_at`;
    with `checked_at`, the automated checks finished then and it is under review."""
    seq = next(_sequence)
    person = dict(PEOPLE[seq % len(PEOPLE)])
    case = Case.objects.create(
        **person,
        id_type="cedula",
        sector="Centro",
        message="Solicito la actualización de mis datos de contacto.",
        number=case_number_format(2026, seq),
        status=CaseStatus.SUBMITTED,
        submitted_at=submitted_at,
        status_changed_at=submitted_at,
        checks_enqueued_at=submitted_at,
        review_due_at=working_day_deadline(submitted_at, 3),
    )
    CaseTransition.objects.create(
        case=case, to_status=CaseStatus.SUBMITTED, at=submitted_at, actor_label="citizen"
    )
    if checked_at is not None:
        services.case_mark_checked(case_id=case.pk)
        Case.objects.filter(pk=case.pk).update(checks_completed_at=checked_at)
        CaseTransition.objects.filter(case=case, to_status=CaseStatus.IN_REVIEW).update(
            at=checked_at
        )
    return Case.objects.get(pk=case.pk)


def answer(case: Case, actor, when: dt.datetime, *, how: str = "correction") -> None:
    """The analyst's first answer (a correction request or a rejection), dated `when`."""
    if how == "correction":
        services.case_request_correction(
            case=case,
            actor=actor,
            items=["selfie"],
            reasons=[ReviewReason.ILLEGIBLE_IMAGE],
            message="La fotografía está borrosa; tómela de nuevo con buena luz.",
        )
        to_status = CaseStatus.CORRECTION_REQUESTED
    else:
        services.case_reject(
            case=case,
            actor=actor,
            reasons=[ReviewReason.AMENDED_FORM],
            message="El formulario tiene enmendaduras.",
        )
        to_status = CaseStatus.REQUIREMENTS_REJECTED
        Case.objects.filter(pk=case.pk).update(reviewed_at=when)
    CaseTransition.objects.filter(case=case, to_status=to_status).update(at=when)


@pytest.fixture
def november(analyst, supervisor):
    """Five cases on Wednesday 18 November 2026 at 15:00 (Ecuador)."""
    due_tomorrow = make_case(at(16), checked_at=at(16, 11))  # due Thu 19, 23:59
    due_today = make_case(at(13), checked_at=at(13, 11))  # due Wed 18, 23:59: 9 h left
    late = make_case(at(4), checked_at=at(4, 11))
    for case in (due_tomorrow, due_today, late):
        services.case_assign(case=case, actor=supervisor, assignee=analyst)
    overdue = make_case(at(10), checked_at=at(12))  # due Fri 13: overdue, unassigned
    on_time = make_case(at(16), checked_at=at(16, 11))  # answered Tue 17: on time
    answer(on_time, analyst, at(17, 9))
    # Submitted Wed 4: due Mon 9 (end of day); rejected Tue 10, in the month, not the week.
    answer(late, analyst, at(10, 16), how="reject")
    return {
        "due_tomorrow": due_tomorrow,
        "due_today": due_today,
        "overdue": overdue,
        "on_time": on_time,
        "late": late,
    }


def test_the_review_deadline_skips_weekends_and_the_november_holidays():
    closed = non_working_dates(dt.date(2026, 10, 25), dt.date(2026, 11, 30))
    # Friday 30 October: Mon 2 and Tue 3 are holidays, so Wed 4, Thu 5, Fri 6.
    assert review_deadline_day(dt.date(2026, 10, 30), closed) == dt.date(2026, 11, 6)
    assert review_deadline_day(dt.date(2026, 11, 13), closed) == dt.date(2026, 11, 18)
    # It agrees with the deadline stamped on a submitted case.
    for day in (dt.date(2026, 10, 30), dt.date(2026, 11, 13), dt.date(2026, 11, 4)):
        start = dt.datetime.combine(day, dt.time(10), tzinfo=ECUADOR)
        assert review_deadline_day(day, closed) == working_day_deadline(start, 3).date()


def test_workload_per_analyst_with_the_unassigned_cases(november, analyst):
    load = dashboard_workload(now=NOW)

    mine = next(row for row in load["rows"] if row["username"] == analyst.username)
    # Assigned and open: due tomorrow, due today (the rejected one is closed).
    assert mine == {**mine, "open": 2, "due_today": 1, "overdue": 0, "at_risk": 1}
    # Unassigned: the overdue case and the one waiting for the citizen's correction.
    assert load["unassigned"] == {"open": 2, "due_today": 0, "overdue": 1, "at_risk": 0}
    assert load["totals"] == {"open": 4, "due_today": 1, "overdue": 1, "at_risk": 1}


def test_cases_by_state_and_age_in_working_days(november):
    states = dashboard_states_by_age(now=NOW)
    rows = {
        row["status"]: dict(zip(states["buckets"], row["counts"], strict=True))
        for row in states["rows"]
    }

    # Submitted Mon 16 (2 working days: Tue, Wed), Fri 13 (3), Tue 10 (6: 11-13, 16-18).
    assert rows[CaseStatus.IN_REVIEW] == {"0-1": 0, "2-3": 2, "4-7": 1, ">7": 0}
    assert rows[CaseStatus.CORRECTION_REQUESTED] == {"0-1": 0, "2-3": 1, "4-7": 0, ">7": 0}
    assert CaseStatus.REQUIREMENTS_REJECTED not in rows  # closed cases have no age here
    assert states["total"] == 4


def test_sla_this_week_and_month_and_the_late_review_with_its_cause(november, analyst):
    sla = dashboard_sla(now=NOW)

    assert sla["week"] == {
        "since": dt.date(2026, 11, 16), "answered": 1, "on_time": 1, "late": 0, "percent": 100,
    }  # fmt: skip
    assert sla["month"] == {
        "since": dt.date(2026, 11, 1), "answered": 2, "on_time": 1, "late": 1, "percent": 50,
    }  # fmt: skip
    [late] = sla["late"]
    assert late["number"] == november["late"].number
    assert late["deadline"] == dt.date(2026, 11, 9)
    assert late["answered_by"] == analyst.username
    assert late["causes"] == [f"A cargo de {analyst.username}"]


def test_a_holiday_added_by_hand_moves_the_deadline_of_the_sla(november):
    # Mon 9 November declared a holiday: the case submitted Wed 4 was due Tue 10 instead,
    # and its rejection on Tue 10 was on time.
    Holiday.objects.create(date=dt.date(2026, 11, 9), name="Feriado local de prueba")

    sla = dashboard_sla(now=NOW)

    assert sla["month"]["late"] == 0 and sla["month"]["percent"] == 100
    assert sla["late"] == []


def test_a_review_late_because_the_checks_finished_late_says_so(analyst):
    slow = make_case(at(11), checked_at=at(17, 12))  # due Mon 16, checks done Tue 17
    answer(slow, analyst, at(17, 15), how="reject")

    [late] = dashboard_sla(now=NOW)["late"]

    assert late["causes"] == [
        "Las verificaciones automáticas terminaron después del plazo",
        "Sin asignar",
    ]


def test_overdue_now_with_causes_and_about_to_breach(november, analyst):
    stuck = make_case(at(11))  # due Mon 16, still submitted: the checks never finished
    overdue = {row["number"]: row for row in dashboard_overdue(now=NOW)}

    assert set(overdue) == {november["overdue"].number, stuck.number}
    assert overdue[november["overdue"].number]["causes"] == ["Sin asignar"]
    assert overdue[stuck.number]["causes"] == [
        "Esperando las verificaciones automáticas",
        "Sin asignar",
    ]
    # Due Fri 13 at 23:59, now Wed 18 at 15:00.
    assert overdue[november["overdue"].number]["hours_late"] == 4 * 24 + 15

    at_risk = dashboard_at_risk(now=NOW)
    assert [row["number"] for row in at_risk] == [november["due_today"].number]
    assert at_risk[0]["hours_left"] == 8  # 8 h 59 min
    assert at_risk[0]["holder"] == f"A cargo de {analyst.username}"


def test_at_risk_window_follows_the_setting(november, settings):
    settings.STAFF_AT_RISK_HOURS = 48
    numbers = [row["number"] for row in dashboard_at_risk(now=NOW)]
    assert numbers == [november["due_today"].number, november["due_tomorrow"].number]


def test_a_case_back_from_a_correction_and_overdue_names_the_correction(analyst, citizen_upload):
    case = make_case(at(9), checked_at=at(9, 11))
    answer(case, analyst, at(10, 9))
    correction = case.corrections.get()
    services.case_submit_correction(correction=correction, **citizen_upload)
    CaseTransition.objects.filter(case=case, from_status=CaseStatus.CORRECTION_REQUESTED).update(
        at=at(12, 8)
    )
    Case.objects.filter(pk=case.pk).update(review_due_at=working_day_deadline(at(12, 8), 1))

    [row] = dashboard_overdue(now=NOW)

    assert row["number"] == case.number
    assert "Volvió de una corrección del ciudadano el 12/11/2026" in row["causes"]


@pytest.fixture
def citizen_upload():
    """A corrected selfie, through the same validation as the portal's upload."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from ventanilla.documents.validation import inspect_upload
    from ventanilla.testing import media

    selfie = SimpleUploadedFile("selfie.jpg", media.jpeg_bytes(text="SELFIE 2"), "image/jpeg")
    inspected = inspect_upload("selfie", selfie)
    selfie.seek(0)
    return {"uploads": {"selfie": selfie}, "inspected": {"selfie": inspected}}


# --- the page ------------------------------------------------------------------------


def _live_cases(count: int, analyst, supervisor) -> None:
    """`count` cases around the real clock: overdue, about to breach, reviewed late and
    on time, assigned and not."""
    now = timezone.now()
    for i in range(count):
        case = make_case(now - dt.timedelta(days=10), checked_at=now - dt.timedelta(days=9))
        kind = i % 4
        if kind == 0:
            Case.objects.filter(pk=case.pk).update(review_due_at=now - dt.timedelta(hours=3))
        elif kind == 1:
            Case.objects.filter(pk=case.pk).update(review_due_at=now + dt.timedelta(hours=2))
            services.case_assign(case=case, actor=supervisor, assignee=analyst)
        elif kind == 2:
            answer(case, analyst, now - dt.timedelta(minutes=1), how="reject")
        else:
            Case.objects.filter(pk=case.pk).update(submitted_at=now - dt.timedelta(minutes=30))
            answer(case, analyst, now - dt.timedelta(minutes=1))


def _page_queries(client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_the_page_costs_the_same_queries_with_5_or_50_cases(client, supervisor, analyst):
    staff_login(client, supervisor)
    _live_cases(5, analyst, supervisor)
    few, html = _page_queries(client)
    assert "Tablero de supervisión" in html

    _live_cases(45, analyst, supervisor)
    many, html = _page_queries(client)

    assert many == few
    assert few <= 20
    assert (
        f'<dd id="kpi-overdue">{Case.objects.filter(review_due_at__lt=timezone.now(), status=CaseStatus.IN_REVIEW).count()}</dd>'
        in html
    )


def test_the_page_shows_the_breaches_and_who_holds_what(client, supervisor, analyst):
    _live_cases(4, analyst, supervisor)
    staff_login(client, supervisor)

    html = client.get(URL).content.decode()

    assert f'data-user="{analyst.username}"' in html
    overdue = html.split('id="overdue"')[1].split("</table>")[0]
    assert "Sin asignar" in overdue and "Horas de retraso" in overdue
    at_risk = html.split('id="at-risk"')[1].split("</table>")[0]
    assert f"A cargo de {analyst.username}" in at_risk
    late = html.split('id="late"')[1].split("</table>")[0]
    assert "Rechazado por requisitos" in late


@pytest.mark.parametrize(
    ("persona", "status"),
    [("supervisor", 200), ("auditor", 200), ("analyst", 403), ("outsider", 403)],
)
def test_who_sees_the_dashboard(client, request, persona, status):
    staff_login(client, request.getfixturevalue(persona))
    assert client.get(URL).status_code == status


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/gestion/ingresar/")
