"""Who works a case: "take the next", a supervisor's assignment, random allocation.
Every change of hands is audited; refused requests change nothing."""

import datetime as dt
import threading
import time
from collections import Counter

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.utils import timezone

from ventanilla.audit.models import AuditEvent
from ventanilla.cases.constants import CaseStatus
from ventanilla.cases.models import Case
from ventanilla.cases.services import case_take_next
from ventanilla.staff.roles import Role
from ventanilla.staff.services import staff_user_ensure
from ventanilla.testing.staff import staff_login

from .test_queue import queue_case

pytestmark = pytest.mark.django_db

TAKE = "/gestion/tomar/"
ASSIGN = "/gestion/asignar/"


def _analyst(name: str):
    return staff_user_ensure(username=name, password="x" * 20, role=Role.ANALYST)


def _assignments() -> list[dict]:
    return [
        {"case": e.case.number, "by": e.actor_label, **e.old_value, **e.new_value}
        for e in AuditEvent.objects.filter(action="case.assigned").select_related("case")
    ]


def _assigned_to(case):
    case.refresh_from_db()
    return case.assigned_to


# Take the next case.


def test_take_next_gives_the_nearest_deadline_and_never_the_same_case_twice(client, analyst):
    now = timezone.now()
    colleague = _analyst("beto.analista")
    already_taken = queue_case(due=now - dt.timedelta(hours=5), assigned_to=colleague)
    queue_case(due=None, status=CaseStatus.COMPLETED)
    first = queue_case(due=now + dt.timedelta(hours=2))
    second = queue_case(due=now + dt.timedelta(hours=30))
    staff_login(client, analyst)

    response = client.post(TAKE)
    assert (
        response.status_code == 302 and response["Location"] == f"/gestion/tramites/{first.number}/"
    )
    assert _assigned_to(first) == analyst

    other = Client()
    staff_login(other, colleague)
    response = other.post(TAKE)
    assert response["Location"] == f"/gestion/tramites/{second.number}/"
    assert _assigned_to(second) == colleague
    assert _assigned_to(already_taken) == colleague

    assert _assignments() == [
        {"case": first.number, "by": analyst.username, "assigned_to": analyst.username,
         "how": "take_next"},
        {"case": second.number, "by": colleague.username, "assigned_to": colleague.username,
         "how": "take_next"},
    ]  # fmt: skip
    first.refresh_from_db()
    assert first.assigned_at is not None

    # Nothing left: the analyst is told so and stays on the queue.
    response = client.post(TAKE, follow=True)
    assert response.redirect_chain[-1][0] == "/gestion/"
    assert "No quedan trámites abiertos sin asignar" in response.content.decode()
    assert len(_assignments()) == 2


def test_take_next_calls_in_a_row_hand_out_distinct_cases_in_deadline_order(analyst):
    now = timezone.now()
    cases = [queue_case(due=now + dt.timedelta(hours=h)) for h in (9, 3, 6)]
    taken = [case_take_next(actor=analyst) for _ in range(4)]
    assert [c.pk for c in taken[:3]] == [cases[1].pk, cases[2].pk, cases[0].pk]
    assert taken[3] is None


def test_a_case_taken_after_the_read_is_skipped_not_stolen(analyst):
    # What happens between two analysts' requests on SQLite: the first candidate was
    # claimed by someone else; the conditional update notices and takes the next one.
    colleague = _analyst("beto.analista")
    now = timezone.now()
    nearest = queue_case(due=now + dt.timedelta(hours=1))
    following = queue_case(due=now + dt.timedelta(hours=2))
    Case.objects.filter(pk=nearest.pk).update(assigned_to=colleague)

    assert case_take_next(actor=analyst).pk == following.pk
    assert _assigned_to(nearest) == colleague


# A supervisor assigns.


def test_supervisor_assigns_ticked_cases_reassigns_and_unassigns(client, supervisor, analyst):
    colleague = _analyst("beto.analista")
    one, two, untouched = queue_case(), queue_case(), queue_case()
    staff_login(client, supervisor)

    response = client.post(
        ASSIGN,
        {"accion": "asignar", "casos": [one.number, two.number], "analista": analyst.pk,
         "filtros": "pais=ES"},
    )  # fmt: skip
    assert response["Location"] == "/gestion/?pais=ES"
    assert _assigned_to(one) == analyst and _assigned_to(two) == analyst
    assert _assigned_to(untouched) is None

    client.post(ASSIGN, {"accion": "asignar", "casos": [one.number], "analista": colleague.pk})
    client.post(ASSIGN, {"accion": "quitar", "casos": [two.number]})
    assert _assigned_to(one) == colleague and _assigned_to(two) is None

    events = _assignments()
    assert events[-2:] == [
        {"case": one.number, "by": supervisor.username, "assigned_to": colleague.username,
         "how": "supervisor"} | {"assigned_to": colleague.username},
        {"case": two.number, "by": supervisor.username, "assigned_to": None, "how": "supervisor"},
    ]  # fmt: skip
    old = AuditEvent.objects.filter(action="case.assigned", case=one).last().old_value
    assert old == {"assigned_to": analyst.username}


