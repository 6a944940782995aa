import datetime as dt
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _

from ventanilla.cases.constants import ReviewReason
from ventanilla.documents.constants import DocumentKind

ECUADOR = ZoneInfo("America/Guayaquil")


# The citizen's email shows, for each ticked reason, its label and the explanation kept
# in cases.constants.REASON_GUIDANCE (shown under each checkbox), then this message.
DECISION_MESSAGE_HELP = _(
    "Se añade, en el correo, después de la explicación de cada motivo marcado (la que ve "
    "debajo de cada motivo). Diga qué vio exactamente y en qué documento."
)


class CorrectionActionForm(forms.Form):
    items = forms.MultipleChoiceField(
        label=_("Documentos que debe cargar de nuevo"),
        choices=DocumentKind.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Marque al menos un documento que el ciudadano debe cargar de nuevo.")
        },
    )
    reasons = forms.MultipleChoiceField(
        label=_("Motivos"),
        choices=ReviewReason.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Marque al menos un motivo de la corrección.")},
    )
    message = forms.CharField(
        label=_("Mensaje para el ciudadano"),
        help_text=DECISION_MESSAGE_HELP,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Escriba el mensaje que leerá el ciudadano.")},
    )


class RejectActionForm(forms.Form):
    reasons = forms.MultipleChoiceField(
        label=_("Motivos del rechazo"),
        choices=ReviewReason.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Marque al menos un motivo del rechazo.")},
    )
    message = forms.CharField(
        label=_("Mensaje para el ciudadano"),
        help_text=DECISION_MESSAGE_HELP,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Escriba el mensaje que leerá el ciudadano.")},
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


# --- the administrators' pages: staff accounts and the holiday calendar ------------------


def _role_choices():
    from ventanilla.staff.roles import Role

    return Role.choices


class StaffRolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label=_("Roles"),
        choices=_role_choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Analista: trabaja los trámites. Supervisor: asigna, ve el tablero y edita el "
            "calendario. Auditor: consulta todo y no cambia nada. Administrador: cuentas, "
            "roles y calendario. Los permisos de varios roles se suman."
        ),
        error_messages={
            "required": _(
                "Marque al menos un rol. Para quitarle todo acceso a una persona, desactive "
                "su cuenta."
            )
        },
    )


class StaffAccountForm(StaffRolesForm):
    """A new account: no password here; the person sets it through the emailed link."""

    username = forms.CharField(
        label=_("Usuario"),
        max_length=150,
        help_text=_("Con el que ingresará, por ejemplo «maria.perez». Letras, números y . _ - @ +"),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    first_name = forms.CharField(label=_("Nombres"), max_length=150)
    last_name = forms.CharField(label=_("Apellidos"), max_length=150)
    email = forms.EmailField(
        label=_("Correo institucional"),
        help_text=_("Allí llega el enlace, de un solo uso, para crear la contraseña."),
    )

    field_order = ["username", "first_name", "last_name", "email", "roles"]


class HolidayForm(forms.Form):
    date = forms.DateField(label=_("Fecha"), widget=forms.DateInput(attrs={"type": "date"}))
    name = forms.CharField(label=_("Nombre"), max_length=120)
    is_working_day = forms.BooleanField(
        label=_("Se trabaja"),
        required=False,
        help_text=_(
            "Márquelo si el feriado se trasladó y este día sí se trabaja: entonces cuenta "
            "como día laborable."
        ),
    )
