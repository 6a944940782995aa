"""Benchmark: a 60 s browser recording (720p WebM, VP8 + Opus) turned into the MP4 the
procedure accepts (H.264 + AAC, at most 5 MB), on this machine (issue 4).

Target: under 10 s. Exits 1 when it is missed.

    make bench
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
SECONDS = 60
TARGET_SECONDS = 10.0


def _webm(folder: Path) -> bytes:
    """60 s of a detailed moving test pattern with a tone: harder to compress than a face."""
    out = folder / "recording.webm"
    subprocess.run(  # noqa: S603 (fixed arguments)
        [
            "/usr/bin/ffmpeg",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size=1280x720:rate=30:duration={SECONDS}",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=220:sample_rate=48000:duration={SECONDS}",
            "-c:v",
            "libvpx",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-b:v",
            "2M",
            "-c:a",
            "libopus",
            str(out),
        ],  # fmt: skip
        check=True,
    )
    return out.read_bytes()


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from ventanilla.documents.conversion import video_convert

    with tempfile.TemporaryDirectory(prefix="ventanilla-bench-") as folder:
        webm = _webm(Path(folder))
    times, result = [], None
    for _ in range(RUNS):
        started = time.perf_counter()
        result = video_convert(webm)
        times.append(time.perf_counter() - started)
    median, worst = statistics.median(times), max(times)
    print(f"WebM→MP4 conversion: {SECONDS} s 1280x720 VP8/Opus, {len(webm) / 1e6:.1f} MB in")
    print(
        f"  out: {len(result.data) / 1e6:.2f} MB, {result.width}x{result.height}, "
        f"video {result.video_bits_per_second / 1000:.0f} kbit/s, {result.attempts} attempt(s)"
    )
    print(
        f"  time: median {median:.2f} s, worst {worst:.2f} s, runs {[round(t, 2) for t in times]}"
    )
    met = worst < TARGET_SECONDS
    print(f"  {'met   ' if met else 'MISSED'} conversion under {TARGET_SECONDS:.0f} s (worst run)")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
