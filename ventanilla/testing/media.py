"""Synthetic test media: real, decodable files with no real personal data.

Tests build the files they upload (see STYLE.md): images with Pillow, PDFs with
reportlab, videos with Debian's ``ffmpeg`` and Spanish speech with ``espeak-ng``.
Every generator returns bytes; the slow ones are cached per process, and bytes
are immutable, so a cached value cannot be changed by one test for another.
"""

import functools
import io
import random
import shutil
import struct
import subprocess
import tempfile
import wave
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

MEGABYTE = 1024 * 1024

DEFAULT_FORM_LINES = [
    "SOLICITUD DE ACTUALIZACIÓN DE DATOS DE CONTACTO (EJEMPLO DE PRUEBA)",
    "Nombres y apellidos: PERSONA DE PRUEBA SINTÉTICA",
    "Cédula: 0000000000   País de residencia: España   Ciudad: Madrid",
    "Correo electrónico: prueba@example.com",
    "Firma: ____________________",
]


# --- images -----------------------------------------------------------------


def _card_image(width: int, height: int, text: str) -> Image.Image:
    """Draw something that looks like an ID card, so the image is not blank."""
    image = Image.new("RGB", (width, height), (226, 232, 240))
    draw = ImageDraw.Draw(image)
    margin = max(4, min(width, height) // 20)
    draw.rectangle((0, 0, width, height // 6), fill=(0, 56, 130))
    draw.rectangle(
        (margin, height // 4, width // 3, height - margin), outline=(40, 40, 40), width=3
    )
    draw.ellipse(
        (margin * 2, height // 3, width // 3 - margin, height - margin * 3), fill=(180, 140, 110)
    )
    font = ImageFont.load_default(size=max(10, height // 14))
    for row, line in enumerate([text, "REPÚBLICA DEL ECUADOR", "NO ES UN DOCUMENTO REAL"]):
        draw.text(
            (width // 3 + margin, height // 4 + row * height // 8),
            line,
            fill=(20, 20, 20),
            font=font,
        )
    return image


def _encode(image: Image.Image, image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def jpeg_bytes(
    width: int = 800, height: int = 500, text: str = "CÉDULA DE PRUEBA", quality: int = 85
) -> bytes:
    """A JPEG photo of a synthetic ID card."""
    return _encode(_card_image(width, height, text), "JPEG", quality=quality)


def png_bytes(width: int = 800, height: int = 500, text: str = "CÉDULA DE PRUEBA") -> bytes:
    """The same synthetic card as a PNG (a format the procedure does not accept)."""
    return _encode(_card_image(width, height, text), "PNG")


def mpo_bytes(width: int = 800, height: int = 500) -> bytes:
    """A multi-picture JPEG (MPO), as some phones save: a JPEG with a second image."""
    first = _card_image(width, height, "CÉDULA DE PRUEBA")
    second = _card_image(width // 2, height // 2, "MINIATURA")
    return _encode(first, "MPO", save_all=True, append_images=[second])


def solid_jpeg_bytes(width: int, height: int) -> bytes:
    """A real, decodable JPEG of one colour: huge in pixels, small in bytes."""
    return _encode(Image.new("L", (width, height), 200), "JPEG", quality=30)


def jpeg_with_declared_size(width: int, height: int) -> bytes:
    """A small JPEG whose header claims ``width`` × ``height`` pixels.

    This is how decompression bombs are made: decoding would allocate for the
    declared size, so a validator must refuse it from the header alone.
    """
    data = bytearray(jpeg_bytes(64, 48))
    offset = data.index(b"\xff\xc0")  # SOF0: marker, length, precision, height, width
    struct.pack_into(">HH", data, offset + 5, height, width)
    return bytes(data)


def _noise_jpeg(width: int, height: int, seed: int) -> bytes:
    pixels = random.Random(seed).randbytes(width * height * 3)
    return _encode(Image.frombytes("RGB", (width, height), pixels), "JPEG", quality=95)


def _pad_jpeg(data: bytes, target_bytes: int) -> bytes:
    """Insert comment segments after the start marker until the file is over the target."""
    padding = bytearray()
    while len(data) + len(padding) <= target_bytes:
        payload = min(65533, max(0, target_bytes + 1 - len(data) - len(padding) - 4))
        padding += b"\xff\xfe" + struct.pack(">H", payload + 2) + b"\x00" * payload
    return data[:2] + bytes(padding) + data[2:]


@functools.lru_cache(maxsize=8)
def big_jpeg_bytes(target_bytes: int = int(2.1 * MEGABYTE)) -> bytes:
    """A valid JPEG just over ``target_bytes``: random noise (which does not compress),
    sized from a sample strip to land just under the target, then topped up with
    JPEG comment segments."""
    width, sample_rows = 1200, 64
    bytes_per_row = len(_noise_jpeg(width, sample_rows, seed=1)) / sample_rows
    rows = max(16, int(0.97 * target_bytes / bytes_per_row))
    data = _noise_jpeg(width, rows, seed=2)
    return data if len(data) > target_bytes else _pad_jpeg(data, target_bytes)


# --- documents --------------------------------------------------------------


def pdf_bytes(lines: list[str] | None = None, pages: int = 1, compress: bool = False) -> bytes:
    """A text PDF of ``pages`` pages (by default, a synthetic request form)."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=True, pageCompression=int(compress))
    for page in range(1, pages + 1):
        y = A4[1] - 72
        for line in lines if lines is not None else DEFAULT_FORM_LINES:
            pdf.drawString(72, y, line)
            y -= 18
        pdf.drawString(72, 48, f"Página {page} de {pages}")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def damaged_pdf_bytes() -> bytes:
    """A PDF whose structure is intact but whose page content is garbage.

    Only decoding the pages finds the damage: the header, the cross-reference
    table and the page count are all fine.
    """
    data = bytearray(pdf_bytes(compress=True))
    start = data.index(b"stream\n") + len(b"stream\n")
    end = data.index(b"endstream", start)
    data[start:end] = bytes(byte ^ 0x55 for byte in data[start:end])
    return bytes(data)


def html_bytes() -> bytes:
    """A web page, as a browser saves it when a citizen "downloads" a page."""
    return (
        b"<!DOCTYPE html>\n<html lang='es'><head><meta charset='utf-8'>"
        b"<title>Ventanilla Virtual</title></head>"
        b"<body><h1>Solicitud</h1><p>Documento de prueba.</p></body></html>\n"
    )


# --- video ------------------------------------------------------------------


def _executable(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} is needed to make test media; install Debian's {name}.")
    return path


def _run(*args: str) -> None:
    # The arguments are built in this module, never from user input.
    subprocess.run(args, check=True, capture_output=True)  # noqa: S603


def _ffmpeg(*args: str) -> None:
    _run(_executable("ffmpeg"), "-hide_banner", "-nostdin", "-v", "error", "-y", *args)


@functools.cache
def _video_codec_args() -> tuple[str, ...]:
    encoders = subprocess.run(  # noqa: S603
        [_executable("ffmpeg"), "-hide_banner", "-encoders"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if " libx264 " in encoders:
        return ("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")
    return ("-c:v", "mpeg4", "-q:v", "5", "-pix_fmt", "yuv420p")


def _speech_wav(statement: str, folder: Path) -> tuple[Path, float]:
    """Speak ``statement`` in Spanish into a WAV file; return it and its length in seconds."""
    path = folder / "speech.wav"
    _run(_executable("espeak-ng"), "-v", "es", "-w", str(path), statement)
    with wave.open(str(path), "rb") as speech:
        return path, speech.getnframes() / speech.getframerate()


def _encode_video(
    folder: Path,
    *,
    seconds: float,
    size: str,
    audio_input: tuple[str, ...],
    extra: tuple[str, ...] = (),
) -> bytes:
    out = folder / "out.mp4"
    video_input = ("-f", "lavfi", "-i", f"testsrc=size={size}:rate=25:duration={seconds}")
    audio_codec = ("-c:a", "aac", "-b:a", "64k") if audio_input else ("-an",)
    _ffmpeg(
        *video_input,
        *audio_input,
        *_video_codec_args(),
        *audio_codec,
        *extra,
        "-t",
        f"{seconds:.3f}",
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
        str(out),
    )
    return out.read_bytes()


def _sine(seconds: float) -> tuple[str, ...]:
    return ("-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={seconds}")


@functools.lru_cache(maxsize=16)
def mp4_bytes(
    seconds: float = 3,
    statement: str | None = None,
    with_audio: bool = True,
    width: int = 320,
    height: int = 240,
) -> bytes:
    """An MP4 (H.264 or MPEG-4 video, AAC audio) of a test pattern.

    With ``statement``, the sound is that text spoken in Spanish by espeak-ng and
    the video lasts as long as the speech; otherwise a tone, or no sound at all.
    """
    with tempfile.TemporaryDirectory(prefix="ventanilla-media-") as tmp:
        folder = Path(tmp)
        audio_input: tuple[str, ...] = ()
        if with_audio and statement:
            wav, seconds = _speech_wav(statement, folder)
            audio_input = ("-i", str(wav))
        elif with_audio:
            audio_input = _sine(seconds)
        return _encode_video(
            folder, seconds=seconds, size=f"{width}x{height}", audio_input=audio_input
        )


def mp4_boxes(data: bytes) -> list[tuple[bytes, int, int]]:
    """The top-level ISO-BMFF boxes of ``data`` as (type, offset, size)."""
    boxes, offset = [], 0
    while offset + 8 <= len(data):
        size, box_type = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            (size,) = struct.unpack(">Q", data[offset + 8 : offset + 16])
        elif size == 0:
            size = len(data) - offset
        boxes.append((box_type, offset, size))
        offset += size
    return boxes


@functools.lru_cache(maxsize=4)
def big_mp4_bytes(target_bytes: int = int(5.1 * MEGABYTE)) -> bytes:
    """A valid MP4 with sound just over ``target_bytes``.

    High-bitrate noise is encoded to land under the target; a trailing ``free``
    box (which players skip) then takes the file just over it.
    """
    bitrate = 8_000_000
    seconds = max(1.0, round(0.85 * target_bytes * 8 / bitrate, 1))
    with tempfile.TemporaryDirectory(prefix="ventanilla-media-") as tmp:
        data = _encode_video(
            Path(tmp),
            seconds=seconds,
            size="640x360",
            audio_input=_sine(seconds),
            extra=(
                "-vf",
                "noise=alls=100:allf=t",
                "-b:v",
                str(bitrate),
                "-maxrate",
                str(bitrate),
                "-bufsize",
                str(bitrate),
            ),
        )
    if len(data) > target_bytes:
        return data
    padding = target_bytes + 1 - len(data)
    return data + struct.pack(">I4s", padding + 8, b"free") + b"\x00" * padding


@functools.lru_cache(maxsize=1)
def truncated_mp4_bytes() -> bytes:
    """A 6-second MP4 cut in the middle of its media data.

    The index (``moov``) is at the front, so the file still opens and its header
    still reports 6 seconds: only reading the packets shows that half is missing.
    """
    data = mp4_bytes(seconds=6)
    _, offset, size = next(box for box in mp4_boxes(data) if box[0] == b"mdat")
    return data[: offset + size // 2]


@functools.lru_cache(maxsize=1)
def mov_bytes(seconds: float = 2) -> bytes:
    """The MP4 streams in a QuickTime (MOV) container, as an iPhone records them."""
    with tempfile.TemporaryDirectory(prefix="ventanilla-media-") as tmp:
        source = Path(tmp) / "in.mp4"
        source.write_bytes(mp4_bytes(seconds=seconds))
        out = Path(tmp) / "out.mov"
        _ffmpeg("-i", str(source), "-c", "copy", "-f", "mov", str(out))
        return out.read_bytes()


@functools.lru_cache(maxsize=1)
def webm_bytes(seconds: float = 2) -> bytes:
    """A WebM video (VP8 + Opus), what most browsers record by default."""
    with tempfile.TemporaryDirectory(prefix="ventanilla-media-") as tmp:
        out = Path(tmp) / "out.webm"
        _ffmpeg(
            "-f", "lavfi", "-i", f"testsrc=size=320x240:rate=25:duration={seconds}",
            *_sine(seconds),
            "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k",
            "-c:a", "libopus",
            "-f", "webm", str(out),
        )  # fmt: skip
        return out.read_bytes()
