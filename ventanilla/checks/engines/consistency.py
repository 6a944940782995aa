"""Do the documents say what the citizen declared? And is the request form signed?

The request form, the ID card's front and back (read by OCR, or from the PDF's text
layer) and the insured person on file are compared field by field with the data
typed in the web form; format rules (cédula check digit, fingerprint-code pattern,
phones, plausible age) are checked on the declared data. Each comparison gives a
similarity in [0, 1] on accent-stripped upper-case text (rapidfuzz); dates and
identifiers must be equal.

A clear disagreement fails the check; a field that could not be read, or that
differs by what looks like an OCR slip, is left to the analyst (warn).
"""

import re
import statistics
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

import cv2
import numpy as np
import phonenumbers
from rapidfuzz import fuzz
from stdnum.ec import ci

from . import FAIL, PASS, WARN, Finding
from .ocr import OcrLine, OcrResult, read_image, skew_degrees

# --- thresholds ----------------------------------------------------------------------

# Names (rapidfuzz ratio per name, the worst name counts): 0.90 allows one OCR slip in
# a 10-letter name and nothing more; between the two thresholds the analyst looks
# ("QUISPE" / "QUISPF" 0.83, "FERNANDA" / "FERNANDO" 0.88, "ANDRADE" / "ANDRES" 0.77);
# under 0.75 the name is another name ("ANDRADE" / "PEREZ" 0.33).
NAME_AGREES = 0.90
NAME_DIFFERS = 0.75
# Places are written in many ways ("Nueva York" / "New York"); every known name of the
# declared place is tried.
PLACE_AGREES = 0.85
PLACE_DIFFERS = 0.60
# Identifiers (ID number, codes, phones, email) must be equal; a read value this
# similar is probably an OCR slip and goes to the analyst instead of failing.
IDENTIFIER_SLIP = 0.80
# A label is found in a line when rapidfuzz's partial ratio reaches this.
LABEL_MATCH = 85
# A disagreement read with less OCR confidence than this is only doubtful. Measured on
# the generated documents: Tesseract gives 0.0-0.64 to the garbage it reads in a card
# blurred beyond reading and 0.89-0.97 to clean text; rapidocr 0.84-1.0 to whatever
# it reads (it drops what it cannot read instead).
READ_CONFIDENCE_MIN = 0.75
# Ages outside this range are unusual enough to show (derechohabientes may be minors).
AGE_RANGE = (15, 110)

# The código dactilar printed on the back of the Ecuadorian cédula: a letter, four
# digits, a letter, four digits (e.g. "E3331I2222"; DOMAIN.md, and the same rule as
# ventanilla.cases.validators.FINGERPRINT_CODE_RE).
FINGERPRINT_CODE_RE = re.compile(r"^[A-Z]\d{4}[A-Z]\d{4}$")

FORM = "formulario"
ID_FRONT = "cédula anverso"
ID_BACK = "cédula reverso"
REGISTRY = "registro"

LABELS_ES = {
    "full_name": "Nombres y apellidos",
    "first_names": "Nombres",
    "last_names": "Apellidos",
    "id_number": "Número de identificación",
    "birth_date": "Fecha de nacimiento",
    "residence_country": "País de residencia",
    "residence_region": "Estado / provincia de residencia",
    "residence_city": "Ciudad de residencia",
    "postal_code": "Código postal",
    "foreign_phone": "Teléfono en el exterior",
    "fingerprint_code": "Código dactilar",
    "id_issue_date": "Fecha de expedición de la cédula",
    "email": "Correo electrónico",
    "ecuador_mobile": "Teléfono celular (Ecuador)",
    "ecuador_landline": "Teléfono fijo (Ecuador)",
}

# Labels of the request form (folded: upper case, no accents), as the generated form
# prints them and as the seed words them. Without its colon (OCR drops it) a value
# starts where the whole label ends, so the long forms matter.
FORM_LABELS = {
    "full_name": ("NOMBRES Y APELLIDOS",),
    "id_number": (
        "NUMERO DE CEDULA DE IDENTIDAD",
        "NUMERO DE CEDULA DE IDENTIDAD ECUATORIANA",
        # The generated form names the document the person declared.
        "NUMERO DE PASAPORTE",
        "CODIGO DE IDENTIFICACION PARA EXTRANJEROS",
    ),
    "birth_date": ("FECHA DE NACIMIENTO",),
    "residence_country": ("PAIS DE RESIDENCIA (EXTERIOR)",),
    "residence_region": (
        "ESTADO / PROVINCIA DE RESIDENCIA",
        "ESTADO / PROVINCIA DE RESIDENCIA (EXTERIOR)",
    ),
    "residence_city": ("CIUDAD DE RESIDENCIA (EXTERIOR)",),
    "postal_code": ("CODIGO POSTAL", "CODIGO POSTAL DEL LUGAR DE RESIDENCIA DEL USUARIO"),
    "foreign_phone": ("TELEFONOS DE CONTACTO EN EL EXTERIOR",),
    "fingerprint_code": (
        "CODIGO DACTILAR DE LA CEDULA",
        "CODIGO DACTILAR DE LA CEDULA DE IDENTIDAD O CIUDADANIA",
    ),
    "id_issue_date": (
        "FECHA DE EXPEDICION DE LA CEDULA",
        "FECHA DE EXPEDICION / EMISION DE LA CEDULA O CIUDADANIA",
    ),
    "email": ("CORREO ELECTRONICO",),
    "ecuador_mobile": ("TELEFONO CELULAR (ECUADOR)",),
    "ecuador_landline": ("TELEFONO FIJO (ECUADOR)", "TELEFONO FIJO OPCIONAL (ECUADOR)"),
}
FORM_HEADINGS = ("APARTADO", "FIRMA DEL SOLICITANTE", "FIRMA")
CARD_LABELS = (
    "APELLIDOS",
    "NOMBRES",
    "APELLIDOS Y NOMBRES",
    "FECHA DE NACIMIENTO",
    "LUGAR DE NACIMIENTO",
    "NACIONALIDAD",
    "SEXO",
    "ESTADO CIVIL",
    "FIRMA DEL TITULAR",
    "INSTRUCCION",
    "PROFESION",
    "FECHA DE EXPEDICION",
    "FECHA DE EXPIRACION",
    "CODIGO DACTILAR",
    "CONYUGE",
)

