"""The back-office pages for API tokens: each person sees and revokes their own on «Mi
cuenta»; an administrator revokes a colleague's on the staff account page. Revoking is a
POST with the CSRF token, audited, and works from the next API request on."""

import pytest
from django.test import Client
from django.urls import reverse

from ventanilla.audit.models import AuditEvent
from ventanilla.staff.models import ApiToken
from ventanilla.staff.services import api_token_create, api_token_user
from ventanilla.testing.staff import staff_login, totp_device_for

pytestmark = pytest.mark.django_db


def _token(user, scope=None):
    totp_device_for(user)
    key = api_token_create(user=user, scope=scope)
    return key, ApiToken.objects.get(prefix=key[3:9])


def test_my_account_lists_my_tokens_and_not_anyone_elses(client, analyst, supervisor):
    _, mine = _token(analyst, "read")
    _, theirs = _token(supervisor)
    staff_login(client, analyst)

    page = client.get(reverse("backoffice:account")).content.decode()

    assert f'data-api-token="{mine.prefix}"' in page
    assert "Lectura (cola, trámites, registro)" in page and "Vigente" in page
    assert theirs.prefix not in page


def test_i_revoke_my_token_and_the_api_refuses_it(client, analyst):
    key, token = _token(analyst)
    staff_login(client, analyst)

    response = client.post(reverse("backoffice:api_token_revoke", args=[token.pk]))

    assert response.status_code == 302
    assert api_token_user(key) is None
    event = AuditEvent.objects.get(action="staff.api_token_revoked")
    assert event.actor == analyst and event.object_id == str(token.pk)
    page = client.get(reverse("backoffice:account")).content.decode()
    assert "Revocado el" in page and "Se revocó el token" in page


def test_i_cannot_revoke_someone_elses_token_from_my_account(client, analyst, supervisor):
    key, theirs = _token(supervisor)
    staff_login(client, analyst)

    response = client.post(reverse("backoffice:api_token_revoke", args=[theirs.pk]))

    assert response.status_code == 404
    assert api_token_user(key) == supervisor
    assert not AuditEvent.objects.filter(action="staff.api_token_revoked").exists()


def test_revoking_needs_the_csrf_token(analyst):
    key, token = _token(analyst)
    client = Client(enforce_csrf_checks=True)
    staff_login(client, analyst)

    response = client.post(reverse("backoffice:api_token_revoke", args=[token.pk]))

    assert response.status_code == 403
    assert api_token_user(key) == analyst


def test_an_administrator_revokes_a_colleagues_token(client, administrator, analyst):
    key, token = _token(analyst)
    staff_login(client, administrator)
    detail = reverse("backoffice:staff_detail", args=[analyst.pk])
    assert f'data-api-token="{token.prefix}"' in client.get(detail).content.decode()

    response = client.post(
        reverse("backoffice:staff_api_token_revoke", args=[analyst.pk, token.pk])
    )

    assert response.status_code == 302
    assert api_token_user(key) is None
    assert AuditEvent.objects.get(action="staff.api_token_revoked").actor == administrator
