import uuid

from django.conf import settings
from django.db import models

from ventanilla.checks.constants import Recommendation

from .constants import FINAL_STATUSES, REVIEW_CLOCK_STATUSES, CaseStatus, IdType, Province

# Statuses in the order the database sees them, so that the queue's WHERE clause and the
# partial index's condition are the same SQL (PostgreSQL then uses the index).
OPEN_STATUSES = tuple(sorted(s.value for s in CaseStatus if s not in FINAL_STATUSES))
# What the automated checks recommend that an analyst should look at first.
FLAGGING_RECOMMENDATIONS = (
    Recommendation.MANUAL_REVIEW.value,
    Recommendation.NEEDS_CORRECTION.value,
    Recommendation.SUSPICIOUS.value,
)

# Letters folded for the name search; Python folds the words typed the same way
# (`name_search_fold`). Only translate()/replace() and lower(): both are immutable, so
# they may define a stored column on PostgreSQL and on SQLite.
_ACCENTED = "áàäâãéèëêíìïîóòöôõúùüûñçÁÀÄÂÃÉÈËÊÍÌÏÎÓÒÖÔÕÚÙÜÛÑÇ"
_PLAIN = "aaaaaeeeeiiiiooooouuuuncaaaaaeeeeiiiiooooouuuunc"
_SQLITE_ACCENTED = "áéíóúüñÁÉÍÓÚÜÑ"
_SQLITE_PLAIN = "aeiouunaeiouun"


class NameSearchText(models.Func):
    """first_names and last_names, lower case and without accents, for the name search."""

    output_field = models.CharField()
    arg_joiner = " || ' ' || "

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = super().as_sql(compiler, connection, template="%(expressions)s")
        if connection.vendor == "postgresql":
            return f"translate(lower({sql}), '{_ACCENTED}', '{_PLAIN}')", params
        # SQLite's lower() only knows ASCII letters: fold both cases of each accent. Its
        # parser allows about 25 nested calls, so only Spanish letters (development, tests).
        sql = f"lower({sql})"
        for accented, plain in zip(_SQLITE_ACCENTED, _SQLITE_PLAIN, strict=True):
            sql = f"replace({sql}, '{accented}', '{plain}')"
        return sql, params


class FlaggedByChecks(models.Func):
    """The case carries a flag from submission or the checks recommend a closer look."""

    output_field = models.BooleanField()

    def as_sql(self, compiler, connection, **extra_context):
        recommendations = ", ".join(f"'{r}'" for r in FLAGGING_RECOMMENDATIONS)
        if connection.vendor == "postgresql":
            not_empty = "\"flags\" <> '[]'::jsonb"
        else:
            not_empty = 'json_array_length("flags") > 0'
        return f'("checks_recommendation" IN ({recommendations}) OR {not_empty})', []


class CaseNumberSequence(models.Model):
    """The last case number handed out in a year; rows are locked while a number is taken."""

    year = models.PositiveIntegerField(primary_key=True)
    last_value = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_value}"


