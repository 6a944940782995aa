"""The citizen's booking page, reached by the personal link of the call_booking email:
the free times in the citizen's own time zone and Ecuador's, booking one, and then the
booked call with change and cancel until the cut-off."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from ventanilla.appointments import selectors, services
from ventanilla.appointments.timezones import zone_choices, zone_label, zone_place
from ventanilla.cases.statemachine import IllegalTransition


class ZoneForm(forms.Form):
    zone = forms.ChoiceField(
        label=gettext_lazy("¿En qué zona horaria vive?"),
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Elija la zona horaria donde vive.")},
    )

    def __init__(self, *args, country: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["zone"].choices = zone_choices(country)


def _link_or_404(token):
    link = selectors.booking_link_for_token(token)
    if link is None:
        raise Http404
    return link


def _slot_id(request) -> int | None:
    try:
        return int(request.POST.get("slot", ""))
    except ValueError:
        return None


def _choose_page(request, link, zone, *, appointment=None, error="", status=200):
    return render(
        request,
        "portal/booking/choose.html",
        {
            "case": link.case,
            "token": request.resolver_match.kwargs["token"],
            "zone": zone,
            "zone_label": zone_label(zone),
            "place": zone_place(zone),
            "days": selectors.free_slot_days(zone),
            "appointment": appointment,
            "call": selectors.call_times(appointment, zone) if appointment else None,
            "cutoff_hours": settings.CALL_CHANGE_CUTOFF_HOURS,
            "error": error,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def booking(request, token):
    """Book a free time (call_pending), or see the booked call (call_scheduled)."""
    link = _link_or_404(token)
    zone = selectors.booking_timezone(link)
    if zone is None:
        return redirect("portal:booking_zone", token=token)
    appointment = selectors.live_appointment(link.case)
    if appointment is not None:
        return render(
            request,
            "portal/booking/booked.html",
            {
                "case": link.case,
                "token": token,
                "appointment": appointment,
                "call": selectors.call_times(appointment, zone),
                "zone_label": zone_label(zone),
                "cutoff_hours": settings.CALL_CHANGE_CUTOFF_HOURS,
            },
        )
    if request.method == "POST":
        slot_id = _slot_id(request)
        if slot_id is None:
            return _choose_page(
                request, link, zone, error=_("Elija un horario de la lista."), status=422
            )
        try:
            services.appointment_book(case=link.case, slot_id=slot_id, citizen_timezone=zone)
        except ValidationError as exc:
            return _choose_page(request, link, zone, error=" ".join(exc.messages), status=409)
        except IllegalTransition:
            # Booked meanwhile (another tab): the page shows the call.
            pass
        else:
            messages.success(
                request,
                _("Su videollamada está agendada. Le enviamos la convocatoria por correo."),
            )
        return redirect("portal:booking", token=token)
    return _choose_page(request, link, zone)


@require_http_methods(["GET", "POST"])
def booking_change(request, token):
    """Move the booked call to another free time, until the cut-off."""
    link = _link_or_404(token)
    zone = selectors.booking_timezone(link)
    if zone is None:
        return redirect("portal:booking_zone", token=token)
    appointment = selectors.live_appointment(link.case)
    if appointment is None:
        return redirect("portal:booking", token=token)
    if request.method == "POST":
        slot_id = _slot_id(request)
        if slot_id is None:
            return _choose_page(
                request,
                link,
                zone,
                appointment=appointment,
                error=_("Elija un horario de la lista."),
                status=422,
            )
        try:
            services.appointment_reschedule(appointment=appointment, slot_id=slot_id)
        except ValidationError as exc:
            return _choose_page(
                request,
                link,
                zone,
                appointment=appointment,
                error=" ".join(exc.messages),
                status=409,
            )
        messages.success(
            request,
            _(
                "Cambiamos la fecha de su videollamada. Le enviamos la nueva convocatoria por correo."
            ),
        )
        return redirect("portal:booking", token=token)
    return _choose_page(request, link, zone, appointment=appointment)


@require_http_methods(["GET", "POST"])
def booking_cancel(request, token):
    """Confirm, then cancel the booked call, until the cut-off."""
    link = _link_or_404(token)
    zone = selectors.booking_timezone(link)
    if zone is None:
        return redirect("portal:booking_zone", token=token)
    appointment = selectors.live_appointment(link.case)
    if appointment is None:
        return redirect("portal:booking", token=token)
    error = ""
    if request.method == "POST":
        try:
            services.appointment_cancel(appointment=appointment)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(
                request,
                _(
                    "Cancelamos su videollamada. Su trámite sigue abierto: elija un nuevo "
                    "horario cuando pueda."
                ),
            )
            return redirect("portal:booking", token=token)
    return render(
        request,
        "portal/booking/cancel.html",
        {
            "case": link.case,
            "token": token,
            "appointment": appointment,
            "call": selectors.call_times(appointment, zone),
            "cutoff_hours": settings.CALL_CHANGE_CUTOFF_HOURS,
            "error": error,
        },
        status=409 if error else 200,
    )


@require_http_methods(["GET", "POST"])
def booking_zone(request, token):
    """Ask (or change) the citizen's time zone among their country's clocks."""
    link = _link_or_404(token)
    case = link.case
    current = selectors.booking_timezone(link)
    form = ZoneForm(request.POST or None, country=case.residence_country, initial={"zone": current})
    if request.method == "POST" and form.is_valid():
        try:
            services.booking_link_timezone_set(link=link, zone=form.cleaned_data["zone"])
        except ValidationError as exc:
            form.add_error("zone", exc.messages[0])
        else:
            return redirect("portal:booking", token=token)
    return render(
        request,
        "portal/booking/zone.html",
        {"case": case, "token": token, "form": form, "asked": current is None},
        status=422 if form.errors else 200,
    )


def booking_ics(request, token):
    """The booked call as a calendar file ("añadir a mi calendario")."""
    link = _link_or_404(token)
    appointment = selectors.live_appointment(link.case)
    if appointment is None:
        raise Http404
    response = HttpResponse(
        services.appointment_ics(appointment), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="videollamada-iess.ics"'
    return response
