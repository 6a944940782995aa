from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One thing that happened: who did or saw what, when, with old and new values.

    Rows are only ever inserted; nothing in the application updates or deletes them.
    """

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # "citizen", "system" or the staff username: readable even without a user row.
    actor_label = models.CharField(max_length=150)
    action = models.CharField(max_length=64, db_index=True)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events"
    )
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    old_value = models.JSONField(null=True, blank=True)
    new_value = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    # Where it came from: filled from the request being served (audit.middleware); empty
    # for the worker and the scheduler.
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    # One id per request, shared by every event that request wrote.
    request_id = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            # The auditor's search by address, newest first.
            models.Index(fields=["ip", "at"], name="audit_event_ip_at"),
            models.Index(fields=["request_id"], name="audit_event_request_id"),
        ]
        verbose_name = "evento de auditoría"
        verbose_name_plural = "eventos de auditoría"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"
