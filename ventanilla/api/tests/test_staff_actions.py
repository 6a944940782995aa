"""The analyst's decisions through the staff API, with the real worker and a real SMTP
server: corrections (and the citizen's answer through the link), rejections, the
video call's outcome, and the moves the state machine must refuse."""

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from ventanilla.appointments.models import Appointment
from ventanilla.cases.models import Case, CaseTransition
from ventanilla.notifications.models import OutboundEmail
from ventanilla.registry.models import ContactDataChange, InsuredPerson
from ventanilla.testing import media
from ventanilla.testing.factories import submission_fields, submission_files
from ventanilla.workdays.selectors import working_day_deadline, working_days_left

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ECUADOR_OFFSET = dt.timezone(dt.timedelta(hours=-5))
OLD_EMAIL = "correo.anterior@example.net"


# --- helpers ------------------------------------------------------------------------


def _texts(message) -> str:
    return "\n".join(
        part.get_content() for part in message.walk() if part.get_content_type() == "text/plain"
    )


def _mail_to(smtp_server, address: str, count: int) -> list:
    """The messages `address` received, once there are `count` of them."""
    deadline = timezone.now() + dt.timedelta(seconds=20)
    while len(smtp_server.to(address)) < count and timezone.now() < deadline:
        smtp_server.wait_for(len(smtp_server.messages) + 1, timeout=0.2)
    received = smtp_server.to(address)
    assert len(received) == count, [m["Subject"] for m in received]
    return received


def _submit(client, person: int = 0, **overrides) -> str:
    fields = submission_fields(person, **overrides)
    response = client.post("/api/v1/cases", {**fields, **submission_files(fields)})
    assert response.status_code == 201, response.content
    return response.json()["number"]


def _in_review(client, run_worker, person: int = 0, **overrides) -> str:
    number = _submit(client, person, **overrides)
    run_worker()
    assert Case.objects.get(number=number).status == "in_review"
    return number


def _act(client, headers, number: str, action: str, payload: dict):
    return client.post(
        f"/api/v1/staff/cases/{number}/{action}",
        payload,
        content_type="application/json",
        headers=headers,
    )


def _starts_at(days: int = 2) -> str:
    moment = (timezone.now() + dt.timedelta(days=days)).replace(second=0, microsecond=0)
    return moment.astimezone(ECUADOR_OFFSET).isoformat()


def _invited(client, run_worker, headers, **overrides) -> str:
    number = _in_review(client, run_worker, **overrides)
    response = _act(client, headers, number, "invite", {"starts_at": _starts_at()})
    assert response.status_code == 200, response.content
    return number


def _completed(client, run_worker, headers) -> str:
    number = _invited(client, run_worker, headers)
    response = _act(
        client, headers, number, "call-outcome", {"identity_validated": True, "notes": "Coincide."}
    )
    assert response.json()["status"] == "completed", response.content
    return number


def _rejected(client, run_worker, headers) -> str:
    number = _in_review(client, run_worker)
    response = _act(
        client, headers, number, "reject", {"reasons": ["amended_form"], "message": "Enmiendas."}
    )
    assert response.json()["status"] == "requirements_rejected", response.content
    return number


CORRECTION = {
    "items": ["selfie"],
    "reasons": ["face_not_visible"],
    "message": "En la fotografía no se ve su rostro completo; tómela sin gorra.",
}


# --- correction ---------------------------------------------------------------------


