"""Browser fixtures: Debian's headless Chromium driven by Playwright's sync API.

Playwright's sync API keeps an asyncio event loop alive in this thread, so Django
would refuse ORM calls from the test ("SynchronousOnlyOperation") while a browser
is open. The test only reads the database between page actions, from the same
single thread, which is what DJANGO_ALLOW_ASYNC_UNSAFE permits.
"""

import asyncio
import os
import shutil
from pathlib import Path

import pytest
from django.db import DEFAULT_DB_ALIAS, connections

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS_DIR = Path(os.environ.get("VENTANILLA_SHOTS_DIR", "/tmp/ventanilla-shots"))
DEFAULT_TIMEOUT_MS = 15_000


def _chromium_path() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail(
            f"Chromium not found at {path}: run `make setup` (it installs Debian's chromium)."
        )
    return path


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium for the module (Debian's, not a Playwright download).

    Playwright's sync API marks its event loop as running in this thread between calls.
    Django's connection handler then takes the thread for async code and hands out a
    second connection object, which lacks what `serialized_rollback` needs
    (`_test_serialized_contents`): the database was then neither restored before a test
    nor flushed properly after it, the flush re-created the content types with new ids
    (on PostgreSQL), and the next test that restores the database failed on
    django_content_type's UNIQUE (app_label, model). So the thread's own connection is
    taken before the browser starts and put where the handler looks while the loop is
    marked running: one connection, restored and flushed as serialized_rollback intends.
    """
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    sync_connection = connections[DEFAULT_DB_ALIAS]
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=_chromium_path(), headless=True, args=CHROMIUM_ARGS
            )
            assert asyncio._get_running_loop() is not None, "Playwright changed: see above"
            connections[DEFAULT_DB_ALIAS] = sync_connection
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class BrowserProblems:
    """What a person would notice without reading the page: broken assets, server errors,
    script errors. Collected for every page of every context made by `new_context`."""

    def __init__(self):
        self.failed_responses: list[str] = []
        self.page_errors: list[str] = []

    def watch(self, page):
        page.on(
            "response",
            lambda r: (
                self.failed_responses.append(f"{r.status} {r.request.method} {r.url}")
                if r.status >= 500 or (r.status >= 400 and "/static/" in r.url)
                else None
            ),
        )
        # A media preview still loading when the person moves on is aborted: not a fault.
        page.on(
            "requestfailed",
            lambda r: (
                None
                if r.failure == "net::ERR_ABORTED" and r.resource_type == "media"
                else self.failed_responses.append(f"failed {r.url}")
            ),
        )
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))


@pytest.fixture
def browser_problems():
    return BrowserProblems()


@pytest.fixture
def new_context(chromium, browser_problems):
    """Make a browser context for one persona (own cookies), e.g. a citizen in Madrid."""
    contexts = []

    def make(*, locale: str = "es-EC", timezone_id: str = "America/Guayaquil"):
        context = chromium.new_context(
            locale=locale,
            timezone_id=timezone_id,
            viewport={"width": 1280, "height": 900},
            accept_downloads=False,
        )
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        context.on("page", browser_problems.watch)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def browser_page(new_context):
    """A page for the citizen: a Spanish browser in Madrid."""
    context = new_context(locale="es-ES", timezone_id="Europe/Madrid")
    page = context.new_page()
    return page


@pytest.fixture
def upload_paths(tmp_path):
    """The five files of a valid request written to disk, as a citizen has them, plus a
    PNG named like a JPEG; keys are the form's field names."""
    from ventanilla.testing import media
    from ventanilla.testing.factories import submission_fields, submission_files

    folder = tmp_path / "mis-documentos"
    folder.mkdir()
    paths = {}
    for kind, upload in submission_files(submission_fields()).items():
        path = folder / upload.name
        path.write_bytes(upload.read())
        paths[kind] = path
    png = folder / "cedula-frente-captura.jpg"
    png.write_bytes(media.png_bytes(text="ANVERSO"))
    paths["png_named_jpg"] = png
    new_selfie = folder / "selfie-nueva.jpg"
    new_selfie.write_bytes(media.jpeg_bytes(text="SELFIE NUEVA"))
    paths["new_selfie"] = new_selfie
    return paths


@pytest.fixture
def shots_dir():
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    return SHOTS_DIR
