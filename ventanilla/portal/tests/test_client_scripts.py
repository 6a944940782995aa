"""The citizen pages' scripts (static/js/uploads.js and capture.js) in headless Chromium.

The scripts only add to forms that work without them, so they are tried on a small page
written to the HTML contract of the guided request (``.vt-upload`` wrappers, ``.vt-capture``
containers, ``#vt-statement``, ``data-vt-upload-progress``) and served by this module, which
is also its URL configuration. The page's POST checks the files with the real upload
validation and answers as the real steps do: a redirect when all is well, the page again
with status 422 and an error summary when not.

The camera is Chromium's fake capture device playing a Y4M made here with ffmpeg (a sharp
cédula, the same too dark, too bright, blurred or tiny) and the microphone plays espeak-ng's
speech.
"""

import base64
import io
import re
import shutil
import subprocess
import time
from pathlib import Path

import av
import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse, HttpResponseRedirect
from django.template import engines
from django.urls import include, path
from django.utils import translation
from django.views.decorators.http import require_http_methods
from PIL import Image, ImageEnhance, ImageFilter
from playwright.sync_api import expect

from ventanilla.documents.constants import MEGABYTE, DocumentKind
from ventanilla.documents.validation import inspect_upload
from ventanilla.portal.client_messages import client_messages
from ventanilla.portal.request_steps import upload_attrs
from ventanilla.portal.tests.conftest import CHROMIUM_ARGS, _chromium_path
from ventanilla.portal.tests.journey import assert_accessible, assert_fits, continue_button
from ventanilla.testing import identity_media, media
from ventanilla.testing.factories import statement_for, submission_fields

STATIC_JS = Path(__file__).resolve().parents[2] / "static" / "js"
SCRIPTS_BUDGET_BYTES = 25 * 1024  # the brief: under 25 KB unminified, both scripts together
CITIZEN_SCRIPTS = ("uploads.js", "capture.js")  # what a citizen's phone downloads
CONVERT_MAX_BYTES = 12 * MEGABYTE
FAKE_MEDIA_FLAGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
FRONT = str(DocumentKind.ID_FRONT.label)
VIDEO = str(DocumentKind.VIDEO.label)

# --- the page under test: a step of the guided request, with its real templates ----

# The guided request's own layout (base template, error summary, form with progress,
# "continue" and "save" buttons, the page's scripts) and upload partial, with all three
# kinds of capture on one page.
PAGE = """{% extends "portal/request/_layout.html" %}
{% block intro %}<blockquote id="vt-statement" class="vt-statement" lang="es">{{ statement }}</blockquote>{% endblock %}
{% block step_body %}
{% include "portal/request/_upload.html" with field=form.id_front capture="photo" guide="card" %}
{% include "portal/request/_upload.html" with field=form.selfie capture="photo" guide="face" %}
{% include "portal/request/_upload.html" with field=form.video capture="video" %}
{% endblock %}"""

DONE = """{% extends "base.html" %}{% block content %}<h1>Documentos recibidos</h1>{% endblock %}"""


class DocumentsForm(forms.Form):
    id_front = forms.FileField(label=DocumentKind.ID_FRONT.label, required=False)
    selfie = forms.FileField(label=DocumentKind.SELFIE.label, required=False)
    video = forms.FileField(label=DocumentKind.VIDEO.label, required=False)


# What the page's POST received, for the test to read (the live server runs in a thread
# of this process).
RECEIVED: list[dict] = []


def _render(request, form, *, status=200):
    attrs = {kind: upload_attrs(kind, CONVERT_MAX_BYTES) for kind in DocumentsForm.base_fields}
    # Short limits keep the recordings in these tests short.
    attrs["video"] |= {
        "min_seconds": request.GET.get("min", "15"),
        "max_seconds": request.GET.get("max", "180"),
    }
    title = "Revise sus documentos" if form.errors else "Sus documentos"
    context = {
        "form": form,
        "files": {},
        "upload_attrs": attrs,
        "step": {"title": title},
        "steps": [],
        "step_number": 1,
        "step_count": 1,
        "statement": statement_for(submission_fields()),
    }
    html = engines["django"].from_string(PAGE).render(context, request)
    return HttpResponse(html, status=status)