def test_cases_go_only_to_analysts_and_closed_cases_stay_put(client, supervisor, auditor, analyst):
    case = queue_case()
    closed = queue_case(status=CaseStatus.COMPLETED, due=None)
    staff_login(client, supervisor)

    response = client.post(
        ASSIGN, {"accion": "asignar", "casos": [case.number], "analista": auditor.pk}, follow=True
    )
    assert "ya no es analista activo" in response.content.decode()
    response = client.post(ASSIGN, {"accion": "asignar", "analista": analyst.pk}, follow=True)
    assert "Marque al menos un trámite" in response.content.decode()
    response = client.post(
        ASSIGN, {"accion": "asignar", "casos": [closed.number], "analista": analyst.pk}, follow=True
    )
    assert "está cerrado" in response.content.decode()
    assert _assigned_to(case) is None and _assigned_to(closed) is None
    assert _assignments() == []


# Random allocation.


def test_random_allocation_spreads_the_cases_evenly_over_the_active_analysts(
    client, supervisor, analyst
):
    analysts = [analyst, _analyst("beto.analista"), _analyst("carla.analista")]
    retired = _analyst("diego.retirado")
    retired.is_active = False
    retired.save()
    taken = queue_case(assigned_to=analysts[0])
    cases = [queue_case() for _ in range(6)]
    staff_login(client, supervisor)

    response = client.post(
        ASSIGN, {"accion": "azar", "casos": [c.number for c in cases] + [taken.number]}
    )

    assert response.status_code == 302
    owners = Counter(_assigned_to(c).username for c in cases)
    assert owners == {a.username: 2 for a in analysts}
    assert _assigned_to(taken) == analysts[0]  # an assigned case is not dealt again
    events = _assignments()
    assert len(events) == 6 and {e["how"] for e in events} == {"random"}
    assert {e["by"] for e in events} == {supervisor.username}


def test_random_allocation_without_a_selection_deals_the_next_unassigned_cases(
    client, supervisor, analyst
):
    _analyst("beto.analista")
    cases = [queue_case() for _ in range(3)]
    closed = queue_case(status=CaseStatus.WITHDRAWN, due=None)
    staff_login(client, supervisor)

    client.post(ASSIGN, {"accion": "azar"})

    assert all(_assigned_to(c) is not None for c in cases)
    assert _assigned_to(closed) is None


def test_random_allocation_with_no_analyst_says_what_to_do(client, supervisor):
    case = queue_case()
    staff_login(client, supervisor)
    response = client.post(ASSIGN, {"accion": "azar"}, follow=True)
    assert "No hay analistas activos" in response.content.decode()
    assert _assigned_to(case) is None


# Who may do it.


@pytest.mark.parametrize(
    ("persona", "url", "expected"),
    [
        ("anonymous", TAKE, 302),
        ("anonymous", ASSIGN, 302),
        ("outsider", TAKE, 403),
        ("outsider", ASSIGN, 403),
        ("auditor", TAKE, 403),
        ("auditor", ASSIGN, 403),
        ("analyst", ASSIGN, 403),  # an analyst cannot give cases to others
        ("supervisor", TAKE, 403),  # nor does a supervisor pick from the queue
    ],
)
def test_refused_requests_change_nothing(
    client, request, analyst, supervisor, persona, url, expected
):
    case = queue_case()
    if persona != "anonymous":
        staff_login(client, request.getfixturevalue(persona))
    response = client.post(
        url, {"accion": "asignar", "casos": [case.number], "analista": analyst.pk}
    )
    assert response.status_code == expected
    assert _assigned_to(case) is None
    assert _assignments() == []


def test_only_post_with_a_csrf_token(supervisor, analyst):
    case = queue_case()
    client = Client(enforce_csrf_checks=True)
    staff_login(client, analyst)
    assert client.get(TAKE).status_code == 405
    assert client.post(TAKE).status_code == 403
    assert _assigned_to(case) is None

    page = client.get("/gestion/").content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    assert client.post(TAKE, {"csrfmiddlewaretoken": token}).status_code == 302
    assert _assigned_to(case) == analyst


def test_the_queue_shows_each_persona_only_the_actions_it_may_use(
    client, analyst, supervisor, auditor
):
    queue_case()
    staff_login(client, analyst)
    page = client.get("/gestion/").content.decode()
    assert "Tomar el siguiente" in page and "Asignar al azar" not in page

    staff_login(client, supervisor)
    page = client.get("/gestion/").content.decode()
    assert "Asignar al azar" in page and "Tomar el siguiente" not in page
    assert 'name="casos"' in page

    staff_login(client, auditor)
    page = client.get("/gestion/").content.decode()
    assert "Tomar el siguiente" not in page and "Asignar al azar" not in page


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks (SKIP LOCKED) exist on PostgreSQL only"
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_analysts_at_the_same_moment_get_different_cases(analyst):
    colleague = _analyst("beto.analista")
    now = timezone.now()
    nearest = queue_case(due=now + dt.timedelta(hours=1))
    following = queue_case(due=now + dt.timedelta(hours=2))
    got = {}
    locked, finished = threading.Event(), threading.Event()

    def first_analyst():
        # Takes the nearest case and holds the transaction open while the other asks.
        try:
            with transaction.atomic():
                got["first"] = case_take_next(actor=analyst)
                locked.set()
                finished.wait(timeout=10)  # the other analyst asks meanwhile
        finally:
            connections.close_all()

    thread = threading.Thread(target=first_analyst)
    thread.start()
    assert locked.wait(timeout=10)
    started = time.monotonic()
    try:
        got["second"] = case_take_next(actor=colleague)
        waited = time.monotonic() - started
    finally:
        finished.set()
        thread.join()

    assert waited < 5  # skipped the locked row instead of waiting for it (10 s)
    assert got["first"].pk == nearest.pk
    assert got["second"].pk == following.pk
    assert _assigned_to(nearest) == analyst and _assigned_to(following) == colleague
