"""The institute's internal figures (/gestion/cifras/): counts, reasons, SLA, stage
medians, check flags and no-shows for a period of Ecuador days and a country.

The cases are rows with chosen timestamps (transitions, calls, check results) around the
boundaries of November 2026 in Ecuador time (UTC-5: 23:30 on 30 November in Quito is
already 1 December in UTC), on the holiday table with 2 and 3 November closed. One case
goes through the real services end to end, so that the definitions match what the
services record.
"""

import csv
import datetime as dt
import html
import io
import itertools
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ventanilla.appointments.models import Appointment
from ventanilla.audit.models import AuditEvent
from ventanilla.cases.constants import CaseStatus as S
from ventanilla.cases.figures import (
    Period,
    figures_checks,
    figures_decided,
    figures_no_shows,
    figures_received,
    figures_rejections,
    figures_sla,
    figures_stage_times,
    figures_summary,
)
from ventanilla.cases.models import Case, CaseTransition
from ventanilla.cases.numbers import case_number_format
from ventanilla.checks.models import CheckResult
from ventanilla.review.models import CallVerification
from ventanilla.testing.factories import PEOPLE, case_in_status
from ventanilla.testing.staff import staff_login
from ventanilla.workdays.models import Holiday
from ventanilla.workdays.selectors import ECUADOR

pytestmark = pytest.mark.django_db

NOVEMBER = Period(start=dt.date(2026, 11, 1), end=dt.date(2026, 12, 1))
OCTOBER = Period(start=dt.date(2026, 10, 1), end=dt.date(2026, 11, 1))
DECEMBER = Period(start=dt.date(2026, 12, 1), end=dt.date(2027, 1, 1))
URL = "/gestion/cifras/"
CSV_URL = "/gestion/cifras/datos.csv"

_sequence = itertools.count(1)


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=ECUADOR)


@pytest.fixture(autouse=True)
def november_holidays(db):
    for day in (2, 3):
        Holiday.objects.update_or_create(
            date=dt.date(2026, 11, day), defaults={"name": "Feriado", "is_working_day": False}
        )


def make_case(submitted_at: dt.datetime, *steps, country: str = "ES", **fields) -> Case:
    """A case submitted at `submitted_at` that then went through `steps`, each
    (to_status, at), recorded as the state machine records them."""
    seq = next(_sequence)
    person = {**PEOPLE[seq % len(PEOPLE)], "residence_country": country}
    case = Case.objects.create(
        **person,
        id_type="cedula",
        sector="Centro",
        message="Solicito la actualización de mis datos de contacto.",
        number=case_number_format(2026, seq),
        status=S.SUBMITTED,
        submitted_at=submitted_at,
        status_changed_at=submitted_at,
        **fields,
    )
    CaseTransition.objects.create(
        case=case, to_status=S.SUBMITTED, at=submitted_at, actor_label="citizen"
    )
    status = S.SUBMITTED
    for to_status, when in steps:
        CaseTransition.objects.create(
            case=case, from_status=status, to_status=to_status, at=when, actor_label="analista"
        )
        status = to_status
    Case.objects.filter(pk=case.pk).update(
        status=status, status_changed_at=steps[-1][1] if steps else submitted_at
    )
    return Case.objects.get(pk=case.pk)


def appointment(case: Case, starts_at: dt.datetime, status: str) -> Appointment:
    return Appointment.objects.create(
        case=case,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=30),
        citizen_timezone="Europe/Madrid",
        meeting_provider="jitsi",
        meeting_url="https://meet.example.org/sala",
        ical_uid=f"cita-{next(_sequence)}@ventanilla.test",
        status=status,
    )


def review_path(answered: dt.datetime, decision: str = S.REQUIREMENTS_REJECTED):
    """Checks done an hour after submission is not needed for the figures: straight to
    review, then the analyst's first answer at `answered`."""
    return [(S.IN_REVIEW, answered - dt.timedelta(minutes=30)), (decision, answered)]


# --- received, decided, rejected by reason -----------------------------------------------


