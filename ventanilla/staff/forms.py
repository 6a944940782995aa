from django import forms
from django.utils.translation import gettext_lazy as _


class SecondFactorForm(forms.Form):
    code = forms.CharField(
        label=_("Código de verificación"),
        help_text=_(
            "Los 6 dígitos que muestra ahora su aplicación de autenticación, o uno de sus "
            "códigos de respaldo."
        ),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


class EnrolmentForm(forms.Form):
    code = forms.CharField(
        label=_("Código de verificación"),
        help_text=_("Los 6 dígitos que muestra su aplicación después de agregar la cuenta."),
        max_length=10,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )
