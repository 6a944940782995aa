from django.conf import settings
from django.db import models

from ventanilla.cases.constants import IdType

from .constants import (
    CONTACT_FIELD_LABELS,
    ChangeSource,
    FraudOutcome,
    FraudReviewStatus,
    InsuredType,
    ReportChannel,
)


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
    # Set when the holder reported a change as "this was not me": until a supervisor
    # closes the fraud review, no case may change this person's contact data.
    frozen_at = models.DateTimeField("congelado desde", null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["id_type", "id_number"], name="insured_unique_id")
        ]
        verbose_name = "asegurado"
        verbose_name_plural = "asegurados"

    def __str__(self) -> str:
        return f"{self.first_names} {self.last_names} ({self.id_number})"

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None


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
    # A validated case's data, or the previous data put back after a "this was not me".
    source = models.CharField(
        max_length=20, choices=ChangeSource.choices, default=ChangeSource.CASE
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


class ChangeReportLink(models.Model):
    """A "this was not me" link sent to one previous address or phone of a person whose
    contact data a case changed. Only the SHA-256 of its token is kept."""

    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, related_name="change_report_links"
    )
    person = models.ForeignKey(
        InsuredPerson, on_delete=models.PROTECT, related_name="change_report_links"
    )
    channel = models.CharField(max_length=10, choices=ReportChannel.choices)
    # Where the link went, masked ("c••••@gmail.com"): enough for staff to tell them apart.
    sent_to_masked = models.CharField(max_length=120)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "enlace «no fui yo»"
        verbose_name_plural = "enlaces «no fui yo»"

    def __str__(self) -> str:
        return f"{self.case_id} {self.channel} {self.sent_to_masked}"


class FraudReview(models.Model):
    """A change reported by the holder as "this was not me": the record was frozen and
    restored, and a supervisor reviews what happened. Each one also counts as a complaint."""

    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="fraud_review")
    person = models.ForeignKey(
        InsuredPerson, on_delete=models.PROTECT, related_name="fraud_reviews"
    )
    reported_at = models.DateTimeField(db_index=True)
    channel = models.CharField(max_length=10, choices=ReportChannel.choices)
    status = models.CharField(
        max_length=10,
        choices=FraudReviewStatus.choices,
        default=FraudReviewStatus.OPEN,
        db_index=True,
    )
    # {field: value} put back in the registry when the report came in; fields a later
    # change had already overwritten are listed in `not_restored`.
    restored = models.JSONField(default=dict, blank=True)
    not_restored = models.JSONField(default=list, blank=True)
    outcome = models.CharField(max_length=20, choices=FraudOutcome.choices, blank=True)
    resolution = models.TextField(blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-reported_at", "-id"]
        verbose_name = "revisión por suplantación"
        verbose_name_plural = "revisiones por suplantación"

    def __str__(self) -> str:
        return f"{self.case_id} {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status == FraudReviewStatus.OPEN