@require_http_methods(["GET", "POST"])
def documents_step(request):
    if request.method == "GET":
        return _render(request, DocumentsForm())
    form = DocumentsForm(request.POST, request.FILES)
    form.is_valid()
    received = {"action": request.POST.get("action"), "files": {}}
    for name, upload in request.FILES.items():
        content = upload.read()
        received["files"][name] = {"name": upload.name, "content": content}
        if name == "video":
            continue  # a browser recording is converted by the real step; kept as it is here
        try:
            inspect_upload(name, SimpleUploadedFile(upload.name, content))
        except ValidationError as error:
            form.add_error(name, error.messages[0])
    RECEIVED.append(received)
    time.sleep(float(request.GET.get("delay", "0")))
    if form.errors:
        return _render(request, form, status=422)
    return HttpResponseRedirect("/recibido/")


def received_page(request):
    return HttpResponse(engines["django"].from_string(DONE).render({}, request))


urlpatterns = [
    path("documentos/", documents_step),
    path("recibido/", received_page),
    path("", include("ventanilla.urls")),
]

pytestmark = pytest.mark.urls(__name__)


# --- helpers ------------------------------------------------------------------------


def _server_message(kind: str, name: str, content: bytes) -> str:
    """What the server answers for this file: the sentence the script must show."""
    with pytest.raises(ValidationError) as refused:
        inspect_upload(kind, SimpleUploadedFile(name, content))
    return refused.value.messages[0]


def _save_button(page):
    return page.locator("button[name=action][value=save]")


def _write(folder: Path, name: str, content: bytes) -> Path:
    path = folder / name
    path.write_bytes(content)
    return path


def _input_file(page, input_id: str) -> dict:
    """The file now in an <input type=file>: name, type and bytes."""
    found = page.evaluate(
        """async (id) => {
            const file = document.getElementById(id).files[0];
            if (!file) return null;
            const bytes = new Uint8Array(await file.arrayBuffer());
            let text = '';
            for (let i = 0; i < bytes.length; i += 8192) {
                text += String.fromCharCode(...bytes.subarray(i, i + 8192));
            }
            return {name: file.name, type: file.type, data: btoa(text)};
        }""",
        input_id,
    )
    assert found, f"no file in #{input_id}"
    return {**found, "data": base64.b64decode(found["data"])}


