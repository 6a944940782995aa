"""Benchmark of the citizen pages (issue "The citizen's experience"): the weight of each
page as a phone downloads it on a first visit, and the server time of its HTML.

Weight: each page loaded in headless Chromium with a phone's screen (360x740) and the
browser cache off; every response (HTML, CSS, JS, fonts, images) counted as a server
would send it: text types gzipped at level 6 (brotli when the module is importable),
already-compressed types (woff2, png, jpg, mp4) at their size. The person's own uploads
shown back on a page (/tramite/nuevo/archivo/) are reported apart, not in the total:
their size is the person's, not the page's.

Server time: median and p95 over BENCH_RUNS requests of the page's HTML alone (no
assets) from a plain HTTP client with the browser's cookies, after one warm-up request.
The server is `manage.py runserver --insecure` with DEBUG off (static files served by
Django, the template cache on), on a temporary SQLite database, on this machine.

Target: under 250 KB per page; a page above it is printed OVER BUDGET. Exits non-zero
only when the benchmark itself fails, not on a missed target. The figures are written
to bench/results/pages.json too.

    make bench                                                  # BENCH_RUNS=20 here
    scripts/uv.sh run --frozen python bench/pages_bench.py
"""

import datetime as dt
import gzip
import importlib.util
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "pages.json"
RUNS = int(os.environ.get("BENCH_RUNS", "20"))
TARGET_KB = 250
KB = 1000
PHONE = {"width": 360, "height": 740}
OWN_FILES_PATH = "/tramite/nuevo/archivo/"
CASE_NUMBER = re.compile(r"VV-\d{4}-\d{6}-[0-9A-Z]")
TEXT_TYPES = ("text/", "javascript", "json", "svg", "xml")
KINDS = {"document": "html", "stylesheet": "css", "script": "js", "font": "font"}
COLUMNS = ("html", "css", "js", "font", "other")

if importlib.util.find_spec("brotli"):
    import brotli

    COMPRESSION = "brotli q11"

    def _compress(body: bytes) -> bytes:
        return brotli.compress(body)
else:
    COMPRESSION = "gzip -6"

    def _compress(body: bytes) -> bytes:
        return gzip.compress(body, compresslevel=6, mtime=0)


