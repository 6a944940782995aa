"""image_quality: a sharp, well-lit photo passes; blur, darkness, glare and tiny images
are flagged with the figure, the threshold and advice in Spanish."""

import io
import json

import numpy as np
import pytest
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from ventanilla.checks.engines import FAIL, PASS, WARN
from ventanilla.checks.engines.imaging import (
    SHARPNESS_WARN,
    document_images,
    image_metrics,
    image_quality,
)
from ventanilla.testing import identity_media
from ventanilla.testing.factories import PEOPLE

PERSON = PEOPLE[0]


@pytest.fixture(scope="module")
def card() -> bytes:
    return identity_media.id_card_front_jpeg(PERSON)


def _quality(data: bytes, kind: str = "id_front"):
    return image_quality(document_images(data, "jpeg"), kind=kind)


def _pdf(pages: int = 1) -> bytes:
    """An A4 PDF with the card photo drawn on each page and a pure red square."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    photo = ImageReader(io.BytesIO(identity_media.id_card_front_jpeg(PERSON)))
    for number in range(1, pages + 1):
        pdf.drawImage(photo, 60, 480, width=475, height=300)
        pdf.setFillColorRGB(1, 0, 0)
        pdf.rect(60, 100, 100, 100, stroke=0, fill=1)
        pdf.setFillColorRGB(0, 0, 0)
        pdf.drawString(60, 60, f"Página {number} de {pages}")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def test_sharp_card_passes_with_its_figures_and_thresholds(card):
    finding = _quality(card)

    assert finding.outcome == PASS, finding.summary
    assert finding.summary.startswith("Anverso de la cédula: imagen nítida")
    (page,) = finding.evidence["pages"]
    assert (page["width"], page["height"]) == (1000, 630)
    assert page["sharpness"] > SHARPNESS_WARN["id_front"]
    assert finding.evidence["thresholds"]["sharpness_warn_below"] == SHARPNESS_WARN["id_front"]
    assert finding.score == 1.0
    json.dumps(finding.evidence)


@pytest.mark.parametrize(("radius", "outcome"), [(2, WARN), (4, FAIL), (8, FAIL)])
def test_blurred_card_is_flagged(card, radius, outcome):
    finding = _quality(identity_media.blurred(card, radius))

    assert finding.outcome == outcome
    assert "borrosa" in finding.summary
    assert finding.evidence["pages"][0]["problems"] == ["blurry"]


def test_sharpness_falls_as_blur_grows(card):
    photos = [card] + [identity_media.blurred(card, radius) for radius in (2, 4, 8)]
    figures = [image_metrics(document_images(photo, "jpeg")[0]) for photo in photos]

    sharpness = [figure["sharpness"] for figure in figures]
    assert sharpness == sorted(sharpness, reverse=True)
    assert sharpness[0] > 10 * sharpness[1]


def test_sharpness_does_not_depend_on_the_photo_size(card):
    image = document_images(card, "jpeg")[0]
    doubled = np.repeat(np.repeat(image, 2, axis=0), 2, axis=1)

    small, large = image_metrics(image)["sharpness"], image_metrics(doubled)["sharpness"]

    assert large == pytest.approx(small, rel=0.25)


@pytest.mark.parametrize(("factor", "outcome"), [(0.25, WARN), (0.15, FAIL)])
def test_dark_card_is_flagged(card, factor, outcome):
    finding = _quality(identity_media.darkened(card, factor))

    assert finding.outcome == outcome
    assert "oscura" in finding.summary
    assert "too_dark" in finding.evidence["pages"][0]["problems"]


def test_glare_on_the_card_fails_and_on_the_selfie_warns(card):
    on_card = _quality(identity_media.with_glare(card))
    on_selfie = _quality(identity_media.selfie_jpeg(PERSON, glare=True), kind="selfie")
    clean_selfie = _quality(identity_media.selfie_jpeg(PERSON), kind="selfie")

    assert on_card.outcome == FAIL
    assert "reflejo" in on_card.summary
    assert on_selfie.outcome == WARN
    assert on_selfie.evidence["pages"][0]["problems"] == ["glare"]
    assert clean_selfie.outcome == PASS, clean_selfie.summary


def test_tiny_image_is_flagged():
    tiny = identity_media.id_card_front_jpeg(PERSON)
    with Image.open(io.BytesIO(tiny)) as image:
        buffer = io.BytesIO()
        image.resize((320, 200)).save(buffer, format="JPEG", quality=95)

    finding = _quality(buffer.getvalue())

    assert finding.outcome == FAIL
    assert "too_small" in finding.evidence["pages"][0]["problems"]
    assert "320 × 200" in " ".join(finding.evidence["pages"][0]["advice"])


def test_blank_image_lacks_contrast():
    finding = image_quality([np.full((800, 1200, 3), 128, np.uint8)], kind="selfie")

    assert finding.outcome == FAIL  # no edges at all: as blurred as it gets
    assert {"blurry", "low_contrast"} <= set(finding.evidence["pages"][0]["problems"])


def test_pdf_pages_render_in_bgr_up_to_max_pages():
    pages = document_images(_pdf(pages=3), "pdf", max_pages=2, dpi=100)

    assert len(pages) == 2
    height, width = pages[0].shape[:2]
    assert width == pytest.approx(A4[0] * 100 / 72, abs=1)
    assert height == pytest.approx(A4[1] * 100 / 72, abs=1)
    # The red square (reportlab y=100..200 pt from the bottom) is red in BGR order.
    x, y = round(110 * 100 / 72), height - round(150 * 100 / 72)
    assert tuple(pages[0][y, x]) == (0, 0, 255)


def test_white_form_page_is_not_glare():
    pages = document_images(_pdf(), "pdf")

    finding = image_quality(pages, kind="request_form")

    assert finding.outcome == PASS, finding.summary
    assert finding.evidence["pages"][0]["glare"] > 0.5  # a white page, not a reflection
    assert finding.evidence["thresholds"]["glare_warn_above"] is None


def test_jpeg_follows_the_exif_orientation(card):
    with Image.open(io.BytesIO(card)) as image:
        exif = Image.Exif()
        exif[0x0112] = 6  # the phone was turned: rotate 90° clockwise to view
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", exif=exif, quality=90)

    (page,) = document_images(buffer.getvalue(), "jpeg")

    assert page.shape[:2] == (1000, 630)


def test_no_image_at_all_fails():
    finding = image_quality([], kind="request_form")

    assert finding.outcome == FAIL
    assert finding.summary.startswith("Solicitud:")
