"""Image quality: can an analyst (and OCR) read this photo?

Per page: sharpness (variance of the Laplacian on a grey copy resized to a fixed
long side, so that a photo's size does not change the figure), brightness,
contrast, glare (burnt-out white blobs) and resolution. Each figure is compared
with the thresholds below; the evidence carries both, so the analyst sees why.

The sharpness thresholds were calibrated on the synthetic documents of
``ventanilla.testing.identity_media`` and ``request_form`` (see the module
constants): the issue measured that tesseract reads a form perfectly down to a
variance of about 130 and fails at about 8.
"""

import io
import threading
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageOps

from . import FAIL, WARN, Finding, worst

KINDS = ("id_front", "id_back", "selfie", "request_form")
KIND_LABELS = {
    "id_front": "Anverso de la cédula",
    "id_back": "Reverso de la cédula",
    "selfie": "Selfie con la cédula",
    "request_form": "Solicitud",
}

# Sharpness is measured after resizing the grey image so that its long side is this.
SHARPNESS_SIDE = 1000
# Variance of the Laplacian below which the text may not be read (warn) or cannot be
# (fail). Calibrated with tesseract on the synthetic documents (Gaussian blur radius ->
# variance -> what OCR read): the card's bold 30 px fields are read whole down to ~24
# (radius 2) and lost at ~7 (radius 3); the request form's 12 pt text is read at 99
# (radius 2, 89 % of the text) and lost at 16 (radius 3); a phone photo of the form
# gave 69 at radius 2 (49 % read). A selfie is mostly skin and wall (sharp: ~620), so
# its thresholds are lower; its face still matches when soft.
SHARPNESS_WARN = {"id_front": 100.0, "id_back": 100.0, "selfie": 50.0, "request_form": 130.0}
SHARPNESS_FAIL = {"id_front": 15.0, "id_back": 15.0, "selfie": 10.0, "request_form": 30.0}
# Mean grey level (0-255).
BRIGHTNESS_FAIL_BELOW = 40.0
BRIGHTNESS_WARN_BELOW = 70.0
BRIGHTNESS_WARN_ABOVE = 240.0  # not for the request form: a scanned page is white
# Standard deviation of the grey levels: below this the image is blank or washed out.
CONTRAST_WARN_BELOW = 20.0
# A pixel is burnt out when its darkest channel is at least GLARE_LEVEL; glare is the
# share of the picture covered by blobs of such pixels of at least GLARE_MIN_BLOB of
# its area (isolated white specks and the gaps between letters do not count). Clean
# synthetic cards measure 0 %, a clean selfie 0.3 %, a flash spot 5-9 %.
GLARE_LEVEL = 245
GLARE_MIN_BLOB = 0.002
GLARE_WARN_ABOVE = 0.01
GLARE_FAIL_ABOVE = 0.06
GLARE_KINDS = ("id_front", "id_back", "selfie")  # a white page is not glare
# Long side in pixels of the image as sent.
LONG_SIDE_FAIL_BELOW = 400
LONG_SIDE_WARN_BELOW = 600
# A page is never rendered larger than this (pixels on its long side), whatever its size.
MAX_RENDER_SIDE = 3000

# pdfium is not thread-safe: one rendering at a time per process.
_PDFIUM_LOCK = threading.Lock()


# --- decoding ------------------------------------------------------------------------


def _jpeg_pages(data: bytes) -> list[np.ndarray]:
    with Image.open(io.BytesIO(data)) as picture:
        upright = ImageOps.exif_transpose(picture).convert("RGB")
    return [cv2.cvtColor(np.asarray(upright), cv2.COLOR_RGB2BGR)]


def _pdf_pages(data: bytes, max_pages: int, dpi: int) -> list[np.ndarray]:
    import pypdfium2

    pages = []
    with _PDFIUM_LOCK:
        document = pypdfium2.PdfDocument(data)
        try:
            for index in range(min(len(document), max_pages)):
                page = document[index]
                width, height = page.get_size()
                scale = min(dpi / 72, MAX_RENDER_SIDE / max(width, height, 1))
                bitmap = page.render(scale=scale)  # BGR, as OpenCV wants
                pixels = bitmap.to_numpy()
                if pixels.ndim == 3 and pixels.shape[2] == 4:
                    pixels = cv2.cvtColor(pixels, cv2.COLOR_BGRA2BGR)
                pages.append(np.array(pixels))  # a copy: the bitmap's memory is freed
        finally:
            document.close()
    return pages


