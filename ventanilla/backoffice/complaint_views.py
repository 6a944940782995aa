"""Complaints at /gestion/quejas/: the list by deadline (overdue first), one complaint with
its linked case and history, and the actions "Tomar", "Asignar" (supervisors) and the
answer, which is emailed to the person. Analysts and supervisors handle complaints,
auditors read them. Every page is audited and none is cached: they show personal data."""

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from ventanilla.audit.selectors import action_label
from ventanilla.audit.services import audit_log
from ventanilla.cases.validators import free_text_clean
from ventanilla.complaints.constants import RESPONSE_WORKING_DAYS
from ventanilla.complaints.selectors import (
    complaint_answer_time,
    complaint_for_staff,
    complaint_handlers,
    complaint_history,
    complaint_rows,
)
from ventanilla.complaints.services import complaint_answer, complaint_assign, complaint_take
from ventanilla.staff.decorators import staff_required
from ventanilla.staff.roles import Permission, can
from ventanilla.workdays.selectors import working_days_left


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=gettext_lazy("Respuesta"),
        max_length=6000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy(
            "Se envía tal cual por correo a la persona: qué se revisó, qué se hizo y qué puede "
            "hacer ahora."
        ),
        error_messages={
            "required": gettext_lazy(
                "Escriba la respuesta: es lo que recibirá la persona por correo."
            ),
            "max_length": gettext_lazy(
                "La respuesta puede tener hasta %(limit_value)d caracteres; tiene %(show_value)d."
            ),
        },
    )

    def clean_answer(self) -> str:
        return free_text_clean(self.cleaned_data["answer"]).strip()


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=gettext_lazy("Asignar a"),
        queryset=get_user_model().objects.none(),
        error_messages={
            "required": gettext_lazy("Elija a quién asignar la queja."),
            "invalid_choice": gettext_lazy(
                "Esa persona no atiende quejas o ya no está activa: elija otra de la lista."
            ),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = complaint_handlers()
        self.fields["assignee"].label_from_instance = lambda user: user.get_username()


def _complaint_or_404(complaint_number: str):
    complaint = complaint_for_staff(complaint_number)
    if complaint is None:
        raise Http404
    return complaint


@never_cache
@staff_required(Permission.VIEW_COMPLAINTS)
def complaints(request):
    audit_log(action="complaint.list_viewed", actor=request.user)
    return render(
        request,
        "backoffice/complaints/list.html",
        {"rows": complaint_rows(), "working_days": RESPONSE_WORKING_DAYS},
    )


def _detail(request, complaint, *, answer_form=None, assign_form=None, status=200):
    now = timezone.now()
    user = request.user
    may_handle = can(user, Permission.HANDLE_COMPLAINTS)
    someone_elses = complaint.assigned_to_id not in (None, user.pk)
    # Another person's complaint: only a supervisor (who assigns) may step in.
    may_act = (
        may_handle and complaint.is_open and (not someone_elses or can(user, Permission.ASSIGN))
    )
    return render(
        request,
        "backoffice/complaints/detail.html",
        {
            "complaint": complaint,
            "overdue": complaint.is_open and complaint.due_at < now,
            "days_left": working_days_left(now, complaint.due_at) if complaint.is_open else None,
            "answer_time": complaint_answer_time(complaint),
            "history": [
                {"event": event, "label": action_label(event.action)}
                for event in complaint_history(complaint)
            ],
            "may_take": may_act and complaint.assigned_to_id != user.pk,
            "may_answer": may_act,
            "may_assign": may_act and can(user, Permission.ASSIGN),
            "may_view_case": complaint.case_id is not None and can(user, Permission.VIEW_CASES),
            "answer_form": answer_form or AnswerForm(),
            "assign_form": assign_form or AssignForm(),
            "working_days": RESPONSE_WORKING_DAYS,
        },
        status=status,
    )


@never_cache
@staff_required(Permission.VIEW_COMPLAINTS)
def complaint(request, complaint_number):
    complaint = _complaint_or_404(complaint_number)
    audit_log(action="complaint.viewed", actor=request.user, case=complaint.case, obj=complaint)
    return _detail(request, complaint)


def _refused(request, complaint, exc: ValidationError):
    messages.error(request, " ".join(exc.messages))
    return redirect("backoffice:complaint", complaint_number=complaint.number)


@require_POST
@never_cache
@staff_required(Permission.HANDLE_COMPLAINTS)
def complaint_take_view(request, complaint_number):
    complaint = _complaint_or_404(complaint_number)
    try:
        complaint_take(complaint=complaint, actor=request.user)
    except ValidationError as exc:
        return _refused(request, complaint, exc)
    messages.success(request, _("Usted atiende esta queja."))
    return redirect("backoffice:complaint", complaint_number=complaint.number)


@require_POST
@never_cache
@staff_required(Permission.ASSIGN)
def complaint_assign_view(request, complaint_number):
    if not can(request.user, Permission.HANDLE_COMPLAINTS):
        raise PermissionDenied
    complaint = _complaint_or_404(complaint_number)
    form = AssignForm(request.POST)
    if not form.is_valid():
        return _detail(request, complaint, assign_form=form, status=400)
    assignee = form.cleaned_data["assignee"]
    try:
        complaint_assign(complaint=complaint, actor=request.user, assignee=assignee)
    except ValidationError as exc:
        return _refused(request, complaint, exc)
    messages.success(request, _("Queja asignada a %(user)s.") % {"user": assignee.get_username()})
    return redirect("backoffice:complaint", complaint_number=complaint.number)


@require_POST
@never_cache
@staff_required(Permission.HANDLE_COMPLAINTS)
def complaint_answer_view(request, complaint_number):
    complaint = _complaint_or_404(complaint_number)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        return _detail(request, complaint, answer_form=form, status=400)
    try:
        complaint_answer(
            complaint=complaint, actor=request.user, answer=form.cleaned_data["answer"]
        )
    except ValidationError as exc:
        return _refused(request, complaint, exc)
    messages.success(request, _("Respuesta enviada por correo a la persona."))
    return redirect("backoffice:complaint", complaint_number=complaint.number)
