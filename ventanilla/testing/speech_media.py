"""Synthetic speech for the speech-recognition tests: espeak-ng's Latin-American voice.

Builds on `media` (its ffmpeg and espeak-ng helpers). Audio comes back the way
the verification pipeline hands it to the recogniser, float32 mono samples at
16 kHz, or as an MP4 with a test-pattern picture, like a citizen's upload.
"""

import functools
import tempfile
from pathlib import Path

import numpy as np

from . import media

SAMPLE_RATE = 16_000
VOICE = "es-419"


def _speak(text: str, folder: Path, *, voice: str, words_per_minute: int) -> Path:
    path = folder / "speech.wav"
    media._run(
        media._executable("espeak-ng"),
        "-v", voice,
        "-s", str(words_per_minute),
        "-w", str(path),
        text,
    )  # fmt: skip
    return path


@functools.lru_cache(maxsize=16)
def _speech_pcm(text: str, voice: str, words_per_minute: int) -> bytes:
    with tempfile.TemporaryDirectory(prefix="ventanilla-speech-") as tmp:
        folder = Path(tmp)
        wav = _speak(text, folder, voice=voice, words_per_minute=words_per_minute)
        raw = folder / "speech.f32"
        media._ffmpeg(
            "-i", str(wav), "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "f32le", str(raw)
        )  # fmt: skip
        return raw.read_bytes()


def speech_samples(text: str, *, voice: str = VOICE, words_per_minute: int = 160) -> np.ndarray:
    """`text` spoken by espeak-ng: float32 mono samples at 16 kHz (a fresh copy each call)."""
    pcm = _speech_pcm(text, voice, words_per_minute)
    return np.frombuffer(pcm, dtype=np.float32).copy()


def quiet_samples(seconds: float, *, noise_level: float = 0.002, seed: int = 7) -> np.ndarray:
    """A quiet room: low white noise, float32 mono samples at 16 kHz."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(int(seconds * SAMPLE_RATE)) * noise_level).astype(np.float32)


@functools.lru_cache(maxsize=4)
def statement_mp4_bytes(text: str, *, voice: str = VOICE, words_per_minute: int = 160) -> bytes:
    """An MP4 (test pattern, AAC sound) in which espeak-ng says `text`; as long as the speech."""
    with tempfile.TemporaryDirectory(prefix="ventanilla-speech-") as tmp:
        folder = Path(tmp)
        wav = _speak(text, folder, voice=voice, words_per_minute=words_per_minute)
        seconds = len(_speech_pcm(text, voice, words_per_minute)) / 4 / SAMPLE_RATE
        return media._encode_video(
            folder, seconds=seconds, size="320x240", audio_input=("-i", str(wav))
        )