MONTHS = {
    "ENE": 1, "JAN": 1, "FEB": 2, "MAR": 3, "ABR": 4, "APR": 4, "MAY": 5, "JUN": 6,
    "JUL": 7, "AGO": 8, "AUG": 8, "SEP": 9, "SET": 9, "OCT": 10, "NOV": 11, "DIC": 12,
    "DEC": 12,
}  # fmt: skip

# --- text helpers --------------------------------------------------------------------


def fold(text: str) -> str:
    """Upper case without accents, one character for one (so positions still match)."""
    out = []
    for char in text:
        base = unicodedata.normalize("NFD", char)[0]
        upper = base.upper()
        out.append(upper if len(upper) == 1 else base)
    return "".join(out)


def _squash(text: str) -> str:
    return " ".join(fold(text).split())


@dataclass
class Row:
    """One printed row of a document and the OCR's confidence in it (the least
    confident of its pieces)."""

    text: str
    confidence: float = 1.0


@dataclass
class Read:
    """A value read from a document, with the OCR's confidence in the row it came from."""

    value: Any
    confidence: float = 1.0
    alternatives: tuple = ()  # other readings of the same text (a date as m/d/y)


def _rows(ocr: OcrResult) -> list[Row]:
    """The text in reading order, one entry per printed row: OCR boxes on the same
    row (after undoing the page's slope) are joined left to right."""
    lines = [line for line in ocr.lines if line.text.strip()]
    if not lines or all(line.box == (0, 0, 0, 0) for line in lines):
        return [Row(line.text.strip(), line.confidence) for line in lines]
    slope = np.tan(np.radians(skew_degrees(lines)))

    def straightened(line: OcrLine) -> tuple[float, float, float]:
        left, top, right, bottom = line.box
        cx, cy = (left + right) / 2, (top + bottom) / 2
        height = max(4.0, (bottom - top) - abs(slope) * (right - left))
        return cy - slope * cx, height, left

    placed = sorted((straightened(line), index) for index, line in enumerate(lines))
    groups: list[list[tuple[float, OcrLine]]] = []
    row_y = row_h = 0.0
    for (y, height, left), index in placed:
        if groups and abs(y - row_y) < 0.5 * min(height, row_h):
            groups[-1].append((left, lines[index]))
        else:
            groups.append([(left, lines[index])])
            row_y, row_h = y, height
    rows = []
    for group in groups:
        pieces = [line for _, line in sorted(group, key=lambda item: item[0])]
        rows.append(
            Row(
                " ".join(line.text.strip() for line in pieces),
                min(line.confidence for line in pieces),
            )
        )
    return rows


def _label_score(label: str, row: str) -> float:
    """How well `label` appears in the folded `row` (0-100). A row shorter than the
    label can only match it whole: "APELLIDOS" is not "APELLIDOS Y NOMBRES"."""
    if len(row) < len(label):
        return fuzz.ratio(label, row)
    return fuzz.partial_ratio(label, row)


def _is_label(row: Row, labels) -> bool:
    """Whether a row carries a label (alone or with its value): then it is not the
    value of the label above it."""
    folded = _squash(row.text)
    return folded.startswith("APARTADO") or any(
        _label_score(label, folded) >= LABEL_MATCH for label in labels
    )


def _after_label(rows: list[Row], label: str | tuple[str, ...], labels) -> Read | None:
    """The value printed after `label` (or the best of its variants) on its row, or on
    the next row when the label stands alone (as on the cédula). None when the label
    is not found; "" when nothing follows it."""
    variants = (label,) if isinstance(label, str) else label
    best, best_key, best_variant = None, (0.0, 0), variants[0]
    for index, row in enumerate(rows):
        folded = fold(row.text)
        for variant in variants:
            score = _label_score(variant, folded)
            key = (score, len(variant))
            # A row belongs to the label that matches it best ("TELEFONO CELULAR" is not
            # "TELEFONOS DE CONTACTO").
            if (
                score >= LABEL_MATCH
                and key > best_key
                and all(_label_score(other, folded) <= score for other in labels)
            ):
                best, best_key, best_variant = index, key, variant
    if best is None:
        return None
    row = rows[best]
    alignment = fuzz.partial_ratio_alignment(best_variant, fold(row.text))
    value = row.text[alignment.dest_end :] if len(row.text) >= len(best_variant) else ""
    if ":" in value[:12]:
        value = value.split(":", 1)[1]
    value = re.sub(r"^\s*(\([^)]*\))?[\s:.-]*", "", value).strip()
    below = rows[best + 1] if best + 1 < len(rows) else None
    # A label alone on its row (the cédula's layout), or followed by a speck the OCR
    # took for a letter ("APELLIDOS P"): the value is on the next row.
    speck = sum(ch.isalnum() for ch in value) < 3
    if speck and below is not None and not _is_label(below, labels):
        return Read(below.text.strip(), below.confidence)
    return Read(value, row.confidence)


