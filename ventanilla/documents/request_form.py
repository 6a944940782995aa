"""The "Solicitud de actualización de datos de contacto para ecuatorianos residentes
en el exterior", filled in with what the citizen declared, for them to sign and upload.

The layout follows the seed: a header with the full name, Apartado 1 (a-i),
Apartado 2 (contact data in Ecuador) and Apartado 3 (the signature box). The PDF
has a text layer (the checks read it) and an empty signature field over the box,
so that FirmaEC or any PAdES signer signs into the box; printed, the field is
invisible and the box is signed by hand.

The page is deliberately not translated: it is the institute's Spanish form, and
the consistency check (ventanilla.checks.engines.consistency) finds the values by
these Spanish labels.
"""

import hashlib
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from django.utils import timezone
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.fields import SigFieldSpec, append_signature_field
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

from ventanilla.cases.constants import IdType
from ventanilla.checks.residence import residence_names

TITLE = (
    "SOLICITUD DE ACTUALIZACIÓN DE DATOS DE CONTACTO",
    "PARA ECUATORIANOS RESIDENTES EN EL EXTERIOR",
)
INSTITUTE = "INSTITUTO ECUATORIANO DE SEGURIDAD SOCIAL"

# Label "a" names the document the person identifies with (the seed's form has the
# cédula only). The consistency check reads a value by its label, so it must know
# each of these.
ID_NUMBER_LABELS = {
    IdType.CEDULA: "a.- Número de cédula de identidad:",
    IdType.PASSPORT: "a.- Número de pasaporte:",
    IdType.FOREIGNER_CODE: "a.- Código de identificación para extranjeros:",
}
# (field, label) in the order of the seed; "id_number" takes its label from above.
APARTADO_1 = (
    ("id_number", None),
    ("birth_date", "b.- Fecha de nacimiento:"),
    ("residence_country", "c.- País de residencia (exterior):"),
    ("residence_region", "d.- Estado / Provincia de residencia:"),
    ("residence_city", "e.- Ciudad de residencia (exterior):"),
    ("postal_code", "f.- Código postal:"),
    ("foreign_phone", "g.- Teléfonos de contacto en el exterior:"),
    ("fingerprint_code", "h.- Código dactilar de la cédula:"),
    ("id_issue_date", "i.- Fecha de expedición de la cédula:"),
)
# The optional landline goes last: when it is empty, the checks must find the next
# label (Apartado 3) under it, not another value.
APARTADO_2 = (
    ("sector", "Sector (barrio o zona):"),
    ("email", "Correo electrónico:"),
    ("ecuador_mobile", "Teléfono celular (Ecuador):"),
    ("ecuador_landline", "Teléfono fijo (Ecuador):"),
)
# h and i exist only on the cédula.
CEDULA_ONLY = ("fingerprint_code", "id_issue_date")
NOT_APPLICABLE = "No aplica (sin cédula)"
SIGNATURE_LABEL = "Firma del solicitante:"
SIGNATURE_FIELD_NAME = "FirmaSolicitante"
FOOTER = (
    "Generado por Ventanilla Virtual del IESS el {date}; imprímalo y fírmelo a mano, "
    "o fírmelo electrónicamente sin modificarlo."
)

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 56
LABEL_X, VALUE_X = MARGIN, 300
ROW_HEIGHT = 26
LABEL_FONT_SIZE, VALUE_FONT_SIZE, FONT_MIN = 11, 12, 6
BOX_WIDTH, BOX_HEIGHT = 260, 100


@dataclass(frozen=True)
class Box:
    """A rectangle on the page, in points from the bottom-left corner."""

    x: float
    y: float
    width: float
    height: float


def _text(value) -> str:
    return "" if value is None else " ".join(str(value).split())


def _date(value) -> str:
    """dd/mm/aaaa for a date or an ISO date; anything else as it is."""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    text = _text(value)
    try:
        return date.fromisoformat(text).strftime("%d/%m/%Y")
    except ValueError:
        return text


def printed_values(values: Mapping) -> dict[str, str]:
    """What the form prints for each field: places by their Spanish names, dates as
    dd/mm/aaaa, "" for what is missing; the cédula-only fields say they do not apply
    to a passport or a foreigner code."""
    country, region, city = residence_names(values)
    printed = {
        "full_name": _text(f"{_text(values.get('first_names'))} {_text(values.get('last_names'))}"),
        "id_number": _text(values.get("id_number")),
        "birth_date": _date(values.get("birth_date")),
        "residence_country": country,
        "residence_region": region,
        "residence_city": city,
        "postal_code": _text(values.get("postal_code")),
        "foreign_phone": _text(values.get("foreign_phone")),
        "fingerprint_code": _text(values.get("fingerprint_code")),
        "id_issue_date": _date(values.get("id_issue_date")),
        "sector": _text(values.get("sector")),
        "email": _text(values.get("email")),
        "ecuador_mobile": _text(values.get("ecuador_mobile")),
        "ecuador_landline": _text(values.get("ecuador_landline")),
    }
    if _id_type(values) != IdType.CEDULA:
        for name in CEDULA_ONLY:
            printed[name] = printed[name] or NOT_APPLICABLE
    return printed


def _id_type(values: Mapping) -> IdType:
    try:
        return IdType(values.get("id_type") or IdType.CEDULA)
    except ValueError:
        return IdType.CEDULA


def request_form_pdf(values: Mapping, *, generated_on: date | None = None) -> bytes:
    """The request form filled in with `values` (the declared fields, as in
    `ventanilla.cases.constants.DECLARED_FIELDS`), as a one-page A4 PDF with a text
    layer and an empty signature field over the signature box.

    The output depends only on `values` and `generated_on` (default: today), the
    date printed in the footer."""
    return render_request_form(
        printed_values(values),
        id_type=_id_type(values),
        generated_on=generated_on or timezone.localdate(),
    )


