"""The citizen's pages: start, the request form, confirmation, status and corrections."""

from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from ventanilla.cases import services
from ventanilla.cases.forms import CaseSubmissionForm, correction_form_class
from ventanilla.cases.numbers import case_number_is_valid
from ventanilla.cases.selectors import case_for_citizen
from ventanilla.cases.statemachine import IllegalTransition
from ventanilla.documents.constants import DocumentKind

from .forms import StatusLookupForm

SESSION_LAST_CASE = "ventanilla_last_case"


def start(request):
    return render(request, "portal/start.html")


@require_http_methods(["GET", "POST"])
def case_new(request):
    form = CaseSubmissionForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        case = services.case_submit(
            fields=form.case_fields(),
            uploads=form.uploads(),
            inspected=form.inspected,
            client_address=request.META.get("REMOTE_ADDR"),
        )
        # The number is shown from the session, never from the address bar.
        request.session[SESSION_LAST_CASE] = {"number": case.number, "email": case.email}
        return redirect("portal:case_received")
    return render(
        request, "portal/case_form.html", {"form": form}, status=422 if form.errors else 200
    )


def case_received(request):
    last = request.session.get(SESSION_LAST_CASE)
    if not last:
        return redirect("portal:start")
    return render(request, "portal/case_received.html", last)


@require_http_methods(["GET", "POST"])
def status_lookup(request):
    form = StatusLookupForm(request.POST or None)
    case = None
    not_found = False
    if request.method == "POST" and form.is_valid():
        number = form.cleaned_data["number"]
        if not case_number_is_valid(number):
            form.add_error(
                "number",
                "El número de trámite no es válido: revise cada carácter, incluido el último "
                "(por ejemplo VV-2026-000123-K).",
            )
        else:
            case = case_for_citizen(number, form.cleaned_data["id_number"])
            not_found = case is None
    return render(
        request,
        "portal/status.html",
        {"form": form, "case": case, "not_found": not_found},
        status=404 if not_found else 200,
    )


@require_http_methods(["GET", "POST"])
def correction(request, token):
    correction = services.correction_for_token(token)
    if correction is None:
        raise Http404
    form_class = correction_form_class(correction.items)
    form = form_class(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.case_submit_correction(
                correction=correction, uploads=form.uploads(), inspected=form.inspected
            )
        except IllegalTransition as exc:
            raise Http404 from exc
        return render(request, "portal/correction_done.html", {"case": correction.case})
    return render(
        request,
        "portal/correction_form.html",
        {
            "form": form,
            "correction": correction,
            "case": correction.case,
            "items": [DocumentKind(i).label for i in correction.items],
        },
        status=422 if form.errors else 200,
    )
