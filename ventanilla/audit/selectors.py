"""Reading the audit trail: the auditor's search, newest first, page by page.

Pages follow a cursor (the moment and id of the last row shown) instead of an offset
and a COUNT, so the tenth page of a million events costs what the first one does.
"""

import datetime as dt
import json
from collections.abc import Iterator

from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from ventanilla.workdays.selectors import ECUADOR

from .models import AuditEvent

# What each recorded action means, for the auditor (codes are the ones audit_log gets).
ACTION_LABELS = {
    "document.viewed": _("Vio o descargó un archivo del trámite"),
    "document.view_refused": _(
        "Intentó abrir un archivo que el antivirus aún no ha dado por limpio (no se mostró)"
    ),
    "check_evidence.viewed": _("Vio una evidencia de las verificaciones"),
    "draft_file.viewed": _("El ciudadano vio un archivo de su solicitud, antes de enviarla"),
    "request_form.downloaded": _("El ciudadano descargó la solicitud llenada con sus datos"),
    "case.viewed": _("Abrió un trámite"),
    "registry.viewed": _("Consultó el registro de asegurados"),
    "case.submitted": _("Trámite presentado"),
    "case.checked": _("Verificaciones automáticas terminadas"),
    "case.checks_requested": _("Pidió repetir las verificaciones"),
    "case.transition": _("Cambio de estado"),
    "case.correction_requested": _("Pidió una corrección"),
    "case.withdrawn": _("Desistimiento del ciudadano"),
    "appointment.created": _("Agendó la videollamada"),
    "appointment.cancelled": _("Videollamada cancelada"),
    "appointment.booking_link_sent": _("Envió al ciudadano el enlace para agendar la videollamada"),
    "appointment.rescheduled": _("Videollamada cambiada de horario"),
    "appointment.slots_published": _("Publicó horarios para videollamadas"),
    "appointment.slot_withdrawn": _("Retiró un horario para videollamadas"),
    "registry.person_created": _("Alta en el registro de asegurados"),
    "registry.contact_data_applied": _("Datos de contacto actualizados en el registro"),
    "case.assigned": _("Asignación del trámite"),
    "review.checklist_saved": _("Guardó la lista de revisión"),
    "review.note_added": _("Agregó una nota interna"),
    "staff.signed_in": _("Ingresó al sistema (con segundo factor)"),
    "staff.sign_in_failed": _("Ingreso fallido (contraseña)"),
    "staff.otp_failed": _("Código del segundo factor rechazado"),
    "staff.locked_out": _("Cuenta bloqueada por intentos fallidos"),
    "staff.otp_enrolled": _("Activó la verificación en dos pasos"),
    "staff.otp_reset": _("Restableció la verificación en dos pasos de otra persona"),
    "staff.signed_out": _("Salió del sistema"),
    "staff.idle_timeout": _("Sesión cerrada por inactividad"),
    "staff.api_token_created": _("Creó una clave de acceso a la API"),
    "staff.api_token_revoked": _("Revocó una clave de acceso a la API"),
    "audit.exported": _("Exportó resultados de auditoría"),
    "figures.exported": _("Exportó las cifras internas (CSV)"),
    "staff.passkey_added": _("Agregó una llave de acceso"),
    "staff.passkey_removed": _("Quitó una llave de acceso"),
    "staff.passkey_counter_went_back": _("Llave de acceso rechazada: posible copia"),
    "staff.account_created": _("Creó una cuenta del personal"),
    "staff.activation_sent": _("Envió el enlace para activar una cuenta"),
    "staff.password_set": _("Eligió la contraseña de su cuenta nueva"),
    "staff.roles_changed": _("Cambió los roles de una cuenta"),
    "staff.deactivated": _("Desactivó una cuenta del personal"),
    "staff.reactivated": _("Reactivó una cuenta del personal"),
    "workdays.holiday_added": _("Agregó un feriado al calendario"),
    "workdays.holiday_changed": _("Cambió un feriado del calendario"),
    "workdays.holiday_removed": _("Quitó un feriado del calendario"),
    "case.deadline_moved": _("Plazo movido por un cambio del calendario"),
    "call_screen.viewed": _("Abrió la pantalla de la videollamada"),
    "review.call_recorded": _("Registró las respuestas y el resultado de la videollamada"),
    "appointment.no_show": _("El ciudadano no se presentó a la videollamada"),
    "registry.change_notice_sent": _("Aviso del cambio a los datos de contacto anteriores"),
    "registry.change_reported": _("El titular avisó «no fui yo»"),
    "registry.change_report_refused": _("Enlace «no fui yo» rechazado (vencido o ya usado)"),
    "registry.contact_data_restored": _("Datos de contacto anteriores restituidos"),
    "registry.person_frozen": _("Registro del asegurado congelado"),
    "registry.person_unfrozen": _("Registro del asegurado descongelado"),
    "registry.fraud_review_opened": _("Revisión por suplantación abierta"),
    "registry.fraud_review_closed": _("Revisión por suplantación cerrada"),
    "fraud_reviews.viewed": _("Consultó las revisiones por suplantación"),
    "file_link.refused": _(
        "Enlace a un archivo rechazado (vencido, de otra sesión o de otra persona)"
    ),
    "files.keys_rotated": _("Cambió la clave maestra de cifrado de los archivos"),
    "retention.purged": _("Archivos eliminados al cumplirse el plazo de conservación"),
    "upload.malware_refused": _("El antivirus encontró un virus en un archivo"),
    "privacy.request_registered": _("Registró una solicitud de derechos (LOPDP)"),
    "privacy.request_viewed": _("Consultó una solicitud de derechos (LOPDP)"),
    "privacy.requests_viewed": _("Consultó la lista de solicitudes de derechos (LOPDP)"),
    "privacy.request_answered": _("Atendió una solicitud de derechos (LOPDP)"),
    "privacy.request_refused": _("Rechazó una solicitud de derechos (LOPDP)"),
    "privacy.export_downloaded": _("Descargó toda la información de una persona (LOPDP)"),
    "complaint.filed": _("Presentó una queja"),
    "complaint.list_viewed": _("Consultó la lista de quejas"),
    "complaint.viewed": _("Consultó una queja"),
    "complaint.taken": _("Tomó una queja para atenderla"),
    "complaint.assigned": _("Asignó una queja"),
    "complaint.answered": _("Respondió una queja"),
}

