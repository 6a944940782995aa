"""The back-office pages at /gestion/derechos/: a supervisor registers a request, sees it
in the list with its deadline, downloads the person's ZIP (audited with its SHA-256,
never cached) and closes it; an auditor sees but cannot download; an analyst and an
administrator are refused (the whole grid is in backoffice/tests/test_permission_matrix)."""

import datetime as dt
import hashlib
import io
import json
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone

from ventanilla.audit.models import AuditEvent
from ventanilla.cases.services import case_mark_checked
from ventanilla.privacy.constants import RequestStatus
from ventanilla.privacy.models import DataSubjectRequest
from ventanilla.privacy.services import data_request_register
from ventanilla.staff.roles import Role
from ventanilla.staff.services import staff_user_ensure
from ventanilla.testing.factories import (
    documents_scan,
    submission_fields,
    submission_files,
    submit_request,
)
from ventanilla.testing.staff import staff_login
from ventanilla.workdays.selectors import ECUADOR

pytestmark = pytest.mark.django_db

LIST = reverse("backoffice:data_requests")
NEW = reverse("backoffice:data_request_new")


def _member(role):
    return staff_user_ensure(username=f"derechos.{role}", password="x" * 20, role=role)


@pytest.fixture
def supervisor(client):
    user = _member(Role.SUPERVISOR)
    staff_login(client, user)
    return user


def _request(actor, *, days_ago=0, kind="access", id_number="0923456784"):
    return data_request_register(
        actor=actor,
        id_type="cedula",
        id_number=id_number,
        full_name="María Fernanda Quispe Andrade",
        kind=kind,
        channel="email",
        received_at=timezone.now() - dt.timedelta(days=days_ago),
    )


def test_a_supervisor_registers_a_request_and_sees_its_deadline(client, supervisor):
    received = (timezone.now().astimezone(ECUADOR) - dt.timedelta(days=3)).date()
    response = client.post(
        NEW,
        {
            "id_type": "cedula",
            "id_number": "0923456784",
            "full_name": "María Fernanda Quispe Andrade",
            "contact_email": "maria.quispe@example.org",
            "kind": "access",
            "channel": "office",
            "received_on": received.isoformat(),
            "notes": "Pide copia de todo.",
        },
    )

    request = DataSubjectRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("backoffice:data_request", args=[request.pk])
    assert request.received_at.astimezone(ECUADOR).date() == received
    page = client.get(response["Location"])
    assert "no-store" in page["Cache-Control"]
    assert f'href="{LIST}"' in page.content.decode()  # the nav link
    assert request.due_at.astimezone(ECUADOR).strftime("%Y-%m-%d") in page.content.decode()
    assert "Descargar la información (ZIP)" in page.content.decode()


def test_a_wrong_id_number_is_explained_on_its_field(client, supervisor):
    response = client.post(
        NEW,
        {
            "id_type": "cedula",
            "id_number": "1714307104",
            "full_name": "Alguien",
            "kind": "access",
            "channel": "email",
            "received_on": timezone.now().astimezone(ECUADOR).date().isoformat(),
        },
    )

    assert response.status_code == 400
    assert "el último dígito no corresponde" in response.content.decode()
    assert not DataSubjectRequest.objects.exists()


def test_the_list_shows_overdue_first_and_marked(client, supervisor):
    on_time = _request(supervisor, days_ago=1)
    late = _request(supervisor, days_ago=45, id_number="0102030400")

    body = client.get(LIST).content.decode()

    assert body.index(f'data-request="{late.pk}"') < body.index(f'data-request="{on_time.pk}"')
    assert f'data-request="{late.pk}" data-status="open" data-overdue="1"' in body
    assert "Vencida" in body


def test_the_download_is_the_zip_audited_with_its_hash_and_never_cached(client, supervisor):
    fields = submission_fields(0)
    case = submit_request(fields, submission_files(fields))
    documents_scan(case)  # the checks' antivirus: its files may be handed over
    case = case_mark_checked(case_id=case.pk)
    request = _request(supervisor)

    response = client.post(reverse("backoffice:data_request_export", args=[request.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Disposition"].startswith("attachment;")
    raw = b"".join(response.streaming_content)
    data = json.loads(zipfile.ZipFile(io.BytesIO(raw)).read("datos.json"))
    assert [c["numero"] for c in data["tramites"]] == [case.number]
    [event] = AuditEvent.objects.filter(action="privacy.export_downloaded")
    assert event.actor == supervisor
    assert event.object_id == str(request.pk)
    assert event.new_value == {
        "files": 5,
        "sha256": hashlib.sha256(raw).hexdigest(),
        "bytes": len(raw),
    }


def test_no_download_for_a_deletion_request_or_a_refused_one(client, supervisor):
    deletion = _request(supervisor, kind="deletion")
    page = client.get(reverse("backoffice:data_request", args=[deletion.pk])).content.decode()
    response = client.post(reverse("backoffice:data_request_export", args=[deletion.pk]))

    assert "Descargar la información (ZIP)" not in page
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action="privacy.export_downloaded").exists()


def test_answer_and_refuse_from_the_page(client, supervisor):
    request = _request(supervisor)
    url = reverse("backoffice:data_request_refuse", args=[request.pk])

    empty = client.post(url, {"refuse-text": ""})
    done = client.post(
        reverse("backoffice:data_request_answer", args=[request.pk]),
        {"answer-text": "ZIP entregado por correo cifrado."},
    )

    assert empty.status_code == 400
    assert "Escriba el motivo del rechazo" in empty.content.decode()
    assert done.status_code == 302
    request.refresh_from_db()
    assert request.status == RequestStatus.ANSWERED


def test_an_auditor_sees_the_request_but_not_the_download(client):
    supervisor = _member(Role.SUPERVISOR)
    request = _request(supervisor)
    staff_login(client, _member(Role.AUDITOR))

    page = client.get(reverse("backoffice:data_request", args=[request.pk]))
    download = client.post(reverse("backoffice:data_request_export", args=[request.pk]))

    assert page.status_code == 200
    assert "Descargar la información (ZIP)" not in page.content.decode()
    assert download.status_code == 403


@pytest.mark.parametrize("role", [Role.ANALYST, Role.ADMINISTRATOR])
def test_analysts_and_administrators_are_refused(client, role):
    request = _request(_member(Role.SUPERVISOR))
    staff_login(client, _member(role))

    assert client.get(LIST).status_code == 403
    assert client.get(reverse("backoffice:data_request", args=[request.pk])).status_code == 403
    assert "/gestion/derechos/" not in client.get(reverse("backoffice:account")).content.decode()
