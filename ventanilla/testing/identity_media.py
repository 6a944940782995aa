"""Synthetic identity media: ID card sides, selfies holding the card, face videos.

The faces come from packages, not from people who uploaded anything: person "a"
is scikit-image's ``data.astronaut()`` and person "b" matplotlib's sample
``grace_hopper.jpg``. The cards are drawn with Pillow in DejaVu Sans, large and
clean enough for OCR, and say "DOCUMENTO SINTÉTICO DE PRUEBA". Every generator
returns bytes (immutable), cached per process where it is slow.

``fields`` are dicts like ``ventanilla.testing.factories.PEOPLE[i]`` (strings;
dates as ``YYYY-MM-DD``).
"""

import datetime as dt
import functools
import hashlib
import io
import math
import tempfile
import wave
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

from . import media

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
CARD_SIZE = (1000, 630)
SELFIE_SIZE = (900, 1200)

SPANISH_MONTHS = (
    "ENE",
    "FEB",
    "MAR",
    "ABR",
    "MAY",
    "JUN",
    "JUL",
    "AGO",
    "SEP",
    "OCT",
    "NOV",
    "DIC",
)

PROVINCES = {
    "01": "AZUAY", "02": "BOLÍVAR", "03": "CAÑAR", "04": "CARCHI", "05": "COTOPAXI",
    "06": "CHIMBORAZO", "07": "EL ORO", "08": "ESMERALDAS", "09": "GUAYAS", "10": "IMBABURA",
    "11": "LOJA", "12": "LOS RÍOS", "13": "MANABÍ", "14": "MORONA SANTIAGO", "15": "NAPO",
    "16": "PASTAZA", "17": "PICHINCHA", "18": "TUNGURAHUA", "19": "ZAMORA CHINCHIPE",
    "20": "GALÁPAGOS", "21": "SUCUMBÍOS", "22": "ORELLANA",
    "23": "SANTO DOMINGO DE LOS TSÁCHILAS", "24": "SANTA ELENA",
}  # fmt: skip

# Head-and-shoulders crop (left, top, right, bottom) of each source picture, for the
# card photo. Fixed boxes: the pictures never change, and the generator must not
# depend on the face detector it is used to test.
PORTRAIT_BOXES = {"a": (140, 20, 305, 240), "b": (110, 50, 430, 470)}

INK = (25, 25, 35)
LABEL_INK = (70, 80, 100)
CARD_BLUE = (20, 55, 120)


# --- faces --------------------------------------------------------------------


@functools.cache
def _face_rgb(person: str) -> Image.Image:
    if person == "a":
        from skimage import data

        return Image.fromarray(data.astronaut()).convert("RGB")
    if person == "b":
        from matplotlib import cbook

        with cbook.get_sample_data("grace_hopper.jpg") as sample:
            return Image.open(io.BytesIO(sample.read())).convert("RGB")
    raise ValueError(f"unknown person {person!r}: use 'a' or 'b'")


def face_image(person: str = "a") -> np.ndarray:
    """The source picture of ``person`` as a BGR array ("a" astronaut, "b" Grace Hopper)."""
    return np.ascontiguousarray(np.asarray(_face_rgb(person))[:, :, ::-1])


def _portrait(person: str) -> Image.Image:
    return _face_rgb(person).crop(PORTRAIT_BOXES[person])


# --- drawing helpers ------------------------------------------------------------


@functools.cache
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(FONT_DIR / name), size)


def _spanish_date(iso_date: str) -> str:
    """``1984-06-12`` -> ``12 JUN 1984``, as the cédula prints dates ("" stays "")."""
    if not iso_date:
        return ""
    day = dt.date.fromisoformat(iso_date)
    return f"{day.day:02d} {SPANISH_MONTHS[day.month - 1]} {day.year}"


def _hyphenated_id(id_number: str) -> str:
    """``0923456784`` -> ``092345678-4``: the cédula separates the check digit."""
    return f"{id_number[:-1]}-{id_number[-1]}"


