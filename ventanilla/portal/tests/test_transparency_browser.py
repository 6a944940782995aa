"""/transparencia/ and /atencion/ in headless Chromium: no axe violations (WCAG A and
AA), no CSP violation from the inline SVG chart, the chart styled by its stylesheet, and
nothing wider than a phone."""

import json

import pytest

from ventanilla.portal.tests import journey
from ventanilla.portal.tests.test_csp_browser import COLLECT_VIOLATIONS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = {"width": 360, "height": 740}


@pytest.mark.parametrize("language", ["es", "en"])
def test_both_pages_pass_axe_and_the_csp_on_a_phone(
    live_server, new_context, browser_problems, language
):
    context = new_context(locale="es-EC" if language == "es" else "en-GB")
    if language == "en":
        context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    violations: list[str] = []
    context.expose_function("cspViolation", lambda text: violations.append(text))
    context.add_init_script(COLLECT_VIOLATIONS)
    page = context.new_page()
    page.set_viewport_size(PHONE)
    seen = {}
    for path in ("/transparencia/", "/atencion/"):
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        page.wait_for_load_state("load")
        seen[path] = journey.axe_violations(page)
        journey.assert_fits(page, PHONE["width"])
        if path == "/transparencia/":
            chart = page.locator("svg.tr-chart")
            assert chart.get_attribute("role") == "img"
            # The stylesheet reached the chart: the complaints line is dashed.
            dash = page.locator(".tr-panel--complaints .tr-line").evaluate(
                "e => getComputedStyle(e).strokeDasharray"
            )
            assert dash not in ("", "none"), dash
            assert chart.bounding_box()["width"] <= PHONE["width"]
    failing = {path: v for path, v in seen.items() if v}
    assert not failing, json.dumps(failing, ensure_ascii=False, indent=1)
    assert not violations, violations
    assert not browser_problems.failed_responses, browser_problems.failed_responses
    assert not browser_problems.page_errors, browser_problems.page_errors


def test_screenshot_of_the_chart(live_server, new_context, tmp_path):
    """Not an assertion on pixels: a picture for a person to look at (VENTANILLA_SHOTS_DIR)."""
    from ventanilla.portal.tests.conftest import SHOTS_DIR

    page = new_context().new_page()
    page.goto(live_server.url + "/transparencia/")
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    page.locator("figure.tr-figure").screenshot(path=str(SHOTS_DIR / "transparency-chart.png"))
    assert (SHOTS_DIR / "transparency-chart.png").stat().st_size > 0