def _scene(card: Image.Image, size=(1280, 720)) -> Image.Image:
    """The cédula lying on a table, as the back camera sees it."""
    scene = Image.new("RGB", size, (120, 92, 70))
    card = card.resize((int(size[0] * 0.7), int(size[0] * 0.7 * 630 / 1000)))
    scene.paste(card, ((size[0] - card.width) // 2, (size[1] - card.height) // 2))
    return scene


def _y4m(folder: Path, name: str, picture: Image.Image) -> Path:
    """A short Y4M of a still picture for Chromium's fake camera (which loops it)."""
    png = folder / f"{name}.png"
    picture.save(png)
    out = folder / f"{name}.y4m"
    subprocess.run(
        [shutil.which("ffmpeg") or "ffmpeg", "-v", "error", "-y", "-loop", "1", "-i", str(png)]
        + ["-t", "1", "-r", "5", "-pix_fmt", "yuv420p", str(out)],
        check=True,
    )
    return out


def _speech_wav(folder: Path, text: str) -> Path:
    out = folder / "voz.wav"
    subprocess.run(
        [shutil.which("espeak-ng") or "espeak-ng", "-v", "es-419", "-w", str(out), text],
        check=True,
    )
    return out


@pytest.fixture(scope="module")
def camera_files(tmp_path_factory):
    """Fake camera feeds: a sharp cédula, the same too dark, too bright, blurred or tiny,
    and the statement spoken by espeak-ng for the microphone."""
    folder = tmp_path_factory.mktemp("camara")
    card = Image.open(io.BytesIO(identity_media.id_card_front_jpeg(submission_fields())))
    sharp = _scene(card.convert("RGB"))
    return {
        "sharp": _y4m(folder, "nitida", sharp),
        "dark": _y4m(folder, "oscura", ImageEnhance.Brightness(sharp).enhance(0.12)),
        "blurred": _y4m(folder, "borrosa", sharp.filter(ImageFilter.GaussianBlur(8))),
        "slightly_blurred": _y4m(folder, "poco-borrosa", sharp.filter(ImageFilter.GaussianBlur(2))),
        "glare": _y4m(folder, "reflejo", ImageEnhance.Brightness(sharp).enhance(2.2)),
        "tiny": _y4m(folder, "diminuta", _scene(card.convert("RGB"), size=(320, 240))),
        "voice": _speech_wav(folder, statement_for(submission_fields())),
    }


@pytest.fixture
def camera_page(chromium, browser_problems):
    """A page in a Chromium whose camera (and microphone) play the given files."""
    browsers = []

    def make(video: Path | None, *, audio=None, flags=FAKE_MEDIA_FLAGS, viewport=(1280, 900)):
        flags = list(flags)
        if video:
            flags.append(f"--use-file-for-fake-video-capture={video}")
        if audio:
            flags.append(f"--use-file-for-fake-audio-capture={audio}")
        browser = chromium.browser_type.launch(
            executable_path=_chromium_path(), headless=True, args=CHROMIUM_ARGS + flags
        )
        browsers.append(browser)
        context = browser.new_context(
            locale="es-EC", viewport={"width": viewport[0], "height": viewport[1]}
        )
        context.set_default_timeout(15_000)
        page = context.new_page()
        browser_problems.watch(page)
        return page

    yield make
    for browser in browsers:
        browser.close()


@pytest.fixture
def page(new_context, browser_problems):
    return new_context().new_page()


@pytest.fixture(autouse=True)
def _clear_received():
    RECEIVED.clear()


@pytest.fixture(autouse=True)
def _spanish():
    """The server's messages read here are the Spanish ones the page shows."""
    with translation.override("es"):
        yield


def _no_problems(browser_problems):
    assert not browser_problems.page_errors, browser_problems.page_errors
    # A local video stops being read (a "failed" blob: request) once its duration is known.
    failed = [r for r in browser_problems.failed_responses if not r.startswith("failed blob:")]
    assert not failed, failed


# --- the messages the scripts read --------------------------------------------------


def test_scripts_stay_small():
    total = sum((STATIC_JS / name).stat().st_size for name in CITIZEN_SCRIPTS)
    assert 0 < total < SCRIPTS_BUDGET_BYTES, total


def test_file_messages_are_the_servers_own():
    messages = client_messages()
    content = media.big_jpeg_bytes()
    expected = _server_message("id_front", "cedula.jpg", content)
    filled = messages["too_large"] % {"name": "cedula.jpg", "size": "2,1", "limit": "2"}
    assert filled == expected
    png = _server_message("id_front", "cedula.jpg", media.png_bytes())
    actual, category = messages["content_types"]["png"]
    assert (
        messages["wrong_type"]["document"][category]
        % {
            "name": "cedula.jpg",
            "actual": actual,
        }
        == png
    )


def test_every_message_is_a_valid_format_string():
    """Each placeholder is ``%(name)s`` and a percent sign is ``%%``, as gettext's
    python-format wants, so translations are checked by msgfmt like the server's."""

    class Anything(dict):
        def __missing__(self, key):
            return "x"

    def strings(value):
        if isinstance(value, dict):
            for item in value.values():
                yield from strings(item)
        elif isinstance(value, list):
            yield from (item for item in value if isinstance(item, str))
        else:
            yield value

    found = list(strings(client_messages()))
    assert len(found) > 60
    for text in found:
        assert isinstance(text, str) and text.strip(), text
        text % Anything()  # raises on a stray "%"


# --- instant checks of a chosen file --------------------------------------------------


@pytest.mark.browser
def test_a_wrong_file_is_explained_at_once_in_the_servers_words(
    live_server, page, browser_problems, tmp_path, shots_dir
):
    page.goto(live_server.url + "/documentos/")
    front = page.get_by_label(FRONT, exact=True)
    group = page.locator(".vt-upload[data-kind=id_front]")
    check = group.locator(".vt-check")

    big = _write(tmp_path, "cedula-grande.jpg", media.big_jpeg_bytes())
    front.set_input_files(big)
    expect(check).to_have_text(_server_message("id_front", big.name, big.read_bytes()))
    expect(check).to_have_attribute("role", "status")
    expect(group.locator(".usa-form-group")).to_have_class(_has("usa-form-group--error"))
    expect(front).to_have_attribute("aria-invalid", "true")
    assert "pesa 2,1 MB; el máximo es 2 MB" in check.text_content()
    assert_accessible(page)
    page.screenshot(path=str(shots_dir / "vt-instant-check.png"))

    png = _write(tmp_path, "cedula-captura.jpg", media.png_bytes(text="ANVERSO"))
    front.set_input_files(png)
    expect(check).to_have_text(_server_message("id_front", png.name, png.read_bytes()))

    good = _write(tmp_path, "cedula.jpg", media.jpeg_bytes(text="ANVERSO"))
    front.set_input_files(good)
    expect(check).to_be_empty()
    expect(group.locator(".usa-form-group")).not_to_have_class(_has("usa-form-group--error"))
    expect(front).not_to_have_attribute("aria-invalid", "true")
    assert "vt-check" in front.get_attribute("aria-describedby")
    _no_problems(browser_problems)


@pytest.mark.browser
def test_a_big_video_is_announced_as_converted_and_a_short_one_as_short(
    live_server, page, browser_problems, tmp_path
):
    page.goto(live_server.url + "/documentos/?min=3")
    video = page.get_by_label(VIDEO, exact=True)
    group = page.locator(".vt-upload[data-kind=video]")
    check = group.locator(".vt-check")

    big = _write(tmp_path, "mi-video.mp4", media.big_mp4_bytes(int(6.2 * MEGABYTE)))
    video.set_input_files(big)
    expect(check.locator(".vt-note")).to_have_text(
        "Su video pesa 6,2 MB; al enviarlo lo convertiremos a MP4 de menos de 5 MB y podrá "
        "revisarlo antes de continuar."
    )
    expect(check.locator(".usa-error-message")).to_have_count(0)
    expect(group.locator(".usa-form-group")).not_to_have_class(_has("usa-form-group--error"))

    short = _write(tmp_path, "corto.mp4", media.mp4_bytes(seconds=2))
    video.set_input_files(short)
    expect(check.locator(".usa-error-message")).to_contain_text(
        "El video «corto.mp4» dura 2,0 segundos; debe durar al menos 3 segundos"
    )
    expect(group.locator(".usa-form-group")).to_have_class(_has("usa-form-group--error"))

    huge = big.read_bytes() + b"\x00" * (CONVERT_MAX_BYTES - len(big.read_bytes()) + 1)
    video.set_input_files(_write(tmp_path, "enorme.mp4", huge))
    expect(check).to_have_text(
        "El archivo «enorme.mp4» pesa 12,1 MB; el máximo es 12 MB. Redúzcalo (grábelo con "
        "menor resolución, por ejemplo 480p, o comprímalo con una aplicación de video) y "
        "vuelva a cargarlo."
    )

    photo = _write(tmp_path, "foto.jpg", media.jpeg_bytes())
    video.set_input_files(photo)
    expect(check).to_have_text(
        "El archivo «foto.jpg» es una imagen JPG, no MP4. Aquí va el video de autorización, "
        "en formato MP4 con imagen y sonido."
    )
    _no_problems(browser_problems)


def _has(class_name: str):
    return re.compile(rf"(^|\s){re.escape(class_name)}(\s|$)")


# --- camera photos ----------------------------------------------------------------


@pytest.mark.browser
# A slight blur (2 px on 1280) still reads well and must not be called blurry.
@pytest.mark.parametrize("feed", ["sharp", "slightly_blurred"])
def test_a_photo_from_the_camera_fills_the_field_with_a_jpeg(
    live_server, camera_page, camera_files, browser_problems, shots_dir, feed
):
    page = camera_page(camera_files[feed])
    page.goto(live_server.url + "/documentos/")
    group = page.locator(".vt-upload[data-kind=id_front]")
    group.get_by_role("button", name="Usar la cámara").click()
    take = group.get_by_role("button", name="Tomar la foto")
    expect(take).to_be_focused()
    expect(group.locator(".vt-status")).to_contain_text("Coloque el documento dentro del recuadro")
    expect(group.locator(".vt-guide")).to_be_visible()
    page.screenshot(path=str(shots_dir / f"vt-photo-live-{feed}.png"))
    assert_accessible(page)
    take.click()

    expect(group.locator(".vt-verdict")).to_contain_text("La foto se ve nítida y con buena luz")
    expect(group.get_by_role("img", name="La foto que acaba de tomar")).to_be_visible()
    page.screenshot(path=str(shots_dir / f"vt-photo-review-{feed}.png"), full_page=True)
    assert_accessible(page)
    use = group.get_by_role("button", name="Usar esta foto")
    expect(use).to_be_focused()
    use.click()

    expect(group.locator(".vt-status")).to_have_text(
        "Foto lista: «camara-id_front.jpg» se enviará con el formulario."
    )
    expect(group.get_by_role("button", name="Usar la cámara")).to_be_focused()
    found = _input_file(page, "id_id_front")
    assert found["name"] == "camara-id_front.jpg"
    assert found["type"] == "image/jpeg"
    assert found["data"][:3] == b"\xff\xd8\xff"
    assert len(found["data"]) < 2 * MEGABYTE
    details = inspect_upload("id_front", SimpleUploadedFile(found["name"], found["data"])).details
    assert (details["width"], details["height"]) == (1280, 720)
    expect(group.locator(".vt-check")).to_be_empty()
    # The camera was switched off.
    assert page.evaluate("document.querySelectorAll('.vt-capture video').length") == 0
    _no_problems(browser_problems)


@pytest.mark.browser
@pytest.mark.parametrize(
    ("feed", "expected", "not_expected"),
    [
        ("dark", "La foto está muy oscura", "borrosa"),
        ("blurred", "La foto está borrosa", "oscura"),
        ("glare", "La foto tiene demasiada luz o reflejos", "oscura"),
        ("tiny", "La cámara da una imagen muy pequeña (320 × 240 píxeles", "borrosa"),
    ],
)
def test_a_poor_camera_photo_gets_advice(
    live_server,
    camera_page,
    camera_files,
    browser_problems,
    shots_dir,
    feed,
    expected,
    not_expected,
):
    page = camera_page(camera_files[feed])
    page.goto(live_server.url + "/documentos/")
    group = page.locator(".vt-upload[data-kind=selfie]")
    group.get_by_role("button", name="Usar la cámara").click()
    expect(group.locator(".vt-status")).to_contain_text("Ponga su rostro dentro del óvalo")
    group.get_by_role("button", name="Tomar la foto").click()
    verdict = group.locator(".vt-verdict")
    expect(verdict).to_contain_text("Conviene tomarla de nuevo:")
    expect(verdict).to_contain_text(expected)
    expect(verdict).not_to_contain_text(not_expected)
    page.screenshot(path=str(shots_dir / f"vt-photo-{feed}.png"))
    retake = group.get_by_role("button", name="Tomar otra")
    expect(retake).to_be_focused()
    retake.click()
    expect(group.get_by_role("button", name="Tomar la foto")).to_be_focused()
    _no_problems(browser_problems)


@pytest.mark.browser
@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        # The person says no to the browser's question.
        (["--use-fake-device-for-media-stream"], "el navegador no tiene permiso"),
        # The browser may ask, but the computer has no camera.
        (["--use-fake-ui-for-media-stream"], "No se encontró ninguna cámara"),
    ],
)
def test_without_a_camera_the_person_is_sent_to_the_upload_field(
    live_server, camera_page, browser_problems, flags, expected
):
    page = camera_page(None, flags=flags)
    page.goto(live_server.url + "/documentos/")
    group = page.locator(".vt-upload[data-kind=id_front]")
    start = group.get_by_role("button", name="Usar la cámara")
    start.click()
    status = group.locator(".vt-status")
    expect(status).to_contain_text(expected)
    expect(status).to_contain_text(f"un archivo en el campo «{FRONT}»")
    expect(status).to_have_class(_has("usa-error-message"))
    expect(start).to_be_focused()
    expect(group.locator(".vt-panel")).to_be_hidden()
    _no_problems(browser_problems)