def _card_background() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    width, height = CARD_SIZE
    card = Image.new("RGB", CARD_SIZE, (236, 240, 246))
    draw = ImageDraw.Draw(card)
    # A faint security pattern, pale enough not to disturb OCR.
    for offset in range(-height, width, 28):
        draw.line((offset, height, offset + height, 0), fill=(226, 232, 242), width=2)
    # The flag's colours along the top edge.
    for row, colour in enumerate([(250, 210, 0), (250, 210, 0), (0, 70, 160), (215, 30, 40)]):
        draw.rectangle((0, row * 6, width, row * 6 + 5), fill=colour)
    draw.rounded_rectangle(
        (2, 2, width - 3, height - 3), radius=24, outline=(150, 160, 180), width=3
    )
    return card, draw


def _field(draw: ImageDraw.ImageDraw, xy: tuple[int, int], label: str, value: str) -> None:
    x, y = xy
    draw.text((x, y), label, fill=LABEL_INK, font=_font(18))
    draw.text((x, y + 22), value, fill=INK, font=_font(30, bold=True))


def _jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def _decode(jpeg: bytes) -> Image.Image:
    return Image.open(io.BytesIO(jpeg)).convert("RGB")


def _freeze(fields: dict) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(k), str(v)) for k, v in fields.items()))


# --- ID card --------------------------------------------------------------------


def _card_front(fields: dict, person: str) -> Image.Image:
    card, draw = _card_background()
    width, _ = CARD_SIZE
    draw.text((40, 38), "REPÚBLICA DEL ECUADOR", fill=CARD_BLUE, font=_font(38, bold=True))
    draw.text(
        (40, 86),
        "DIRECCIÓN GENERAL DE REGISTRO CIVIL, IDENTIFICACIÓN Y CEDULACIÓN",
        fill=LABEL_INK,
        font=_font(16),
    )
    draw.text((40, 112), "CÉDULA DE CIUDADANÍA", fill=CARD_BLUE, font=_font(28, bold=True))
    number = f"No. {_hyphenated_id(fields['id_number'])}"
    number_width = draw.textlength(number, font=_font(30, bold=True))
    draw.text((width - 40 - number_width, 112), number, fill=INK, font=_font(30, bold=True))

    photo_box = (40, 170, 300, 510)
    photo = ImageOps.fit(
        _portrait(person), (photo_box[2] - photo_box[0], photo_box[3] - photo_box[1])
    )
    card.paste(photo, photo_box[:2])
    draw.rectangle(photo_box, outline=(90, 100, 120), width=2)

    x, y = 335, 170
    _field(draw, (x, y), "APELLIDOS", fields["last_names"].upper())
    _field(draw, (x, y + 68), "NOMBRES", fields["first_names"].upper())
    _field(draw, (x, y + 136), "FECHA DE NACIMIENTO", _spanish_date(fields["birth_date"]))
    birthplace = PROVINCES.get(fields.get("birth_province", ""), "EXTERIOR")
    _field(draw, (x, y + 204), "LUGAR DE NACIMIENTO", birthplace)
    _field(draw, (x, y + 272), "NACIONALIDAD", "ECUATORIANA")

    # The holder's signature: a scribble over a line.
    points = [(335 + i * 6, 560 + 14 * math.sin(i / 2.3) - i * 0.4) for i in range(45)]
    draw.line(points, fill=(20, 30, 110), width=3)
    draw.line((335, 585, 640, 585), fill=LABEL_INK, width=1)
    draw.text((335, 590), "FIRMA DEL TITULAR", fill=LABEL_INK, font=_font(14))
    draw.text((40, 585), "DOCUMENTO SINTÉTICO DE PRUEBA", fill=LABEL_INK, font=_font(14))
    return card


