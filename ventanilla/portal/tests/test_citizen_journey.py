"""The whole request as a new user does it, in headless Chromium on a 360 px phone:

- in Spanish with the camera: photos of the ID and the selfie taken through the page,
  the request form downloaded with her data and signed electronically, the statement
  recorded with the teleprompter (Chromium's fake camera and microphone play a picture
  and espeak-ng's reading of her own statement), the WebM converted on the server to an
  MP4 of at most 5 MB that she watches before sending;
- with JavaScript switched off, by plain uploads (a WebM file included), in English and
  in Spanish;
- and axe-core on every citizen page, in both languages, finds no WCAG 2.2 A/AA problem.
"""

import io
import json
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from playwright.sync_api import expect
from pypdf import PdfReader

from ventanilla.cases.constants import CaseStatus
from ventanilla.cases.models import Case
from ventanilla.cases.services import case_mark_checked, case_request_correction
from ventanilla.cases.statement import statement_for
from ventanilla.documents.constants import MAX_BYTES, DocumentKind
from ventanilla.documents.validation import inspect_upload
from ventanilla.testing import case_media, identity_media, media, pki
from ventanilla.testing.factories import submission_fields, submission_files, submit_request

from . import journey
from .conftest import CHROMIUM_ARGS, _chromium_path

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NUMBER = re.compile(r"VV-\d{4}-\d{6}-[0-9A-Z]")
PHONE = {"width": 360, "height": 740}
FAKE_MEDIA = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
RECORD_SECONDS = 17  # the statement must last at least 15 s


def _y4m(folder: Path, picture: Image.Image) -> Path:
    """A still picture as a short Y4M, which Chromium's fake camera loops."""
    png, out = folder / "camara.png", folder / "camara.y4m"
    picture.save(png)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-loop", "1", "-i", str(png), "-t", "1", "-r", "5"]
        + ["-pix_fmt", "yuv420p", str(out)],
        check=True,
    )
    return out


