"""What an analyst sees of the automated checks, and who may see or re-run them."""

import pytest
from django.urls import reverse

from ventanilla.audit.models import AuditEvent
from ventanilla.backoffice.file_links import file_url, session_binding
from ventanilla.cases.services import case_reject
from ventanilla.checks.models import CheckAttachment, CheckRun
from ventanilla.checks.services import case_checks_run
from ventanilla.testing import case_media, pki
from ventanilla.testing.factories import submission_fields, submit_request
from ventanilla.testing.staff import staff_login


@pytest.fixture(autouse=True)
def trusted_test_ca(settings, tmp_path):
    settings.SIGNATURE_TRUST_ROOTS_DIR = tmp_path / "roots"
    pki.write_roots(settings.SIGNATURE_TRUST_ROOTS_DIR, case_media.test_ca())


def _checked_case(**breakage):
    fields = submission_fields()
    case = submit_request(fields, case_media.case_files(fields, **breakage))
    case_checks_run(case_id=case.pk)
    case.refresh_from_db()
    return case


@pytest.mark.django_db
def test_the_case_page_shows_the_advice_the_transcript_and_the_face_crops(client, analyst):
    case = _checked_case(selfie_person="b")
    staff_login(client, analyst)
    page = client.get(reverse("backoffice:case", args=[case.number])).content.decode()

    assert 'data-recommendation="suspicious"' in page
    assert "Coincidencia de rostros" in page
    assert "imposible acercarme" in page.lower()  # the transcript, as heard
    crops = CheckAttachment.objects.filter(result__case=case, result__name="face_match")
    assert crops.count() >= 2
    for crop in crops:
        assert reverse("backoffice:check_attachment", args=[case.number, crop.pk]) in page
    assert "Volver a verificar" in page


@pytest.mark.django_db
def test_face_crops_are_for_staff_only_and_every_view_is_audited(client, auditor, outsider):
    case = _checked_case()
    crop = CheckAttachment.objects.filter(result__case=case).first()
    url = reverse("backoffice:check_attachment", args=[case.number, crop.pk])

    staff_login(client, outsider)
    assert client.get(url).status_code in (403, 404)

    staff_login(client, auditor)
    binding = session_binding(client.session.session_key)
    response = client.get(file_url(case=case, obj=crop, user=auditor, binding=binding))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "no-store, private"
    assert response.getvalue()[:2] == b"\xff\xd8"
    assert AuditEvent.objects.filter(action="check_evidence.viewed", actor=auditor).count() == 1
    # An auditor reads but does not re-run.
    page = client.get(reverse("backoffice:case", args=[case.number])).content.decode()
    assert "Volver a verificar" not in page


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_analyst_reruns_the_checks_through_the_api(client, staff_headers, analyst, run_worker):
    case = _checked_case()
    # The submission's own task, long done by the time an analyst looks: it finds the run
    # above covering it and does nothing.
    run_worker()
    assert CheckRun.objects.filter(case=case).count() == 1
    answer = client.post(f"/api/v1/staff/cases/{case.number}/checks", headers=staff_headers)
    assert answer.status_code == 202
    run_worker()

    latest = CheckRun.objects.filter(case=case).first()
    assert latest.trigger == "analyst"
    assert latest.requested_by == analyst
    assert latest.finished_at is not None
    detail = client.get(f"/api/v1/staff/cases/{case.number}", headers=staff_headers).json()
    assert detail["verification"]["trigger"] == "analyst"
    assert {c["name"] for c in detail["checks"]} >= {"face_match", "video_statement"}


@pytest.mark.django_db
def test_a_closed_case_is_not_checked_again(client, staff_headers, analyst):
    case = _checked_case()
    case_reject(case=case, actor=analyst, reasons=["illegible_image"], message="Fotos ilegibles.")
    answer = client.post(f"/api/v1/staff/cases/{case.number}/checks", headers=staff_headers)
    assert answer.status_code == 409
    assert "cerrado" in answer.json()["detail"]

    staff_login(client, analyst)
    page = client.post(reverse("backoffice:checks_rerun", args=[case.number]), follow=True)
    assert "cerrado" in page.content.decode()
