"""The Spanish (and later translated) strings that the citizen pages' scripts show.

The scripts in ``static/js/`` add camera capture, a teleprompter recording, instant
file checks and upload progress to forms that already work without them. They read
their words from ``{{ client_messages|json_script:"vt-messages" }}``, so every
message goes through Django's translation machinery like the rest of the page.

Messages keep ``%(name)s``-style placeholders (``%%`` is a percent sign) that the
scripts fill in. A file refused in the browser gets the very sentence the server
would write: those messages are taken from ``ventanilla.documents.validation``
rather than written twice.
"""

import functools

from django.core.exceptions import ValidationError
from django.utils.formats import get_format
from django.utils.translation import get_language, gettext

from ventanilla.documents import validation
from ventanilla.documents.constants import DocumentKind

# The first bytes of each kind of file the scripts recognise, to ask the server's own
# ``describe_content`` what to call it. Images Pillow names are done separately.
_CONTENT_SAMPLES = {
    "jpeg": b"\xff\xd8\xff\xe0",
    "pdf": b"%PDF-1.7\n",
    "mp4": b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2",
    "mov": b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ",
    "3gp": b"\x00\x00\x00\x14ftyp3gp4\x00\x00\x00\x003gp4",
    "heic": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
    "avif": b"\x00\x00\x00\x18ftypavif\x00\x00\x00\x00mif1avif",
    "webm": b"\x1a\x45\xdf\xa3",
    "zip": b"PK\x03\x04",
}
_PILLOW_IMAGES = {"png": "PNG", "gif": "GIF", "webp": "WebP", "bmp": "BMP", "tiff": "TIFF"}
# Content that nothing recognises (not even as text).
_UNKNOWN_CONTENT = b"\x80" * 16
_SLOTS = {"document": DocumentKind.ID_FRONT, "video": DocumentKind.VIDEO}


def _template(error: ValidationError, *placeholders: str) -> str:
    """The server's message for ``error`` with ``placeholders`` left for the script."""
    params = {**(error.params or {}), **{key: f"%({key})s" for key in placeholders}}
    return str(error.message) % params


def _content_types() -> dict[str, list[str]]:
    """What each recognised kind of file is called, and its category for the advice."""
    described = {
        key: validation.describe_content(sample) for key, sample in _CONTENT_SAMPLES.items()
    }
    for key, image_format in _PILLOW_IMAGES.items():
        described[key] = (gettext("una imagen %(format)s") % {"format": image_format}, "image")
    return {key: [str(phrase), category] for key, (phrase, category) in described.items()}


def _wrong_type_messages() -> dict[str, dict[str, str]]:
    """Per slot (document or video) and category of the refused file, the server's
    "this is not the right type" message, with ``%(name)s`` and ``%(actual)s`` left open."""
    samples = {
        "image": _CONTENT_SAMPLES["jpeg"],
        "heic": _CONTENT_SAMPLES["heic"],
        "video": _CONTENT_SAMPLES["webm"],
        "other": _CONTENT_SAMPLES["zip"],
        "unknown": _UNKNOWN_CONTENT,
    }
    return {
        slot: {
            category: _template(validation._wrong_type(kind, "", sample), "name", "actual")
            for category, sample in samples.items()
        }
        for slot, kind in _SLOTS.items()
    }


def _file_messages() -> dict:
    return {
        "too_large": _template(
            validation._too_large(DocumentKind.ID_FRONT, "", 1), "name", "size", "limit"
        ),
        "too_large_video": _template(
            validation._too_large(DocumentKind.VIDEO, "", 1), "name", "size", "limit"
        ),
        # Written inline by the server's reader; the same msgid gives the same translation.
        "empty": gettext(
            "El archivo «%(name)s» está vacío (0 bytes). Vuelva a guardarlo o "
            "generarlo y cárguelo de nuevo."
        ),
        "wrong_type": _wrong_type_messages(),
        "content_types": _content_types(),
    }


