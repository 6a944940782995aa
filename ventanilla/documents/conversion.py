"""Turn any phone or browser recording into the MP4 the procedure asks for.

The seed accepts only MP4 up to 5 MB. Browsers record WebM (VP8/VP9 + Opus),
iPhones record MOV, and a minute of phone video is far over 5 MB. Instead of
refusing, the statement is re-encoded to H.264 + AAC in an MP4 whose bit rate
is chosen from its duration so that the file fits, keeping the face and the
voice clear: at most 640 px on the long side, 24 frames a second, mono speech
audio. The result is checked like any upload (`inspect_upload`).

PyAV (FFmpeg's libraries, with libx264) does the work in-process.
"""

import io
import math
import tempfile
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.formats import number_format
from django.utils.translation import gettext

from .constants import MAX_BYTES, MEGABYTE, DocumentKind
from .validation import InspectedFile, describe_content, inspect_upload

MAX_SIDE = 640
MAX_FPS = 24
AUDIO_RATE = 48_000
AUDIO_BITS_PER_SECOND = 64_000
MIN_VIDEO_BITS_PER_SECOND = 120_000
MAX_VIDEO_BITS_PER_SECOND = 1_200_000
# Room for the container and for the encoder overshooting its target.
SIZE_MARGIN = 0.85
MAX_ATTEMPTS = 3
MAX_SECONDS = 300  # far longer than any statement; a bigger file is not a statement


class ConversionError(Exception):
    """The recording cannot be turned into a compliant MP4 (message in Spanish)."""


@dataclass
class ConvertedVideo:
    data: bytes
    seconds: float
    width: int
    height: int
    video_bits_per_second: int
    attempts: int
    source: dict = field(default_factory=dict)


def _probe(data: bytes) -> dict:
    """Duration (from the packets, since browser WebM often declares none) and geometry."""
    try:
        container = av.open(io.BytesIO(data))
    except av.FFmpegError as exc:
        raise ConversionError(
            gettext("No se pudo abrir la grabación: el archivo no es un video o está dañado.")
        ) from exc
    with container:
        if not container.streams.video:
            raise ConversionError(gettext("La grabación no tiene imagen."))
        if not container.streams.audio:
            raise ConversionError(
                gettext("La grabación no tiene sonido: grabe de nuevo con el micrófono.")
            )
        video = container.streams.video[0]
        end = 0.0
        for packet in container.demux(video):
            if packet.pts is not None and packet.time_base:
                length = float((packet.duration or 0) * packet.time_base)
                end = max(end, float(packet.pts * packet.time_base) + length)
        return {
            "format": container.format.name,
            "video_codec": video.codec_context.name,
            "audio_codec": container.streams.audio[0].codec_context.name,
            "width": video.codec_context.width,
            "height": video.codec_context.height,
            "seconds": round(end, 3),
        }


def _target_size(width: int, height: int) -> tuple[int, int]:
    scale = min(1.0, MAX_SIDE / max(width, height))
    # H.264 in yuv420p needs even dimensions.
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def _encode(data: bytes, size: tuple[int, int], video_bps: int) -> bytes:
    # A real file: moving the index to the front (+faststart) re-reads the output by name.
    with tempfile.TemporaryDirectory(prefix="ventanilla-convert-") as folder:
        path = Path(folder) / "statement.mp4"
        _encode_to(data, size, video_bps, path)
        return path.read_bytes()


def _encode_to(data: bytes, size: tuple[int, int], video_bps: int, path: Path) -> None:
    with (
        av.open(io.BytesIO(data)) as source,
        av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as target,
    ):
        in_video = source.streams.video[0]
        in_video.thread_type = "AUTO"  # decode with every core, as the encoder does
        in_audio = source.streams.audio[0]
        rate = in_video.average_rate or in_video.guessed_rate or Fraction(MAX_FPS)
        fps = min(Fraction(MAX_FPS), Fraction(rate).limit_denominator(1001))
        video = target.add_stream("libx264", rate=fps)
        video.width, video.height = size
        video.pix_fmt = "yuv420p"
        video.bit_rate = video_bps
        video.options = {
            "preset": "veryfast",
            "maxrate": str(int(video_bps * 1.2)),
            "bufsize": str(int(video_bps * 2)),
            "profile": "main",
        }
        audio = target.add_stream("aac", rate=AUDIO_RATE)
        audio.layout = "mono"
        audio.bit_rate = AUDIO_BITS_PER_SECOND
        resampler = av.AudioResampler(format="fltp", layout="mono", rate=AUDIO_RATE)
        frame_interval = 1 / float(fps)
        next_frame_at = None
        frames_out = 0
        for frame in source.decode(in_video, in_audio):
            if isinstance(frame, av.VideoFrame):
                at = frame.time or 0.0
                if next_frame_at is not None and at + 1e-6 < next_frame_at:
                    continue  # drop frames above the target rate
                next_frame_at = (next_frame_at or at) + frame_interval
                image = frame.reformat(width=size[0], height=size[1], format="yuv420p")
                image.pts = frames_out
                image.time_base = 1 / fps
                frames_out += 1
                target.mux(video.encode(image))
            else:
                for chunk in resampler.resample(frame):
                    chunk.pts = None
                    target.mux(audio.encode(chunk))
        for chunk in resampler.resample(None):
            chunk.pts = None
            target.mux(audio.encode(chunk))
        target.mux(video.encode(None))
        target.mux(audio.encode(None))


