"""Everything held about one person, for an access or portability request (LOPDP arts.
13 and 17): `datos.json` (UTF-8, indented, times in Ecuador time with their offset), the
stored files, and `LEAME.txt` explaining both, in one ZIP.

Who the person is: their identification (type and number). Their data is the registry
record with its contact-data history and "this was not me" reports, every case filed
under that identification (or linked to that registry record) with all that was
declared, decided, checked, sent and recorded about it, the unsent drafts that typed
that identification, and their earlier data-subject requests. Nothing is looked up by
name or email, so another person's data cannot slip in through a shared address.

A case that a supervisor confirmed was filed by someone else with this identification
(a closed fraud review, "suplantación confirmada") is listed without what that other
person declared and uploaded: their face, voice and addresses are not the holder's data.

Files are read through the storage API (`storage.open`), so they come out as they were
uploaded whatever the storage does at rest. A file already deleted by the retention
rules is listed with its SHA-256 and not included.
"""

import array
import datetime as dt
import hashlib
import json
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q
from django.db.models.fields.files import FieldFile
from django.template.loader import render_to_string
from django.utils import timezone, translation

from ventanilla.appointments.models import Appointment
from ventanilla.audit.models import AuditEvent
from ventanilla.audit.selectors import action_label
from ventanilla.cases.constants import CaseStatus, IdType, Province, ReviewReason
from ventanilla.cases.models import Case
from ventanilla.checks.constants import CheckName, CheckOutcome, Recommendation, RunTrigger
from ventanilla.checks.models import CheckAttachment, CheckResult, CheckRun, FaceSignature
from ventanilla.complaints.constants import ComplaintStatus
from ventanilla.documents.constants import DocumentKind
from ventanilla.documents.models import Document
from ventanilla.documents.selectors import document_scanned
from ventanilla.drafts.models import RequestDraft
from ventanilla.notifications.models import OutboundEmail, OutboundSms
from ventanilla.registry.constants import (
    CONTACT_FIELD_LABELS,
    ChangeSource,
    FraudOutcome,
    InsuredType,
    ReportChannel,
)
from ventanilla.registry.models import (
    ChangeReportLink,
    ContactDataChange,
    FraudReview,
    InsuredPerson,
)
from ventanilla.review.models import CallVerification, CaseNote, ChecklistVersion
from ventanilla.workdays.selectors import ECUADOR

from .constants import RequestChannel, RequestKind, RequestStatus
from .models import DataSubjectRequest

# Emails the outbox keeps on a case but sends to staff, not to the person.
STAFF_TEMPLATES = frozenset({"breach_alert", "fraud_alert", "daily_digest", "staff_activation"})
# Messages sent to the holder's own earlier address or phone about a change to their
# record: theirs even when someone else filed the case.
HOLDER_NOTICE_TEMPLATES = frozenset(
    {"previous_email_notice", "contact_change_notice", "not_me_confirmed"}
)

DECLARED_FIELDS = {
    "id_type": "tipo_de_identificacion",
    "id_number": "numero_de_identificacion",
    "first_names": "nombres",
    "last_names": "apellidos",
    "birth_date": "fecha_de_nacimiento",
    "birth_province": "provincia_de_nacimiento",
    "fingerprint_code": "codigo_dactilar",
    "id_issue_date": "fecha_de_expedicion_del_documento",
    "sector": "sector",
    "message": "mensaje",
    "residence_country": "pais_de_residencia",
    "residence_region": "estado_o_provincia_de_residencia",
    "residence_city": "ciudad_de_residencia",
    "postal_code": "codigo_postal",
    "foreign_phone": "telefono_en_el_exterior",
    "email": "correo_electronico",
    "ecuador_mobile": "celular_en_ecuador",
    "ecuador_landline": "telefono_fijo_en_ecuador",
}

