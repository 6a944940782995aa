"""Synthetic speech for the speech-recognition tests: espeak-ng's Latin-American voice.

Builds on `media` (its ffmpeg and espeak-ng helpers). Audio comes back the way
the verification pipeline passes it to the recogniser: NumPy float32, mono,
16 kHz; or as an MP4 with a test-pattern picture, like a citizen's upload.
"""

import functools
import tempfile
from pathlib import Path

import numpy as np

from . import media

SAMPLE_RATE = 16_000
VOICE = "es-419"


def _speak(text: str, folder: Path, *, voice: str, words_per_minute: int, word_gap: int) -> Path:
    path = folder / "speech.wav"
    media._run(
        media._executable("espeak-ng"),
        "-v", voice,
        "-s", str(words_per_minute),
        "-g", str(word_gap),
        "-w", str(path),
        text,
    )  # fmt: skip
    return path


@functools.lru_cache(maxsize=16)
def _speech_pcm(text: str, voice: str, words_per_minute: int, word_gap: int) -> bytes:
    with tempfile.TemporaryDirectory(prefix="ventanilla-speech-") as tmp:
        folder = Path(tmp)
        wav = _speak(
            text, folder, voice=voice, words_per_minute=words_per_minute, word_gap=word_gap
        )
        raw = folder / "speech.f32"
        media._ffmpeg(
            "-i", str(wav), "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "f32le", str(raw)
        )  # fmt: skip
        return raw.read_bytes()


def speech_samples(
    text: str, *, voice: str = VOICE, words_per_minute: int = 160, word_gap: int = 0
) -> np.ndarray:
    """`text` spoken by espeak-ng, as float32 mono 16 kHz samples (a fresh copy each call).
    `word_gap` is a pause between words, in units of 10 ms."""
    pcm = _speech_pcm(text, voice, words_per_minute, word_gap)
    return np.frombuffer(pcm, dtype=np.float32).copy()


def quiet_samples(seconds: float, *, noise_level: float = 0.002, seed: int = 7) -> np.ndarray:
    """A silent room: low white noise, float32 mono 16 kHz."""
    rng = np.random.default_rng(seed)
    count = int(seconds * SAMPLE_RATE)
    return (rng.standard_normal(count) * noise_level).astype(np.float32)


@functools.lru_cache(maxsize=4)
def statement_mp4_bytes(
    text: str,
    *,
    voice: str = VOICE,
    words_per_minute: int = 160,
    width: int = 320,
    height: int = 240,
) -> bytes:
    """An MP4 of a test pattern whose sound is `text` spoken by espeak-ng."""
    with tempfile.TemporaryDirectory(prefix="ventanilla-speech-") as tmp:
        folder = Path(tmp)
        wav = _speak(text, folder, voice=voice, words_per_minute=words_per_minute)
        seconds = len(_speech_pcm(text, voice, words_per_minute)) / 4 / SAMPLE_RATE
        return media._encode_video(
            folder, seconds=seconds, size=f"{width}x{height}", audio_input=("-i", str(wav))
        )