def test_received_counts_each_case_in_its_ecuador_month():
    make_case(at(10, 31, 23, 30))  # 1 November 04:30 UTC: still October in Quito
    make_case(at(11, 1, 0, 10))
    make_case(at(11, 30, 23, 30))  # 1 December in UTC: November in Quito
    make_case(at(12, 1, 0, 5))

    assert figures_received(OCTOBER) == 1
    assert figures_received(NOVEMBER) == 2
    assert figures_received(DECEMBER) == 1


def test_decided_and_rejected_by_reason(analyst):
    make_case(
        at(11, 5),
        *review_path(at(11, 10)),
        decision_reasons=["amended_form", "unsigned_form"],
    )
    make_case(at(11, 20), *review_path(at(11, 30, 23, 50)), decision_reasons=["amended_form"])
    make_case(at(11, 25), *review_path(at(12, 1, 0, 10)), decision_reasons=["unsigned_form"])
    call = [(S.CALL_PENDING, at(11, 6)), (S.CALL_SCHEDULED, at(11, 6))]
    marked = make_case(at(11, 5), (S.IN_REVIEW, at(11, 5, 11)), *call)
    unmarked = make_case(at(11, 5), (S.IN_REVIEW, at(11, 5, 11)), *call)
    for case, answers in (
        (marked, {"birth_date": "does_not_match", "fingerprint_code": "matches"}),
        (unmarked, {}),
    ):
        transition_at = at(11, 12)
        CaseTransition.objects.create(
            case=case,
            from_status=S.CALL_SCHEDULED,
            to_status=S.IDENTITY_REJECTED,
            at=transition_at,
            actor_label="analista",
        )
        Case.objects.filter(pk=case.pk).update(
            status=S.IDENTITY_REJECTED, status_changed_at=transition_at
        )
        CallVerification.objects.create(
            appointment=appointment(case, at(11, 12, 9), Appointment.Status.HELD),
            case=case,
            answers=answers,
            outcome="not_validated",
            notes="No coincide.",
            recorded_by=analyst,
        )
    make_case(at(11, 2), (S.WITHDRAWN, at(11, 3)))
    make_case(at(10, 20), (S.WITHDRAWN, at(10, 31, 23, 59)))  # October in Quito

    decided = figures_decided(NOVEMBER)
    counts = {row["status"]: row["count"] for row in decided["rows"]}
    assert counts == {
        S.REQUIREMENTS_REJECTED: 2,
        S.COMPLETED: 0,
        S.IDENTITY_REJECTED: 2,
        S.WITHDRAWN: 1,
        S.EXPIRED: 0,
    }
    assert decided["total"] == 5
    rejections = figures_rejections(NOVEMBER)
    reasons = {r["code"]: r["count"] for r in rejections["requirements"]["rows"]}
    assert rejections["requirements"]["cases"] == 2
    assert reasons["amended_form"] == 2
    assert reasons["unsigned_form"] == 1
    assert sum(reasons.values()) == 3
    identity = rejections["identity"]
    assert identity["cases"] == 2
    assert {r["code"]: r["count"] for r in identity["rows"]} == {
        "fingerprint_code": 0,
        "id_issue_date": 0,
        "birth_date": 1,
    }
    assert identity["unmarked"] == 1
    assert figures_rejections(DECEMBER)["requirements"]["cases"] == 1


# --- SLA ---------------------------------------------------------------------------------


def test_sla_counts_first_answers_in_the_period_against_the_working_day_deadline():
    # Mon 16 Nov: due at the end of Thu 19. Answered Thu 19 at 23:00 in Quito (Fri 20 in
    # UTC): on time.
    make_case(at(11, 16), *review_path(at(11, 19, 23), S.CORRECTION_REQUESTED))
    # The same deadline, answered Fri 20 at 00:30: late.
    make_case(at(11, 16), *review_path(at(11, 20, 0, 30)))
    # Wed 28 Oct: Thu 29, Fri 30, then the 2 and 3 November holidays: due Wed 4 Nov.
    make_case(at(10, 28), *review_path(at(11, 4, 15), S.CALL_PENDING))
    # A correction answered on time; the later approval is not a second review.
    make_case(
        at(11, 9),
        *review_path(at(11, 10), S.CORRECTION_REQUESTED),
        (S.IN_REVIEW, at(11, 23)),
        (S.CALL_PENDING, at(11, 30)),
    )
    # First answered in December: not November's.
    make_case(at(11, 27), *review_path(at(12, 1, 9)))

    assert figures_sla(NOVEMBER) == {"answered": 4, "on_time": 3, "late": 1, "percent": 75.0}
    assert figures_sla(DECEMBER) == {"answered": 1, "on_time": 1, "late": 0, "percent": 100.0}
    assert figures_sla(OCTOBER)["percent"] is None