def test_a_correction_pauses_the_clock_and_the_link_brings_the_case_back(
    client, smtp_server, run_worker, staff_headers
):
    fields = submission_fields()
    number = _in_review(client, run_worker)
    _mail_to(smtp_server, fields["email"], 1)  # the confirmation
    due = Case.objects.get(number=number).review_due_at

    response = _act(client, staff_headers, number, "correction", CORRECTION)

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "correction_requested"
    case = Case.objects.get(number=number)
    assert case.status == "correction_requested"
    assert case.review_due_at is None
    days_left = working_days_left(timezone.now(), due)
    assert case.review_working_days_left == days_left > 0

    run_worker()
    email = _mail_to(smtp_server, fields["email"], 2)[-1]
    body = _texts(email)
    assert number in email["Subject"] + body
    assert CORRECTION["message"] in body
    assert "Fotografía del rostro portando el documento" in body
    match = re.search(rf"{re.escape(settings.SITE_URL)}/tramite/correccion/[\w-]+/", body)
    assert match, body
    link = urlsplit(match.group(0)).path

    # The page asks only for the requested item.
    page = client.get(link)
    assert page.status_code == 200
    html = page.content.decode()
    assert number in html
    assert 'name="selfie"' in html
    assert 'name="video"' not in html and 'name="id_front"' not in html

    # A wrong file is refused on the page, and the link stays open.
    png = SimpleUploadedFile("selfie.jpg", media.png_bytes(), "image/jpeg")
    refused = client.post(link, {"selfie": png})
    assert refused.status_code == 422
    assert "PNG" in refused.content.decode()
    assert case.documents.filter(kind="selfie").count() == 1
    assert Case.objects.get(pk=case.pk).status == "correction_requested"

    new_selfie = SimpleUploadedFile(
        "selfie-nueva.jpg", media.jpeg_bytes(text="SELFIE 2"), "image/jpeg"
    )
    other = SimpleUploadedFile("otro.mp4", media.mp4_bytes(seconds=2), "video/mp4")
    answered = client.post(link, {"selfie": new_selfie, "video": other})
    assert answered.status_code == 200, answered.content

    case.refresh_from_db()
    assert case.status == "in_review"
    assert case.number == number
    assert case.review_working_days_left is None
    assert case.review_due_at == working_day_deadline(timezone.now(), days_left)
    selfies = case.documents.filter(kind="selfie").order_by("version")
    assert [(d.version, d.is_current) for d in selfies] == [(1, False), (2, True)]
    assert selfies[1].correction is not None
    assert case.documents.filter(kind="video").count() == 1
    assert list(case.transitions.values_list("to_status", flat=True)) == [
        "submitted", "in_review", "correction_requested", "in_review",
    ]  # fmt: skip

    run_worker()
    received = _mail_to(smtp_server, fields["email"], 3)[-1]
    assert number in received["Subject"] + _texts(received)
    assert Case.objects.get(pk=case.pk).status == "in_review"

    # The link served once; afterwards it is as unknown as any other.
    assert client.get(link).status_code == 404
    again = SimpleUploadedFile("selfie-3.jpg", media.jpeg_bytes(text="SELFIE 3"), "image/jpeg")
    assert client.post(link, {"selfie": again}).status_code == 404
    assert case.documents.filter(kind="selfie").count() == 2


def test_an_unknown_correction_link_answers_404(client):
    assert client.get("/tramite/correccion/no-existe-este-enlace/").status_code == 404


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**CORRECTION, "items": []}, "items"),
        ({**CORRECTION, "items": ["pasaporte"]}, "items"),
        ({**CORRECTION, "reasons": ["porque_si"]}, "reasons"),
        ({**CORRECTION, "message": "   "}, "message"),
    ],
    ids=["no items", "unknown item", "unknown reason", "blank message"],
)
def test_a_correction_needs_items_reasons_and_a_message(
    client, run_worker, staff_headers, payload, field
):
    number = _in_review(client, run_worker)
    response = _act(client, staff_headers, number, "correction", payload)
    assert response.status_code == 422, response.content
    assert set(response.json()["errors"]) == {field}
    assert Case.objects.get(number=number).status == "in_review"


# --- reject -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field", "word"),
    [
        ({"reasons": [], "message": "Texto."}, "reasons", "motivos"),
        ({"reasons": ["no_me_gusta"], "message": "Texto."}, "reasons", "motivos"),
        ({"reasons": ["amended_form"], "message": ""}, "message", "mensaje"),
    ],
    ids=["no reason", "reason not in the list", "no message"],
)
def test_a_rejection_needs_coded_reasons_and_a_message(
    client, run_worker, staff_headers, payload, field, word
):
    number = _in_review(client, run_worker)
    response = _act(client, staff_headers, number, "reject", payload)
    assert response.status_code == 422, response.content
    errors = response.json()["errors"]
    assert set(errors) == {field}
    assert word in errors[field][0].lower()
    assert Case.objects.get(number=number).status == "in_review"


