from django.conf import settings
from django.db import models


class Appointment(models.Model):
    """The identity video call of one case. `starts_at` is stored in UTC."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Agendada"
        HELD = "held", "Realizada"
        CANCELLED = "cancelled", "Cancelada"

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="appointments")
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    citizen_timezone = models.CharField(max_length=64)
    meeting_provider = models.CharField(max_length=32)
    meeting_url = models.URLField(max_length=500)
    # Calendar programs recognise updates by the same UID and a higher SEQUENCE.
    ical_uid = models.CharField(max_length=120, unique=True)
    ical_sequence = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    outcome_notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.starts_at:%Y-%m-%d %H:%M} UTC"
