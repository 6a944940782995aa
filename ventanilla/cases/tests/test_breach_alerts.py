"""Supervisors see a breach coming: alerts before and at the review deadline, and the
morning digest for analysts and supervisors. Checked on the real outbox rows, once
through the real worker and a real SMTP server."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group

from ventanilla.cases import services
from ventanilla.cases.constants import CaseStatus, ReviewReason
from ventanilla.cases.models import Case, CaseTransition
from ventanilla.cases.numbers import case_number_format
from ventanilla.cases.scheduler import cases_alert_breach_risk, cases_daily_digest
from ventanilla.notifications.models import OutboundEmail
from ventanilla.staff.roles import Role
from ventanilla.testing.factories import PEOPLE
from ventanilla.workdays.selectors import working_day_deadline

ECUADOR = ZoneInfo("America/Guayaquil")
# Wednesday 18 November 2026 in Quito.
NOW = dt.datetime(2026, 11, 18, 15, 0, tzinfo=ECUADOR)


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, 0, tzinfo=ECUADOR)


_sequence = iter(range(1, 100_000))


def make_case(submitted_at: dt.datetime, *, assignee=None, actor=None) -> Case:
    """A submitted case (no files) whose checks finished: under review, due at the end
    of the 3rd working day after `submitted_at`."""
    seq = next(_sequence)
    case = Case.objects.create(
        **PEOPLE[seq % len(PEOPLE)],
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
    case = services.case_mark_checked(case_id=case.pk)
    if assignee is not None:
        case = services.case_assign(case=case, actor=actor, assignee=assignee)
    return Case.objects.get(pk=case.pk)


def _with_email(user, email):
    user.email = email
    user.save(update_fields=["email"])
    return user


@pytest.fixture
def team(db, supervisor, analyst, django_user_model):
    """A supervisor and an analyst with addresses; a supervisor without one and a former
    supervisor (inactive) who must get nothing."""
    _with_email(supervisor, "sofia.supervisora@iess.example")
    _with_email(analyst, "ana.analista@iess.example")
    group = Group.objects.get(name=Role.SUPERVISOR)
    silent = django_user_model.objects.create_user(username="sin.correo")
    silent.groups.add(group)
    former = django_user_model.objects.create_user(
        username="ex.supervisor", email="ex@iess.example", is_active=False
    )
    former.groups.add(group)
    return {"supervisor": supervisor, "analyst": analyst}


def _alerts():
    return OutboundEmail.objects.filter(template="breach_alert").order_by("pk")


@pytest.mark.django_db
def test_a_case_near_its_deadline_alerts_each_supervisor_once_then_once_more_when_late(team):
    supervisor, analyst = team["supervisor"], team["analyst"]
    near = make_case(at(13), assignee=analyst, actor=supervisor)  # due Wed 18 23:59
    make_case(at(16))  # due Thu 19 23:59: 33 h away, not yet
    corrected = make_case(at(13))
    services.case_request_correction(
        case=corrected,
        actor=analyst,
        items=["selfie"],
        reasons=[ReviewReason.ILLEGIBLE_IMAGE],
        message="La fotografía está borrosa.",
    )  # clock paused: no alert

    assert cases_alert_breach_risk(now=NOW) == 1
    [alert] = _alerts()
    assert alert.to == "sofia.supervisora@iess.example"
    assert alert.dedupe_key == f"breach_alert:{near.number}:2026-11-18:{supervisor.pk}"
    assert alert.subject == f"Por vencer en 8 h: trámite {near.number}"
    assert f"/gestion/tramites/{near.number}/" in alert.body_text
    assert f"A cargo de: {analyst.username}" in alert.body_text
    assert "miércoles 18 de noviembre de 2026, 23:59" in alert.body_text
    assert near.number in alert.body_html and "quedan 8 h" in alert.body_html
    assert alert.case_id is None  # staff mail stays out of the citizen's message history

    # The scheduler runs every few seconds: nothing more for the same case and deadline.
    assert cases_alert_breach_risk(now=NOW) == 0
    assert cases_alert_breach_risk(now=NOW + dt.timedelta(hours=3)) == 0
    assert _alerts().count() == 1

    # Past the deadline: one more message, once.
    later = at(19, 9)
    assert cases_alert_breach_risk(now=later) == 2  # `near`, and the Thursday case is near now
    overdue = _alerts().get(dedupe_key__startswith="breach_overdue:")
    assert overdue.dedupe_key == f"breach_overdue:{near.number}:2026-11-18:{supervisor.pk}"
    assert overdue.subject == f"Plazo vencido: trámite {near.number}"
    assert "venció el miércoles 18 de noviembre de 2026, 23:59" in overdue.body_text
    assert cases_alert_breach_risk(now=later) == 0
    assert _alerts().count() == 3
    assert set(_alerts().values_list("to", flat=True)) == {"sofia.supervisora@iess.example"}


@pytest.mark.django_db
def test_a_new_deadline_is_a_new_alert_and_a_reviewed_case_is_not_alerted(team):
    case = make_case(at(13))
    assert cases_alert_breach_risk(now=NOW) == 1
    assert "nadie (sin asignar)" in _alerts().get().body_text

    # The deadline moves (the clock was paused and resumed): the supervisor hears again.
    Case.objects.filter(pk=case.pk).update(review_due_at=at(20, 23))
    assert cases_alert_breach_risk(now=at(20, 8)) == 1
    assert _alerts().last().dedupe_key.startswith(f"breach_alert:{case.number}:2026-11-20:")

    services.case_reject(
        case=case,
        actor=team["analyst"],
        reasons=[ReviewReason.AMENDED_FORM],
        message="El formulario tiene enmendaduras.",
    )
    assert cases_alert_breach_risk(now=at(23, 8)) == 0


@pytest.mark.django_db
def test_a_supervisor_added_later_gets_the_alerts_still_pending(team, django_user_model):
    make_case(at(13))
    assert cases_alert_breach_risk(now=NOW) == 1
    new = django_user_model.objects.create_user(username="nueva.sup", email="nueva@iess.example")
    new.groups.add(Group.objects.get(name=Role.SUPERVISOR))
    assert cases_alert_breach_risk(now=NOW) == 1
    assert _alerts().last().to == "nueva@iess.example"


# --- the morning digest ----------------------------------------------------------------


def _digests():
    return OutboundEmail.objects.filter(template="daily_digest")


@pytest.mark.django_db
def test_the_daily_digest_goes_once_a_working_day_after_seven(team):
    supervisor, analyst = team["supervisor"], team["analyst"]
    mine_late = make_case(at(10), assignee=analyst, actor=supervisor)  # due Fri 13
    mine_today = make_case(at(13), assignee=analyst, actor=supervisor)  # due Wed 18
    mine_next = make_case(at(16), assignee=analyst, actor=supervisor)  # due Thu 19
    unassigned_late = make_case(at(11))  # due Mon 16

    assert cases_daily_digest(now=at(18, 6)) == 0  # before 07:00 in Quito
    assert cases_daily_digest(now=at(18, 7)) == 2
    assert cases_daily_digest(now=at(18, 16)) == 0  # once a day

    mail = _digests().get(to="ana.analista@iess.example")
    assert mail.dedupe_key == f"daily_digest:2026-11-18:{analyst.pk}"
    assert mail.subject == "Resumen del 18 de noviembre: 1 vencido, 1 vence hoy"
    text = mail.body_text
    assert "Tiene 3 trámites abiertos a su cargo" in text
    overdue_part = text.split("VENCIDOS (1)")[1].split("VENCEN HOY")[0]
    assert mine_late.number in overdue_part and unassigned_late.number not in overdue_part
    assert mine_today.number in text.split("VENCEN HOY (1)")[1].split("VENCEN EL")[0]
    assert "JUEVES 19 DE NOVIEMBRE (1)" in text and mine_next.number in text
    assert "EQUIPO" not in text
    assert f"/gestion/tramites/{mine_today.number}/" in mail.body_html

    boss = _digests().get(to="sofia.supervisora@iess.example")
    assert (
        boss.subject == "Resumen del 18 de noviembre: 0 vencidos, 0 vencen hoy (equipo: 2 vencidos)"
    )
    assert "Trámites abiertos: 4 (sin asignar: 1)" in boss.body_text
    assert unassigned_late.number in boss.body_text.split("Sin asignar y vencidos")[1]
    assert "/gestion/tablero/" in boss.body_text

    # Thursday: a new digest; Saturday: none.
    assert cases_daily_digest(now=at(19, 7)) == 2
    assert cases_daily_digest(now=at(21, 9)) == 0
    assert _digests().count() == 4


@pytest.mark.django_db
def test_no_digest_on_a_holiday(team):
    # Monday 2 November 2026, Día de Difuntos.
    assert cases_daily_digest(now=dt.datetime(2026, 11, 2, 9, tzinfo=ECUADOR)) == 0
    assert cases_daily_digest(now=dt.datetime(2026, 11, 4, 9, tzinfo=ECUADOR)) == 2


# --- through the real worker and SMTP server -------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_alert_reaches_the_supervisor_by_smtp(team, smtp_server, run_worker):
    case = make_case(at(13))

    assert cases_alert_breach_risk(now=NOW) == 1
    run_worker()

    [message] = smtp_server.to("sofia.supervisora@iess.example")
    assert message["Subject"] == f"Por vencer en 8 h: trámite {case.number}"
    assert f"/gestion/tramites/{case.number}/" in message.get_body(("plain",)).get_content()
    assert _alerts().get().status == OutboundEmail.Status.SENT
    # A second pass sends nothing more.
    assert cases_alert_breach_risk(now=NOW) == 0
    run_worker()
    assert len(smtp_server.messages) == 1


# The command closes stale connections at each round: outside a test transaction.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_scheduler_command_runs_the_alerts(team):
    from django.core.management import call_command
    from django.utils import timezone

    case = make_case(at(13))
    Case.objects.filter(pk=case.pk).update(review_due_at=timezone.now() + dt.timedelta(hours=2))

    call_command("run_scheduler", "--once")

    assert _alerts().get().dedupe_key.startswith(f"breach_alert:{case.number}:")