# --- value parsers ---------------------------------------------------------------------


def parse_dates(text: str | None) -> list[date]:
    """The dates `text` may mean, most likely first, in the forms documents use:
    "12 JUN 1984", "12 de junio de 1984", "12/06/1984", "12-06-1984", "1984-06-12".
    A numeric date that also reads as month/day (as in the United States) gives both."""
    if not text:
        return []
    folded = _squash(text).replace("O", "0") if re.search(r"\d", text) else _squash(text)
    # Month names keep their letters: undo the O->0 inside words.
    folded = re.sub(r"(?<=[A-Z])0|0(?=[A-Z])", "O", folded)
    patterns = [
        (r"(\d{4})\s*-\s*(\d{1,2})\s*-\s*(\d{1,2})", lambda m: [(m[1], m[2], m[3])]),
        (
            r"(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})",
            lambda m: [(m[3], m[2], m[1]), (m[3], m[1], m[2])],
        ),
        (
            r"(\d{1,2})\s*(?:DE\s+)?([A-Z]{3})[A-Z]*\.?\s*(?:DE\s+|DEL\s+)?(\d{4})",
            lambda m: [(m[3], MONTHS.get(m[2]), m[1])],
        ),
    ]
    found: list[date] = []
    for pattern, readings in patterns:
        for match in re.finditer(pattern, folded):
            for year, month, day in readings(match):
                try:
                    day_read = date(int(year), int(month), int(day))
                except (TypeError, ValueError):
                    continue
                if day_read not in found:
                    found.append(day_read)
            if found:
                return found
    return found


def parse_date(text: str | None) -> date | None:
    """The most likely date in `text` (see `parse_dates`), or None."""
    dates = parse_dates(text)
    return dates[0] if dates else None


def _digits_runs(text: str) -> list[str]:
    """Runs of digits that may be broken by spaces, dots or a hyphen ("092345678-4")."""
    fixed = re.sub(r"(?<=\d)[Oo](?=[\d\s-])|(?<=[\d\s-])[Oo](?=\d)", "0", text)
    return [re.sub(r"\D", "", run) for run in re.findall(r"\d[\d\s.-]{7,16}\d", fixed)]


def parse_id_number(text: str | None) -> str | None:
    """A 10-digit cédula number in `text`; the one with a valid check digit first."""
    if not text:
        return None
    candidates = [run for run in _digits_runs(text) if len(run) == 10]
    valid = [run for run in candidates if ci.is_valid(run)]
    return (valid or candidates or [None])[0]


def parse_email(text: str) -> str:
    """An email as printed, with the "@" restored where the OCR read it as a lone
    letter between the mailbox and the domain ("maria.quispe O example.org")."""
    text = text.strip()
    if "@" not in text:
        match = re.fullmatch(r"(\S+?)\s*[(\[]?[OQ0©®]\)?\s+(\S+\.\S+)", text)
        if match:
            text = f"{match[1]}@{match[2]}"
    return text


_AS_LETTER = {"0": "O", "1": "I", "2": "Z", "5": "S", "6": "G", "8": "B"}
_AS_DIGIT = {
    "O": "0",
    "Q": "0",
    "D": "0",
    "I": "1",
    "L": "1",
    "Z": "2",
    "S": "5",
    "G": "6",
    "B": "8",
}


def parse_fingerprint_code(text: str | None) -> str | None:
    """A código dactilar in `text`, with the usual OCR confusions undone by position
    (a letter where a letter belongs, a digit where a digit belongs)."""
    if not text:
        return None
    for token in re.findall(r"[A-Z0-9]{10}", re.sub(r"[\s.-]", "", fold(text))):
        fixed = "".join(
            (_AS_LETTER.get(ch, ch) if i in (0, 5) else _AS_DIGIT.get(ch, ch))
            for i, ch in enumerate(token)
        )
        if FINGERPRINT_CODE_RE.match(fixed):
            return fixed
    return None


# --- readers of each document ----------------------------------------------------------


def _parsed(read: Read | None, parse) -> Read | None:
    if read is None or not read.value:
        return read
    value = parse(read.value)
    return Read(value, read.confidence) if value is not None else Read(None, read.confidence)


def _parsed_date(read: Read | None) -> Read | None:
    if read is None or not read.value:
        return read
    dates = parse_dates(read.value)
    return Read(dates[0] if dates else None, read.confidence, tuple(dates[1:]))


def _first_in_rows(rows: list[Row], parse, *, pick=None) -> Read | None:
    found = [(value, row.confidence) for row in rows if (value := parse(row.text)) is not None]
    if not found:
        return None
    value, confidence = pick(found) if pick else found[0]
    return Read(value, confidence)


