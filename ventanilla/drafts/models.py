import uuid

from django.db import models

from ventanilla.documents.constants import DocumentKind, FileFormat


def draft_file_path(instance: "DraftFile", filename: str) -> str:
    # No personal data in paths: the draft's random id, the kind and a random name.
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"drafts/{instance.draft.public_id}/{instance.kind}-{uuid.uuid4().hex}.{ext}"


class RequestDraft(models.Model):
    """A request being filled in page by page, before it becomes a case.

    The answers are kept as typed, so every page shows them back; they are validated
    again, all together, by the intake form when the person submits. A draft, its
    files and its "continue later" link expire together (DRAFT_RETENTION_HOURS)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    answers = models.JSONField(default=dict, blank=True)
    completed_steps = models.JSONField(default=list, blank=True)
    email = models.EmailField(blank=True)
    resume_token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    resume_link_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return str(self.public_id)


class DraftFile(models.Model):
    """One accepted upload of a draft (the latest of its kind), already inspected."""

    draft = models.ForeignKey(RequestDraft, on_delete=models.CASCADE, related_name="files")
    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    file = models.FileField(upload_to=draft_file_path, max_length=255)
    original_name = models.CharField(max_length=255)
    format = models.CharField(max_length=8, choices=FileFormat.choices)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    details = models.JSONField(default=dict, blank=True)
    # When the person's recording was converted: its format and size before.
    conversion = models.JSONField(default=dict, blank=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["draft", "kind"], name="draft_file_one_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.draft_id} {self.kind}"