def render_request_form(
    printed: Mapping[str, str],
    *,
    id_type: str = IdType.CEDULA,
    generated_on: date,
    in_signature_box: Callable[[canvas.Canvas, Box], None] | None = None,
) -> bytes:
    """The form with these printed values (see `printed_values`); `in_signature_box`
    may draw in the signature box (a test's handwritten signature)."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=True)
    pdf.setTitle("Solicitud de actualización de datos de contacto")
    pdf.setAuthor("Instituto Ecuatoriano de Seguridad Social")
    pdf.setCreator("Ventanilla Virtual del IESS")
    box = _draw(pdf, printed, IdType(id_type), generated_on)
    if in_signature_box is not None:
        in_signature_box(pdf, box)
    pdf.showPage()
    pdf.save()
    return _with_signature_field(buffer.getvalue(), box, generated_on)


def _draw(pdf: canvas.Canvas, printed: Mapping[str, str], id_type: IdType, on: date) -> Box:
    """Draw the page; return where the signature box is."""
    y = PAGE_HEIGHT - 60
    pdf.setFont("Helvetica-Bold", 11)
    pdf.drawCentredString(PAGE_WIDTH / 2, y, INSTITUTE)
    y -= 26
    pdf.setFont("Helvetica-Bold", 13)
    for line in TITLE:
        pdf.drawCentredString(PAGE_WIDTH / 2, y, line)
        y -= 18
    y -= 24

    def row(label: str, value: str) -> None:
        nonlocal y
        _draw_fitted(pdf, LABEL_X, y, label, size=LABEL_FONT_SIZE, room=VALUE_X - 8 - LABEL_X)
        _draw_fitted(
            pdf, VALUE_X, y, value, size=VALUE_FONT_SIZE, room=PAGE_WIDTH - MARGIN - VALUE_X
        )
        pdf.setLineWidth(0.4)
        pdf.setStrokeColorRGB(0.6, 0.6, 0.6)
        pdf.line(VALUE_X - 4, y - 4, PAGE_WIDTH - MARGIN, y - 4)
        y -= ROW_HEIGHT

    def heading(text: str) -> None:
        nonlocal y
        y -= 10
        pdf.setFont("Helvetica-Bold", 12)
        pdf.drawString(LABEL_X, y, text)
        y -= ROW_HEIGHT

    row("Nombres y apellidos:", printed.get("full_name", ""))
    heading("APARTADO 1. IDENTIFICACIÓN Y RESIDENCIA")
    for name, label in APARTADO_1:
        row(label or ID_NUMBER_LABELS[id_type], printed.get(name, ""))
    heading("APARTADO 2. CONTACTO EN ECUADOR")
    for name, label in APARTADO_2:
        row(label, printed.get(name, ""))
    heading("APARTADO 3. FIRMA")
    place = ", ".join(
        part for part in (printed.get("residence_city"), printed.get("residence_country")) if part
    )
    row("Lugar y fecha:", f"{place}, ____ / ____ / ________" if place else "")
    pdf.setFont("Helvetica", 11)
    pdf.drawString(LABEL_X, y, SIGNATURE_LABEL)
    box = Box(LABEL_X, y - 12 - BOX_HEIGHT, BOX_WIDTH, BOX_HEIGHT)
    pdf.setStrokeColorRGB(0, 0, 0)
    pdf.setLineWidth(1.2)
    pdf.rect(box.x, box.y, box.width, box.height, stroke=1, fill=0)
    pdf.setFont("Helvetica-Oblique", 7.5)
    pdf.setFillColorRGB(0.25, 0.25, 0.25)
    pdf.drawCentredString(PAGE_WIDTH / 2, 30, FOOTER.format(date=on.strftime("%d/%m/%Y")))
    pdf.setFillColorRGB(0, 0, 0)
    return box


def _draw_fitted(
    pdf: canvas.Canvas, x: float, y: float, text: str, *, size: float, room: float
) -> None:
    """`text` in its column, in a smaller type when it would not fit (a long email)."""
    while size > FONT_MIN and stringWidth(text, "Helvetica", size) > room:
        size -= 0.5
    pdf.setFont("Helvetica", size)
    pdf.drawString(x, y, text)


class _ReproducibleUpdate(IncrementalPdfFileWriter):
    """An incremental update whose bytes depend only on its input: pyHanko stamps an
    update with the current time (ModDate) and a random second file identifier, and
    the same data on the same day must give the same file."""

    def __init__(self, pdf_bytes: bytes, modified: datetime):
        super().__init__(io.BytesIO(pdf_bytes))
        self._modified = modified
        first, _ = self.document_id
        # ISO 32000 § 14.4: the second identifier changes with the content; a digest
        # of the original does that reproducibly.
        self._document_id = generic.ArrayObject(
            [
                generic.ByteStringObject(first),
                generic.ByteStringObject(hashlib.md5(pdf_bytes, usedforsecurity=False).digest()),
            ]
        )

    def _update_meta(self) -> None:
        super()._update_meta()
        if self._info is not None:
            self._info.get_object()["/ModDate"] = generic.pdf_date(self._modified)


def _with_signature_field(pdf_bytes: bytes, box: Box, generated_on: date) -> bytes:
    """Add an empty signature field over the box: a signer (FirmaEC, Adobe, pyHanko)
    offers to sign there. Without an appearance it prints as nothing."""
    writer = _ReproducibleUpdate(pdf_bytes, datetime.combine(generated_on, time(), tzinfo=UTC))
    append_signature_field(
        writer,
        SigFieldSpec(
            sig_field_name=SIGNATURE_FIELD_NAME,
            on_page=0,
            box=(
                round(box.x),
                round(box.y),
                round(box.x + box.width),
                round(box.y + box.height),
            ),
            readable_field_name="Firma del solicitante",
        ),
    )
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()
