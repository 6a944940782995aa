"""Steps of the guided request as a person does them in the browser, in either language:
fields are found by their ids and buttons by their role in the form, so the same steps
drive the Spanish and the English pages."""

import json
from pathlib import Path

from playwright.sync_api import expect

AXE_JS = Path(__file__).resolve().parents[3] / "node_modules" / "axe-core" / "axe.min.js"

SELECTS = ("id_type", "birth_province", "residence_country")
ANSWER_PAGES = (
    ("id_type", "id_number", "first_names", "last_names", "birth_date", "birth_province")
    + ("fingerprint_code", "id_issue_date"),
    ("residence_country", "residence_region", "residence_city", "postal_code", "foreign_phone"),
    ("email", "ecuador_mobile", "ecuador_landline", "sector", "message"),
)


def continue_button(page):
    return page.locator("button[name=action][value=continue]")


def fill_answers(page, fields: dict, *, on_each_page=None) -> None:
    """The three pages of answers, each followed by "Save and continue"."""
    for names in ANSWER_PAGES:
        for name in names:
            field = page.locator(f"#id_{name}")
            value = fields.get(name, "")
            if name in SELECTS:
                field.select_option(value)
            else:
                field.fill(value.replace("ES-M", "Madrid"))
        if on_each_page:
            on_each_page(page)
        continue_button(page).click()
        page.wait_for_load_state()


def upload_page(page, files: dict[str, Path], *, on_page=None) -> None:
    """Choose the page's files (by field name) and continue."""
    for name, path in files.items():
        page.locator(f"#id_{name}").set_input_files(str(path))
    if on_page:
        on_page(page)
    continue_button(page).click()
    page.wait_for_load_state()


def submit_review(page) -> str:
    """Tick the declaration, send, and read the case number."""
    page.locator("label[for=id_declaration]").click()
    expect(page.locator("#id_declaration")).to_be_checked()
    page.locator("form button[type=submit]").last.click()
    number = page.locator("#case-number")
    expect(number).to_be_visible(timeout=60_000)
    return number.inner_text().strip()


def axe_violations(page) -> list[dict]:
    """WCAG 2.0/2.1/2.2 A and AA rules of axe-core on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Through DevTools, not a <script> tag: the page's CSP (script-src 'self') refuses inline scripts.
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values:
              ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }"""
    )
    return result


def assert_accessible(page, audited: list | None = None) -> None:
    violations = axe_violations(page)
    if audited is not None:
        audited.append(page.url)
    assert not violations, f"{page.url}: {json.dumps(violations, ensure_ascii=False, indent=1)}"


def assert_fits(page, width: int = 360) -> None:
    """Nothing sticks out sideways on a narrow phone: no horizontal scrolling."""
    scroll = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll}px wide on a {width}px screen"


STEP_SLUGS = (
    "identificacion",
    "residencia",
    "contacto",
    "documento",
    "fotografia",
    "solicitud",
    "video",
)
