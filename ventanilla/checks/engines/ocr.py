"""Text read from images (OCR) and from a PDF's text layer.

Two OCR engines, both offline. Measured on the generated request form and cédula
(4 people; clean, blurred 2 px, phone photo, photo blurred 1.5 px) on two busy cores:

- rapidocr 3.10 (PP-OCR models in ONNX, shipped inside the wheel): every field of
  every form and card read right; 3-4 s a form page, 1-2 s a card side.
- Tesseract 5 (Debian's `tesseract-ocr-spa`, through tesserocr): 0.1-0.5 s, every
  field of the clean form and card, but on photos it reads "@" as "O" or "Q" and on
  blurred pages it misreads places and names, sometimes with high confidence.

"auto" therefore reads with rapidocr (Tesseract if rapidocr fails). Given an
`accept` test (`consistency.document_agrees`), "auto" reads with Tesseract first and
spends rapidocr's seconds only on documents whose Tesseract reading is not accepted.
"""

import io
import logging
import math
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

logger = logging.getLogger(__name__)

TESSDATA = "/usr/share/tesseract-ocr/5/tessdata"
TESSERACT_LANG = "spa"

# Photos above this long side are shrunk before OCR: the form's smallest text is
# still ~20 px high at 1800 px for an A4 page, and both engines slow down with size.
MAX_LONG_SIDE = 1800
# rapidocr's ONNX sessions get one thread each: the checks run beside the speech
# transcription on two cores, and on this machine under that kind of load one thread
# read the form in 2.9-3.2 s against 4.0-4.2 s with two.
RAPIDOCR_THREADS = 1
# A PDF's text layer is trusted when it has at least this many letters or digits
# (a scanned PDF has none, or only a few stray characters).
MIN_PDF_TEXT_CHARS = 40


@dataclass
class OcrLine:
    """One line of text. `box` is (left, top, right, bottom) in pixels of the image
    given; `angle` is the slope of the line in degrees (positive: falling to the right)."""

    text: str
    box: tuple[int, int, int, int]
    confidence: float
    angle: float = 0.0


@dataclass
class OcrResult:
    engine: str
    lines: list[OcrLine] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


# --- rapidocr --------------------------------------------------------------------

_rapid_lock = threading.Lock()
_rapid_engine = None


def _rapidocr():
    """The process's one rapidocr engine. Its models are given by path, so a missing
    file raises instead of being downloaded. Calls without parameters are thread-safe
    (the ONNX sessions are; the engine's lazy loading is locked)."""
    global _rapid_engine
    if _rapid_engine is None:
        with _rapid_lock:
            if _rapid_engine is None:
                import rapidocr

                models = Path(rapidocr.__file__).parent / "models"
                _rapid_engine = rapidocr.RapidOCR(
                    params={
                        "Global.log_level": "warning",
                        "EngineConfig.onnxruntime.intra_op_num_threads": RAPIDOCR_THREADS,
                        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                        "Det.model_path": str(models / "PP-OCRv6_det_small.onnx"),
                        "Cls.model_path": str(models / "ch_ppocr_mobile_v2.0_cls_mobile.onnx"),
                        "Rec.model_path": str(models / "PP-OCRv6_rec_small.onnx"),
                    }
                )
    return _rapid_engine


def _quad_angle(quad: np.ndarray) -> float:
    (x0, y0), (x1, y1) = quad[0], quad[1]
    return math.degrees(math.atan2(y1 - y0, x1 - x0)) if x1 != x0 else 0.0


def _read_rapidocr(image: np.ndarray) -> list[OcrLine]:
    output = _rapidocr()(image)
    if output.txts is None or output.boxes is None or len(output.txts) == 0:
        return []
    lines = []
    for text, score, quad in zip(output.txts, output.scores, output.boxes, strict=True):
        quad = np.asarray(quad, dtype=float)
        left, top = quad.min(axis=0)
        right, bottom = quad.max(axis=0)
        lines.append(
            OcrLine(
                text=str(text),
                box=(int(left), int(top), int(right), int(bottom)),
                confidence=float(score),
                angle=_quad_angle(quad),
            )
        )
    return lines


# --- Tesseract -------------------------------------------------------------------

_tesseract_local = threading.local()


def _tesseract():
    """One Tesseract API per thread: a PyTessBaseAPI is not safe to share."""
    api = getattr(_tesseract_local, "api", None)
    if api is None:
        import tesserocr

        api = tesserocr.PyTessBaseAPI(path=TESSDATA, lang=TESSERACT_LANG)
        _tesseract_local.api = api
    return api


