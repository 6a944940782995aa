import uuid

from django.conf import settings
from django.db import models

from .constants import CheckName, CheckOutcome, Recommendation, RunTrigger


class CheckRun(models.Model):
    """One pass of the verification pipeline over a case's current files."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="check_runs")
    trigger = models.CharField(max_length=16, choices=RunTrigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    recommendation = models.CharField(max_length=20, choices=Recommendation.choices, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    timings = models.JSONField(default=dict, blank=True)  # seconds per check, for the benchmark

    class Meta:
        ordering = ["-requested_at", "-pk"]
        get_latest_by = "requested_at"

    def __str__(self) -> str:
        return f"{self.case_id} run {self.pk}: {self.recommendation or 'en curso'}"


class CheckResult(models.Model):
    """One automated check on one case: advice for the analyst, never a decision (LOPDP art. 20)."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="check_results")
    run = models.ForeignKey(
        CheckRun, null=True, blank=True, on_delete=models.CASCADE, related_name="results"
    )
    document = models.ForeignKey(
        "documents.Document", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(max_length=32, choices=CheckName.choices)
    outcome = models.CharField(max_length=8, choices=CheckOutcome.choices)
    score = models.FloatField(null=True, blank=True)
    summary = models.CharField(max_length=255)
    evidence = models.JSONField(default=dict, blank=True)
    is_current = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "document__kind", "-created_at"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.name}: {self.outcome}"


def attachment_path(instance: "CheckAttachment", filename: str) -> str:
    # Beside the case's files, under random names: no personal data in paths.
    return f"cases/{instance.result.case.public_id}/checks/{uuid.uuid4().hex}.jpg"


class CheckAttachment(models.Model):
    """A small file an analyst looks at to judge a check (a face crop). Staff only."""

    result = models.ForeignKey(CheckResult, on_delete=models.CASCADE, related_name="attachments")
    name = models.CharField(max_length=64)
    file = models.FileField(upload_to=attachment_path, max_length=255)
    content_type = models.CharField(max_length=64, default="image/jpeg")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["result", "name"], name="check_attachment_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.result_id}/{self.name}"


class FaceSignature(models.Model):
    """A face encoding (biometric data, LOPDP art. 4) kept only to spot one face used under
    two ID numbers; deleted with the case."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=16)  # selfie, id_front, video
    vector = models.BinaryField()  # 128 float32
    is_current = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.case_id} {self.source}"
