"""The institute's internal figures for supervisors and auditors: a period, a country,
one table per section, and the same figures as CSV."""

import csv
import datetime as dt
import io

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ventanilla.audit.services import audit_log
from ventanilla.cases.figures import (
    MAX_PERIOD_DAYS,
    Period,
    figure_text,
    figures_sections,
    figures_summary,
)
from ventanilla.cases.models import Case
from ventanilla.cases.validators import country_name
from ventanilla.staff.decorators import staff_required
from ventanilla.staff.roles import Permission
from ventanilla.workdays.selectors import ECUADOR

CSV_HEADER = ("section", "name", "value", "unit")
THIS_MONTH, LAST_MONTH, LAST_12_MONTHS = "este_mes", "mes_anterior", "ultimos_12_meses"
QUICK_PERIODS = (
    (THIS_MONTH, _("Este mes")),
    (LAST_MONTH, _("Mes anterior")),
    (LAST_12_MONTHS, _("Últimos 12 meses")),
)


def _month_end(day: dt.date) -> dt.date:
    following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def quick_period(choice: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day (both included) of a quick choice, on Ecuador's `today`."""
    month_start = today.replace(day=1)
    if choice == LAST_MONTH:
        previous_end = month_start - dt.timedelta(days=1)
        return previous_end.replace(day=1), previous_end
    if choice == LAST_12_MONTHS:
        # This month and the eleven before it.
        year, month = divmod(today.year * 12 + today.month - 1 - 11, 12)
        return dt.date(year, month + 1, 1), _month_end(today)
    return month_start, _month_end(today)


def _countries() -> list[tuple[str, str]]:
    # Only the countries some case comes from: one grouped read of an indexed column.
    codes = Case.objects.order_by().values_list("residence_country", flat=True).distinct()
    named = [(code, country_name(code)) for code in codes if code]
    return [("", _("Todos"))] + sorted(named, key=lambda item: item[1])


class FiguresFilterForm(forms.Form):
    periodo = forms.ChoiceField(
        label=_("Período rápido"), required=False, choices=[("", "—"), *QUICK_PERIODS]
    )
    desde = forms.DateField(
        label=_("Desde (día)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    hasta = forms.DateField(
        label=_("Hasta (día, incluido)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    pais = forms.ChoiceField(
        label=_("País de residencia"),
        required=False,
        error_messages={
            "invalid_choice": _(
                "Elija el país de la lista: solo aparecen los países de residencia de algún "
                "trámite."
            )
        },
    )

    def __init__(self, *args, today: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["pais"].choices = _countries()
        for field in self.fields.values():
            css = "usa-select" if isinstance(field.widget, forms.Select) else "usa-input"
            field.widget.attrs.setdefault("class", css)

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        since, until = data.get("desde"), data.get("hasta")
        if data.get("periodo") or not (since or until):
            since, until = quick_period(data.get("periodo") or THIS_MONTH, self.today)
        else:
            until = until or self.today
            since = since or until.replace(day=1)
        if since > until:
            raise forms.ValidationError(
                _("La fecha «Desde» (%(since)s) es posterior a «Hasta» (%(until)s): inviértalas.")
                % {"since": since.isoformat(), "until": until.isoformat()}
            )
        if (until - since).days + 1 > MAX_PERIOD_DAYS:
            raise forms.ValidationError(
                _(
                    "El período abarca %(days)s días; el máximo es %(max)s. Elija fechas más "
                    "cercanas o la opción «Últimos 12 meses»."
                )
                % {"days": (until - since).days + 1, "max": MAX_PERIOD_DAYS}
            )
        data["desde"], data["hasta"] = since, until
        return data

    def period(self) -> Period:
        data = self.cleaned_data
        return Period(
            start=data["desde"],
            end=data["hasta"] + dt.timedelta(days=1),
            country=data.get("pais") or "",
        )

    def query(self) -> str:
        """The filters as a query string with explicit dates (for the CSV link)."""
        data = self.cleaned_data
        query = f"desde={data['desde'].isoformat()}&hasta={data['hasta'].isoformat()}"
        return query + (f"&pais={data['pais']}" if data.get("pais") else "")


def _ecuador_today() -> dt.date:
    return timezone.now().astimezone(ECUADOR).date()


@staff_required(Permission.VIEW_DASHBOARD)
def figures(request):
    today = _ecuador_today()
    form = FiguresFilterForm(request.GET, today=today)
    if not form.is_valid():
        context = {"form": form, "quick_periods": QUICK_PERIODS, "sections": []}
        return render(request, "backoffice/figures.html", context, status=400)
    sections = figures_sections(figures_summary(form.period()))
    for section in sections:
        for row in section["rows"]:
            row["text"] = figure_text(row["value"])
    data = form.cleaned_data
    # The fields show the dates a quick choice or a default resolved to.
    shown = FiguresFilterForm(
        initial={"desde": data["desde"], "hasta": data["hasta"], "pais": data["pais"]},
        today=today,
    )
    context = {
        "form": shown,
        "quick_periods": QUICK_PERIODS,
        "sections": sections,
        "query": form.query(),
        "country": data["pais"],
    }
    return render(request, "backoffice/figures.html", context)


def figures_csv_text(sections: list[dict]) -> str:
    """One CSV line per figure: section, name, value, unit (UTF-8 with a BOM, for a
    spreadsheet)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for section in sections:
        for row in section["rows"]:
            writer.writerow([section["title"], row["name"], figure_text(row["value"]), row["unit"]])
    return "\ufeff" + out.getvalue()


@staff_required(Permission.VIEW_DASHBOARD)
def figures_export(request):
    """The figures of the filters as CSV. The export is audited."""
    form = FiguresFilterForm(request.GET, today=_ecuador_today())
    if not form.is_valid():
        return render(
            request,
            "backoffice/figures.html",
            {"form": form, "quick_periods": QUICK_PERIODS, "sections": []},
            status=400,
        )
    period = form.period()
    audit_log(
        action="figures.exported",
        actor=request.user,
        new={
            "filters": {
                "desde": period.start.isoformat(),
                "hasta": period.last_day.isoformat(),
                "pais": period.country,
            }
        },
    )
    text = figures_csv_text(figures_sections(figures_summary(period)))
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    name = f"cifras-{period.start:%Y%m%d}-{period.last_day:%Y%m%d}"
    name += f"-{period.country}" if period.country else ""
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    response["Cache-Control"] = "no-store, private"
    return response