def test_a_rejection_is_final_and_the_citizen_gets_the_reasons(
    client, smtp_server, run_worker, staff_headers
):
    fields = submission_fields()
    number = _in_review(client, run_worker)
    message = "La firma de la solicitud fue recortada de otro documento."

    response = _act(
        client,
        staff_headers,
        number,
        "reject",
        {"reasons": ["pasted_signature", "amended_form"], "message": message},
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "requirements_rejected"
    case = Case.objects.get(number=number)
    assert case.decision_reasons == ["pasted_signature", "amended_form"]
    run_worker()
    email = _mail_to(smtp_server, fields["email"], 2)[-1]
    body = _texts(email)
    assert number in body
    assert "Firma cortada y pegada" in body
    assert "Formulario con enmendaduras" in body
    assert message in body


# --- illegal moves ------------------------------------------------------------------


def _reject_completed(client, run_worker, headers):
    number = _completed(client, run_worker, headers)
    return number, "reject", {"reasons": ["other"], "message": "Tarde."}


def _reject_rejected(client, run_worker, headers):
    number = _rejected(client, run_worker, headers)
    return number, "reject", {"reasons": ["other"], "message": "Otra vez."}


def _correction_before_checks(client, run_worker, headers):
    return _submit(client), "correction", CORRECTION


def _outcome_before_invitation(client, run_worker, headers):
    number = _in_review(client, run_worker)
    return number, "call-outcome", {"identity_validated": True, "notes": ""}


def _second_invitation(client, run_worker, headers):
    return _invited(client, run_worker, headers), "invite", {"starts_at": _starts_at(3)}


@pytest.mark.parametrize(
    "arrange",
    [
        _reject_completed,
        _reject_rejected,
        _correction_before_checks,
        _outcome_before_invitation,
        _second_invitation,
    ],
    ids=[
        "reject a completed case",
        "reject a rejected case",
        "correction before the checks ran",
        "call outcome before an invitation",
        "second invitation",
    ],
)
def test_an_illegal_move_answers_409_and_changes_nothing(
    client, run_worker, staff_headers, arrange
):
    number, action, payload = arrange(client, run_worker, staff_headers)
    case = Case.objects.get(number=number)
    transitions = CaseTransition.objects.filter(case=case).count()
    emails = OutboundEmail.objects.filter(case=case).count()
    appointments = Appointment.objects.filter(case=case).count()

    response = _act(client, staff_headers, number, action, payload)

    assert response.status_code == 409, response.content
    assert "no puede pasar" in response.json()["detail"]
    assert Case.objects.get(pk=case.pk).status == case.status
    assert CaseTransition.objects.filter(case=case).count() == transitions
    assert OutboundEmail.objects.filter(case=case).count() == emails
    assert Appointment.objects.filter(case=case).count() == appointments


# --- invitation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("starts_at", "word"),
    [
        (lambda: (timezone.now() - dt.timedelta(hours=1)).isoformat(), "futuro"),
        (lambda: (timezone.now() + dt.timedelta(days=2)).replace(tzinfo=None).isoformat(), "zona"),
    ],
    ids=["in the past", "without offset"],
)
def test_an_invitation_needs_a_future_time_with_offset(
    client, run_worker, staff_headers, starts_at, word
):
    number = _in_review(client, run_worker)
    response = _act(client, staff_headers, number, "invite", {"starts_at": starts_at()})
    assert response.status_code == 422, response.content
    errors = response.json()["errors"]
    assert set(errors) == {"starts_at"}
    assert word in errors["starts_at"][0]
    case = Case.objects.get(number=number)
    assert case.status == "in_review"
    assert not case.appointments.exists()


@pytest.mark.parametrize(
    "meeting_url",
    ["javascript:alert(1)", "no es un enlace", "http://meet.example.org/sala"],
    ids=["script", "text", "plain http"],
)
def test_an_invitation_link_must_be_an_https_address(
    client, run_worker, staff_headers, meeting_url
):
    number = _in_review(client, run_worker)
    response = _act(
        client,
        staff_headers,
        number,
        "invite",
        {"starts_at": _starts_at(), "meeting_url": meeting_url},
    )
    assert response.status_code == 422, response.content
    errors = response.json()["errors"]
    assert set(errors) == {"meeting_url"}
    assert "https://" in errors["meeting_url"][0]
    case = Case.objects.get(number=number)
    assert case.status == "in_review"
    assert not case.appointments.exists()


def test_an_invitation_may_use_the_analysts_own_https_link(client, run_worker, staff_headers):
    number = _in_review(client, run_worker)
    link = "https://meet.example.org/IESS-sala-privada"
    response = _act(
        client, staff_headers, number, "invite", {"starts_at": _starts_at(), "meeting_url": link}
    )
    assert response.status_code == 200, response.content
    appointment = Case.objects.get(number=number).appointments.get()
    assert appointment.meeting_url == link


# --- the call's outcome -------------------------------------------------------------


