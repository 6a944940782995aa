"""The call slots page: an analyst publishes the times they offer for identity video
calls (Ecuador time) and sees their slots of the next four weeks, booked ones with the
case number; a supervisor does the same for any analyst. The rules live in
ventanilla/appointments/services.py (slots_publish, slot_withdraw)."""

import datetime as dt

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from ventanilla.appointments import selectors, services
from ventanilla.appointments.models import CallSlot
from ventanilla.staff.decorators import staff_required
from ventanilla.staff.roles import Permission, can, users_with
from ventanilla.workdays.selectors import ECUADOR

ANALYST_PARAM = "analista"


class SlotsPublishForm(forms.Form):
    analyst = forms.ModelChoiceField(label=gettext_lazy("Analista"), queryset=None, required=False)
    first_day = forms.DateField(
        label=gettext_lazy("Desde el día"), widget=forms.DateInput(attrs={"type": "date"})
    )
    last_day = forms.DateField(
        label=gettext_lazy("Hasta el día"), widget=forms.DateInput(attrs={"type": "date"})
    )
    start_time = forms.TimeField(
        label=gettext_lazy("Desde las (hora de Ecuador)"),
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    end_time = forms.TimeField(
        label=gettext_lazy("Hasta las (hora de Ecuador)"),
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    minutes = forms.IntegerField(
        label=gettext_lazy("Duración de cada videollamada (minutos)"),
        min_value=services.SLOT_MINUTES_MIN,
        max_value=services.SLOT_MINUTES_MAX,
    )

    def __init__(self, *args, may_choose_analyst: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["analyst"].queryset = users_with(Permission.TAKE_CASES)
        self.fields["analyst"].label_from_instance = lambda u: u.get_full_name() or u.username
        if may_choose_analyst:
            self.fields["analyst"].required = True
        else:
            del self.fields["analyst"]


def _may_use(user) -> bool:
    return can(user, Permission.TAKE_CASES) or can(user, Permission.ASSIGN)


def _analyst_shown(request, form_analyst=None):
    """Whose slots the page lists: one's own, or (supervisors) the analyst chosen."""
    if not can(request.user, Permission.ASSIGN):
        return request.user
    if form_analyst is not None:
        return form_analyst
    analysts = users_with(Permission.TAKE_CASES)
    wanted = request.GET.get(ANALYST_PARAM, "")
    chosen = analysts.filter(pk=wanted).first() if wanted.isdigit() else None
    return (
        chosen
        or (request.user if can(request.user, Permission.TAKE_CASES) else None)
        or (analysts.first())
    )


def _page(request, *, form, analyst, status=200):
    return render(
        request,
        "backoffice/slots.html",
        {
            "form": form,
            "analyst": analyst,
            "slots": selectors.analyst_slots(analyst) if analyst else [],
            "may_choose_analyst": can(request.user, Permission.ASSIGN),
            "analysts": users_with(Permission.TAKE_CASES),
            "analyst_param": ANALYST_PARAM,
            "ecuador": ECUADOR,
        },
        status=status,
    )


def _slots_url(analyst) -> str:
    return f"{reverse('backoffice:slots')}?{ANALYST_PARAM}={analyst.pk}"


@staff_required(Permission.USE_BACKOFFICE)
def slots(request):
    if not _may_use(request.user):
        raise PermissionDenied
    may_choose = can(request.user, Permission.ASSIGN)
    if request.method == "POST":
        form = SlotsPublishForm(request.POST, may_choose_analyst=may_choose)
        if form.is_valid():
            data = form.cleaned_data
            analyst = data.get("analyst") or request.user
            try:
                made = services.slots_publish(
                    actor=request.user,
                    analyst=analyst,
                    first_day=data["first_day"],
                    last_day=data["last_day"],
                    start_time=data["start_time"],
                    end_time=data["end_time"],
                    minutes=data["minutes"],
                )
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for field, errors in exc.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    form.add_error(None, exc.messages)
            else:
                messages.success(
                    request,
                    ngettext(
                        "Se publicó %(count)d horario.",
                        "Se publicaron %(count)d horarios.",
                        len(made),
                    )
                    % {"count": len(made)},
                )
                return redirect(_slots_url(analyst))
        return _page(
            request,
            form=form,
            analyst=_analyst_shown(request, form.cleaned_data.get("analyst")),
            status=422,
        )
    analyst = _analyst_shown(request)
    today = timezone.now().astimezone(ECUADOR).date()
    form = SlotsPublishForm(
        may_choose_analyst=may_choose,
        initial={
            "analyst": analyst,
            "first_day": today + dt.timedelta(days=1),
            "last_day": today + dt.timedelta(days=7),
            "start_time": dt.time(9, 0),
            "end_time": dt.time(12, 0),
            "minutes": settings.CALL_DURATION_MINUTES,
        },
    )
    return _page(request, form=form, analyst=analyst)


@require_POST
@staff_required(Permission.USE_BACKOFFICE)
def slot_withdraw(request, slot_id):
    if not _may_use(request.user):
        raise PermissionDenied
    slot = get_object_or_404(CallSlot.objects.select_related("analyst"), pk=slot_id)
    if slot.analyst_id != request.user.pk and not can(request.user, Permission.ASSIGN):
        # Another analyst's slot answers like a missing one.
        raise Http404
    try:
        services.slot_withdraw(actor=request.user, slot=slot)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Horario retirado: ya no se ofrece a los ciudadanos."))
    return redirect(_slots_url(slot.analyst))
