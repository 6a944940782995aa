from django.conf import settings
from django.db import models


class CallSlot(models.Model):
    """A time an analyst offers for identity video calls. Published in Ecuador time,
    stored in UTC like every instant. At most one live appointment holds it
    (Appointment.slot is unique), and an analyst has one slot per start."""

    analyst = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="call_slots"
    )
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # A withdrawn slot is kept (an appointment may have used it before) but never offered.
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "analyst_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["analyst", "starts_at"], name="call_slot_one_per_analyst_and_start"
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="call_slot_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.analyst_id} {self.starts_at:%Y-%m-%d %H:%M} UTC"


class Appointment(models.Model):
    """The identity video call of one case. `starts_at` is stored in UTC.

    Rescheduling changes this row (same ical_uid, ical_sequence + 1, another slot);
    cancelling marks it cancelled and frees its slot."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Agendada"
        HELD = "held", "Realizada"
        CANCELLED = "cancelled", "Cancelada"
        NO_SHOW = "no_show", "El ciudadano no se presentó"

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="appointments")
    # The published slot the citizen booked; empty when an analyst proposed the time
    # (staff API `invite` with `starts_at`) or once cancelled (the slot is free again).
    slot = models.OneToOneField(
        CallSlot,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appointment",
    )
    # Who holds the call: the slot's analyst, or the analyst who proposed the time.
    analyst = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appointments",
    )
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    citizen_timezone = models.CharField(max_length=64)
    meeting_provider = models.CharField(max_length=32)
    meeting_url = models.URLField(max_length=500)
    # Calendar programs recognise updates by the same UID and a higher SEQUENCE.
    ical_uid = models.CharField(max_length=120, unique=True)
    ical_sequence = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    # Empty when the citizen booked the call through their booking link.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    outcome_notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.starts_at:%Y-%m-%d %H:%M} UTC"


class BookingLink(models.Model):
    """The citizen's personal link to book, change or cancel their call
    (/tramite/videollamada/<token>/). Only a hash of the token is kept, as for correction
    links; sending a new link (after a no-show) replaces the hash, so the old one dies.
    The link works while the case is call_pending or call_scheduled."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="booking_link")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    # The zone the citizen chose when their country has several and the region does not
    # decide it; empty means "derived from the residence" (appointments.timezones).
    citizen_timezone = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"{self.case_id} {self.created_at:%Y-%m-%d %H:%M} UTC"
