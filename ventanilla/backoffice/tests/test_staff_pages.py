"""The administrators' pages: where each role lands after sign-in, the menu, and the staff
accounts (create with an emailed single-use link, roles, deactivation, second-factor
reset), each change audited and none that locks the administrator out."""

import re
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD
from ventanilla.audit.models import AuditEvent
from ventanilla.notifications.models import OutboundEmail
from ventanilla.staff.roles import Role
from ventanilla.staff.services import staff_roles_of
from ventanilla.testing.staff import staff_login, totp_code, totp_device_for

pytestmark = pytest.mark.django_db

LOGIN = "/gestion/ingresar/"
CODE = "/gestion/ingresar/codigo/"
ENROL = "/gestion/ingresar/activar/"
HOME = "/gestion/inicio/"
QUEUE = "/gestion/"
STAFF = "/gestion/personal/"
STAFF_NEW = "/gestion/personal/nueva/"
CALENDAR = "/gestion/calendario/"
AUDIT = "/gestion/auditoria/"
NEW_PASSWORD = "Cuenca-Ingapirca-1820-azul"

NEW_ACCOUNT = {
    "username": "nora.nueva",
    "first_name": "Nora",
    "last_name": "Cedeño Vélez",
    "email": "nora.nueva@iess.example",
    "roles": [Role.ANALYST],
}


def _staff_url(user, action: str = "") -> str:
    return f"{STAFF}{user.pk}/{action}"


def _events(action: str):
    return AuditEvent.objects.filter(action=action).order_by("pk")


def _create(client, **overrides):
    return client.post(STAFF_NEW, {**NEW_ACCOUNT, **overrides})


def _activation_link(email: OutboundEmail) -> str:
    link = re.search(r"https?://\S+/gestion/activar/\S+/", email.body_text).group(0)
    assert link in email.body_html
    return urlsplit(link).path


# --- landing and menu -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "lands_on"),
    [
        ("analyst", QUEUE),
        ("supervisor", QUEUE),
        ("auditor", QUEUE),
        ("administrator", STAFF),
    ],
)
def test_each_role_lands_on_a_page_it_can_use(client, request, persona, lands_on):
    user = request.getfixturevalue(persona)
    staff_login(client, user)

    response = client.get(HOME)

    assert response["Location"] == lands_on
    assert client.get(lands_on).status_code == 200


def test_an_administrator_signs_in_and_lands_on_the_staff_page(client, administrator):
    device = totp_device_for(administrator)

    password = client.post(LOGIN, {"username": administrator.username, "password": PASSWORD})
    assert password["Location"].startswith(CODE)
    code = client.post(password["Location"], {"code": totp_code(device), "next": HOME})
    assert code["Location"] == HOME
    page = client.get(HOME, follow=True)

    assert page.redirect_chain[-1][0] == STAFF
    assert page.status_code == 200
    assert "Cuentas del personal" in page.content.decode()


def test_the_second_factor_page_sends_to_the_landing_page_without_next(client, administrator):
    device = totp_device_for(administrator)
    client.post(LOGIN, {"username": administrator.username, "password": PASSWORD})

    assert client.post(CODE, {"code": totp_code(device)})["Location"] == HOME


def test_a_next_address_still_wins(client, administrator):
    device = totp_device_for(administrator)
    password = client.post(
        LOGIN, {"username": administrator.username, "password": PASSWORD, "next": CALENDAR}
    )
    next_field = re.search(
        r'name="next" value="([^"]*)"', client.get(password["Location"]).content.decode()
    )

    assert next_field.group(1) == CALENDAR
    response = client.post(CODE, {"code": totp_code(device), "next": CALENDAR})
    assert response["Location"] == CALENDAR


def test_the_landing_page_asks_for_sign_in_and_refuses_outsiders(client, outsider):
    assert client.get(HOME)["Location"] == f"{LOGIN}?next={HOME}"
    client.force_login(outsider)
    assert client.get(HOME).status_code == 403