def _read_id_front(ocr: OcrResult) -> dict[str, Read | None]:
    rows = _rows(ocr)
    last = _after_label(rows, "APELLIDOS", CARD_LABELS)
    first = _after_label(rows, "NOMBRES", CARD_LABELS)
    for index, row in enumerate(rows[:-2]):
        if _label_score("APELLIDOS Y NOMBRES", fold(row.text)) >= LABEL_MATCH:
            # The older cédula prints "APELLIDOS Y NOMBRES" over two rows: last, then first.
            last = Read(rows[index + 1].text, rows[index + 1].confidence)
            first = Read(rows[index + 2].text, rows[index + 2].confidence)
    birth = _parsed(_after_label(rows, "FECHA DE NACIMIENTO", CARD_LABELS), parse_date)
    if birth is None or birth.value is None:
        # Labels are printed small and are the first to blur away; the front has one
        # date, the birth date (the earliest, should a card print others).
        birth = _first_in_rows(rows, parse_date, pick=min) or birth
    numbered = [row for row in rows if re.search(r"\bN[O0]\b|CEDULA|\bC\.?I\b", fold(row.text))]
    number = _first_in_rows(numbered, parse_id_number) or _first_in_rows(rows, parse_id_number)
    return {
        "id_number": number,
        "last_names": last if last and last.value else None,
        "first_names": first if first and first.value else None,
        "birth_date": birth if birth and birth.value else None,
    }


def _read_id_back(ocr: OcrResult) -> dict[str, Read | None]:
    rows = _rows(ocr)
    code = _parsed(_after_label(rows, "CODIGO DACTILAR", CARD_LABELS), parse_fingerprint_code)
    if code is None or code.value is None:
        code = _first_in_rows(rows, parse_fingerprint_code)
    issued = _parsed(_after_label(rows, "FECHA DE EXPEDICION", CARD_LABELS), parse_date)
    if issued is None or issued.value is None:
        # The back prints the issue and expiry dates: the issue date is the earlier.
        issued = _first_in_rows(rows, parse_date, pick=min)
    return {
        "fingerprint_code": code if code and code.value else None,
        "id_issue_date": issued if issued and issued.value else None,
    }


def _read_form(ocr: OcrResult) -> dict[str, Read | None]:
    rows = _rows(ocr)
    labels = (*(v for variants in FORM_LABELS.values() for v in variants), *FORM_HEADINGS)
    read = {name: _after_label(rows, label, labels) for name, label in FORM_LABELS.items()}
    read["email"] = _parsed(read["email"], parse_email)
    for name in ("birth_date", "id_issue_date"):
        read[name] = _parsed_date(read[name])
    read["id_number"] = _parsed(
        read["id_number"], lambda v: parse_id_number(v) or re.sub(r"[\s.-]", "", v)
    )
    read["fingerprint_code"] = _parsed(
        read["fingerprint_code"], lambda v: parse_fingerprint_code(v) or re.sub(r"\s", "", v)
    )
    return read


def _values(read: dict[str, Read | None]) -> dict:
    return {name: None if item is None else item.value for name, item in read.items()}


def id_front_fields(ocr: OcrResult) -> dict:
    """ID number, last names, first names and birth date read from the cédula's front
    (None for what was not found)."""
    return _values(_read_id_front(ocr))


def id_back_fields(ocr: OcrResult) -> dict:
    """Fingerprint code and issue date read from the cédula's back."""
    return _values(_read_id_back(ocr))


def form_fields(ocr: OcrResult) -> dict:
    """Every labelled value of the request form, as printed (dates parsed, the ID number
    and fingerprint code cleaned). A field whose label was not found is None; a label
    with nothing after it gives "" (a date that does not parse gives None)."""
    return _values(_read_form(ocr))


# --- comparisons ---------------------------------------------------------------------


@dataclass
class Comparison:
    field: str
    source: str
    declared: str
    read: str | None
    similarity: float | None
    status: str  # "agrees", "slip" (borderline: maybe a misreading), "differs", "unread"
    confidence: float | None = None  # the OCR's, for the row the value came from

    def evidence(self) -> dict:
        return {
            "field": self.field,
            "label": LABELS_ES.get(self.field, self.field),
            "declared": self.declared,
            "read": self.read,
            "source": self.source,
            "similarity": None if self.similarity is None else round(self.similarity, 3),
            "ok": {"agrees": True, "differs": False}.get(self.status),
            "status": self.status,
            "ocr_confidence": None if self.confidence is None else round(self.confidence, 2),
        }


def _ratio(a: str, b: str) -> float:
    return fuzz.ratio(_squash(a), _squash(b)) / 100


