"""Use cases of a case's life, one function each. The web pages, the JSON API and the
management commands all call these; none of them changes a case any other way."""

import datetime as dt
import hashlib
import logging
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.crypto import salted_hmac

from ventanilla.appointments.services import (
    appointment_calendar_part,
    appointment_create,
    appointment_email_queue,
    appointment_mark_cancelled,
    booking_invitation_send,
)
from ventanilla.appointments.timezones import ECUADOR_TZ
from ventanilla.audit.services import CITIZEN, audit_log
from ventanilla.documents.models import Document
from ventanilla.documents.services import (
    document_file_store,
    document_save,
    files_removed_on_failure,
)
from ventanilla.notifications.services import email_queue
from ventanilla.ops.queue import enqueue_with_commit
from ventanilla.registry.constants import FLAG_REGISTRY_FROZEN
from ventanilla.registry.selectors import insured_find
from ventanilla.registry.services import contact_data_apply
from ventanilla.workdays.selectors import ECUADOR, working_day_deadline, working_days_left

from . import statemachine
from .constants import FINAL_STATUSES, REVIEW_CLOCK_STATUSES, CaseStatus, ReviewReason
from .models import OPEN_STATUSES, Case, CaseNumberSequence, CaseTransition, CorrectionRequest
from .numbers import case_number_format, yearly_sequence_next
from .selectors import QUEUE_ORDER

logger = logging.getLogger(__name__)

FLAG_NOT_IN_REGISTRY = "not_in_registry"
FLAG_OTHER_OPEN_CASE = "other_open_case"


def _next_case_number(now: dt.datetime) -> str:
    # The year's row stays locked until the caller's transaction ends: take it last.
    year = timezone.localtime(now).year
    return case_number_format(year, yearly_sequence_next(CaseNumberSequence, year))


def _flags_for(case: Case) -> list[str]:
    flags = []
    if case.insured_id is None:
        flags.append(FLAG_NOT_IN_REGISTRY)
    open_cases = Case.objects.filter(id_type=case.id_type, id_number=case.id_number).exclude(
        status__in=[s.value for s in FINAL_STATUSES]
    )
    if case.pk is not None:
        open_cases = open_cases.exclude(pk=case.pk)
    if open_cases.exists():
        flags.append(FLAG_OTHER_OPEN_CASE)
    # The holder said "this was not me" to an earlier change: a supervisor looks first.
    if case.insured_id is not None and case.insured.frozen_at is not None:
        flags.append(FLAG_REGISTRY_FROZEN)
    return flags


def _enqueue_checks(case_id: int, trigger: str) -> None:
    from ventanilla.checks.tasks import case_checks_task

    enqueue_with_commit(case_checks_task, case_id, trigger)


def client_ref_for(address: str | None) -> str:
    """A pseudonym of the client's network address (HMAC with the secret key), or ""."""
    if not address:
        return ""
    return salted_hmac("ventanilla.cases.client_ref", address, algorithm="sha256").hexdigest()


def case_submit(
    *, fields: dict, uploads: dict, inspected: dict, client_address: str | None = None
) -> Case:
    """Register a citizen's request: the case, its five files, a number, a deadline,
    a confirmation email and the background checks. All or nothing: if anything
    fails, no row and no file is left behind."""
    with files_removed_on_failure() as stored, transaction.atomic():
        now = timezone.now()
        case = Case(
            **fields,
            status=CaseStatus.SUBMITTED,
            submitted_at=now,
            status_changed_at=now,
            checks_enqueued_at=now,
            review_due_at=working_day_deadline(now, settings.REVIEW_WORKING_DAYS),
            client_ref=client_ref_for(client_address),
        )
        case.insured = insured_find(id_type=case.id_type, id_number=case.id_number)
        case.flags = _flags_for(case)
        # The files first (encrypting and writing ~9 MB is most of this function's time),
        # then the number: the year's number row is locked from the moment it is taken to
        # the commit, and every other submission waits for it meanwhile.
        for kind, upload in uploads.items():
            stored.append(
                document_file_store(case=case, kind=kind, upload=upload, inspected=inspected[kind])
            )
        case.number = _next_case_number(now)
        case.save()
        Document.objects.bulk_create(stored)
        CaseTransition.objects.create(
            case=case, to_status=CaseStatus.SUBMITTED, at=now, actor_label=CITIZEN
        )
        audit_log(
            action="case.submitted",
            actor=CITIZEN,
            case=case,
            obj=case,
            new={"flags": case.flags},
        )
        email_queue(
            template="case_received",
            to=case.email,
            case=case,
            context={"review_working_days": settings.REVIEW_WORKING_DAYS},
            dedupe_key=f"case_received:{case.number}",
        )
        _enqueue_checks(case.pk, "submission")
    return case