# --- the statement video with teleprompter ------------------------------------------


@pytest.mark.browser
def test_the_statement_is_recorded_with_a_teleprompter_into_the_field(
    live_server, camera_page, camera_files, browser_problems, shots_dir
):
    page = camera_page(camera_files["sharp"], audio=camera_files["voice"], viewport=(360, 740))
    page.goto(live_server.url + "/documentos/?min=3&max=7")
    group = page.locator(".vt-upload[data-kind=video]")
    group.get_by_role("button", name="Grabar con la cámara").click()
    prompter = group.get_by_role("region", name="Texto para leer en voz alta")
    expect(prompter).to_contain_text("autorizo al Instituto Ecuatoriano de Seguridad Social")
    record = group.get_by_role("button", name="Empezar a grabar")
    expect(record).to_be_focused()

    # Too short first: stopped after one second.
    record.click()
    finish = group.get_by_role("button", name="Terminar")
    expect(finish).to_be_focused()
    expect(group.locator(".vt-status")).to_have_text("Grabando. Lea el texto en voz alta.")
    page.wait_for_timeout(1000)
    finish.click()
    expect(group.locator(".vt-verdict")).to_contain_text("debe durar al menos 3 segundos")
    expect(group.get_by_role("button", name="Grabar de nuevo")).to_be_focused()
    # Used all the same, the field's own check measures the WebM (which declares no
    # duration) and says it is too short.
    group.get_by_role("button", name="Usar esta grabación").click()
    check = group.locator(".vt-check")
    expect(check.locator(".usa-error-message")).to_contain_text(
        re.compile(r"El video «grabacion\.webm» dura 1,\d segundos; debe durar al menos 3")
    )

    # Then to the end: the recording stops by itself at the maximum; the text scrolls
    # on its own after two seconds, and stops while paused.
    group.get_by_role("button", name="Grabar con la cámara").click()
    group.get_by_role("button", name="Empezar a grabar").click()
    page.wait_for_timeout(3500)
    scrolled = prompter.evaluate("el => el.scrollTop")
    assert scrolled > 0
    group.get_by_role("button", name="Pausar el texto").click()
    paused_at = prompter.evaluate("el => el.scrollTop")
    page.wait_for_timeout(800)
    assert prompter.evaluate("el => el.scrollTop") == paused_at
    group.get_by_role("button", name="Reanudar el texto").click()
    page.wait_for_timeout(800)
    assert prompter.evaluate("el => el.scrollTop") > paused_at
    expect(group.locator(".vt-timer")).to_contain_text(re.compile(r"0:0[4-6] / 0:07"))
    assert_fits(page, 360)
    assert_accessible(page)
    page.screenshot(path=str(shots_dir / "vt-teleprompter-360.png"), full_page=True)
    use = group.get_by_role("button", name="Usar esta grabación")
    expect(use).to_be_visible(timeout=5000)
    expect(group.locator(".vt-status")).to_have_text(
        re.compile(r"Grabación terminada \(0:0[78]\)\. Revísela antes de usarla\.")
    )
    expect(group.locator(".vt-verdict")).to_have_count(0)
    expect(group.locator("video.vt-recording")).to_be_visible()
    assert_accessible(page)
    use.click()

    expect(group.locator(".vt-status")).to_have_text(
        "Grabación lista: «grabacion.webm» se enviará con el formulario."
    )
    found = _input_file(page, "id_video")
    assert found["name"] == "grabacion.webm"
    assert found["type"] == "video/webm"
    assert found["data"][:4] == b"\x1a\x45\xdf\xa3"
    expect(check).to_be_empty()

    # Sent with the form, the server gets a WebM with picture and sound.
    continue_button(page).click()
    expect(page.get_by_role("heading", name="Documentos recibidos")).to_be_visible()
    sent = RECEIVED[-1]["files"]["video"]
    with av.open(io.BytesIO(sent["content"])) as container:
        assert "webm" in container.format.name or "matroska" in container.format.name
        assert container.streams.video and container.streams.audio
        frames = sum(1 for _ in container.decode(video=0))
    assert frames > 10
    _no_problems(browser_problems)


