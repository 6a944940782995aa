"""The analysts' back-office: the queue, the case page and the decisions."""

import av
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ventanilla.audit.services import audit_log
from ventanilla.cases import services
from ventanilla.cases.constants import CaseStatus
from ventanilla.cases.selectors import case_for_staff
from ventanilla.cases.statemachine import IllegalTransition, can_transition
from ventanilla.checks.constants import CheckName
from ventanilla.checks.models import CheckAttachment
from ventanilla.checks.reruns import ChecksRefused, case_checks_request
from ventanilla.checks.selectors import check_run_latest, checks_for_case
from ventanilla.documents.constants import EXTENSIONS, DocumentKind
from ventanilla.documents.models import Document
from ventanilla.documents.selectors import document_scanned
from ventanilla.documents.services import document_open
from ventanilla.documents.viewing import viewable_copy
from ventanilla.registry.selectors import insured_with_history
from ventanilla.review import media as review_media
from ventanilla.review import selectors as review_selectors
from ventanilla.review import services as review_services
from ventanilla.review.forms import ChecklistForm, NoteForm
from ventanilla.staff.decorators import staff_required
from ventanilla.staff.roles import Permission, can
from ventanilla.workdays.selectors import working_days_left

from .file_links import CHECK_ATTACHMENT, DOCUMENT, file_link_required, staff_file_url
from .forms import CorrectionActionForm, InviteActionForm, RejectActionForm


def case_or_404(request, number):
    case = case_for_staff(request.user, number)
    if case is None:
        raise Http404
    return case


def _case_page(request, case, *, checklist_form=None, note_form=None, status=200):
    """The analyst's case page: everything about one case on one screen. Each table is
    read once, whatever the number of documents, checks or events."""
    may_decide = can(request.user, Permission.DECIDE)
    documents = list(case.documents.all())
    for doc in documents:
        doc.staff_url = staff_file_url(request, case, doc)  # "" if purged or not yet scanned
    current = {doc.kind: doc for doc in documents if doc.is_current}
    checks = checks_for_case(case)
    by_name = {}
    for result in checks:
        by_name.setdefault(result.name, result)
    face_match = by_name.get(CheckName.FACE_MATCH)
    crops = {a.name: a for a in face_match.attachments.all()} if face_match else {}
    video_statement = by_name.get(CheckName.VIDEO_STATEMENT)
    transitions = list(case.transitions.all())
    emails = list(case.emails.all())
    versions = review_selectors.checklist_versions(case)
    checklist = versions[0] if versions else None
    notes = review_selectors.case_notes(case)
    can_review = may_decide and can_transition(case, CaseStatus.CORRECTION_REQUESTED)
    # The rules marked "no cumple" pre-select the coded reasons (and the files to send
    # again); the analyst still reviews them and presses the button.
    failed_reasons = review_selectors.checklist_failed_reasons(checklist)
    context = {
        "case": case,
        "deadline": _deadline(case),
        "documents": documents,
        "panels": evidence_panels(request, case, current, crops),
        "video": current.get(DocumentKind.VIDEO),
        "video_url": getattr(current.get(DocumentKind.VIDEO), "staff_url", ""),
        "statement": review_selectors.statement_clauses(video_statement),
        "video_statement": video_statement,
        "comparison": review_selectors.declared_vs_documents(
            case, by_name.get(CheckName.CONSISTENCY)
        ),
        "checks": checks,
        "check_run": check_run_latest(case),
        "corrections": case.corrections.all(),
        "appointments": case.appointments.all(),
        "checklist": checklist,
        "checklist_rows": review_selectors.checklist_rows(checklist),
        "checklist_form": checklist_form
        or ChecklistForm(rows=review_selectors.checklist_rows(checklist), prefix="checklist"),
        "notes": notes,
        "note_form": note_form or NoteForm(prefix="note"),
        "history": review_selectors.case_history(
            case, transitions=transitions, emails=emails, checklists=versions, notes=notes
        ),
        "may_decide": may_decide,
        "may_edit_checklist": may_decide and not case.is_final,
        "can_review": can_review,
        "can_record_call": may_decide and case.status == CaseStatus.CALL_SCHEDULED,
        "failed_reasons": failed_reasons,
        "correction_form": CorrectionActionForm(
            prefix="correction",
            initial={
                "reasons": failed_reasons,
                "items": review_selectors.checklist_failed_items(checklist),
                "message": review_selectors.checklist_failed_message(checklist),
            },
        ),
        "reject_form": RejectActionForm(
            prefix="reject",
            initial={
                "reasons": failed_reasons,
                "message": review_selectors.checklist_failed_message(checklist),
            },
        ),
        "invite_form": InviteActionForm(prefix="invite"),
    }
    return render(request, "backoffice/case_detail.html", context, status=status)


