import uuid

from django.db import models

from .constants import DocumentKind, FileFormat


def document_path(instance: "Document", filename: str) -> str:
    # No personal data in paths: the case's random id, the kind and a random name.
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"cases/{instance.case.public_id}/{instance.kind}-v{instance.version}-{uuid.uuid4().hex}.{ext}"


class Document(models.Model):
    """One uploaded file of a case. A correction adds a new version; old ones are kept."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    version = models.PositiveSmallIntegerField(default=1)
    is_current = models.BooleanField(default=True)
    file = models.FileField(upload_to=document_path, max_length=255)
    original_name = models.CharField(max_length=255)
    format = models.CharField(max_length=8, choices=FileFormat.choices)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    # The file's SHA-256, taken by the checks worker from the stored file ("" until then: the
    # intake does not hash, docs/security.md E), or by the retention purge before deleting it.
    sha256 = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    # When the retention period ended and the stored file was deleted (documents/retention.py):
    # the row stays, with its hash, size and format, as the record of what was received.
    purged_at = models.DateTimeField(null=True, blank=True)
    # When ClamAV found the stored file clean (the background checks scan it, not the
    # intake: docs/security.md). Staff cannot open a file that has not been scanned.
    scanned_at = models.DateTimeField(null=True, blank=True)
    correction = models.ForeignKey(
        "cases.CorrectionRequest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="documents",
    )

    class Meta:
        ordering = ["kind", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "kind", "version"], name="document_unique_version"
            ),
        ]
        indexes = [
            # The retention purge looks only at files not yet purged: a small set, since
            # the files of older cases are gone.
            models.Index(
                fields=["case"],
                condition=models.Q(purged_at__isnull=True),
                name="document_unpurged_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} v{self.version}"
