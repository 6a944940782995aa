"""The complaint form of /quejas/: every field checked before anything is stored, each
refusal saying in Spanish what is wrong and how to fix it."""

import phonenumbers
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ventanilla.cases.numbers import case_number_is_valid, case_number_normalize
from ventanilla.cases.validators import free_text_clean, person_name_clean

from .constants import TEXT_MAX_LENGTH

TEXT_MIN_LENGTH = 20


class ComplaintForm(forms.Form):
    name = forms.CharField(
        label=_("Nombres y apellidos"),
        max_length=200,
        error_messages={
            "required": _("Escriba su nombre y apellido, para saber a quién respondemos."),
            "max_length": _("El nombre puede tener hasta %(limit_value)d caracteres."),
        },
    )
    email = forms.EmailField(
        label=_("Correo electrónico"),
        max_length=254,
        help_text=_("Le enviaremos aquí el número de su queja y, después, la respuesta."),
        error_messages={
            "required": _("Escriba su correo electrónico: la respuesta llega por correo."),
            "invalid": _("Escriba un correo válido, por ejemplo nombre@ejemplo.com."),
        },
    )
    phone = forms.CharField(
        label=_("Teléfono (opcional)"),
        required=False,
        max_length=30,
        help_text=_("Con el código de país, por ejemplo +34 612 345 678."),
    )
    case_number = forms.CharField(
        label=_("Número de trámite (opcional)"),
        required=False,
        max_length=30,
        help_text=_(
            "Si su queja es sobre un trámite, como aparece en su correo, por ejemplo VV-2026-000123-K."
        ),
    )
    text = forms.CharField(
        label=_("Su queja"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={
            "required": _("Escriba su queja: qué pasó y qué espera del IESS."),
            "max_length": _(
                "La queja puede tener hasta %(limit_value)d caracteres; tiene %(show_value)d. "
                "Acórtela."
            ),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Here, not on the field: the limit is formatted in the language of the request.
        self.fields["text"].help_text = gettext(
            "Cuéntenos qué pasó, cuándo y qué espera del IESS. Hasta %(limit)d caracteres. "
            "No escriba contraseñas ni códigos."
        ) % {"limit": TEXT_MAX_LENGTH}

    def clean_name(self) -> str:
        return person_name_clean(self.cleaned_data["name"])

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean_phone(self) -> str:
        raw = self.cleaned_data["phone"].strip()
        if not raw:
            return ""
        try:
            number = phonenumbers.parse(raw, "EC")
        except phonenumbers.NumberParseException as exc:
            raise ValidationError(
                _(
                    "No es un número de teléfono. Escríbalo con el código de país, por ejemplo "
                    "+34 612 345 678, o deje el campo vacío."
                ),
                code="format",
            ) from exc
        if not phonenumbers.is_valid_number(number):
            raise ValidationError(
                _(
                    "El número de teléfono no es válido. Revise los dígitos y escriba el código "
                    "de país (por ejemplo +1 para Estados Unidos, +34 para España)."
                ),
                code="invalid",
            )
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def clean_case_number(self) -> str:
        raw = self.cleaned_data["case_number"]
        if not raw.strip():
            return ""
        if not case_number_is_valid(raw):
            raise ValidationError(
                _(
                    "El número de trámite no es válido: revise cada carácter, incluido el último "
                    "(por ejemplo VV-2026-000123-K), o deje el campo vacío."
                ),
                code="invalid",
            )
        return case_number_normalize(raw)

    def clean_text(self) -> str:
        value = free_text_clean(self.cleaned_data["text"]).strip()
        if len(value) < TEXT_MIN_LENGTH:
            raise ValidationError(
                gettext(
                    "Cuéntenos un poco más (al menos %(n)d caracteres): qué pasó y qué espera "
                    "del IESS."
                )
                % {"n": TEXT_MIN_LENGTH},
                code="too_short",
            )
        return value
