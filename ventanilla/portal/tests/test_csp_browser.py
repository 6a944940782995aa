"""The Content-Security-Policy (settings SECURE_CSP: no inline script or style, nothing
from other sites, never framed) holds on the real pages in headless Chromium: every
`securitypolicyviolation` the browser raises on the citizen's pages and the back office's
is collected, and there must be none."""

import re

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache
from playwright.sync_api import expect

from conftest import PASSWORD
from ventanilla.drafts import services as drafts
from ventanilla.portal.request_steps import STEPS
from ventanilla.portal.request_views import SESSION_DRAFT, SESSION_LAST_CASE
from ventanilla.testing.factories import submission_fields, submission_files, submit_request
from ventanilla.testing.staff import totp_code_unused, totp_device_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# Runs before any script of every page, in every frame: Playwright adds it outside the
# page's policy. Each violation is handed to Python at once, so none is lost to a
# navigation.
COLLECT_VIOLATIONS = """
document.addEventListener('securitypolicyviolation', (e) => {
  window.cspViolation(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} ` +
                      `at ${e.sourceFile || document.location.href}:${e.lineNumber}`);
});
"""


@pytest.fixture
def watched_context(new_context):
    """A browser context whose pages report every CSP violation to `violations`."""
    violations: list[str] = []
    context = new_context()
    context.expose_function("cspViolation", lambda text: violations.append(text))
    context.add_init_script(COLLECT_VIOLATIONS)
    context.violations = violations
    return context


@pytest.fixture(autouse=True)
def empty_counters():
    # The cache table outlives a transactional test's flush.
    cache.clear()
    yield
    cache.clear()


def _visit(page, url: str, *, status: int = 200):
    response = page.goto(url)
    assert response.status == status, f"{url}: {response.status}"
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_load_state("load")
    return response


def _citizen_session(context, base_url: str, **values) -> None:
    """A browser session holding `values` (a draft's id, the last case sent), as if the
    person had got there through the pages."""
    session = SessionStore()
    session.update(values)
    session.create()
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": base_url}]
    )


def test_the_policy_is_enforced_and_a_violation_would_be_seen(live_server, watched_context):
    page = watched_context.new_page()
    _visit(page, live_server.url + "/")
    # An inline script and an inline style, as a careless template would add them.
    page.evaluate(
        """() => {
        const s = document.createElement('script'); s.textContent = 'window.ran = 1';
        document.body.appendChild(s);
        document.body.insertAdjacentHTML('beforeend', '<p style="color: red">x</p>');
    }"""
    )
    page.wait_for_timeout(300)
    assert page.evaluate("window.ran") is None
    directives = sorted(v.split()[0] for v in watched_context.violations)
    assert directives == ["script-src-elem", "style-src-attr"], watched_context.violations


def test_no_citizen_page_breaks_the_policy(live_server, watched_context, settings):
    fields = submission_fields()
    case = submit_request(fields, submission_files(fields))
    draft = drafts.draft_start()
    for slug in ("identificacion", "residencia", "contacto"):
        drafts.draft_save_answers(draft=draft, step=slug, answers=fields, complete=True)
    _citizen_session(
        watched_context,
        live_server.url,
        **{
            SESSION_DRAFT: str(draft.public_id),
            SESSION_LAST_CASE: {"number": case.number, "email": case.email},
        },
    )
    page = watched_context.new_page()
    base = live_server.url
    _visit(page, base + "/")
    for step in STEPS:  # the answers and every upload step, with the camera scripts
        _visit(page, f"{base}/tramite/nuevo/{step.slug}/")
    _visit(page, base + "/tramite/nuevo/revision/")
    _visit(page, base + "/tramite/nuevo/guardar/")
    _visit(page, base + "/tramite/recibido/")
    _visit(page, base + "/privacidad/")
    # The status page, looked up through its form; a second look-up is one too many.
    settings.RATE_LIMIT_LOOKUPS_PER_CLIENT = "1/h"
    _visit(page, base + "/consulta/")
    page.get_by_label(re.compile("Número de trámite")).fill(case.number)
    page.get_by_label(re.compile("Número de identificación")).fill(fields["id_number"])
    page.get_by_role("button", name=re.compile("Consultar")).click()
    expect(page.locator("body")).to_contain_text(case.number)
    _visit(page, base + "/consulta/")
    page.get_by_label(re.compile("Número de trámite")).fill(case.number)
    page.get_by_label(re.compile("Número de identificación")).fill(fields["id_number"])
    page.get_by_role("button", name=re.compile("Consultar")).click()
    expect(page.get_by_role("heading", name="Demasiados intentos en poco tiempo")).to_be_visible()
    # Not found, in English.
    _visit(page, base + "/tramite/correccion/no-existe/", status=404)
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert watched_context.violations == []


def test_no_back_office_page_breaks_the_policy(live_server, watched_context, supervisor):
    fields = submission_fields()
    case = submit_request(fields, submission_files(fields))
    device = totp_device_for(supervisor)
    page = watched_context.new_page()
    base = live_server.url + "/gestion"
    # Signing in: the password page, then the code page.
    _visit(page, base + "/ingresar/")
    page.get_by_label("Nombre de usuario").fill(supervisor.username)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile("Verificación en dos pasos")
    )
    page.get_by_label("Código de verificación").fill(totp_code_unused(device))
    page.get_by_role("button", name="Verificar").click()
    page.wait_for_load_state("load")
    for path in (
        "/",
        f"/tramites/{case.number}/",
        f"/tramites/{case.number}/videollamada/",
        "/tablero/",
        "/fraude/",
        "/auditoria/",
        "/videollamadas/horarios/",
        "/calendario/",
        "/cuenta/",  # with the passkey script
    ):
        _visit(page, base + path)
    assert watched_context.violations == []