@transaction.atomic
def case_mark_checked(*, case_id: int, requested_at=None) -> Case:
    """The worker finished the automated checks: a submitted case goes to the analyst's review.

    `requested_at` is the request for checks the run answered (its CheckRun.requested_at):
    the case is marked checked up to that request only, so a correction that arrived while
    the run was reading the old files stays pending, and the scheduler re-enqueues it if
    its own task is lost."""
    case = Case.objects.select_for_update().get(pk=case_id)
    case.checks_completed_at = requested_at or timezone.now()
    case.save(update_fields=["checks_completed_at"])
    if case.status == CaseStatus.SUBMITTED:
        statemachine.transition(
            case, CaseStatus.IN_REVIEW, reason="Verificaciones automáticas terminadas"
        )
    return case


def _lock(case: Case) -> Case:
    return Case.objects.select_for_update().get(pk=case.pk)


def _clean_reasons(reasons: list[str]) -> list[str]:
    unknown = [r for r in reasons if r not in ReviewReason.values]
    if not reasons or unknown:
        raise ValidationError(
            {"reasons": f"Indique uno o más motivos válidos: {', '.join(ReviewReason.values)}"}
        )
    return list(dict.fromkeys(reasons))


def _require_message(message: str) -> str:
    message = (message or "").strip()
    if not message:
        raise ValidationError({"message": "Escriba el mensaje que leerá el ciudadano."})
    return message


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def case_request_correction(
    *, case: Case, actor, items: list[str], reasons: list[str], message: str
) -> CorrectionRequest:
    """Ask the citizen to upload some items again; the review clock stops until they answer."""
    from ventanilla.documents.constants import DocumentKind

    case = _lock(case)
    if not items or any(item not in DocumentKind.values for item in items):
        raise ValidationError(
            {"items": f"Indique qué documentos debe corregir: {', '.join(DocumentKind.values)}"}
        )
    reasons = _clean_reasons(reasons)
    message = _require_message(message)
    now = timezone.now()
    statemachine.transition(case, CaseStatus.CORRECTION_REQUESTED, actor=actor, reason=message)
    case.review_working_days_left = (
        working_days_left(now, case.review_due_at)
        if case.review_due_at
        else settings.REVIEW_WORKING_DAYS
    )
    case.review_due_at = None
    case.save(update_fields=["review_working_days_left", "review_due_at"])
    token = secrets.token_urlsafe(32)
    correction = CorrectionRequest.objects.create(
        case=case,
        items=list(dict.fromkeys(items)),
        reasons=reasons,
        message=message,
        token_hash=_token_hash(token),
        expires_at=now + dt.timedelta(days=settings.CORRECTION_LINK_DAYS),
        requested_by=actor,
    )
    audit_log(
        action="case.correction_requested",
        actor=actor,
        case=case,
        obj=correction,
        new={"items": correction.items, "reasons": reasons},
        reason=message,
    )
    email_queue(
        template="correction_requested",
        to=case.email,
        case=case,
        context={
            "correction": correction,
            "items": [DocumentKind(i).label for i in correction.items],
            "reasons": [ReviewReason(r).label for r in reasons],
            "link": f"{settings.SITE_URL}/tramite/correccion/{token}/",
        },
        dedupe_key=f"correction_requested:{correction.pk}",
    )
    return correction


