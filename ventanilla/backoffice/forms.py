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


class QueueAssignForm(forms.Form):
    """The queue's bulk actions: give the ticked cases to an analyst, take them back, or
    deal them (or the next unassigned ones) to analysts at random."""

    ASSIGN = "asignar"
    UNASSIGN = "quitar"
    RANDOM = "azar"

    accion = forms.ChoiceField(
        choices=[
            (ASSIGN, _("Asignar al analista elegido")),
            (UNASSIGN, _("Quitar la asignación")),
            (RANDOM, _("Asignar al azar")),
        ],
        error_messages={"required": _("Elija qué hacer con los trámites marcados.")},
    )
    casos = forms.ModelMultipleChoiceField(
        label=_("Trámites"),
        queryset=None,
        to_field_name="number",
        required=False,
        error_messages={
            "invalid_choice": _(
                "El trámite %(value)s no existe: recargue la cola y vuelva a marcar."
            )
        },
    )
    analista = forms.ModelChoiceField(
        label=_("Analista"),
        queryset=None,
        required=False,
        error_messages={
            "invalid_choice": _(
                "La persona elegida ya no es analista activo: recargue la cola y elija a otra."
            )
        },
    )
    filtros = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        from ventanilla.cases.models import Case
        from ventanilla.staff.roles import Permission, users_with

        super().__init__(*args, **kwargs)
        self.fields["casos"].queryset = Case.objects.all()
        self.fields["analista"].queryset = users_with(Permission.TAKE_CASES)

    def clean(self):
        data = super().clean()
        action = data.get("accion")
        if action in (self.ASSIGN, self.UNASSIGN) and not data.get("casos"):
            raise forms.ValidationError(_("Marque al menos un trámite en la cola."))
        if action == self.ASSIGN and not data.get("analista"):
            raise forms.ValidationError(_("Elija el analista a quien asignar los trámites."))
        return data
