"""Data-subject requests (LOPDP arts. 13-17): register one with its deadline, answer or
refuse it, and hand over everything held about the person. Each use case writes its
audit event; the events carry no name or identification number (administrators read
the audit trail and see no personal data of the insured)."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ventanilla.audit.services import audit_log
from ventanilla.cases.constants import IdType
from ventanilla.cases.validators import id_number_clean
from ventanilla.workdays.selectors import working_day_deadline

from .constants import (
    EXPORT_KINDS,
    RESPONSE_WORKING_DAYS,
    RequestChannel,
    RequestKind,
    RequestStatus,
)
from .export import DataExport, person_data_export
from .models import DataSubjectRequest


def data_request_due_at(received_at: dt.datetime) -> dt.datetime:
    """The end (Ecuador time) of the 15th working day after the day the request arrived."""
    return working_day_deadline(received_at, RESPONSE_WORKING_DAYS)


@transaction.atomic
def data_request_register(
    *,
    actor,
    id_type: str,
    id_number: str,
    full_name: str,
    kind: str,
    channel: str,
    contact_email: str = "",
    received_at: dt.datetime | None = None,
    notes: str = "",
) -> DataSubjectRequest:
    """Record a request as it arrived (by email, at an office ...) and set its deadline.
    `received_at` defaults to now; a later registration keeps the day it really arrived."""
    now = timezone.now()
    received_at = received_at or now
    if id_type not in IdType.values:
        raise ValidationError(_("Elija cédula, pasaporte o código de extranjero."))
    if kind not in RequestKind.values:
        raise ValidationError(_("Elija qué derecho ejerce la persona."))
    if channel not in RequestChannel.values:
        raise ValidationError(_("Elija por qué medio llegó la solicitud."))
    if received_at > now:
        raise ValidationError(
            _("La fecha de recepción no puede ser posterior a hoy: escriba el día en que llegó.")
        )
    full_name = " ".join(full_name.split())
    if not full_name:
        raise ValidationError(_("Escriba el nombre del titular como consta en su solicitud."))
    request = DataSubjectRequest.objects.create(
        id_type=id_type,
        id_number=id_number_clean(id_type, id_number),
        full_name=full_name,
        contact_email=contact_email.strip().lower(),
        kind=kind,
        channel=channel,
        received_at=received_at,
        due_at=data_request_due_at(received_at),
        notes=notes.strip(),
        registered_by=actor,
    )
    audit_log(
        action="privacy.request_registered",
        actor=actor,
        obj=request,
        new={
            "kind": kind,
            "channel": channel,
            "received_at": received_at.isoformat(),
            "due_at": request.due_at.isoformat(),
        },
    )
    return request


def _lock_open(request: DataSubjectRequest) -> DataSubjectRequest:
    request = DataSubjectRequest.objects.select_for_update().get(pk=request.pk)
    if not request.is_open:
        raise ValidationError(
            _("Esta solicitud ya está cerrada (%(status)s): no se puede cambiar.")
            % {"status": request.get_status_display().lower()}
        )
    return request


def _close(request: DataSubjectRequest, *, actor, status: str, text: str, action: str):
    now = timezone.now()
    request.status = status
    request.resolution = text
    request.answered_at = now
    request.answered_by = actor
    request.save(update_fields=["status", "resolution", "answered_at", "answered_by"])
    audit_log(
        action=action,
        actor=actor,
        obj=request,
        old={"status": RequestStatus.OPEN},
        new={"status": status, "late": now > request.due_at},
        reason=text,
    )
    return request


@transaction.atomic
def data_request_answer(*, request: DataSubjectRequest, actor, resolution: str):
    """The request was answered: say what was sent or done (e.g. "ZIP enviado por correo
    cifrado", "teléfono corregido en el registro")."""
    resolution = resolution.strip()
    if not resolution:
        raise ValidationError(
            _(
                "Escriba cómo se atendió la solicitud: qué se entregó o qué se cambió, y por qué medio."
            )
        )
    request = _lock_open(request)
    return _close(
        request,
        actor=actor,
        status=RequestStatus.ANSWERED,
        text=resolution,
        action="privacy.request_answered",
    )


@transaction.atomic
def data_request_refuse(*, request: DataSubjectRequest, actor, reason: str):
    """The request is refused, with the reason the person will be told (LOPDP art. 18
    lists when a right may be limited)."""
    reason = reason.strip()
    if not reason:
        raise ValidationError(
            _("Escriba el motivo del rechazo: se comunica al titular y debe tener base legal.")
        )
    request = _lock_open(request)
    return _close(
        request,
        actor=actor,
        status=RequestStatus.REFUSED,
        text=reason,
        action="privacy.request_refused",
    )


def data_request_export(*, request: DataSubjectRequest, actor) -> DataExport:
    """Everything held about the request's person, as a ZIP (`person_data_export`), for an
    access or portability request that was not refused. Each export is audited with the
    number of files and the ZIP's SHA-256, so the copy handed over can be recognised."""
    if request.kind not in EXPORT_KINDS:
        raise ValidationError(
            _("Solo una solicitud de acceso o de portabilidad se responde con la descarga.")
        )
    if request.status == RequestStatus.REFUSED:
        raise ValidationError(_("Esta solicitud fue rechazada: no se entrega información."))
    export = person_data_export(id_type=request.id_type, id_number=request.id_number)
    audit_log(
        action="privacy.export_downloaded",
        actor=actor,
        obj=request,
        new={"files": export.file_count, "sha256": export.sha256, "bytes": export.size},
    )
    return export