@pytest.fixture(scope="module")
def phone_media(tmp_path_factory):
    """What the phone's camera sees (the person holding her cédula) and what its
    microphone hears (her own statement, read by espeak-ng)."""
    folder = tmp_path_factory.mktemp("telefono")
    fields = submission_fields()
    selfie = Image.open(io.BytesIO(identity_media.selfie_jpeg(fields))).convert("RGB")
    scene = Image.new("RGB", (1280, 720), (200, 200, 196))
    selfie.thumbnail((1280, 720))
    scene.paste(selfie, ((1280 - selfie.width) // 2, (720 - selfie.height) // 2))
    voice = folder / "voz.wav"
    subprocess.run(
        ["espeak-ng", "-v", "es-419", "-s", "150", "-w", str(voice), statement_for(fields)],
        check=True,
    )
    return {"video": _y4m(folder, scene), "voice": voice}


@pytest.fixture
def phone(chromium, browser_problems, phone_media):
    """A phone browser in Madrid whose camera and microphone are the files above."""
    browser = chromium.browser_type.launch(
        executable_path=_chromium_path(),
        headless=True,
        args=CHROMIUM_ARGS
        + FAKE_MEDIA
        + [
            f"--use-file-for-fake-video-capture={phone_media['video']}",
            f"--use-file-for-fake-audio-capture={phone_media['voice']}",
        ],
    )
    context = browser.new_context(
        locale="es-ES", timezone_id="Europe/Madrid", viewport=PHONE, accept_downloads=True
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    browser_problems.watch(page)
    yield page
    browser.close()


def _no_problems(browser_problems):
    assert not browser_problems.page_errors, browser_problems.page_errors
    failed = [r for r in browser_problems.failed_responses if not r.startswith("failed blob:")]
    assert not failed, failed


def _checked(page, audited):
    journey.assert_accessible(page, audited)
    journey.assert_fits(page)


def _take_photo(page, kind: str) -> None:
    group = page.locator(f".vt-upload[data-kind={kind}]")
    group.get_by_role("button", name="Usar la cámara").click()
    group.get_by_role("button", name="Tomar la foto").click()
    group.get_by_role("button", name="Usar esta foto").click()
    expect(group.locator(".vt-status")).to_contain_text("se enviará con el formulario")


def test_a_person_abroad_completes_the_request_on_a_phone_with_the_camera(
    live_server, settings, phone, browser_problems, tmp_path, shots_dir
):
    settings.SITE_URL = live_server.url
    fields = submission_fields()
    page = phone
    audited: list[str] = []

    page.goto(live_server.url + "/")
    _checked(page, audited)
    page.get_by_role("link", name="Iniciar el trámite").click()
    journey.fill_answers(page, fields, on_each_page=lambda p: _checked(p, audited))

    # The ID, both sides, through the camera, with the instant verdict on each photo.
    expect(page.get_by_role("heading", name="Su documento de identidad")).to_be_visible()
    _take_photo(page, "id_front")
    _take_photo(page, "id_back")
    _checked(page, audited)
    journey.continue_button(page).click()

    # The selfie holding the ID.
    expect(page.get_by_role("heading", name=re.compile("fotografía suya"))).to_be_visible()
    _take_photo(page, "selfie")
    _checked(page, audited)
    journey.continue_button(page).click()

    # The request form comes filled in with her data; she signs it electronically.
    expect(page.get_by_role("heading", name="La solicitud firmada")).to_be_visible()
    _checked(page, audited)
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Descargar la solicitud")).click()
    blank = Path(download.value.path()).read_bytes()
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(blank)).pages)
    for name in ("id_number", "first_names", "last_names", "postal_code", "email"):
        assert fields[name] in text, name
    full_name = f"{fields['first_names']} {fields['last_names']}"
    signer = case_media._signer(case_media.test_ca().name, full_name, fields["id_number"])
    signed = tmp_path / "solicitud-firmada.pdf"
    # pyHanko runs its own event loop: not in this thread, where Playwright's runs.
    with ThreadPoolExecutor(1) as pool:
        signed.write_bytes(pool.submit(pki.sign_pdf, blank, signer).result())
    journey.upload_page(page, {"request_form": signed})

    # The statement, read from the teleprompter while the camera records.
    expect(page.get_by_role("heading", name="El video de autorización")).to_be_visible()
    expect(page.locator("#vt-statement")).to_contain_text(fields["id_number"])
    _checked(page, audited)
    group = page.locator(".vt-upload[data-kind=video]")
    group.get_by_role("button", name="Grabar con la cámara").click()
    prompter = group.get_by_role("region", name="Texto para leer en voz alta")
    expect(prompter).to_contain_text(fields["last_names"])
    group.get_by_role("button", name="Empezar a grabar").click()
    page.wait_for_timeout(RECORD_SECONDS * 1000)
    page.screenshot(path=str(shots_dir / "telepronter-360.png"), full_page=True)
    group.get_by_role("button", name="Terminar").click()
    group.get_by_role("button", name="Usar esta grabación").click()
    journey.continue_button(page).click()

    # The server converted the WebM; she watches what will be sent, then goes on.
    expect(page.locator("#conversion-done")).to_be_visible(timeout=60_000)
    preview = page.locator("video.vt-preview")
    expect(preview).to_be_visible()
    page.wait_for_function(
        "() => document.querySelector('video.vt-preview').readyState >= 1", timeout=20_000
    )
    assert page.evaluate("document.querySelector('video.vt-preview').duration") >= 15
    _checked(page, audited)
    journey.continue_button(page).click()

    expect(
        page.get_by_role("heading", name="Revise sus respuestas antes de enviar")
    ).to_be_visible()
    _checked(page, audited)
    page.screenshot(path=str(shots_dir / "revision-360.png"), full_page=True)
    number = journey.submit_review(page)
    assert NUMBER.fullmatch(number)
    _checked(page, audited)

    case = Case.objects.get(number=number)
    video = case.documents.get(kind=DocumentKind.VIDEO, is_current=True)
    assert video.format == "mp4" and video.size <= MAX_BYTES[DocumentKind.VIDEO]
    with video.file.open("rb") as handle:
        stored = inspect_upload(DocumentKind.VIDEO, SimpleUploadedFile("v.mp4", handle.read()))
    assert stored.details["duration_seconds"] >= 15
    assert {d.kind for d in case.documents.all()} == set(DocumentKind.values)
    assert case.documents.get(kind="id_front").original_name == "camara-id_front.jpg"
    assert len(audited) >= 10
    _no_problems(browser_problems)


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_same_request_without_javascript(
    live_server, settings, chromium, browser_problems, upload_paths, tmp_path, language
):
    settings.SITE_URL = live_server.url
    fields = submission_fields()
    context = chromium.new_context(
        java_script_enabled=False, locale="en-US", viewport=PHONE, timezone_id="America/New_York"
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    browser_problems.watch(page)
    page.goto(live_server.url + "/")
    # An English phone still gets Spanish until the person chooses English.
    expect(page.locator("html")).to_have_attribute("lang", "es")
    if language == "en":
        page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.locator("main a[href='/tramite/nuevo/']").first.click()
    journey.fill_answers(page, fields, on_each_page=journey.assert_fits)
    journey.upload_page(
        page, {"id_front": upload_paths["id_front"], "id_back": upload_paths["id_back"]}
    )
    journey.upload_page(page, {"selfie": upload_paths["selfie"]})
    journey.upload_page(page, {"request_form": upload_paths["request_form"]})
    # A browser recording (WebM) sent as a plain file is converted all the same.
    webm = tmp_path / "recording.webm"
    webm.write_bytes(media.webm_bytes(seconds=3))
    journey.upload_page(page, {"video": webm})
    expect(page.locator("#conversion-done")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", language)
    journey.continue_button(page).click()
    number = journey.submit_review(page)
    assert NUMBER.fullmatch(number)
    expect(page.locator("html")).to_have_attribute("lang", language)
    case = Case.objects.get(number=number)
    video = case.documents.get(kind=DocumentKind.VIDEO)
    assert video.format == "mp4" and video.size <= MAX_BYTES[DocumentKind.VIDEO]
    context.close()
    _no_problems(browser_problems)


def _every_page(base: str, number: str, id_number: str, correction_link: str) -> list:
    """(what, how to get there) for every citizen page, with its error states."""
    step = lambda slug: base + reverse("portal:request_step", args=[slug])  # noqa: E731

    def status_found(page):
        page.goto(base + reverse("portal:status"))
        page.locator("#id_number").fill(number)
        page.locator("#id_id_number").fill(id_number)
        page.locator("main form button[type=submit]").click()

    def status_not_found(page):
        page.goto(base + reverse("portal:status"))
        page.locator("#id_number").fill(number)
        page.locator("#id_id_number").fill("0000000000")
        page.locator("main form button[type=submit]").click()

    def identity_errors(page):
        page.goto(step("identificacion"))
        journey.continue_button(page).click()

    def review_errors(page):
        page.goto(base + reverse("portal:request_review"))
        page.locator("main form button[type=submit]").last.click()

    def saved(page):
        page.goto(base + reverse("portal:request_save"))
        page.locator("main form button[type=submit]").click()

    return [
        ("start", lambda p: p.goto(base + "/")),
        ("status", lambda p: p.goto(base + reverse("portal:status"))),
        ("status found", status_found),
        ("status not found", status_not_found),
        ("correction", lambda p: p.goto(correction_link)),
        ("identity with errors", identity_errors),
        *[(slug, lambda p, s=slug: p.goto(step(s))) for slug in journey.STEP_SLUGS],
        ("review with errors", review_errors),
        ("save", lambda p: p.goto(base + reverse("portal:request_save"))),
        ("saved", saved),
        ("no request", lambda p: p.goto(step("video"))),
        ("resume", lambda p: p.goto(base + "/tramite/continuar/abc/")),
        (
            "resume invalid",
            lambda p: (
                p.goto(base + "/tramite/continuar/abc/"),
                p.locator("main form button").click(),
            ),
        ),
    ]


@pytest.mark.parametrize("language", ["es", "en"])
def test_every_citizen_page_passes_axe_in_both_languages(
    live_server, settings, new_context, analyst, language
):
    settings.SITE_URL = live_server.url
    fields = submission_fields(1)
    case = submit_request(fields, submission_files(fields))
    case_mark_checked(case_id=case.pk)
    case_request_correction(
        case=case,
        actor=analyst,
        items=["selfie"],
        reasons=["face_not_visible"],
        message="Sin gafas.",
    )
    from ventanilla.notifications.models import OutboundEmail

    mail = OutboundEmail.objects.filter(template="correction_requested").latest("id")
    link = re.search(r"https?://\S+/tramite/correccion/\S+/", mail.body_text).group(0)

    context = new_context(locale="es-EC" if language == "es" else "en-GB")
    if language == "en":
        context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page = context.new_page()
    page.set_viewport_size(PHONE)
    # A request in progress, so that every step shows its whole page.
    page.goto(live_server.url + reverse("portal:request_step", args=["identificacion"]))
    journey.fill_answers(page, submission_fields())
    seen = {}
    for what, go in _every_page(live_server.url, case.number, fields["id_number"], link):
        go(page)
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == language, what
        seen[what] = journey.axe_violations(page)
        journey.assert_fits(page)
    failing = {what: v for what, v in seen.items() if v}
    assert not failing, json.dumps(failing, ensure_ascii=False, indent=1)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CORRECTION_REQUESTED