# Every view or download of a person's files, by staff or by the citizen.
FILE_ACTIONS = (
    "document.viewed",
    "check_evidence.viewed",
    "draft_file.viewed",
    "request_form.downloaded",
    "privacy.export_downloaded",
)

# Changes to who may do what, and to the calendar that sets every deadline.
ADMINISTRATION_ACTIONS = (
    "staff.account_created",
    "staff.activation_sent",
    "staff.password_set",
    "staff.roles_changed",
    "staff.deactivated",
    "staff.reactivated",
    "staff.otp_reset",
    "staff.api_token_created",
    "staff.api_token_revoked",
    "workdays.holiday_added",
    "workdays.holiday_changed",
    "workdays.holiday_removed",
)

# Groups of actions an auditor asks for at once.
DECISION_ACTIONS = ("case.correction_requested", "appointment.created", "review.checklist_saved")
ACTION_GROUPS = {
    "files": (
        _("Toda vista o descarga de un archivo"),
        Q(action__in=FILE_ACTIONS),
    ),
    "views": (
        _("Toda consulta (trámites, archivos, registro)"),
        Q(action__endswith=".viewed") | Q(action__in=FILE_ACTIONS),
    ),
    "decisions": (
        _("Decisiones del personal (cambios de estado, correcciones, convocatorias)"),
        Q(action__in=DECISION_ACTIONS) | Q(action="case.transition", actor__isnull=False),
    ),
    "sign_ins": (
        _("Ingresos, salidas y bloqueos del personal"),
        Q(action__startswith="staff.sign")
        | Q(action__startswith="staff.otp")
        | Q(action__startswith="staff.passkey_")
        | Q(action__in=["staff.locked_out", "staff.idle_timeout"]),
    ),
    "administration": (
        _("Cuentas, roles y calendario de feriados"),
        Q(action__in=ADMINISTRATION_ACTIONS),
    ),
}

# Kinds of object an event is about (the model's label).
OBJECT_TYPES = {
    "cases.case": _("Trámite"),
    "documents.document": _("Archivo del trámite"),
    "checks.checkattachment": _("Evidencia de verificación"),
    "drafts.draftfile": _("Archivo de una solicitud sin enviar"),
    "drafts.requestdraft": _("Solicitud sin enviar"),
    "cases.correctionrequest": _("Pedido de corrección"),
    "appointments.appointment": _("Videollamada"),
    "registry.insuredperson": _("Asegurado"),
    "staff.apitoken": _("Clave de la API"),
    "auth.user": _("Cuenta del personal"),
    "workdays.holiday": _("Feriado"),
    "privacy.datasubjectrequest": _("Solicitud de derechos (LOPDP)"),
    "complaints.complaint": _("Queja"),
}

ACTOR_LABELS = {"citizen": _("Ciudadano"), "system": _("Sistema")}