def _deadline(case) -> dict | None:
    """The 3-working-day review deadline as the analyst reads it, while the clock runs."""
    if not case.review_clock_running:
        return None
    now = timezone.now()
    seconds = (case.review_due_at - now).total_seconds()
    return {
        "due_at": case.review_due_at,
        "overdue": seconds < 0,
        "working_days_left": working_days_left(now, case.review_due_at),
        "hours_left": int(abs(seconds) // 3600),
    }


def evidence_panels(request, case, current: dict, crops: dict) -> list[dict]:
    """The ID's two sides, the selfie and a still of the video, to set side by side.
    A PDF cannot be an <img>: then the face the checks cut out of it stands in. The links
    are the staff member's short-lived ones (file_links)."""
    panels = []
    for kind, crop_name in (
        (DocumentKind.ID_FRONT, "id_front.jpg"),
        (DocumentKind.ID_BACK, None),
        (DocumentKind.SELFIE, "selfie.jpg"),
    ):
        doc = current.get(kind)
        crop = crops.get(crop_name) if crop_name else None
        panels.append(
            {
                "kind": kind,
                "title": DocumentKind(kind).label,
                "document": doc,
                "file_url": staff_file_url(request, case, doc) if doc else "",
                "image_url": staff_file_url(request, case, doc)
                if doc and doc.content_type == "image/jpeg"
                else "",
                "crop_url": staff_file_url(request, case, crop) if crop else "",
            }
        )
    video = current.get(DocumentKind.VIDEO)
    crop = crops.get("video.jpg")
    panels.append(
        {
            "kind": "video_still",
            "title": _("Cuadro del video (25 % de su duración)"),
            "document": video,
            "file_url": staff_file_url(request, case, video) if video else "",
            "image_url": staff_file_url(request, case, video, still=True) if video else "",
            "crop_url": staff_file_url(request, case, crop) if crop else "",
        }
    )
    return panels


@staff_required(Permission.VIEW_CASES)
def case_detail(request, number):
    case = case_or_404(request, number)
    audit_log(action="case.viewed", actor=request.user, case=case, obj=case)
    return _case_page(request, case)


@require_POST
@staff_required(Permission.DECIDE)
def checklist_save(request, number):
    """Save the analyst's checklist of the seed's rules (a new version each time)."""
    case = case_or_404(request, number)
    form = ChecklistForm(request.POST, prefix="checklist")
    if form.is_valid():
        try:
            version = review_services.checklist_save(
                case=case, actor=request.user, answers=form.answers()
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                form.add_service_errors(exc.message_dict)
            else:
                messages.error(request, " ".join(exc.messages))
                return _case_page(request, case, checklist_form=form, status=400)
        else:
            messages.success(
                request,
                _("Lista de verificación guardada (versión %(version)s).")
                % {"version": version.version},
            )
            return redirect(f"{reverse('backoffice:case', args=[case.number])}#lista")
    messages.error(request, _("La lista de verificación no se guardó: revise los motivos."))
    return _case_page(request, case, checklist_form=form, status=400)


@require_POST
@staff_required(Permission.DECIDE)
def note_add(request, number):
    """Add an internal note (staff only, never shown to the citizen)."""
    case = case_or_404(request, number)
    form = NoteForm(request.POST, prefix="note")
    if form.is_valid():
        try:
            review_services.case_note_add(
                case=case, actor=request.user, text=form.cleaned_data["text"]
            )
        except ValidationError as exc:
            form.add_error("text" if hasattr(exc, "error_dict") else None, exc.messages)
        else:
            messages.success(request, _("Nota guardada."))
            return redirect(f"{reverse('backoffice:case', args=[case.number])}#notas")
    messages.error(request, _("La nota no se guardó: escriba su texto."))
    return _case_page(request, case, note_form=form, status=400)


def _not_scanned(request, case, doc):
    """409: the antivirus has not found this file clean (not scanned yet, or flagged)."""
    audit_log(
        action="document.view_refused",
        actor=request.user,
        case=case,
        obj=doc,
        new={"kind": doc.kind, "version": doc.version, "reason": "not_scanned"},
    )
    return render(
        request, "backoffice/document_not_scanned.html", {"case": case, "doc": doc}, status=409
    )


@staff_required(Permission.VIEW_DOCUMENTS)
@file_link_required(DOCUMENT, "document_id")
def video_still(request, number, document_id):
    """A frame of the citizen's video at a quarter of its length, as a JPEG: staff only,
    audited as a view of the video, never cached."""
    case = case_or_404(request, number)
    doc = Document.objects.filter(
        case=case, pk=document_id, kind=DocumentKind.VIDEO, purged_at__isnull=True
    ).first()
    if doc is None:
        raise Http404
    if not document_scanned(doc):
        return _not_scanned(request, case, doc)
    try:
        with document_open(doc) as source:
            jpeg, at = review_media.video_still(source)
    except (av.FFmpegError, ValueError, IndexError) as exc:
        raise Http404 from exc
    audit_log(
        action="document.viewed",
        actor=request.user,
        case=case,
        obj=doc,
        new={
            "kind": doc.kind,
            "version": doc.version,
            "sha256": doc.sha256,
            "frame_at_seconds": at,
        },
    )
    response = HttpResponse(jpeg, content_type="image/jpeg")
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _decide(request, number, form_class, prefix, run):
    case = case_or_404(request, number)
    form = form_class(request.POST, prefix=prefix)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(
                request,
                f"{form.fields[field].label if field in form.fields else ''}: {' '.join(errors)}",
            )
        return redirect("backoffice:case", number=case.number)
    try:
        run(case, form)
    except IllegalTransition as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        case.refresh_from_db()
        messages.success(request, f"Trámite {case.number}: {case.get_status_display()}.")
    return redirect("backoffice:case", number=case.number)


@require_POST
@staff_required(Permission.DECIDE)
def request_correction(request, number):
    return _decide(
        request,
        number,
        CorrectionActionForm,
        "correction",
        lambda case, form: services.case_request_correction(
            case=case, actor=request.user, **form.cleaned_data
        ),
    )


@require_POST
@staff_required(Permission.DECIDE)
def reject(request, number):
    return _decide(
        request,
        number,
        RejectActionForm,
        "reject",
        lambda case, form: services.case_reject(case=case, actor=request.user, **form.cleaned_data),
    )


@require_POST
@staff_required(Permission.DECIDE)
def invite(request, number):
    return _decide(
        request,
        number,
        InviteActionForm,
        "invite",
        lambda case, form: services.case_invite(
            case=case,
            actor=request.user,
            starts_at=form.starts_at(),
            meeting_url=form.cleaned_data["meeting_url"],
        ),
    )


@require_POST
@staff_required(Permission.DECIDE)
def accept_requirements(request, number):
    """Approve the requirements; the citizen gets their link to book the call."""
    case = case_or_404(request, number)
    try:
        services.case_accept_requirements(case=case, actor=request.user)
    except IllegalTransition as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _(
                "Trámite %(number)s: requisitos aprobados; se envió al ciudadano el enlace para agendar."
            )
            % {"number": case.number},
        )
    return redirect("backoffice:case", number=case.number)


@staff_required(Permission.VIEW_DOCUMENTS)
@file_link_required(DOCUMENT, "document_id")
def document(request, number, document_id):
    """Serve one stored file to staff, as the copy without the metadata the citizen's device
    wrote (documents/viewing.py). Every view is audited; nothing is cached. A file the
    retention purge deleted is gone: 404 (the case page shows its hash instead)."""
    case = case_or_404(request, number)
    doc = Document.objects.filter(case=case, pk=document_id, purged_at__isnull=True).first()
    if doc is None:
        raise Http404
    if not document_scanned(doc):
        return _not_scanned(request, case, doc)
    audit_log(
        action="document.viewed",
        actor=request.user,
        case=case,
        obj=doc,
        new={"kind": doc.kind, "version": doc.version, "sha256": doc.sha256},
    )
    content, content_type = viewable_copy(doc)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(
        False, f"{case.number}-{doc.kind}-v{doc.version}{EXTENSIONS[doc.format]}"
    )
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self'; media-src 'self'; plugin-types application/pdf"
    )
    return response


