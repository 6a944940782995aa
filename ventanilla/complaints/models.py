from django.conf import settings
from django.db import models

from .constants import OPEN_STATUSES, ComplaintStatus


class ComplaintNumberSequence(models.Model):
    """The last complaint number handed out in a year; rows are locked while a number is taken."""

    year = models.PositiveIntegerField(primary_key=True)
    last_value = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_value}"


class Complaint(models.Model):
    """A complaint about the service, filed by anyone through /quejas/, and its answer.

    `case_number` keeps what the person typed (checked, canonical); `case` is set only when
    a case with that number exists: the person is never told which."""

    number = models.CharField("número de queja", max_length=20, unique=True)
    case_number = models.CharField("número de trámite indicado", max_length=20, blank=True)
    case = models.ForeignKey(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="complaints",
    )
    name = models.CharField("nombre", max_length=200)
    email = models.EmailField("correo electrónico")
    phone = models.CharField("teléfono", max_length=20, blank=True)
    text = models.TextField("queja")
    filed_at = models.DateTimeField("presentada el", db_index=True)
    due_at = models.DateTimeField("plazo de respuesta", db_index=True)
    status = models.CharField(
        "estado",
        max_length=16,
        choices=ComplaintStatus.choices,
        default=ComplaintStatus.RECEIVED,
        db_index=True,
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_complaints",
    )
    answer = models.TextField("respuesta", blank=True)
    answered_at = models.DateTimeField("respondida el", null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["due_at", "pk"]
        indexes = [models.Index(fields=["status", "due_at"], name="complaint_status_due")]
        verbose_name = "queja"
        verbose_name_plural = "quejas"

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES
