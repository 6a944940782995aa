"""Publishing and withdrawing call slots: working days only, never overlapping, and the
back-office page for analysts (their own) and supervisors (any analyst)."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from ventanilla.appointments.models import CallSlot
from ventanilla.appointments.services import slot_withdraw, slots_publish
from ventanilla.audit.models import AuditEvent
from ventanilla.staff.roles import Role
from ventanilla.staff.services import staff_user_ensure
from ventanilla.testing.staff import staff_login
from ventanilla.workdays.selectors import ECUADOR, non_working_dates
from ventanilla.workdays.services import holiday_add

from .conftest import accepted_case, booking_token, next_working_day, publish

URL = "/gestion/videollamadas/horarios/"


def _week_starting_monday(weeks_ahead: int = 3) -> dt.date:
    today = timezone.now().astimezone(ECUADOR).date()
    return today + dt.timedelta(days=7 * weeks_ahead - today.weekday())


@pytest.mark.django_db
def test_publishing_skips_weekends_and_a_holiday_added_by_hand(analyst, administrator):
    monday = _week_starting_monday()
    wednesday = monday + dt.timedelta(days=2)
    if wednesday not in non_working_dates(wednesday, wednesday):
        holiday_add(actor=administrator, date=wednesday, name="Feriado de prueba")
    sunday = monday + dt.timedelta(days=6)
    slots = slots_publish(
        actor=analyst,
        analyst=analyst,
        first_day=monday,
        last_day=sunday,
        start_time=dt.time(9, 0),
        end_time=dt.time(11, 0),
        minutes=30,
    )
    days = {s.starts_at.astimezone(ECUADOR).date() for s in slots}
    closed = non_working_dates(monday, sunday)
    assert wednesday not in days
    assert all(d.weekday() < 5 and d not in closed for d in days)
    assert len(days) == 5 - len(closed)
    assert len(slots) == 4 * len(days)
    first = min(slots, key=lambda s: s.starts_at)
    assert first.starts_at.astimezone(ECUADOR).time() == dt.time(9, 0)
    assert first.ends_at - first.starts_at == dt.timedelta(minutes=30)
    event = AuditEvent.objects.get(action="appointment.slots_published")
    assert event.new_value["count"] == len(slots) and event.actor == analyst


@pytest.mark.django_db
def test_overlapping_slots_are_refused_as_a_whole(analyst):
    day = next_working_day()
    publish(analyst, day, "10:00", "11:00", 30)
    with pytest.raises(ValidationError) as refused:
        publish(analyst, day, "10:45", "12:15", 45)
    assert "se cruzan" in refused.value.messages[0]
    assert CallSlot.objects.count() == 2
    # Adjacent is fine; another analyst at the same time is fine.
    publish(analyst, day, "11:00", "12:00", 60)
    colleague = staff_user_ensure(username="beto.analista", password="x" * 20, role=Role.ANALYST)
    publish(colleague, day, "10:00", "11:00", 30)
    assert CallSlot.objects.count() == 5


@pytest.mark.django_db
def test_a_slot_overlapping_a_proposed_call_is_refused(analyst):
    from ventanilla.cases.services import case_invite
    from ventanilla.testing.factories import case_in_status

    day = next_working_day()
    case = case_in_status("in_review", analyst)
    case_invite(
        case=case, actor=analyst, starts_at=dt.datetime.combine(day, dt.time(10, 30), ECUADOR)
    )
    with pytest.raises(ValidationError, match="videollamadas de ana.analista"):
        publish(analyst, day, "10:00", "12:00", 30)


@pytest.mark.django_db
def test_bad_input_is_refused_with_what_to_fix(analyst):
    day = next_working_day()
    with pytest.raises(ValidationError) as refused:
        publish(analyst, day, "12:00", "10:00", 5)
    assert set(refused.value.message_dict) == {"end_time", "minutes"}
    saturday = day + dt.timedelta(days=(5 - day.weekday()) % 7)
    with pytest.raises(ValidationError, match="fines de semana"):
        publish(analyst, saturday, "10:00", "12:00", 30)


@pytest.mark.django_db
def test_analyst_publishes_only_their_own(analyst, supervisor):
    colleague = staff_user_ensure(username="beto.analista", password="x" * 20, role=Role.ANALYST)
    day = next_working_day()
    with pytest.raises(ValidationError, match="propios"):
        publish_for(analyst, colleague, day)
    assert publish_for(supervisor, colleague, day)
    with pytest.raises(ValidationError, match="no atiende"):
        publish_for(supervisor, supervisor, day)


def publish_for(actor, analyst, day):
    return slots_publish(
        actor=actor,
        analyst=analyst,
        first_day=day,
        last_day=day,
        start_time=dt.time(15, 0),
        end_time=dt.time(16, 0),
        minutes=30,
    )


@pytest.mark.django_db
def test_withdraw_only_when_no_live_call_holds_the_slot(client, analyst):
    booked, free = publish(analyst, next_working_day(), "10:00", "11:00", 30)
    case = accepted_case(analyst)
    client.post(f"/tramite/videollamada/{booking_token(case)}/", {"slot": booked.pk})
    with pytest.raises(ValidationError, match=case.number):
        slot_withdraw(actor=analyst, slot=booked)
    slot_withdraw(actor=analyst, slot=free)
    free.refresh_from_db()
    assert free.withdrawn_at is not None
    page = client.get(f"/tramite/videollamada/{booking_token(case)}/cambiar/").content.decode()
    assert f'value="{free.pk}"' not in page
    assert AuditEvent.objects.filter(action="appointment.slot_withdrawn").count() == 1


@pytest.mark.django_db
def test_analyst_page_publishes_and_lists_booked_slots_with_the_case(client, analyst):
    staff_login(client, analyst)
    day = next_working_day()
    page = client.get(URL).content.decode()
    assert "Publicar horarios" in page and 'name="analyst"' not in page
    response = client.post(
        URL,
        {
            "first_day": day.isoformat(),
            "last_day": day.isoformat(),
            "start_time": "10:00",
            "end_time": "11:00",
            "minutes": "30",
        },
    )
    assert response.status_code == 302
    first, second = CallSlot.objects.filter(analyst=analyst).order_by("starts_at")
    case = accepted_case(analyst)
    client.post(f"/tramite/videollamada/{booking_token(case)}/", {"slot": first.pk})
    page = client.get(URL).content.decode()
    assert case.number in page and "10:00–10:30" in page and "Libre" in page
    # Overlap: the page says why.
    response = client.post(
        URL,
        {
            "first_day": day.isoformat(),
            "last_day": day.isoformat(),
            "start_time": "10:15",
            "end_time": "10:45",
            "minutes": "30",
        },
    )
    assert response.status_code == 422 and "se cruzan" in response.content.decode()
    response = client.post(f"{URL}{second.pk}/retirar/")
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.withdrawn_at is not None


@pytest.mark.django_db
def test_supervisor_publishes_for_an_analyst(client, supervisor, analyst):
    staff_login(client, supervisor)
    day = next_working_day()
    page = client.get(URL).content.decode()
    assert 'name="analyst"' in page and "ana.analista" in page
    response = client.post(
        URL,
        {
            "analyst": analyst.pk,
            "first_day": day.isoformat(),
            "last_day": day.isoformat(),
            "start_time": "10:00",
            "end_time": "11:00",
            "minutes": "30",
        },
    )
    assert response.status_code == 302
    assert CallSlot.objects.filter(analyst=analyst, created_by=supervisor).count() == 2


@pytest.mark.django_db
def test_others_may_not_use_the_page(client, analyst, auditor, administrator, outsider):
    (slot,) = publish(analyst, next_working_day(), "10:00", "10:30")
    for person in (auditor, administrator, outsider):
        staff_login(client, person)
        assert client.get(URL).status_code == 403
        assert client.post(f"{URL}{slot.pk}/retirar/").status_code == 403
    colleague = staff_user_ensure(username="beto.analista", password="x" * 20, role=Role.ANALYST)
    staff_login(client, colleague)
    assert client.post(f"{URL}{slot.pk}/retirar/").status_code == 404
    client.logout()
    assert client.get(URL).status_code == 302
