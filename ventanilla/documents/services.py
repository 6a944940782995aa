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


def document_file_store(
    *, case, kind: str, upload, inspected, version: int = 1, correction=None
) -> Document:
    """Encrypt and write one inspected upload; return its Document row, not yet saved.

    Needs no lock and no row of its own, so a caller can store the files before it takes
    one (case_submit writes the five files before it takes the year's number)."""
    document = Document(
        case=case,
        kind=kind,
        version=version,
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
    return document


def document_save(*, case, kind: str, upload, inspected, correction=None) -> Document:
    """Store one inspected upload as the current version of its kind."""
    previous = (
        Document.objects.select_for_update()
        .filter(case=case, kind=kind)
        .order_by("-version")
        .first()
    )
    document = document_file_store(
        case=case,
        kind=kind,
        upload=upload,
        inspected=inspected,
        version=previous.version + 1 if previous else 1,
        correction=correction,
    )
    if previous is not None:
        Document.objects.filter(case=case, kind=kind, is_current=True).update(is_current=False)
    document.save()
    return document


def document_open(document: Document):
    """The stored file, opened for reading."""
    return default_storage.open(document.file.name, "rb")
