"""Synthetic "Solicitud de actualización de datos de contacto para ecuatorianos
residentes en el exterior", as a citizen fills it in: a text PDF (reportlab) or a
rendered, optionally blurred or phone-photographed, JPEG.

The layout follows the seed: a header with the full name, Apartado 1 (a-i),
Apartado 2 (contact data in Ecuador) and Apartado 3 (the signature box). It is
not an official form: the page says so.
"""

import functools
import gettext
import io
import math
import random
from datetime import date

import cv2
import numpy as np
import pycountry
import pypdfium2
from PIL import Image, ImageFilter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

TITLE = (
    "SOLICITUD DE ACTUALIZACIÓN DE DATOS DE CONTACTO",
    "PARA ECUATORIANOS RESIDENTES EN EL EXTERIOR",
)

# (field, label) in the order of the seed; the label is printed as written here.
APARTADO_1 = [
    ("id_number", "a.- Número de cédula de identidad:"),
    ("birth_date", "b.- Fecha de nacimiento:"),
    ("residence_country", "c.- País de residencia (exterior):"),
    ("residence_region", "d.- Estado / Provincia de residencia:"),
    ("residence_city", "e.- Ciudad de residencia (exterior):"),
    ("postal_code", "f.- Código postal:"),
    ("foreign_phone", "g.- Teléfonos de contacto en el exterior:"),
    ("fingerprint_code", "h.- Código dactilar de la cédula:"),
    ("id_issue_date", "i.- Fecha de expedición de la cédula:"),
]
APARTADO_2 = [
    ("email", "Correo electrónico:"),
    ("ecuador_mobile", "Teléfono celular (Ecuador):"),
    ("ecuador_landline", "Teléfono fijo (Ecuador):"),
]
SIGNATURE_LABEL = "Firma del solicitante:"

LABEL_X, VALUE_X = 56, 300
INK = (0.06, 0.1, 0.45)  # ballpoint blue


@functools.cache
def _spanish(domain: str) -> gettext.NullTranslations:
    return gettext.translation(domain, pycountry.LOCALES_DIR, languages=["es"], fallback=True)


def _country(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code.upper()) if len(code) == 2 else None
    return _spanish("iso3166-1").gettext(country.name) if country else code


def _region(code: str) -> str:
    region = pycountry.subdivisions.get(code=code.upper()) if "-" in code else None
    return _spanish("iso3166-2").gettext(region.name) if region else code


def _date(value) -> str:
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    try:
        return date.fromisoformat(str(value)).strftime("%d/%m/%Y")
    except ValueError:
        return str(value)


def printed_values(fields: dict, overrides: dict | None = None) -> dict[str, str]:
    """What the form shows for each field: places by their Spanish names, dates as
    dd/mm/aaaa. `overrides` replace values of `fields` (or "full_name") before printing,
    to make the form disagree with the declared data."""
    merged = {**fields, **(overrides or {})}
    values = {
        "full_name": f"{merged['first_names']} {merged['last_names']}",
        "id_number": merged["id_number"],
        "birth_date": _date(merged["birth_date"]),
        "residence_country": _country(merged["residence_country"]),
        "residence_region": _region(merged["residence_region"]),
        "residence_city": merged["residence_city"],
        "postal_code": merged["postal_code"],
        "foreign_phone": merged["foreign_phone"],
        "fingerprint_code": merged.get("fingerprint_code") or "",
        "id_issue_date": _date(merged["id_issue_date"]) if merged.get("id_issue_date") else "",
        "email": merged["email"],
        "ecuador_mobile": merged["ecuador_mobile"],
        "ecuador_landline": merged.get("ecuador_landline") or "",
    }
    if overrides and "full_name" in overrides:
        values["full_name"] = overrides["full_name"]
    return {name: str(value) for name, value in values.items()}


def _squiggle(pdf: canvas.Canvas, x: float, y: float, width: float, height: float) -> None:
    """A handwritten-looking signature: a few overlapping loops and a flourish."""
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
    """The filled-in request form as a one-page A4 PDF with a text layer.

    `signature` is "handwritten" (a drawn squiggle in the box) or "none" (an empty box).
    """
    if signature not in ("handwritten", "none"):
        raise ValueError(f"unknown signature {signature!r}")
    values = printed_values(fields, overrides)
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=True)
    pdf.setTitle("Solicitud de actualización de datos de contacto")
    width, height = A4
    y = height - 60
    pdf.setFont("Helvetica-Bold", 11)
    pdf.drawCentredString(width / 2, y, "INSTITUTO ECUATORIANO DE SEGURIDAD SOCIAL")
    y -= 26
    pdf.setFont("Helvetica-Bold", 13)
    for line in TITLE:
        pdf.drawCentredString(width / 2, y, line)
        y -= 18
    pdf.setFont("Helvetica-Oblique", 8)
    pdf.drawCentredString(
        width / 2, y, "Documento sintético de prueba: no es un formulario oficial."
    )
    y -= 36

    def row(label: str, value: str) -> None:
        nonlocal y
        pdf.setFont("Helvetica", 11)
        pdf.drawString(LABEL_X, y, label)
        pdf.setFont("Helvetica", 12)
        pdf.drawString(VALUE_X, y, value)
        pdf.setLineWidth(0.4)
        pdf.setStrokeColorRGB(0.6, 0.6, 0.6)
        pdf.line(VALUE_X - 4, y - 4, width - 56, y - 4)
        y -= 27

    def heading(text: str) -> None:
        nonlocal y
        y -= 10
        pdf.setFont("Helvetica-Bold", 12)
        pdf.drawString(LABEL_X, y, text)
        y -= 27

    row("Nombres y apellidos:", values["full_name"])
    heading("APARTADO 1. IDENTIFICACIÓN Y RESIDENCIA")
    for name, label in APARTADO_1:
        row(label, values[name])
    heading("APARTADO 2. CONTACTO EN ECUADOR")
    for name, label in APARTADO_2:
        row(label, values[name])
    heading("APARTADO 3. FIRMA")
    pdf.setFont("Helvetica", 11)
    pdf.drawString(LABEL_X, y, SIGNATURE_LABEL)
    box_w, box_h = 260, 100
    box_x, box_y = LABEL_X, y - 12 - box_h
    pdf.setStrokeColorRGB(0, 0, 0)
    pdf.setLineWidth(1.2)
    pdf.rect(box_x, box_y, box_w, box_h, stroke=1, fill=0)
    if signature == "handwritten":
        _squiggle(pdf, box_x, box_y, box_w, box_h)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


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
