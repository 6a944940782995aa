"""Reads about stored documents."""

from .models import Document
from .scanning import scanning_enabled


def document_scanned(document: Document) -> bool:
    """Whether staff may open the file: ClamAV found it clean. The intake does not scan
    (the background checks do, docs/security.md), so a file is unscanned until its case's
    checks have run; one the antivirus flagged stays so. Without a scanner configured
    (CLAMAV_URL empty, which `manage.py check --deploy` refuses) nothing is ever scanned."""
    return document.scanned_at is not None or not scanning_enabled()
