from django.db import models
from django.utils.translation import gettext_lazy as _


class InsuredType(models.TextChoices):
    AFFILIATE = "afiliado", _("Afiliado")
    RETIREE = "jubilado", _("Jubilado")
    BENEFICIARY = "derechohabiente", _("Derechohabiente")


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