# --- time per stage ----------------------------------------------------------------------


def test_median_time_per_stage_in_hours_and_working_days():
    # A: first answer a correction (24 h, 1 working day); approved 3 days later (72 h,
    # 3 working days); call held Tue 17 (96 h; Mon 16 and Tue 17: 2); data applied a
    # minute later.
    make_case(
        at(11, 9),
        (S.IN_REVIEW, at(11, 9, 11)),
        (S.CORRECTION_REQUESTED, at(11, 10)),
        (S.IN_REVIEW, at(11, 12)),
        (S.CALL_PENDING, at(11, 13)),
        (S.CALL_SCHEDULED, at(11, 13)),
        (S.IDENTITY_VALIDATED, at(11, 17)),
        (S.COMPLETED, at(11, 17, 10, 1)),
    )
    # B: approved at once after 6 hours (0 working days; stage 2 is zero); missed a call,
    # booked again, not validated Thu 19 (234 h; 8 working days from Mon 9).
    make_case(
        at(11, 9),
        (S.IN_REVIEW, at(11, 9, 11)),
        (S.CALL_PENDING, at(11, 9, 16)),
        (S.CALL_SCHEDULED, at(11, 9, 16)),
        (S.CALL_PENDING, at(11, 11)),
        (S.CALL_SCHEDULED, at(11, 12)),
        (S.IDENTITY_REJECTED, at(11, 19)),
    )
    # C: submitted on the Mon 2 holiday, rejected Thu 5 (72 h; Wed 4 and Thu 5: 2).
    make_case(at(11, 2), *review_path(at(11, 5)))
    # D: its call ends on 1 December in Quito: no November stage but its first answer.
    make_case(
        at(11, 23),
        (S.IN_REVIEW, at(11, 23, 11)),
        (S.CALL_PENDING, at(11, 23, 12)),
        (S.CALL_SCHEDULED, at(11, 24)),
        (S.IDENTITY_VALIDATED, at(12, 1, 0, 30)),
    )

    stages = {row["stage"]: row for row in figures_stage_times(NOVEMBER)}

    assert stages["review"] == {
        "stage": "review",
        "cases": 4,  # A 24 h, B 6 h, C 72 h, D 2 h
        "median_hours": 15.0,
        "median_working_days": 0.5,  # 1, 0, 2, 0
    }
    assert stages["invitation"] == {
        "stage": "invitation",
        "cases": 3,  # A 72 h, B 0 h, D 0 h
        "median_hours": 0.0,
        "median_working_days": 0,
    }
    assert stages["call"] == {
        "stage": "call",
        "cases": 2,  # A 96 h / 2, B 234 h / 8
        "median_hours": 165.0,
        "median_working_days": 5.0,
    }
    assert stages["completion"] == {
        "stage": "completion",
        "cases": 1,
        "median_hours": 0.0,
        "median_working_days": 0,
    }
    december = {row["stage"]: row for row in figures_stage_times(DECEMBER)}
    assert december["call"]["cases"] == 1
    assert december["call"]["median_hours"] == round(
        (at(12, 1, 0, 30) - at(11, 23, 12)).total_seconds() / 3600, 1
    )
    assert december["review"] == {
        "stage": "review",
        "cases": 0,
        "median_hours": None,
        "median_working_days": None,
    }


# --- automated checks and no-shows ------------------------------------------------------


def result(case: Case, name: str, outcome: str, *, current: bool = True) -> None:
    CheckResult.objects.create(
        case=case, name=name, outcome=outcome, summary="prueba", is_current=current
    )


