"""The analysts' back-office: the queue, the case page and the decisions."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ventanilla.audit.services import audit_log
from ventanilla.cases import services
from ventanilla.cases.constants import CaseStatus
from ventanilla.cases.selectors import case_for_staff, case_queue
from ventanilla.cases.statemachine import IllegalTransition, can_transition
from ventanilla.checks.models import CheckAttachment
from ventanilla.checks.selectors import check_run_latest, checks_for_case
from ventanilla.checks.services import ChecksRefused, case_checks_request
from ventanilla.documents.models import Document
from ventanilla.documents.services import document_open
from ventanilla.registry.selectors import insured_with_history
from ventanilla.staff.decorators import staff_required
from ventanilla.staff.roles import Permission, can
from ventanilla.workdays.selectors import non_working_dates, working_days_left

from .forms import CallOutcomeActionForm, CorrectionActionForm, InviteActionForm, RejectActionForm


class LoginView(auth_views.LoginView):
    template_name = "backoffice/login.html"
    redirect_authenticated_user = True


def _case_or_404(request, number):
    case = case_for_staff(request.user, number)
    if case is None:
        raise Http404
    return case


@staff_required(Permission.VIEW_CASES)
def queue(request):
    status = request.GET.get("estado") or None
    cases = list(case_queue(status=status)[:200])
    now = timezone.now()
    due_dates = [c.review_due_at for c in cases if c.review_clock_running]
    closed = non_working_dates(timezone.localdate(), max(due_dates).date()) if due_dates else set()
    # The 3-working-day clock only matters while the requirements await review.
    rows = [
        {
            "case": case,
            "days_left": (
                working_days_left(now, case.review_due_at, closed)
                if case.review_clock_running
                else None
            ),
            "hours_left": (
                round((case.review_due_at - now).total_seconds() / 3600)
                if case.review_clock_running
                else None
            ),
            "overdue": case.review_clock_running and case.review_due_at < now,
        }
        for case in cases
    ]
    return render(
        request,
        "backoffice/queue.html",
        {"rows": rows, "statuses": CaseStatus.choices, "status": status},
    )


@staff_required(Permission.VIEW_CASES)
def case_detail(request, number):
    case = _case_or_404(request, number)
    audit_log(action="case.viewed", actor=request.user, case=case, obj=case)
    may_decide = can(request.user, Permission.DECIDE)
    context = {
        "case": case,
        "documents": case.documents.all(),
        "checks": checks_for_case(case),
        "check_run": check_run_latest(case),
        "emails": case.emails.all(),
        "transitions": case.transitions.all(),
        "corrections": case.corrections.all(),
        "appointments": case.appointments.all(),
        "may_decide": may_decide,
        "can_review": may_decide and can_transition(case, CaseStatus.CORRECTION_REQUESTED),
        "can_record_call": may_decide and case.status == CaseStatus.CALL_SCHEDULED,
        "correction_form": CorrectionActionForm(prefix="correction"),
        "reject_form": RejectActionForm(prefix="reject"),
        "invite_form": InviteActionForm(prefix="invite"),
        "outcome_form": CallOutcomeActionForm(prefix="outcome"),
    }
    return render(request, "backoffice/case_detail.html", context)


def _decide(request, number, form_class, prefix, run):
    case = _case_or_404(request, number)
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
def call_outcome(request, number):
    return _decide(
        request,
        number,
        CallOutcomeActionForm,
        "outcome",
        lambda case, form: services.case_record_call_outcome(
            case=case, actor=request.user, **form.cleaned_data
        ),
    )


@staff_required(Permission.VIEW_DOCUMENTS)
def document(request, number, document_id):
    """Serve one stored file to staff. Every view is audited; nothing is cached."""
    case = _case_or_404(request, number)
    doc = Document.objects.filter(case=case, pk=document_id).first()
    if doc is None:
        raise Http404
    audit_log(
        action="document.viewed",
        actor=request.user,
        case=case,
        obj=doc,
        new={"kind": doc.kind, "version": doc.version, "sha256": doc.sha256},
    )
    response = FileResponse(
        document_open(doc),
        content_type=doc.content_type,
        as_attachment=False,
        filename=f"{case.number}-{doc.kind}-v{doc.version}{doc.file.name[doc.file.name.rfind('.') :]}",
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
    case = _case_or_404(request, number)
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
def check_attachment(request, number, attachment_id):
    """A face crop or other check evidence: biometric data, staff only, audited, never cached."""
    case = _case_or_404(request, number)
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
