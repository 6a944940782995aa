"""The supervisors' dashboard and the auditors' search of the audit trail."""

import csv

from django import forms
from django.core.validators import RegexValidator
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ventanilla.audit.selectors import (
    ACTION_GROUPS,
    ACTION_LABELS,
    OBJECT_TYPES,
    audit_page,
    audit_rows,
    audit_search,
    event_row,
)
from ventanilla.audit.services import audit_log
from ventanilla.cases.dashboard import dashboard_summary
from ventanilla.cases.numbers import case_number_is_valid, case_number_normalize
from ventanilla.staff.decorators import staff_required
from ventanilla.staff.roles import Permission, can
from ventanilla.workdays.selectors import ECUADOR


@staff_required(Permission.VIEW_DASHBOARD)
def dashboard(request):
    context = {**dashboard_summary(), "may_audit": can(request.user, Permission.VIEW_AUDIT)}
    return render(request, "backoffice/dashboard.html", context)


def _action_choices():
    return [
        ("", _("Todas")),
        (
            _("Grupos"),
            [(f"group:{key}", label) for key, (label, _query) in ACTION_GROUPS.items()],
        ),
        (_("Una acción"), [(code, f"{label} ({code})") for code, label in ACTION_LABELS.items()]),
    ]


class AuditSearchForm(forms.Form):
    accion = forms.ChoiceField(label=_("Acción"), required=False, choices=_action_choices)
    usuario = forms.CharField(
        label=_("Usuario"),
        required=False,
        max_length=150,
        help_text=_(
            "Nombre de usuario exacto; «citizen» para el ciudadano, «system» para el sistema."
        ),
    )
    tramite = forms.CharField(
        label=_("Número de trámite"),
        required=False,
        max_length=30,
        help_text=_("Por ejemplo VV-2026-000123-K"),
    )
    desde = forms.DateField(
        label=_("Desde (día)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    hasta = forms.DateField(
        label=_("Hasta (día, incluido)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    objeto = forms.ChoiceField(
        label=_("Tipo de objeto"),
        required=False,
        choices=[("", _("Todos")), *OBJECT_TYPES.items()],
    )
    objeto_id = forms.CharField(
        label=_("Identificador del objeto"),
        required=False,
        max_length=64,
        help_text=_("El número del archivo, de la evidencia u otro objeto."),
    )
    ip = forms.GenericIPAddressField(
        label=_("Dirección IP"),
        required=False,
        help_text=_("Una dirección exacta, IPv4 o IPv6, por ejemplo 203.0.113.7"),
        error_messages={
            "invalid": _(
                "Escriba una sola dirección IP completa, como 203.0.113.7 o 2001:db8::1, "
                "sin máscara de red ni puerto."
            )
        },
    )
    solicitud = forms.CharField(
        label=_("Identificador de la solicitud"),
        required=False,
        max_length=32,
        help_text=_("Los eventos de una misma solicitud al servidor (32 letras y cifras)."),
        validators=[
            RegexValidator(
                r"^[0-9a-fA-F]{32}$",
                _(
                    "El identificador de la solicitud tiene 32 caracteres, cifras de 0 a 9 y "
                    "letras de la a a la f: cópielo completo de otro resultado."
                ),
            )
        ],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "usa-select" if isinstance(field.widget, forms.Select) else "usa-input"
            field.widget.attrs.setdefault("class", css)

    def clean_tramite(self):
        number = self.cleaned_data["tramite"].strip()
        if number and not case_number_is_valid(number):
            raise forms.ValidationError(
                _(
                    "«%(number)s» no es un número de trámite válido. Escríbalo completo, con la "
                    "forma VV-2026-000123-K, y revise el último carácter."
                )
                % {"number": number}
            )
        return case_number_normalize(number) if number else ""

    def clean(self):
        data = super().clean()
        since, until = data.get("desde"), data.get("hasta")
        if since and until and since > until:
            raise forms.ValidationError(
                _("La fecha «Desde» (%(since)s) es posterior a «Hasta» (%(until)s): inviértalas.")
                % {"since": since.isoformat(), "until": until.isoformat()}
            )
        return data

    def search_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "action": data["accion"],
            "actor": data["usuario"].strip(),
            "case_number": data["tramite"],
            "since": data["desde"],
            "until": data["hasta"],
            "object_type": data["objeto"],
            "object_id": data["objeto_id"].strip(),
            "ip": data["ip"] or "",
            "request_id": data["solicitud"].strip().lower(),
        }

    def filters_for_log(self) -> dict:
        return {
            k: (v.isoformat() if hasattr(v, "isoformat") else v)
            for k, v in self.search_kwargs().items()
            if v
        }


@staff_required(Permission.VIEW_AUDIT)
def audit(request):
    form = AuditSearchForm(request.GET)
    rows, next_cursor, searched = [], "", False
    if form.is_valid():
        events, next_cursor = audit_page(
            audit_search(**form.search_kwargs()), after=request.GET.get("despues", "")
        )
        rows = [event_row(event) for event in events]
        searched = True
    query = request.GET.copy()
    query.pop("despues", None)
    return render(
        request,
        "backoffice/audit.html",
        {
            "form": form,
            "rows": rows,
            "searched": searched,
            "next_cursor": next_cursor,
            "query": query.urlencode(),
            "first_page": not request.GET.get("despues"),
        },
    )


CSV_COLUMNS = (
    ("at", _("Fecha y hora (Ecuador)")),
    ("actor", _("Usuario")),
    ("origin", _("Origen")),
    ("action", _("Acción")),
    ("action_label", _("Descripción")),
    ("case_number", _("Trámite")),
    ("object_type", _("Tipo de objeto")),
    ("object_id", _("Objeto")),
    ("changes", _("Valores (antes → después)")),
    ("reason", _("Motivo")),
    ("ip", _("Dirección IP")),
    ("user_agent", _("Navegador (User-Agent)")),
    ("request_id", _("Solicitud")),
)


class _Echo:
    def write(self, value):
        return value


def _cell(value) -> str:
    text = str(value)
    # A spreadsheet would run a cell that starts like a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_lines(form_kwargs):
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([str(label) for _key, label in CSV_COLUMNS])
    for row in audit_rows(audit_search(**form_kwargs)):
        row["at"] = row["at"].astimezone(ECUADOR).strftime("%Y-%m-%d %H:%M:%S")
        yield writer.writerow([_cell(row[key]) for key, _label in CSV_COLUMNS])


@staff_required(Permission.VIEW_AUDIT)
def audit_export(request):
    """The filtered events as CSV (UTF-8, for a spreadsheet). The export is audited."""
    form = AuditSearchForm(request.GET)
    if not form.is_valid():
        return render(
            request,
            "backoffice/audit.html",
            {"form": form, "rows": [], "searched": False, "query": "", "first_page": True},
            status=400,
        )
    kwargs = form.search_kwargs()
    audit_log(action="audit.exported", actor=request.user, new={"filters": form.filters_for_log()})
    response = StreamingHttpResponse(_csv_lines(kwargs), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().astimezone(ECUADOR).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="auditoria-{stamp}.csv"'
    response["Cache-Control"] = "no-store, private"
    return response
