"""The guided request: one question group per page, check your answers, submit.

The browser's session holds the draft's random id; nothing else identifies it. A person
who leaves gets a single-use link by email to continue on any device.
"""

from django import forms
from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from ventanilla.audit.client import client_ip
from ventanilla.audit.services import CITIZEN, audit_log
from ventanilla.cases.forms import CaseSubmissionForm
from ventanilla.cases.statement import statement_for
from ventanilla.documents.constants import DocumentKind
from ventanilla.drafts import services
from ventanilla.drafts.models import DraftFile
from ventanilla.drafts.selectors import draft_for_browser
from ventanilla.ops import ratelimits

from .request_steps import ANSWER_STEPS, STEPS, STEPS_BY_SLUG, StepForm, upload_attrs
from .summary import request_summary

SESSION_DRAFT = "ventanilla_draft"
SESSION_LAST_CASE = "ventanilla_last_case"
REVIEW = "revision"


class DeclarationForm(forms.Form):
    declaration = forms.BooleanField(
        label=_(
            "Declaro que la información y los documentos que envío son verdaderos y míos, y "
            "autorizo al IESS a tratarlos para verificar mi identidad y actualizar mis datos "
            "de contacto."
        ),
        error_messages={"required": _("Marque la declaración para poder enviar su solicitud.")},
    )


class ResumeEmailForm(forms.Form):
    email = forms.EmailField(
        label=_("Correo electrónico"),
        help_text=_("Le enviaremos un enlace personal para continuar, válido una sola vez."),
        error_messages={
            "required": _("Ingrese el correo al que le enviaremos el enlace."),
            "invalid": _(
                "El correo electrónico no es válido; revise que tenga la forma nombre@dominio.com."
            ),
        },
    )


def _draft(request):
    return draft_for_browser(request.session.get(SESSION_DRAFT))


def _draft_id_number(request, **view_kwargs) -> str | None:
    """The ID number of the draft being sent, as the per-ID limit counts it."""
    draft = _draft(request)
    return ratelimits.private_key(draft.answers.get("id_number")) if draft else None


def _keep(request, draft) -> None:
    request.session[SESSION_DRAFT] = str(draft.public_id)


def _next_url(step_index: int, back_to_review: bool) -> str:
    if back_to_review or step_index + 1 >= len(STEPS):
        return reverse("portal:request_review")
    return reverse("portal:request_step", args=[STEPS[step_index + 1].slug])


def _missing_answer_steps(draft) -> list:
    done = set(draft.completed_steps) if draft else set()
    return [STEPS_BY_SLUG[slug] for slug in ANSWER_STEPS if slug not in done]


def case_new(request):
    """The old address of the one-page form: the guided request starts here now."""
    return redirect("portal:request_step", STEPS[0].slug)


@never_cache
@require_http_methods(["GET", "POST"])
def request_step(request, slug: str):
    step = STEPS_BY_SLUG.get(slug)
    if step is None:
        raise Http404
    index = STEPS.index(step)
    draft = _draft(request)
    if draft is None and index > 0:
        # Sessions end: say so instead of showing an empty page deep in the flow.
        return render(request, "portal/request/no_draft.html", status=410)
    stored = services.draft_stored_inspections(draft) if draft else {}
    back_to_review = request.GET.get("volver") == REVIEW
    if request.method == "POST":
        form = StepForm(request.POST, request.FILES, step=step, stored=stored)
        valid = form.is_valid()
        saving = request.POST.get("action") == "save"
        # A file that passed is kept even when something else on the page did not.
        accepted = {k: u for k, u in form.uploads().items() if k not in form.errors}
        if valid or saving or accepted:
            if draft is None:
                draft = services.draft_start()
                _keep(request, draft)
            if valid or saving:
                draft = services.draft_save_answers(
                    draft=draft, step=step.slug, answers=form.answers(), complete=valid
                )
            for kind, upload in accepted.items():
                services.draft_file_store(
                    draft=draft,
                    kind=kind,
                    upload=upload,
                    inspected=form.inspected[kind],
                    conversion=form.conversions.get(kind, {}),
                )
        if saving:
            return redirect("portal:request_save")
        if valid:
            if step.slug == "video" and form.conversions.get(DocumentKind.VIDEO):
                # A converted recording is shown before going on: "what will be sent".
                return redirect(reverse("portal:request_step", args=["video"]) + "?convertido=1")
            return redirect(_next_url(index, back_to_review))
    else:
        form = StepForm(initial=draft.answers if draft else {}, step=step, stored=stored)
    context = {
        "step": step,
        "step_number": index + 1,
        "step_count": len(STEPS) + 1,
        "steps": STEPS,
        "form": form,
        "draft": draft,
        "files": {f.kind: f for f in DraftFile.objects.filter(draft=draft)} if draft else {},
        "upload_attrs": {
            kind: upload_attrs(kind, settings.VIDEO_CONVERSION_MAX_BYTES)
            for kind in step.file_fields
        },
        "back_url": (
            reverse("portal:request_step", args=[STEPS[index - 1].slug]) if index else None
        ),
        "back_to_review": back_to_review,
        "converted": request.GET.get("convertido") == "1",
    }
    missing = _missing_answer_steps(draft)
    if step.slug in ("solicitud", "video"):
        context["missing_steps"] = missing
        if not missing:
            context["statement"] = statement_for(_cleaned_answers(draft))
    return render(request, step.template, context, status=422 if form.errors else 200)