def _card_back(fields: dict) -> Image.Image:
    card, draw = _card_background()
    x, y = 40, 50
    _field(draw, (x, y), "INSTRUCCIÓN", fields.get("instruction", "SUPERIOR").upper())
    _field(draw, (x, y + 80), "PROFESIÓN", fields.get("profession", "EMPLEADO PRIVADO").upper())
    _field(draw, (x, y + 160), "FECHA DE EXPEDICIÓN", _spanish_date(fields["id_issue_date"]))
    issued = dt.date.fromisoformat(fields["id_issue_date"]) if fields["id_issue_date"] else None
    expiry = issued.replace(year=issued.year + 10).isoformat() if issued else ""
    _field(draw, (x, y + 240), "FECHA DE EXPIRACIÓN", _spanish_date(expiry))
    draw.text((x, y + 330), "CÓDIGO DACTILAR", fill=LABEL_INK, font=_font(20))
    draw.text((x, y + 356), fields["fingerprint_code"], fill=INK, font=_font(44, bold=True))

    # A drawn fingerprint (a loop pattern: arches over parallel ridges) on the right.
    box = (700, 60, 930, 340)
    draw.rectangle(box, outline=(90, 100, 120), width=2)
    cx, cy = (box[0] + box[2]) // 2, box[1] + 130
    for ring in range(6, 96, 8):
        draw.arc((cx - ring, cy - ring, cx + ring, cy + ring), 180, 360, fill=(60, 60, 70), width=3)
        for side in (-ring, ring):
            draw.line((cx + side, cy, cx + side * 0.9, box[3] - 16), fill=(60, 60, 70), width=3)
    draw.text((box[0], box[3] + 8), "PULGAR DERECHO", fill=LABEL_INK, font=_font(14))
    draw.text((40, 585), "DOCUMENTO SINTÉTICO DE PRUEBA", fill=LABEL_INK, font=_font(14))
    return card


@functools.lru_cache(maxsize=32)
def _card_front_cached(frozen: tuple, person: str, blur: float, quality: int) -> bytes:
    card = _card_front(dict(frozen), person)
    if blur:
        card = card.filter(ImageFilter.GaussianBlur(blur))
    return _jpeg(card, quality)


@functools.lru_cache(maxsize=32)
def _card_back_cached(frozen: tuple, blur: float) -> bytes:
    card = _card_back(dict(frozen))
    if blur:
        card = card.filter(ImageFilter.GaussianBlur(blur))
    return _jpeg(card)


def id_card_front_jpeg(
    fields: dict, *, person: str = "a", blur: float = 0, quality: int = 90
) -> bytes:
    """The front of a synthetic Ecuadorian cédula (1000 x 630): number, names, birth
    date and place, nationality and ``person``'s photo on the left."""
    return _card_front_cached(_freeze(fields), person, float(blur), quality)


def id_card_back_jpeg(fields: dict, *, blur: float = 0) -> bytes:
    """The back of the synthetic cédula: instruction, profession, issue and expiry
    dates and the fingerprint code."""
    return _card_back_cached(_freeze(fields), float(blur))


# --- selfie ---------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def _selfie_cached(
    frozen: tuple, person: str, card_person: str, blur: float, brightness: float, glare: bool
) -> bytes:
    width, height = SELFIE_SIZE
    frame = Image.new("RGB", SELFIE_SIZE, (205, 200, 190))
    draw = ImageDraw.Draw(frame)
    for row in range(0, height, 8):  # a plain wall with a soft gradient
        shade = 215 - row * 40 // height
        draw.rectangle((0, row, width, row + 8), fill=(shade, shade - 6, shade - 16))
    face = _face_rgb(person)
    face = face.resize((width, round(face.height * width / face.width)), Image.Resampling.LANCZOS)
    frame.paste(face, (0, 0))

    card = _card_front(dict(frozen), card_person)
    card = card.resize((600, 378), Image.Resampling.LANCZOS).rotate(
        3, expand=True, resample=Image.Resampling.BICUBIC, fillcolor=(0, 0, 0)
    )
    mask = Image.new("L", (600, 378), 255).rotate(3, expand=True)
    left, top = (width - card.width) // 2, height - card.height - 50
    frame.paste(card, (left, top), mask)
    skin = (196, 150, 120)
    for hand_x in (left - 40, left + card.width - 30):  # the hands holding it
        draw.rounded_rectangle((hand_x, top + 120, hand_x + 70, top + 300), radius=30, fill=skin)

    if brightness != 1.0:
        frame = ImageEnhance.Brightness(frame).enhance(brightness)
    if blur:
        frame = frame.filter(ImageFilter.GaussianBlur(blur))
    data = _jpeg(frame)
    return with_glare(data) if glare else data


def selfie_jpeg(
    fields: dict,
    *,
    person: str = "a",
    card_person: str | None = None,
    blur: float = 0,
    brightness: float = 1.0,
    glare: bool = False,
) -> bytes:
    """A 900 x 1200 selfie: ``person``'s face large at the top, holding in the lower part
    the cédula of ``fields`` with ``card_person``'s photo (by default the same person)."""
    return _selfie_cached(
        _freeze(fields), person, card_person or person, float(blur), float(brightness), glare
    )