@require_POST
@staff_required(Permission.DECIDE)
def checks_rerun(request, number):
    case = case_or_404(request, number)
    try:
        case_checks_request(case=case, actor=request.user)
    except ChecksRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"Trámite {case.number}: las verificaciones se ejecutarán de nuevo en unos segundos.",
        )
    return redirect("backoffice:case", number=case.number)


@staff_required(Permission.VIEW_DOCUMENTS)
@file_link_required(CHECK_ATTACHMENT, "attachment_id")
def check_attachment(request, number, attachment_id):
    """A face crop or other check evidence: biometric data, staff only, audited, never cached."""
    case = case_or_404(request, number)
    attachment = (
        CheckAttachment.objects.filter(result__case=case, pk=attachment_id)
        .select_related("result")
        .first()
    )
    if attachment is None:
        raise Http404
    audit_log(
        action="check_evidence.viewed",
        actor=request.user,
        case=case,
        obj=attachment,
        new={"check": attachment.result.name, "name": attachment.name},
    )
    response = FileResponse(attachment.file.open("rb"), content_type=attachment.content_type)
    response["Cache-Control"] = "no-store, private"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@staff_required(Permission.VIEW_REGISTRY)
def insured(request, id_number):
    person = insured_with_history(id_number=id_number)
    if person is None:
        raise Http404
    audit_log(action="registry.viewed", actor=request.user, obj=person)
    return render(
        request, "backoffice/insured.html", {"person": person, "changes": person.changes.all()}
    )
