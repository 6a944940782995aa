"""The consistency check and the handwritten-signature box, as an analyst meets them.

Documents are generated from a made-up person (PEOPLE[0]) and read by the same
OCR as in production; each test changes one thing the analyst must be told about.
"""

import json
from datetime import date

import cv2
import numpy as np
import pytest

from ventanilla.checks.engines import FAIL, PASS, WARN
from ventanilla.checks.engines.consistency import (
    consistency,
    id_front_fields,
    signature_box,
)
from ventanilla.checks.engines.ocr import OcrLine, OcrResult, read_image, read_pdf_text
from ventanilla.testing.factories import PEOPLE
from ventanilla.testing.identity_media import id_card_back_jpeg, id_card_front_jpeg
from ventanilla.testing.request_form import request_form_jpeg, request_form_pdf

TODAY = date(2026, 11, 25)
PERSON = PEOPLE[0]


def _declared(person: dict, **changes) -> dict:
    """What the citizen typed, as the case stores it (dates, E.164 phones)."""
    declared = {
        **person,
        "id_type": "cedula",
        "birth_date": date.fromisoformat(person["birth_date"]),
        "id_issue_date": date.fromisoformat(person["id_issue_date"]),
        "foreign_phone": "+34612345678",
        "ecuador_mobile": "+593991234567",
        "ecuador_landline": "",
    }
    declared.update(changes)
    return declared


