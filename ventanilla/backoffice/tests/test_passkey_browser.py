"""Passkeys through the real pages, in headless Chromium with a virtual authenticator (the
Chrome DevTools Protocol's WebAuthn domain, standing in for a fingerprint reader): an
analyst signs in with her password and her authenticator app's code, adds a passkey on
«Mi cuenta», signs out, and signs in again with the password and the passkey.
Real database, the real WebAuthn ceremony of the browser, the real checks of py_webauthn."""

import asyncio
import re
from urllib.parse import urlsplit

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from playwright.sync_api import expect

from conftest import PASSWORD
from ventanilla.audit.models import AuditEvent

# Debian's Chromium, driven by Playwright, as in the citizen's browser tests.
from ventanilla.portal.tests.conftest import (  # noqa: F401 (fixtures)
    browser_problems,
    chromium,
    new_context,
)
from ventanilla.staff.models import PasskeyDevice
from ventanilla.testing.staff import totp_code_unused, totp_device_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(scope="module", autouse=True)
def _one_database_connection_while_the_browser_runs(request):
    """Keep this thread on one database connection while Playwright's loop is marked as
    running (see test_decisions_browser.py, which explains why serialized_rollback needs
    it)."""
    sync_connection = connections[DEFAULT_DB_ALIAS]
    request.getfixturevalue("chromium")
    assert asyncio._get_running_loop() is not None
    connections[DEFAULT_DB_ALIAS] = sync_connection
    yield


@pytest.fixture
def relying_party(live_server, settings):
    """WebAuthn refuses an IP address as the relying party: the live server is reached as
    localhost, and the settings name it, as WEBAUTHN_RP_ID/ORIGINS do in production."""
    assert urlsplit(live_server.url).hostname == "localhost", live_server.url
    settings.SITE_URL = live_server.url
    settings.WEBAUTHN_RP_ID = "localhost"
    settings.WEBAUTHN_ORIGINS = [live_server.url]
    return live_server.url


def _with_virtual_authenticator(context, page):
    """A platform authenticator with a fingerprint reader that always recognises her."""
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def _password(page, base_url: str, username: str):
    page.goto(base_url + "/gestion/ingresar/")
    page.get_by_label("Nombre de usuario").fill(username)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile("Verificación en dos pasos")
    )


# Browsers without the JSON helpers of WebAuthn level 3 (older Safari and Firefox): the
# script's own base64url conversion must give the server the same answer.
WITHOUT_JSON_HELPERS = """
if (window.PublicKeyCredential) {
  delete PublicKeyCredential.parseCreationOptionsFromJSON;
  delete PublicKeyCredential.parseRequestOptionsFromJSON;
  delete PublicKeyCredential.prototype.toJSON;
}
"""


@pytest.mark.parametrize("browser_kind", ["json_helpers", "base64url_fallback"])
def test_analyst_adds_a_passkey_and_signs_in_with_it(
    relying_party,
    analyst,
    new_context,  # noqa: F811
    browser_problems,  # noqa: F811
    browser_kind,
):
    base_url = relying_party
    device = totp_device_for(analyst)
    context = new_context(locale="es-EC", timezone_id="America/Guayaquil")
    if browser_kind == "base64url_fallback":
        context.add_init_script(WITHOUT_JSON_HELPERS)
    page = context.new_page()
    _with_virtual_authenticator(context, page)
    page.goto(base_url + "/gestion/ingresar/")
    assert page.evaluate("typeof PublicKeyCredential.parseRequestOptionsFromJSON") == (
        "function" if browser_kind == "json_helpers" else "undefined"
    )

    # Password and the code of her authenticator app. No passkey yet: no passkey button.
    _password(page, base_url, analyst.username)
    expect(page.get_by_role("button", name="Usar mi llave de acceso")).to_have_count(0)
    page.get_by_label("Código de verificación").fill(totp_code_unused(device))
    page.get_by_role("button", name="Verificar").click()
    expect(page.get_by_role("heading", name="Cola de trámites")).to_be_visible()

    # «Mi cuenta», next to her name: she adds a passkey called «Portátil».
    page.get_by_role("link", name="Mi cuenta").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mi cuenta: seguridad")
    expect(page.locator("#no-passkeys")).to_be_visible()
    expect(page.locator("[data-passkey-unsupported]")).to_be_hidden()
    page.get_by_label("Nombre de la llave").fill("Portátil")
    page.get_by_role("button", name="Agregar una llave de acceso").click()
    expect(
        page.get_by_role("status").filter(has_text="Se agregó la llave de acceso «Portátil»")
    ).to_be_visible()
    row = page.locator("#passkeys tbody tr")
    expect(row).to_have_count(1)
    expect(row.get_by_role("rowheader")).to_have_text("Portátil")
    expect(row).to_contain_text("Todavía no se ha usado")
    passkey = PasskeyDevice.objects.get(user=analyst)
    assert passkey.name == "Portátil" and passkey.transports == ["internal"]

    # She signs out, and in again: the password, then «Usar mi llave de acceso».
    page.get_by_role("button", name="Salir").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ingreso del personal del IESS")
    _password(page, base_url, analyst.username)
    # The code form stays, as the fallback.
    expect(page.get_by_label("Código de verificación")).to_be_visible()
    page.get_by_role("button", name="Usar mi llave de acceso").click()
    expect(page.get_by_role("heading", name="Cola de trámites")).to_be_visible()

    events = AuditEvent.objects.filter(actor=analyst)
    assert events.filter(action="staff.passkey_added", new_value__name="Portátil").count() == 1
    methods = [
        e.new_value["method"] for e in events.filter(action="staff.signed_in").order_by("pk")
    ]
    assert methods == ["totp", "passkey"]
    passkey.refresh_from_db()
    assert passkey.last_used_at is not None

    # «Mi cuenta» now shows when it was last used.
    page.get_by_role("link", name="Mi cuenta").click()
    expect(page.locator("#passkeys tbody tr")).not_to_contain_text("Todavía no se ha usado")
    assert browser_problems.failed_responses == []
    assert browser_problems.page_errors == []


