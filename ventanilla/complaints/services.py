"""Use cases of a complaint: filed by anyone, taken or assigned, answered by email.

Each writes its audit event in the same transaction; the events carry no name, email,
phone or complaint text (administrators read the audit trail). Emails are rows of the
outbox, sent by the worker once the transaction commits."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ventanilla.audit.services import CITIZEN, audit_log
from ventanilla.cases.models import Case
from ventanilla.cases.numbers import (
    case_number_is_valid,
    case_number_normalize,
    yearly_sequence_next,
)
from ventanilla.notifications.services import email_queue
from ventanilla.staff.roles import Permission, can
from ventanilla.workdays.selectors import ECUADOR, working_day_deadline

from .constants import OPEN_STATUSES, RESPONSE_WORKING_DAYS, ComplaintStatus
from .models import Complaint, ComplaintNumberSequence
from .numbers import complaint_number_format


class ComplaintRefused(ValidationError):
    """A staff action that does not fit the complaint's state (answered, someone else's)."""


def complaint_due_at(filed_at: dt.datetime) -> dt.datetime:
    """The end (Ecuador time) of the 15th working day after the day the complaint arrived."""
    return working_day_deadline(filed_at, RESPONSE_WORKING_DAYS)


def _next_complaint_number(now: dt.datetime) -> str:
    year = now.astimezone(ECUADOR).year
    return complaint_number_format(year, yearly_sequence_next(ComplaintNumberSequence, year))


@transaction.atomic
def complaint_file(
    *, name: str, email: str, text: str, phone: str = "", case_number: str = ""
) -> Complaint:
    """Register a complaint from the public form (fields already checked by ComplaintForm):
    a number, a response deadline, the audit event and the acknowledgement email.

    A case number that passes its check character is kept as typed; the complaint is
    linked to the case when one with that number exists, and the answer is the same
    either way, so that nobody learns which case numbers exist."""
    if case_number and not case_number_is_valid(case_number):
        raise ValidationError(_("El número de trámite no es válido."), code="invalid")
    case_number = case_number_normalize(case_number) if case_number else ""
    now = timezone.now()
    complaint = Complaint.objects.create(
        number=_next_complaint_number(now),
        case_number=case_number,
        case=Case.objects.filter(number=case_number).first() if case_number else None,
        name=name,
        email=email,
        phone=phone,
        text=text,
        filed_at=now,
        due_at=complaint_due_at(now),
    )
    audit_log(
        action="complaint.filed",
        actor=CITIZEN,
        case=complaint.case,
        obj=complaint,
        new={
            "due_at": complaint.due_at.isoformat(),
            "case_number_given": bool(case_number),
        },
    )
    email_queue(
        template="complaint_received",
        to=complaint.email,
        context={"complaint": complaint, "response_working_days": RESPONSE_WORKING_DAYS},
        dedupe_key=f"complaint_received:{complaint.number}",
    )
    return complaint


def _lock_open(complaint: Complaint) -> Complaint:
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    if complaint.status not in OPEN_STATUSES:
        raise ComplaintRefused(
            _("Esta queja ya fue respondida: no se puede cambiar."), code="answered"
        )
    return complaint


def _refuse_if_someone_elses(complaint: Complaint, actor) -> None:
    """Who handles a complaint is its assignee; a supervisor (who assigns) may step in."""
    if (
        complaint.assigned_to_id is not None
        and complaint.assigned_to_id != actor.pk
        and not can(actor, Permission.ASSIGN)
    ):
        raise ComplaintRefused(
            _(
                "Esta queja la atiende %(user)s. Si debe atenderla usted, pida a un supervisor "
                "que se la asigne."
            )
            % {"user": complaint.assigned_to.get_username()},
            code="assigned_to_other",
        )


def _assign(complaint: Complaint, *, actor, assignee, action: str) -> Complaint:
    old = {"status": complaint.status, "assigned_to": complaint.assigned_to_id}
    complaint.assigned_to = assignee
    complaint.status = ComplaintStatus.IN_PROGRESS
    complaint.save(update_fields=["assigned_to", "status"])
    audit_log(
        action=action,
        actor=actor,
        case=complaint.case,
        obj=complaint,
        old=old,
        new={"status": complaint.status, "assigned_to": assignee.pk},
    )
    return complaint


@transaction.atomic
def complaint_take(*, complaint: Complaint, actor) -> Complaint:
    """The staff member takes the complaint: it is theirs to answer, and in progress."""
    if not can(actor, Permission.HANDLE_COMPLAINTS):
        raise ComplaintRefused(_("Usted no atiende quejas."), code="not_allowed")
    complaint = _lock_open(complaint)
    if complaint.assigned_to_id == actor.pk:
        return complaint
    _refuse_if_someone_elses(complaint, actor)
    return _assign(complaint, actor=actor, assignee=actor, action="complaint.taken")


@transaction.atomic
def complaint_assign(*, complaint: Complaint, actor, assignee) -> Complaint:
    """A supervisor gives the complaint to a staff member who handles complaints."""
    if not can(actor, Permission.ASSIGN):
        raise ComplaintRefused(_("Solo un supervisor asigna quejas."), code="not_allowed")
    if not can(assignee, Permission.HANDLE_COMPLAINTS):
        raise ComplaintRefused(
            _("%(user)s no atiende quejas: elija a otra persona.")
            % {"user": assignee.get_username()},
            code="assignee_not_allowed",
        )
    complaint = _lock_open(complaint)
    if complaint.assigned_to_id == assignee.pk:
        return complaint
    return _assign(complaint, actor=actor, assignee=assignee, action="complaint.assigned")


@transaction.atomic
def complaint_answer(*, complaint: Complaint, actor, answer: str) -> Complaint:
    """Answer the complaint: the text goes by email to the person, the complaint is closed,
    and the time it took is recorded (late or not)."""
    if not can(actor, Permission.HANDLE_COMPLAINTS):
        raise ComplaintRefused(_("Usted no atiende quejas."), code="not_allowed")
    answer = answer.strip()
    if not answer:
        raise ValidationError(
            _("Escriba la respuesta: es lo que recibirá la persona por correo."), code="required"
        )
    complaint = _lock_open(complaint)
    _refuse_if_someone_elses(complaint, actor)
    now = timezone.now()
    old = {"status": complaint.status, "assigned_to": complaint.assigned_to_id}
    complaint.status = ComplaintStatus.ANSWERED
    complaint.assigned_to = complaint.assigned_to or actor
    complaint.answer = answer
    complaint.answered_at = now
    complaint.answered_by = actor
    complaint.save(update_fields=["status", "assigned_to", "answer", "answered_at", "answered_by"])
    audit_log(
        action="complaint.answered",
        actor=actor,
        case=complaint.case,
        obj=complaint,
        old=old,
        new={"status": complaint.status, "late": now > complaint.due_at},
    )
    email_queue(
        template="complaint_answered",
        to=complaint.email,
        context={"complaint": complaint},
        dedupe_key=f"complaint_answered:{complaint.number}",
    )
    return complaint
