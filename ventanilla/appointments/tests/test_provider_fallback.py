"""When the meeting provider fails: the citizen's booking is never lost (a Jitsi room is
made instead), the analyst is told why in Spanish and nothing is saved; a rescheduled call
gets a room of its own."""

import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ValidationError
from django.utils import timezone

from ventanilla.appointments.models import Appointment
from ventanilla.appointments.providers import google_token_cache_clear
from ventanilla.appointments.services import appointment_book, appointment_reschedule
from ventanilla.cases import services as case_services
from ventanilla.cases.constants import CaseStatus
from ventanilla.cases.selectors import case_citizen_summary

from .conftest import accepted_case, next_working_day, publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def google_unreachable(settings, tmp_path):
    """Google Meet configured, but its sign-in address does not answer (nothing listens
    on port 9): every meeting it is asked for fails as it would with Google down."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    credentials = tmp_path / "service-account.json"
    credentials.write_text(
        json.dumps(
            {
                "type": "service_account",
                "client_email": "ventanilla@iess-ventanilla.iam.gserviceaccount.com",
                "private_key_id": "1",
                "private_key": key.decode(),
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        ),
        encoding="utf-8",
    )
    settings.MEETING_PROVIDER = "google_meet"
    settings.GOOGLE_MEET_CREDENTIALS_FILE = str(credentials)
    settings.GOOGLE_MEET_ORGANIZER = "videollamadas@iess.gob.ec"
    settings.GOOGLE_OAUTH_TOKEN_URL = "http://127.0.0.1:9/token"
    settings.GOOGLE_MEET_API_URL = "http://127.0.0.1:9/v2"
    settings.GOOGLE_MEET_TIMEOUT_SECONDS = 2
    google_token_cache_clear()
    yield
    google_token_cache_clear()


def test_a_citizen_books_even_when_the_provider_fails(analyst, google_unreachable, settings):
    case = accepted_case(analyst)
    first, *_ = publish(analyst, next_working_day())

    appointment = appointment_book(case=case, slot_id=first.pk)

    case.refresh_from_db()
    assert case.status == CaseStatus.CALL_SCHEDULED
    assert appointment.meeting_provider == "jitsi"
    assert appointment.meeting_url.startswith(settings.JITSI_BASE_URL.rstrip("/") + "/")


def test_an_analyst_is_told_why_and_nothing_is_saved(analyst, google_unreachable):
    fields_case = accepted_case(analyst)
    starts_at = timezone.now() + dt.timedelta(days=3)

    with pytest.raises(ValidationError) as refused:
        case_services.case_invite(case=fields_case, actor=analyst, starts_at=starts_at)

    assert "Google Meet" in " ".join(refused.value.messages)
    fields_case.refresh_from_db()
    assert fields_case.status == CaseStatus.CALL_PENDING
    assert not Appointment.objects.filter(case=fields_case).exists()
    # A link the analyst pastes still works.
    case_services.case_invite(
        case=fields_case,
        actor=analyst,
        starts_at=starts_at,
        meeting_url="https://meet.google.com/abc-defg-hij",
    )
    assert Appointment.objects.get(case=fields_case).meeting_provider == "manual"


def test_a_rescheduled_call_gets_a_room_of_its_own(analyst):
    case = accepted_case(analyst)
    first, second, *_ = publish(analyst, next_working_day())
    appointment = appointment_book(case=case, slot_id=first.pk)
    old_url = appointment.meeting_url

    moved = appointment_reschedule(appointment=appointment, slot_id=second.pk)

    assert moved.meeting_url != old_url and moved.meeting_url.startswith("https://")
    assert moved.ical_sequence == 1


def test_the_status_page_sends_the_citizen_to_the_booking_link(analyst):
    summary = case_citizen_summary(accepted_case(analyst))

    assert "elija la fecha y la hora" in summary["happening_now"].lower()
    assert "Elija un horario con el enlace personal" in summary["next_step"]
