"""The analysts' queue: nearest deadline first, time left in working days and hours,
filters, search, pages that never count a million rows, a constant number of queries."""

import datetime as dt
import itertools
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ventanilla.cases.constants import CaseStatus
from ventanilla.cases.models import Case
from ventanilla.cases.numbers import case_number_format
from ventanilla.cases.selectors import case_queue_rows
from ventanilla.cases.services import case_checks_outcome_record, case_invite, case_mark_checked
from ventanilla.checks.constants import Recommendation
from ventanilla.testing.factories import submission_fields, submission_files, submit_request
from ventanilla.testing.staff import staff_login
from ventanilla.workdays.models import Holiday
from ventanilla.workdays.selectors import ECUADOR, working_day_deadline

pytestmark = pytest.mark.django_db

QUEUE = "/gestion/"
_sequence = itertools.count(1)


def queue_case(
    *,
    due: dt.datetime | None | str = "auto",
    status: str = CaseStatus.IN_REVIEW,
    submitted: dt.datetime | None = None,
    first_names: str = "Carmen",
    last_names: str = "Vera Loor",
    id_number: str | None = None,
    country: str = "ES",
    assigned_to=None,
    flags: list | None = None,
) -> Case:
    """A case row as the intake leaves it (no files: the queue never reads them)."""
    n = next(_sequence)
    now = timezone.now()
    submitted = submitted or now - dt.timedelta(minutes=n)
    if due == "auto":
        due = submitted + dt.timedelta(days=3)
    return Case.objects.create(
        number=case_number_format(2026, 100000 + n),
        status=status,
        submitted_at=submitted,
        status_changed_at=submitted,
        review_due_at=due,
        id_type="cedula",
        id_number=id_number or f"09{n:08d}",
        first_names=first_names,
        last_names=last_names,
        birth_date=dt.date(1980, 5, 1),
        birth_province="09",
        sector="Centro",
        message="Actualización de datos",
        residence_country=country,
        residence_region="Madrid",
        residence_city="Madrid",
        postal_code="28001",
        foreign_phone="+34600111222",
        email=f"persona{n}@example.org",
        ecuador_mobile="0991234567",
        assigned_to=assigned_to,
        assigned_at=now if assigned_to else None,
        flags=flags or [],
    )


def _rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [chunk.split("</tr>")[0] for chunk in body.split("<tr>")[1:]]


def _numbers(client, query: str = "") -> list[str]:
    html = client.get(QUEUE + query).content.decode()
    return [m for row in _rows(html) for m in re.findall(r"VV-\d{4}-\d{6}-[0-9A-Z]", row)[:1]]


# Order and time left.


def test_a_real_submission_appears_with_its_clock_and_an_invited_case_without(client, analyst):
    later = case_mark_checked(case_id=submit_request(*_submission(0)).pk)
    overdue = case_mark_checked(case_id=submit_request(*_submission(1)).pk)
    invited = case_mark_checked(case_id=submit_request(*_submission(2)).pk)
    Case.objects.filter(pk=overdue.pk).update(review_due_at=timezone.now() - dt.timedelta(hours=1))
    case_invite(case=invited, actor=analyst, starts_at=timezone.now() + dt.timedelta(days=2))
    staff_login(client, analyst)

    rows = _rows(client.get(QUEUE).content.decode())

    assert overdue.number in rows[0] and "Vencido" in rows[0]
    later_row = next(r for r in rows if later.number in r)
    assert re.search(r"[0-3] días laborables \(\d+ h\)", later_row)
    assert "María Fernanda Quispe Andrade" in "".join(rows) and "España" in "".join(rows)
    invited_row = next(r for r in rows if invited.number in r)
    assert "Vencido" not in invited_row and "días laborables" not in invited_row


def _submission(person: int):
    fields = submission_fields(person)
    return fields, submission_files(fields)