def test_a_cancelled_passkey_says_so_and_the_code_still_works(
    relying_party,
    analyst,
    new_context,  # noqa: F811
    browser_problems,  # noqa: F811
):
    """Her fingerprint is not recognised (the authenticator refuses user verification):
    the page says so in Spanish, in the live region, and the code form still signs in."""
    base_url = relying_party
    device = totp_device_for(analyst)
    context = new_context(locale="es-EC", timezone_id="America/Guayaquil")
    page = context.new_page()
    cdp, authenticator = _with_virtual_authenticator(context, page)
    _password(page, base_url, analyst.username)
    page.get_by_label("Código de verificación").fill(totp_code_unused(device))
    page.get_by_role("button", name="Verificar").click()
    page.get_by_role("link", name="Mi cuenta").click()
    page.get_by_label("Nombre de la llave").fill("Portátil")
    page.get_by_role("button", name="Agregar una llave de acceso").click()
    expect(page.locator("#passkeys tbody tr")).to_have_count(1)
    page.get_by_role("button", name="Salir").click()

    cdp.send(
        "WebAuthn.setUserVerified", {"authenticatorId": authenticator, "isUserVerified": False}
    )
    _password(page, base_url, analyst.username)
    page.get_by_role("button", name="Usar mi llave de acceso").click()

    status = page.locator("#passkey-sign-in-status")
    expect(status).to_have_attribute("aria-live", "polite")
    expect(status).to_contain_text(re.compile("Se canceló|no fue aceptada|Se agotó el tiempo"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Verificación en dos pasos")
    page.get_by_label("Código de verificación").fill(totp_code_unused(device))
    page.get_by_role("button", name="Verificar").click()
    expect(page.get_by_role("heading", name="Cola de trámites")).to_be_visible()
    assert browser_problems.page_errors == []


def test_without_webauthn_the_passkey_parts_stay_hidden(
    relying_party,
    analyst,
    new_context,  # noqa: F811
    browser_problems,  # noqa: F811
):
    """A browser without WebAuthn: no passkey button on the code page, and «Mi cuenta»
    says why a passkey cannot be added here."""
    from ventanilla.staff.models import PasskeyDevice as Passkey

    base_url = relying_party
    device = totp_device_for(analyst)
    Passkey.objects.create(
        user=analyst, name="Llave de otro equipo", credential_id=b"\x01" * 16, public_key=b"x"
    )
    context = new_context(locale="es-EC", timezone_id="America/Guayaquil")
    context.add_init_script("delete window.PublicKeyCredential;")
    page = context.new_page()
    _password(page, base_url, analyst.username)
    expect(page.get_by_role("button", name="Usar mi llave de acceso")).to_be_hidden()
    page.get_by_label("Código de verificación").fill(totp_code_unused(device))
    page.get_by_role("button", name="Verificar").click()
    page.get_by_role("link", name="Mi cuenta").click()
    expect(page.locator("[data-passkey-unsupported]")).to_be_visible()
    expect(page.get_by_role("button", name="Agregar una llave de acceso")).to_be_hidden()
    expect(page.locator("#passkeys")).to_contain_text("Llave de otro equipo")
    assert browser_problems.page_errors == []