def name_similarity(declared: str, read: str) -> float:
    """Name by name, the worst match counts: one wrong surname is a different person
    even when the rest agrees. With a different number of names (a space lost by the
    OCR), the whole strings without spaces are compared."""
    a, b = _squash(declared).split(), _squash(read).split()
    if not a or not b:
        return 0.0
    if len(a) != len(b):
        return fuzz.ratio("".join(a), "".join(b)) / 100
    worst_a = min(max(fuzz.ratio(x, y) for y in b) for x in a)
    worst_b = min(max(fuzz.ratio(y, x) for x in a) for y in b)
    return min(worst_a, worst_b) / 100


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _compare(field, source, declared, read: Read | None, measure) -> Comparison:
    """`measure(declared, read_value)` gives (similarity, status). A disagreement read
    with low OCR confidence is only doubtful: the OCR may have invented it."""
    if read is None or read.value in (None, ""):
        return Comparison(field, source, _text(declared), None, None, "unread")
    value = read.value
    similarity, status = measure(declared, value)
    for alternative in read.alternatives:
        if status != "agrees" and measure(declared, alternative)[1] == "agrees":
            value, (similarity, status) = alternative, measure(declared, alternative)
    if status == "differs" and read.confidence < READ_CONFIDENCE_MIN:
        status = "slip"
    return Comparison(
        field, source, _text(declared), _text(value), similarity, status, read.confidence
    )


def _graded(similarity: float, agrees: float, differs: float) -> tuple[float, str]:
    if similarity >= agrees:
        return similarity, "agrees"
    return similarity, "differs" if similarity < differs else "slip"


def _names(declared: str, read: str) -> tuple[float, str]:
    return _graded(name_similarity(declared, read), NAME_AGREES, NAME_DIFFERS)


def _dates(declared: date | None, read: date) -> tuple[float, str]:
    return (1.0, "agrees") if declared == read else (0.0, "differs")


def _identifiers(normal=None, *, cedula: bool = False):
    """Identifiers must be equal once normalised; a close one is a doubtful reading.
    For a cédula number, a read number with a wrong check digit is a misreading (no card
    prints one), and a different number with a right one is another person's (the
    check digit catches every single-digit error)."""
    normal = normal or (lambda v: re.sub(r"[\s.-]", "", fold(v)))

    def measure(declared: str, read: str) -> tuple[float, str]:
        a, b = normal(declared), normal(read)
        if a == b:
            return 1.0, "agrees"
        similarity = fuzz.ratio(a, b) / 100
        if cedula and ci.is_valid(a):
            return similarity, "differs" if ci.is_valid(b) else "slip"
        return similarity, "slip" if similarity >= IDENTIFIER_SLIP else "differs"

    return measure


@cache
def _spanish(domain: str):
    import gettext

    import pycountry

    return gettext.translation(domain, pycountry.LOCALES_DIR, languages=["es"], fallback=True)


def _place_names(field: str, code: str) -> list[str]:
    """Every way a place code may be written: the code, its English and Spanish names."""
    import pycountry

    names = [code]
    if field == "residence_country":
        country = pycountry.countries.get(alpha_2=code.upper()) if len(code) == 2 else None
        if country:
            names += [country.name, getattr(country, "common_name", country.name)]
            names.append(_spanish("iso3166-1").gettext(country.name))
    elif field == "residence_region" and "-" in code:
        region = pycountry.subdivisions.get(code=code.upper())
        if region:
            names += [code.split("-", 1)[1], region.name]
            names.append(_spanish("iso3166-2").gettext(region.name))
    return names


def _places(field: str):
    def measure(declared: str, read: str) -> tuple[float, str]:
        similarity = max(_ratio(name, read) for name in _place_names(field, declared))
        return _graded(similarity, PLACE_AGREES, PLACE_DIFFERS)

    return measure


def _e164(value: str, region: str | None) -> str:
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return re.sub(r"\D", "", value)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _phones(region: str | None):
    return _identifiers(lambda v: _e164(v, region))


_emails = _identifiers(lambda v: re.sub(r"\s", "", v).lower())


def _form_comparisons(declared: dict, read: dict[str, Read | None]) -> list[Comparison]:
    country = (declared.get("residence_country") or "").upper() or None
    cedula = declared.get("id_type", "cedula") == "cedula"
    wanted = [
        ("full_name", f"{declared['first_names']} {declared['last_names']}", _names),
        ("id_number", declared["id_number"], _identifiers(cedula=cedula)),
        ("birth_date", declared.get("birth_date"), _dates),
        ("residence_country", declared["residence_country"], _places("residence_country")),
        ("residence_region", declared["residence_region"], _places("residence_region")),
        ("residence_city", declared["residence_city"], _places("residence_city")),
        ("postal_code", declared["postal_code"], _identifiers()),
        ("foreign_phone", declared["foreign_phone"], _phones(country)),
        ("email", declared["email"], _emails),
        ("ecuador_mobile", declared["ecuador_mobile"], _phones("EC")),
    ]
    if cedula:
        wanted += [
            ("fingerprint_code", declared.get("fingerprint_code") or "", _identifiers()),
            ("id_issue_date", declared.get("id_issue_date"), _dates),
        ]
    landline = read.get("ecuador_landline")
    if declared.get("ecuador_landline") or (landline and landline.value):
        wanted.append(("ecuador_landline", declared.get("ecuador_landline") or "", _phones("EC")))
    return [_compare(name, FORM, value, read.get(name), how) for name, value, how in wanted]