def _menu(page: str) -> set[str]:
    nav = page.split('<nav aria-label="Principal">', 1)[1].split("</nav>", 1)[0]
    return set(re.findall(r'<a href="[^"]*">([^<]+)</a>', nav))


@pytest.mark.parametrize(
    ("persona", "page", "links"),
    [
        ("analyst", QUEUE, {"Cola", "Horarios de videollamada", "Quejas", "Mi cuenta"}),
        (
            "supervisor",
            QUEUE,
            {
                "Cola",
                "Tablero",
                "Cifras",
                "Horarios de videollamada",
                "Suplantaciones",
                "Quejas",
                "Auditoría",
                "Calendario",
                "Derechos LOPDP",
                "Mi cuenta",
            },
        ),
        (
            "auditor",
            QUEUE,
            {
                "Cola",
                "Tablero",
                "Cifras",
                "Suplantaciones",
                "Quejas",
                "Auditoría",
                "Derechos LOPDP",
                "Mi cuenta",
            },
        ),
        ("administrator", STAFF, {"Auditoría", "Personal", "Calendario", "Mi cuenta"}),
    ],
)
def test_the_menu_shows_only_what_the_role_may_open(client, request, persona, page, links):
    staff_login(client, request.getfixturevalue(persona))

    html = client.get(page).content.decode()

    assert _menu(html) == links
    assert f'href="{HOME}"' in html  # the brand link


# --- who may open the staff pages ---------------------------------------------------------


@pytest.mark.parametrize("persona", ["analyst", "supervisor", "auditor"])
def test_other_roles_get_403_on_the_staff_pages(client, request, persona, administrator):
    staff_login(client, request.getfixturevalue(persona))

    assert client.get(STAFF).status_code == 403
    assert client.get(STAFF_NEW).status_code == 403
    assert client.get(_staff_url(administrator)).status_code == 403
    assert _create(client).status_code == 403
    assert client.post(_staff_url(administrator, "activa/"), {"active": "0"}).status_code == 403
    assert client.post(_staff_url(administrator, "segundo-factor/")).status_code == 403
    assert not get_user_model().objects.filter(username="nora.nueva").exists()
    assert get_user_model().objects.get(pk=administrator.pk).is_active


def test_the_staff_list(client, administrator, analyst, auditor):
    totp_device_for(analyst)
    staff_login(client, administrator)

    page = client.get(STAFF).content.decode()

    rows = {
        m.group(1): m.group(2)
        for m in re.finditer(r'<tr data-user="([^"]+)">(.*?)</tr>', page, re.S)
    }
    assert set(rows) == {administrator.username, analyst.username, auditor.username}
    assert "Analista" in rows[analyst.username] and "Activada" in rows[analyst.username]
    assert "Auditor" in rows[auditor.username]
    assert "Pendiente (al próximo ingreso)" in rows[auditor.username]
    assert "Nunca" in rows[auditor.username]


# --- creating an account and its single-use link ----------------------------------------------


def test_creating_an_account_queues_the_activation_email(client, administrator):
    staff_login(client, administrator)

    response = _create(client, roles=[Role.ANALYST, Role.AUDITOR])

    user = get_user_model().objects.get(username="nora.nueva")
    assert response["Location"] == _staff_url(user)
    assert not user.has_usable_password()
    assert user.is_active and not user.is_staff
    assert staff_roles_of(user) == [Role.ANALYST, Role.AUDITOR]
    email = OutboundEmail.objects.get(template="staff_activation")
    assert email.to == "nora.nueva@iess.example"
    assert email.subject == "Active su cuenta de Gestión de trámites (IESS Ventanilla Virtual)"
    assert "nora.nueva" in email.body_text and "/gestion/activar/" in email.body_text
    created = _events("staff.account_created").get()
    assert created.actor == administrator
    assert created.object_id == str(user.pk)
    assert created.new_value == {
        "username": "nora.nueva",
        "first_name": "Nora",
        "last_name": "Cedeño Vélez",
        "email": "nora.nueva@iess.example",
        "is_active": True,
        "roles": ["analyst", "auditor"],
    }
    assert _events("staff.activation_sent").get().new_value["email"] == email.to


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_activation_email_arrives_by_smtp(client, administrator, smtp_server, run_worker):
    staff_login(client, administrator)
    _create(client)

    run_worker()

    [message] = smtp_server.to("nora.nueva@iess.example")
    assert message["Subject"] == "Active su cuenta de Gestión de trámites (IESS Ventanilla Virtual)"
    text = message.get_body(("plain",)).get_content()
    assert "/gestion/activar/" in text and "verificación en dos pasos" in text


