from django.conf import settings
from django.db import models
from django.utils import timezone


class ChecklistVersion(models.Model):
    """The analyst's checklist of the seed's rules for one case, as saved at one moment.

    A change never overwrites: each save adds the next version, so the history shows
    who judged what and when. Rows are only ever inserted.
    """

    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, related_name="review_checklists"
    )
    version = models.PositiveIntegerField()
    # {rule: {"answer": RuleAnswer, "reason": str}}; a rule not yet judged is absent.
    answers = models.JSONField(default=dict)
    # What this version changed from the previous one: [{"rule", "old", "new", "reason"}].
    changes = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "version"], name="review_checklist_unique_version"
            )
        ]
        verbose_name = "lista de verificación"
        verbose_name_plural = "listas de verificación"

    def __str__(self) -> str:
        return f"{self.case_id} v{self.version}"


class CaseNote(models.Model):
    """An internal note between staff about a case. Never shown to the citizen."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="review_notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "nota interna"
        verbose_name_plural = "notas internas"

    def __str__(self) -> str:
        return f"{self.case_id} nota {self.pk}"


class CallVerification(models.Model):
    """What the analyst recorded for one identity video call: the answer to each identity
    question ("coincide" / "no coincide"), the outcome and the notes. One per appointment;
    only ever inserted. A call recorded through the staff API has no answers."""

    appointment = models.OneToOneField(
        "appointments.Appointment", on_delete=models.CASCADE, related_name="verification"
    )
    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, related_name="call_verifications"
    )
    # {IdentityQuestion: QuestionAnswer}, for the questions the screen asked; the expected
    # values stay on the case and in the registry and are not copied here.
    answers = models.JSONField(default=dict, blank=True)
    outcome = models.CharField(max_length=20)
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name = "resultado de videollamada"
        verbose_name_plural = "resultados de videollamada"

    def __str__(self) -> str:
        return f"{self.case_id} {self.outcome}"
