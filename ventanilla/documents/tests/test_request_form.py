"""The request form Ventanilla generates for the citizen to sign: what it prints, and
how the citizen's signer, the upload check and the automated checks meet it.

The citizen is Luis (PEOPLE[1]), living in Newark, New Jersey; the values are what
the submission form stores (dates as dates, phones in E.164). Signatures come from a
throwaway test CA (ventanilla.testing.pki).
"""

import io
from datetime import date

import cv2
import numpy as np
import pypdfium2
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields
from pypdf import PdfReader

from ventanilla.checks.engines import FAIL, PASS, WARN
from ventanilla.checks.engines.consistency import consistency, form_fields, signature_box
from ventanilla.checks.engines.ocr import read_pdf_text
from ventanilla.checks.engines.signatures import pdf_hazards, verify_request_signature
from ventanilla.documents.request_form import SIGNATURE_FIELD_NAME, request_form_pdf
from ventanilla.documents.validation import inspect_upload
from ventanilla.testing import case_media, pki
from ventanilla.testing import request_form as hand_signed
from ventanilla.testing.factories import submission_fields

GENERATED_ON = date(2026, 5, 4)
DPI = 150


@pytest.fixture
def luis() -> dict:
    """Luis's declared fields as the submission form cleans them."""
    return submission_fields(
        1,
        birth_date=date(1971, 11, 2),
        id_issue_date=date(2017, 8, 21),
        foreign_phone="+12015550123",
        ecuador_mobile="+593987654321",
        ecuador_landline="+59322345678",
        sector="La Floresta",
    )


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _page_image(pdf: bytes) -> np.ndarray:
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=DPI / 72).to_pil().convert("RGB")
    finally:
        document.close()
    return cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2BGR)


def _signature_fields(pdf: bytes) -> list[tuple[str, bool, list[float]]]:
    """(name, signed, rectangle in points) of each signature field."""
    reader = PdfFileReader(io.BytesIO(pdf))
    return [
        (name, value is not None, [float(v) for v in field.get_object()["/Rect"]])
        for name, value, field in enumerate_sig_fields(reader)
    ]


def test_the_form_prints_every_declared_value_with_spanish_place_names(luis):
    text = _text(request_form_pdf(luis, generated_on=GENERATED_ON))

    for printed in (
        "Luis Alberto Guamán Sarmiento",
        "0102030400",
        "02/11/1971",
        "Estados Unidos",
        "Nueva Jersey",
        "Newark",
        "07102",
        "+12015550123",
        "V4443V4442",
        "21/08/2017",
        "La Floresta",
        "luis.guaman@example.org",
        "+593987654321",
        "+59322345678",
    ):
        assert printed in text, printed
    assert "United States" not in text
    assert "New Jersey" not in text
    assert "US-NJ" not in text
    for heading in (
        "INSTITUTO ECUATORIANO DE SEGURIDAD SOCIAL",
        "SOLICITUD DE ACTUALIZACIÓN DE DATOS DE CONTACTO",
        "Nombres y apellidos:",
        "APARTADO 1",
        "a.- Número de cédula de identidad:",
        "i.- Fecha de expedición de la cédula:",
        "APARTADO 2",
        "APARTADO 3",
        "Lugar y fecha:",
        "Firma del solicitante:",
    ):
        assert heading in text, heading
    assert (
        "Generado por Ventanilla Virtual del IESS el 04/05/2026; imprímalo y fírmelo a mano, "
        "o fírmelo electrónicamente sin modificarlo."
    ) in text


def test_iso_date_strings_are_printed_day_first():
    text = _text(request_form_pdf(submission_fields(0), generated_on=GENERATED_ON))

    assert "12/06/1984" in text  # birth_date "1984-06-12"
    assert "04/03/2019" in text  # id_issue_date "2019-03-04"
    assert "1984-06-12" not in text


def test_the_consistency_check_reads_every_value_as_declared(luis):
    form = read_pdf_text(request_form_pdf(luis, generated_on=GENERATED_ON))

    finding = consistency(
        luis, form=form, id_front=None, id_back=None, registry=None, today=GENERATED_ON
    )

    assert finding.outcome == PASS, finding.summary
    compared = {f["field"]: f["status"] for f in finding.evidence["fields"]}
    assert set(compared) == {
        "full_name", "id_number", "birth_date", "residence_country", "residence_region",
        "residence_city", "postal_code", "foreign_phone", "email", "ecuador_mobile",
        "fingerprint_code", "id_issue_date", "ecuador_landline",
    }  # fmt: skip
    assert set(compared.values()) == {"agrees"}


