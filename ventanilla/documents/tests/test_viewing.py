"""What analysts view carries no metadata from the citizen's device; signed PDFs stay intact."""

import io

import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter

from ventanilla.cases.constants import CaseStatus
from ventanilla.documents.constants import DocumentKind
from ventanilla.documents.viewing import (
    jpeg_without_metadata,
    pdf_without_metadata,
    viewable_copy,
)
from ventanilla.testing import case_media, factories, media
from ventanilla.testing.factories import case_in_status

XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
    b'22-rdf-syntax-ns#"><rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" '
    b'tiff:Model="Pixel 9 SERIAL-4711"/></rdf:RDF></x:xmpmeta>'
)


def phone_photo() -> bytes:
    """A portrait photo stored sideways with orientation 6, GPS, camera, serial, XMP and
    a comment, as phones write them."""
    image = Image.new("RGB", (400, 300), (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, 400, 60))  # a blue band along the stored top
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to view
    exif[0x010F] = "Google"  # Make
    exif[0x0110] = "Pixel 9"  # Model
    exif[0xA431] = "SERIAL-4711"  # BodySerialNumber
    exif[0x8825] = {1: "S", 2: (0.0, 10.0, 30.0), 3: "W", 4: (78.0, 30.0, 0.0)}  # GPS
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif, xmp=XMP, comment=b"Quito, casa de Mar\xc3\xada")
    return buffer.getvalue()


def test_photo_copy_has_no_exif_xmp_or_comment_and_is_upright():
    original = phone_photo()
    with Image.open(io.BytesIO(original)) as before:
        assert before.getexif()[0x0112] == 6 and "xmp" in before.info

    copy = jpeg_without_metadata(original)

    for marker in (b"Exif\x00\x00", b"SERIAL-4711", b"Pixel 9", b"xmpmeta", b"Quito", b"Google"):
        assert marker not in copy
    with Image.open(io.BytesIO(copy)) as after:
        assert after.size == (300, 400)  # turned upright
        assert not after.getexif()
        assert not {"exif", "xmp", "comment"} & set(after.info)
        # The blue band, stored along the top, is on the right once turned clockwise.
        assert after.convert("RGB").getpixel((290, 200))[2] > 150


def test_unsigned_pdf_copy_has_no_document_information_or_xmp():
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(media.pdf_bytes())))
    writer.add_metadata({"/Author": "María Pérez", "/Creator": "Escáner de la oficina de Juan"})
    writer.xmp_metadata = None
    buffer = io.BytesIO()
    writer.write(buffer)
    original = buffer.getvalue()
    assert b"Mar" in original or "María" in str(PdfReader(io.BytesIO(original)).metadata)

    copy = pdf_without_metadata(original)

    reader = PdfReader(io.BytesIO(copy))
    assert not (reader.metadata or {}).get("/Author")
    assert not (reader.metadata or {}).get("/Creator")
    assert "/Metadata" not in reader.trailer["/Root"]
    assert len(reader.pages) == 1
    assert "SOLICITUD" in reader.pages[0].extract_text()


def test_signed_pdf_is_shown_as_signed_unchanged():
    signed = case_media.signed_form(factories.submission_fields())
    assert pdf_without_metadata(signed) == signed


@pytest.mark.django_db
def test_viewable_copy_of_a_stored_document(analyst):
    case = case_in_status(CaseStatus.SUBMITTED, analyst)
    photo = case.documents.get(kind=DocumentKind.SELFIE)
    form = case.documents.get(kind=DocumentKind.REQUEST_FORM)
    video = case.documents.get(kind=DocumentKind.VIDEO)

    content, content_type = viewable_copy(photo)
    assert content_type == "image/jpeg"
    assert Image.open(io.BytesIO(content)).format == "JPEG"

    content, content_type = viewable_copy(form)
    assert content_type == "application/pdf"
    assert len(PdfReader(io.BytesIO(content)).pages) == 1

    content, content_type = viewable_copy(video)
    assert content_type == "video/mp4"
    assert content[4:8] == b"ftyp"