def correction_for_token(token: str) -> CorrectionRequest | None:
    """The open correction request behind a citizen's link, or None (unknown, used or expired)."""
    return (
        CorrectionRequest.objects.select_related("case")
        .filter(
            token_hash=_token_hash(token),
            answered_at__isnull=True,
            expires_at__gt=timezone.now(),
            case__status=CaseStatus.CORRECTION_REQUESTED,
        )
        .first()
    )


def case_submit_correction(
    *, correction: CorrectionRequest, uploads: dict, inspected: dict
) -> Case:
    """The citizen sent the corrected items: new document versions, the clock resumes,
    the checks run again and the case goes back to the analyst."""
    with files_removed_on_failure() as stored, transaction.atomic():
        correction = CorrectionRequest.objects.select_for_update().get(pk=correction.pk)
        case = _lock(correction.case)
        if correction.answered_at is not None:
            raise statemachine.IllegalTransition(case, CaseStatus.IN_REVIEW)
        now = timezone.now()
        for kind, upload in uploads.items():
            stored.append(
                document_save(
                    case=case,
                    kind=kind,
                    upload=upload,
                    inspected=inspected[kind],
                    correction=correction,
                )
            )
        correction.answered_at = now
        correction.save(update_fields=["answered_at"])
        statemachine.transition(
            case, CaseStatus.IN_REVIEW, actor=CITIZEN, reason="Corrección enviada"
        )
        case.review_due_at = working_day_deadline(now, case.review_working_days_left or 1)
        case.review_working_days_left = None
        case.checks_enqueued_at = now
        case.save(update_fields=["review_due_at", "review_working_days_left", "checks_enqueued_at"])
        email_queue(
            template="correction_received",
            to=case.email,
            case=case,
            context={},
            dedupe_key=f"correction_received:{correction.pk}",
        )
        _enqueue_checks(case.pk, "correction")
    return case


@transaction.atomic
def case_reject(*, case: Case, actor, reasons: list[str], message: str) -> Case:
    """Reject the requirements. Always a person's decision, with coded reasons and a text."""
    case = _lock(case)
    reasons = _clean_reasons(reasons)
    message = _require_message(message)
    statemachine.transition(case, CaseStatus.REQUIREMENTS_REJECTED, actor=actor, reason=message)
    case.decision_reasons = reasons
    case.decision_message = message
    case.reviewed_at = timezone.now()
    case.save(update_fields=["decision_reasons", "decision_message", "reviewed_at"])
    email_queue(
        template="requirements_rejected",
        to=case.email,
        case=case,
        context={"reasons": [ReviewReason(r).label for r in reasons], "message": message},
        dedupe_key=f"requirements_rejected:{case.number}",
    )
    return case


@transaction.atomic
def case_invite(*, case: Case, actor, starts_at: dt.datetime, meeting_url: str = ""):
    """Accept the requirements and invite the citizen to the identity video call."""
    case = _lock(case)
    if starts_at.tzinfo is None:
        raise ValidationError({"starts_at": "Indique la fecha y hora con su zona horaria."})
    if starts_at <= timezone.now():
        raise ValidationError({"starts_at": "La videollamada debe ser en el futuro."})
    if meeting_url:
        # The link goes into an email the citizen clicks: only a web address will do.
        try:
            URLValidator(schemes=["https"])(meeting_url)
        except ValidationError as exc:
            raise ValidationError(
                {"meeting_url": "El enlace de la reunión debe ser una dirección https://."}
            ) from exc
    # From review (requirements accepted now) or from a call still to be agreed; a case
    # that already has its call, or is decided, cannot be invited again.
    if case.status not in (CaseStatus.IN_REVIEW, CaseStatus.CALL_PENDING):
        raise statemachine.IllegalTransition(case, CaseStatus.CALL_SCHEDULED)
    if case.status == CaseStatus.IN_REVIEW:
        statemachine.transition(
            case, CaseStatus.CALL_PENDING, actor=actor, reason="Requisitos aprobados"
        )
        case.reviewed_at = timezone.now()
        case.save(update_fields=["reviewed_at"])
    appointment = appointment_create(
        case=case, actor=actor, starts_at=starts_at, meeting_url=meeting_url
    )
    statemachine.transition(
        case, CaseStatus.CALL_SCHEDULED, actor=actor, reason="Videollamada agendada"
    )
    audit_log(
        action="appointment.created",
        actor=actor,
        case=case,
        obj=appointment,
        new={
            "starts_at": appointment.starts_at.isoformat(),
            "meeting_url": appointment.meeting_url,
        },
    )
    appointment_email_queue(appointment=appointment, template="call_invitation")
    return appointment