def test_deadline_first_then_submission_time_and_cases_without_a_clock_last(client, analyst):
    now = timezone.now()
    far = queue_case(due=now + dt.timedelta(days=5))
    no_clock = queue_case(due=None, status=CaseStatus.CALL_PENDING)
    overdue = queue_case(due=now - dt.timedelta(hours=2))
    tied_late = queue_case(due=now + dt.timedelta(days=1), submitted=now - dt.timedelta(hours=1))
    tied_early = queue_case(due=now + dt.timedelta(days=1), submitted=now - dt.timedelta(hours=5))
    queue_case(due=None, status=CaseStatus.COMPLETED)  # closed: not in the open queue
    staff_login(client, analyst)

    assert _numbers(client) == [
        overdue.number,
        tied_early.number,
        tied_late.number,
        far.number,
        no_clock.number,
    ]


def _next_weekday(day: dt.date) -> dt.date:
    day += dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def test_the_page_counts_working_days_across_the_weekend_and_a_holiday_added_by_hand(
    client, analyst
):
    now = timezone.now()
    today = now.astimezone(ECUADOR).date()
    # Tomorrow's working day becomes a holiday, typed in by an administrator.
    Holiday.objects.update_or_create(
        date=_next_weekday(today),
        defaults={"name": "Feriado local", "is_working_day": False, "source": "manual"},
    )
    soon = queue_case(due=working_day_deadline(now, 2))
    # Five working days after today always span a weekend.
    week = queue_case(due=working_day_deadline(now, 5))
    staff_login(client, analyst)

    rows = _rows(client.get(QUEUE).content.decode())

    assert soon.number in rows[0] and "2 días laborables" in rows[0]
    assert week.number in rows[1] and "5 días laborables" in rows[1]
    for row, case in ((rows[0], soon), (rows[1], week)):
        shown = int(re.search(r"\((\d+) h\)", row)[1])
        assert abs(shown - (case.review_due_at - now).total_seconds() / 3600) <= 1


