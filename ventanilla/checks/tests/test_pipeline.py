"""The whole verification pipeline on realistic synthetic requests, as an analyst meets it.

Each request is five generated files that agree with each other (card, selfie,
signed form, a video of the face saying the statement); each test breaks one
thing and looks at what the analyst is told, through the staff API and the
back-office page.
"""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ventanilla.cases.constants import CaseStatus
from ventanilla.cases.models import Case
from ventanilla.checks.models import CheckResult, CheckRun
from ventanilla.checks.services import case_checks_run
from ventanilla.testing import case_media, pki
from ventanilla.testing.factories import submission_fields, submit_request

pytestmark = pytest.mark.django_db

ALL_CHECKS = {
    "file_integrity",
    "image_quality",
    "face_match",
    "video_statement",
    "signature",
    "consistency",
    "cross_case",
}


@pytest.fixture(autouse=True)
def trusted_test_ca(settings, tmp_path):
    """The operator installed the (test) accredited entity's root; no CRLs."""
    settings.SIGNATURE_TRUST_ROOTS_DIR = tmp_path / "roots"
    settings.SIGNATURE_CRL_DIR = tmp_path / "crls"
    pki.write_roots(settings.SIGNATURE_TRUST_ROOTS_DIR, case_media.test_ca())


def _submit(fields=None, **breakage) -> Case:
    fields = fields or submission_fields()
    return submit_request(
        fields, case_media.case_files(fields, **breakage), client_address="203.0.113.7"
    )


def _checked(case: Case) -> dict[str, list[CheckResult]]:
    run = case_checks_run(case_id=case.pk)
    results: dict[str, list[CheckResult]] = {}
    for result in run.results.all():
        results.setdefault(result.name, []).append(result)
    return results


def _only(results, name) -> CheckResult:
    (result,) = results[name]
    return result


def test_an_honest_complete_request_passes_every_check(client, staff_headers):
    fields = submission_fields()
    files = case_media.case_files(fields)
    originals = {kind: upload.read() for kind, upload in files.items()}
    case = submit_request(fields, files, client_address="203.0.113.7")
    # The intake does not hash the uploads; the checks take each file's fingerprint.
    assert set(case.documents.values_list("sha256", flat=True)) == {""}
    results = _checked(case)

    assert set(results) == ALL_CHECKS
    not_passed = {
        r.name + (f"/{r.document.kind}" if r.document else ""): (r.outcome, r.summary)
        for rs in results.values()
        for r in rs
        if r.outcome != "pass"
    }
    assert not_passed == {}
    run = CheckRun.objects.get(case=case, finished_at__isnull=False)
    assert run.recommendation == "ready_for_call"
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW

    detail = client.get(f"/api/v1/staff/cases/{case.number}", headers=staff_headers).json()
    statement = next(c for c in detail["checks"] if c["name"] == "video_statement")
    assert set(statement) >= {"name", "result", "score", "evidence", "finished_at"}
    assert statement["result"] == "pass"
    assert "imposible acercarme" in statement["evidence"]["transcript"].lower()
    assert statement["evidence"]["missing"] == []
    assert detail["verification"]["recommendation"] == "ready_for_call"
    fingerprints = {kind: hashlib.sha256(data).hexdigest() for kind, data in originals.items()}
    assert {d["kind"]: d["sha256"] for d in detail["documents"]} == fingerprints


def test_a_video_without_the_residence_clause_is_flagged_naming_it():
    fields = submission_fields()
    case = _submit(fields, statement=case_media.statement_text(fields, omit="residence"))
    statement = _only(_checked(case), "video_statement")

    assert statement.outcome in ("fail", "warn")
    assert any("residencia" in clause.lower() for clause in statement.evidence["missing"])
    assert CheckRun.objects.get(case=case).recommendation == "needs_correction"


def test_a_selfie_of_another_person_fails_the_face_match_and_looks_suspicious():
    case = _submit(selfie_person="b")
    face = _only(_checked(case), "face_match")

    assert face.outcome == "fail"
    # The analyst sees the crops side by side.
    assert {"selfie.jpg", "id_front.jpg"} <= {a.name for a in face.attachments.all()}
    assert CheckRun.objects.get(case=case).recommendation == "suspicious"


def test_a_form_changed_after_signing_fails_the_signature_check():
    fields = submission_fields()
    altered = pki.append_after_signing(case_media.signed_form(fields))
    files = case_media.case_files(fields)
    files["request_form"] = SimpleUploadedFile("solicitud.pdf", altered, "application/pdf")
    case = submit_request(fields, files)

    signature = _only(_checked(case), "signature")
    assert signature.outcome == "fail"
    assert CheckRun.objects.get(case=case).recommendation == "suspicious"


def test_an_email_and_a_file_reused_under_another_id_number_are_linked(client, staff_headers):
    first = _submit(submission_fields(0))
    _checked(first)
    # Another ID number, the same email, and the very same ID-card picture.
    other_person = submission_fields(1, email=submission_fields(0)["email"])
    files = case_media.case_files(other_person)
    files["id_front"] = case_media.case_files(submission_fields(0))["id_front"]
    second = submit_request(other_person, files)

    cross = _only(_checked(second), "cross_case")
    assert cross.outcome == "fail"
    kinds = {(m["kind"], m.get("case")) for m in cross.evidence["matches"]}
    assert ("contact", first.number) in kinds
    assert ("file", first.number) in kinds
    detail = client.get(f"/api/v1/staff/cases/{second.number}", headers=staff_headers).json()
    cross_out = next(c for c in detail["checks"] if c["name"] == "cross_case")
    assert any(
        m.get("url") == reverse("backoffice:case", args=[first.number])
        for m in cross_out["evidence"]["matches"]
    )


def test_a_check_that_breaks_is_reported_and_the_case_still_reaches_the_analyst(monkeypatch):
    from ventanilla.checks.engines import faces

    def broken(**_):
        raise RuntimeError("modelo dañado")

    monkeypatch.setattr(faces, "face_match", broken)
    case = _submit()
    face = _only(_checked(case), "face_match")

    assert face.outcome == "error"
    assert "revísela manualmente" in face.summary
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW
    assert CheckRun.objects.get(case=case).recommendation == "manual_review"