REGISTRY_FIELDS = {
    "id_type": "tipo_de_identificacion",
    "id_number": "numero_de_identificacion",
    "first_names": "nombres",
    "last_names": "apellidos",
    "birth_date": "fecha_de_nacimiento",
    "insured_type": "tipo_de_asegurado",
    "email": "correo_electronico",
    "phone": "telefono",
    "ecuador_mobile": "celular_en_ecuador",
    "ecuador_landline": "telefono_fijo_en_ecuador",
    "foreign_phone": "telefono_en_el_exterior",
    "residence_country": "pais_de_residencia",
    "residence_region": "estado_o_provincia_de_residencia",
    "residence_city": "ciudad_de_residencia",
    "postal_code": "codigo_postal",
    "updated_at": "actualizado_en",
    "frozen_at": "congelado_desde",
}

ACTOR_NAMES = {"citizen": "Ciudadano", "system": "Sistema"}


@dataclass
class DataExport:
    """The finished ZIP in an anonymous temporary file, positioned at its start; whoever
    receives it closes it (a FileResponse does), and the file disappears with it."""

    file: IO[bytes]
    filename: str
    file_count: int
    sha256: str
    size: int


@dataclass
class _Collected:
    data: dict
    files: list[tuple[str, FieldFile]] = field(default_factory=list)


# --- values ------------------------------------------------------------------------------


def _time(value: dt.datetime | None) -> str | None:
    return value.astimezone(ECUADOR).isoformat() if value else None


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return _time(value)
    if isinstance(value, dt.date):
        return _date(value)
    return value