# --- sending with a progress bar ------------------------------------------------------


@pytest.mark.browser
def test_sending_shows_progress_then_follows_the_redirect(
    live_server, page, browser_problems, tmp_path
):
    page.goto(live_server.url + "/documentos/?delay=1.5")
    # A slow connection (about 1 MB/s up), so the bar can be seen moving.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 1_000_000},
    )
    page.evaluate(
        """() => { window.seen = [];
        new MutationObserver(() => { const p = document.querySelector('.vt-progress [role=status]');
            if (p && window.seen.at(-1) !== p.textContent) window.seen.push(p.textContent); })
        .observe(document.body, {subtree: true, childList: true, characterData: true}); }"""
    )
    content = media.big_jpeg_bytes(int(1.8 * MEGABYTE))
    page.get_by_label(FRONT, exact=True).set_input_files(_write(tmp_path, "cedula.jpg", content))
    continue_button(page).click()

    progress = page.locator(".vt-progress progress")
    expect(progress).to_be_visible()
    expect(continue_button(page)).to_be_disabled()
    expect(_save_button(page)).to_be_disabled()
    assert_accessible(page)
    expect(page.locator(".vt-progress [role=status]")).to_have_text(
        "Archivos enviados. Procesando en el servidor; puede tardar unos segundos…"
    )
    seen = page.evaluate("window.seen")
    expect(page).to_have_url(live_server.url + "/recibido/")
    expect(page.get_by_role("heading", name="Documentos recibidos")).to_be_visible()

    steps = [text for text in seen if text.startswith("Enviando: ")]
    assert len(steps) >= 3, seen
    assert steps[0] == "Enviando: 0 %"
    assert any(text not in ("Enviando: 0 %", "Enviando: 100 %") for text in steps), steps
    assert RECEIVED[-1]["action"] == "continue"
    assert RECEIVED[-1]["files"]["id_front"]["content"] == content
    _no_problems(browser_problems)


