"""The five uploads of the procedure, their accepted formats and size limits.

The formats and limits come from the IESS procedure ("formato PDF, JPG, JPEG ...
con un peso máximo de 2 MB"; "El formato del video debe ser MP4 con un peso
máximo de 5 MB"). A megabyte is counted as 1024 × 1024 bytes, the larger of the
two readings, so a file that any computer shows as "2 MB" or less is accepted.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

MEGABYTE = 1024 * 1024


class DocumentKind(models.TextChoices):
    ID_FRONT = "id_front", _("Documento de identidad (anverso)")
    ID_BACK = "id_back", _("Documento de identidad (reverso)")
    SELFIE = "selfie", _("Fotografía del rostro portando el documento")
    REQUEST_FORM = "request_form", _("Solicitud de actualización firmada")
    VIDEO = "video", _("Video de autorización")


class FileFormat(models.TextChoices):
    JPEG = "jpeg", "JPG/JPEG"
    PDF = "pdf", "PDF"
    MP4 = "mp4", "MP4"


# What each format is stored and served as, whatever name the citizen gave it.
CONTENT_TYPES = {
    FileFormat.JPEG: "image/jpeg",
    FileFormat.PDF: "application/pdf",
    FileFormat.MP4: "video/mp4",
}
EXTENSIONS = {
    FileFormat.JPEG: ".jpg",
    FileFormat.PDF: ".pdf",
    FileFormat.MP4: ".mp4",
}

_DOCUMENT_FORMATS = frozenset({FileFormat.JPEG, FileFormat.PDF})

ALLOWED_FORMATS: dict[str, frozenset[str]] = {
    DocumentKind.ID_FRONT: _DOCUMENT_FORMATS,
    DocumentKind.ID_BACK: _DOCUMENT_FORMATS,
    DocumentKind.SELFIE: _DOCUMENT_FORMATS,
    DocumentKind.REQUEST_FORM: _DOCUMENT_FORMATS,
    DocumentKind.VIDEO: frozenset({FileFormat.MP4}),
}

MAX_BYTES: dict[str, int] = {
    DocumentKind.ID_FRONT: 2 * MEGABYTE,
    DocumentKind.ID_BACK: 2 * MEGABYTE,
    DocumentKind.SELFIE: 2 * MEGABYTE,
    DocumentKind.REQUEST_FORM: 2 * MEGABYTE,
    DocumentKind.VIDEO: 5 * MEGABYTE,
}

# Larger images are refused before decoding: a photo under 2 MB rarely exceeds
# 12 megapixels, while a small file claiming far more is a decompression bomb.
MAX_IMAGE_PIXELS = 40_000_000