def _id_front_comparisons(declared: dict, ocr: OcrResult) -> list[Comparison]:
    read = _read_id_front(ocr)
    if declared.get("id_type", "cedula") == "cedula":
        number = _compare(
            "id_number", ID_FRONT, declared["id_number"], read["id_number"],
            _identifiers(cedula=True),
        )  # fmt: skip
    else:
        # A passport or foreigner code has no fixed pattern: look for it as printed.
        wanted = re.sub(r"[\s.-]", "", fold(declared["id_number"]))
        found = wanted in re.sub(r"[\s.-]", "", fold(ocr.text))
        number = _compare(
            "id_number", ID_FRONT, declared["id_number"],
            Read(declared["id_number"]) if found else None, _identifiers(),
        )  # fmt: skip
    return [
        number,
        _compare("last_names", ID_FRONT, declared["last_names"], read["last_names"], _names),
        _compare("first_names", ID_FRONT, declared["first_names"], read["first_names"], _names),
        _compare("birth_date", ID_FRONT, declared.get("birth_date"), read["birth_date"], _dates),
    ]


def _id_back_comparisons(declared: dict, ocr: OcrResult) -> list[Comparison]:
    read = _read_id_back(ocr)
    return [
        _compare(
            "fingerprint_code", ID_BACK, declared.get("fingerprint_code") or "",
            read["fingerprint_code"], _identifiers(),
        ),
        _compare(
            "id_issue_date", ID_BACK, declared.get("id_issue_date"), read["id_issue_date"], _dates
        ),
    ]  # fmt: skip


def _registry_names(declared: str, on_file: str) -> tuple[float, str]:
    """The registry is typed data, not OCR: anything but the same name (up to accents
    and case) is shown; a clearly different one fails."""
    similarity = name_similarity(declared, on_file)
    if _squash(declared) == _squash(on_file):
        return similarity, "agrees"
    return similarity, "slip" if similarity >= NAME_AGREES else "differs"


def _registry_comparisons(declared: dict, registry: dict) -> list[Comparison]:
    wanted = [
        ("first_names", declared["first_names"], _registry_names),
        ("last_names", declared["last_names"], _registry_names),
        ("birth_date", declared.get("birth_date"), _dates),
    ]
    return [
        _compare(name, REGISTRY, value, Read(registry[name]), how)
        for name, value, how in wanted
        if registry.get(name)
    ]


# --- format checks ---------------------------------------------------------------------


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fails: bool = False  # True: a failed check fails the finding (certain errors only)

    def evidence(self) -> dict:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _phone_check(name: str, value: str, region: str | None, *, kind: str) -> Check:
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return Check(name, False, f"«{value}» no es un número de teléfono.")
    valid = phonenumbers.is_valid_number(number)
    where = phonenumbers.region_code_for_number(number) or "?"
    number_type = phonenumbers.number_type(number)
    types = phonenumbers.PhoneNumberType
    if kind == "foreign":
        ok = valid and where != "EC"
        detail = f"{value}: {'válido' if valid else 'no válido'}, de {where}"
        if valid and region and where != region:
            detail += f" (reside en {region})"
    elif kind == "ec_mobile":
        ok = valid and where == "EC" and number_type in (types.MOBILE, types.FIXED_LINE_OR_MOBILE)
        detail = f"{value}: {'celular válido de Ecuador' if ok else 'no es un celular válido de Ecuador'}"
    else:
        ok = valid and where == "EC" and number_type in (
            types.FIXED_LINE, types.FIXED_LINE_OR_MOBILE
        )  # fmt: skip
        detail = f"{value}: {'fijo válido de Ecuador' if ok else 'no es un teléfono fijo válido de Ecuador'}"
    return Check(name, ok, detail + ".")


def _format_checks(declared: dict, today: date) -> list[Check]:
    checks = []
    is_cedula = declared.get("id_type", "cedula") == "cedula"
    if is_cedula:
        number = re.sub(r"[\s-]", "", declared["id_number"])
        ok = ci.is_valid(number)
        checks.append(
            Check(
                "cedula_check_digit",
                ok,
                f"{number}: dígito verificador {'correcto' if ok else 'incorrecto o número mal formado'}.",
                fails=True,
            )
        )
        code = (declared.get("fingerprint_code") or "").strip().upper()
        ok = bool(FINGERPRINT_CODE_RE.match(code))
        checks.append(
            Check(
                "fingerprint_code_pattern",
                ok,
                f"«{code}»: {'cumple' if ok else 'no cumple'} el patrón letra, 4 dígitos, letra, "
                "4 dígitos (por ejemplo E3331I2222).",
            )
        )
    country = (declared.get("residence_country") or "").upper() or None
    checks.append(
        _phone_check("foreign_phone_valid", declared["foreign_phone"], country, kind="foreign")
    )
    checks.append(
        _phone_check("ecuador_mobile_valid", declared["ecuador_mobile"], "EC", kind="ec_mobile")
    )
    if declared.get("ecuador_landline"):
        checks.append(
            _phone_check(
                "ecuador_landline_valid", declared["ecuador_landline"], "EC", kind="ec_landline"
            )
        )
    born = declared.get("birth_date")
    if born:
        age = _age(born, today)
        if born > today:
            checks.append(
                Check(
                    "age_plausible", False, f"La fecha de nacimiento {born} es futura.", fails=True
                )
            )
        else:
            ok = AGE_RANGE[0] <= age <= AGE_RANGE[1]
            checks.append(
                Check(
                    "age_plausible",
                    ok,
                    f"Edad {age} años (esperada entre {AGE_RANGE[0]} y {AGE_RANGE[1]}).",
                )
            )
    issued = declared.get("id_issue_date")
    if is_cedula and issued:
        ok = issued <= today and (born is None or issued >= born)
        checks.append(
            Check(
                "issue_date_plausible",
                ok,
                f"Expedida el {issued}: {'entre el nacimiento y hoy' if ok else 'fecha imposible'}.",
            )
        )
    return checks


