from django.db import models


class OutboundEmail(models.Model):
    """A message in the outbox: recorded on its case, sent by the worker, retried on failure."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pendiente"
        SENDING = "sending", "Enviando"
        SENT = "sent", "Enviado"
        FAILED = "failed", "Fallido (sin más reintentos)"

    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="emails"
    )
    template = models.CharField(max_length=64)
    to = models.EmailField()
    subject = models.CharField(max_length=255)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    # [{"filename", "content_type", "content"}]: text parts only (the calendar invitation).
    attachments = models.JSONField(default=list, blank=True)
    # The same event never produces two messages, even if its task runs twice.
    dedupe_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.template} -> {self.to} ({self.status})"


class OutboundSms(models.Model):
    """A text message in the outbox, with the same durability as an email: written in the
    transaction of the change it announces, sent by the worker through SMS_BACKEND,
    retried on failure, never twice for one `dedupe_key`."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pendiente"
        SENDING = "sending", "Enviando"
        SENT = "sent", "Enviado"
        FAILED = "failed", "Fallido (sin más reintentos)"

    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="sms_messages"
    )
    template = models.CharField(max_length=64)
    # E.164, e.g. +593991234567.
    to = models.CharField(max_length=20)
    body = models.TextField()
    dedupe_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # What the backend answered: the provider's message id, or the file it wrote.
    provider_reference = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "SMS"
        verbose_name_plural = "SMS"

    def __str__(self) -> str:
        return f"{self.template} -> {self.to} ({self.status})"
