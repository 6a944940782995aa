from django.db import models

from .constants import CheckName, CheckOutcome


class CheckResult(models.Model):
    """One automated check on one case: advice for the analyst, never a decision (LOPDP art. 20)."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="check_results")
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