@pytest.mark.browser
def test_a_refused_file_brings_back_the_page_with_its_errors(
    live_server, page, browser_problems, tmp_path
):
    page.goto(live_server.url + "/documentos/")
    png = _write(tmp_path, "cedula-captura.jpg", media.png_bytes(text="ANVERSO"))
    page.get_by_label(FRONT, exact=True).set_input_files(png)
    _save_button(page).click()

    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text(_server_message("id_front", png.name, png.read_bytes()))
    expect(page).to_have_title("Revise sus documentos · Paso 1 de 1 · IESS")
    expect(page).to_have_url(live_server.url + "/documentos/")
    assert RECEIVED[-1]["action"] == "save"
    # The new page's components work: camera buttons and instant checks.
    group = page.locator(".vt-upload[data-kind=id_front]")
    expect(group.get_by_role("button", name="Usar la cámara")).to_be_visible()
    expect(page.locator(".vt-capture[data-capture=video] button")).to_have_count(1)
    page.get_by_label(FRONT, exact=True).set_input_files(png)
    expect(group.locator(".vt-check")).to_contain_text("es una imagen PNG")
    # The server's error stays marked until the page is sent again.
    good = _write(tmp_path, "cedula.jpg", media.jpeg_bytes())
    page.get_by_label(FRONT, exact=True).set_input_files(good)
    expect(group.locator(".vt-check")).to_be_empty()
    expect(group.locator(".usa-form-group")).to_have_class(_has("usa-form-group--error"))
    _no_problems(browser_problems)


@pytest.mark.browser
def test_a_lost_connection_keeps_the_form_and_says_so(live_server, page, tmp_path):
    page.goto(live_server.url + "/documentos/")
    page.route("**/documentos/", lambda route: route.abort("internetdisconnected"))
    page.get_by_label(FRONT, exact=True).set_input_files(
        _write(tmp_path, "cedula.jpg", media.jpeg_bytes())
    )
    continue_button(page).click()
    status = page.locator(".vt-progress [role=status]")
    expect(status).to_have_text(
        "No se pudo enviar: se perdió la conexión. Sus datos siguen en el formulario; revise "
        "su conexión a internet y pulse de nuevo el botón."
    )
    expect(continue_button(page)).to_be_enabled()
    expect(page.locator(".vt-progress")).to_be_focused()
    assert _input_file(page, "id_id_front")["name"] == "cedula.jpg"
    assert RECEIVED == []
