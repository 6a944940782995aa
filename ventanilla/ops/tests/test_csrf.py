"""CSRF on every form: a POST without the token (a forged cross-site request) is refused
before any view runs, on the citizen's pages and the back office's."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

FORMS = [
    "/consulta/",
    "/tramite/nuevo/identificacion/",
    "/tramite/nuevo/revision/",
    "/tramite/nuevo/guardar/",
    "/tramite/continuar/un-enlace/",
    "/tramite/correccion/un-enlace/",
    "/tramite/no-fui-yo/un-enlace/",
    "/tramite/videollamada/un-enlace/",
    "/consulta/VV-2026-000123-K/desistir/",
    "/i18n/setlang/",
    "/gestion/ingresar/",
    "/gestion/ingresar/codigo/",
    "/gestion/tomar/",
]


@pytest.mark.parametrize("path", FORMS)
def test_a_post_without_the_csrf_token_is_refused(path):
    data = {"number": "VV-2026-000123-K", "username": "analista"}
    response = Client(enforce_csrf_checks=True).post(path, data)
    assert response.status_code == 403, path
    assert b"CSRF" in response.content or "CSRF" in response.reason_phrase
    # The same request from the site's own page (the token checks skipped) is not refused.
    assert Client().post(path, data).status_code != 403
