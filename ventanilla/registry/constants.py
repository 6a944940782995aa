from django.db import models
from django.utils.translation import gettext_lazy as _


class InsuredType(models.TextChoices):
    AFFILIATE = "afiliado", _("Afiliado")
    RETIREE = "jubilado", _("Jubilado")
    BENEFICIARY = "derechohabiente", _("Derechohabiente")


CONTACT_FIELD_LABELS = {
    "email": _("Correo electrónico"),
    "ecuador_mobile": _("Teléfono celular (Ecuador)"),
    "ecuador_landline": _("Teléfono fijo (Ecuador)"),
    "foreign_phone": _("Teléfono en el exterior"),
    "residence_country": _("País de residencia"),
    "residence_region": _("Estado o provincia de residencia"),
    "residence_city": _("Ciudad de residencia"),
    "postal_code": _("Código postal"),
}

# The contact fields a case may change, in the order the request form lists them.
CONTACT_FIELDS = (
    "email",
    "ecuador_mobile",
    "ecuador_landline",
    "foreign_phone",
    "residence_country",
    "residence_region",
    "residence_city",
    "postal_code",
)
