"""What the citizen reads about an analyst's decision: each coded reason comes with a text
saying what is wrong and how to fix it, in the email and, beforehand, on the analyst's
decision forms; and no automated check ever rejects a request (only a person does)."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import escape

from ventanilla.cases import services
from ventanilla.cases.constants import REASON_GUIDANCE, CaseStatus, ReviewReason, reason_guidance
from ventanilla.cases.models import Case, CaseTransition
from ventanilla.checks.models import CheckRun
from ventanilla.notifications.models import OutboundEmail
from ventanilla.testing import case_media, pki
from ventanilla.testing.factories import submission_fields, submission_files, submit_request
from ventanilla.testing.staff import staff_login

CORRECTION_MESSAGE = "En su fotografía la gorra le tapa la frente y los ojos."
REJECTION_MESSAGE = "La firma de la solicitud es una imagen recortada sobre el documento."


def _checked_case(person: int = 0) -> Case:
    fields = submission_fields(person)
    case = submit_request(fields, submission_files(fields))
    return services.case_mark_checked(case_id=case.pk)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def test_every_coded_reason_has_its_own_text_for_the_citizen():
    assert set(REASON_GUIDANCE) == set(ReviewReason)
    texts = [str(reason_guidance(code)) for code in ReviewReason.values]
    assert len(set(texts)) == len(texts)
    for code, text in zip(ReviewReason.values, texts, strict=True):
        # A sentence or more that says what to do, not the label again.
        assert len(text) > 60, code
        assert text != str(ReviewReason(code).label)
    with pytest.raises(ValueError):
        reason_guidance("no_such_reason")


def test_the_texts_carry_the_seeds_own_requirements():
    assert "fírmela a mano con la misma firma de su cédula" in reason_guidance("pasted_signature")
    assert "PDF original" in reason_guidance("pasted_signature")
    assert "sin gafas, gorra, mascarilla" in reason_guidance("face_not_visible")
    assert "MP4 de hasta 5 MB" in reason_guidance("incomplete_statement")
    assert "no se permiten" not in reason_guidance("esignature_as_photo")
    assert "sin imprimirlo, fotografiarlo" in reason_guidance("esignature_as_photo")


@pytest.mark.django_db
def test_the_correction_email_gives_each_reason_its_text_then_the_message(analyst):
    case = _checked_case()
    services.case_request_correction(
        case=case,
        actor=analyst,
        items=["selfie"],
        reasons=["face_not_visible", "illegible_image"],
        message=CORRECTION_MESSAGE,
    )

    mail = OutboundEmail.objects.get(case=case, template="correction_requested")
    text = _one_line(mail.body_text)
    html = _one_line(mail.body_html)
    for code in ("face_not_visible", "illegible_image"):
        label, guidance = str(ReviewReason(code).label), str(reason_guidance(code))
        assert _one_line(label) in text and _one_line(guidance) in text
        assert _one_line(escape(label)) in html and _one_line(escape(guidance)) in html
        # The reason's text comes before the analyst's own words.
        assert text.index(_one_line(guidance)) < text.index(CORRECTION_MESSAGE)
    assert escape(CORRECTION_MESSAGE) in html
    # Only the reasons ticked.
    assert str(reason_guidance("pasted_signature")) not in mail.body_text
    assert re.search(r"/tramite/correccion/[\w-]+/", mail.body_text)


@pytest.mark.django_db
def test_the_rejection_email_gives_each_reason_its_text_then_the_message(analyst):
    case = _checked_case()
    services.case_reject(
        case=case, actor=analyst, reasons=["pasted_signature"], message=REJECTION_MESSAGE
    )

    mail = OutboundEmail.objects.get(case=case, template="requirements_rejected")
    text = _one_line(mail.body_text)
    guidance = _one_line(str(reason_guidance("pasted_signature")))
    assert "Firma cortada y pegada" in text
    assert guidance in text
    assert text.index(guidance) < text.index(REJECTION_MESSAGE)
    assert _one_line(escape(str(reason_guidance("pasted_signature")))) in _one_line(mail.body_html)
    assert str(reason_guidance("face_not_visible")) not in mail.body_text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("reasons", "message"),
    [([], REJECTION_MESSAGE), (["pasted_signature"], "   "), (["not_a_reason"], "x")],
)
def test_a_decision_without_reasons_or_message_is_refused_and_sends_nothing(
    analyst, reasons, message
):
    case = _checked_case()
    with pytest.raises(ValidationError):
        services.case_reject(case=case, actor=analyst, reasons=reasons, message=message)
    with pytest.raises(ValidationError):
        services.case_request_correction(
            case=case, actor=analyst, items=["selfie"], reasons=reasons, message=message
        )
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW
    assert not OutboundEmail.objects.filter(
        case=case, template__in=["requirements_rejected", "correction_requested"]
    ).exists()


@pytest.mark.django_db
def test_the_analyst_sees_the_text_that_will_be_sent_under_each_reason(client, analyst):
    case = _checked_case()
    staff_login(client, analyst)

    page = client.get(reverse("backoffice:case", args=[case.number])).content.decode()

    for form_id in ("correction-form", "reject-form"):
        form = page[page.index(f'id="{form_id}"') :]
        form = form[: form.index("</form>")]
        for code in ReviewReason.values:
            block = form[form.index(f'data-reason="{code}"') :]
            block = block[: block.index("</div>")]
            assert f'value="{code}"' in block
            assert escape(str(ReviewReason(code).label)) in block
            assert escape(str(reason_guidance(code))) in block
        assert "después de la explicación de cada motivo marcado" in form


@pytest.mark.django_db
def test_rejecting_without_a_reason_on_the_page_says_so_and_changes_nothing(client, analyst):
    case = _checked_case()
    staff_login(client, analyst)

    response = client.post(
        reverse("backoffice:reject", args=[case.number]),
        {"reject-message": REJECTION_MESSAGE},
        follow=True,
    )

    assert "Marque al menos un motivo del rechazo." in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW
    assert not OutboundEmail.objects.filter(case=case, template="requirements_rejected").exists()


# A rejection always needs a person: however bad a request looks to the automated checks,
# the worker that runs them leaves the case in the analyst's review.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_check_run_never_rejects_even_the_most_suspicious_request(run_worker, settings, tmp_path):
    settings.SIGNATURE_TRUST_ROOTS_DIR = tmp_path / "roots"
    pki.write_roots(settings.SIGNATURE_TRUST_ROOTS_DIR, case_media.test_ca())
    fields = submission_fields()
    # Someone else's face in the selfie, and nothing said in the video.
    case = submit_request(fields, case_media.case_files(fields, selfie_person="b", statement=""))

    run_worker()  # the real worker: runs the checks the submission enqueued

    run = CheckRun.objects.get(case=case, finished_at__isnull=False)
    assert run.recommendation == "suspicious"
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_REVIEW
    assert not CaseTransition.objects.filter(
        case=case, to_status=CaseStatus.REQUIREMENTS_REJECTED
    ).exists()
    assert not OutboundEmail.objects.filter(case=case, template="requirements_rejected").exists()
