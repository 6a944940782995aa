import datetime as dt
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _

from ventanilla.cases.constants import ReviewReason
from ventanilla.documents.constants import DocumentKind

ECUADOR = ZoneInfo("America/Guayaquil")


class CorrectionActionForm(forms.Form):
    items = forms.MultipleChoiceField(
        label=_("Documentos que debe cargar de nuevo"),
        choices=DocumentKind.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    reasons = forms.MultipleChoiceField(
        label=_("Motivos"), choices=ReviewReason.choices, widget=forms.CheckboxSelectMultiple
    )
    message = forms.CharField(
        label=_("Mensaje para el ciudadano"), widget=forms.Textarea(attrs={"rows": 3})
    )


class RejectActionForm(forms.Form):
    reasons = forms.MultipleChoiceField(
        label=_("Motivos del rechazo"),
        choices=ReviewReason.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    message = forms.CharField(
        label=_("Mensaje para el ciudadano"), widget=forms.Textarea(attrs={"rows": 3})
    )


class InviteActionForm(forms.Form):
    date = forms.DateField(
        label=_("Fecha (hora de Ecuador)"), widget=forms.DateInput(attrs={"type": "date"})
    )
    time = forms.TimeField(
        label=_("Hora (Ecuador)"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    meeting_url = forms.URLField(
        label=_("Enlace de la reunión (opcional)"),
        required=False,
        help_text=_("Si lo deja vacío se crea una sala nueva."),
    )

    def starts_at(self) -> dt.datetime:
        return dt.datetime.combine(
            self.cleaned_data["date"], self.cleaned_data["time"], tzinfo=ECUADOR
        )


class CallOutcomeActionForm(forms.Form):
    identity_validated = forms.TypedChoiceField(
        label=_("Resultado de la videollamada"),
        choices=[("true", _("Identidad validada")), ("false", _("Identidad no validada"))],
        coerce=lambda v: v == "true",
        widget=forms.RadioSelect,
    )
    notes = forms.CharField(
        label=_("Notas (obligatorias si no se valida)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