def video_convert(data: bytes, *, max_bytes: int = MAX_BYTES[DocumentKind.VIDEO]) -> ConvertedVideo:
    """Re-encode a recording (WebM, MOV, MP4...) as an MP4 of at most `max_bytes`."""
    source = _probe(data)
    seconds = source["seconds"]
    if seconds <= 0:
        raise ConversionError(
            gettext("La grabación está vacía: no tiene imágenes que se puedan leer.")
        )
    if seconds > MAX_SECONDS:
        raise ConversionError(
            gettext(
                "La grabación dura %(seconds)s segundos; la declaración toma menos de un minuto. "
                "Grábela de nuevo, leyendo solo el texto indicado."
            )
            % {"seconds": f"{seconds:.0f}"}
        )
    size = _target_size(source["width"], source["height"])
    budget = max_bytes * 8 * SIZE_MARGIN / seconds - AUDIO_BITS_PER_SECOND
    video_bps = int(min(MAX_VIDEO_BITS_PER_SECOND, budget))
    for attempt in range(1, MAX_ATTEMPTS + 1):
        if video_bps < MIN_VIDEO_BITS_PER_SECOND:
            break
        encoded = _encode(data, size, video_bps)
        if len(encoded) <= max_bytes:
            return ConvertedVideo(
                data=encoded,
                seconds=seconds,
                width=size[0],
                height=size[1],
                video_bits_per_second=video_bps,
                attempts=attempt,
                source=source,
            )
        # Overshot: aim lower in proportion, with a little more room.
        video_bps = int(video_bps * max_bytes / len(encoded) * 0.9)
    limit = math.floor(max_bytes / (1024 * 1024))
    raise ConversionError(
        gettext(
            "No se pudo reducir la grabación a %(limit)s MB con buena calidad. Grábela de nuevo, "
            "más corta: solo la declaración."
        )
        % {"limit": limit}
    )


@dataclass
class AcceptedVideo:
    """A statement video ready to store: the citizen's own MP4, or its conversion."""

    file: Any
    inspected: InspectedFile
    converted: ConvertedVideo | None = None

    @property
    def conversion_facts(self) -> dict:
        """What to tell the citizen and record on the file: sizes before and after."""
        if self.converted is None:
            return {}
        return {
            "from_format": self.converted.source.get("format", ""),
            "from_bytes": self.converted.source.get("bytes", 0),
            "to_bytes": len(self.converted.data),
            "seconds": self.converted.seconds,
        }


# Refusals that a conversion can fix: a WebM/MOV recording, or an MP4 over 5 MB.
_CONVERTIBLE = frozenset({"too_large", "wrong_type"})


def video_accept(upload, *, convert: bool) -> AcceptedVideo:
    """Accept a statement video as it is, or (with ``convert``) re-encode a browser
    WebM, an iPhone MOV or an MP4 over 5 MB into a compliant MP4. Raises
    ``ValidationError`` with the Spanish reason otherwise; the stored file always
    meets the seed's limits because the converted file is inspected like any upload
    (the intake's inspection: the background checks scan it, docs/security.md)."""
    try:
        return AcceptedVideo(
            file=upload, inspected=inspect_upload(DocumentKind.VIDEO, upload, thorough=False)
        )
    except ValidationError as refusal:
        if not convert or refusal.code not in _CONVERTIBLE:
            raise
        size = getattr(upload, "size", None)
        if size is not None and size > settings.VIDEO_CONVERSION_MAX_BYTES:
            raise ValidationError(
                gettext(
                    "El video «%(name)s» pesa %(size)s MB: es demasiado grande incluso para "
                    "convertirlo (máximo %(limit)s MB). Grábelo de nuevo con menor resolución "
                    "(por ejemplo 480p), leyendo solo la declaración."
                ),
                code="too_large",
                params={
                    "name": getattr(upload, "name", ""),
                    "size": number_format(size / MEGABYTE, decimal_pos=1, use_l10n=True),
                    "limit": settings.VIDEO_CONVERSION_MAX_BYTES // MEGABYTE,
                },
            ) from refusal
        upload.seek(0)
        data = upload.read()
        upload.seek(0)
        try:
            converted = video_convert(data)
        except ConversionError as exc:
            if refusal.code == "wrong_type" and describe_content(data[:4096])[1] != "video":
                raise refusal from exc  # a photo or a document in the video slot
            raise ValidationError(str(exc), code="conversion_failed") from exc
        converted.source["bytes"] = len(data)
        stem = Path(getattr(upload, "name", "") or "video").stem or "video"
        file = ContentFile(converted.data, name=f"{stem}.mp4")
        return AcceptedVideo(
            file=file,
            inspected=inspect_upload(DocumentKind.VIDEO, file, thorough=False),
            converted=converted,
        )