def test_the_link_sets_the_password_once(client, administrator):
    staff_login(client, administrator)
    _create(client)
    link = _activation_link(OutboundEmail.objects.get(template="staff_activation"))
    newcomer = Client()

    # Django moves the token into the session, off the address bar.
    first = newcomer.get(link)
    assert first.status_code == 302 and "set-password" in first["Location"]
    form = newcomer.get(first["Location"])
    assert 'name="new_password1"' in form.content.decode()
    saved = newcomer.post(
        first["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )

    assert saved["Location"] == LOGIN
    user = get_user_model().objects.get(username="nora.nueva")
    assert user.check_password(NEW_PASSWORD)
    assert _events("staff.password_set").get().actor == user
    # Second use: refused, and the password stays.
    again = Client().get(link, follow=True)
    assert "Este enlace ya no sirve" in again.content.decode()
    assert 'name="new_password1"' not in again.content.decode()
    # The person signs in with it and enrols an authenticator app, as every newcomer.
    signed = newcomer.post(LOGIN, {"username": "nora.nueva", "password": NEW_PASSWORD})
    assert signed["Location"].startswith(ENROL)


def test_a_weak_password_is_refused_with_the_rules(client, administrator):
    staff_login(client, administrator)
    _create(client)
    link = _activation_link(OutboundEmail.objects.get(template="staff_activation"))
    newcomer = Client()
    form_url = newcomer.get(link)["Location"]

    refused = newcomer.post(form_url, {"new_password1": "nora", "new_password2": "nora"})

    assert refused.status_code == 200
    assert "usa-error-message" in refused.content.decode()
    assert not get_user_model().objects.get(username="nora.nueva").has_usable_password()


def test_a_deactivated_account_gets_no_password_form(client, administrator):
    staff_login(client, administrator)
    _create(client)
    user = get_user_model().objects.get(username="nora.nueva")
    client.post(_staff_url(user, "activa/"), {"active": "0"})
    link = _activation_link(OutboundEmail.objects.get(template="staff_activation"))

    page = Client().get(link)

    assert "Este enlace ya no sirve" in page.content.decode()


def test_a_new_link_can_be_sent_until_the_password_is_set(client, administrator):
    staff_login(client, administrator)
    _create(client)
    user = get_user_model().objects.get(username="nora.nueva")

    sent = client.post(_staff_url(user, "enlace/"), follow=True).content.decode()
    assert "Enviamos a nora.nueva@iess.example un enlace nuevo" in sent
    assert _events("staff.activation_sent").count() == 2

    user.set_password(NEW_PASSWORD)
    user.save()
    page = client.post(_staff_url(user, "enlace/"), follow=True).content.decode()
    assert "ya creó su contraseña" in page


def test_a_username_or_email_in_use_is_refused(client, administrator, analyst):
    staff_login(client, administrator)

    taken = _create(client, username="ANA.analista")
    assert taken.status_code == 400
    assert "Ya existe una cuenta con el usuario" in taken.content.decode()

    analyst.email = "ana@iess.example"
    analyst.save()
    same_email = _create(client, email="ANA@iess.example")
    assert same_email.status_code == 400
    assert "ya es de otra cuenta" in same_email.content.decode()

    no_role = _create(client, roles=[])
    assert no_role.status_code == 400
    assert "Marque al menos un rol" in no_role.content.decode()
    assert not get_user_model().objects.filter(username="nora.nueva").exists()
    assert not OutboundEmail.objects.exists()


# --- roles, deactivation, second factor ----------------------------------------------------


def test_changing_roles_changes_what_the_user_can_open(client, administrator, analyst):
    staff_login(client, administrator)
    colleague = Client()
    staff_login(colleague, analyst)
    assert colleague.get(AUDIT).status_code == 403
    assert colleague.get(QUEUE).status_code == 200

    response = client.post(_staff_url(analyst), {"roles": [Role.ADMINISTRATOR]})

    assert response["Location"] == _staff_url(analyst)
    assert colleague.get(QUEUE).status_code == 403
    assert colleague.get(AUDIT).status_code == 200
    assert colleague.get(STAFF).status_code == 200
    assert colleague.get(HOME)["Location"] == STAFF
    event = _events("staff.roles_changed").get()
    assert event.actor == administrator
    assert event.old_value == {"username": analyst.username, "roles": ["analyst"]}
    assert event.new_value == {"username": analyst.username, "roles": ["administrator"]}


def test_saving_the_same_roles_records_nothing(client, administrator, analyst):
    staff_login(client, administrator)
    client.post(_staff_url(analyst), {"roles": [Role.ANALYST]})
    assert not _events("staff.roles_changed").exists()


def test_an_administrator_cannot_lock_themself_out(client, administrator):
    staff_login(client, administrator)

    roles = client.post(_staff_url(administrator), {"roles": [Role.ANALYST]})
    assert roles.status_code == 400
    assert "No puede quitarse a sí mismo el rol de administrador" in roles.content.decode()
    assert staff_roles_of(administrator) == [Role.ADMINISTRATOR]

    off = client.post(_staff_url(administrator, "activa/"), {"active": "0"}, follow=True)
    assert "No puede desactivar su propia cuenta" in off.content.decode()
    assert get_user_model().objects.get(pk=administrator.pk).is_active
    assert client.get(STAFF).status_code == 200
    assert not _events("staff.roles_changed").exists()
    assert not _events("staff.deactivated").exists()

    # Adding a role to themself is fine.
    client.post(_staff_url(administrator), {"roles": [Role.ADMINISTRATOR, Role.ANALYST]})
    assert staff_roles_of(administrator) == [Role.ADMINISTRATOR, Role.ANALYST]


def test_a_deactivated_user_cannot_sign_in(client, administrator, analyst):
    colleague = Client()
    staff_login(colleague, analyst)
    staff_login(client, administrator)

    client.post(_staff_url(analyst, "activa/"), {"active": "0"})

    assert not get_user_model().objects.get(pk=analyst.pk).is_active
    # The open session ends, and the password no longer opens the door.
    assert colleague.get(QUEUE)["Location"].startswith(LOGIN)
    refused = Client().post(LOGIN, {"username": analyst.username, "password": PASSWORD})
    assert refused.status_code == 200
    assert "Usuario o contraseña incorrectos" in refused.content.decode()
    event = _events("staff.deactivated").get()
    assert event.old_value["is_active"] is True and event.new_value["is_active"] is False
    # Still listed, as deactivated; and it can be reactivated.
    assert "Desactivada" in client.get(STAFF).content.decode()
    client.post(_staff_url(analyst, "activa/"), {"active": "1"})
    assert get_user_model().objects.get(pk=analyst.pk).is_active
    assert _events("staff.reactivated").get().new_value["is_active"] is True
    signed = Client().post(LOGIN, {"username": analyst.username, "password": PASSWORD})
    assert signed.status_code == 302


def test_resetting_the_second_factor(client, administrator, analyst):
    totp_device_for(analyst)
    staff_login(client, administrator)

    client.post(_staff_url(analyst, "segundo-factor/"))

    assert not TOTPDevice.objects.filter(user=analyst).exists()
    event = _events("staff.otp_reset").get()
    assert event.actor == administrator and event.object_id == str(analyst.pk)


def test_an_account_without_a_role_is_not_managed_here(client, administrator, outsider):
    staff_login(client, administrator)
    assert client.get(_staff_url(outsider)).status_code == 404
    assert client.post(_staff_url(outsider, "activa/"), {"active": "0"}).status_code == 404
