"""Speech to text for the video statement: Whisper base, run by faster-whisper on the CPU.

The model is the CTranslate2 conversion assembled at install time by
scripts/assemble-whisper-model.py (nothing is downloaded at run time). It is
loaded once per process and per folder: about a second, and the process peaks
near 420 MB while transcribing. A 40-second statement takes 4-9 s on 2 cores.

Always Spanish, always with the voice-activity filter: without it, Whisper
"hears" words in silence and noise.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

SAMPLE_RATE = 16_000
LANGUAGE = "es"
# Beam search with 3 beams: on espeak-ng statements (2 cores) greedy decoding ran
# at 0.08 x real time with a word error rate of 0.44, 3 beams at 0.13-0.14 x with
# 0.33, 5 beams at 0.17-0.22 x with 0.34-0.36.
BEAM_SIZE = 3
# A window that comes out repetitive or improbable (Whisper stuck repeating
# "0-0-0-0-..." in a spelled-out ID number) is decoded again by sampling at a
# higher temperature, at most twice, keeping the best of 3 samples. Without these
# retries such a window loses every clause after the number.
TEMPERATURES = (0.0, 0.2, 0.4)
BEST_OF = 3
# Sampling is seeded, so that checking the same video again gives the same transcript.
RANDOM_SEED = 0

_models: dict[tuple[str, int], WhisperModel] = {}
_models_lock = threading.Lock()


class SpeechModelMissing(RuntimeError):
    """The speech model folder is missing or incomplete."""


@dataclass
class Transcript:
    """What was heard. `segments` are dicts with start, end (seconds), text,
    avg_logprob and no_speech_prob; `speech_seconds` is the audio the
    voice-activity filter kept; `seconds` the wall time of the transcription."""

    text: str
    segments: list[dict[str, Any]] = field(default_factory=list)
    language: str = LANGUAGE
    language_probability: float = 0.0
    audio_seconds: float = 0.0
    speech_seconds: float = 0.0
    seconds: float = 0.0

    @property
    def real_time_factor(self) -> float:
        return self.seconds / self.audio_seconds if self.audio_seconds else 0.0


def load_model(model_dir: str | os.PathLike, *, threads: int = 2) -> WhisperModel:
    """The Whisper model in `model_dir` (CPU, int8), loaded once per process:
    the same folder and thread count give the same object."""
    folder = Path(model_dir).expanduser().resolve()
    key = (str(folder), threads)
    with _models_lock:
        model = _models.get(key)
        if model is None:
            missing = [
                name
                for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")
                if not (folder / name).is_file()
            ]
            if missing:
                raise SpeechModelMissing(
                    f"Falta el modelo de reconocimiento de voz en {folder} "
                    f"({', '.join(missing)}): ejecute `make setup`. / "
                    f"The speech model is missing from {folder}: run `make setup`."
                )
            from faster_whisper import WhisperModel  # heavy: only where speech is needed

            model = WhisperModel(
                str(folder),
                device="cpu",
                compute_type="int8",
                cpu_threads=threads,
                num_workers=1,
            )
            _models[key] = model
    return model


def _samples(audio: str | os.PathLike | BinaryIO | np.ndarray) -> np.ndarray:
    if isinstance(audio, np.ndarray):
        samples = np.asarray(audio, dtype=np.float32)
        if samples.ndim != 1:
            raise ValueError("audio samples must be mono: a 1-D float32 array at 16 kHz")
        return samples
    from faster_whisper.audio import decode_audio

    source = os.fspath(audio) if isinstance(audio, os.PathLike) else audio
    return decode_audio(source, sampling_rate=SAMPLE_RATE)


def transcribe(
    audio: str | os.PathLike | BinaryIO | np.ndarray,
    *,
    model_dir: str | os.PathLike,
    prompt: str | None = None,
    threads: int = 2,
    beam_size: int = BEAM_SIZE,
) -> Transcript:
    """Transcribe Spanish speech.

    `audio` is a file (path or binary file object, any format FFmpeg reads) or
    float32 mono samples at 16 kHz. `prompt` is text Whisper takes as what came
    before the audio, for the first 30-second window only (each window is
    decoded without the previous one's text, which stops Whisper repeating itself).

    Do not prompt with the statement expected from the applicant: measured on
    espeak-ng speech, another person's statement then came out with the
    applicant's name in 7 of 12 readings (and a near copy of the ID number in
    one), and prompted with the statement's wording Whisper skipped spoken
    clauses it took as already said. The statement check needs what was said.
    """
    import ctranslate2

    model = load_model(model_dir, threads=threads)
    samples = _samples(audio)
    started = time.perf_counter()
    ctranslate2.set_random_seed(RANDOM_SEED)
    segments, info = model.transcribe(
        samples,
        language=LANGUAGE,
        task="transcribe",
        beam_size=beam_size,
        temperature=list(TEMPERATURES),
        best_of=BEST_OF,
        vad_filter=True,
        initial_prompt=prompt or None,
        condition_on_previous_text=False,
    )
    heard = [
        {
            "start": round(segment.start, 2),
            "end": round(segment.end, 2),
            "text": segment.text.strip(),
            "avg_logprob": round(segment.avg_logprob, 3),
            "no_speech_prob": round(segment.no_speech_prob, 3),
        }
        for segment in segments  # a generator: decoding happens here
    ]
    seconds = time.perf_counter() - started
    return Transcript(
        text=" ".join(segment["text"] for segment in heard if segment["text"]),
        segments=heard,
        language=info.language,
        language_probability=round(float(info.language_probability), 3),
        audio_seconds=round(len(samples) / SAMPLE_RATE, 2),
        speech_seconds=round(float(info.duration_after_vad), 2),
        seconds=round(seconds, 2),
    )
