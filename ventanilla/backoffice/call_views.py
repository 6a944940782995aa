"""The analyst's screen for the identity video call: when it is (Ecuador and the
citizen's time), the meeting link, the evidence side by side, the identity questions
with their expected answers, and the outcome (validated, not validated, no-show)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ventanilla.appointments.models import Appointment
from ventanilla.audit.services import audit_log
from ventanilla.cases import services
from ventanilla.cases.constants import CaseStatus
from ventanilla.cases.statemachine import IllegalTransition
from ventanilla.checks.constants import CheckName
from ventanilla.checks.selectors import checks_for_case
from ventanilla.documents.constants import DocumentKind
from ventanilla.registry.selectors import insured_find
from ventanilla.review import selectors as review_selectors
from ventanilla.review.constants import CallResult
from ventanilla.review.forms import CallRecordForm
from ventanilla.staff.decorators import staff_required
from ventanilla.staff.roles import Permission, can

from .views import case_or_404, evidence_panels

# The evidence the analyst holds up against the face on the call.
CALL_PANELS = (DocumentKind.ID_FRONT, DocumentKind.SELFIE, "video_still")


def _evidence(request, case) -> list[dict]:
    """The case page's panels (same URLs, same audited file views), the ID's front, the
    selfie and the video still only."""
    current = {doc.kind: doc for doc in case.documents.all() if doc.is_current}
    face_match = next((r for r in checks_for_case(case) if r.name == CheckName.FACE_MATCH), None)
    crops = {a.name: a for a in face_match.attachments.all()} if face_match else {}
    return [
        panel
        for panel in evidence_panels(request, case, current, crops)
        if panel["kind"] in CALL_PANELS
    ]


def _call_page(request, case, *, form=None, status=200):
    appointments = list(case.appointments.all())
    appointment = next(
        (a for a in appointments if a.status == Appointment.Status.SCHEDULED),
        appointments[0] if appointments else None,
    )
    questions = review_selectors.call_questions(case)
    may_decide = can(request.user, Permission.DECIDE)
    can_record = (
        may_decide
        and case.status == CaseStatus.CALL_SCHEDULED
        and appointment is not None
        and appointment.status == Appointment.Status.SCHEDULED
    )
    person = case.insured or insured_find(id_type=case.id_type, id_number=case.id_number)
    form = form or CallRecordForm(questions=questions, prefix="call")
    context = {
        "case": case,
        "appointment": appointment,
        "missed_calls": sum(a.status == Appointment.Status.NO_SHOW for a in appointments),
        "panels": _evidence(request, case),
        "form": form,
        "question_rows": form.rows(),
        "questions_differ": any(row["differs"] for row in questions),
        "verifications": review_selectors.call_verifications(case),
        "may_decide": may_decide,
        "can_record": can_record,
        "person_frozen": person is not None and person.is_frozen,
    }
    return render(request, "backoffice/call.html", context, status=status)


@staff_required(Permission.VIEW_CASES)
def call(request, number):
    case = case_or_404(request, number)
    # The page shows the fingerprint code and dates that answer the identity questions.
    audit_log(action="call_screen.viewed", actor=request.user, case=case, obj=case)
    return _call_page(request, case)


@require_POST
@staff_required(Permission.DECIDE)
def call_record(request, number):
    """Record the call's outcome with the analyst's answers to the identity questions."""
    case = case_or_404(request, number)
    form = CallRecordForm(
        request.POST, questions=review_selectors.call_questions(case), prefix="call"
    )
    if not form.is_valid():
        messages.error(request, _("No se registró el resultado: revise los campos marcados."))
        return _call_page(request, case, form=form, status=400)
    outcome = form.cleaned_data["outcome"]
    notes = form.cleaned_data["notes"]
    try:
        if outcome == CallResult.NO_SHOW:
            services.case_record_no_show(case=case, actor=request.user, notes=notes)
        else:
            services.case_record_call_outcome(
                case=case,
                actor=request.user,
                identity_validated=outcome == CallResult.VALIDATED,
                notes=notes,
                answers=form.answers(),
            )
    except IllegalTransition as exc:
        messages.error(request, str(exc))
        return redirect("backoffice:call", number=case.number)
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and "notes" in exc.error_dict:
            form.add_error("notes", exc.error_dict["notes"])
        messages.error(request, " ".join(exc.messages))
        case.refresh_from_db()
        return _call_page(request, case, form=form, status=400)
    case.refresh_from_db()
    messages.success(request, f"Trámite {case.number}: {case.get_status_display()}.")
    return redirect("backoffice:case", number=case.number)
