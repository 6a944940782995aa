"""The holiday calendar page (supervisors and administrators): the days of a year, and
adding, changing or removing one. The rules, including moving the review deadlines that
a new holiday spans, live in ventanilla/workdays/services.py."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from ventanilla.staff.decorators import staff_required
from ventanilla.staff.roles import Permission
from ventanilla.workdays import services
from ventanilla.workdays.models import Holiday
from ventanilla.workdays.selectors import ECUADOR

from .forms import HolidayForm

YEAR_PARAM = "anio"


def _this_year() -> int:
    return timezone.now().astimezone(ECUADOR).year


def _year(raw) -> int:
    try:
        year = int(raw)
    except (TypeError, ValueError):
        return _this_year()
    return year if 1900 <= year <= 2999 else _this_year()


def _calendar_url(year: int) -> str:
    return f"{reverse('backoffice:calendar')}?{YEAR_PARAM}={year}"


def _day(date) -> str:
    return date_format(date, "l j \\d\\e F \\d\\e Y")


def _moved_message(change) -> str:
    holiday = change.holiday
    if holiday.date.weekday() >= 5:
        return _("Es fin de semana, que nunca es laborable: ningún plazo cambia.")
    if holiday.is_working_day:
        return _(
            "Este día cuenta como laborable. Los plazos ya dados no se acortan: lo prometido "
            "al ciudadano se mantiene."
        )
    if not change.cases_moved:
        return _("Ningún trámite abierto tenía su plazo sobre este día: no se movió ningún plazo.")
    return ngettext(
        "Se movió el plazo de %(count)d trámite: un día laborable más.",
        "Se movió el plazo de %(count)d trámites: un día laborable más cada uno.",
        change.cases_moved,
    ) % {"count": change.cases_moved}


def _page(request, *, year: int, form: HolidayForm, status: int = 200):
    years_listed = sorted(
        {d.year for d in Holiday.objects.dates("date", "year")} | {_this_year(), year}
    )
    context = {
        "year": year,
        "years": years_listed,
        "previous_year": year - 1,
        "next_year": year + 1,
        "holidays": list(Holiday.objects.filter(date__year=year).order_by("date")),
        "form": form,
        "year_param": YEAR_PARAM,
    }
    return render(request, "backoffice/calendar.html", context, status=status)


@staff_required(Permission.EDIT_CALENDAR)
def calendar(request):
    """GET: the year's days off (and days worked instead); POST: add a day."""
    if request.method != "POST":
        return _page(request, year=_year(request.GET.get(YEAR_PARAM)), form=HolidayForm())
    form = HolidayForm(request.POST)
    if form.is_valid():
        try:
            change = services.holiday_add(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            holiday = change.holiday
            messages.success(
                request,
                _("%(day)s añadido al calendario (%(name)s).")
                % {"day": _day(holiday.date), "name": holiday.name}
                + " "
                + _moved_message(change),
            )
            return redirect(_calendar_url(holiday.date.year))
    year = form.cleaned_data["date"].year if "date" in form.cleaned_data else _this_year()
    return _page(request, year=_year(request.POST.get(YEAR_PARAM, year)), form=form, status=400)


@staff_required(Permission.EDIT_CALENDAR)
def holiday_edit(request, holiday_id: int):
    holiday = get_object_or_404(Holiday, pk=holiday_id)
    form = HolidayForm(
        request.POST or None,
        initial={
            "date": holiday.date,
            "name": holiday.name,
            "is_working_day": holiday.is_working_day,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            change = services.holiday_update(
                actor=request.user, holiday=holiday, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("%(day)s guardado.") % {"day": _day(change.holiday.date)}
                + " "
                + _moved_message(change),
            )
            return redirect(_calendar_url(change.holiday.date.year))
    return render(
        request,
        "backoffice/calendar_edit.html",
        {"holiday": holiday, "form": form, "back_url": _calendar_url(holiday.date.year)},
        status=400 if form.errors else 200,
    )


@staff_required(Permission.EDIT_CALENDAR)
@require_POST
def holiday_remove(request, holiday_id: int):
    holiday = get_object_or_404(Holiday, pk=holiday_id)
    change = services.holiday_remove(actor=request.user, holiday=holiday)
    if change.holiday is None:
        text = _(
            "%(day)s quitado del calendario: ahora es un día laborable. Los plazos ya dados "
            "no se acortan."
        )
    else:
        text = _(
            "%(day)s queda marcado como día que se trabaja (viene de la lista oficial de "
            "feriados, que lo volvería a añadir si se borrara). Los plazos ya dados no se "
            "acortan."
        )
    messages.success(request, text % {"day": _day(holiday.date)})
    return redirect(_calendar_url(holiday.date.year))
