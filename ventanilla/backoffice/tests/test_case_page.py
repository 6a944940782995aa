"""The analyst's case page: every part on one screen, the checklist of the seed's rules,
internal notes, the merged history, who may post, and a query count that does not grow
with the case's documents, checks and transitions."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from ventanilla.audit.models import AuditEvent
from ventanilla.cases import services
from ventanilla.cases.selectors import case_citizen_summary
from ventanilla.checks.models import CheckAttachment, CheckResult
from ventanilla.checks.services import case_checks_run
from ventanilla.notifications.models import OutboundEmail
from ventanilla.review.models import CaseNote, ChecklistVersion
from ventanilla.testing import case_media, media, pki
from ventanilla.testing.factories import submission_fields, submission_files, submit_request
from ventanilla.testing.staff import staff_login


def _case(person: int = 0):
    fields = submission_fields(person)
    case = submit_request(fields, submission_files(fields))
    return services.case_mark_checked(case_id=case.pk)


def _page(client, case) -> str:
    response = client.get(reverse("backoffice:case", args=[case.number]))
    assert response.status_code == 200
    return response.content.decode()


def _checklist_post(client, case, answers: dict):
    data = {}
    for rule, (answer, reason) in answers.items():
        data[f"checklist-{rule}-answer"] = answer
        data[f"checklist-{rule}-reason"] = reason
    return client.post(reverse("backoffice:checklist", args=[case.number]), data)


@pytest.fixture
def trusted_test_ca(settings, tmp_path):
    settings.SIGNATURE_TRUST_ROOTS_DIR = tmp_path / "roots"
    pki.write_roots(settings.SIGNATURE_TRUST_ROOTS_DIR, case_media.test_ca())


@pytest.mark.django_db
def test_the_page_shows_each_part_with_the_checks_evidence(client, analyst, trusted_test_ca):
    fields = submission_fields()
    files = case_media.case_files(
        fields, statement=case_media.statement_text(fields, omit="residence")
    )
    case = submit_request(fields, files)
    case_checks_run(case_id=case.pk)
    case.refresh_from_db()
    staff_login(client, analyst)
    page = _page(client, case)

    # The top: status, deadline in working days and hours, assignee, flags, advice.
    assert "En revisión de requisitos" in page
    assert re.search(r"quedan? \d+ días? laborables? \(\d+ h\)", page)
    assert "Sin asignar" in page
    assert 'id="case-recommendation"' in page and "Necesita corrección" in page

    # Declared data beside what the documents show, agreements marked in words.
    table = page[page.index('id="declared-vs-documents"') :]
    table = table[: table.index("</table>")]
    assert 'data-field="full_name"' in table and 'data-field="fingerprint_code"' in table
    assert "María Fernanda Quispe Andrade" in table
    assert "E3331I2222" in table
    assert "Coincide" in table

    # ID front and back, selfie, and a still of the video, side by side, each by a
    # short-lived link (?t=) that works in this session.
    documents = {doc.kind: doc for doc in case.documents.all()}
    for kind in ("id_front", "id_back", "selfie"):
        assert (
            f'src="{reverse("backoffice:document", args=[case.number, documents[kind].pk])}?t='
            in page
        )
    still = reverse("backoffice:video_still", args=[case.number, documents["video"].pk])
    assert f'src="{still}?t=' in page
    still_token = page.split(f'src="{still}', 1)[1].split('"', 1)[0]
    assert 'class="side-by-side"' in page

    # The statement clause by clause: the residence left out is marked and highlighted.
    statement = page[page.index('id="statement"') : page.index('id="transcript"')]
    assert re.search(
        r'data-clause="residence" data-state="missing">.*?Falta.*?<mark>', statement, re.S
    )
    assert re.search(
        r'data-clause="authorization" data-state="heard">.*?Se escucha', statement, re.S
    )

    # Each check with its evidence (the partial), the checklist, notes and history.
    assert 'id="verificaciones"' in page and "Coherencia de los datos" in page
    assert 'id="checklist-form"' in page and "Solicitud sin enmendaduras" in page
    assert 'id="note-form"' in page
    assert 'id="history"' in page and "Abrió la página del trámite" in page

    # The still is a JPEG from the stored video, never cached, and its view is audited.
    response = client.get(f"{still}{still_token}")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "no-store, private"
    assert response.content[:2] == b"\xff\xd8"
    event = AuditEvent.objects.get(action="document.viewed", object_id=str(documents["video"].pk))
    assert event.actor == analyst
    assert event.new_value["frame_at_seconds"] > 0
    assert "cuadro del video" in _page(client, case)


@pytest.mark.django_db
def test_a_failed_rule_needs_a_reason_and_then_preselects_the_decision(client, analyst):
    case = _case()
    staff_login(client, analyst)

    refused = _checklist_post(
        client, case, {"selfie_face_visible": ("fails", ""), "id_legible": ("complies", "")}
    )
    assert refused.status_code == 400
    assert "escriba el motivo por el que no cumple" in refused.content.decode()
    assert not ChecklistVersion.objects.filter(case=case).exists()
    assert not AuditEvent.objects.filter(action="review.checklist_saved").exists()

    saved = _checklist_post(
        client,
        case,
        {
            "selfie_face_visible": ("fails", "Lleva gafas oscuras y gorra"),
            "id_legible": ("complies", ""),
            "esignature_original": ("not_applicable", ""),
        },
    )
    assert saved.status_code == 302
    version = ChecklistVersion.objects.get(case=case)
    assert version.version == 1 and version.created_by == analyst
    assert version.answers["selfie_face_visible"] == {
        "answer": "fails",
        "reason": "Lleva gafas oscuras y gorra",
    }
    event = AuditEvent.objects.get(action="review.checklist_saved")
    assert event.actor == analyst and event.case == case

    page = _page(client, case)
    correction = page[page.index('id="correction-form"') : page.index('id="reject-form"')]
    assert re.search(r'value="face_not_visible"[^>]*checked', correction)
    assert re.search(r'value="selfie"[^>]*checked', correction)
    assert not re.search(r'value="illegible_image"[^>]*checked', correction)
    assert not re.search(r'value="video"[^>]*checked', correction)
    assert "Lleva gafas oscuras y gorra" in correction  # the message's first draft
    reject = page[page.index('id="reject-form"') :]
    assert re.search(r'value="face_not_visible"[^>]*checked', reject)

    # The same answers again add nothing; a change adds version 2 and keeps version 1.
    _checklist_post(
        client,
        case,
        {
            "selfie_face_visible": ("fails", "Lleva gafas oscuras y gorra"),
            "id_legible": ("complies", ""),
            "esignature_original": ("not_applicable", ""),
        },
    )
    assert ChecklistVersion.objects.filter(case=case).count() == 1
    _checklist_post(
        client,
        case,
        {
            "selfie_face_visible": ("complies", ""),
            "id_legible": ("complies", ""),
            "esignature_original": ("not_applicable", ""),
        },
    )
    assert list(ChecklistVersion.objects.filter(case=case).values_list("version", flat=True)) == [
        2,
        1,
    ]
    page = _page(client, case)
    assert "Versión 2, guardada por ana.analista" in page
    assert 'id="preselected"' not in page


@pytest.mark.django_db
def test_internal_notes_newest_first_never_for_the_citizen(client, analyst, supervisor):
    case = _case()
    staff_login(client, analyst)
    url = reverse("backoffice:note_add", args=[case.number])

    empty = client.post(url, {"note-text": "   "})
    assert empty.status_code == 400
    assert not CaseNote.objects.exists()

    assert (
        client.post(url, {"note-text": "Llamé al consulado: confirmar la dirección."}).status_code
        == 302
    )
    staff_login(client, supervisor)
    assert client.post(url, {"note-text": "Revisar la firma con calma."}).status_code == 302

    page = _page(client, case)
    notes = page[page.index('id="notes"') :]
    first, second = notes.index("Revisar la firma con calma."), notes.index("Llamé al consulado")
    assert first < second  # newest first
    assert "sofia.supervisora" in notes[:first] and "ana.analista" in notes[first:second]
    assert AuditEvent.objects.filter(action="review.note_added", case=case).count() == 2

    summary = str(case_citizen_summary(case))
    assert "consulado" not in summary and "firma con calma" not in summary
    assert not OutboundEmail.objects.filter(body_text__contains="consulado").exists()


@pytest.mark.django_db
def test_the_history_merges_everything_in_time_order(client, analyst):
    case = _case()
    staff_login(client, analyst)
    _page(client, case)
    client.post(reverse("backoffice:note_add", args=[case.number]), {"note-text": "Primera nota."})
    _checklist_post(client, case, {"selfie_face_visible": ("fails", "Rostro tapado")})
    client.post(
        reverse("backoffice:correction", args=[case.number]),
        {
            "correction-items": ["selfie"],
            "correction-reasons": ["face_not_visible"],
            "correction-message": "Envíe una foto sin gorra.",
        },
    )
    page = _page(client, case)
    history = page[page.index('id="history"') :]
    rows = re.findall(
        r'<tr data-kind="(\w+)"><td>([\d\- :]+)</td><td>[^<]*</td><td>[^<]*</td><td>([^<]*)</td>',
        history,
    )
    kinds = [kind for kind, _at, _title in rows]
    assert {"transition", "email", "audit", "checklist", "note"} <= set(kinds)
    times = [at for _kind, at, _title in rows]
    assert times == sorted(times)
    titles = [title for _kind, _at, title in rows]
    # The order things happened in: submitted, viewed, the note, the checklist, the
    # correction (its status change and the email to the citizen).
    order = [
        titles.index("Recibido"),
        titles.index("Abrió la página del trámite"),
        titles.index("Nota interna"),
        titles.index("Versión 1"),
        next(i for i, t in enumerate(titles) if t.endswith("Corrección solicitada")),
    ]
    assert order == sorted(order)
    emails = [t for k, _a, t in rows if k == "email"]
    assert any("corrija" in t for t in emails)


@pytest.mark.django_db
def test_the_auditor_sees_everything_but_posts_nothing(client, auditor, outsider):
    case = _case()
    staff_login(client, auditor)
    page = _page(client, case)
    assert 'id="checklist-readonly"' in page and 'id="checklist-form"' not in page
    assert 'id="note-form"' not in page and 'id="correction-form"' not in page
    assert 'id="history"' in page

    checklist = _checklist_post(client, case, {"id_legible": ("complies", "")})
    note = client.post(reverse("backoffice:note_add", args=[case.number]), {"note-text": "x"})
    assert checklist.status_code == 403 and note.status_code == 403
    assert not ChecklistVersion.objects.exists() and not CaseNote.objects.exists()

    staff_login(client, outsider)
    assert client.get(reverse("backoffice:case", args=[case.number])).status_code in (403, 404)
    video = case.documents.get(kind="video")
    still = client.get(reverse("backoffice:video_still", args=[case.number, video.pk]))
    assert still.status_code in (403, 404)


@pytest.mark.django_db
def test_a_closed_case_keeps_its_checklist(client, analyst):
    case = _case()
    staff_login(client, analyst)
    _checklist_post(client, case, {"id_legible": ("complies", "")})
    services.case_reject(
        case=case, actor=analyst, reasons=["illegible_image"], message="Fotos ilegibles."
    )
    refused = _checklist_post(client, case, {"id_legible": ("fails", "ilegible")})
    assert refused.status_code == 400
    assert "está cerrado" in refused.content.decode()
    assert ChecklistVersion.objects.filter(case=case).count() == 1


def _grow(case, analyst, extra: int) -> None:
    """More documents, check results (with attachments), transitions, emails, notes,
    checklist versions and audit events on the same case."""
    from django.core.files.base import ContentFile

    from ventanilla.cases.models import CaseTransition
    from ventanilla.documents.models import Document
    from ventanilla.review.services import case_note_add, checklist_save

    base = case.documents.get(kind="selfie")
    now = timezone.now()
    for i in range(extra):
        Document.objects.create(
            case=case, kind="selfie", version=10 + i, is_current=False, file=base.file.name,
            original_name="selfie.jpg", format="jpeg", content_type="image/jpeg",
            size=base.size, sha256=base.sha256,
        )  # fmt: skip
        result = CheckResult.objects.create(
            case=case, name="image_quality", outcome="pass", summary=f"ok {i}",
            evidence={"fields": [{"field": "email", "source": "formulario", "status": "agrees"}]},
        )  # fmt: skip
        attachment = CheckAttachment(result=result, name=f"recorte-{i}.jpg")
        attachment.file.save(f"r{i}.jpg", ContentFile(media.jpeg_bytes(text="R")), save=True)
        CaseTransition.objects.create(
            case=case, from_status="in_review", to_status="in_review", at=now,
            actor_label="system", reason=f"prueba {i}",
        )  # fmt: skip
        OutboundEmail.objects.create(
            case=case, template="case_received", to=case.email, subject=f"Asunto {i}",
            body_text="-", dedupe_key=f"prueba:{case.pk}:{i}", next_attempt_at=now,
        )  # fmt: skip
        case_note_add(case=case, actor=analyst, text=f"Nota {i}")
        checklist_save(
            case=case, actor=analyst, answers={"id_legible": {"answer": "fails", "reason": f"r{i}"}}
        )
        AuditEvent.objects.create(actor_label="x", action="document.viewed", case=case)


@pytest.mark.django_db
def test_the_query_count_does_not_grow_with_the_case(client, analyst):
    small, large = _case(0), _case(1)
    _grow(small, analyst, 1)
    _grow(large, analyst, 6)
    staff_login(client, analyst)
    _page(client, small)  # warm the session and the roles

    counts = []
    for case in (small, large):
        with CaptureQueriesContext(connection) as queries:
            _page(client, case)
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 25, counts
