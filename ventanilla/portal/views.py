"""The citizen's pages: start, the request form, confirmation, status and corrections."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ventanilla.cases import services
from ventanilla.cases.constants import CaseStatus
from ventanilla.cases.forms import correction_form_class
from ventanilla.cases.numbers import case_number_is_valid
from ventanilla.cases.selectors import (
    case_citizen_summary,
    case_for_citizen,
    case_for_citizen_session,
    case_withdraw_refusal,
    correction_summary,
)
from ventanilla.cases.statemachine import IllegalTransition
from ventanilla.documents.constants import DocumentKind
from ventanilla.documents.retention import check_evidence_days, retention_days
from ventanilla.ops import ratelimits

from .forms import StatusLookupForm, WithdrawForm


def start(request):
    return render(request, "portal/start.html")


# The video-call service named on the privacy notice, by MEETING_PROVIDER.
MEETING_SERVICES = {"jitsi": "Jitsi Meet", "google_meet": "Google Meet"}


def privacy(request):
    """The privacy notice (LOPDP art. 12): who processes the data, why, on what basis,
    which data, for how long (the configured periods), who receives it, and the rights."""
    days = retention_days()
    return render(
        request,
        "portal/privacy.html",
        {
            "id_document_days": days[DocumentKind.ID_FRONT],
            "selfie_days": days[DocumentKind.SELFIE],
            "video_days": days[DocumentKind.VIDEO],
            "request_form_days": days[DocumentKind.REQUEST_FORM],
            "check_evidence_days": check_evidence_days(),
            "draft_hours": settings.DRAFT_RETENTION_HOURS,
            "meeting_service": MEETING_SERVICES.get(settings.MEETING_PROVIDER, ""),
        },
    )


# The case numbers this browser looked up with number and ID number, newest last: only
# these can be withdrawn from this browser.
SESSION_LOOKED_UP_CASES = "ventanilla_looked_up_cases"
LOOKED_UP_CASES_KEPT = 5


def _remember_lookup(request, number: str) -> None:
    numbers = [n for n in request.session.get(SESSION_LOOKED_UP_CASES, []) if n != number]
    request.session[SESSION_LOOKED_UP_CASES] = [*numbers, number][-LOOKED_UP_CASES_KEPT:]


def _looked_up_case(request, number: str):
    return case_for_citizen_session(request.session.get(SESSION_LOOKED_UP_CASES, []), number)


@require_http_methods(["GET", "POST"])
@ratelimits.rate_limited(
    (ratelimits.LOOKUPS_PER_CLIENT, ratelimits.client_key),
    (ratelimits.LOOKUPS_PER_CASE, ratelimits.posted("number")),
    what=ratelimits.LOOKUP,
)
def status_lookup(request):
    form = StatusLookupForm(request.POST or None)
    case = None
    not_found = False
    if request.method == "POST" and form.is_valid():
        number = form.cleaned_data["number"]
        if not case_number_is_valid(number):
            form.add_error(
                "number",
                _(
                    "El número de trámite no es válido: revise cada carácter, incluido el "
                    "último (por ejemplo VV-2026-000123-K)."
                ),
            )
        else:
            case = case_for_citizen(number, form.cleaned_data["id_number"])
            not_found = case is None
    if case is not None:
        _remember_lookup(request, case.number)
    return render(
        request,
        "portal/status.html",
        {
            "form": form,
            "case": case,
            "summary": case_citizen_summary(case) if case is not None else None,
            "not_found": not_found,
        },
        status=404 if not_found else 200,
    )


@require_http_methods(["GET", "POST"])
@ratelimits.rate_limited(
    (ratelimits.CORRECTIONS_PER_CLIENT, ratelimits.client_key), what=ratelimits.CORRECTION
)
def correction(request, token):
    correction = services.correction_for_token(token)
    if correction is None:
        raise Http404
    form_class = correction_form_class(correction.items)
    form = form_class(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.case_submit_correction(
                correction=correction, uploads=form.uploads(), inspected=form.inspected
            )
        except IllegalTransition as exc:
            raise Http404 from exc
        return render(request, "portal/correction_done.html", {"case": case})
    return render(
        request,
        "portal/correction_form.html",
        {
            "form": form,
            "correction": correction,
            "case": correction.case,
            "summary": correction_summary(correction),
        },
        status=422 if form.errors else 200,
    )


def _not_looked_up(request):
    messages.error(
        request,
        _(
            "Para desistir de un trámite, primero consúltelo aquí con su número de trámite y su "
            "número de identificación."
        ),
    )
    return redirect("portal:status")


@require_http_methods(["GET", "POST"])
def withdraw(request, number):
    """Confirm and close (desistir) a case this browser looked up."""
    case = _looked_up_case(request, number)
    if case is None:
        return _not_looked_up(request)
    form = WithdrawForm(request.POST or None)
    refusal = case_withdraw_refusal(case)
    if request.method == "POST" and not refusal and form.is_valid():
        try:
            services.case_withdraw(case=case, reason=form.cleaned_data["reason"])
        except IllegalTransition:
            # Moved on since the page was shown (an analyst acted, another tab withdrew).
            case.refresh_from_db()
            refusal = case_withdraw_refusal(case) or _("Ya no se puede desistir de este trámite.")
        else:
            return redirect("portal:withdraw_done", number=case.number)
    return render(
        request,
        "portal/withdraw_confirm.html",
        {"case": case, "form": form, "refusal": refusal, "summary": case_citizen_summary(case)},
        status=409 if refusal else 422 if form.errors else 200,
    )


def withdraw_done(request, number):
    """The withdrawal went through: what it means and what the citizen can do now."""
    case = _looked_up_case(request, number)
    if case is None:
        return _not_looked_up(request)
    if case.status != CaseStatus.WITHDRAWN:
        return redirect("portal:withdraw", number=case.number)
    return render(request, "portal/withdraw_done.html", {"case": case})
