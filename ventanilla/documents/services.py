"""Storing uploads. A file is written only after it passed inspection, under a
random name in private storage, and is removed again if the surrounding
transaction fails, so a refused or failed submission leaves nothing behind."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.files.storage import default_storage

from .models import Document


@contextmanager
def files_removed_on_failure() -> Iterator[list[Document]]:
    """Collects the documents saved inside the block; deletes their files if the block fails.

    Wrap the transaction.atomic() block with this, so the files go when the rows roll back.
    """
    saved: list[Document] = []
    try:
        yield saved
    except BaseException:
        for document in saved:
            default_storage.delete(document.file.name)
        raise


def document_save(*, case, kind: str, upload, inspected, correction=None) -> Document:
    """Store one inspected upload as the current version of its kind."""
    previous = (
        Document.objects.select_for_update()
        .filter(case=case, kind=kind)
        .order_by("-version")
        .first()
    )
    document = Document(
        case=case,
        kind=kind,
        version=previous.version + 1 if previous else 1,
        original_name=(getattr(upload, "name", "") or "")[:255],
        format=inspected.format,
        content_type=inspected.content_type,
        size=inspected.size,
        sha256=inspected.sha256,
        details=inspected.details,
        correction=correction,
    )
    upload.seek(0)
    # The name the citizen gave is never trusted: the extension follows the content.
    document.file.save(f"upload{inspected.extension}", upload, save=False)
    if previous is not None:
        Document.objects.filter(case=case, kind=kind, is_current=True).update(is_current=False)
    document.save()
    return document


def document_open(document: Document):
    """The stored file, opened for reading."""
    return default_storage.open(document.file.name, "rb")