def document_images(
    data: bytes, file_format: str, *, max_pages: int = 2, dpi: int = 150
) -> list[np.ndarray]:
    """The pages of an uploaded file as BGR images.

    ``file_format`` is "jpeg" (or "jpg"/"png"; decoded upright, following the EXIF
    orientation a phone writes) or "pdf" (the first ``max_pages`` pages rendered at
    ``dpi``). Decoding errors propagate: ``file_integrity`` reports damaged files.
    """
    file_format = file_format.lower().lstrip(".")
    if file_format in ("jpeg", "jpg", "png"):
        return _jpeg_pages(data)
    if file_format == "pdf":
        return _pdf_pages(data, max_pages, dpi)
    raise ValueError(f"unsupported document format {file_format!r}")


# --- metrics -------------------------------------------------------------------------


def _grey(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def _resized(image: np.ndarray, long_side: int) -> np.ndarray:
    height, width = image.shape[:2]
    scale = long_side / max(height, width)
    if scale == 1:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(image, size, interpolation=interpolation)


def _glare_fraction(image: np.ndarray) -> float:
    darkest = image.min(axis=2) if image.ndim == 3 else image
    burnt = (darkest >= GLARE_LEVEL).astype(np.uint8)
    # Opening removes thin white strokes (the gaps between letters, anti-aliasing).
    burnt = cv2.morphologyEx(burnt, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(burnt, connectivity=8)
    min_area = GLARE_MIN_BLOB * burnt.size
    areas = stats[1:count, cv2.CC_STAT_AREA]
    return float(areas[areas >= min_area].sum() / burnt.size)


def image_metrics(image: np.ndarray) -> dict:
    """Sharpness, brightness, contrast and glare of one BGR (or grey) image, with its size.

    ``sharpness`` is the variance of the Laplacian of the grey image resized to
    ``SHARPNESS_SIDE`` pixels on its long side; ``brightness`` and ``contrast`` are
    the mean and standard deviation of the grey levels (0-255); ``glare`` is the
    share of the picture covered by burnt-out white blobs.
    """
    height, width = image.shape[:2]
    colour = image[:, :, :3] if image.ndim == 3 else image
    small = _resized(colour, SHARPNESS_SIDE)
    grey = _grey(small)
    laplacian = cv2.Laplacian(grey, cv2.CV_64F)
    return {
        "width": int(width),
        "height": int(height),
        "sharpness": round(float(laplacian.var()), 1),
        "brightness": round(float(grey.mean()), 1),
        "contrast": round(float(grey.std()), 1),
        "glare": round(_glare_fraction(small), 4),
    }


# --- the check -----------------------------------------------------------------------


@dataclass
class _Problem:
    outcome: str
    code: str
    message: str


def thresholds_for(kind: str) -> dict:
    """The thresholds that apply to one kind of document (also shown in the evidence)."""
    return {
        "sharpness_side": SHARPNESS_SIDE,
        "sharpness_warn_below": SHARPNESS_WARN[kind],
        "sharpness_fail_below": SHARPNESS_FAIL[kind],
        "brightness_fail_below": BRIGHTNESS_FAIL_BELOW,
        "brightness_warn_below": BRIGHTNESS_WARN_BELOW,
        "brightness_warn_above": None if kind == "request_form" else BRIGHTNESS_WARN_ABOVE,
        "contrast_warn_below": CONTRAST_WARN_BELOW,
        "glare_warn_above": GLARE_WARN_ABOVE if kind in GLARE_KINDS else None,
        "glare_fail_above": GLARE_FAIL_ABOVE if kind in GLARE_KINDS else None,
        "long_side_warn_below": LONG_SIDE_WARN_BELOW,
        "long_side_fail_below": LONG_SIDE_FAIL_BELOW,
    }


def _problems(metrics: dict, limits: dict) -> list[_Problem]:
    problems = []
    long_side = max(metrics["width"], metrics["height"])
    if long_side < limits["long_side_warn_below"]:
        outcome = FAIL if long_side < limits["long_side_fail_below"] else WARN
        problems.append(
            _Problem(
                outcome,
                "too_small",
                f"La imagen es muy pequeña: {metrics['width']} × {metrics['height']} píxeles "
                f"(lado mayor mínimo {limits['long_side_warn_below']}); conviene pedir una de "
                "mayor resolución.",
            )
        )
    sharpness = metrics["sharpness"]
    if sharpness < limits["sharpness_warn_below"]:
        failing = sharpness < limits["sharpness_fail_below"]
        problems.append(
            _Problem(
                FAIL if failing else WARN,
                "blurry",
                (
                    f"La foto está borrosa: nitidez {sharpness:.0f} (mínimo "
                    f"{limits['sharpness_fail_below']:.0f}); el texto no se podrá leer, conviene "
                    "pedir otra enfocada y sin movimiento."
                )
                if failing
                else (
                    f"La foto está algo borrosa: nitidez {sharpness:.0f} (recomendado "
                    f"{limits['sharpness_warn_below']:.0f} o más); compruebe que se lean los datos."
                ),
            )
        )
    brightness = metrics["brightness"]
    if brightness < limits["brightness_warn_below"]:
        failing = brightness < limits["brightness_fail_below"]
        problems.append(
            _Problem(
                FAIL if failing else WARN,
                "too_dark",
                (
                    f"La foto está muy oscura: brillo {brightness:.0f} de 255 (mínimo "
                    f"{limits['brightness_fail_below']:.0f}); conviene pedir otra con más luz."
                )
                if failing
                else (
                    f"La foto está oscura: brillo {brightness:.0f} de 255 (recomendado "
                    f"{limits['brightness_warn_below']:.0f} o más); compruebe que se vean los datos."
                ),
            )
        )
    above = limits["brightness_warn_above"]
    if above is not None and brightness > above:
        problems.append(
            _Problem(
                WARN,
                "too_bright",
                f"La foto está sobreexpuesta: brillo {brightness:.0f} de 255 (máximo "
                f"{above:.0f}); compruebe que se lean los datos.",
            )
        )
    if metrics["contrast"] < limits["contrast_warn_below"]:
        problems.append(
            _Problem(
                WARN,
                "low_contrast",
                f"La imagen casi no tiene contraste (desviación {metrics['contrast']:.0f}, "
                f"mínimo {limits['contrast_warn_below']:.0f}): puede estar en blanco o lavada.",
            )
        )
    glare_warn = limits["glare_warn_above"]
    if glare_warn is not None and metrics["glare"] > glare_warn:
        failing = metrics["glare"] > limits["glare_fail_above"]
        problems.append(
            _Problem(
                FAIL if failing else WARN,
                "glare",
                "La foto tiene zonas quemadas por un reflejo o exceso de luz: "
                f"{metrics['glare'] * 100:.1f} % de la imagen (máximo {glare_warn * 100:.0f} %); "
                "conviene pedir otra sin flash ni luz directa.",
            )
        )
    return problems


def image_quality(images: list[np.ndarray], *, kind: str) -> Finding:
    """Whether the photo (or each page) of ``kind`` is sharp, well lit, free of glare and
    large enough to be read; kind is one of ``KINDS``.

    Score: the worst page's sharpness relative to twice its warn threshold, capped at 1
    (it measures focus only; the outcome also weighs light, glare and size).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r}")
    label = KIND_LABELS[kind]
    limits = thresholds_for(kind)
    if not images:
        return Finding(
            outcome=FAIL,
            summary=f"{label}: el archivo no contiene ninguna imagen que evaluar.",
            evidence={"kind": kind, "pages": [], "thresholds": limits},
        )

    pages = []
    first_problem: tuple[int, _Problem] | None = None
    for number, image in enumerate(images, start=1):
        metrics = image_metrics(image)
        problems = _problems(metrics, limits)
        outcome = worst(problem.outcome for problem in problems)
        pages.append(
            {
                "page": number,
                **metrics,
                "outcome": outcome,
                "problems": [problem.code for problem in problems],
                "advice": [problem.message for problem in problems],
            }
        )
        for problem in problems:
            if first_problem is None or (
                problem.outcome == FAIL and first_problem[1].outcome != FAIL
            ):
                first_problem = (number, problem)

    outcome = worst(page["outcome"] for page in pages)
    good_sharpness = 2 * limits["sharpness_warn_below"]
    score = round(min(1.0, min(page["sharpness"] for page in pages) / good_sharpness), 2)
    if first_problem is None:
        sharpness = min(page["sharpness"] for page in pages)
        qualities = (
            "nítida, bien iluminada y sin reflejos"
            if kind in GLARE_KINDS
            else "nítida y bien iluminada"
        )
        summary = (
            f"{label}: imagen {qualities} (nitidez {sharpness:.0f}, mínimo recomendado "
            f"{limits['sharpness_warn_below']:.0f})."
        )
    else:
        number, problem = first_problem
        where = f" (página {number})" if len(pages) > 1 else ""
        summary = f"{label}{where}: {problem.message[0].lower()}{problem.message[1:]}"
    return Finding(
        outcome=outcome,
        summary=summary,
        score=score,
        evidence={"kind": kind, "pages": pages, "thresholds": limits},
    )
