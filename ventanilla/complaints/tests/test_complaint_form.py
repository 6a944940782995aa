"""The public form at /quejas/: each wrong field refused with a Spanish message that says
how to fix it, nothing stored or emailed; an optional case number linked when the case
exists, with the same answer when it does not; and the rate limit per client."""

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from ventanilla.audit.models import AuditEvent
from ventanilla.cases.numbers import case_number_format
from ventanilla.complaints.models import Complaint
from ventanilla.notifications.models import OutboundEmail
from ventanilla.portal.complaint_views import SESSION_LAST_COMPLAINT
from ventanilla.testing.factories import submission_fields, submission_files, submit_request

pytestmark = pytest.mark.django_db
CSRF_VALUE = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')

VALID = {
    "name": "María José Pérez-Núñez",
    "email": "mjose@example.net",
    "phone": "",
    "case_number": "",
    "text": "Me cobraron por un trámite que según la página no tiene costo. ¿Por qué?",
}


def _without_tokens(html: str, number: str) -> str:
    return CSRF_VALUE.sub("", html.replace(number, "N"))


def _nothing_stored():
    assert Complaint.objects.count() == 0
    assert OutboundEmail.objects.count() == 0
    assert not AuditEvent.objects.filter(action__startswith="complaint.").exists()


def test_the_form_in_spanish_with_its_deadline(client):
    page = client.get(reverse("portal:complaint"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Presentar una queja" in html
    assert "15 días laborables" in html
    assert 'name="csrfmiddlewaretoken"' in html


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "Escriba su nombre y apellido"),
        ("name", "<script>alert(1)</script>", "solo con letras"),
        ("email", "", "Escriba su correo electrónico"),
        ("email", "rosa@", "Escriba un correo válido"),
        ("phone", "12", "no es válido"),
        ("phone", "llámenme", "No es un número de teléfono"),
        ("case_number", "VV-2026-000123-X", "El número de trámite no es válido"),
        ("case_number", "123", "El número de trámite no es válido"),
        ("text", "", "Escriba su queja"),
        ("text", "Mal servicio", "al menos 20 caracteres"),
        ("text", "x" * 4001, "hasta 4000 caracteres; tiene 4001"),
        ("text", "Texto con un carácter\x1b[31m de control escondido", "caracteres invisibles"),
        (
            "text",
            "Texto con una marca\u202e de dirección invertida oculta",
            "caracteres invisibles",
        ),
    ],
)
def test_wrong_input_is_refused_in_spanish_and_nothing_is_stored(client, field, value, message):
    response = client.post(reverse("portal:complaint"), {**VALID, field: value})

    assert response.status_code == 422
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert message in " ".join(errors[field])
    assert message in response.content.decode()
    _nothing_stored()


def test_a_malformed_email_server_side_even_without_the_browser_check(client):
    response = client.post(reverse("portal:complaint"), {**VALID, "email": "a b@example.com"})
    assert response.status_code == 422
    _nothing_stored()


def test_a_case_number_is_linked_when_the_case_exists_and_the_answer_is_the_same(client):
    fields = submission_fields(0)
    case = submit_request(fields, submission_files(fields))
    missing = case_number_format(2026, 999_999)

    typed = case.number.lower().replace("-", " ")
    linked = client.post(reverse("portal:complaint"), {**VALID, "case_number": typed})
    page_linked = client.get(linked["Location"]).content.decode()
    unlinked = client.post(reverse("portal:complaint"), {**VALID, "case_number": missing})
    page_unlinked = client.get(unlinked["Location"]).content.decode()

    first, second = Complaint.objects.order_by("pk")
    assert (first.case, first.case_number) == (case, case.number)
    assert (second.case, second.case_number) == (None, missing)
    assert linked.status_code == unlinked.status_code == 302
    assert linked["Location"] == unlinked["Location"]
    # The two pages differ only by the complaint number.
    assert _without_tokens(page_linked, first.number) == _without_tokens(
        page_unlinked, second.number
    )


def test_the_received_page_needs_a_complaint_from_this_browser(client):
    response = client.get(reverse("portal:complaint_received"))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:complaint")
    client.post(reverse("portal:complaint"), VALID)
    assert client.session[SESSION_LAST_COMPLAINT]["number"] == Complaint.objects.get().number


def test_the_status_page_and_the_footer_link_to_the_form(client):
    link = f'href="{reverse("portal:complaint")}"'
    assert link in client.get(reverse("portal:start")).content.decode()
    status_page = client.get(reverse("portal:status")).content.decode()
    assert status_page.count(link) == 2  # the page's own link and the footer's


@pytest.fixture
def small_limit(settings):
    settings.RATE_LIMIT_COMPLAINTS_PER_CLIENT = "2/h"
    cache.clear()
    yield
    cache.clear()


def test_too_many_complaints_from_one_client_are_refused_with_the_text_kept(client, small_limit):
    address = {"REMOTE_ADDR": "198.51.100.7"}
    for _ in range(2):
        assert client.post(reverse("portal:complaint"), VALID, **address).status_code == 302

    refused = client.post(reverse("portal:complaint"), VALID, **address)

    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    html = refused.content.decode()
    assert "Hubo demasiados intentos en poco tiempo" in html
    assert VALID["text"] in html
    assert Complaint.objects.count() == 2
    # Another client is not affected.
    other = client.post(reverse("portal:complaint"), VALID, REMOTE_ADDR="203.0.113.9")
    assert other.status_code == 302
    assert Complaint.objects.count() == 3
