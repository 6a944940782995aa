"""Benchmark of the intake (issue 9): concurrent ~9 MB submissions to POST /api/v1/cases on
the production shape, measured against a yardstick in the same run.

What runs, all on this machine:
  - a throwaway PostgreSQL 15 (ventanilla/testing/postgres.py, through bench/_pg.py),
    fsync and synchronous commit ON as in production: every submission's transaction
    really reaches the disk;
  - ClamAV's daemon with the tests' signature database (ventanilla/testing/clamav.py),
    configured as in production; the intake itself no longer sends it anything (the
    checks worker scans the stored files: docs/security.md E), so its CPU per case is
    printed to show that;
  - gunicorn with ventanilla.settings.production and DATABASE_URL's ?conn_max_age=600 (each
    web process keeps its connection, as docs/deployment.md recommends), the command line
    of scripts/serve.sh
    (`gunicorn ventanilla.wsgi:application --bind 127.0.0.1:PORT --workers
    WEB_CONCURRENCY --access-logfile - --no-control-socket`) plus an access-log format
    with the request time; WEB_CONCURRENCY as serve.sh (2 unless set);
  - NO task worker: the checks and the email are only enqueued, as the intake leaves them;
  - the yardstick (bench/yardstick.py) on the same gunicorn command: the same requests
    parsed by Django's multipart parser with the same upload settings and written to disk,
    with no validation, scan, encryption, database or task; it answers 201.

The five files are generated once (camera-like 12-megapixel JPEGs of 1.5-1.7 MB each for
the cédula's two sides and the selfie, the electronically signed request form as a PDF,
and a ~48 s 720p statement video of 4-4.5 MB): about 9 MB per submission. Each submission
has its own valid cédula number (python-stdnum) and email address. BENCH_INTAKE_CASES
submissions (200) are sent by BENCH_INTAKE_CONCURRENCY client threads (8) over loopback,
after a warm-up; the yardstick gets the same requests, alternating with the intake in
BENCH_INTAKE_ROUNDS rounds (2), so that a burst of other work on the machine touches both.

Server time is gunicorn's own request time (its access log, %(D)s): from the request's
headers being read to the response being written, so it includes receiving the body
but not the time a request waits for a free worker. Client latency (which does) is
reported beside it. Throughput is requests answered / wall time of the batches.
web_rss_mb is the highest peak RSS (VmHWM, /proc, sampled through the run) of any gunicorn
worker process of the intake. The CPU time of each kind of process (web workers, clamd,
PostgreSQL, this client) around each batch gives the CPU cost of one case, and so the
most that this machine's cores allow, whatever else runs on it.

Afterwards every 201 is checked in PostgreSQL: its case exists with 5 documents whose
encrypted files are on disk, and its checks task and email are enqueued (intake_lost
counts the ones that are not).

Targets (issue 9): intake >= 20 cases/s, p95 < 1 s of server time, intake/yardstick mean
server time <= 2, web worker RSS < 200 MB. Exits 1 when a target is missed, 2 when a
submission is lost or refused. BENCH_INTAKE_PROFILE=N also times N submissions
in-process (the same request through Django's test client), profiles N more with
cProfile and lists the queries of one: where the time goes.

    make bench
    BENCH_INTAKE_CASES=100 scripts/uv.sh run --frozen python bench/intake_bench.py
"""

import base64
import cProfile
import http.client
import io
import os
import pstats
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from _figures import figure, results_write
from _pg import Postgres, free_port

ROOT = Path(__file__).resolve().parent.parent
CASES = int(os.environ.get("BENCH_INTAKE_CASES", "200"))
CONCURRENCY = int(os.environ.get("BENCH_INTAKE_CONCURRENCY", "8"))
ROUNDS = max(1, int(os.environ.get("BENCH_INTAKE_ROUNDS", "2")))
WEB_CONCURRENCY = int(os.environ.get("WEB_CONCURRENCY", "2"))  # scripts/serve.sh's default
PROFILE = int(os.environ.get("BENCH_INTAKE_PROFILE", "0"))
WARMUP = 2 * WEB_CONCURRENCY  # every worker has imported everything and opened its connection