def test_identity_not_validated_needs_notes_emails_them_and_leaves_the_registry(
    client, smtp_server, run_worker, staff_headers
):
    fields = submission_fields()
    person = InsuredPerson.objects.create(
        id_number=fields["id_number"], first_names=fields["first_names"],
        last_names=fields["last_names"], insured_type="afiliado", email=OLD_EMAIL,
    )  # fmt: skip
    number = _invited(client, run_worker, staff_headers)

    no_notes = _act(client, staff_headers, number, "call-outcome", {"identity_validated": False})
    assert no_notes.status_code == 422, no_notes.content
    assert set(no_notes.json()["errors"]) == {"notes"}
    assert Case.objects.get(number=number).status == "call_scheduled"

    notes = "La persona de la videollamada no corresponde a la fotografía de la cédula."
    response = _act(
        client, staff_headers, number, "call-outcome", {"identity_validated": False, "notes": notes}
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "identity_rejected"
    person.refresh_from_db()
    assert person.email == OLD_EMAIL
    assert not ContactDataChange.objects.exists()

    run_worker()
    # Confirmation, invitation, and the refusal with its reason.
    email = _mail_to(smtp_server, fields["email"], 3)[-1]
    assert notes in _texts(email)
    assert "NO fueron modificados" in _texts(email)
    assert smtp_server.to(OLD_EMAIL) == []


def test_validated_identity_adds_a_person_missing_from_the_registry(
    client, smtp_server, run_worker, staff_headers
):
    fields = submission_fields(2)
    assert not InsuredPerson.objects.filter(id_number=fields["id_number"]).exists()
    number = _invited(client, run_worker, staff_headers, person=2)

    response = _act(
        client, staff_headers, number, "call-outcome", {"identity_validated": True, "notes": "Ok."}
    )

    assert response.json()["status"] == "completed", response.content
    person = InsuredPerson.objects.get(id_number=fields["id_number"])
    assert (person.first_names, person.last_names) == (fields["first_names"], fields["last_names"])
    assert person.email == fields["email"]
    insured = client.get(f"/api/v1/staff/insured/{person.id_number}", headers=staff_headers).json()
    email_change = next(h for h in insured["history"] if h["field"] == "email")
    assert (email_change["old_value"], email_change["new_value"]) == ("", fields["email"])
    assert email_change["case"] == number
    assert email_change["changed_by"] == "ana.analista"
    run_worker()
    success = _mail_to(smtp_server, fields["email"], 3)[-1]
    assert "actualiz" in success["Subject"].lower()


# --- flags the analyst sees and the citizen does not -----------------------------------


def test_a_second_case_for_the_same_id_is_accepted_and_flagged(client, staff_headers):
    fields = submission_fields()
    InsuredPerson.objects.create(
        id_number=fields["id_number"], first_names="María Fernanda", last_names="Quispe Andrade",
        insured_type="afiliado",
    )  # fmt: skip
    first = _submit(client)
    second = _submit(client, email="otra.direccion@example.org")

    assert first != second
    flags = {
        item["number"]: item["flags"]
        for item in client.get("/api/v1/staff/cases", headers=staff_headers).json()
    }
    assert flags[first] == []
    assert flags[second] == ["other_open_case"]


def test_an_id_missing_from_the_registry_is_flagged_and_the_citizen_is_not_told(
    client, smtp_server, run_worker, staff_headers
):
    fields = submission_fields()
    fields_body = {**fields, **submission_files(fields)}
    unknown = client.post("/api/v1/cases", fields_body)
    assert unknown.status_code == 201
    assert set(unknown.json()) == {"number", "status"}
    number = unknown.json()["number"]

    detail = client.get(f"/api/v1/staff/cases/{number}", headers=staff_headers).json()
    assert detail["flags"] == ["not_in_registry"]
    assert detail["insured"] is None

    # What the citizen sees is the same as for someone in the registry.
    status = client.get(f"/api/v1/cases/{number}", {"id_number": fields["id_number"]}).json()
    assert set(status) == {"number", "status", "status_label", "timeline"}
    InsuredPerson.objects.create(
        id_number="0102030400", first_names="Luis Alberto", last_names="Guamán Sarmiento",
        insured_type="jubilado",
    )  # fmt: skip
    known_fields = submission_fields(1)
    known = client.post("/api/v1/cases", {**known_fields, **submission_files(known_fields)})
    assert set(known.json()) == {"number", "status"}
    run_worker()
    unknown_mail = _texts(_mail_to(smtp_server, fields["email"], 1)[0])
    known_mail = _texts(_mail_to(smtp_server, known_fields["email"], 1)[0])

    def neutral(text, case_fields, case_number):
        text = re.sub(r"Recibido el .*", "RECIBIDO", text.replace(case_number, "NUMERO"))
        return text.replace(f"{case_fields['first_names']} {case_fields['last_names']}", "NOMBRE")

    assert neutral(unknown_mail, fields, number) == neutral(
        known_mail, known_fields, known.json()["number"]
    )