def _setup_django(workdir: Path) -> dict[str, str]:
    """A throwaway database and file folder, migrated; the environment of the server."""
    env = {
        "DJANGO_SETTINGS_MODULE": "ventanilla.settings.dev",
        "DEBUG": "false",
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "PRIVATE_STORAGE_DIR": str(workdir / "files"),
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return {**os.environ, **env}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    server = subprocess.Popen(  # noqa: S603 (fixed arguments)
        [sys.executable, "manage.py", "runserver", "--noreload", "--insecure", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):  # noqa: S310
                return server
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise SystemExit(f"the server did not start:\n{log.read_text()[-3000:]}") from None
            time.sleep(0.2)


def _sent_bytes(body: bytes, content_type: str) -> int:
    """What the server would send: text compressed, the rest as it is."""
    if any(t in content_type for t in TEXT_TYPES):
        return len(_compress(body))
    return len(body)


def _weigh(page, navigate: Callable[[], None], expected_status: int = 200) -> dict:
    """Load one page (cache off) and weigh every response it needed."""
    responses = []

    def record(response) -> None:
        responses.append(response)

    page.on("response", record)
    try:
        navigate()
        page.wait_for_load_state("networkidle")
    finally:
        page.remove_listener("response", record)
    assets, problems = [], []
    for response in responses:
        if 300 <= response.status < 400:
            continue  # a redirect has no body; its target is counted
        url = urllib.parse.urlsplit(response.url)
        if response.status >= 400:
            problems.append(f"{response.status} {url.path}")
        content_type = response.headers.get("content-type", "")
        try:
            body = response.body()
            refetched = False
        except PlaywrightError:
            # Chromium sometimes drops the body of a font once it is decoded; the file
            # served again is the same file.
            body = page.context.request.get(response.url).body()
            refetched = True
        kind = KINDS.get(response.request.resource_type, "other")
        if url.path.startswith(OWN_FILES_PATH):
            kind = "own"
        assets.append(
            {
                "path": url.path + (f"?{url.query}" if url.query else ""),
                "kind": kind,
                "content_type": content_type.split(";")[0],
                "status": response.status,
                "bytes": len(body),
                "sent_bytes": _sent_bytes(body, content_type),
                "refetched": refetched,
            }
        )
    documents = [a for a in assets if a["kind"] == "html"]
    if not documents or documents[0]["status"] != expected_status:
        found = documents[0]["status"] if documents else "no document"
        raise SystemExit(f"{page.url}: answered {found}, expected {expected_status}")
    by_kind = {k: sum(a["sent_bytes"] for a in assets if a["kind"] == k) for k in COLUMNS}
    total = sum(by_kind.values())
    return {
        "requests": len(assets),
        "sent_bytes": by_kind,
        "total_sent_bytes": total,
        "own_files_bytes": sum(a["sent_bytes"] for a in assets if a["kind"] == "own"),
        "uncompressed_bytes": sum(a["bytes"] for a in assets if a["kind"] != "own"),
        "over_budget": total > TARGET_KB * KB,
        "problems": problems,
        "assets": assets,
    }


def _server_times(url: str, cookies: dict[str, str], data: dict | None = None) -> list[float]:
    """Seconds to fetch the HTML alone, RUNS times after one warm-up."""
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    times = []
    for attempt in range(RUNS + 1):
        request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            response.read()
        if attempt:
            times.append(time.perf_counter() - started)
    return times


def _p95(values: list[float]) -> float:
    return (
        statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]
    )


class Citizen:
    """A phone browser: one context keeps the session (and sends the forms); each page is
    weighed in a fresh context with the same cookies, so that nothing comes from a cache."""

    def __init__(self, browser, base: str):
        self.browser = browser
        self.base = base
        self.context = self._new_context()

    def _new_context(self):
        context = self.browser.new_context(
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="es-EC",
            timezone_id="America/Guayaquil",
        )
        context.set_default_timeout(30_000)
        return context

    def cookies(self, language: str = "es") -> dict[str, str]:
        cookies = {c["name"]: c["value"] for c in self.context.cookies(self.base)}
        if language != "es":  # Spanish is what a person gets without choosing
            cookies["django_language"] = language
        return cookies

    def weigh(self, path: str, language: str, submit: dict | None = None) -> dict:
        """Weigh the page at `path` on a first visit. With `submit`, the page is the answer
        to that form, filled in and sent from `path`."""
        context = self._new_context()
        try:
            context.add_cookies(
                [
                    {"name": name, "value": value, "url": self.base}
                    for name, value in self.cookies(language).items()
                ]
            )
            # Routing turns Chromium's HTTP cache off: the page after a form is weighed
            # whole too, not minus what the form's page already fetched.
            context.route("**/*", lambda route: route.continue_())
            page = context.new_page()
            if submit is None:
                weight = _weigh(page, lambda: page.goto(self.base + path))
            else:
                page.goto(self.base + path)
                page.wait_for_load_state("networkidle")

                def send():
                    form = page.locator(f"main form:has([name='{next(iter(submit))}'])")
                    for field, value in submit.items():
                        form.locator(f"[name='{field}']").fill(value)
                    with page.expect_navigation():
                        form.locator("button[type='submit']").click()

                weight = _weigh(page, send)
            shown = page.locator("html").get_attribute("lang")
            if shown != language:
                raise SystemExit(f"{path} came in {shown!r}, not in {language!r}")
            return weight
        finally:
            context.close()

    def get(self, path: str) -> str:
        return self.context.request.get(self.base + path).text()

    def post(self, path: str, fields: dict, files: dict | None = None) -> str:
        """Send a form as the page would (CSRF token included); the redirect's target."""
        form = {**fields, "csrfmiddlewaretoken": self.cookies()["csrftoken"]}
        for name, upload in (files or {}).items():
            upload.seek(0)
            form[name] = {
                "name": upload.name,
                "mimeType": upload.content_type,
                "buffer": upload.read(),
            }
        response = self.context.request.post(self.base + path, multipart=form, max_redirects=0)
        if response.status != 302:
            raise SystemExit(f"POST {path} answered {response.status}:\n{response.text()[:3000]}")
        return response.headers["location"]


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="ventanilla-bench-pages-"))
    env = _setup_django(workdir)
    from django.urls import reverse

    from ventanilla.portal.request_steps import STEPS
    from ventanilla.portal.tests.conftest import CHROMIUM_ARGS
    from ventanilla.testing.factories import submission_fields, submission_files

    fields = submission_fields()
    files = submission_files(fields)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = workdir / "server.log"
    server = _start_server(env, port, log)
    print(
        f"Benchmark of the citizen pages: {os.cpu_count()} CPUs, {RUNS} runs, phone "
        f"{PHONE['width']}x{PHONE['height']}, first visit (empty cache), {COMPRESSION}, "
        f"KB = {KB} bytes"
    )
    results = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                headless=True,
                args=CHROMIUM_ARGS,
            )
            citizen = Citizen(browser, base)
            citizen.get(reverse("portal:start"))  # the CSRF cookie

            def measure(name: str, path: str, submit: dict | None = None) -> None:
                """Weigh one page and time its HTML, in Spanish and in English."""
                for language in ("es", "en"):
                    weight = citizen.weigh(path, language, submit)
                    cookies = citizen.cookies(language)
                    data = None
                    if submit is not None:
                        data = {**submit, "csrfmiddlewaretoken": cookies["csrftoken"]}
                    times = _server_times(base + path, cookies, data)
                    results.append(
                        {
                            "page": name,
                            "language": language,
                            "path": path,
                            "method": "GET" if submit is None else "POST",
                            **weight,
                            "server_ms": {
                                "median": statistics.median(times) * 1000,
                                "p95": _p95(times) * 1000,
                                "runs": [round(t * 1000, 2) for t in times],
                            },
                        }
                    )

            # Pages open to anyone.
            measure("start", reverse("portal:start"))
            measure("status (form)", reverse("portal:status"))

            # A whole request in progress, so that every page shows what it would show.
            for step in STEPS:
                citizen.post(
                    reverse("portal:request_step", args=[step.slug]),
                    {"action": "continue", **{n: fields.get(n, "") for n in step.answer_fields}},
                    {kind: files[kind] for kind in step.file_fields},
                )
            for step in STEPS:
                measure(f"step {step.slug}", reverse("portal:request_step", args=[step.slug]))
            measure("review", reverse("portal:request_review"))
            measure("save for later", reverse("portal:request_save"))

            # Submitted: the confirmation, then the status of that case.
            citizen.post(reverse("portal:request_review"), {"declaration": "on"})
            number = CASE_NUMBER.search(citizen.get(reverse("portal:case_received")))
            if number is None:
                raise SystemExit("the confirmation page shows no case number")
            measure("case received", reverse("portal:case_received"))
            measure(
                "status (case found)",
                reverse("portal:status"),
                {"number": number.group(0), "id_number": fields["id_number"]},
            )
            browser.close()
    except BaseException:
        print(f"Server log ({log}), last lines:\n{log.read_text()[-3000:]}", file=sys.stderr)
        raise
    finally:
        server.terminate()
        server.wait(timeout=30)

    _print(results)
    _write(results)
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _print(results: list[dict]) -> None:
    print(
        f"\n{'page':<22}{'lang':<5}{'req':>4}"
        + "".join(f"{label:>7}" for label in ("HTML", "CSS", "JS", "fonts", "other"))
        + f"{'total':>8}{'own':>6}  {'server ms med/p95':>17}  verdict (< {TARGET_KB} KB)"
    )
    for r in results:
        kb = r["sent_bytes"]
        verdict = "OVER BUDGET" if r["over_budget"] else "ok"
        if r["problems"]:
            verdict += f"  (failed: {', '.join(r['problems'])})"
        print(
            f"{r['page']:<22}{r['language']:<5}{r['requests']:>4}"
            + "".join(f"{kb[c] / KB:>7.1f}" for c in COLUMNS)
            + f"{r['total_sent_bytes'] / KB:>8.1f}{r['own_files_bytes'] / KB:>6.1f}"
            + f"  {r['server_ms']['median']:>8.1f}/{r['server_ms']['p95']:<8.1f}  {verdict}"
        )
    print(
        "KB sent (compressed as a server would); 'own' = the person's uploads shown back, "
        "not in the total; server time of the HTML alone, from a local HTTP client."
    )
    heaviest: dict[str, dict] = {}
    for r in results:
        for asset in r["assets"]:
            if asset["kind"] not in ("html", "own"):
                heaviest[asset["path"]] = asset
    print("\nHeaviest assets (sent KB / KB on disk):")
    for asset in sorted(heaviest.values(), key=lambda a: -a["sent_bytes"])[:10]:
        print(
            f"  {asset['sent_bytes'] / KB:7.1f} / {asset['bytes'] / KB:7.1f}  "
            f"{asset['kind']:<6}{asset['path']}"
        )
    over = sorted({f"{r['page']} ({r['language']})" for r in results if r["over_budget"]})
    print(
        f"\n{len(results) - len(over)} of {len(results)} pages under {TARGET_KB} KB"
        + (f"; OVER BUDGET: {', '.join(over)}" if over else "")
    )


def _write(results: list[dict]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "citizen pages: weight and server time",
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "runs": RUNS,
        "target_kb": TARGET_KB,
        "kb": KB,
        "compression": COMPRESSION,
        "viewport": PHONE,
        "cpus": os.cpu_count(),
        "pages": results,
    }
    partial = RESULTS.with_suffix(".json.tmp")
    partial.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    partial.replace(RESULTS)
    print(f"Written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