# --- the check -------------------------------------------------------------------------


def _field_phrase(comparison: Comparison) -> str:
    return f"{LABELS_ES.get(comparison.field, comparison.field).lower()} ({comparison.source})"


_CHECK_PHRASES = {
    "cedula_check_digit": "el número de cédula no es válido",
    "fingerprint_code_pattern": "el código dactilar no tiene el formato de la cédula",
    "foreign_phone_valid": "el teléfono del exterior no es válido",
    "ecuador_mobile_valid": "el celular de Ecuador no es válido",
    "ecuador_landline_valid": "el teléfono fijo de Ecuador no es válido",
    "age_plausible": "la edad no es verosímil",
    "issue_date_plausible": "la fecha de expedición es imposible",
}


def consistency(
    declared: dict,
    *,
    form: OcrResult | None,
    id_front: OcrResult | None,
    id_back: OcrResult | None,
    registry: dict | None,
    today: date,
) -> Finding:
    """Declared data against the request form, the cédula and the registry, plus the
    format rules. Fail: a document or the registry clearly says something else, or the
    cédula number is impossible. Warn: something could not be read, differs by what
    may be an OCR slip, or breaks a softer rule. Score: mean similarity."""
    is_cedula = declared.get("id_type", "cedula") == "cedula"
    comparisons: list[Comparison] = []
    engines, seconds, texts = {}, {}, {}
    for source, ocr in ((FORM, form), (ID_FRONT, id_front), (ID_BACK, id_back)):
        if ocr is None or (source == ID_BACK and not is_cedula):
            continue
        engines[source] = ocr.engine
        seconds[source] = round(ocr.seconds, 3)
        texts[source] = ocr.text[:4000]
        if source == FORM:
            comparisons += _form_comparisons(declared, _read_form(ocr))
        elif source == ID_FRONT:
            comparisons += _id_front_comparisons(declared, ocr)
        else:
            comparisons += _id_back_comparisons(declared, ocr)
    if registry:
        comparisons += _registry_comparisons(declared, registry)
    checks = _format_checks(declared, today)

    differs = [c for c in comparisons if c.status == "differs"]
    doubtful = [c for c in comparisons if c.status in ("slip", "unread")]
    hard = [c for c in checks if not c.ok and c.fails]
    soft = [c for c in checks if not c.ok and not c.fails]
    similarities = [c.similarity for c in comparisons if c.similarity is not None]
    score = round(statistics.fmean(similarities), 3) if similarities else None

    if differs or hard:
        outcome = FAIL
        parts = [_CHECK_PHRASES.get(c.name, c.name) for c in hard]
        if differs:
            parts.insert(
                0, "no coincide con lo declarado: " + ", ".join(map(_field_phrase, differs))
            )
        summary = "; ".join(parts)
    elif doubtful or soft or not engines:
        outcome = WARN
        parts = []
        unread = [c for c in doubtful if c.status == "unread"]
        slips = [c for c in doubtful if c.status == "slip"]
        if unread:
            parts.append("no se pudo leer: " + ", ".join(map(_field_phrase, unread)))
        if slips:
            parts.append("dudoso (¿error de lectura?): " + ", ".join(map(_field_phrase, slips)))
        parts += [_CHECK_PHRASES.get(c.name, c.name) for c in soft]
        if not engines:
            parts.append("no se leyó ningún documento")
        summary = "Revise a mano: " + "; ".join(parts)
    else:
        outcome = PASS
        summary = (
            f"Los {len(comparisons)} datos leídos ({', '.join(engines) or 'registro'}) "
            "coinciden con lo declarado y los formatos son válidos"
        )
    summary = summary[0].upper() + summary[1:] + "."
    return Finding(
        outcome,
        summary,
        score=score,
        evidence={
            "fields": [c.evidence() for c in comparisons],
            "checks": [c.evidence() for c in checks],
            "engines": engines,
            "ocr_seconds": seconds,
            "ocr_text": texts,
            "thresholds": {
                "name_agrees": NAME_AGREES,
                "name_differs": NAME_DIFFERS,
                "place_agrees": PLACE_AGREES,
                "place_differs": PLACE_DIFFERS,
                "identifier_slip": IDENTIFIER_SLIP,
                "age_range": list(AGE_RANGE),
            },
        },
    )


def document_agrees(declared: dict, source: str) -> Callable[[OcrResult], bool]:
    """A test for `read_image(..., accept=...)`: True when every field of that document
    (FORM, ID_FRONT or ID_BACK) was read and agrees, so a second, slower OCR engine
    is needed only for documents that seem to disagree."""
    compare = {
        FORM: lambda ocr: _form_comparisons(declared, _read_form(ocr)),
        ID_FRONT: lambda ocr: _id_front_comparisons(declared, ocr),
        ID_BACK: lambda ocr: _id_back_comparisons(declared, ocr),
    }[source]
    return lambda ocr: all(c.status == "agrees" for c in compare(ocr))


# --- the handwritten signature ------------------------------------------------------------

