"""A browser or phone recording becomes the MP4 the procedure accepts, voice intact."""

import io
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from ventanilla.checks.engines.media import VideoCollector
from ventanilla.checks.engines.speech import transcribe
from ventanilla.checks.engines.statement import statement_match
from ventanilla.checks.residence import spoken_names
from ventanilla.documents.constants import MAX_BYTES, DocumentKind
from ventanilla.documents.conversion import ConversionError, video_convert
from ventanilla.documents.validation import inspect_upload, probe_video
from ventanilla.testing import case_media, media
from ventanilla.testing.factories import submission_fields

LIMIT = MAX_BYTES[DocumentKind.VIDEO]


def _webm_from(mp4: bytes, *, size: str = "1280x720") -> bytes:
    """What Chrome's MediaRecorder gives: VP8 + Opus in WebM, camera resolution."""
    with tempfile.TemporaryDirectory() as folder:
        source, out = Path(folder) / "in.mp4", Path(folder) / "out.webm"
        source.write_bytes(mp4)
        media._ffmpeg(
            "-i", str(source), "-vf", f"scale={size.replace('x', ':')}",
            "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "2M",
            "-c:a", "libopus", "-f", "webm", str(out),
        )  # fmt: skip
        return out.read_bytes()


def _accepted(data: bytes):
    return inspect_upload(DocumentKind.VIDEO, SimpleUploadedFile("video.mp4", data, "video/mp4"))


def test_a_browser_webm_statement_becomes_an_accepted_mp4_and_still_says_everything():
    fields = submission_fields()
    webm = _webm_from(case_media.statement_video(case_media.statement_text(fields)))

    converted = video_convert(webm)

    assert len(converted.data) <= LIMIT
    assert _accepted(converted.data).format == "mp4"
    collector = VideoCollector()
    probe = probe_video(io.BytesIO(converted.data), on_frame=collector)
    assert probe["complete"]
    assert abs(probe["duration_seconds"] - converted.source["seconds"]) < 0.5
    assert max(converted.width, converted.height) <= 640
    # The voice survives the re-encoding: the statement check still hears all of it.
    heard = transcribe(collector.samples().audio, model_dir=settings.WHISPER_MODEL_DIR)
    finding = statement_match(
        heard.text,
        first_names=fields["first_names"],
        last_names=fields["last_names"],
        id_number=fields["id_number"],
        residence=spoken_names(
            fields["residence_country"], fields["residence_region"], fields["residence_city"]
        ),
    )
    assert finding.evidence["missing"] == []


def test_an_mp4_over_five_megabytes_is_brought_under_the_limit():
    big = media.big_mp4_bytes()
    assert len(big) > LIMIT

    converted = video_convert(big)

    assert len(converted.data) <= LIMIT
    assert _accepted(converted.data).size == len(converted.data)


def test_an_iphone_mov_becomes_an_mp4():
    converted = video_convert(media.mov_bytes())
    assert converted.source["format"].startswith("mov")
    assert _accepted(converted.data).format == "mp4"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (media.html_bytes(), "no es un video"),
        (media.mp4_bytes(seconds=2, with_audio=False), "no tiene sonido"),
    ],
    ids=["not a video", "no sound"],
)
def test_what_cannot_be_converted_is_explained_in_spanish(data, message):
    with pytest.raises(ConversionError, match=message):
        video_convert(data)
