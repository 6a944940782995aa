from django import forms
from django.utils.translation import gettext_lazy as _


class StatusLookupForm(forms.Form):
    number = forms.CharField(
        label=_("Número de trámite"),
        max_length=30,
        help_text=_("Como aparece en su correo de confirmación, por ejemplo VV-2026-000123-K"),
        error_messages={"required": _("Ingrese el número de trámite.")},
    )
    id_number = forms.CharField(
        label=_("Número de identificación"),
        max_length=20,
        help_text=_("Cédula, pasaporte o código de extranjero con el que ingresó el trámite"),
        error_messages={"required": _("Ingrese su número de identificación.")},
    )


class WithdrawForm(forms.Form):
    """The citizen confirms that they want to close their case (desistimiento)."""

    confirm = forms.BooleanField(
        label=_("Entiendo que mi trámite se cerrará y que mis datos no se modificarán."),
        error_messages={
            "required": _("Marque la casilla para confirmar que desea desistir del trámite.")
        },
    )
    reason = forms.CharField(
        label=_("Motivo (opcional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Si quiere, cuéntenos por qué desiste. Hasta 500 caracteres."),
        error_messages={
            "max_length": _(
                "El motivo puede tener hasta %(limit_value)d caracteres; tiene %(show_value)d. "
                "Acórtelo."
            )
        },
    )
