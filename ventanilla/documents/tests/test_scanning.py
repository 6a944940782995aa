"""Every upload is scanned by a real clamd (started by the root conftest.py with a
test-made signature database, ventanilla/testing/clamav.py), and the scanner fails closed."""

import logging

import pytest
from django.core import checks
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from ventanilla.audit.models import AuditEvent
from ventanilla.documents.constants import DocumentKind
from ventanilla.documents.scanning import ScannerUnavailable, scan_bytes, scanner_client
from ventanilla.documents.validation import inspect_upload, revalidate_stored
from ventanilla.testing import clamav, media

PHOTO = DocumentKind.SELFIE


def _upload(data: bytes, name: str = "foto.jpg"):
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def test_clamd_of_the_test_session_flags_the_test_signatures_and_passes_others():
    assert scan_bytes(media.jpeg_bytes()).clean
    flagged = scan_bytes(clamav.flagged_jpeg())
    assert (flagged.clean, flagged.signature) == (False, "Ventanilla.Test.FlaggedJpeg.UNOFFICIAL")
    assert scan_bytes(clamav.eicar_bytes()).signature == "Ventanilla.Test.EICAR.UNOFFICIAL"


def test_the_flagged_jpeg_is_a_valid_photo_when_scanning_is_off(settings):
    """So a refusal of it below can only come from the scanner."""
    settings.CLAMAV_URL = ""
    assert inspect_upload(PHOTO, _upload(clamav.flagged_jpeg())).format == "jpeg"
    assert inspect_upload(PHOTO, _upload(clamav.jpeg_carrying_eicar())).format == "jpeg"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "make, signature",
    [
        (clamav.flagged_jpeg, "Ventanilla.Test.FlaggedJpeg.UNOFFICIAL"),
        (clamav.jpeg_carrying_eicar, "Ventanilla.Test.EICAR.UNOFFICIAL"),
    ],
    ids=["hash signature", "EICAR inside a valid JPEG"],
)
def test_infected_upload_is_refused_audited_and_logged_without_personal_data(
    make, signature, caplog
):
    with caplog.at_level(logging.WARNING), pytest.raises(ValidationError) as caught:
        inspect_upload(PHOTO, _upload(make(), "María Pérez 1712345678.jpg"))

    error = caught.value
    assert error.code == "malware"
    assert "parece contener un virus o contenido malicioso" in error.messages[0]
    assert "Revise su dispositivo con un antivirus" in error.messages[0]
    event = AuditEvent.objects.get(action="upload.malware_refused")
    assert event.actor_label == "citizen"
    assert event.new_value["signature"] == signature
    assert event.new_value["kind"] == PHOTO
    assert "1712345678" not in str(event.new_value) and "María" not in str(event.new_value)
    assert signature in caplog.text
    assert "1712345678" not in caplog.text


def test_eicar_file_itself_is_never_accepted():
    with pytest.raises(ValidationError):
        inspect_upload(PHOTO, _upload(clamav.eicar_bytes(), "eicar.jpg"))


def test_unreachable_clamd_refuses_the_upload_and_logs_an_error(settings, tmp_path, caplog):
    settings.CLAMAV_URL = f"unix://{tmp_path}/no-clamd.sock"

    with caplog.at_level(logging.ERROR), pytest.raises(ValidationError) as caught:
        inspect_upload(PHOTO, _upload(media.jpeg_bytes()))

    assert caught.value.code == "scan_unavailable"
    message = caught.value.messages[0]
    assert "No se ha perdido nada" in message and "en unos minutos" in message
    assert "ClamAV scan failed" in caplog.text


def test_the_intake_inspection_does_not_wait_for_the_scanner(settings, tmp_path):
    """The intake leaves the scan to the background checks: clamd being down does not
    stop a citizen's submission (the checks then err, and staff cannot open the file)."""
    settings.CLAMAV_URL = f"unix://{tmp_path}/no-clamd.sock"

    assert inspect_upload(PHOTO, _upload(media.jpeg_bytes()), thorough=False).format == "jpeg"
    # What the scanner alone would refuse is left to the checks too.
    assert inspect_upload(PHOTO, _upload(clamav.flagged_jpeg()), thorough=False).format == "jpeg"


def test_stored_file_recheck_with_clamd_down_is_an_error_not_a_verdict(settings, tmp_path):
    settings.CLAMAV_URL = "tcp://127.0.0.1:9/"  # the discard port: nothing listens

    with pytest.raises(ScannerUnavailable):
        revalidate_stored(PHOTO, _upload(media.jpeg_bytes()))


def test_clamav_url_forms():
    unix = scanner_client("unix:///run/clamav/clamd.ctl")
    assert unix.unix_socket == "/run/clamav/clamd.ctl"
    tcp = scanner_client("tcp://clamav.internal:3310")
    assert (tcp.host, tcp.port) == ("clamav.internal", 3310)


def _ids(messages) -> set[str]:
    return {message.id for message in messages}


def test_system_checks_warn_without_scanning_and_fail_the_deploy_check(settings):
    settings.CLAMAV_URL = ""
    assert "documents.W001" in _ids(checks.run_checks())
    assert "documents.E001" not in _ids(checks.run_checks())
    assert "documents.E001" in _ids(checks.run_checks(include_deployment_checks=True))


def test_system_checks_refuse_a_malformed_url_and_accept_the_test_one(settings):
    assert not {"documents.W001", "documents.E001", "documents.E002"} & _ids(
        checks.run_checks(include_deployment_checks=True)
    )
    settings.CLAMAV_URL = "clamd:3310"
    assert "documents.E002" in _ids(checks.run_checks())
