"""Data-subject requests (LOPDP arts. 13-17) at /gestion/derechos/: the list with each
deadline, registering a request, and on its page the download of everything held about
the person, "answered" and "refused with a reason". Supervisors handle them; auditors
see them. Every page is audited and none is cached: they show personal data."""

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from ventanilla.audit.services import audit_log
from ventanilla.cases.constants import IdType
from ventanilla.privacy.constants import (
    EXPORT_KINDS,
    RESPONSE_WORKING_DAYS,
    RequestChannel,
    RequestKind,
    RequestStatus,
)
from ventanilla.privacy.selectors import (
    data_request_for_staff,
    data_request_rows,
    open_fraud_reviews_of,
)
from ventanilla.privacy.services import (
    data_request_answer,
    data_request_due_at,
    data_request_export,
    data_request_refuse,
    data_request_register,
)
from ventanilla.staff.decorators import staff_required
from ventanilla.staff.roles import Permission, can
from ventanilla.workdays.selectors import ECUADOR, working_days_left


class DataRequestForm(forms.Form):
    id_type = forms.ChoiceField(
        label=gettext_lazy("Tipo de identificación"),
        choices=IdType.choices,
        error_messages={"required": gettext_lazy("Elija el tipo de identificación del titular.")},
    )
    id_number = forms.CharField(
        label=gettext_lazy("Número de identificación"),
        max_length=20,
        error_messages={
            "required": gettext_lazy("Escriba el número de identificación del titular.")
        },
    )
    full_name = forms.CharField(
        label=gettext_lazy("Nombres y apellidos del titular"),
        max_length=240,
        error_messages={
            "required": gettext_lazy("Escriba el nombre del titular como consta en su solicitud.")
        },
    )
    contact_email = forms.EmailField(
        label=gettext_lazy("Correo de contacto"),
        required=False,
        help_text=gettext_lazy("Dónde responder, si la persona lo indicó."),
        error_messages={
            "invalid": gettext_lazy("Escriba un correo válido, por ejemplo nombre@ejemplo.com.")
        },
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Derecho que ejerce"),
        choices=RequestKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Elija qué derecho ejerce la persona.")},
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("Recibida por"),
        choices=RequestChannel.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Elija por qué medio llegó la solicitud.")},
    )
    received_on = forms.DateField(
        label=gettext_lazy("Fecha de recepción"),
        help_text=gettext_lazy(
            "AAAA-MM-DD, el día en que llegó la solicitud (no el de hoy, si se registra después)."
        ),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": gettext_lazy("Escriba la fecha en que llegó la solicitud."),
            "invalid": gettext_lazy("Escriba la fecha como AAAA-MM-DD, por ejemplo 2026-03-05."),
        },
    )
    notes = forms.CharField(
        label=gettext_lazy("Notas"),
        required=False,
        help_text=gettext_lazy("Qué pide exactamente la persona (por ejemplo, qué dato corregir)."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def received_at(self) -> dt.datetime:
        """The day it arrived; today means now, an earlier day its start in Ecuador."""
        day = self.cleaned_data["received_on"]
        now = timezone.now()
        if day == now.astimezone(ECUADOR).date():
            return now
        return dt.datetime.combine(day, dt.time.min, tzinfo=ECUADOR)


class CloseForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


def _answer_form(data=None) -> CloseForm:
    form = CloseForm(data, prefix="answer")
    form.fields["text"].label = _("Cómo se atendió")
    form.fields["text"].help_text = _(
        "Qué se entregó o qué se cambió, y por qué medio (por ejemplo: ZIP entregado por "
        "correo cifrado; teléfono corregido en el registro)."
    )
    form.fields["text"].error_messages["required"] = _(
        "Escriba cómo se atendió la solicitud: qué se entregó o qué se cambió, y por qué medio."
    )
    return form


def _refuse_form(data=None) -> CloseForm:
    form = CloseForm(data, prefix="refuse")
    form.fields["text"].label = _("Motivo del rechazo")
    form.fields["text"].help_text = _(
        "Se comunica al titular; indique su base legal (LOPDP art. 18)."
    )
    form.fields["text"].error_messages["required"] = _(
        "Escriba el motivo del rechazo: se comunica al titular y debe tener base legal."
    )
    return form


def _request_or_404(request_id: int):
    data_request = data_request_for_staff(request_id)
    if data_request is None:
        raise Http404
    return data_request


@never_cache
@staff_required(Permission.VIEW_DATA_REQUESTS)
def data_requests(request):
    audit_log(action="privacy.requests_viewed", actor=request.user)
    return render(
        request,
        "backoffice/privacy/list.html",
        {
            "rows": data_request_rows(),
            "may_handle": can(request.user, Permission.HANDLE_DATA_REQUESTS),
            "working_days": RESPONSE_WORKING_DAYS,
        },
    )


@never_cache
@staff_required(Permission.HANDLE_DATA_REQUESTS)
def data_request_new(request):
    form = DataRequestForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                created = data_request_register(
                    actor=request.user,
                    id_type=data["id_type"],
                    id_number=data["id_number"],
                    full_name=data["full_name"],
                    contact_email=data["contact_email"],
                    kind=data["kind"],
                    channel=data["channel"],
                    received_at=form.received_at(),
                    notes=data["notes"],
                )
            except ValidationError as exc:
                field = (
                    "id_number"
                    if exc.code in {"length", "format", "component", "checksum"}
                    else None
                )
                form.add_error(field, exc)
            else:
                messages.success(
                    request,
                    _("Solicitud registrada. Plazo: %(due)s.")
                    % {"due": created.due_at.astimezone(ECUADOR).strftime("%Y-%m-%d")},
                )
                return redirect("backoffice:data_request", request_id=created.pk)
        status = 400
    else:
        form.initial["received_on"] = timezone.now().astimezone(ECUADOR).date()
        status = 200
    return render(
        request,
        "backoffice/privacy/new.html",
        {
            "form": form,
            "working_days": RESPONSE_WORKING_DAYS,
            "due_if_today": data_request_due_at(timezone.now()),
        },
        status=status,
    )


def _detail(request, data_request, *, answer_form=None, refuse_form=None, status=200):
    now = timezone.now()
    return render(
        request,
        "backoffice/privacy/detail.html",
        {
            "data_request": data_request,
            "overdue": data_request.is_open and data_request.due_at < now,
            "days_left": working_days_left(now, data_request.due_at)
            if data_request.is_open
            else None,
            "late": data_request.answered_at is not None
            and data_request.answered_at > data_request.due_at,
            "may_handle": can(request.user, Permission.HANDLE_DATA_REQUESTS),
            "may_export": data_request.kind in EXPORT_KINDS
            and data_request.status != RequestStatus.REFUSED,
            "open_fraud_reviews": open_fraud_reviews_of(
                id_type=data_request.id_type, id_number=data_request.id_number
            ),
            "answer_form": answer_form or _answer_form(),
            "refuse_form": refuse_form or _refuse_form(),
            "working_days": RESPONSE_WORKING_DAYS,
        },
        status=status,
    )


@never_cache
@staff_required(Permission.VIEW_DATA_REQUESTS)
def data_request(request, request_id):
    data_request = _request_or_404(request_id)
    audit_log(action="privacy.request_viewed", actor=request.user, obj=data_request)
    return _detail(request, data_request)


@require_POST
@never_cache
@staff_required(Permission.HANDLE_DATA_REQUESTS)
def data_request_download(request, request_id):
    """The ZIP of everything held about the person. Built on the spot, audited (files,
    SHA-256), never cached."""
    data_request = _request_or_404(request_id)
    try:
        export = data_request_export(request=data_request, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("backoffice:data_request", request_id=data_request.pk)
    response = FileResponse(
        export.file,
        as_attachment=True,
        filename=export.filename,
        content_type="application/zip",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Export-SHA256"] = export.sha256
    return response


@require_POST
@never_cache
@staff_required(Permission.HANDLE_DATA_REQUESTS)
def data_request_answer_view(request, request_id):
    data_request = _request_or_404(request_id)
    form = _answer_form(request.POST)
    if form.is_valid():
        try:
            data_request_answer(
                request=data_request, actor=request.user, resolution=form.cleaned_data["text"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Solicitud marcada como atendida."))
        return redirect("backoffice:data_request", request_id=data_request.pk)
    return _detail(request, data_request, answer_form=form, status=400)


@require_POST
@never_cache
@staff_required(Permission.HANDLE_DATA_REQUESTS)
def data_request_refuse_view(request, request_id):
    data_request = _request_or_404(request_id)
    form = _refuse_form(request.POST)
    if form.is_valid():
        try:
            data_request_refuse(
                request=data_request, actor=request.user, reason=form.cleaned_data["text"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Solicitud rechazada; comunique el motivo al titular."))
        return redirect("backoffice:data_request", request_id=data_request.pk)
    return _detail(request, data_request, refuse_form=form, status=400)
