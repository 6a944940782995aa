from django.conf import settings
from django.db import models

from ventanilla.cases.constants import IdType

from .constants import CONTACT_FIELD_LABELS, InsuredType


class InsuredPerson(models.Model):
    """An IESS insured person and the contact data the institute reaches them by."""

    id_type = models.CharField(max_length=20, choices=IdType.choices, default=IdType.CEDULA)
    id_number = models.CharField("identificación", max_length=20)
    first_names = models.CharField("nombres", max_length=120)
    last_names = models.CharField("apellidos", max_length=120)
    birth_date = models.DateField("fecha de nacimiento", null=True, blank=True)
    insured_type = models.CharField(max_length=20, choices=InsuredType.choices, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField("teléfono (E.164)", max_length=20, blank=True)
    ecuador_mobile = models.CharField(max_length=20, blank=True)
    ecuador_landline = models.CharField(max_length=20, blank=True)
    foreign_phone = models.CharField(max_length=20, blank=True)
    residence_country = models.CharField(max_length=2, blank=True)
    residence_region = models.CharField(max_length=120, blank=True)
    residence_city = models.CharField(max_length=120, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["id_type", "id_number"], name="insured_unique_id")
        ]
        verbose_name = "asegurado"
        verbose_name_plural = "asegurados"

    def __str__(self) -> str:
        return f"{self.first_names} {self.last_names} ({self.id_number})"


class ContactDataChange(models.Model):
    """One field of one person's contact data changed: old value, new value, when, why, who."""

    person = models.ForeignKey(InsuredPerson, on_delete=models.PROTECT, related_name="changes")
    field = models.CharField(max_length=40)
    old_value = models.CharField(max_length=255, blank=True)
    new_value = models.CharField(max_length=255, blank=True)
    changed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    case = models.ForeignKey(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contact_changes",
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = "cambio de datos de contacto"
        verbose_name_plural = "cambios de datos de contacto"

    def __str__(self) -> str:
        return f"{self.person_id} {self.field}"

    @property
    def field_label(self) -> str:
        return str(CONTACT_FIELD_LABELS.get(self.field, self.field))