# --- degradations -----------------------------------------------------------------


def blurred(jpeg: bytes, radius: float) -> bytes:
    """The picture out of focus: a Gaussian blur of ``radius`` pixels."""
    return _jpeg(_decode(jpeg).filter(ImageFilter.GaussianBlur(radius)))


def darkened(jpeg: bytes, factor: float) -> bytes:
    """The picture under poor light: brightness times ``factor`` (0.2 is very dark)."""
    return _jpeg(ImageEnhance.Brightness(_decode(jpeg)).enhance(factor))


def with_glare(jpeg: bytes) -> bytes:
    """A flash reflection: a burnt-out white spot with a halo (5-9 % of the picture burnt)."""
    image = _decode(jpeg)
    width, height = image.size
    ys, xs = np.mgrid[0:height, 0:width]
    cx, cy = 0.62 * width, 0.40 * height
    radius = 0.17 * min(width, height)
    distance = np.hypot((xs - cx) / 1.4, ys - cy) / radius
    weight = np.clip(1.6 * np.exp(-(distance**2)), 0, 1)[:, :, None]
    pixels = np.asarray(image, dtype=np.float32)
    glared = pixels * (1 - weight) + 255 * weight
    return _jpeg(Image.fromarray(glared.round().astype(np.uint8)))


# --- video ------------------------------------------------------------------------


def _wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as sound:
        return sound.getnframes() / sound.getframerate()


@functools.lru_cache(maxsize=8)
def _face_video_cached(
    person: str,
    seconds: float | None,
    wav_path: str | None,
    wav_digest: str | None,  # part of the cache key: the same path may hold new sound
    size: tuple[int, int],
) -> bytes:
    width, height = size
    margin = max(8, width // 40)
    if seconds is None:
        seconds = _wav_seconds(Path(wav_path)) if wav_path else 3.0
    with tempfile.TemporaryDirectory(prefix="ventanilla-face-") as tmp:
        folder = Path(tmp)
        still = Image.new("RGB", (width + 2 * margin, height + 2 * margin), (200, 195, 185))
        face = _face_rgb(person)
        scale = (height + 2 * margin) / face.height
        face = face.resize((round(face.width * scale), height + 2 * margin))
        still.paste(face, ((still.width - face.width) // 2, 0))
        still.save(folder / "face.png")
        audio = (
            ("-i", str(wav_path))
            if wav_path
            else ("-f", "lavfi", "-i", "anullsrc=channel_layout=mono:sample_rate=16000")
        )
        # A slow sway of the head: a moving crop of a still picture.
        sway = (
            f"crop={width}:{height}:x='{margin}+{margin * 0.8}*sin(t*1.7)'"
            f":y='{margin}+{margin * 0.5}*sin(t*1.1)'"
        )
        codec = media._video_codec_args()
        quality = ("-crf", "30") if "libx264" in codec else ()
        out = folder / "face.mp4"
        media._ffmpeg(
            "-loop", "1", "-framerate", "15", "-i", str(folder / "face.png"),
            *audio,
            "-vf", f"{sway},format=yuv420p",
            *codec, *quality, "-maxrate", "600k", "-bufsize", "1200k",
            "-c:a", "aac", "-b:a", "48k", "-ac", "1",
            "-t", f"{seconds:.3f}", "-movflags", "+faststart", "-f", "mp4", str(out),
        )  # fmt: skip
        return out.read_bytes()


def face_video_mp4(
    *,
    person: str = "a",
    seconds: float | None = None,
    wav_path: str | Path | None = None,
    size: tuple[int, int] = (640, 480),
) -> bytes:
    """An MP4 (H.264, AAC) of ``person``'s face swaying slightly, 15 frames a second.

    The sound is ``wav_path`` (and the video lasts as long, unless ``seconds`` is
    given) or silence (3 s by default). The bit rate is capped so that a 40-second
    statement stays well under the procedure's 5 MB.
    """
    digest = None if wav_path is None else hashlib.sha256(Path(wav_path).read_bytes()).hexdigest()
    return _face_video_cached(
        person,
        None if seconds is None else float(seconds),
        None if wav_path is None else str(wav_path),
        digest,
        (int(size[0]), int(size[1])),
    )
