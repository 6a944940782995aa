"""Synthetic requests for tests and demo data: made-up people, generated files.

No real identification numbers, faces or voices: the cédulas below are valid
only by their check digit, the images are drawn, and the voice is espeak-ng.
"""

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from ventanilla.cases.forms import CaseSubmissionForm
from ventanilla.cases.services import case_submit
from ventanilla.workdays.selectors import ECUADOR

from . import media

STATEMENT = (
    "Yo, {name}, portador de la cédula de identidad número {id_number}, autorizo al "
    "Instituto Ecuatoriano de Seguridad Social a actualizar mis datos de contacto y declaro "
    "que la información proporcionada es veraz, por lo que, deslindo así al IESS de "
    "cualquier responsabilidad por las acciones que se ejecuten. Actualmente resido en "
    "{place}, por lo que me es imposible acercarme a las agencias del IESS de forma "
    "presencial a realizar dicho trámite."
)

# Made-up people living abroad. Valid cédula check digits, nothing else real.
PEOPLE = [
    {
        "id_number": "0923456784",
        "first_names": "María Fernanda",
        "last_names": "Quispe Andrade",
        "birth_date": "1984-06-12",
        "birth_province": "09",
        "fingerprint_code": "E3331I2222",
        "id_issue_date": "2019-03-04",
        "residence_country": "ES",
        "residence_region": "ES-M",
        "residence_city": "Madrid",
        "postal_code": "28045",
        "foreign_phone": "+34 612 345 678",
        "email": "maria.quispe@example.org",
        "ecuador_mobile": "0991234567",
    },
    {
        "id_number": "0102030400",
        "first_names": "Luis Alberto",
        "last_names": "Guamán Sarmiento",
        "birth_date": "1971-11-02",
        "birth_province": "01",
        "fingerprint_code": "V4443V4442",
        "id_issue_date": "2017-08-21",
        "residence_country": "US",
        "residence_region": "US-NJ",
        "residence_city": "Newark",
        "postal_code": "07102",
        "foreign_phone": "+1 201 555 0123",
        "email": "luis.guaman@example.org",
        "ecuador_mobile": "0987654321",
    },
    {
        "id_number": "1761234564",
        "first_names": "Rosa Elena",
        "last_names": "Pilataxi Toapanta",
        "birth_date": "1962-01-30",
        "birth_province": "17",
        "fingerprint_code": "A1234B5678",
        "id_issue_date": "2021-05-10",
        "residence_country": "IT",
        "residence_region": "IT-MI",
        "residence_city": "Milán",
        "postal_code": "20121",
        "foreign_phone": "+39 312 345 6789",
        "email": "rosa.pilataxi@example.org",
        "ecuador_mobile": "0998877665",
    },
    {
        "id_number": "2401234568",
        "first_names": "Jorge Iván",
        "last_names": "Tomalá Reyes",
        "birth_date": "1990-09-15",
        "birth_province": "24",
        "fingerprint_code": "C2222D3333",
        "id_issue_date": "2020-02-17",
        "residence_country": "US",
        "residence_region": "US-NY",
        "residence_city": "Queens",
        "postal_code": "11368",
        "foreign_phone": "+1 718 555 0147",
        "email": "jorge.tomala@example.org",
        "ecuador_mobile": "0961234567",
    },
]

PLACE_NAMES = {
    "ES-M": "España, Madrid, Madrid",
    "US-NJ": "Estados Unidos, Nueva Jersey, Newark",
    "IT-MI": "Italia, Lombardía, Milán",
    "US-NY": "Estados Unidos, Nueva York, Queens",
}


def submission_fields(person: int = 0, **overrides) -> dict[str, str]:
    """The text fields of a valid request, as a citizen would type them."""
    fields = {
        "id_type": "cedula",
        "sector": "Centro",
        "message": "Solicito la actualización de mis datos de contacto porque resido en el exterior.",
        "ecuador_landline": "",
        **PEOPLE[person],
    }
    fields.update(overrides)
    return fields


def statement_for(fields: dict) -> str:
    return STATEMENT.format(
        name=f"{fields['first_names']} {fields['last_names']}",
        id_number=" ".join(fields["id_number"]),
        place=PLACE_NAMES.get(fields["residence_region"], fields["residence_city"]),
    )


