"""OCR of the generated request form and cédula, and the PDF text layer.

The documents are drawn by the test (reportlab, Pillow); both engines run offline.
"""

import io
import socket
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import pytest
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from ventanilla.checks.engines import ocr
from ventanilla.checks.engines.consistency import form_fields, id_back_fields, id_front_fields
from ventanilla.testing.factories import PEOPLE
from ventanilla.testing.identity_media import id_card_back_jpeg, id_card_front_jpeg
from ventanilla.testing.request_form import printed_values, request_form_jpeg, request_form_pdf

PERSON = PEOPLE[1]


def _image(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def _printed_fields(fields: dict) -> list[str]:
    return [value for value in printed_values(fields).values() if value]


@pytest.fixture(scope="module")
def form_photo() -> np.ndarray:
    return _image(request_form_jpeg(PERSON, photo=True))


def test_rapidocr_reads_every_value_of_a_phone_photo_of_the_form(form_photo):
    result = ocr.read_image(form_photo, engine="rapidocr")

    text = " ".join(result.text.split())
    missing = [value for value in _printed_fields(PERSON) if value not in text]
    assert result.engine == "rapidocr"
    assert missing == []


def test_tesseract_reads_the_clean_cedula():
    front = ocr.read_image(_image(id_card_front_jpeg(PERSON)), engine="tesseract")
    back = ocr.read_image(_image(id_card_back_jpeg(PERSON)), engine="tesseract")

    assert front.engine == back.engine == "tesseract"
    assert id_front_fields(front) == {
        "id_number": PERSON["id_number"],
        "last_names": PERSON["last_names"].upper(),
        "first_names": PERSON["first_names"].upper(),
        "birth_date": date.fromisoformat(PERSON["birth_date"]),
    }
    assert id_back_fields(back)["fingerprint_code"] == PERSON["fingerprint_code"]


def test_auto_reads_with_tesseract_when_rapidocr_breaks(monkeypatch):
    def broken(image):
        raise RuntimeError("onnxruntime could not start")

    monkeypatch.setattr(ocr, "_read_rapidocr", broken)

    result = ocr.read_image(_image(id_card_back_jpeg(PERSON)))

    assert result.engine == "tesseract"
    assert PERSON["fingerprint_code"][:4] in result.text


def test_auto_with_accept_spends_rapidocr_only_on_rejected_readings():
    card = _image(id_card_back_jpeg(PERSON))

    kept = ocr.read_image(card, accept=lambda result: "DACTILAR" in result.text)
    redone = ocr.read_image(card, accept=lambda result: False)

    assert kept.engine == "tesseract"
    assert redone.engine == "tesseract+rapidocr"
    assert PERSON["fingerprint_code"] in redone.text


def test_boxes_of_a_downscaled_page_refer_to_the_page_as_given():
    big = _image(request_form_jpeg(PERSON, dpi=300))  # 2480 x 3508: shrunk before OCR
    small = _image(request_form_jpeg(PERSON, dpi=150))

    def signature_label(image):
        result = ocr.read_image(image, engine="tesseract")
        return next(line.box for line in result.lines if "solicitante" in line.text)

    big_box, small_box = signature_label(big), signature_label(small)
    assert max(big.shape) > ocr.MAX_LONG_SIDE
    assert big_box[1] == pytest.approx(2 * small_box[1], abs=12)
    assert big_box[2] == pytest.approx(2 * small_box[2], abs=12)


def test_the_pdf_text_layer_is_read_without_ocr():
    result = ocr.read_pdf_text(request_form_pdf(PERSON))

    assert result is not None
    assert result.engine == "pdf-text"
    fields = form_fields(result)
    assert fields["id_number"] == PERSON["id_number"]
    assert fields["email"] == PERSON["email"]
    assert fields["fingerprint_code"] == PERSON["fingerprint_code"]
    assert fields["ecuador_landline"] == ""


def test_a_scanned_pdf_has_no_text_layer_to_read():
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    scan = ImageReader(io.BytesIO(request_form_jpeg(PERSON, dpi=72)))
    page.drawImage(scan, 0, 0, width=A4[0], height=A4[1])
    page.showPage()
    page.save()

    assert ocr.read_pdf_text(buffer.getvalue()) is None


def test_rapidocr_loads_its_models_from_the_wheel_without_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("network disabled by the test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(ocr, "_rapid_engine", None)

    result = ocr.read_image(_image(id_card_back_jpeg(PERSON)), engine="rapidocr")

    model = Path(ocr._rapid_engine.cfg.Rec.model_path)
    assert model.is_file() and "site-packages/rapidocr/models" in model.as_posix()
    assert PERSON["fingerprint_code"] in result.text
