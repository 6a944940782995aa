"""Synthetic "Solicitud de actualización de datos de contacto para ecuatorianos
residentes en el exterior", as a citizen fills it in and signs it: the form that
Ventanilla generates (ventanilla.documents.request_form), signed by hand with a
drawn squiggle or left unsigned, as a PDF or as a rendered, optionally blurred or
phone-photographed, JPEG.
"""

import io
import math
import random
from datetime import date

import cv2
import numpy as np
import pypdfium2
from PIL import Image, ImageFilter
from reportlab.pdfgen import canvas

from ventanilla.documents import request_form

# The date the footer says the form was generated: fixed, so that the same data
# always gives the same file.
GENERATED_ON = date(2026, 5, 4)
INK = (0.06, 0.1, 0.45)  # ballpoint blue


def printed_values(fields: dict, overrides: dict | None = None) -> dict[str, str]:
    """What the form shows for each field: places by their Spanish names, dates as
    dd/mm/aaaa. `overrides` replace values of `fields` (or "full_name") before printing,
    to make the form disagree with the declared data."""
    merged = {**fields, **(overrides or {})}
    values = request_form.printed_values(merged)
    if overrides and "full_name" in overrides:
        values["full_name"] = overrides["full_name"]
    return values


def _squiggle(pdf: canvas.Canvas, box: request_form.Box) -> None:
    """A handwritten-looking signature: a few overlapping loops and a flourish."""
    x, y, width, height = box.x, box.y, box.width, box.height
    rng = random.Random(7)
    pdf.setStrokeColorRGB(*INK)
    pdf.setLineWidth(1.6)
    pdf.setLineCap(1)
    path = pdf.beginPath()
    cx, cy = x + width * 0.12, y + height * 0.45
    path.moveTo(cx, cy)
    steps = 60
    for step in range(1, steps + 1):
        t = step / steps
        px = x + width * (0.12 + 0.72 * t)
        py = (
            y
            + height * 0.45
            + height * 0.28 * math.sin(t * 9 * math.pi)
            + height * 0.06 * rng.uniform(-1, 1)
        )
        path.lineTo(px, py)
    pdf.drawPath(path, stroke=1, fill=0)
    flourish = pdf.beginPath()
    flourish.moveTo(x + width * 0.1, y + height * 0.22)
    flourish.curveTo(
        x + width * 0.4, y + height * 0.05, x + width * 0.7, y + height * 0.4, x + width * 0.9,
        y + height * 0.2,
    )  # fmt: skip
    pdf.drawPath(flourish, stroke=1, fill=0)


def request_form_pdf(
    fields: dict, *, signature: str = "handwritten", overrides: dict | None = None
) -> bytes:
    """The filled-in request form as a one-page A4 PDF with a text layer (and the
    production form's empty signature field).

    `signature` is "handwritten" (a drawn squiggle in the box) or "none" (an empty box).
    """
    if signature not in ("handwritten", "none"):
        raise ValueError(f"unknown signature {signature!r}")
    merged = {**fields, **(overrides or {})}
    return request_form.render_request_form(
        printed_values(fields, overrides),
        id_type=merged.get("id_type") or "cedula",
        generated_on=GENERATED_ON,
        in_signature_box=_squiggle if signature == "handwritten" else None,
    )


def _render(pdf: bytes, dpi: int) -> Image.Image:
    document = pypdfium2.PdfDocument(pdf)
    try:
        return document[0].render(scale=dpi / 72).to_pil().convert("RGB")
    finally:
        document.close()


def _phone_photo(page: Image.Image, seed: int = 3) -> Image.Image:
    """The page as a phone sees it: on a table, slightly turned and in perspective,
    unevenly lit, a little out of focus, with sensor noise."""
    rng = np.random.default_rng(seed)
    source = cv2.cvtColor(np.asarray(page), cv2.COLOR_RGB2BGR)
    h, w = source.shape[:2]
    margin = int(0.06 * max(w, h))
    out_w, out_h = w + 2 * margin, h + 2 * margin
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    angle = math.radians(2.0)
    centre = np.float32([w / 2, h / 2])
    rotation = np.float32([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    turned = (corners - centre) @ rotation.T + centre + margin
    turned += np.float32([[0.012 * w, 0], [-0.012 * w, 0.008 * h], [0, 0], [0, 0]])  # perspective
    matrix = cv2.getPerspectiveTransform(corners, turned.astype(np.float32))
    photo = cv2.warpPerspective(
        source, matrix, (out_w, out_h), borderMode=cv2.BORDER_CONSTANT, borderValue=(70, 88, 104)
    )
    light = np.linspace(1.0, 0.78, out_w, dtype=np.float32)[None, :, None]
    light = light * np.linspace(0.95, 1.0, out_h, dtype=np.float32)[:, None, None]
    photo = photo.astype(np.float32) * light
    photo = cv2.GaussianBlur(photo, (0, 0), 0.8)
    photo += rng.normal(0, 6, photo.shape).astype(np.float32)
    photo = np.clip(photo, 0, 255).astype(np.uint8)
    return Image.fromarray(cv2.cvtColor(photo, cv2.COLOR_BGR2RGB))


def request_form_jpeg(
    fields: dict,
    *,
    signature: str = "handwritten",
    overrides: dict | None = None,
    blur: float = 0,
    photo: bool = False,
    dpi: int = 150,
) -> bytes:
    """The same form rendered to a JPEG (A4 at `dpi`: 1240 × 1754 pixels at 150).

    `blur` is a Gaussian radius in pixels; `photo` adds a slight turn, perspective,
    uneven light and noise, like a phone photo of the paper.
    """
    image = _render(request_form_pdf(fields, signature=signature, overrides=overrides), dpi)
    if photo:
        image = _phone_photo(image)
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85 if photo else 92)
    return buffer.getvalue()