def submission_files(fields: dict | None = None, *, spoken: bool = False, **overrides) -> dict:
    """The five uploads. With `spoken`, the video says the whole statement (espeak-ng)."""
    fields = fields or submission_fields()
    video = (
        media.mp4_bytes(statement=statement_for(fields)) if spoken else media.mp4_bytes(seconds=2)
    )
    files = {
        "id_front": SimpleUploadedFile(
            "cedula-frente.jpg", media.jpeg_bytes(text="ANVERSO"), "image/jpeg"
        ),
        "id_back": SimpleUploadedFile(
            "cedula-reverso.jpg", media.jpeg_bytes(text="REVERSO"), "image/jpeg"
        ),
        "selfie": SimpleUploadedFile("selfie.jpg", media.jpeg_bytes(text="SELFIE"), "image/jpeg"),
        "request_form": SimpleUploadedFile(
            "solicitud.pdf",
            media.pdf_bytes(
                ["Solicitud de actualización de datos de contacto", fields["first_names"]]
            ),
            "application/pdf",
        ),
        "video": SimpleUploadedFile("autorizacion.mp4", video, "video/mp4"),
    }
    files.update(overrides)
    return {k: v for k, v in files.items() if v is not None}


def submit_request(fields: dict, files: dict, *, client_address: str | None = None):
    """Register a request through the real intake path (the form, then `case_submit`),
    as the web page and the API do. Raises ValueError with the form's errors if the
    generated request is not valid."""
    for upload in files.values():
        upload.seek(0)
    form = CaseSubmissionForm(fields, files)
    if not form.is_valid():
        raise ValueError(f"the request was refused: {form.errors.as_json()}")
    return case_submit(
        fields=form.case_fields(),
        uploads=form.uploads(),
        inspected=form.inspected,
        client_address=client_address,
    )


# What the analyst writes when the tests bring a case to a state (the pages show it).
CORRECTION_MESSAGE = "No se ve su rostro completo. Tómese la foto de frente y sin gorra."
REJECTION_MESSAGE = "El formulario tiene enmendaduras en la fecha."
NOT_VALIDATED_NOTES = "La persona de la videollamada no coincide con la fotografía."


def call_time() -> dt.datetime:
    """A video call three days from now at 10:30, Ecuador time."""
    day = (timezone.now().astimezone(ECUADOR) + dt.timedelta(days=3)).date()
    return dt.datetime.combine(day, dt.time(10, 30), ECUADOR)


def case_in_status(status: str, analyst):
    """María's request brought to `status` the way staff and the worker do it: through
    the services where one exists, else through the state machine."""
    from ventanilla.cases import services, statemachine
    from ventanilla.cases.constants import CaseStatus as S

    fields = submission_fields()
    case = submit_request(fields, submission_files(fields))
    if status == S.SUBMITTED:
        return case
    documents_scan(case)  # the checks' antivirus, then the end of their run
    services.case_mark_checked(case_id=case.pk)
    case.refresh_from_db()
    steps = {
        S.IN_REVIEW: [],
        S.CORRECTION_REQUESTED: ["correction"],
        S.CALL_PENDING: [S.CALL_PENDING],
        S.CALL_SCHEDULED: ["invite"],
        S.REQUIREMENTS_REJECTED: ["reject"],
        S.IDENTITY_VALIDATED: ["invite", S.IDENTITY_VALIDATED],
        S.COMPLETED: ["invite", "validated"],
        S.IDENTITY_REJECTED: ["invite", "not_validated"],
        S.WITHDRAWN: ["withdraw"],
        S.EXPIRED: ["correction", S.EXPIRED],
    }[status]
    for step in steps:
        if step == "correction":
            services.case_request_correction(
                case=case,
                actor=analyst,
                items=["selfie"],
                reasons=["face_not_visible"],
                message=CORRECTION_MESSAGE,
            )
        elif step == "invite":
            services.case_invite(case=case, actor=analyst, starts_at=call_time())
        elif step == "reject":
            services.case_reject(
                case=case,
                actor=analyst,
                reasons=["amended_form", "unsigned_form"],
                message=REJECTION_MESSAGE,
            )
        elif step == "validated":
            services.case_record_call_outcome(
                case=case, actor=analyst, identity_validated=True, notes="Todo en orden."
            )
        elif step == "not_validated":
            services.case_record_call_outcome(
                case=case, actor=analyst, identity_validated=False, notes=NOT_VALIDATED_NOTES
            )
        elif step == "withdraw":
            services.case_withdraw(case=case)
        else:
            statemachine.transition(case, step, actor=analyst, reason="preparación de la prueba")
        case.refresh_from_db()
    assert case.status == status
    return case


def documents_scan(case) -> None:
    """What the background checks do before staff may open a file: scan each current
    stored file with ClamAV (the test session's clamd), record it clean and record its
    SHA-256 (the intake does not take it). Raises
    ValidationError if one is not."""
    from ventanilla.documents.services import document_open
    from ventanilla.documents.validation import revalidate_stored

    for document in case.documents.filter(is_current=True):
        with document_open(document) as stored:
            inspected = revalidate_stored(document.kind, stored, expected_sha256=document.sha256)
        document.scanned_at = timezone.now()
        document.sha256 = inspected.sha256  # the fingerprint the checks take with the scan
        document.save(update_fields=["scanned_at", "sha256"])
