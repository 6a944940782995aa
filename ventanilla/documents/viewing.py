"""The copy of a document that analysts view, without the metadata citizens' devices add.

Phones write into a photo where it was taken (GPS), the camera and its serial number,
the time and the editing software; PDF producers write the author, the computer's user
name and the program into the document information and XMP metadata. None of it is
needed to review a case (LOPDP art. 10, data minimisation), so what staff view is:

- a JPEG: decoded, turned upright by its EXIF orientation (``ImageOps.exif_transpose``),
  and encoded again with no EXIF, XMP, IPTC or comment; the colour profile is kept.
  Only the first picture of a multi-picture file is shown; a motion photo's video
  after the picture is dropped;
- an unsigned PDF: rewritten without its document information and XMP metadata;
- a signed PDF: the original, unchanged. Any rewrite changes the signed bytes, and a
  viewer would then show the signature as broken or the document as altered after
  signing. The signature checks always read the stored original, not this copy;
- anything else (the MP4 statement): the original.

The original stays stored untouched: the checks, the signature validation and a
data-subject access export read it, not this copy.
"""

import io

from PIL import Image, ImageOps
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject

from .constants import FileFormat
from .models import Document
from .services import document_open

JPEG_QUALITY = 95


def viewable_copy(document: Document) -> tuple[bytes, str]:
    """(content, content type) of what an analyst is shown for ``document``."""
    with document_open(document) as stored:
        content = stored.read()
    if document.format == FileFormat.JPEG:
        return jpeg_without_metadata(content), "image/jpeg"
    if document.format == FileFormat.PDF:
        return pdf_without_metadata(content), "application/pdf"
    return content, document.content_type


def jpeg_without_metadata(content: bytes) -> bytes:
    """The picture upright, encoded again with only its pixels and colour profile."""
    with Image.open(io.BytesIO(content), formats=("JPEG", "MPO")) as image:
        icc_profile = image.info.get("icc_profile")
        upright = ImageOps.exif_transpose(image)
        # A copy with no `info`: Pillow would otherwise write the XMP and comment back.
        pixels = Image.new(upright.mode, upright.size)
        pixels.paste(upright)
    if pixels.mode not in ("RGB", "L", "CMYK"):
        pixels = pixels.convert("RGB")
    options = {"quality": JPEG_QUALITY, "optimize": True}
    if icc_profile:
        options["icc_profile"] = icc_profile
    buffer = io.BytesIO()
    pixels.save(buffer, format="JPEG", **options)
    return buffer.getvalue()


def is_signed_pdf(reader: PdfReader) -> bool:
    """Whether the PDF carries a digital signature (a signature field with a value)."""
    for field in (reader.get_fields() or {}).values():
        if field.get("/FT") == "/Sig" and field.get("/V") is not None:
            return True
    return False


def pdf_without_metadata(content: bytes) -> bytes:
    """An unsigned PDF without document information and XMP; a signed one unchanged."""
    reader = PdfReader(io.BytesIO(content), strict=False)
    if reader.is_encrypted:
        reader.decrypt("")
    if is_signed_pdf(reader):
        return content
    writer = PdfWriter(clone_from=reader)
    root = writer.root_object
    if NameObject("/Metadata") in root:
        del root[NameObject("/Metadata")]
    for page in writer.pages:
        if NameObject("/Metadata") in page:
            del page[NameObject("/Metadata")]
    # pypdf writes an /Info of its own (the producer); it is emptied, not kept.
    writer.metadata = None
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