def _read_tesseract(image: np.ndarray) -> list[OcrLine]:
    import tesserocr
    from PIL import Image

    api = _tesseract()
    api.SetImage(Image.fromarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB)))
    api.Recognize()
    level = tesserocr.RIL.TEXTLINE
    lines = []
    for item in tesserocr.iterate_level(api.GetIterator(), level):
        try:
            text = (item.GetUTF8Text(level) or "").strip()
        except RuntimeError:  # an empty block ("No text returned")
            continue
        box = item.BoundingBox(level)
        if not text or box is None:
            continue
        angle = 0.0
        baseline = item.Baseline(level)
        if baseline:
            (x0, y0), (x1, y1) = baseline
            angle = math.degrees(math.atan2(y1 - y0, x1 - x0)) if x1 != x0 else 0.0
        lines.append(
            OcrLine(text=text, box=tuple(box), confidence=item.Confidence(level) / 100, angle=angle)
        )
    api.Clear()
    return lines


# --- public ----------------------------------------------------------------------

_READERS = {"rapidocr": _read_rapidocr, "tesseract": _read_tesseract}


def _downscaled(image: np.ndarray) -> tuple[np.ndarray, float]:
    height, width = image.shape[:2]
    long_side = max(height, width)
    if long_side <= MAX_LONG_SIDE:
        return image, 1.0
    scale = MAX_LONG_SIDE / long_side
    size = (round(width * scale), round(height * scale))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), scale


def read_image(
    image: np.ndarray, *, engine: str = "auto", accept: Callable[[OcrResult], bool] | None = None
) -> OcrResult:
    """OCR of a BGR (or grey) image; boxes refer to the image given.

    `engine` is "rapidocr", "tesseract" or "auto". "auto" reads with rapidocr (the
    accurate one), or with Tesseract should rapidocr fail. With `accept`, "auto"
    reads with Tesseract first and keeps its result when `accept(result)` is true,
    so that rapidocr's seconds are spent only on documents Tesseract could not read
    to the caller's satisfaction (e.g. `consistency.document_agrees`).
    """
    if engine not in ("auto", *_READERS):
        raise ValueError(f"unknown OCR engine {engine!r}")
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    small, scale = _downscaled(np.ascontiguousarray(image))
    started = time.perf_counter()
    if engine != "auto":
        chosen, lines = engine, _READERS[engine](small)
    elif accept is not None:
        chosen, lines = "tesseract", _read_tesseract(small)
        if not accept(_result(chosen, lines, scale, started)):
            try:
                chosen, lines = "tesseract+rapidocr", _read_rapidocr(small)
            except Exception:
                logger.exception("rapidocr failed; keeping Tesseract's reading")
    else:
        try:
            chosen, lines = "rapidocr", _read_rapidocr(small)
        except Exception:
            logger.exception("rapidocr failed; reading with Tesseract instead")
            chosen, lines = "tesseract", _read_tesseract(small)
    return _result(chosen, lines, scale, started)


def _result(engine: str, lines: list[OcrLine], scale: float, started: float) -> OcrResult:
    if scale != 1.0:
        lines = [
            OcrLine(
                line.text, tuple(round(v / scale) for v in line.box), line.confidence, line.angle
            )
            for line in lines
        ]
    return OcrResult(engine=engine, lines=lines, seconds=time.perf_counter() - started)


def read_pdf_text(data: bytes) -> OcrResult | None:
    """The text layer of a PDF (all pages), or None when it has too little text to be
    the document's own (a scan or photo saved as PDF, which needs OCR instead)."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    started = time.perf_counter()
    try:
        reader = PdfReader(io.BytesIO(data))
        texts = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, TypeError):
        logger.info("PDF text layer unreadable", exc_info=True)
        return None
    rows = [row.strip() for text in texts for row in text.splitlines() if row.strip()]
    if sum(ch.isalnum() for row in rows for ch in row) < MIN_PDF_TEXT_CHARS:
        return None
    return OcrResult(
        engine="pdf-text",
        lines=[OcrLine(text=row, box=(0, 0, 0, 0), confidence=1.0) for row in rows],
        seconds=time.perf_counter() - started,
    )


def skew_degrees(lines: list[OcrLine]) -> float:
    """The page's slope: the median angle of the longer lines (0 when unknown)."""
    angles = [ln.angle for ln in lines if ln.box[2] - ln.box[0] > 3 * (ln.box[3] - ln.box[1])]
    return statistics.median(angles) if angles else 0.0
