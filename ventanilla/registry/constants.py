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


class ChangeSource(models.TextChoices):
    CASE = "case", _("Trámite validado")
    REPORT_RESTORE = "report_restore", _("Restituido tras el aviso «no fui yo»")


class ReportChannel(models.TextChoices):
    EMAIL = "email", _("Correo electrónico")
    SMS = "sms", _("SMS")


class FraudReviewStatus(models.TextChoices):
    OPEN = "open", _("Abierta")
    CLOSED = "closed", _("Cerrada")


class FraudOutcome(models.TextChoices):
    FRAUD_CONFIRMED = "fraud_confirmed", _("Suplantación confirmada")
    NOT_FRAUD = "not_fraud", _("No hubo suplantación (el titular hizo el cambio)")
    INCONCLUSIVE = "inconclusive", _("No se pudo determinar")


# The phones of the registry that may receive an SMS (a landline cannot).
SMS_PHONE_FIELDS = ("phone", "ecuador_mobile", "foreign_phone")

# Case flag: the person's record is frozen by a "this was not me" report.
FLAG_REGISTRY_FROZEN = "registry_frozen"