@never_cache
@require_http_methods(["GET", "POST"])
@ratelimits.rate_limited(
    (ratelimits.SUBMISSIONS_PER_CLIENT, ratelimits.client_key),
    (ratelimits.SUBMISSIONS_PER_ID, _draft_id_number),
    what=ratelimits.SUBMISSION,
)
def request_review(request):
    draft = _draft(request)
    if draft is None:
        return render(request, "portal/request/no_draft.html", status=410)
    form = DeclarationForm(request.POST if request.method == "POST" else None)
    problems = {}
    if request.method == "POST" and form.is_valid():
        try:
            case = services.draft_submit(draft=draft, client_address=client_ip(request))
        except services.DraftIncomplete as exc:
            problems = exc.errors
        else:
            request.session.pop(SESSION_DRAFT, None)
            # The number is shown from the session, never from the address bar.
            request.session[SESSION_LAST_CASE] = {"number": case.number, "email": case.email}
            return redirect("portal:case_received")
    summary = request_summary(draft, problems)
    return render(
        request,
        "portal/request/review.html",
        {
            "form": form,
            "draft": draft,
            "summary": summary,
            "incomplete": [s for s in summary if s["problems"]],
            "step_count": len(STEPS) + 1,
        },
        status=422 if (form.errors or problems) else 200,
    )


@never_cache
@require_http_methods(["GET", "POST"])
@ratelimits.rate_limited(
    (ratelimits.EMAILS_PER_CLIENT, ratelimits.client_key),
    (ratelimits.EMAILS_PER_ADDRESS, ratelimits.posted("email")),
    what=ratelimits.EMAIL,
)
def request_save(request):
    """Save and continue later: a single-use link by email."""
    draft = _draft(request)
    if draft is None:
        return render(request, "portal/request/no_draft.html", status=410)
    form = ResumeEmailForm(
        request.POST if request.method == "POST" else None, initial={"email": draft.email}
    )
    if request.method == "POST" and form.is_valid():
        services.draft_send_resume_link(draft=draft, email=form.cleaned_data["email"])
        draft.refresh_from_db()
        # This browser lets go of the draft: only the link brings it back.
        request.session.pop(SESSION_DRAFT, None)
        return render(
            request,
            "portal/request/saved.html",
            {"email": draft.email, "hours": settings.DRAFT_RETENTION_HOURS},
        )
    return render(
        request,
        "portal/request/save.html",
        {"form": form, "hours": settings.DRAFT_RETENTION_HOURS},
        status=422 if form.errors else 200,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def request_resume(request, token: str):
    """The link from the email. A GET only asks for a click, so that a mail scanner that
    opens links does not use up the single-use link."""
    if request.method == "POST":
        draft = services.draft_resume(token=token)
        if draft is None:
            return render(request, "portal/request/resume_invalid.html", status=404)
        _keep(request, draft)
        missing = [s for s in STEPS if s.slug not in draft.completed_steps]
        if not missing:
            return redirect("portal:request_review")
        return redirect("portal:request_step", missing[0].slug)
    return render(request, "portal/request/resume.html")


@never_cache
@require_GET
def request_file(request, kind: str):
    """A kept file, to this browser only, for the person to see what will be sent. Every
    view is audited, like staff views of the case's files."""
    draft = _draft(request)
    if draft is None or kind not in DocumentKind.values:
        raise Http404
    draft_file = draft.files.filter(kind=kind).first()
    if draft_file is None:
        raise Http404
    audit_log(
        action="draft_file.viewed",
        actor=CITIZEN,
        obj=draft_file,
        new={"kind": draft_file.kind, "draft": draft.pk, "sha256": draft_file.sha256},
    )
    response = FileResponse(
        draft_file.file.open("rb"), content_type=draft_file.content_type, as_attachment=False
    )
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store, private"
    return response


@never_cache
@require_GET
def request_form_download(request):
    """The request form filled in with the person's answers, to sign and upload."""
    draft = _draft(request)
    if draft is None:
        return render(request, "portal/request/no_draft.html", status=410)
    if _missing_answer_steps(draft):
        return redirect("portal:request_step", "solicitud")
    # Imported here: reportlab and pyHanko cost the web processes ~13 MB, for a page that
    # one citizen in a case opens once.
    from ventanilla.documents.request_form import request_form_pdf

    values = _cleaned_answers(draft)
    pdf = request_form_pdf(values)
    audit_log(
        action="request_form.downloaded",
        actor=CITIZEN,
        obj=draft,
        new={"kind": DocumentKind.REQUEST_FORM.value, "draft": draft.pk},
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="solicitud-actualizacion-datos.pdf"'
    response["Cache-Control"] = "no-store, private"
    return response


def _cleaned_answers(draft) -> dict:
    """The answers as the intake form reads them (dates, ISO codes), files aside."""
    form = CaseSubmissionForm(data=draft.answers)
    form.is_valid()
    return {**draft.answers, **form.cleaned_data}


def case_received(request):
    last = request.session.get(SESSION_LAST_CASE)
    if not last:
        return redirect("portal:start")
    return render(request, "portal/case_received.html", last)