def _label(choices, value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


def _actor(label: str) -> str:
    return ACTOR_NAMES.get(label, label)


def _username(user) -> str | None:
    return user.get_username() if user is not None else None


def _fields(obj, names: dict[str, str]) -> dict:
    return {key: _plain(getattr(obj, name)) for name, key in names.items()}


def _extension(name: str) -> str:
    return name[name.rfind(".") :] if "." in name.rsplit("/", 1)[-1] else ""


def _file_entry(files: list, file: FieldFile, arcname: str, *, purged_at=None) -> dict:
    """Where a stored file went in the ZIP, or why it is not there."""
    if purged_at is not None or not file.name:
        return {
            "archivo": None,
            "eliminado_en": _time(purged_at),
            "nota": "Eliminado según el plazo de conservación; queda solo su huella SHA-256.",
        }
    if not file.storage.exists(file.name):
        return {"archivo": None, "nota": "El archivo ya no está en el almacenamiento."}
    files.append((arcname, file))
    return {"archivo": arcname}


# --- the parts ---------------------------------------------------------------------------


def _registry(person: InsuredPerson | None) -> dict | None:
    if person is None:
        return None
    record = _fields(person, REGISTRY_FIELDS)
    record["tipo_de_identificacion_texto"] = _label(IdType, person.id_type)
    record["tipo_de_asegurado_texto"] = _label(InsuredType, person.insured_type)
    return record


def _contact_history(person: InsuredPerson | None) -> list[dict]:
    if person is None:
        return []
    changes = (
        ContactDataChange.objects.filter(person=person)
        .select_related("case", "changed_by")
        .order_by("changed_at", "pk")
    )
    return [
        {
            "campo": change.field,
            "campo_texto": str(CONTACT_FIELD_LABELS.get(change.field, change.field)),
            "valor_anterior": change.old_value,
            "valor_nuevo": change.new_value,
            "cambiado_en": _time(change.changed_at),
            "origen": _label(ChangeSource, change.source),
            "tramite": change.case.number if change.case else None,
            "cambiado_por": _username(change.changed_by),
        }
        for change in changes
    ]


def _report_links(person: InsuredPerson | None) -> list[dict]:
    if person is None:
        return []
    links = ChangeReportLink.objects.filter(person=person).select_related("case")
    return [
        {
            "tramite": link.case.number,
            "canal": _label(ReportChannel, link.channel),
            "enviado_a": link.sent_to_masked,
            "creado_en": _time(link.created_at),
            "vence_en": _time(link.expires_at),
            "usado_en": _time(link.used_at),
        }
        for link in links
    ]


def _fraud_review(review: FraudReview) -> dict:
    return {
        "tramite": review.case.number,
        "avisado_en": _time(review.reported_at),
        "canal": _label(ReportChannel, review.channel),
        "estado": review.get_status_display(),
        "datos_restituidos": review.restored,
        "datos_no_restituidos": review.not_restored,
        "resultado": _label(FraudOutcome, review.outcome) if review.outcome else None,
        "resolucion": review.resolution,
        "cerrada_por": _username(review.closed_by),
        "cerrada_en": _time(review.closed_at),
    }


def _documents(case: Case, files: list) -> list[dict]:
    entries = []
    for doc in Document.objects.filter(case=case).order_by("kind", "version"):
        arcname = f"tramites/{case.number}/documentos/{doc.kind}-v{doc.version}{_extension(doc.file.name)}"
        entries.append(
            {
                "tipo": doc.kind,
                "tipo_texto": _label(DocumentKind, doc.kind),
                "version": doc.version,
                "vigente": doc.is_current,
                "nombre_original": doc.original_name,
                "formato": doc.format,
                "tipo_de_contenido": doc.content_type,
                "tamano_bytes": doc.size,
                "sha256": doc.sha256 or None,  # None until the checks have read the file
                "subido_en": _time(doc.uploaded_at),
                "detalles": doc.details,
                **(
                    _file_entry(files, doc.file, arcname, purged_at=doc.purged_at)
                    if doc.purged_at or document_scanned(doc)
                    else {
                        # Staff hand this file over: never one the antivirus has not cleared.
                        "archivo": None,
                        "nota": "No incluido: el antivirus aún no lo ha dado por limpio.",
                    }
                ),
            }
        )
    return entries


def _checks(case: Case, files: list) -> dict:
    runs = [
        {
            "motivo": _label(RunTrigger, run.trigger),
            "pedida_en": _time(run.requested_at),
            "pedida_por": _username(run.requested_by),
            "empezada_en": _time(run.started_at),
            "terminada_en": _time(run.finished_at),
            "recomendacion": _label(Recommendation, run.recommendation)
            if run.recommendation
            else None,
            "razones": run.reasons,
        }
        for run in CheckRun.objects.filter(case=case)
        .select_related("requested_by")
        .order_by("requested_at", "pk")
    ]
    attachments: dict[int, list[CheckAttachment]] = {}
    for attachment in CheckAttachment.objects.filter(result__case=case).order_by("pk"):
        attachments.setdefault(attachment.result_id, []).append(attachment)
    results = []
    for result in (
        CheckResult.objects.filter(case=case)
        .select_related("document")
        .order_by("created_at", "pk")
    ):
        evidence_files = []
        for attachment in attachments.get(result.pk, []):
            arcname = (
                f"tramites/{case.number}/verificaciones/"
                f"{result.pk}-{attachment.pk}{_extension(attachment.file.name)}"
            )
            evidence_files.append(
                {"nombre": attachment.name, **_file_entry(files, attachment.file, arcname)}
            )
        results.append(
            {
                "verificacion": result.name,
                "verificacion_texto": _label(CheckName, result.name),
                "resultado": _label(CheckOutcome, result.outcome),
                "puntaje": result.score,
                "resumen": result.summary,
                "evidencia": result.evidence,
                "vigente": result.is_current,
                "creada_en": _time(result.created_at),
                "documento": (
                    f"{result.document.kind} v{result.document.version}"
                    if result.document
                    else None
                ),
                "archivos_de_evidencia": evidence_files,
            }
        )
    faces = [
        {
            "origen": signature.source,
            "vigente": signature.is_current,
            # 128 numbers a face-recognition model computed from the image (biometric data).
            "vector": [round(x, 6) for x in array.array("f", bytes(signature.vector))],
        }
        for signature in FaceSignature.objects.filter(case=case).order_by("pk")
    ]
    return {"ejecuciones": runs, "resultados": results, "firmas_faciales": faces}


def _review(case: Case) -> dict:
    return {
        "listas_de_revision": [
            {
                "version": version.version,
                "respuestas": version.answers,
                "cambios": version.changes,
                "guardada_por": _username(version.created_by),
                "guardada_en": _time(version.created_at),
            }
            for version in ChecklistVersion.objects.filter(case=case)
            .select_related("created_by")
            .order_by("version")
        ],
        "notas_internas": [
            {
                "texto": note.text,
                "autor": _username(note.author),
                "escrita_en": _time(note.created_at),
            }
            for note in CaseNote.objects.filter(case=case)
            .select_related("author")
            .order_by("created_at", "pk")
        ],
        "resultados_de_videollamada": [
            {
                "respuestas": verification.answers,
                "resultado": verification.outcome,
                "notas": verification.notes,
                "registrado_por": _username(verification.recorded_by),
                "registrado_en": _time(verification.recorded_at),
            }
            for verification in CallVerification.objects.filter(case=case)
            .select_related("recorded_by")
            .order_by("recorded_at", "pk")
        ],
    }


def _appointments(case: Case) -> list[dict]:
    return [
        {
            "empieza_en": _time(appointment.starts_at),
            "termina_en": _time(appointment.ends_at),
            "zona_horaria_del_ciudadano": appointment.citizen_timezone,
            "proveedor": appointment.meeting_provider,
            "enlace": appointment.meeting_url,
            "estado": appointment.get_status_display(),
            "analista": _username(appointment.analyst),
            "notas_del_resultado": appointment.outcome_notes,
            "creada_en": _time(appointment.created_at),
        }
        for appointment in Appointment.objects.filter(case=case)
        .select_related("analyst")
        .order_by("starts_at", "pk")
    ]


def _messages(case: Case, *, holder_notices_only: bool) -> dict:
    emails = OutboundEmail.objects.filter(case=case).exclude(template__in=STAFF_TEMPLATES)
    sms = OutboundSms.objects.filter(case=case)
    if holder_notices_only:
        emails = emails.filter(template__in=HOLDER_NOTICE_TEMPLATES)
        sms = sms.filter(template__in=HOLDER_NOTICE_TEMPLATES)
    return {
        "correos": [
            {
                "plantilla": email.template,
                "para": email.to,
                "asunto": email.subject,
                "texto": email.body_text,
                "adjuntos": [part.get("filename", "") for part in email.attachments],
                "estado": email.get_status_display(),
                "creado_en": _time(email.created_at),
                "enviado_en": _time(email.sent_at),
            }
            for email in emails.order_by("created_at", "pk")
        ],
        "sms": [
            {
                "plantilla": message.template,
                "para": message.to,
                "texto": message.body,
                "estado": message.get_status_display(),
                "creado_en": _time(message.created_at),
                "enviado_en": _time(message.sent_at),
            }
            for message in sms.order_by("created_at", "pk")
        ],
    }


def _audit(events) -> list[dict]:
    """What was done and seen, when and by whom (staff by username). The addresses and
    browsers of staff, and the values changed, stay out: the values are in the other
    sections, and staff connection data is not the holder's."""
    return [
        {
            "fecha": _time(event.at),
            "accion": event.action,
            "accion_texto": action_label(event.action),
            "quien": _actor(event.actor_label),
        }
        for event in events.order_by("at", "pk")
    ]


def _case(case: Case, files: list) -> dict:
    # A missing one-to-one raises RelatedObjectDoesNotExist, an AttributeError.
    review = getattr(case, "fraud_review", None)
    someone_else = review is not None and review.outcome == FraudOutcome.FRAUD_CONFIRMED
    entry: dict[str, Any] = {
        "numero": case.number,
        "estado": case.status,
        "estado_texto": _label(CaseStatus, case.status),
        "presentado_en": _time(case.submitted_at),
        "ultimo_cambio_de_estado_en": _time(case.status_changed_at),
        "plazo_de_revision": _time(case.review_due_at),
        "revisado_en": _time(case.reviewed_at),
        "analista_asignado": _username(case.assigned_to),
        "historial_de_estados": [
            {
                "de": transition.from_status or None,
                "a": transition.to_status,
                "a_texto": _label(CaseStatus, transition.to_status),
                "fecha": _time(transition.at),
                "quien": _actor(transition.actor_label),
                "motivo": transition.reason,
            }
            for transition in case.transitions.order_by("at", "pk")
        ],
        "revision_por_suplantacion": _fraud_review(review) if review else None,
        "auditoria": _audit(AuditEvent.objects.filter(case=case)),
    }
    if someone_else:
        entry["presentado_por_otra_persona"] = (
            "Una revisión confirmó que otra persona presentó este trámite con su "
            "identificación. Lo que esa persona declaró y subió (rostro, voz, direcciones) no "
            "son datos suyos y no se incluyen; sí los avisos que se le enviaron a usted."
        )
        entry["mensajes"] = _messages(case, holder_notices_only=True)
        return entry
    entry.update(
        {
            "datos_declarados": {
                **_fields(case, DECLARED_FIELDS),
                "tipo_de_identificacion_texto": _label(IdType, case.id_type),
                "provincia_de_nacimiento_texto": _label(Province, case.birth_province),
            },
            # A keyed pseudonym of the address the request came from (never the address).
            "referencia_de_conexion": case.client_ref,
            "decision": {
                "motivos": case.decision_reasons,
                "motivos_texto": [_label(ReviewReason, r) for r in case.decision_reasons],
                "mensaje": case.decision_message,
            },
            "correcciones": [
                {
                    "pedida_en": _time(correction.requested_at),
                    "pedida_por": _username(correction.requested_by),
                    "elementos": correction.items,
                    "motivos": correction.reasons,
                    "motivos_texto": [_label(ReviewReason, r) for r in correction.reasons],
                    "mensaje": correction.message,
                    "vence_en": _time(correction.expires_at),
                    "respondida_en": _time(correction.answered_at),
                }
                for correction in case.corrections.select_related("requested_by").order_by(
                    "requested_at", "pk"
                )
            ],
            "documentos": _documents(case, files),
            "verificaciones": _checks(case, files),
            **_review(case),
            "videollamadas": _appointments(case),
            "mensajes": _messages(case, holder_notices_only=False),
            "quejas": _complaints(case),
        }
    )
    return entry


def _complaints(case: Case) -> list[dict]:
    """The complaints that named this case (the complaints channel, ventanilla/complaints)."""
    return [
        {
            "numero": complaint.number,
            "presentada_en": _time(complaint.filed_at),
            "nombre": complaint.name,
            "correo_electronico": complaint.email,
            "telefono": complaint.phone,
            "queja": complaint.text,
            "estado": _label(ComplaintStatus, complaint.status),
            "plazo_de_respuesta": _time(complaint.due_at),
            "respuesta": complaint.answer,
            "respondida_en": _time(complaint.answered_at),
            "respondida_por": _username(complaint.answered_by),
        }
        for complaint in case.complaints.select_related("answered_by").order_by("filed_at", "pk")
    ]


def _drafts(id_type: str, id_number: str, files: list) -> list[dict]:
    drafts = RequestDraft.objects.filter(
        answers__id_type=id_type, answers__id_number=id_number
    ).order_by("created_at", "pk")
    entries = []
    for draft in drafts:
        draft_files = []
        for draft_file in draft.files.order_by("kind"):
            arcname = f"solicitudes_sin_enviar/{draft.public_id}/{draft_file.kind}{_extension(draft_file.file.name)}"
            draft_files.append(
                {
                    "tipo": draft_file.kind,
                    "tipo_texto": _label(DocumentKind, draft_file.kind),
                    "nombre_original": draft_file.original_name,
                    "tamano_bytes": draft_file.size,
                    "sha256": draft_file.sha256,
                    "subido_en": _time(draft_file.uploaded_at),
                    **_file_entry(files, draft_file.file, arcname),
                }
            )
        entries.append(
            {
                "respuestas": draft.answers,
                "correo": draft.email,
                "creada_en": _time(draft.created_at),
                "actualizada_en": _time(draft.updated_at),
                "vence_en": _time(draft.expires_at),
                "archivos": draft_files,
            }
        )
    return entries


def _data_requests(id_type: str, id_number: str) -> list[dict]:
    return [
        {
            "derecho": _label(RequestKind, request.kind),
            "recibida_por": _label(RequestChannel, request.channel),
            "recibida_en": _time(request.received_at),
            "plazo": _time(request.due_at),
            "estado": _label(RequestStatus, request.status),
            "respuesta_o_motivo": request.resolution,
            "cerrada_en": _time(request.answered_at),
            "cerrada_por": _username(request.answered_by),
        }
        for request in DataSubjectRequest.objects.filter(id_type=id_type, id_number=id_number)
        .select_related("answered_by")
        .order_by("received_at", "pk")
    ]


def person_data(*, id_type: str, id_number: str) -> _Collected:
    """Everything held about the person with this identification, and the stored files
    to put beside it (their names in the ZIP, and the files)."""
    files: list[tuple[str, FieldFile]] = []
    person = InsuredPerson.objects.filter(id_type=id_type, id_number=id_number).first()
    matching = Q(id_type=id_type, id_number=id_number)
    if person is not None:
        matching |= Q(insured=person)
    cases = (
        Case.objects.filter(matching)
        .select_related("assigned_to", "fraud_review__case", "fraud_review__closed_by")
        .order_by("submitted_at", "pk")
    )
    person_events = AuditEvent.objects.none()
    if person is not None:
        person_events = AuditEvent.objects.filter(
            case__isnull=True, object_type="registry.insuredperson", object_id=str(person.pk)
        )
    reviews = (
        FraudReview.objects.filter(person=person).select_related("case", "closed_by")
        if person is not None
        else []
    )
    data = {
        "generado_en": _time(timezone.now()),
        "identificacion": {
            "tipo": id_type,
            "tipo_texto": _label(IdType, id_type),
            "numero": id_number,
        },
        "registro_de_asegurados": _registry(person),
        "historial_de_datos_de_contacto": _contact_history(person),
        "avisos_no_fui_yo": _report_links(person),
        "revisiones_por_suplantacion": [_fraud_review(review) for review in reviews],
        "auditoria_del_registro": _audit(person_events),
        "tramites": [_case(case, files) for case in cases],
        "solicitudes_sin_enviar": _drafts(id_type, id_number, files),
        "solicitudes_de_derechos": _data_requests(id_type, id_number),
    }
    return _Collected(data=data, files=files)


def person_data_export(*, id_type: str, id_number: str) -> DataExport:
    """The ZIP of everything held about the person: datos.json, LEAME.txt and the files."""
    with translation.override("es"):
        collected = person_data(id_type=id_type, id_number=id_number)
        readme = render_to_string(
            "privacy/LEAME.txt",
            {
                "generated_at": timezone.now().astimezone(ECUADOR),
                "case_count": len(collected.data["tramites"]),
                "file_count": len(collected.files),
            },
        )
    # Handed to the caller, who closes it (a FileResponse does); closed here on failure.
    output = tempfile.TemporaryFile()  # noqa: SIM115
    try:
        _write_zip(output, readme=readme, collected=collected)
        digest = hashlib.sha256()
        output.seek(0)
        for chunk in iter(lambda: output.read(1024 * 1024), b""):
            digest.update(chunk)
        size = output.tell()
        output.seek(0)
    except BaseException:
        output.close()
        raise
    stamp = timezone.now().astimezone(ECUADOR).strftime("%Y%m%d-%H%M")
    return DataExport(
        file=output,
        filename=f"datos-personales-{stamp}.zip",
        file_count=len(collected.files),
        sha256=digest.hexdigest(),
        size=size,
    )


def _write_zip(output: IO[bytes], *, readme: str, collected: _Collected) -> None:
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("LEAME.txt", readme)
        archive.writestr(
            "datos.json",
            json.dumps(collected.data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        )
        for arcname, stored in collected.files:
            # Images, PDFs and videos are already compressed: stored as they are.
            with (
                stored.storage.open(stored.name, "rb") as source,
                archive.open(zipfile.ZipInfo(arcname, _zip_time()), "w") as target,
            ):
                shutil.copyfileobj(source, target, 1024 * 1024)


def _zip_time() -> tuple[int, int, int, int, int, int]:
    now = timezone.now().astimezone(ECUADOR)
    return (now.year, now.month, now.day, now.hour, now.minute, now.second)