@transaction.atomic
def case_accept_requirements(*, case: Case, actor) -> Case:
    """Accept the requirements: the case waits for its call (call_pending) and the citizen
    receives their personal link to book it in their own time zone."""
    case = _lock(case)
    statemachine.transition(
        case, CaseStatus.CALL_PENDING, actor=actor, reason="Requisitos aprobados"
    )
    case.reviewed_at = timezone.now()
    case.save(update_fields=["reviewed_at"])
    booking_invitation_send(case=case, reason="Requisitos aprobados", actor=actor)
    return case


@transaction.atomic
def case_record_call_outcome(
    *, case: Case, actor, identity_validated: bool, notes: str, answers: dict | None = None
) -> Case:
    """Record the call. Validated: the new contact data goes to the registry, the citizen
    is told, and the email and phones on record before the change get a notice with a
    "this was not me" link. Not validated: the citizen is told why.

    `answers` are the analyst's marks on the identity questions of the call screen
    ({question: "matches" | "does_not_match"}); with them, a validation is refused unless
    every question was answered "coincide". The staff API records a call without them.
    A frozen registry record (an earlier change reported as not the holder's) refuses
    the validation (registry.services.RecordFrozen)."""
    from ventanilla.registry.services import contact_change_notify_previous
    from ventanilla.review.constants import CallResult
    from ventanilla.review.services import call_verification_record

    case = _lock(case)
    notes = (notes or "").strip()
    if not identity_validated and not notes:
        raise ValidationError({"notes": "Indique el motivo por el que no se validó la identidad."})
    appointment = case.appointments.filter(status="scheduled").first()
    if case.status != CaseStatus.CALL_SCHEDULED or appointment is None:
        raise statemachine.IllegalTransition(
            case,
            CaseStatus.IDENTITY_VALIDATED if identity_validated else CaseStatus.IDENTITY_REJECTED,
        )
    call_verification_record(
        case=case,
        appointment=appointment,
        actor=actor,
        outcome=CallResult.VALIDATED if identity_validated else CallResult.NOT_VALIDATED,
        answers=answers,
        notes=notes,
    )
    appointment.status = "held"
    appointment.outcome_notes = notes
    appointment.save(update_fields=["status", "outcome_notes"])
    if not identity_validated:
        statemachine.transition(case, CaseStatus.IDENTITY_REJECTED, actor=actor, reason=notes)
        case.decision_message = notes
        case.save(update_fields=["decision_message"])
        email_queue(
            template="identity_rejected",
            to=case.email,
            case=case,
            context={"message": notes},
            dedupe_key=f"identity_rejected:{case.number}",
        )
        return case
    statemachine.transition(case, CaseStatus.IDENTITY_VALIDATED, actor=actor, reason=notes)
    person, changes = contact_data_apply(case=case, actor=actor)
    statemachine.transition(
        case, CaseStatus.COMPLETED, actor=actor, reason="Datos de contacto actualizados"
    )
    email_queue(
        template="update_completed",
        to=case.email,
        case=case,
        context={"changes": changes},
        dedupe_key=f"update_completed:{case.number}",
    )
    # The real holder learns of the change where IESS reached them before, and may stop it.
    contact_change_notify_previous(case=case, person=person, changes=changes)
    return case


