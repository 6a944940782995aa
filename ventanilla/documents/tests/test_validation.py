"""Uploads are accepted or refused by their content, with a Spanish reason.

Every file here is real and made by the test (Pillow, reportlab, ffmpeg,
espeak-ng); no test needs the database.
"""

import hashlib
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfWriter

from ventanilla.documents.constants import MAX_BYTES, DocumentKind, FileFormat
from ventanilla.documents.validation import inspect_upload, probe_video, revalidate_stored
from ventanilla.testing import media

MB = 1024 * 1024
DOCUMENT_KINDS = [
    DocumentKind.ID_FRONT,
    DocumentKind.ID_BACK,
    DocumentKind.SELFIE,
    DocumentKind.REQUEST_FORM,
]
STATEMENT = (
    "Yo, Persona de Prueba, portador de la cédula de identidad número cero, autorizo al "
    "Instituto Ecuatoriano de Seguridad Social a actualizar mis datos de contacto."
)


def upload(name: str, data: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def refusal(kind: str, name: str, data: bytes, *, thorough: bool = True) -> ValidationError:
    """The error raised for ``data`` uploaded as ``name``; fails the test if accepted."""
    with pytest.raises(ValidationError) as caught:
        inspect_upload(kind, upload(name, data), thorough=thorough)
    return caught.value


class CountingReader(io.BytesIO):
    """A file that records how many bytes were read and may declare a false size."""

    def __init__(self, data: bytes, name: str, size: int | None = None):
        super().__init__(data)
        self.name = name
        self.bytes_read = 0
        if size is not None:
            self.size = size

    def read(self, count: int | None = -1) -> bytes:
        chunk = super().read(count)
        self.bytes_read += len(chunk)
        return chunk


# --- accepted files -------------------------------------------------------------


def test_jpeg_is_accepted_with_its_dimensions_and_hash():
    data = media.jpeg_bytes(width=640, height=400)
    uploaded = upload("cedula.jpeg", data, "image/jpeg")

    inspected = inspect_upload(DocumentKind.ID_FRONT, uploaded)

    assert inspected.format == FileFormat.JPEG
    assert inspected.content_type == "image/jpeg"
    assert inspected.extension == ".jpg"
    assert inspected.size == len(data)
    assert inspected.sha256 == hashlib.sha256(data).hexdigest()
    assert inspected.details == {"width": 640, "height": 400, "mode": "RGB"}
    assert uploaded.tell() == 0


def test_type_comes_from_content_not_from_name_or_declared_type():
    inspected = inspect_upload(
        DocumentKind.SELFIE, upload("foto.pdf", media.jpeg_bytes(), "application/pdf")
    )

    assert inspected.format == FileFormat.JPEG
    assert inspected.extension == ".jpg"


def test_phone_multi_picture_jpeg_is_accepted():
    inspected = inspect_upload(DocumentKind.SELFIE, upload("selfie.jpg", media.mpo_bytes()))

    assert inspected.format == FileFormat.JPEG
    assert inspected.details["width"] == 800


def test_pdf_is_accepted_with_its_page_count():
    data = media.pdf_bytes(pages=3)

    inspected = inspect_upload(DocumentKind.REQUEST_FORM, upload("solicitud.pdf", data))

    assert inspected.format == FileFormat.PDF
    assert inspected.content_type == "application/pdf"
    assert inspected.extension == ".pdf"
    assert inspected.details == {"page_count": 3, "encrypted": False}


def test_pdf_restricted_only_by_an_owner_password_is_accepted():
    # Such PDFs open without a password; refusing them would cost a signed original.
    writer = PdfWriter(clone_from=io.BytesIO(media.pdf_bytes()))
    writer.encrypt(user_password="", owner_password="solo-editar", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)

    inspected = inspect_upload(DocumentKind.REQUEST_FORM, upload("firmada.pdf", buffer.getvalue()))

    assert inspected.details == {"page_count": 1, "encrypted": True}


def test_mp4_statement_is_accepted_with_its_details():
    data = media.mp4_bytes(statement=STATEMENT)

    inspected = inspect_upload(DocumentKind.VIDEO, upload("autorizacion.mp4", data, "video/mp4"))

    assert inspected.format == FileFormat.MP4
    assert inspected.content_type == "video/mp4"
    assert inspected.extension == ".mp4"
    details = inspected.details
    assert details["duration_seconds"] > 4  # the spoken statement, not a fixed length
    assert details["video_codec"] in {"h264", "mpeg4"}
    assert (details["width"], details["height"]) == (320, 240)
    assert details["audio_codec"] == "aac"
    assert details["sample_rate"] > 0


# --- wrong type -----------------------------------------------------------------


def test_png_named_jpg_is_refused_as_png():
    error = refusal(DocumentKind.SELFIE, "foto.jpg", media.png_bytes())

    assert error.code == "wrong_type"
    assert error.messages == [
        "El archivo «foto.jpg» es una imagen PNG, no JPG/JPEG ni PDF. "
        "Guárdela como JPG o PDF y vuelva a cargarla."
    ]


def test_web_page_named_pdf_is_refused_as_html():
    error = refusal(DocumentKind.REQUEST_FORM, "solicitud.pdf", media.html_bytes())

    assert error.code == "wrong_type"
    assert "«solicitud.pdf» es una página web (HTML)" in error.messages[0]


def test_webm_named_mp4_is_refused_as_webm():
    error = refusal(DocumentKind.VIDEO, "video.mp4", media.webm_bytes())

    assert error.code == "wrong_type"
    assert error.messages == [
        "El archivo «video.mp4» es un video WebM o MKV, no MP4. "
        "Guárdelo o conviértalo a MP4 y vuelva a cargarlo."
    ]


def test_quicktime_video_is_refused_although_ffmpeg_reads_it():
    error = refusal(DocumentKind.VIDEO, "IMG_0001.mov", media.mov_bytes())

    assert error.code == "wrong_type"
    assert "QuickTime (MOV)" in error.messages[0]


def test_photo_in_the_video_slot_is_refused():
    error = refusal(DocumentKind.VIDEO, "video.mp4", media.jpeg_bytes())

    assert error.code == "wrong_type"
    assert "es una imagen JPG, no MP4" in error.messages[0]


def test_video_in_a_document_slot_is_refused():
    error = refusal(DocumentKind.ID_BACK, "reverso.jpg", media.mp4_bytes())

    assert error.code == "wrong_type"
    assert "es un video MP4, no JPG/JPEG ni PDF" in error.messages[0]


# --- damaged files --------------------------------------------------------------


def test_fake_pdf_header_followed_by_garbage_is_refused():
    data = b"%PDF-1.4\n" + bytes(range(256)) * 20

    error = refusal(DocumentKind.ID_FRONT, "cedula.pdf", data)

    assert error.code == "corrupt"
    assert "«cedula.pdf» parece un PDF, pero está dañado" in error.messages[0]


def test_pdf_with_damaged_page_content_is_refused():
    error = refusal(DocumentKind.REQUEST_FORM, "solicitud.pdf", media.damaged_pdf_bytes())

    assert error.code == "corrupt"
    assert "«solicitud.pdf» parece un PDF, pero está dañado" in error.messages[0]


@pytest.mark.parametrize("thorough", [True, False], ids=["decoded", "intake"])
def test_truncated_jpeg_is_refused(thorough):
    """The intake does not decode a photo, but a cut one never reaches its end marker."""
    data = media.jpeg_bytes()

    error = refusal(DocumentKind.ID_FRONT, "cedula.jpg", data[: len(data) // 2], thorough=thorough)

    assert error.code == "corrupt"
    assert "parece una imagen JPG, pero está dañado o incompleto" in error.messages[0]


def test_pdf_that_needs_a_password_is_refused():
    writer = PdfWriter(clone_from=io.BytesIO(media.pdf_bytes()))
    writer.encrypt(user_password="secreta", owner_password="secreta", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)

    error = refusal(DocumentKind.REQUEST_FORM, "solicitud.pdf", buffer.getvalue())

    assert error.code == "encrypted"
    assert "está protegido o cifrado" in error.messages[0]


def test_empty_file_is_refused():
    error = refusal(DocumentKind.ID_BACK, "reverso.jpg", b"")

    assert error.code == "empty"
    assert error.messages[0].startswith("El archivo «reverso.jpg» está vacío")


def test_truncated_mp4_is_refused_at_upload():
    error = refusal(DocumentKind.VIDEO, "video.mp4", media.truncated_mp4_bytes(), thorough=False)

    assert error.code == "truncated"
    assert "«video.mp4» está incompleto: se corta a los" in error.messages[0]
    assert "de 6,0." in error.messages[0]


def test_probe_video_decodes_to_the_end_of_a_truncated_mp4():
    probe = probe_video(io.BytesIO(media.truncated_mp4_bytes()))

    assert probe["duration_seconds"] == pytest.approx(6.0, abs=0.1)  # the header's claim
    assert probe["decoded_seconds"] < 4
    assert probe["complete"] is False


def test_probe_video_of_a_whole_mp4_on_disk(tmp_path):
    path = tmp_path / "video.mp4"
    path.write_bytes(media.mp4_bytes(seconds=3))

    probe = probe_video(path)

    assert probe["complete"] is True
    assert probe["decoded_seconds"] == pytest.approx(3.0, abs=0.1)
    assert probe["video_frames"] == 75  # 3 s at 25 frames per second
    assert probe["audio_frames"] > 0
    assert probe["decode_errors"] == 0


# --- content rules --------------------------------------------------------------


def test_mp4_without_audio_is_refused():
    error = refusal(DocumentKind.VIDEO, "video.mp4", media.mp4_bytes(with_audio=False))

    assert error.code == "no_audio"
    assert error.messages[0].startswith("El video «video.mp4» no tiene sonido.")


def test_decompression_bomb_is_refused_before_decoding():
    # A real, decodable image of 48 megapixels: small in bytes, huge in memory.
    error = refusal(DocumentKind.SELFIE, "selfie.jpg", media.solid_jpeg_bytes(8000, 6000))

    assert error.code == "too_many_pixels"
    assert error.messages == [
        "La imagen «selfie.jpg» mide 8000 × 6000 píxeles; el máximo es 40 megapíxeles. "
        "Redúzcala y vuelva a cargarla."
    ]


def test_header_claiming_400_megapixels_is_refused_as_a_bomb_not_as_damaged():
    # Decoding would first allocate for the claimed size; the header alone decides.
    data = media.jpeg_with_declared_size(20000, 20000)

    error = refusal(DocumentKind.ID_FRONT, "cedula.jpg", data)

    assert error.code == "too_many_pixels"


# --- size -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", DOCUMENT_KINDS)
def test_jpeg_over_2_mb_is_refused_for_document_kinds(kind):
    data = media.big_jpeg_bytes(int(2.1 * MB))

    error = refusal(kind, "cedula.jpg", data)

    assert error.code == "too_large"
    assert error.messages[0].startswith(
        "El archivo «cedula.jpg» pesa 2,1 MB; el máximo es 2 MB. Redúzcalo"
    )


def test_same_jpeg_size_is_within_the_video_limit_but_wrong_type():
    # The 2 MB limit is per kind: the video slot measures against 5 MB first.
    error = refusal(DocumentKind.VIDEO, "video.mp4", media.big_jpeg_bytes(int(2.1 * MB)))

    assert error.code == "wrong_type"


def test_mp4_over_5_mb_is_refused():
    error = refusal(DocumentKind.VIDEO, "video.mp4", media.big_mp4_bytes(int(5.1 * MB)))

    assert error.code == "too_large"
    assert error.messages == [
        "El archivo «video.mp4» pesa 5,1 MB; el máximo es 5 MB. Redúzcalo (grábelo con "
        "menor resolución, por ejemplo 480p, o comprímalo con una aplicación de video) y "
        "vuelva a cargarlo."
    ]


def test_file_of_exactly_the_limit_is_accepted():
    limit = MAX_BYTES[DocumentKind.ID_FRONT]
    data = media.big_jpeg_bytes(limit - 1)  # "just over" limit - 1 bytes
    assert len(data) == limit

    inspected = inspect_upload(DocumentKind.ID_FRONT, upload("cedula.jpg", data))

    assert inspected.size == limit


def test_declared_oversize_is_refused_without_reading_the_file():
    reader = CountingReader(media.jpeg_bytes(), "cedula.jpg", size=3 * MB)

    with pytest.raises(ValidationError) as caught:
        inspect_upload(DocumentKind.ID_FRONT, reader)

    assert caught.value.code == "too_large"
    assert reader.bytes_read == 0


def test_undeclared_oversize_is_refused_after_reading_one_byte_past_the_limit():
    limit = MAX_BYTES[DocumentKind.ID_FRONT]
    reader = CountingReader(b"\xff\xd8\xff" + b"\x00" * (3 * MB), "cedula.jpg")

    with pytest.raises(ValidationError) as caught:
        inspect_upload(DocumentKind.ID_FRONT, reader)

    assert caught.value.code == "too_large"
    assert "pesa más de 2 MB" in caught.value.messages[0]
    assert reader.bytes_read == limit + 1
    assert reader.tell() == 0


# --- stored files ---------------------------------------------------------------


def test_revalidate_stored_reopens_a_closed_stored_file(tmp_path):
    data = media.pdf_bytes()
    path = tmp_path / "request_form-v1-0a1b.pdf"
    path.write_bytes(data)
    stored = File(open(path, "rb"), name=str(path))  # noqa: SIM115 - File owns it
    stored.close()

    inspected = revalidate_stored(
        DocumentKind.REQUEST_FORM, stored, expected_sha256=hashlib.sha256(data).hexdigest()
    )

    assert inspected.format == FileFormat.PDF
    assert stored.closed


def test_revalidate_stored_refuses_a_file_changed_since_upload(tmp_path):
    path = tmp_path / "selfie-v1-0a1b.jpg"
    path.write_bytes(media.jpeg_bytes(text="OTRA"))
    stored = File(open(path, "rb"), name=str(path))  # noqa: SIM115 - File owns it

    with pytest.raises(ValidationError) as caught:
        revalidate_stored(
            DocumentKind.SELFIE,
            stored,
            expected_sha256=hashlib.sha256(media.jpeg_bytes()).hexdigest(),
        )
    stored.close()

    assert caught.value.code == "changed"
    assert "«selfie-v1-0a1b.jpg»" in caught.value.messages[0]
