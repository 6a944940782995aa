"""Writes to the registry of insured persons: imports and contact-data changes."""

import csv
import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from stdnum.ec import ci

from ventanilla.audit.services import CITIZEN, audit_log
from ventanilla.cases.constants import IdType

from .constants import (
    CONTACT_FIELDS,
    SMS_PHONE_FIELDS,
    ChangeSource,
    FraudOutcome,
    FraudReviewStatus,
    InsuredType,
    ReportChannel,
)
from .masking import mask_email, mask_phone, masked_changes
from .models import ChangeReportLink, ContactDataChange, FraudReview, InsuredPerson
from .selectors import change_report_link_state

logger = logging.getLogger(__name__)

ECUADOR_TZ = ZoneInfo("America/Guayaquil")

IMPORT_COLUMNS = (
    "id_number",
    "first_names",
    "last_names",
    "birth_date",
    "insured_type",
    "email",
    "phone",
)


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


def _import_row(row: dict[str, str]) -> dict:
    """Clean one CSV row or raise ValidationError with a message naming the column."""
    id_number = (row.get("id_number") or "").strip()
    id_type = (row.get("id_type") or IdType.CEDULA).strip()
    if id_type == IdType.CEDULA and not ci.is_valid(id_number):
        raise ValidationError(f"id_number «{id_number}» no es una cédula válida")
    for column in ("first_names", "last_names"):
        if not (row.get(column) or "").strip():
            raise ValidationError(f"{column} está vacío")
    insured_type = (row.get("insured_type") or "").strip().lower()
    if insured_type not in InsuredType.values:
        raise ValidationError(
            f"insured_type «{insured_type}» debe ser uno de {', '.join(InsuredType.values)}"
        )
    try:
        birth_date = (
            dt.date.fromisoformat(row["birth_date"].strip()) if row.get("birth_date") else None
        )
    except ValueError as exc:
        raise ValidationError(f"birth_date «{row['birth_date']}» no es AAAA-MM-DD") from exc
    email = (row.get("email") or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise ValidationError(f"email «{email}» no es un correo electrónico válido") from exc
    phone = (row.get("phone") or "").strip()
    if phone:
        try:
            parsed = phonenumbers.parse(phone, "EC")
        except phonenumbers.NumberParseException as exc:
            raise ValidationError(f"phone «{phone}» no es un teléfono") from exc
        if not phonenumbers.is_valid_number(parsed):
            raise ValidationError(f"phone «{phone}» no es un teléfono válido")
        phone = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return {
        "id_type": id_type,
        "id_number": id_number,
        "first_names": row["first_names"].strip(),
        "last_names": row["last_names"].strip(),
        "birth_date": birth_date,
        "insured_type": insured_type,
        "email": email,
        "phone": phone,
    }


@transaction.atomic
def insured_import_csv(*, stream) -> ImportReport:
    """Load or update insured persons from CSV. A bad row is reported and skipped;
    an existing person's contact data is never overwritten by an import."""
    reader = csv.DictReader(stream)
    missing = [c for c in IMPORT_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationError(f"Faltan columnas en el CSV: {', '.join(missing)}")
    report = ImportReport()
    for row in reader:
        # The reader's own line count: blank lines are skipped but still counted.
        line_no = reader.line_num
        try:
            values = _import_row(row)
        except (ValidationError, KeyError) as exc:
            text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            report.errors.append(f"línea {line_no}: {text}")
            continue
        key = {"id_type": values.pop("id_type"), "id_number": values.pop("id_number")}
        person = InsuredPerson.objects.filter(**key).first()
        if person is None:
            InsuredPerson.objects.create(**key, **values)
            report.created += 1
        else:
            for name in ("first_names", "last_names", "birth_date", "insured_type"):
                setattr(person, name, values[name])
            person.save()
            report.updated += 1
    return report


class RecordFrozen(ValidationError):
    """The person's record is frozen by a "this was not me" report: no case may change it."""


APPLIED_ACTION = "registry.contact_data_applied"


@transaction.atomic
def contact_data_apply(*, case, actor) -> tuple[InsuredPerson, list[ContactDataChange]]:
    """Apply a validated case's contact data to the registry, one history row per changed field.

    A person missing from the registry (the analyst saw the flag and still validated
    the identity on the call) is added, with the creation in the history. A frozen
    record (the holder reported an earlier change as not theirs, and a supervisor has
    not closed the review yet) is refused with RecordFrozen.

    A case is applied once: called again for it (a retried request, a second call), it
    changes nothing and returns the person and the history rows of the first time. The
    case row is locked first, so two calls at once are taken one after the other, and the
    audit event of the first, written in its transaction, is what the second finds.
    """
    from ventanilla.audit.models import AuditEvent
    from ventanilla.cases.models import Case

    locked = Case.objects.select_for_update().get(pk=case.pk)
    if AuditEvent.objects.filter(case_id=case.pk, action=APPLIED_ACTION).exists():
        person = InsuredPerson.objects.get(pk=locked.insured_id)
        changes = ContactDataChange.objects.filter(
            case_id=case.pk, person=person, source=ChangeSource.CASE
        ).order_by("pk")
        logger.info("contact data of case %s already applied: nothing changed", case.pk)
        return person, list(changes)
    person = (
        InsuredPerson.objects.select_for_update()
        .filter(id_type=case.id_type, id_number=case.id_number)
        .first()
    )
    if person is not None and person.is_frozen:
        raise RecordFrozen(
            f"El registro de {case.id_number} está congelado desde el "
            f"{timezone.localtime(person.frozen_at, ECUADOR_TZ):%Y-%m-%d %H:%M} (hora de Ecuador): "
            "el titular denunció que un cambio anterior no lo hizo él. No se puede validar "
            "este cambio hasta que un supervisor cierre la revisión por suplantación "
            "(Gestión › Suplantaciones). Registre la videollamada como no validada o espere."
        )
    if person is None:
        person = InsuredPerson.objects.create(
            id_type=case.id_type,
            id_number=case.id_number,
            first_names=case.first_names,
            last_names=case.last_names,
            birth_date=case.birth_date,
            insured_type="",
        )
        audit_log(action="registry.person_created", actor=actor, case=case, obj=person)
    changes = []
    for name in CONTACT_FIELDS:
        old, new = getattr(person, name) or "", getattr(case, name) or ""
        if old == new:
            continue
        setattr(person, name, new)
        changes.append(
            ContactDataChange(
                person=person, field=name, old_value=old, new_value=new, case=case, changed_by=actor
            )
        )
    person.save()
    ContactDataChange.objects.bulk_create(changes)
    audit_log(
        action=APPLIED_ACTION,
        actor=actor,
        case=case,
        obj=person,
        old={c.field: c.old_value for c in changes},
        new={c.field: c.new_value for c in changes},
    )
    if case.insured_id != person.pk:
        case.insured = person
        case.save(update_fields=["insured"])
    return person, changes


# --- the change and its protection: "this was not me" ---------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _report_link(*, case, person, channel: str, sent_to_masked: str, expires_at) -> str:
    """A new "this was not me" link for one recipient; returns its address."""
    token = secrets.token_urlsafe(32)
    ChangeReportLink.objects.create(
        case=case,
        person=person,
        channel=channel,
        sent_to_masked=sent_to_masked,
        token_hash=token_hash(token),
        expires_at=expires_at,
    )
    return f"{settings.SITE_URL}{reverse('portal:not_me', args=[token])}"


def _sms_number(value: str) -> str:
    """`value` in E.164 if it is a valid number that can receive an SMS, else ""."""
    try:
        number = phonenumbers.parse(value or "", None if value.startswith("+") else "EC")
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def previous_contact(person: InsuredPerson, changes: list[ContactDataChange]) -> dict:
    """The person's email and phones as they were before `changes` (made just now)."""
    before = {c.field: c.old_value for c in changes}
    return {
        name: before.get(name, getattr(person, name) or "") for name in ("email", *SMS_PHONE_FIELDS)
    }


def contact_change_notify_previous(
    *, case, person: InsuredPerson, changes: list[ContactDataChange]
) -> list[ChangeReportLink]:
    """Tell the email and the phones on record BEFORE a validated change that the change
    was made, each with its own "this was not me" link valid CONTACT_CHANGE_REPORT_DAYS.
    Nothing is sent when nothing changed or nothing was on record. Call in the transaction
    of the change: the email and the SMS are outbox rows, sent after commit."""
    from ventanilla.notifications.services import email_queue
    from ventanilla.notifications.sms import sms_queue

    if not changes:
        return []
    sent = list(ChangeReportLink.objects.filter(case=case).order_by("pk"))
    if sent:
        return sent  # told already: a second call adds no link and no message
    previous = previous_contact(person, changes)
    days = settings.CONTACT_CHANGE_REPORT_DAYS
    expires_at = timezone.now() + dt.timedelta(days=days)
    shown = masked_changes(changes)
    context = {"person": person, "changes": shown, "expires_at": expires_at, "days": days}
    if previous["email"]:
        link = _report_link(
            case=case,
            person=person,
            channel=ReportChannel.EMAIL,
            sent_to_masked=mask_email(previous["email"]),
            expires_at=expires_at,
        )
        email_queue(
            template="previous_email_notice",
            to=previous["email"],
            case=case,
            context={**context, "link": link},
            dedupe_key=f"previous_email_notice:{case.number}",
        )
    numbers = dict.fromkeys(
        number for name in SMS_PHONE_FIELDS if (number := _sms_number(previous[name]))
    )
    for number in numbers:
        link = _report_link(
            case=case,
            person=person,
            channel=ReportChannel.SMS,
            sent_to_masked=mask_phone(number),
            expires_at=expires_at,
        )
        sms_queue(
            template="contact_change_notice",
            to=number,
            case=case,
            context={**context, "link": link},
            dedupe_key=f"contact_change_notice:{case.number}:{number}",
        )
    links = list(ChangeReportLink.objects.filter(case=case).order_by("pk"))
    audit_log(
        action="registry.change_notice_sent",
        case=case,
        obj=person,
        new={
            "to": [link.sent_to_masked for link in links],
            "expires_at": expires_at.isoformat(),
        },
    )
    return links


class ChangeReportUnavailable(Exception):
    """The link is unknown, expired, or its change was already reported."""

    def __init__(self, reason: str, link: ChangeReportLink | None = None):
        self.reason = reason  # "unknown", "expired" or "used"
        self.link = link
        super().__init__(reason)


def _supervisors_with_email():
    from ventanilla.staff.roles import Permission, users_with

    return users_with(Permission.ASSIGN).exclude(email="")


@transaction.atomic
def contact_change_report(*, token: str) -> FraudReview:
    """The holder followed a "this was not me" link and confirmed. In one transaction:
    the change's previous contact data goes back into the registry (with its history),
    the record is frozen, a fraud review is opened for the supervisors (who are alerted
    by email), the holder is told at the restored address, and every step is audited.
    The review also counts as a complaint (selectors.fraud_reports_in_month).

    Raises ChangeReportUnavailable for an unknown or expired link, or a change already
    reported (through this link or another one of the same case)."""
    from ventanilla.notifications.services import email_queue

    link = (
        ChangeReportLink.objects.select_related("case").filter(token_hash=token_hash(token)).first()
    )
    if link is None:
        raise ChangeReportUnavailable("unknown")
    # Locking the person serialises two reports of the same change (email and SMS).
    person = InsuredPerson.objects.select_for_update().get(pk=link.person_id)
    link = ChangeReportLink.objects.select_for_update().get(pk=link.pk)
    case = link.case
    state = change_report_link_state(link)
    if state != "usable":
        raise ChangeReportUnavailable(state, link)
    now = timezone.now()
    restored, not_restored, history = {}, [], []
    for change in ContactDataChange.objects.filter(
        person=person, case=case, source=ChangeSource.CASE
    ).order_by("pk"):
        current = getattr(person, change.field) or ""
        if current != change.new_value:
            # A later change replaced it already: the supervisor decides.
            not_restored.append(change.field)
            continue
        setattr(person, change.field, change.old_value)
        restored[change.field] = change.old_value
        history.append(
            ContactDataChange(
                person=person,
                field=change.field,
                old_value=current,
                new_value=change.old_value,
                case=case,
                source=ChangeSource.REPORT_RESTORE,
            )
        )
    person.frozen_at = now
    person.save()
    ContactDataChange.objects.bulk_create(history)
    link.used_at = now
    link.save(update_fields=["used_at"])
    review = FraudReview.objects.create(
        case=case,
        person=person,
        reported_at=now,
        channel=link.channel,
        restored=restored,
        not_restored=not_restored,
    )
    reason = "Aviso «no fui yo» del titular"
    audit_log(
        action="registry.change_reported",
        actor=CITIZEN,
        case=case,
        obj=link,
        new={"channel": link.channel, "sent_to": link.sent_to_masked},
        reason=reason,
    )
    audit_log(
        action="registry.contact_data_restored",
        actor=CITIZEN,
        case=case,
        obj=person,
        old={c.field: c.old_value for c in history},
        new={c.field: c.new_value for c in history},
        reason=reason,
    )
    audit_log(
        action="registry.person_frozen",
        actor=CITIZEN,
        case=case,
        obj=person,
        new={"frozen_at": now.isoformat()},
        reason=reason,
    )
    audit_log(
        action="registry.fraud_review_opened",
        actor=CITIZEN,
        case=case,
        obj=review,
        new={"channel": review.channel, "not_restored": not_restored},
        reason=reason,
    )
    if person.email:
        email_queue(
            template="not_me_confirmed",
            to=person.email,
            case=case,
            context={"person": person, "review": review, "restored": bool(restored)},
            dedupe_key=f"not_me_confirmed:{review.pk}",
        )
    link_to_reviews = f"{settings.SITE_URL}{reverse('backoffice:fraud_reviews')}"
    for user in _supervisors_with_email():
        email_queue(
            template="fraud_alert",
            to=user.email,
            case=case,
            context={
                "recipient": user,
                "review": review,
                "person": person,
                "restored": [str(label) for label in _labels(restored)],
                "not_restored": [str(label) for label in _labels(not_restored)],
                "link": link_to_reviews,
            },
            dedupe_key=f"fraud_alert:{review.pk}:{user.pk}",
        )
    return review


def _labels(fields) -> list:
    from .constants import CONTACT_FIELD_LABELS

    return [CONTACT_FIELD_LABELS.get(name, name) for name in fields]


def change_report_refused_log(*, token: str, reason: str) -> None:
    """Record a refused use of a link (unknown, expired or second use). Call it after
    contact_change_report raised, outside its rolled-back transaction."""
    link = ChangeReportLink.objects.filter(token_hash=token_hash(token)).first()
    with transaction.atomic():
        audit_log(
            action="registry.change_report_refused",
            actor=CITIZEN,
            case=link.case if link else None,
            obj=link,
            new={"reason": reason},
        )


@transaction.atomic
def fraud_review_close(*, review: FraudReview, actor, outcome: str, resolution: str) -> FraudReview:
    """A supervisor closes a fraud review with its outcome and what was done. When the
    person has no other open review, the record is unfrozen: cases may change it again."""
    review = FraudReview.objects.select_for_update().select_related("case").get(pk=review.pk)
    resolution = (resolution or "").strip()
    errors = {}
    if outcome not in FraudOutcome.values:
        errors["outcome"] = "Elija el resultado de la revisión."
    if not resolution:
        errors["resolution"] = (
            "Escriba la resolución: qué se verificó, qué se hizo y qué se comunicó al titular."
        )
    if errors:
        raise ValidationError(errors)
    if not review.is_open:
        raise ValidationError(
            f"La revisión del trámite {review.case.number} ya fue cerrada el "
            f"{timezone.localtime(review.closed_at, ECUADOR_TZ):%Y-%m-%d %H:%M}."
        )
    now = timezone.now()
    review.status = FraudReviewStatus.CLOSED
    review.outcome = outcome
    review.resolution = resolution
    review.closed_by = actor
    review.closed_at = now
    review.save(update_fields=["status", "outcome", "resolution", "closed_by", "closed_at"])
    audit_log(
        action="registry.fraud_review_closed",
        actor=actor,
        case=review.case,
        obj=review,
        old={"status": FraudReviewStatus.OPEN},
        new={"status": review.status, "outcome": outcome},
        reason=resolution,
    )
    person = InsuredPerson.objects.select_for_update().get(pk=review.person_id)
    still_open = FraudReview.objects.filter(person=person, status=FraudReviewStatus.OPEN)
    if person.is_frozen and not still_open.exists():
        old = person.frozen_at
        person.frozen_at = None
        person.save(update_fields=["frozen_at", "updated_at"])
        audit_log(
            action="registry.person_unfrozen",
            actor=actor,
            case=review.case,
            obj=person,
            old={"frozen_at": old.isoformat()},
            new={"frozen_at": None},
            reason=resolution,
        )
    return review