@transaction.atomic
def case_record_no_show(*, case: Case, actor, notes: str = "") -> Case:
    """The citizen did not join the call. The first time, the case waits for a new booking
    (call_pending) and the citizen gets a new booking link; the second time, the case
    expires and the citizen is told what happened and how to start again. Refused before
    the call's start time."""
    from ventanilla.appointments.models import Appointment
    from ventanilla.review.constants import CallResult
    from ventanilla.review.services import call_verification_record

    case = _lock(case)
    notes = (notes or "").strip()
    appointment = case.appointments.filter(status=Appointment.Status.SCHEDULED).first()
    if case.status != CaseStatus.CALL_SCHEDULED or appointment is None:
        raise statemachine.IllegalTransition(case, CaseStatus.CALL_PENDING)
    if appointment.starts_at > timezone.now():
        raise ValidationError(
            "La videollamada empieza el "
            f"{timezone.localtime(appointment.starts_at, ECUADOR):%Y-%m-%d a las %H:%M} "
            "(hora de Ecuador): la inasistencia se registra desde esa hora."
        )
    call_verification_record(
        case=case,
        appointment=appointment,
        actor=actor,
        outcome=CallResult.NO_SHOW,
        answers=None,
        notes=notes,
    )
    appointment.status = Appointment.Status.NO_SHOW
    appointment.outcome_notes = notes
    appointment.save(update_fields=["status", "outcome_notes"])
    missed = case.appointments.filter(status=Appointment.Status.NO_SHOW).count()
    audit_log(
        action="appointment.no_show",
        actor=actor,
        case=case,
        obj=appointment,
        old={"status": Appointment.Status.SCHEDULED},
        new={"status": Appointment.Status.NO_SHOW, "missed_calls": missed},
        reason=notes,
    )
    if missed >= 2:
        statemachine.transition(
            case,
            CaseStatus.EXPIRED,
            actor=actor,
            reason="El ciudadano no se presentó a la segunda videollamada",
        )
        email_queue(
            template="call_no_show_expired",
            to=case.email,
            case=case,
            context={"appointment": appointment, "ecuador_tz": ECUADOR_TZ, "missed": missed},
            dedupe_key=f"call_no_show_expired:{case.number}",
        )
        return case
    statemachine.transition(
        case,
        CaseStatus.CALL_PENDING,
        actor=actor,
        reason="El ciudadano no se presentó a la videollamada: puede agendar una vez más",
    )
    booking_invitation_send(case=case, reason="no_show", actor=actor)
    return case


@transaction.atomic
def case_withdraw(*, case: Case, reason: str = "") -> Case:
    """The citizen closes their own open case (desistimiento). Nothing of their data
    changes; the review clock stops, a scheduled video call is cancelled (the email
    carries the calendar cancellation), and a confirmation goes to the case's email, so
    that a withdrawal the holder did not ask for is noticed. A final case is refused
    with IllegalTransition."""
    from ventanilla.appointments.models import Appointment

    case = _lock(case)
    reason = (reason or "").strip()
    from_status = case.status
    statemachine.transition(
        case,
        CaseStatus.WITHDRAWN,
        actor=CITIZEN,
        reason=reason or "Desistimiento a pedido del ciudadano",
    )
    case.review_due_at = None
    case.review_working_days_left = None
    case.save(update_fields=["review_due_at", "review_working_days_left"])
    audit_log(
        action="case.withdrawn",
        actor=CITIZEN,
        case=case,
        obj=case,
        old={"status": from_status},
        new={"status": case.status},
        reason=reason,
    )
    cancelled = case.appointments.filter(status=Appointment.Status.SCHEDULED).first()
    attachments = []
    if cancelled is not None:
        appointment_mark_cancelled(cancelled)
        audit_log(
            action="appointment.cancelled",
            actor=CITIZEN,
            case=case,
            obj=cancelled,
            old={"status": Appointment.Status.SCHEDULED},
            new={"status": Appointment.Status.CANCELLED},
            reason="Desistimiento del trámite",
        )
        attachments.append(appointment_calendar_part(cancelled, method="CANCEL"))
    email_queue(
        template="case_withdrawn",
        to=case.email,
        case=case,
        context={"cancelled_appointment": cancelled, "ecuador_tz": ECUADOR_TZ},
        attachments=attachments,
        dedupe_key=f"case_withdrawn:{case.number}",
    )
    return case


