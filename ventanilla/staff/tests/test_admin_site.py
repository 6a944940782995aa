"""Django's admin sits behind the staff sign-in: no password-only way in."""

import pytest

from ventanilla.testing.staff import staff_login

pytestmark = pytest.mark.django_db

LOGIN = "/gestion/ingresar/"


@pytest.fixture
def operator(django_user_model):
    return django_user_model.objects.create_superuser(
        "operador", "operador@iess.example", "clave-de-prueba-larga"
    )


def test_anonymous_visitors_go_to_the_staff_sign_in(client):
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == f"{LOGIN}?next=/admin/"
    assert response.status_code == 200


def test_the_admins_own_password_form_is_never_shown(client, operator):
    response = client.get("/admin/login/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    # Posting the password to it signs nobody in.
    client.post("/admin/login/", {"username": "operador", "password": "clave-de-prueba-larga"})
    assert "_auth_user_id" not in client.session


def test_a_password_alone_leads_to_the_second_factor(client, operator):
    client.force_login(operator)  # the password step, and nothing more
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/gestion/ingresar/")
    assert "next=/admin/" in response.redirect_chain[-1][0]
    assert "codigo" in response.redirect_chain[-1][0] or "activar" in response.redirect_chain[-1][0]


def test_an_operator_with_both_factors_gets_the_admin(client, operator):
    staff_login(client, operator)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert "administración técnica" in response.content.decode()


def test_staff_without_the_admin_flag_are_refused(client, analyst):
    staff_login(client, analyst)
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403