PAGE_SIZE = 50


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def audit_search(
    *,
    action: str = "",
    actor: str = "",
    case_number: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
    object_type: str = "",
    object_id: str = "",
    ip: str = "",
    request_id: str = "",
) -> QuerySet[AuditEvent]:
    """Events matching every filter given, newest first, each with `case_number`.

    `action` is an action code ("document.viewed") or "group:<key>" of ACTION_GROUPS;
    `actor` a username (or "citizen", "system"), exact and case-insensitive;
    `since`/`until` whole days in Ecuador time, both included; `ip` one address, exact
    (canonical form: "2001:db8::1", not "2001:0db8:0:0::1"); `request_id` the events of
    one request.
    """
    events = AuditEvent.objects.annotate(case_number=F("case__number"))
    if action.startswith("group:"):
        events = events.filter(ACTION_GROUPS[action.removeprefix("group:")][1])
    elif action:
        events = events.filter(action=action)
    if actor:
        events = events.filter(actor_label__iexact=actor)
    if case_number:
        events = events.filter(case__number=case_number)
    if since:
        events = events.filter(at__gte=dt.datetime.combine(since, dt.time.min, tzinfo=ECUADOR))
    if until:
        next_day = until + dt.timedelta(days=1)
        events = events.filter(at__lt=dt.datetime.combine(next_day, dt.time.min, tzinfo=ECUADOR))
    if object_type:
        events = events.filter(object_type=object_type)
    if object_id:
        events = events.filter(object_id=object_id)
    if ip:
        events = events.filter(ip=ip)
    if request_id:
        events = events.filter(request_id=request_id)
    return events.order_by("-at", "-id")


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def page_cursor(event: AuditEvent) -> str:
    """Where the next page starts: after this event."""
    return f"{(event.at - _EPOCH) // dt.timedelta(microseconds=1)}-{event.pk}"


def _parse_cursor(cursor: str) -> tuple[dt.datetime, int] | None:
    micros, _sep, pk = (cursor or "").partition("-")
    if not (micros.isdigit() and pk.isdigit()):
        return None
    return _EPOCH + dt.timedelta(microseconds=int(micros)), int(pk)


def audit_page(
    events: QuerySet[AuditEvent], *, after: str = "", size: int = PAGE_SIZE
) -> tuple[list[AuditEvent], str]:
    """One page of `events` (ordered newest first) after the cursor `after`, and the
    cursor of the next page ("" on the last one). One query, no COUNT."""
    position = _parse_cursor(after)
    if position is not None:
        at, pk = position
        events = events.filter(Q(at__lt=at) | Q(at=at, id__lt=pk))
    rows = list(events[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return rows, (page_cursor(rows[-1]) if more and rows else "")


def _short(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def change_summary(old, new, *, limit: int = 240) -> str:
    """Old and new values in one line: "status: in_review → call_pending; …"."""
    if isinstance(old, dict) or isinstance(new, dict):
        old = old if isinstance(old, dict) else {}
        new = new if isinstance(new, dict) else {}
        parts = []
        for key in dict.fromkeys([*old, *new]):
            if key in old and key in new:
                parts.append(f"{key}: {_short(old[key])} → {_short(new[key])}")
            elif key in new:
                parts.append(f"{key}: {_short(new[key])}")
            else:
                parts.append(f"{key}: {_short(old[key])} → —")
        text = "; ".join(parts)
    elif old is None and new is None:
        text = ""
    else:
        text = f"{_short(old)} → {_short(new)}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _legacy_values(event: AuditEvent) -> dict:
    # Sign-in events keep the address's pseudonym (client_ref) and the browser in their
    # values; before the ip and user_agent columns, that was all there was.
    return event.new_value if isinstance(event.new_value, dict) else {}


def event_user_agent(event: AuditEvent) -> str:
    """The browser the event came from: the column, or the value an older sign-in kept."""
    return event.user_agent or str(_legacy_values(event).get("user_agent") or "")


def event_origin(event: AuditEvent) -> str:
    """Where the action came from, in one line: the network address (or, for a sign-in
    recorded before the address had a column, its pseudonym), and "API" for the staff
    API's reads. Empty for the worker and the scheduler."""
    parts = []
    if event.ip:
        parts.append(event.ip)
    elif _legacy_values(event).get("client_ref"):
        parts.append(f"{_('ref. de dirección')} {str(_legacy_values(event)['client_ref'])[:12]}")
    if event.reason == "api":
        parts.append("API")
    return " · ".join(parts)


def event_row(event: AuditEvent) -> dict:
    """What the auditor reads of one event (dates stay aware: show them in Ecuador time)."""
    return {
        "id": event.pk,
        "at": event.at,
        "actor": str(ACTOR_LABELS.get(event.actor_label, event.actor_label)),
        "origin": event_origin(event),
        "ip": event.ip or "",
        "user_agent": event_user_agent(event),
        "request_id": event.request_id,
        "action": event.action,
        "action_label": action_label(event.action),
        "case_number": getattr(event, "case_number", None) or "",
        "object_type": event.object_type,
        "object_label": str(OBJECT_TYPES.get(event.object_type, event.object_type)),
        "object_id": event.object_id,
        "changes": change_summary(event.old_value, event.new_value),
        "reason": event.reason,
    }


def audit_rows(events: QuerySet[AuditEvent], *, chunk_size: int = 2000) -> Iterator[dict]:
    """Every matching event as a row, streamed from the database (for an export)."""
    for event in events.iterator(chunk_size=chunk_size):
        yield event_row(event)
