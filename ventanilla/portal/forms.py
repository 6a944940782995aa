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