class Case(models.Model):
    """One request to update an insured person's contact data (a trámite)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField("número de trámite", max_length=20, unique=True)
    status = models.CharField(
        max_length=32, choices=CaseStatus.choices, default=CaseStatus.SUBMITTED, db_index=True
    )
    submitted_at = models.DateTimeField()
    status_changed_at = models.DateTimeField()
    # The requirements review is due at the end of the 3rd working day; empty
    # while the clock is paused (correction requested) or once reviewed.
    review_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    review_working_days_left = models.PositiveSmallIntegerField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    # When the automated checks were last enqueued; the scheduler re-enqueues them when a
    # submitted case waits too long (its worker died).
    checks_enqueued_at = models.DateTimeField(null=True, blank=True)
    checks_completed_at = models.DateTimeField(null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_cases",
    )

    # Identification (Formulario de recepción + Apartado 1).
    id_type = models.CharField(max_length=20, choices=IdType.choices)
    id_number = models.CharField(max_length=20, db_index=True)
    first_names = models.CharField(max_length=120)
    last_names = models.CharField(max_length=120)
    birth_date = models.DateField()
    birth_province = models.CharField(max_length=6, choices=Province.choices)
    fingerprint_code = models.CharField(max_length=10, blank=True)
    id_issue_date = models.DateField(null=True, blank=True)
    sector = models.CharField(max_length=120)
    message = models.TextField()

    # Residence abroad (Apartado 1 c-g).
    residence_country = models.CharField(max_length=2)
    residence_region = models.CharField(max_length=120)
    residence_city = models.CharField(max_length=120)
    postal_code = models.CharField(max_length=20)
    foreign_phone = models.CharField(max_length=20)

    # Contact in Ecuador (Apartado 2).
    email = models.EmailField()
    ecuador_mobile = models.CharField(max_length=20)
    ecuador_landline = models.CharField(max_length=20, blank=True)

    # What the analyst should know before reading: not in the registry, another open case...
    insured = models.ForeignKey(
        "registry.InsuredPerson",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    flags = models.JSONField(default=list, blank=True)
    # The recommendation of the last finished check run, copied here by
    # `case_checks_outcome_record` so that the queue can filter on it without a join.
    checks_recommendation = models.CharField(max_length=20, blank=True, default="")
    flagged = models.GeneratedField(
        expression=FlaggedByChecks(), output_field=models.BooleanField(), db_persist=True
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    search_name = models.GeneratedField(
        expression=NameSearchText("first_names", "last_names"),
        output_field=models.CharField(max_length=241),
        db_persist=True,
    )
    # A keyed hash of the address the request came from (never the address itself):
    # enough to notice many submissions from one client, useless to anyone without the key.
    client_ref = models.CharField(max_length=64, blank=True, db_index=True)
    decision_reasons = models.JSONField(default=list, blank=True)
    decision_message = models.TextField(blank=True)

    class Meta:
        ordering = ["review_due_at", "submitted_at"]
        verbose_name = "trámite"
        verbose_name_plural = "trámites"
        indexes = [
            models.Index(fields=["status", "review_due_at"]),
            # The queue: open cases, nearest deadline first (the default view and "take
            # the next case"), then the same order within each filter.
            models.Index(
                fields=["review_due_at", "submitted_at", "id"],
                condition=models.Q(status__in=OPEN_STATUSES),
                name="case_queue_open_idx",
            ),
            models.Index(
                fields=["assigned_to", "review_due_at", "submitted_at", "id"],
                name="case_queue_assignee_idx",
            ),
            models.Index(
                fields=["residence_country", "review_due_at", "submitted_at", "id"],
                name="case_queue_country_idx",
            ),
            models.Index(
                fields=["review_due_at", "submitted_at", "id"],
                condition=models.Q(flagged=True, status__in=OPEN_STATUSES),
                name="case_queue_flagged_idx",
            ),
            # The name search uses a trigram index on search_name, created on PostgreSQL
            # only by migration 0005.
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def full_name(self) -> str:
        return f"{self.first_names} {self.last_names}"

    @property
    def checks_pending(self) -> bool:
        """Checks were asked for (submission, correction, analyst) and have not finished since."""
        return self.checks_enqueued_at is not None and (
            self.checks_completed_at is None or self.checks_completed_at < self.checks_enqueued_at
        )

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def review_clock_running(self) -> bool:
        return self.status in REVIEW_CLOCK_STATUSES and self.review_due_at is not None


class CaseTransition(models.Model):
    """One step of a case's life: the citizen's timeline and the analyst's history."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=32, choices=CaseStatus.choices, blank=True)
    to_status = models.CharField(max_length=32, choices=CaseStatus.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            # Monthly figures: the public "attentions" and the supervisors' stage times
            # select transitions to a status within a period.
            models.Index(fields=["to_status", "at"], name="casetransition_status_at"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.from_status} -> {self.to_status}"

    @property
    def actor_display(self) -> str:
        return {"citizen": "Ciudadano", "system": "Sistema"}.get(self.actor_label, self.actor_label)


class CorrectionRequest(models.Model):
    """The analyst asked for some items again; the citizen answers through a personal link."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="corrections")
    items = models.JSONField()
    reasons = models.JSONField()
    message = models.TextField()
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    requested_at = models.DateTimeField(auto_now_add=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.case_id}: {', '.join(self.items)}"

    @property
    def item_labels(self) -> list[str]:
        from ventanilla.documents.constants import DocumentKind

        return [str(DocumentKind(item).label) for item in self.items]