def test_share_of_cases_flagged_by_each_check():
    one = make_case(at(11, 10))
    result(one, "image_quality", "warn")
    result(one, "image_quality", "pass")  # another file of the same case
    result(one, "face_match", "fail")
    two = make_case(at(11, 30, 23, 30))
    result(two, "image_quality", "pass")
    result(two, "image_quality", "fail", current=False)  # replaced by a later run
    result(two, "face_match", "error")
    october = make_case(at(10, 31, 23, 30))
    result(october, "image_quality", "fail")

    checks = {row["name"]: row for row in figures_checks(NOVEMBER)}

    assert checks["image_quality"] == {
        "name": "image_quality",
        "label": checks["image_quality"]["label"],
        "checked": 2,
        "flagged": 1,
        "failed": 0,
        "errors": 0,
        "percent": 50.0,
    }
    face = checks["face_match"]
    assert (face["checked"], face["flagged"], face["failed"], face["errors"]) == (2, 1, 1, 1)
    assert checks["signature"]["checked"] == 0
    assert checks["signature"]["percent"] is None
    assert list(checks) == [
        "file_integrity",
        "image_quality",
        "face_match",
        "video_statement",
        "signature",
        "consistency",
        "cross_case",
    ]


def test_no_shows_and_their_share_of_calls():
    case = make_case(at(11, 2))
    appointment(case, at(11, 10), Appointment.Status.HELD)
    appointment(case, at(11, 12), Appointment.Status.NO_SHOW)
    appointment(case, at(11, 30, 23, 30), Appointment.Status.NO_SHOW)
    appointment(case, at(12, 1, 0, 30), Appointment.Status.NO_SHOW)
    appointment(case, at(11, 20), Appointment.Status.SCHEDULED)
    appointment(case, at(11, 21), Appointment.Status.CANCELLED)

    assert figures_no_shows(NOVEMBER) == {
        "calls": 3,
        "held": 1,
        "no_shows": 2,
        "percent": 66.7,
    }
    assert figures_no_shows(DECEMBER)["percent"] == 100.0


# --- country filter and cost -------------------------------------------------------------


def test_the_country_filter_applies_to_every_section():
    spain = make_case(at(11, 9), *review_path(at(11, 10)), country="ES", decision_reasons=["other"])
    usa = make_case(at(11, 9), *review_path(at(11, 20)), country="US", decision_reasons=["other"])
    result(spain, "signature", "warn")
    result(usa, "signature", "pass")
    appointment(spain, at(11, 12), Appointment.Status.NO_SHOW)
    appointment(usa, at(11, 12), Appointment.Status.HELD)

    for country, on_time, flagged, no_shows in (("ES", 1, 1, 1), ("US", 0, 0, 0)):
        period = Period(start=NOVEMBER.start, end=NOVEMBER.end, country=country)
        assert figures_received(period) == 1
        assert figures_decided(period)["total"] == 1
        assert figures_rejections(period)["requirements"]["cases"] == 1
        assert figures_sla(period)["on_time"] == on_time
        assert figures_stage_times(period)[0]["cases"] == 1
        signature = next(r for r in figures_checks(period) if r["name"] == "signature")
        assert signature["flagged"] == flagged
        assert figures_no_shows(period)["no_shows"] == no_shows
    assert figures_received(NOVEMBER) == 2


def test_the_number_of_queries_does_not_grow_with_the_cases():
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            figures_summary(NOVEMBER)
        return len(captured)

    make_case(at(11, 9), *review_path(at(11, 10)), decision_reasons=["other"])
    few = queries()
    for day in range(10, 20):
        case = make_case(at(11, day), *review_path(at(11, day, 16)), decision_reasons=["other"])
        result(case, "signature", "warn")
        appointment(case, at(11, day, 12), Appointment.Status.HELD)
    assert queries() == few
    assert few <= 15, few


# --- one case through the real services ---------------------------------------------------


def test_a_case_through_the_real_services_is_counted_in_every_stage(analyst):
    case = case_in_status(S.COMPLETED, analyst)
    today = case.submitted_at.astimezone(ECUADOR).date()
    period = Period(start=today.replace(day=1), end=today + dt.timedelta(days=1))

    summary = figures_summary(period)

    assert summary["received"] == 1
    assert {r["status"]: r["count"] for r in summary["decided"]["rows"]}[S.COMPLETED] == 1
    assert summary["sla"] == {"answered": 1, "on_time": 1, "late": 0, "percent": 100.0}
    assert [row["cases"] for row in summary["stages"]] == [1, 1, 1, 1]
    assert summary["no_shows"]["calls"] == 0