@pytest.mark.parametrize(
    ("id_type", "id_number", "label"),
    [
        ("passport", "AB123456", "a.- Número de pasaporte:"),
        ("foreigner_code", "EX-0001234", "a.- Código de identificación para extranjeros:"),
    ],
)
def test_without_a_cedula_the_form_names_the_document_and_skips_the_cedula_fields(
    id_type, id_number, label
):
    values = submission_fields(
        3, id_type=id_type, id_number=id_number, fingerprint_code="", id_issue_date=None
    )

    text = _text(request_form_pdf(values, generated_on=GENERATED_ON))

    assert label in text
    assert id_number in text
    assert "Número de cédula de identidad" not in text
    assert text.count("No aplica (sin cédula)") == 2  # h and i


def test_missing_values_leave_their_lines_empty():
    values = {
        "id_type": "cedula",
        "first_names": "Ana",
        "last_names": "Torres",
        "residence_country": "CA",
        "residence_region": "Ontario del Norte",  # typed, not a code: printed as typed
    }

    pdf = request_form_pdf(values, generated_on=GENERATED_ON)

    read = form_fields(read_pdf_text(pdf))
    assert read["full_name"] == "Ana Torres"
    assert read["residence_country"] == "Canadá"
    assert read["residence_region"] == "Ontario del Norte"
    # Each label is there, with nothing after it.
    for empty in (
        "id_number", "birth_date", "residence_city", "postal_code", "foreign_phone",
        "fingerprint_code", "id_issue_date", "email", "ecuador_mobile", "ecuador_landline",
    ):  # fmt: skip
        assert read[empty] == "", empty


def test_the_same_data_on_the_same_day_gives_the_same_file(luis):
    first = request_form_pdf(luis, generated_on=GENERATED_ON)

    assert request_form_pdf(dict(luis), generated_on=GENERATED_ON) == first
    next_day = request_form_pdf(luis, generated_on=date(2026, 5, 5))
    assert next_day != first
    assert "el 05/05/2026;" in _text(next_day)


def test_an_empty_signature_field_lies_over_the_signature_box(luis):
    pdf = request_form_pdf(luis, generated_on=GENERATED_ON)

    ((name, signed, rect),) = _signature_fields(pdf)
    assert (name, signed) == (SIGNATURE_FIELD_NAME, False)
    # The box the handwritten-signature check finds on the rendered page, in points.
    finding = signature_box(_page_image(pdf), None)
    assert finding.evidence["method"] == "recuadro"
    left, top, right, bottom = (v * 72 / DPI for v in finding.evidence["box"])
    page_height = float(PdfReader(io.BytesIO(pdf)).pages[0].mediabox.height)
    found = [left, page_height - bottom, right, page_height - top]
    assert found == pytest.approx(rect, abs=3)
    # Printed unsigned, the field shows nothing: the box is empty.
    assert finding.outcome == FAIL
    assert finding.evidence["ink_ratio"] == 0


def test_a_form_signed_by_hand_in_the_box_is_sent_to_the_analysts_eye(luis):
    pdf = hand_signed.request_form_pdf(luis, signature="handwritten")

    finding = signature_box(_page_image(pdf), None)

    assert finding.outcome == WARN
    assert finding.summary == "Firma manuscrita: compárela con la de la cédula."


def test_the_unsigned_form_is_accepted_as_an_upload_without_hazards(luis):
    pdf = request_form_pdf(luis, generated_on=GENERATED_ON)

    inspected = inspect_upload(
        "request_form", SimpleUploadedFile("solicitud.pdf", pdf, "application/pdf")
    )

    assert inspected.format == "pdf"
    assert inspected.details["page_count"] == 1
    assert pdf_hazards(pdf) == []
    # An empty field is no electronic signature: the checks look for a handwritten one.
    assert (
        verify_request_signature(
            pdf, id_type="cedula", id_number=luis["id_number"], trust_roots_dir=None
        )
        is None
    )


def test_a_copy_signed_electronically_into_the_field_validates(luis, tmp_path):
    ca = case_media.test_ca()
    pki.write_roots(tmp_path, ca)
    signer = ca.issue(full_name="Luis Alberto Guamán Sarmiento", id_number=luis["id_number"])
    pdf = request_form_pdf(luis, generated_on=GENERATED_ON)

    signed = pki.sign_pdf(pdf, signer, field_name=SIGNATURE_FIELD_NAME)

    ((name, is_signed, rect),) = _signature_fields(signed)
    assert (name, is_signed) == (SIGNATURE_FIELD_NAME, True)
    assert rect == _signature_fields(pdf)[0][2]
    finding = verify_request_signature(
        signed, id_type="cedula", id_number=luis["id_number"], trust_roots_dir=tmp_path
    )
    assert finding.outcome == PASS, finding.summary
    (signature,) = finding.evidence["signatures"]
    assert signature["field"] == SIGNATURE_FIELD_NAME
    assert signature["coverage"] == "ENTIRE_FILE"
    assert finding.evidence["hazards"] == []
    inspected = inspect_upload(
        "request_form", SimpleUploadedFile("solicitud-firmada.pdf", signed, "application/pdf")
    )
    assert inspected.format == "pdf"