# Assignment: who works a case. "Take the next case" and random allocation keep analysts
# from choosing their cases; each change of hands is an audit event (case.assigned).

ASSIGNED_BY_TAKE_NEXT = "take_next"
ASSIGNED_BY_SUPERVISOR = "supervisor"
ASSIGNED_BY_RANDOM = "random"
# How many unassigned cases one click on "Asignar al azar" distributes when none is selected.
RANDOM_BATCH = 50


def _username(user) -> str | None:
    return user.get_username() if user is not None else None


def _assignment_logged(case: Case, *, actor, old, new, how: str) -> None:
    audit_log(
        action="case.assigned",
        actor=actor,
        case=case,
        obj=case,
        old={"assigned_to": _username(old)},
        new={"assigned_to": _username(new), "how": how},
    )


def _require_assignable(user) -> None:
    from ventanilla.staff.roles import Permission, can

    if not can(user, Permission.TAKE_CASES):
        raise ValidationError(
            f"{user.get_username()} no es un analista activo: los trámites solo se asignan a "
            "analistas. Elija otra persona de la lista."
        )


def _unassigned_open_cases():
    return Case.objects.filter(status__in=OPEN_STATUSES, assigned_to__isnull=True)


def _claim(case_id: int, user, now: dt.datetime) -> bool:
    """Assign an open case to `user` only if nobody took it meanwhile (conditional update)."""
    return bool(
        _unassigned_open_cases().filter(pk=case_id).update(assigned_to=user, assigned_at=now)
    )


@transaction.atomic
def case_assign(*, case: Case, actor, assignee) -> Case:
    """A supervisor gives an open case to an analyst, or takes it back (`assignee=None`).

    Refuses (ValidationError) a closed case or an assignee who is not an active analyst.
    Assigning a case to whoever already has it changes nothing and records nothing.
    """
    if assignee is not None:
        _require_assignable(assignee)
    case = (
        Case.objects.select_for_update(of=("self",)).select_related("assigned_to").get(pk=case.pk)
    )
    if case.is_final:
        raise ValidationError(
            f"El trámite {case.number} está cerrado («{CaseStatus(case.status).label}»): "
            "ya no se asigna a nadie."
        )
    old = case.assigned_to
    if (old.pk if old else None) == (assignee.pk if assignee else None):
        return case
    case.assigned_to = assignee
    case.assigned_at = timezone.now() if assignee is not None else None
    case.save(update_fields=["assigned_to", "assigned_at"])
    _assignment_logged(case, actor=actor, old=old, new=assignee, how=ASSIGNED_BY_SUPERVISOR)
    return case


@transaction.atomic
def case_assign_bulk(*, cases: list[Case], actor, assignee) -> list[Case]:
    """A supervisor gives several open cases to one analyst (`case_assign` for each)."""
    return [case_assign(case=case, actor=actor, assignee=assignee) for case in cases]


def case_take_next(*, actor) -> Case | None:
    """An analyst takes the unassigned open case with the nearest deadline; None when
    there is none. Two analysts asking at once never get the same case: on PostgreSQL
    the row is locked and other takers skip it (FOR UPDATE SKIP LOCKED); elsewhere the
    claim is a conditional update, retried when someone else was faster."""
    _require_assignable(actor)
    skip_locked = connection.features.has_select_for_update_skip_locked
    for _attempt in range(20):
        with transaction.atomic():
            now = timezone.now()
            candidates = _unassigned_open_cases().order_by(*QUEUE_ORDER)
            if skip_locked:
                candidates = candidates.select_for_update(skip_locked=True)
            case = candidates.first()
            if case is None:
                return None
            if not _claim(case.pk, actor, now):
                continue  # another analyst claimed it between our read and our update
            case.assigned_to, case.assigned_at = actor, now
            _assignment_logged(case, actor=actor, old=None, new=actor, how=ASSIGNED_BY_TAKE_NEXT)
            return case
    return None