# --- the page and the CSV -----------------------------------------------------------------


def _page_rows(content: str) -> list[list[str]]:
    rows = []
    for section, table in re.findall(r'data-section="([^"]*)">(.*?)</table>', content, re.S):
        for name, value, unit in re.findall(
            r'<tr><th scope="row">(.*?)</th><td class="num">(.*?)</td><td>(.*?)</td></tr>', table
        ):
            value = "" if value == "—" else value
            rows.append([html.unescape(x) for x in (section, name, value, unit)])
    return rows


@pytest.fixture
def november(analyst):
    case = make_case(at(11, 9), *review_path(at(11, 10)), decision_reasons=["amended_form"])
    result(case, "signature", "warn")
    appointment(case, at(11, 12), Appointment.Status.NO_SHOW)
    make_case(at(11, 12), country="US")
    return case


@pytest.mark.parametrize("who", ["supervisor", "auditor"])
def test_the_csv_says_what_the_page_says_and_is_audited(client, november, request, who):
    user = request.getfixturevalue(who)
    staff_login(client, user)
    query = "?desde=2026-11-01&hasta=2026-11-30&pais=ES"

    page = client.get(URL + query)
    export = client.get(CSV_URL + query)

    assert page.status_code == 200
    assert export.status_code == 200
    assert export["Content-Disposition"] == 'attachment; filename="cifras-20261101-20261130-ES.csv"'
    lines = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert lines[0] == ["section", "name", "value", "unit"]
    assert lines[1:] == _page_rows(page.content.decode())
    by_name = {(section, name, unit): value for section, name, value, unit in lines[1:]}
    assert by_name[("Trámites recibidos", "Recibidos", "trámites")] == "1"
    assert by_name[("Período y país", "País de residencia", "país")] == "España"
    assert by_name[("Cumplimiento del plazo de revisión", "Cumplimiento", "%")] == "100.0"
    assert (
        by_name[("Rechazos por motivo", "Requisitos: Formulario con enmendaduras", "trámites")]
        == "1"
    )
    assert by_name[("Inasistencias a la videollamada", "Inasistencias", "%")] == "100.0"
    event = AuditEvent.objects.get(action="figures.exported")
    assert event.actor == user
    assert event.new_value == {
        "filters": {"desde": "2026-11-01", "hasta": "2026-11-30", "pais": "ES"}
    }


def test_the_page_offers_only_the_countries_of_some_case(client, november, supervisor):
    staff_login(client, supervisor)

    page = client.get(URL).content.decode()

    assert re.findall(r'<option value="([A-Z]{2})"', page) == ["ES", "US"]
    assert "/gestion/cifras/datos.csv?desde=" in page
    assert client.get(URL + "?pais=FR").status_code == 400


def test_quick_periods_and_wrong_dates(client, supervisor):
    from ventanilla.backoffice.figures_views import quick_period

    today = dt.date(2026, 1, 15)
    assert quick_period("este_mes", today) == (dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    assert quick_period("mes_anterior", today) == (dt.date(2025, 12, 1), dt.date(2025, 12, 31))
    assert quick_period("ultimos_12_meses", today) == (dt.date(2025, 2, 1), dt.date(2026, 1, 31))
    staff_login(client, supervisor)

    reversed_dates = client.get(URL + "?desde=2026-11-30&hasta=2026-11-01")
    too_long = client.get(CSV_URL + "?desde=2024-01-01&hasta=2026-11-01")

    assert reversed_dates.status_code == 400
    assert "posterior a «Hasta» (2026-11-01): inviértalas" in reversed_dates.content.decode()
    assert too_long.status_code == 400
    assert "el máximo es 400" in too_long.content.decode()
    assert not AuditEvent.objects.filter(action="figures.exported").exists()
    last_month = client.get(URL + "?periodo=mes_anterior&pais=")
    assert last_month.status_code == 200
    first, last = quick_period("mes_anterior", dt.datetime.now(ECUADOR).date())
    assert f'value="{first.isoformat()}"' in last_month.content.decode()
    assert f'value="{last.isoformat()}"' in last_month.content.decode()
