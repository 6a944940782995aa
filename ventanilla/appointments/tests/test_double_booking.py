"""Two citizens press "Agendar" on the same slot at the same moment: exactly one gets it,
the other is told to choose another (the slot row lock, then the unique constraint)."""

from functools import partial

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from ventanilla.appointments.models import Appointment
from ventanilla.appointments.services import appointment_book
from ventanilla.cases.constants import CaseStatus
from ventanilla.testing.concurrency import run_at_once

from .conftest import accepted_case, next_working_day, publish


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent row locks (SELECT ... FOR UPDATE) need PostgreSQL; SQLite serialises "
    "every writer",
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_citizens_booking_the_same_slot_at_once(analyst):
    (slot,) = publish(analyst, next_working_day(), "10:00", "10:30")
    cases = [accepted_case(analyst, person=0), accepted_case(analyst, person=2)]
    outcome = {}

    def book(case):
        try:
            outcome[case.pk] = appointment_book(case=case, slot_id=slot.pk)
        except ValidationError as exc:
            outcome[case.pk] = exc

    run_at_once(*(partial(book, case) for case in cases), timeout=30)

    won = [r for r in outcome.values() if isinstance(r, Appointment)]
    lost = [r for r in outcome.values() if isinstance(r, ValidationError)]
    assert len(won) == 1 and len(lost) == 1, outcome
    assert lost[0].messages == ["Ese horario acaba de ser tomado; elija otro."]
    assert Appointment.objects.filter(slot=slot).count() == 1
    statuses = sorted(c.status for c in type(cases[0]).objects.filter(pk__in=outcome))
    assert statuses == [CaseStatus.CALL_PENDING, CaseStatus.CALL_SCHEDULED]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent row locks (SELECT ... FOR UPDATE) need PostgreSQL",
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_many_citizens_racing_for_three_slots_get_three_calls(analyst):
    slots = publish(analyst, next_working_day(), "10:00", "11:30")
    people = [0, 1, 2, 3, 0, 2]
    cases = [accepted_case(analyst, person=p) for p in people]
    outcome = {}

    def book(case, slot):
        try:
            outcome[case.pk] = appointment_book(case=case, slot_id=slot.pk)
        except ValidationError as exc:
            outcome[case.pk] = exc

    # Two citizens on each slot.
    run_at_once(*(partial(book, case, slots[i % 3]) for i, case in enumerate(cases)), timeout=30)
    won = [r for r in outcome.values() if isinstance(r, Appointment)]
    assert len(outcome) == 6 and len(won) == 3
    assert sorted(a.slot_id for a in won) == sorted(s.pk for s in slots)