TARGET_CASES_PER_S = 20.0
TARGET_P95_MS = 1000.0
TARGET_RATIO = 2.0
TARGET_RSS_MB = 200.0

MEGABYTE = 1024 * 1024
PHOTO_BYTES = (int(1.5 * MEGABYTE), int(1.7 * MEGABYTE))  # camera-like, under the 2 MB limit
VIDEO_BYTES = (4 * MEGABYTE, int(4.5 * MEGABYTE))  # under the 5 MB limit
# Access-log line of each request: method, path, status, request time in microseconds.
ACCESS_FORMAT = "bench-access %(m)s %(U)s %(s)s %(D)s"
ACCESS_LINE = re.compile(r"bench-access (\w+) (\S+) (\d{3}) (\d+)")
PG_SETTINGS = {"shared_buffers": "256MB"}


# --- the environment --------------------------------------------------------------


def _environment(workdir: Path, database_url: str) -> dict[str, str]:
    """The production settings for a loopback try-out (as SERVE_LOCAL=1 does), with
    throwaway keys, and rate limits far above what the benchmark sends."""
    env = {
        k: v
        for k, v in os.environ.items()
        # The files go to a folder of the run (STORAGE_URL would choose another place).
        if not k.startswith(
            ("SECURE_", "RATE_LIMIT_", "DEBUG", "CACHE_URL", "DJANGO_", "STORAGE_URL")
        )
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "ventanilla.settings.production",
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_COOKIES": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "FILE_ENCRYPTION_KEYS": "bench:" + base64.b64encode(secrets.token_bytes(32)).decode(),
            "CLAMAV_URL": f"unix://{workdir / 'clamd' / 'clamd.sock'}",
            "DATABASE_URL": database_url,
            "PRIVATE_STORAGE_DIR": str(workdir / "private"),
            "STATIC_ROOT": str(workdir / "static"),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "RATE_LIMIT_SUBMISSIONS_PER_CLIENT": "1000000/h",
            "RATE_LIMIT_SUBMISSIONS_PER_ID": "1000000/h",
            "YARDSTICK_DIR": str(workdir / "yardstick"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _manage(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(  # noqa: S603 (fixed arguments)
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")


class Gunicorn:
    """One gunicorn (master and WEB_CONCURRENCY workers) serving `app` on a free port;
    its output (the access log included) goes to `log`."""

    def __init__(self, app: str, env: dict[str, str], log: Path):
        self.app = app
        self.port = free_port()
        self.log = log
        self.command = [
            sys.executable, "-m", "gunicorn", app,
            "--bind", f"127.0.0.1:{self.port}", "--workers", str(WEB_CONCURRENCY),
            "--access-logfile", "-", "--no-control-socket",
            "--access-logformat", ACCESS_FORMAT,
        ]  # fmt: skip
        self.process = subprocess.Popen(  # noqa: S603 (fixed arguments)
            self.command,
            cwd=ROOT,
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, path: str) -> None:
        deadline = time.monotonic() + 90
        while True:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                connection.request("GET", path)
                if connection.getresponse().status in (200, 201):
                    return
            except OSError:
                pass
            finally:
                connection.close()
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{self.app} did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.3)

    def workers(self) -> list[int]:
        return _children(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def server_times_ms(self, offset: int) -> list[tuple[int, float]]:
        """(status, ms) of every POST in the access log after byte `offset`."""
        with self.log.open("rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
        return [
            (int(m.group(3)), int(m.group(4)) / 1000)
            for m in ACCESS_LINE.finditer(text)
            if m.group(1) == "POST"
        ]


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _cpu_seconds(pid: int, *, reaped_children: bool = False) -> float:
    """User + system CPU of a process (all its threads); with `reaped_children`, plus that
    of its children that ended (PostgreSQL's backends, one per web request)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds used so far by each kind of process: the web workers of each server,
    clamd, PostgreSQL (postmaster, live and ended backends) and this client."""

    def __init__(self, servers: dict[str, Gunicorn], clamd_pid: int | None, postgres: Postgres):
        self.servers = servers
        self.clamd_pid = clamd_pid
        self.postgres = postgres

    def snapshot(self) -> dict[str, float]:
        totals = {
            f"{name} web": sum(_cpu_seconds(pid) for pid in server.workers())
            for name, server in self.servers.items()
        }
        totals["clamd"] = _cpu_seconds(self.clamd_pid) if self.clamd_pid else 0.0
        postmaster = self.postgres.postmaster_pid()
        totals["postgresql"] = (
            _cpu_seconds(postmaster, reaped_children=True)
            + sum(_cpu_seconds(pid) for pid in _children(postmaster))
            if postmaster
            else 0.0
        )
        own = os.times()
        totals["client"] = own.user + own.system
        return totals


def _rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    return (
        next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
        / 1024
    )


class MemorySampler(threading.Thread):
    """Peak RSS (VmHWM) and current RSS of every worker of the given servers, every 0.2 s."""

    def __init__(self, servers: dict[str, Gunicorn]):
        super().__init__(daemon=True)
        self.servers = servers
        self.peak_kb: dict[str, dict[int, int]] = {name: {} for name in servers}
        self.stopped = threading.Event()

    def sample(self) -> None:
        for name, server in self.servers.items():
            for pid in server.workers():
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                values = {
                    line.split(":")[0]: int(line.split()[1])
                    for line in status.splitlines()
                    if line.startswith(("VmHWM", "VmRSS"))
                }
                peak = max(values.values(), default=0)
                self.peak_kb[name][pid] = max(self.peak_kb[name].get(pid, 0), peak)

    def run(self) -> None:
        while not self.stopped.wait(0.2):
            self.sample()

    def peak_mb(self, name: str) -> dict[int, float]:
        return {pid: kb / 1024 for pid, kb in self.peak_kb[name].items()}


# --- the submissions ------------------------------------------------------------------


def _cedula(n: int) -> str:
    """The n-th synthetic cédula: a province, a third digit under 6, n, and the check digit
    that python-stdnum accepts."""
    from stdnum.ec import ci

    base = f"{1 + n % 24:02d}{n % 6}{n // 24 % 1_000_000:06d}"[:9]
    return next(base + d for d in "0123456789" if ci.is_valid(base + d))


def _camera_jpeg(scene, size: tuple[int, int], seed: int) -> bytes:
    """`scene` photographed by a phone: filling a `size` frame, lit unevenly, with sensor
    noise and the camera's EXIF block, at the JPEG quality that lands in PHOTO_BYTES."""
    import numpy as np
    from PIL import Image

    width, height = size
    frame = Image.new("RGB", size, (112, 94, 78))  # a table
    scale = min(0.86 * width / scene.width, 0.86 * height / scene.height)
    scene = scene.resize(
        (round(scene.width * scale), round(scene.height * scale)), Image.Resampling.BICUBIC
    )
    frame.paste(scene, ((width - scene.width) // 2, (height - scene.height) // 2))
    pixels = np.asarray(frame, dtype=np.float32)
    pixels *= np.linspace(1.0, 0.8, width, dtype=np.float32)[None, :, None]
    pixels += np.random.default_rng(seed).normal(0, 3.2, (height, width, 1)).astype(np.float32)
    photo = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    exif = Image.Exif()
    exif.update({0x010F: "Ventanilla", 0x0110: "Bench Phone", 0x0112: 1,
                 0x0132: "2026:05:04 10:30:00"})  # fmt: skip
    low, high, best = 40, 95, None
    while low <= high:  # the highest quality that stays under the limit
        quality = (low + high) // 2
        buffer = io.BytesIO()
        photo.save(buffer, "JPEG", quality=quality, exif=exif)
        data = buffer.getvalue()
        if len(data) <= PHOTO_BYTES[1]:
            best, low = data, quality + 1
        else:
            high = quality - 1
    if best is None or len(best) < PHOTO_BYTES[0]:
        raise SystemExit(f"the synthetic photo is {len(best or b'') / MEGABYTE:.2f} MB")
    return best


def _statement_mp4(fields: dict, workdir: Path) -> bytes:
    """The statement read aloud (the project's face video with espeak-ng's voice), as a
    phone records it: 1280x720, 30 frames a second, re-encoded to land in VIDEO_BYTES."""
    from ventanilla.testing import case_media

    source = workdir / "statement-source.mp4"
    source.write_bytes(case_media.statement_video(case_media.statement_text(fields)))
    out = workdir / "statement.mp4"
    seconds = float(
        subprocess.run(  # noqa: S603 (fixed arguments)
            [
                "/usr/bin/ffprobe",
                "-v",
                "error",
                "-show_entries",
                "format=duration",
                "-of",
                "csv=p=0",
                str(source),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout  # fmt: skip
    )
    target = sum(VIDEO_BYTES) / 2
    video_bps = int(target * 8 / seconds) - 96_000
    for _ in range(4):
        subprocess.run(  # noqa: S603 (fixed arguments)
            ["/usr/bin/ffmpeg", "-v", "error", "-y", "-i", str(source),
             "-vf", "scale=1280:720,fps=30,noise=alls=6:allf=t",
             "-c:v", "libx264", "-preset", "veryfast", "-b:v", str(video_bps),
             "-maxrate", str(video_bps), "-bufsize", str(2 * video_bps), "-pix_fmt", "yuv420p",
             "-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart", str(out)],
            check=True, capture_output=True,
        )  # fmt: skip
        data = out.read_bytes()
        if VIDEO_BYTES[0] <= len(data) <= VIDEO_BYTES[1]:
            return data
        video_bps = int(video_bps * target / len(data))
    raise SystemExit(f"the statement video is {len(data) / MEGABYTE:.2f} MB after 4 tries")


def _files(workdir: Path) -> dict[str, tuple[str, bytes, str]]:
    """The five uploads, generated once: {field: (file name, bytes, content type)}."""
    from PIL import Image

    from ventanilla.testing import case_media, identity_media
    from ventanilla.testing.factories import submission_fields

    fields = submission_fields()
    front = Image.open(io.BytesIO(identity_media.id_card_front_jpeg(fields)))
    back = Image.open(io.BytesIO(identity_media.id_card_back_jpeg(fields)))
    selfie = Image.open(io.BytesIO(identity_media.selfie_jpeg(fields)))
    return {
        "id_front": ("IMG_20260504_103000.jpg", _camera_jpeg(front, (4032, 3024), 1), "image/jpeg"),
        "id_back": ("IMG_20260504_103012.jpg", _camera_jpeg(back, (4032, 3024), 2), "image/jpeg"),
        "selfie": ("IMG_20260504_103105.jpg", _camera_jpeg(selfie, (3024, 4032), 3), "image/jpeg"),
        "request_form": (
            "solicitud-firmada.pdf",
            case_media.signed_form(fields),
            "application/pdf",
        ),
        "video": ("VID_20260504_103300.mp4", _statement_mp4(fields, workdir), "video/mp4"),
    }


@dataclass
class Submission:
    """One multipart request: its own text part, the shared file part."""

    id_number: str
    head: bytes
    content_type: str
    number: str = ""
    answers: dict[str, int] = field(default_factory=dict)


def _submissions(count: int, files: dict, first: int) -> tuple[list[Submission], bytes]:
    from urllib3.filepost import encode_multipart_formdata

    from ventanilla.testing.factories import PEOPLE, submission_fields

    boundary = secrets.token_hex(16)
    # The file part once for all; each request only adds its own text fields before it.
    file_part, content_type = encode_multipart_formdata(files, boundary=boundary)
    closing = f"--{boundary}--\r\n".encode()
    submissions = []
    for n in range(first, first + count):
        id_number = _cedula(n)
        fields = submission_fields(
            n % len(PEOPLE), id_number=id_number, email=f"bench.{n}@example.org"
        )
        head, _ = encode_multipart_formdata(fields, boundary=boundary)
        submissions.append(Submission(id_number, head.removesuffix(closing), content_type))
    return submissions, file_part


@dataclass
class Answer:
    status: int
    seconds: float
    body: bytes


def _send(port: int, submission: Submission, file_part: bytes) -> Answer:
    """POST one submission over a new connection (gunicorn's sync workers close each)."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        connection.putrequest("POST", "/api/v1/cases")
        connection.putheader("Content-Type", submission.content_type)
        connection.putheader("Content-Length", str(len(submission.head) + len(file_part)))
        connection.endheaders()
        connection.send(submission.head)
        connection.send(file_part)
        response = connection.getresponse()
        body = response.read()
        return Answer(response.status, time.perf_counter() - started, body)
    finally:
        connection.close()


@dataclass
class Batch:
    answers: list[Answer]
    seconds: float


def _batch(port: int, submissions: list[Submission], file_part: bytes) -> Batch:
    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        answers = list(pool.map(lambda s: _send(port, s, file_part), submissions))
    return Batch(answers, time.perf_counter() - started)


# --- statistics ------------------------------------------------------------------------


def _p95(values: list[float]) -> float:
    return (
        statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]
    )


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "mean": statistics.fmean(values),
        "p50": statistics.median(values),
        "p95": _p95(values),
        "max": max(values),
    }


# --- verification -------------------------------------------------------------------


def _verify(numbers: list[str]) -> dict:
    """Every case answered 201 is in PostgreSQL with its 5 documents, their files on disk,
    its checks task and its confirmation email enqueued."""
    from django.core.files.storage import default_storage
    from django.db.models import Count
    from django_tasks_db.models import DBTaskResult

    from ventanilla.cases.models import Case
    from ventanilla.documents.models import Document
    from ventanilla.notifications.models import OutboundEmail

    cases = {
        c.number: c
        for c in Case.objects.filter(number__in=numbers).annotate(document_count=Count("documents"))
    }
    missing = [n for n in numbers if n not in cases]
    incomplete = [n for n, c in cases.items() if c.document_count != 5]
    files_missing = [
        (d.case.number, d.file.name)
        for d in Document.objects.filter(case__number__in=numbers).select_related("case")
        if not default_storage.exists(d.file.name)
    ]
    case_ids = {c.pk for c in cases.values()}
    checks_tasks = [
        r
        for r in DBTaskResult.objects.filter(task_path__endswith="case_checks_task")
        if r.args_kwargs["args"][0] in case_ids
    ]
    emails = OutboundEmail.objects.filter(case__number__in=numbers).count()
    return {
        "answered_201": len(numbers),
        "in_database": len(cases),
        "missing": missing,
        "without_5_documents": incomplete,
        "files_missing": [name for _, name in files_missing],
        "checks_tasks_enqueued": len(checks_tasks),
        "emails_queued": emails,
        "lost": len(set(missing) | set(incomplete) | {number for number, _ in files_missing}),
    }


# --- profile ---------------------------------------------------------------------------


def _profile(count: int, files: dict) -> str:
    """Where the time of one submission goes, in this process through Django's test client
    (the same request, middleware, form, validation, scan, storage and database as under
    gunicorn, without gunicorn's reading of the socket): `count` submissions timed (wall
    and CPU of this process; clamd's and PostgreSQL's CPU is theirs), `count` more under
    cProfile, and the queries of one."""
    from django.db import connection
    from django.test import Client

    submissions, file_part = _submissions(2 * count + 1, files, first=900_000)
    client = Client(REMOTE_ADDR="127.0.0.1", HTTP_HOST="localhost")

    def submit(submission: Submission) -> None:
        response = client.generic(
            "POST", "/api/v1/cases", submission.head + file_part,
            content_type=submission.content_type,
        )  # fmt: skip
        if response.status_code != 201:
            raise SystemExit(f"profiled submission answered {response.status_code}")

    queries: list[tuple[float, str]] = []

    def record(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append((time.perf_counter() - started, sql))

    # The first one warms up. request_started resets Django's own query log, so the
    # queries are recorded here.
    with connection.execute_wrapper(record):
        submit(submissions[0])
    started, cpu_started = time.perf_counter(), time.process_time()
    for submission in submissions[1 : count + 1]:
        submit(submission)
    elapsed = (time.perf_counter() - started) / count
    cpu = (time.process_time() - cpu_started) / count
    profiler = cProfile.Profile()
    for submission in submissions[count + 1 :]:
        profiler.enable()
        submit(submission)
        profiler.disable()
    out = io.StringIO()
    out.write(
        f"In-process (Django's test client), {count} submissions: {elapsed * 1000:.0f} ms "
        f"each, {cpu * 1000:.0f} ms of CPU in this process (clamd and PostgreSQL apart)\n"
        f"\n{len(queries)} queries in one submission:\n"
    )
    for seconds, sql in queries:
        out.write(f"  {seconds * 1000:6.1f} ms  {sql[:150]}\n")
    out.write(f"\ncProfile of {count} more:\n")
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(45)
    stats.print_callees(r"\(case_submit\)|\(inspect_upload\)")
    return out.getvalue()


# --- main --------------------------------------------------------------------------------


def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # finally: still cleans up
    workdir = Path(tempfile.mkdtemp(prefix="ventanilla-bench-intake-"))
    postgres = Postgres(settings=PG_SETTINGS)
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        stack.callback(postgres.stop)
        # Each web process keeps its connection, as docs/deployment.md has production do
        # (and then CONN_HEALTH_CHECKS replaces one that a restart broke).
        database_url = postgres.start() + "?conn_max_age=600"
        env = _environment(workdir, database_url)
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        from ventanilla.testing import clamav

        clamd = stack.enter_context(clamav.clamd_running(env["CLAMAV_URL"]))
        _manage(env, "migrate", "--noinput")
        _manage(env, "collectstatic", "--noinput", "-v", "0")
        import django

        django.setup()
        return _measure(stack, workdir, env, postgres, clamd.pid if clamd else None)
    return 1


def _measure(
    stack: ExitStack, workdir: Path, env: dict, postgres: Postgres, clamd_pid: int | None
) -> int:
    started = time.perf_counter()
    files = _files(workdir)
    submission_mb = sum(len(data) for _, data, _ in files.values()) / MEGABYTE
    print(
        f"Benchmark of the intake: {os.cpu_count()} CPUs, {CASES} submissions of "
        f"{submission_mb:.1f} MB at concurrency {CONCURRENCY}, gunicorn --workers "
        f"{WEB_CONCURRENCY}, {ROUNDS} rounds alternating with the yardstick, "
        f"{postgres.version()}; media made in {time.perf_counter() - started:.0f} s:"
    )
    for name, (file_name, data, _) in files.items():
        print(f"  {name:<13} {file_name:<26} {len(data) / MEGABYTE:5.2f} MB")
    submissions, file_part = _submissions(CASES + 2 * WARMUP, files, first=1)
    warmup, measured = submissions[: 2 * WARMUP], submissions[2 * WARMUP :]

    servers = {
        "intake": Gunicorn("ventanilla.wsgi:application", env, workdir / "intake.log"),
        "yardstick": Gunicorn("bench.yardstick:application", env, workdir / "yardstick.log"),
    }
    for server in servers.values():
        stack.callback(server.stop)
    servers["intake"].wait_ready("/readyz")
    servers["yardstick"].wait_ready("/")
    print(f"  intake:    {' '.join(servers['intake'].command[2:])}")
    print(f"  yardstick: {' '.join(servers['yardstick'].command[2:])}")

    # What the workers hold before any submission: the code they imported.
    rss_at_start = {
        name: {pid: _rss_mb(pid) for pid in server.workers()} for name, server in servers.items()
    }
    # Warm-up: every worker imports its modules and opens its database connection.
    answers: dict[str, list[Answer]] = {"intake": [], "yardstick": []}
    for name, chunk in (("yardstick", warmup[:WARMUP]), ("intake", warmup[WARMUP:])):
        for answer in _batch(servers[name].port, chunk, file_part).answers:
            if answer.status != 201:
                raise SystemExit(f"warm-up of the {name}: {answer.status} {answer.body[:2000]}")
            answers[name].append(answer)
    offsets = {name: server.log.stat().st_size for name, server in servers.items()}
    rss_after_warmup = {
        name: {pid: _rss_mb(pid) for pid in server.workers()} for name, server in servers.items()
    }

    sampler = MemorySampler(servers)
    sampler.start()
    meter = CpuMeter(servers, clamd_pid, postgres)
    cpu: dict[str, dict[str, float]] = {"intake": {}, "yardstick": {}}
    wall = {"intake": 0.0, "yardstick": 0.0}
    measured_answers: dict[str, list[Answer]] = {"intake": [], "yardstick": []}
    per_round = -(-len(measured) // ROUNDS)
    for start in range(0, len(measured), per_round):
        chunk = measured[start : start + per_round]
        for name in ("yardstick", "intake"):
            # Each batch starts with nothing waiting to be written to the disk: otherwise
            # the kernel writing back the previous batch's gigabyte (the other server's)
            # stalls PostgreSQL's commits behind it, which the yardstick never waits for.
            os.sync()
            before = meter.snapshot()
            batch = _batch(servers[name].port, chunk, file_part)
            after = meter.snapshot()
            for kind, seconds in after.items():
                cpu[name][kind] = cpu[name].get(kind, 0.0) + seconds - before[kind]
            wall[name] += batch.seconds
            measured_answers[name] += batch.answers
    time.sleep(0.5)  # the last access-log lines
    sampler.stopped.set()
    sampler.join()
    sampler.sample()
    server_ms = {name: s.server_times_ms(offsets[name]) for name, s in servers.items()}
    rss = {
        name: (rss_at_start[name], rss_after_warmup[name], sampler.peak_mb(name))
        for name in servers
    }
    for server in servers.values():
        server.stop()

    return _report(files, submission_mb, warmup, measured, measured_answers, answers, wall,
                   server_ms, rss, cpu, postgres)  # fmt: skip


def _report(files, submission_mb, warmup, measured, measured_answers, warmup_answers, wall,
            server_ms, rss, cpu, postgres) -> int:  # fmt: skip
    import json

    intake_answers = measured_answers["intake"]
    refused = [a for a in intake_answers if a.status != 201]
    numbers = [json.loads(a.body)["number"] for a in warmup_answers["intake"] + intake_answers
               if a.status == 201]  # fmt: skip
    verification = _verify(numbers)
    stats = {}
    for name in ("intake", "yardstick"):
        times = [ms for status, ms in server_ms[name] if status == 201]
        client = [a.seconds * 1000 for a in measured_answers[name] if a.status == 201]
        stats[name] = {
            "requests": len(measured_answers[name]),
            "answered_201": len(client),
            "wall_seconds": wall[name],
            "per_second": len(client) / wall[name],
            "server_ms": _summary(times) if times else None,
            "client_ms": _summary(client) if client else None,
            "worker_rss_at_start_mb": rss[name][0],
            "worker_rss_after_warmup_mb": rss[name][1],
            "worker_peak_rss_mb": rss[name][2],
            "mb_per_second": len(client) * submission_mb / wall[name],
        }
    intake, yardstick = stats["intake"], stats["yardstick"]
    if not intake["server_ms"] or not yardstick["server_ms"]:
        raise SystemExit(f"no successful request to measure: {stats}")

    print(f"\n{'':<11}{'cases/s':>8}{'MB/s':>7}  {'server ms mean/p50/p95/max':>28}"
          f"  {'client ms p50/p95':>18}  {'worker RSS MB start/warm/peak':>29}")  # fmt: skip
    for name, s in stats.items():
        server, client = s["server_ms"], s["client_ms"]
        print(
            f"{name:<11}{s['per_second']:>8.1f}{s['mb_per_second']:>7.0f}  "
            f"{server['mean']:>7.0f}/{server['p50']:>6.0f}/{server['p95']:>6.0f}/"
            f"{server['max']:>6.0f}  {client['p50']:>8.0f}/{client['p95']:>8.0f}  "
            f"{max(s['worker_rss_at_start_mb'].values(), default=0):>19.0f}/"
            f"{max(s['worker_rss_after_warmup_mb'].values(), default=0):.0f}/"
            f"{max(s['worker_peak_rss_mb'].values(), default=0):<5.0f}"
        )
    print(
        "Server time: gunicorn's request time (access log): from the headers read to the "
        "response written,\nincluding receiving the body, not the wait for a free worker; "
        f"client time adds that wait ({CONCURRENCY} clients, {WEB_CONCURRENCY} workers)."
    )
    cores = os.cpu_count() or 1
    for name, s in stats.items():
        per_case = {
            kind: seconds / max(1, s["answered_201"]) * 1000 for kind, seconds in cpu[name].items()
        }
        per_case = {kind: ms for kind, ms in per_case.items() if ms >= 0.5}
        s["cpu_ms_per_case"] = per_case
        total = sum(per_case.values())
        print(
            f"CPU per {name} case: "
            + ", ".join(f"{kind} {ms:.0f} ms" for kind, ms in per_case.items())
            + f"; {total:.0f} ms in all: {cores} cores allow at most "
            f"{cores * 1000 / total:.1f} cases/s"
        )
    print(
        f"Verified in PostgreSQL: {verification['in_database']} of "
        f"{verification['answered_201']} cases answered 201 (warm-up included), "
        f"{len(verification['without_5_documents'])} without 5 documents, "
        f"{len(verification['files_missing'])} files missing, "
        f"{verification['checks_tasks_enqueued']} checks tasks and "
        f"{verification['emails_queued']} emails enqueued; refused: {len(refused)}"
    )
    for answer in refused[:3]:
        print(f"  refused: {answer.status} {answer.body[:500]!r}")

    ratio = intake["server_ms"]["mean"] / yardstick["server_ms"]["mean"]
    web_rss = max(intake["worker_peak_rss_mb"].values(), default=0.0)
    print()
    lines = [
        figure("intake_cases_per_s", intake["per_second"], "cases/s",
               target=f">= {TARGET_CASES_PER_S:.0f}",
               met=intake["per_second"] >= TARGET_CASES_PER_S),
        figure("intake_p50_ms", intake["server_ms"]["p50"], "ms", decimals=0),
        figure("intake_p95_ms", intake["server_ms"]["p95"], "ms", decimals=0,
               target=f"< {TARGET_P95_MS:.0f} ms", met=intake["server_ms"]["p95"] < TARGET_P95_MS),
        figure("yardstick_cases_per_s", yardstick["per_second"], "cases/s"),
        figure("yardstick_p95_ms", yardstick["server_ms"]["p95"], "ms", decimals=0),
        figure("intake_vs_disk_ratio", ratio, "x", decimals=2,
               target=f"<= {TARGET_RATIO:.0f} (mean server time)", met=ratio <= TARGET_RATIO),
        figure("web_rss_mb", web_rss, "MB", decimals=0, target=f"< {TARGET_RSS_MB:.0f} MB",
               met=web_rss < TARGET_RSS_MB),
        figure("intake_lost", verification["lost"], "cases", decimals=0, target="0",
               met=verification["lost"] == 0),
    ]  # fmt: skip
    figures = dict(lines)
    results_write(
        "intake",
        {
            "benchmark": "intake: concurrent ~9 MB submissions vs the receive-and-write yardstick",
            "figures": figures,
            "cpus": os.cpu_count(),
            "load_average_after": os.getloadavg(),
            "postgres": postgres.version(),
            "postgres_settings": PG_SETTINGS,
            "submissions": len(measured),
            "warmup_per_server": len(warmup) // 2,
            "concurrency": CONCURRENCY,
            "web_concurrency": WEB_CONCURRENCY,
            "rounds": ROUNDS,
            "files": {
                name: {"name": n, "bytes": len(d), "content_type": t}
                for name, (n, d, t) in files.items()
            },  # fmt: skip
            "submission_mb": submission_mb,
            "server_time": "gunicorn access log %(D)s: headers read to response written",
            "ratio": "mean intake server time / mean yardstick server time",
            "stats": stats,
            "verification": verification,
            "refused": [
                {"status": a.status, "body": a.body[:500].decode(errors="replace")} for a in refused
            ],  # fmt: skip
        },
    )
    if PROFILE:
        print("\n" + _profile(PROFILE, files))
    if verification["lost"] or refused:
        return 2
    missed = [name for name, entry in figures.items() if entry["met"] is False]
    if missed:
        print(f"MISSED: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