@transaction.atomic
def case_assign_random(*, actor, cases: list[Case] | None = None) -> list[Case]:
    """Distribute unassigned open cases among the active analysts at random.

    `cases`: the supervisor's selection (cases already assigned or closed are skipped);
    None: the next RANDOM_BATCH unassigned cases in queue order. The analysts are dealt
    like shuffled cards (secrets.SystemRandom), one fresh shuffle per round, so nobody
    can predict or steer who gets which case and the load stays even. Returns the cases
    assigned.
    """
    from ventanilla.staff.roles import Permission, users_with

    analysts = list(users_with(Permission.TAKE_CASES))
    if not analysts:
        raise ValidationError(
            "No hay analistas activos a quienes asignar trámites. Pida al administrador que "
            "active al menos una cuenta con el rol de analista."
        )
    pending = _unassigned_open_cases().order_by(*QUEUE_ORDER)
    if cases is None:
        pending = pending[:RANDOM_BATCH]
    else:
        pending = pending.filter(pk__in=[c.pk for c in cases])
    rng = secrets.SystemRandom()
    deck: list = []
    assigned = []
    now = timezone.now()
    for case in pending.select_for_update():
        if not deck:
            deck = analysts[:]
            rng.shuffle(deck)
        analyst = deck.pop()
        if not _claim(case.pk, analyst, now):
            continue
        case.assigned_to, case.assigned_at = analyst, now
        _assignment_logged(case, actor=actor, old=None, new=analyst, how=ASSIGNED_BY_RANDOM)
        assigned.append(case)
    return assigned


@transaction.atomic
def case_checks_outcome_record(*, case_id: int, recommendation: str) -> None:
    """Copy a finished check run's recommendation onto the case, where the queue's
    "flagged by checks" filter reads it (Case.flagged is computed by the database).
    The checks pipeline calls this in the transaction that saves the run."""
    Case.objects.filter(pk=case_id).update(checks_recommendation=recommendation)


@transaction.atomic
def case_deadlines_holiday_added(*, day: dt.date, actor=None) -> int:
    """`day`, a weekday, has just become a non-working day (a holiday added by hand, or
    one no longer marked as worked): every case whose review clock runs across it gets
    one more working day, since its deadline had counted `day` as working.

    A case is moved when its clock runs (submitted or in review), its deadline falls on
    or after `day`, and its clock started (submission, or the citizen's last correction)
    before `day`: a term counts from the working day after its start, so a clock started
    on `day` never counted it. The new deadline is the end of the next working day after
    the old one, on the calendar as it now is. Cases waiting for a correction keep their
    working days left and need nothing. Each move is an audit event on the case.
    Returns how many cases were moved."""
    if day.weekday() >= 5:  # weekends never count, with or without a holiday
        return 0
    day_starts = dt.datetime.combine(day, dt.time.min, tzinfo=ECUADOR)
    last_correction = (
        CorrectionRequest.objects.filter(case=OuterRef("pk"), answered_at__isnull=False)
        .order_by("-answered_at")
        .values("answered_at")[:1]
    )
    cases = list(
        Case.objects.select_for_update()
        .filter(
            status__in=[s.value for s in REVIEW_CLOCK_STATUSES],
            review_due_at__isnull=False,
            review_due_at__gte=day_starts,
        )
        .annotate(clock_started_at=Coalesce(Subquery(last_correction), "submitted_at"))
        .filter(clock_started_at__lt=day_starts)
        .order_by("pk")
    )
    # One calendar walk per distinct deadline, not per case.
    moved_to: dict[dt.datetime, dt.datetime] = {}
    for case in cases:
        old = case.review_due_at
        if old not in moved_to:
            moved_to[old] = working_day_deadline(old, 1)
        case.review_due_at = moved_to[old]
        audit_log(
            action="case.deadline_moved",
            actor=actor,
            case=case,
            obj=case,
            old={"review_due_at": old.astimezone(ECUADOR).isoformat()},
            new={"review_due_at": case.review_due_at.astimezone(ECUADOR).isoformat()},
            reason=f"Día no laborable añadido al calendario: {day.isoformat()}",
        )
    Case.objects.bulk_update(cases, ["review_due_at"], batch_size=500)
    return len(cases)