def _image(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def _ocr_text(rows: list[str], confidence: float = 0.95) -> OcrResult:
    """An OCR result as an engine returns it: one line per row, top to bottom."""
    return OcrResult(
        engine="tesseract",
        lines=[
            OcrLine(text, (10, 40 * i, 10 + 20 * len(text), 40 * i + 30), confidence)
            for i, text in enumerate(rows)
        ],
    )


def _field(finding, field: str, source: str) -> dict:
    return next(
        f for f in finding.evidence["fields"] if f["field"] == field and f["source"] == source
    )


@pytest.fixture(scope="module")
def signed_form_image() -> np.ndarray:
    return _image(request_form_jpeg(PERSON, signature="handwritten"))


@pytest.fixture(scope="module")
def documents(signed_form_image) -> dict[str, OcrResult]:
    """The request form (a scan of the signed paper) and both sides of the cédula, read
    as the pipeline reads them."""
    return {
        "form": read_image(signed_form_image),
        "id_front": read_image(_image(id_card_front_jpeg(PERSON))),
        "id_back": read_image(_image(id_card_back_jpeg(PERSON))),
    }


@pytest.fixture(scope="module")
def form_text() -> OcrResult:
    return read_pdf_text(request_form_pdf(PERSON))


def test_documents_that_agree_with_the_declared_data_pass(documents):
    registry = {
        "first_names": "MARIA FERNANDA",
        "last_names": "QUISPE ANDRADE",
        "birth_date": date(1984, 6, 12),
    }

    finding = consistency(_declared(PERSON), **documents, registry=registry, today=TODAY)

    assert finding.outcome == PASS, finding.summary
    assert finding.score == 1.0
    sources = {f["source"] for f in finding.evidence["fields"]}
    assert sources == {"formulario", "cédula anverso", "cédula reverso", "registro"}
    assert all(check["ok"] for check in finding.evidence["checks"])
    assert set(finding.evidence["engines"]) == {"formulario", "cédula anverso", "cédula reverso"}
    assert _field(finding, "fingerprint_code", "cédula reverso")["read"] == "E3331I2222"
    json.dumps(finding.evidence)  # stored as JSON for the analyst


def test_a_form_photo_with_another_id_number_and_name_fails_naming_them(documents):
    other = PEOPLE[1]
    photo = _image(
        request_form_jpeg(
            PERSON,
            photo=True,
            overrides={"id_number": other["id_number"], "last_names": other["last_names"]},
        )
    )

    finding = consistency(
        _declared(PERSON),
        form=read_image(photo),
        id_front=documents["id_front"],
        id_back=documents["id_back"],
        registry=None,
        today=TODAY,
    )

    assert finding.outcome == FAIL
    assert "número de identificación (formulario)" in finding.summary
    assert "nombres y apellidos (formulario)" in finding.summary
    number = _field(finding, "id_number", "formulario")
    assert (number["read"], number["ok"]) == (other["id_number"], False)
    assert _field(finding, "id_number", "cédula anverso")["ok"] is True
    assert finding.score < 1.0


def test_an_unreadable_blurred_cedula_is_left_to_the_analyst(form_text):
    front = read_image(_image(id_card_front_jpeg(PERSON, blur=6)))
    back = read_image(_image(id_card_back_jpeg(PERSON, blur=6)))

    finding = consistency(
        _declared(PERSON), form=form_text, id_front=front, id_back=back, registry=None, today=TODAY
    )

    assert finding.outcome == WARN
    assert "no se pudo leer" in finding.summary
    assert _field(finding, "last_names", "cédula anverso")["status"] == "unread"
    assert _field(finding, "fingerprint_code", "cédula reverso")["status"] == "unread"


def test_garbage_read_with_low_confidence_is_doubtful_not_a_disagreement(form_text):
    # What Tesseract makes of a card blurred with a 4-pixel radius, with its confidences.
    front = _ocr_text(
        ["REPUBLICA DEL ECUADOR", "APELLIDOS", "QUIAPA ARORADAE", "NOMBRES", "MARIA (AMADA"],
        confidence=0.3,
    )

    finding = consistency(
        _declared(PERSON), form=form_text, id_front=front, id_back=None, registry=None, today=TODAY
    )

    assert finding.outcome == WARN
    assert _field(finding, "last_names", "cédula anverso")["status"] == "slip"


def test_a_fingerprint_code_off_the_card_pattern_is_flagged(form_text):
    bad_code = "E33312222"  # one digit short
    form = read_pdf_text(request_form_pdf(PERSON, overrides={"fingerprint_code": bad_code}))

    finding = consistency(
        _declared(PERSON, fingerprint_code=bad_code),
        form=form,
        id_front=None,
        id_back=None,
        registry=None,
        today=TODAY,
    )

    assert finding.outcome == WARN
    assert "el código dactilar no tiene el formato de la cédula" in finding.summary
    check = next(c for c in finding.evidence["checks"] if c["name"] == "fingerprint_code_pattern")
    assert check["ok"] is False


def test_a_registry_birth_date_that_differs_fails(form_text):
    registry = {"first_names": "María Fernanda", "last_names": "Quispe Andrade"}
    registry["birth_date"] = date(1984, 6, 21)

    finding = consistency(
        _declared(PERSON), form=form_text, id_front=None, id_back=None, registry=registry,
        today=TODAY,
    )  # fmt: skip

    assert finding.outcome == FAIL
    assert "fecha de nacimiento (registro)" in finding.summary
    entry = _field(finding, "birth_date", "registro")
    assert (entry["declared"], entry["read"], entry["ok"]) == ("1984-06-12", "1984-06-21", False)


def test_a_form_dated_month_first_agrees_with_the_declared_birth_date():
    # Written as in the United States: 06/12/1984 is 12 June 1984.
    form = read_pdf_text(request_form_pdf(PERSON, overrides={"birth_date": "06/12/1984"}))

    finding = consistency(
        _declared(PERSON), form=form, id_front=None, id_back=None, registry=None, today=TODAY
    )

    assert finding.outcome == PASS, finding.summary
    assert _field(finding, "birth_date", "formulario")["read"] == "1984-06-12"


def test_a_cedula_number_with_a_wrong_check_digit_fails():
    finding = consistency(
        _declared(PERSON, id_number="1714307104"),
        form=None,
        id_front=None,
        id_back=None,
        registry=None,
        today=TODAY,
    )

    assert finding.outcome == FAIL
    assert "el número de cédula no es válido" in finding.summary.lower()


def test_a_phone_that_is_not_from_ecuador_as_the_ecuadorian_mobile_is_flagged():
    finding = consistency(
        _declared(PERSON, ecuador_mobile="+34612345679"),
        form=None,
        id_front=None,
        id_back=None,
        registry=None,
        today=TODAY,
    )

    assert finding.outcome == WARN
    check = next(c for c in finding.evidence["checks"] if c["name"] == "ecuador_mobile_valid")
    assert check["ok"] is False


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            ["CÉDULA DE CIUDADANÍA No. 092345678-4", "APELLIDOS", "QUISPE ANDRADE", "NOMBRES",
             "MARÍA FERNANDA", "FECHA DE NACIMIENTO", "12 JUN 1984"],
            ("0923456784", "QUISPE ANDRADE", "MARÍA FERNANDA", date(1984, 6, 12)),
        ),
        (
            ["CEDULA 092 345 678 4", "APELLIDOS Y NOMBRES", "QUISPE ANDRADE", "MARIA FERNANDA",
             "FECHA DE NACIMIENTO: 12/06/1984"],
            ("0923456784", "QUISPE ANDRADE", "MARIA FERNANDA", date(1984, 6, 12)),
        ),
        (
            ["No. 0923456784", "APELLIDOS: Quispe Andrade", "NOMBRES: María Fernanda",
             "FECHA DE NACIMIENTO 1984-06-12"],
            ("0923456784", "Quispe Andrade", "María Fernanda", date(1984, 6, 12)),
        ),
    ],
)  # fmt: skip
def test_the_cedula_front_is_read_in_its_several_layouts(rows, expected):
    fields = id_front_fields(_ocr_text(rows))

    assert (
        fields["id_number"],
        fields["last_names"],
        fields["first_names"],
        fields["birth_date"],
    ) == expected


def test_an_empty_signature_box_fails():
    photo = _image(request_form_jpeg(PERSON, signature="none", photo=True))

    finding = signature_box(photo, None)

    assert finding.outcome == FAIL
    assert finding.summary.startswith("El recuadro de firma está vacío")
    assert finding.evidence["method"] == "recuadro"
    assert finding.evidence["ink_ratio"] < finding.evidence["ink_min"]


def test_a_handwritten_signature_is_sent_to_the_analysts_eye(signed_form_image, documents):
    finding = signature_box(signed_form_image, documents["form"])

    assert finding.outcome == WARN
    assert finding.summary == "Firma manuscrita: compárela con la de la cédula."
    assert finding.evidence["ink_ratio"] > finding.evidence["ink_min"]
    assert finding.attachments["firma.jpg"][:2] == b"\xff\xd8"  # the box, for the analyst


def test_a_page_without_a_signature_label_is_left_to_the_analyst():
    card = _image(id_card_back_jpeg(PERSON))

    finding = signature_box(card, read_image(card, engine="tesseract"))

    assert finding.outcome == WARN
    assert "No se encontró el recuadro de firma" in finding.summary
