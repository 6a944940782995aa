from django.conf import settings
from django.db import models

from ventanilla.cases.constants import IdType

from .constants import RequestChannel, RequestKind, RequestStatus


class DataSubjectRequest(models.Model):
    """A person exercising a right over their personal data (LOPDP arts. 13-17): what
    they asked, when it arrived, when the answer is due, and how it was answered.

    `answered_at` and `answered_by` say when and by whom the request was closed, whether
    it was answered or refused; `resolution` says what was done, or why it was refused."""

    id_type = models.CharField(
        "tipo de identificación", max_length=20, choices=IdType.choices, default=IdType.CEDULA
    )
    id_number = models.CharField("número de identificación", max_length=20, db_index=True)
    full_name = models.CharField("nombre del titular", max_length=240)
    contact_email = models.EmailField("correo de contacto", blank=True)
    kind = models.CharField("derecho", max_length=20, choices=RequestKind.choices)
    channel = models.CharField("recibida por", max_length=10, choices=RequestChannel.choices)
    received_at = models.DateTimeField("recibida el")
    due_at = models.DateTimeField("plazo", db_index=True)
    status = models.CharField(
        "estado",
        max_length=10,
        choices=RequestStatus.choices,
        default=RequestStatus.OPEN,
        db_index=True,
    )
    notes = models.TextField("notas", blank=True)
    resolution = models.TextField("respuesta o motivo del rechazo", blank=True)
    answered_at = models.DateTimeField("cerrada el", null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField("registrada el", auto_now_add=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["due_at", "pk"]
        indexes = [models.Index(fields=["status", "due_at"], name="data_request_status_due")]
        verbose_name = "solicitud de derechos del titular"
        verbose_name_plural = "solicitudes de derechos del titular"

    def __str__(self) -> str:
        return f"{self.pk} {self.kind} {self.id_number}"

    @property
    def is_open(self) -> bool:
        return self.status == RequestStatus.OPEN