@functools.cache
def _messages_for(language: str | None) -> dict:
    return {
        "decimal_separator": str(get_format("DECIMAL_SEPARATOR")),
        **_file_messages(),
        # Instant checks of a chosen video.
        "video_convert_note": gettext(
            "Su video pesa %(size)s MB; al enviarlo lo convertiremos a MP4 de menos de "
            "%(limit)s MB y podrá revisarlo antes de continuar."
        ),
        "video_too_short": gettext(
            "El video «%(name)s» dura %(seconds)s segundos; debe durar al menos %(min)s "
            "segundos y contener todo el texto de autorización. Grábelo de nuevo y vuelva a "
            "cargarlo."
        ),
        "video_too_long": gettext(
            "El video «%(name)s» dura %(seconds)s segundos; el máximo es %(max)s segundos. "
            "Grábelo de nuevo leyendo solo el texto de autorización y vuelva a cargarlo."
        ),
        # Upload progress.
        "progress_label": gettext("Progreso del envío"),
        "sending": gettext("Enviando: %(percent)s %%"),
        "processing": gettext(
            "Archivos enviados. Procesando en el servidor; puede tardar unos segundos…"
        ),
        "network_error": gettext(
            "No se pudo enviar: se perdió la conexión. Sus datos siguen en el formulario; "
            "revise su conexión a internet y pulse de nuevo el botón."
        ),
        "server_error": gettext(
            "El servidor no pudo procesar el envío (error %(status)s). Sus datos siguen en "
            "el formulario; inténtelo de nuevo en unos minutos."
        ),
        # Camera, both uses.
        "camera_opening": gettext("Abriendo la cámara…"),
        "camera_denied": gettext(
            "No se puede usar la cámara porque el navegador no tiene permiso. Permita el "
            "acceso a la cámara (y al micrófono, para el video) en la configuración del "
            "navegador, o cargue un archivo en el campo «%(label)s»."
        ),
        "camera_missing": gettext(
            "No se encontró ninguna cámara disponible en este dispositivo. Cargue un archivo "
            "en el campo «%(label)s»."
        ),
        "camera_failed": gettext(
            "No se pudo abrir la cámara (quizás otra aplicación la está usando). Ciérrela e "
            "inténtelo de nuevo, o cargue un archivo en el campo «%(label)s»."
        ),
        "camera_preview": gettext("Vista de la cámara"),
        "cancel": gettext("Cancelar"),
        # Photo.
        "camera_start": gettext("Usar la cámara"),
        "camera_take": gettext("Tomar la foto"),
        "camera_use": gettext("Usar esta foto"),
        "camera_retake": gettext("Tomar otra"),
        "camera_ready_card": gettext(
            "Cámara lista. Coloque el documento dentro del recuadro, con buena luz y sin "
            "reflejos, y pulse «Tomar la foto»."
        ),
        "camera_ready_face": gettext(
            "Cámara lista. Ponga su rostro dentro del óvalo y sostenga su documento junto a "
            "la cara, sin taparla; luego pulse «Tomar la foto»."
        ),
        "photo_alt": gettext("La foto que acaba de tomar"),
        "photo_ok": gettext(
            "La foto se ve nítida y con buena luz. Compruebe que se lean todos los datos y "
            "pulse «Usar esta foto»."
        ),
        "photo_problems": gettext("Conviene tomarla de nuevo:"),
        "too_dark": gettext(
            "La foto está muy oscura: busque más luz (junto a una ventana o con la luz "
            "encendida) y tómela de nuevo."
        ),
        "too_bright": gettext(
            "La foto tiene demasiada luz o reflejos: evite la luz directa y el flash sobre el "
            "documento, inclínelo un poco y tómela de nuevo."
        ),
        "blurry": gettext(
            "La foto está borrosa: sostenga el teléfono con las dos manos, espere a que la "
            "cámara enfoque y tómela de nuevo."
        ),
        "too_small": gettext(
            "La cámara da una imagen muy pequeña (%(width)s × %(height)s píxeles; se "
            "necesitan al menos 640 × 480). Use otra cámara o cargue una foto tomada con el "
            "teléfono."
        ),
        "photo_ready": gettext("Foto lista: «%(name)s» se enviará con el formulario."),
        # Video with teleprompter.
        "video_start": gettext("Grabar con la cámara"),
        "video_record": gettext("Empezar a grabar"),
        "video_stop": gettext("Terminar"),
        "video_pause_text": gettext("Pausar el texto"),
        "video_resume_text": gettext("Reanudar el texto"),
        "video_use": gettext("Usar esta grabación"),
        "video_redo": gettext("Grabar de nuevo"),
        "video_prompter": gettext("Texto para leer en voz alta"),
        "video_timer": gettext("Tiempo grabado"),
        "video_ready": gettext(
            "Cámara y micrófono listos. Al pulsar «Empezar a grabar», el texto avanzará "
            "solo: léalo en voz alta mirando a la cámara."
        ),
        "video_recording": gettext("Grabando. Lea el texto en voz alta."),
        "video_ending": gettext("Quedan %(seconds)s segundos."),
        "video_done": gettext("Grabación terminada (%(duration)s). Revísela antes de usarla."),
        "video_short": gettext(
            "La grabación dura %(seconds)s segundos; debe durar al menos %(min)s segundos y "
            "contener todo el texto. Grábela de nuevo."
        ),
        "video_recorded_alt": gettext("Su grabación"),
        "video_ready_file": gettext("Grabación lista: «%(name)s» se enviará con el formulario."),
    }


def client_messages() -> dict:
    """The scripts' strings in the active language, for ``json_script``."""
    return _messages_for(get_language())


def context(request) -> dict:
    """Context processor: ``{{ client_messages|json_script:"vt-messages" }}`` on every page."""
    return {"client_messages": client_messages()}
