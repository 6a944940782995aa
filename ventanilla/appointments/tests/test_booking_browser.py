"""A resident of Madrid books her call in headless Chromium, sees it in Madrid time and
Ecuador time, and moves it to another slot (same calendar UID, SEQUENCE 1)."""

from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from ventanilla.appointments.models import Appointment

# Debian's Chromium, driven by Playwright, as in the citizen's browser tests.
from ventanilla.portal.tests.conftest import (  # noqa: F401 (fixtures)
    browser_problems,
    chromium,
    new_context,
)

from .conftest import accepted_case, booking_token, next_working_day, publish

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

MADRID = ZoneInfo("Europe/Madrid")


def test_madrid_resident_books_and_reschedules(
    live_server,
    new_context,  # noqa: F811
    browser_problems,  # noqa: F811
    analyst,
):
    first, second = publish(analyst, next_working_day(), "10:00", "11:00", 30)
    case = accepted_case(analyst)
    page = new_context(locale="es-ES", timezone_id="Europe/Madrid").new_page()
    page.goto(f"{live_server.url}/tramite/videollamada/{booking_token(case)}/")

    expect(page.get_by_role("heading", level=1)).to_have_text("Agende su videollamada")
    expect(page.locator(".usa-intro")).to_contain_text(case.number)
    local = [s.starts_at.astimezone(MADRID).strftime("%H:%M") for s in (first, second)]
    expect(page.locator(f'label[for="slot-{first.pk}"]')).to_have_text(
        f"{local[0]} en Madrid (10:00 en Ecuador)"
    )
    page.locator(f'label[for="slot-{first.pk}"]').click()
    page.get_by_role("button", name="Agendar videollamada").click()

    expect(page.locator("#call-local")).to_contain_text(f"de {local[0]} a ")
    expect(page.locator("#call-local")).to_contain_text("en Madrid")
    expect(page.locator("#call-ecuador")).to_contain_text("de 10:00 a 10:30 en Ecuador")
    appointment = Appointment.objects.get(case=case)
    expect(page.locator("#meeting-url")).to_have_text(appointment.meeting_url)
    expect(page.get_by_role("link", name="Añadir a mi calendario")).to_be_visible()

    page.get_by_role("link", name="Cambiar fecha y hora").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cambiar la fecha de su videollamada")
    expect(page.locator(f'label[for="slot-{first.pk}"]')).to_have_count(0)
    page.locator(f'label[for="slot-{second.pk}"]').click()
    page.get_by_role("button", name="Cambiar a este horario").click()

    expect(page.locator("#call-local")).to_contain_text(f"de {local[1]} a ")
    expect(page.locator("#call-ecuador")).to_contain_text("de 10:30 a 11:00 en Ecuador")
    appointment.refresh_from_db()
    assert appointment.slot == second and appointment.ical_sequence == 1
    assert not browser_problems.failed_responses and not browser_problems.page_errors