# Share of the box's inside covered by ink (printed rules excluded) below which it is
# empty. Measured on the generated form at 150 dpi: empty box 0.0000 (clean, blurred
# 2 px, phone photo); the drawn signature 0.038-0.048. A few initials still cover
# several times 0.3 % of a box this size.
SIGNATURE_INK_MIN = 0.003


def _lines_mask(gray: np.ndarray) -> np.ndarray:
    """Long straight horizontal and vertical strokes (printed rules and boxes)."""
    binary = cv2.adaptiveThreshold(
        gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 15
    )
    height, width = gray.shape
    horizontal = cv2.morphologyEx(
        binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(25, width // 30), 1))
    )
    vertical = cv2.morphologyEx(
        binary,
        cv2.MORPH_OPEN,
        cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(25, height // 40))),
    )
    return cv2.dilate(cv2.bitwise_or(horizontal, vertical), np.ones((3, 3), np.uint8))


def _boxes(lines: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Printed rectangles (left, top, right, bottom) in a mask of printed strokes, at
    least 12 % of the page wide and 3 % high (the underlines of the form's answers
    are not boxes). All contours, not only outer ones: in a photo the table around
    the page makes one contour that encloses everything."""
    height, width = lines.shape
    contours, _ = cv2.findContours(lines, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    found = []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if 0.12 * width <= w < 0.9 * width and 0.03 * height <= h < 0.5 * height:
            found.append((x, y, x + w, y + h))
    return found


def _ink_ratio(
    gray: np.ndarray, lines: np.ndarray, box: tuple[int, int, int, int]
) -> tuple[float, np.ndarray]:
    """The share of the box's inside covered by ink that is not a printed rule."""
    left, top, right, bottom = box
    inset = int(0.06 * min(right - left, bottom - top)) + 3
    window = (slice(top + inset, bottom - inset), slice(left + inset, right - inset))
    inside = gray[window]
    if inside.size == 0:
        return 0.0, inside
    paper = float(np.percentile(inside, 90))
    ink = (inside < min(paper - 50, 0.6 * paper)).astype(np.uint8) * 255
    ink = cv2.medianBlur(ink, 3)  # sensor noise is single pixels; strokes are not
    ink[lines[window] > 0] = 0
    return float((ink > 0).mean()), inside


def _jpeg(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return data.tobytes() if ok else b""


def signature_box(image: np.ndarray, ocr: OcrResult | None) -> Finding:
    """Is there a handwritten signature in the form's "Firma" box? The label is found
    in the OCR (read here with Tesseract when not given), the box is the printed
    rectangle under it, and the ink inside is measured. Empty fails; ink warns, because
    only an analyst can compare it with the signature on the cédula."""
    if ocr is None or not ocr.lines or all(line.box == (0, 0, 0, 0) for line in ocr.lines):
        ocr = read_image(image, engine="tesseract")
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    labels = [line for line in ocr.lines if re.search(r"\bF[I1l]RMA\b", fold(line.text))]
    # The last "Firma" on the page is the one over the box (not Apartado 3's heading).
    labels.sort(key=lambda line: line.box[1], reverse=True)
    evidence: dict = {"ocr_engine": ocr.engine, "ink_min": SIGNATURE_INK_MIN}
    if not labels:
        return Finding(
            WARN,
            "No se encontró el recuadro de firma: revise a mano si la solicitud está firmada.",
            evidence=evidence,
        )
    lines = _lines_mask(gray)
    boxes = _boxes(lines)
    chosen = region = None
    for label in labels:
        left, top, right, bottom = label.box
        line_h = max(8, bottom - top)
        below = [
            box for box in boxes
            if top - line_h <= box[1] <= bottom + 6 * line_h and box[0] < right and box[2] > left
        ]  # fmt: skip
        if below:
            chosen, region = label, min(below, key=lambda box: box[1])
            break
    method = "recuadro"
    if region is None:
        # No printed box: the area under the label, where a signature would go.
        chosen = labels[0]
        left, top, right, bottom = chosen.box
        line_h = max(8, bottom - top)
        region = (left, bottom, min(gray.shape[1], left + 4 * (right - left)), bottom + 6 * line_h)
        region = tuple(int(v) for v in region)
        method = "zona bajo la etiqueta"
    ratio, _ = _ink_ratio(gray, lines, region)
    evidence |= {
        "label": chosen.text,
        "label_box": list(chosen.box),
        "box": list(region),
        "method": method,
        "ink_ratio": round(ratio, 5),
    }
    attachments = {"firma.jpg": _jpeg(image[region[1] : region[3], region[0] : region[2]])}
    if ratio < SIGNATURE_INK_MIN:
        if method == "recuadro":
            return Finding(
                FAIL,
                "El recuadro de firma está vacío: la solicitud no está firmada.",
                evidence=evidence,
                attachments=attachments,
            )
        return Finding(
            WARN,
            "No se encontró un recuadro de firma y la zona bajo «Firma» está vacía: revise a mano.",
            evidence=evidence,
            attachments=attachments,
        )
    return Finding(
        WARN,
        "Firma manuscrita: compárela con la de la cédula.",
        evidence=evidence,
        attachments=attachments,
    )


__all__ = [
    "FORM",
    "ID_BACK",
    "ID_FRONT",
    "REGISTRY",
    "consistency",
    "document_agrees",
    "form_fields",
    "id_back_fields",
    "id_front_fields",
    "signature_box",
]
