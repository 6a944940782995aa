"""A complaint from the public form to the answer, with a real SMTP server and the real
task worker: filed → acknowledgement email with the number and the deadline → an
analyst takes and answers it → answer email → counted in its Ecuador month."""

import re

import pytest
from django.template.defaultfilters import date as date_format
from django.urls import reverse
from django.utils import translation

from ventanilla.audit.models import AuditEvent
from ventanilla.complaints.constants import ComplaintStatus
from ventanilla.complaints.models import Complaint
from ventanilla.complaints.numbers import complaint_number_is_valid
from ventanilla.complaints.selectors import complaints_filed_in_month
from ventanilla.testing.staff import staff_login
from ventanilla.workdays.selectors import ECUADOR

NUMBER = re.compile(r"QJ-\d{4}-\d{6}-[0-9A-Z]")
CITIZEN = {
    "name": "Rosa Elena Guamán Pérez",
    "email": "Rosa.Guaman@Example.org",
    "phone": "+34 612 345 678",
    "case_number": "",
    "text": (
        "Envié mi solicitud hace dos semanas y nadie me ha convocado a la videollamada. "
        "Necesito que me indiquen qué pasa con mi trámite."
    ),
}


def _texts(message) -> str:
    return "\n".join(
        part.get_content() for part in message.walk() if part.get_content_type() == "text/plain"
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_complaint_is_acknowledged_answered_and_counted(client, analyst, smtp_server, run_worker):
    response = client.post(reverse("portal:complaint"), CITIZEN)

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:complaint_received")
    complaint = Complaint.objects.get()
    assert complaint_number_is_valid(complaint.number)
    # The number stays in the session: the address carries no personal data.
    assert complaint.number not in response["Location"]
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert complaint.number in page.content.decode()
    assert "rosa.guaman@example.org" in page.content.decode()
    assert complaint.email == "rosa.guaman@example.org"
    assert complaint.phone == "+34612345678"
    assert complaint.status == ComplaintStatus.RECEIVED

    run_worker()
    smtp_server.wait_for(1)
    [acknowledgement] = smtp_server.to("rosa.guaman@example.org")
    assert acknowledgement["Subject"] == f"Recibimos su queja {complaint.number}"
    body = _texts(acknowledgement)
    assert f"Su número de queja es: {complaint.number}" in body
    assert "en un plazo de 15 días laborables" in body
    with translation.override("es"):
        due_day = date_format(complaint.due_at.astimezone(ECUADOR), r"l j \d\e F \d\e Y")
    assert f"a más tardar el {due_day}." in body
    # Whoever typed an address cannot make the IESS mail their text to it.
    assert "nadie me ha convocado" not in body

    # The analyst takes it and answers.
    staff_login(client, analyst)
    listing = client.get(reverse("backoffice:complaints"))
    assert complaint.number in listing.content.decode()
    taken = client.post(reverse("backoffice:complaint_take", args=[complaint.number]))
    assert taken.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.IN_PROGRESS
    assert complaint.assigned_to == analyst
    answered = client.post(
        reverse("backoffice:complaint_answer", args=[complaint.number]),
        {"answer": "Revisamos su trámite: la convocatoria le llegará mañana.\nDisculpe la demora."},
    )
    assert answered.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.ANSWERED
    assert complaint.answered_by == analyst
    assert complaint.answered_at is not None

    run_worker()
    smtp_server.wait_for(2)
    answer_messages = smtp_server.to("rosa.guaman@example.org")
    assert len(answer_messages) == 2
    answer = answer_messages[1]
    assert answer["Subject"] == f"Respuesta a su queja {complaint.number}"
    assert "la convocatoria le llegará mañana" in _texts(answer)

    detail = client.get(reverse("backoffice:complaint", args=[complaint.number])).content.decode()
    assert 'id="complaint-answer-time"' in detail
    assert "Tomó una queja para atenderla" in detail and "Respondió una queja" in detail

    # Counted in the month it was filed (Ecuador time).
    filed = complaint.filed_at.astimezone(ECUADOR)
    assert complaints_filed_in_month(filed.year, filed.month) == 1

    # The audit trail says what happened, without the person's data.
    events = AuditEvent.objects.filter(action__startswith="complaint.").exclude(
        action__in=["complaint.viewed", "complaint.list_viewed"]
    )
    assert [e.action for e in events.order_by("at", "pk")] == [
        "complaint.filed",
        "complaint.taken",
        "complaint.answered",
    ]
    for event in events:
        stored = f"{event.old_value} {event.new_value} {event.reason}"
        assert "Rosa" not in stored and "example.org" not in stored
        assert "convocado" not in stored and "+34" not in stored
    assert events.get(action="complaint.filed").actor_label == "citizen"
