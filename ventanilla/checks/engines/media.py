"""One pass over the statement video feeds three checks.

The integrity check must decode the video to its end anyway (a truncated MP4
still declares its full duration); while it does, this collector keeps the
audio as 16 kHz mono samples for the speech model and a few frames for the
face check, so the file is decoded once instead of three times.
"""

from dataclasses import dataclass, field

import av
import numpy as np

SPEECH_SAMPLE_RATE = 16_000


@dataclass
class VideoSamples:
    """What the checks need from the video: the audio for speech, some frames for faces."""

    audio: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    frames: list[tuple[float, np.ndarray]] = field(default_factory=list)  # (seconds, BGR)

    @property
    def audio_seconds(self) -> float:
        return len(self.audio) / SPEECH_SAMPLE_RATE


class VideoCollector:
    """Pass as ``on_frame`` to ``probe_video``; read ``samples()`` afterwards.

    Keeps a frame every ``frame_every`` seconds (at most ``max_frames``),
    converting only the frames it keeps, and resamples every audio frame.
    """

    def __init__(self, *, frame_every: float = 4.0, max_frames: int = 8) -> None:
        self.frame_every = frame_every
        self.max_frames = max_frames
        self._next_frame_at = 0.5  # the first instants are often the phone being set down
        self._frames: list[tuple[float, np.ndarray]] = []
        self._chunks: list[np.ndarray] = []
        self._resampler = av.AudioResampler(format="flt", layout="mono", rate=SPEECH_SAMPLE_RATE)

    def __call__(self, frame) -> None:
        if isinstance(frame, av.AudioFrame):
            for resampled in self._resampler.resample(frame):
                self._chunks.append(resampled.to_ndarray().reshape(-1))
        elif isinstance(frame, av.VideoFrame):
            at = float(frame.time) if frame.time is not None else 0.0
            if at >= self._next_frame_at and len(self._frames) < self.max_frames:
                self._frames.append((at, frame.to_ndarray(format="bgr24")))
                self._next_frame_at = at + self.frame_every

    def samples(self) -> VideoSamples:
        for resampled in self._resampler.resample(None):  # flush what the resampler holds
            self._chunks.append(resampled.to_ndarray().reshape(-1))
        audio = (
            np.concatenate(self._chunks).astype(np.float32, copy=False)
            if self._chunks
            else np.zeros(0, dtype=np.float32)
        )
        return VideoSamples(audio=audio, frames=list(self._frames))