def _at(day: str, time: str = "10:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=ECUADOR)


def _end_of(day: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time.max, tzinfo=ECUADOR)


def test_time_left_skips_carnival_and_a_holiday_added_by_hand():
    # Friday 13 February 2026; Carnival is Monday 16 and Tuesday 17 (seeded calendar).
    now = _at("2026-02-13")
    after_carnival = queue_case(due=_end_of("2026-02-20"))
    before = queue_case(due=_end_of("2026-02-16"), status=CaseStatus.SUBMITTED)
    paused = queue_case(due=None, status=CaseStatus.CORRECTION_REQUESTED)

    rows = {r["case"].pk: r for r in case_queue_rows([after_carnival, before, paused], now=now)}

    assert rows[after_carnival.pk]["days_left"] == 3  # Wed 18, Thu 19, Fri 20
    assert rows[after_carnival.pk]["hours_left"] == 182
    assert rows[before.pk]["days_left"] == 0  # the weekend and Carnival Monday: none left
    assert rows[paused.pk]["days_left"] is None and rows[paused.pk]["hours_left"] is None

    Holiday.objects.create(date=dt.date(2026, 2, 19), name="Feriado local", source="manual")
    rows = {r["case"].pk: r for r in case_queue_rows([after_carnival], now=now)}
    assert rows[after_carnival.pk]["days_left"] == 2


# Filters.


def test_filter_by_status_and_country(client, analyst):
    spain = queue_case(country="ES")
    italy = queue_case(country="IT")
    paused = queue_case(status=CaseStatus.CORRECTION_REQUESTED, due=None, country="IT")
    closed = queue_case(status=CaseStatus.COMPLETED, due=None, country="IT")
    staff_login(client, analyst)

    assert set(_numbers(client, "?pais=IT")) == {italy.number, paused.number}
    assert set(_numbers(client, "?pais=es")) == {spain.number}
    assert _numbers(client, "?estado=correction_requested") == [paused.number]
    # Asking for a closed status shows closed cases; the open queue never does.
    assert _numbers(client, "?estado=completed") == [closed.number]
    assert closed.number not in _numbers(client)
    # An unknown status is ignored rather than answered with an empty page.
    assert set(_numbers(client, "?estado=nada")) == {spain.number, italy.number, paused.number}


def test_filter_by_assigned_analyst_unassigned_and_mine(client, analyst, supervisor):
    from ventanilla.staff.roles import Role
    from ventanilla.staff.services import staff_user_ensure

    other = staff_user_ensure(username="otro.analista", password="x" * 20, role=Role.ANALYST)
    mine = queue_case(assigned_to=analyst)
    theirs = queue_case(assigned_to=other)
    nobody = queue_case()
    staff_login(client, analyst)

    assert _numbers(client, "?analista=yo") == [mine.number]
    assert _numbers(client, f"?analista={other.pk}") == [theirs.number]
    assert _numbers(client, "?analista=sin") == [nobody.number]
    assert set(_numbers(client, "?analista=")) == {mine.number, theirs.number, nobody.number}
    page = client.get(QUEUE).content.decode()
    assert "otro.analista" in page and "Sin asignar" in page


def test_at_risk_means_the_review_clock_ends_within_the_window_or_has_ended(
    client, analyst, settings
):
    now = timezone.now()
    overdue = queue_case(due=now - dt.timedelta(hours=3))
    tonight = queue_case(due=now + dt.timedelta(hours=20))
    in_two_days = queue_case(due=now + dt.timedelta(hours=48))
    queue_case(due=None, status=CaseStatus.CORRECTION_REQUESTED)  # clock paused
    staff_login(client, analyst)

    assert _numbers(client, "?riesgo=1") == [overdue.number, tonight.number]
    assert "En riesgo" in _rows(client.get(QUEUE).content.decode())[1]

    settings.STAFF_AT_RISK_HOURS = 72
    assert _numbers(client, "?riesgo=1") == [overdue.number, tonight.number, in_two_days.number]


def test_flagged_by_submission_flags_or_by_the_checks_recommendation(client, analyst):
    flagged_at_intake = queue_case(flags=["other_open_case"])
    suspicious = queue_case()
    manual = queue_case()
    ready = queue_case()
    queue_case()
    case_checks_outcome_record(case_id=suspicious.pk, recommendation=Recommendation.SUSPICIOUS)
    case_checks_outcome_record(case_id=manual.pk, recommendation=Recommendation.MANUAL_REVIEW)
    case_checks_outcome_record(case_id=ready.pk, recommendation=Recommendation.READY_FOR_CALL)
    staff_login(client, analyst)

    assert set(_numbers(client, "?marcado=1")) == {
        flagged_at_intake.number,
        suspicious.number,
        manual.number,
    }
    row = next(r for r in _rows(client.get(QUEUE).content.decode()) if suspicious.number in r)
    assert "Sospechosa" in row

    # A later run that finds nothing clears the mark.
    case_checks_outcome_record(case_id=suspicious.pk, recommendation=Recommendation.READY_FOR_CALL)
    assert suspicious.number not in _numbers(client, "?marcado=1")


def test_filters_combine(client, analyst):
    now = timezone.now()
    wanted = queue_case(country="IT", due=now + dt.timedelta(hours=5), flags=["not_in_registry"])
    queue_case(country="ES", due=now + dt.timedelta(hours=5), flags=["not_in_registry"])
    queue_case(country="IT", due=now + dt.timedelta(days=4), flags=["not_in_registry"])
    queue_case(country="IT", due=now + dt.timedelta(hours=5), assigned_to=analyst)
    staff_login(client, analyst)

    assert _numbers(client, "?pais=IT&riesgo=1&marcado=1&analista=sin") == [wanted.number]


# Search.


def test_search_by_case_number_typed_any_way(client, analyst):
    case = queue_case()
    queue_case()
    year, seq, check = case.number.split("-")[1:]
    staff_login(client, analyst)

    for typed in (
        case.number,
        case.number.lower(),
        f" vv {year} {seq} {check.lower()} ",
        f"VV{year}{seq}{check}",
        f"vv–{year}–{seq}–{check}",  # en dashes, as word processors write them
    ):
        assert _numbers(client, f"?q={typed}") == [case.number], typed


def test_search_by_id_number_is_exact_and_finds_closed_cases_too(client, analyst):
    open_case = queue_case(id_number="0923456784")
    closed = queue_case(id_number="0923456784", status=CaseStatus.COMPLETED, due=None)
    queue_case(id_number="0923456700")
    staff_login(client, analyst)

    assert set(_numbers(client, "?q=0923456784")) == {open_case.number, closed.number}
    assert set(_numbers(client, "?q=092345678-4")) == {open_case.number, closed.number}
    assert _numbers(client, "?q=09234567") == []


def test_search_by_name_every_word_ignoring_accents_and_case(client, analyst):
    jose = queue_case(first_names="José Andrés", last_names="Guamán Núñez")
    queue_case(first_names="José", last_names="Pérez Tomalá")
    andrea = queue_case(
        first_names="Andrea", last_names="GUAMÁN LOOR", status=CaseStatus.EXPIRED, due=None
    )
    staff_login(client, analyst)

    assert _numbers(client, "?q=jose guaman") == [jose.number]
    assert _numbers(client, "?q=GUAMÁN  andrés") == [jose.number]
    assert _numbers(client, "?q=nunez") == [jose.number]
    assert _numbers(client, "?q=Núñez José") == [jose.number]
    assert _numbers(client, "?q=jose lopez") == []
    # A name is looked for among the open cases, unless closed ones are asked for too:
    # then they come after those whose clock runs.
    assert _numbers(client, "?q=guaman") == [jose.number]
    assert _numbers(client, "?q=andrea guaman loor") == []
    assert _numbers(client, "?q=guaman&estado=todos") == [jose.number, andrea.number]
    assert _numbers(client, "?q=andrea guaman loor&estado=expired") == [andrea.number]


def test_short_particles_of_a_name_are_left_out_while_a_longer_word_remains(client, analyst):
    lourdes = queue_case(first_names="María de Lourdes", last_names="Cedeño Vera")
    queue_case(first_names="Lourdes", last_names="Dávila Soto")
    queue_case(first_names="María", last_names="Delgado Ruiz")
    staff_login(client, analyst)

    assert _numbers(client, "?q=maria de lourdes") == [lourdes.number]
    assert _numbers(client, "?q=María  DE la Lourdes") == [lourdes.number]
    # Only short words: they are all that was typed, so they are looked for.
    assert set(_numbers(client, "?q=de")) >= {lourdes.number}


# Pages and queries.


def test_pages_of_fifty_with_a_next_link_and_no_count(client, analyst):
    now = timezone.now()
    cases = [queue_case(due=now + dt.timedelta(hours=i + 1)) for i in range(51)]
    staff_login(client, analyst)

    with CaptureQueriesContext(connection) as queries:
        html = client.get(QUEUE + "?pais=ES").content.decode()
    assert len(_rows(html)) == 50
    assert 'rel="next"' in html and "pais=ES" in html.split('rel="next"')[0].rsplit("href", 1)[1]
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)

    html = client.get(QUEUE + "?pais=ES&pagina=2").content.decode()
    rows = _rows(html)
    assert len(rows) == 1 and cases[-1].number in rows[0]
    assert 'rel="next"' not in html and 'rel="prev"' in html

    assert len(_rows(client.get(QUEUE + "?pagina=abc").content.decode())) == 50


def _queue_queries(client, query: str = "") -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(QUEUE + query)
    assert response.status_code == 200
    return len(queries.captured_queries)


@pytest.mark.parametrize("viewer", ["analyst", "supervisor"])
def test_the_number_of_queries_does_not_grow_with_the_number_of_cases(
    client, analyst, supervisor, viewer
):
    from ventanilla.staff.roles import Role
    from ventanilla.staff.services import staff_user_ensure

    others = [
        staff_user_ensure(username=f"analista.{i}", password="x" * 20, role=Role.ANALYST)
        for i in range(3)
    ]
    user = {"analyst": analyst, "supervisor": supervisor}[viewer]
    staff_login(client, user)
    for i in range(5):
        queue_case(assigned_to=others[i % 3], flags=["not_in_registry"])
    few = {q: _queue_queries(client, q) for q in ("", "?marcado=1&riesgo=1", "?q=carmen vera")}

    for i in range(55):
        queue_case(assigned_to=others[i % 3] if i % 2 else None, country="ES")
    many = {q: _queue_queries(client, q) for q in few}

    assert many == few
    assert max(many.values()) <= 10
