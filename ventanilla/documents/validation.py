"""Checks that an uploaded file really is what the procedure asks for.

The type is decided by the content, never by the file name or the declared
content type: the first bytes choose a decoder, and the file must then decode
completely, because magic bytes alone are fooled by a fake ``%PDF`` header or
a truncated file. The size is checked first, before anything is decoded.

Every refusal is a ``ValidationError`` with a ``code`` (``empty``,
``too_large``, ``wrong_type``, ``corrupt``, ``truncated``, ``encrypted``,
``too_many_pixels``, ``no_video``, ``no_audio``, ``changed``, and from the
upload hardening of docs/security.md ``malware``, ``scan_unavailable``,
``pdf_javascript``, ``pdf_action``, ``pdf_launch``, ``pdf_embedded_file``,
``pdf_rich_media``, ``too_many_pages``, ``too_complex``, ``hidden_content``,
``video_too_large``) and a Spanish message that says what is wrong and how to fix it.

Every upload that passes those checks is then scanned by ClamAV (``scanning.py``).
A file is refused if it hides a second file: a polyglot (a PDF
that is also a ZIP or a web page, a photo with an archive or a program after
its end) is both, and whichever program opens it decides which.
"""

import contextlib
import hashlib
import io
import logging
import math
import os
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import av
from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from PIL import Image
from pypdf import PdfReader, apply_configuration
from pypdf.errors import DependencyError, LimitReachedError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from .constants import (
    ALLOWED_FORMATS,
    CONTENT_TYPES,
    EXTENSIONS,
    MAX_BYTES,
    MAX_IMAGE_PIXELS,
    MEGABYTE,
    DocumentKind,
    FileFormat,
)
from .scanning import ScannerUnavailable, scan_bytes, scanning_enabled

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class InspectedFile:
    """What the content of an accepted file turned out to be."""

    format: FileFormat
    content_type: str
    size: int
    # The SHA-256 of the content; "" from the intake's inspection (thorough=False), which
    # leaves the fingerprint to the checks worker (see inspect_upload).
    sha256: str
    extension: str
    details: dict[str, Any]


def inspect_upload(kind: str, uploaded_file, *, thorough: bool = True) -> InspectedFile:
    """Accept ``uploaded_file`` as the document ``kind`` or raise ``ValidationError``.

    ``uploaded_file`` is a Django ``UploadedFile`` or ``File`` (anything with
    ``name``, ``read`` and ``seek``; ``size`` is used when present). It is left
    positioned at its start.

    ``thorough=False`` is the intake's inspection, which answers the citizen at once:
    size, type, structure (a JPEG must reach its end marker, an MP4's last box must be
    whole, a PDF must parse without active content), pixel and duration bounds and hidden
    content. It leaves out the two costly parts, which the background checks do on the
    stored file (``revalidate_stored``, always thorough) before any analyst can open it:
    decoding every block of a photo, and ClamAV's scan. See docs/security.md, E. It does
    not take the file's SHA-256 either (``sha256`` is ""): the checks worker takes it from
    the stored file, which the storage's authenticated encryption (AES-GCM) proves
    unaltered since the intake stored it (docs/security.md A says what that leaves).
    """
    kind = DocumentKind(kind)
    name = _display_name(uploaded_file)
    try:
        content = _read_within_limit(uploaded_file, kind, name)
    finally:
        uploaded_file.seek(0)
    file_format = _sniff(content)
    if file_format not in ALLOWED_FORMATS[kind]:
        raise _wrong_type(kind, name, content)
    if file_format == FileFormat.JPEG:
        details = _inspect_jpeg(content, name, thorough=thorough)
    else:  # a PDF or an MP4 is inspected the same either way
        details = _DECODERS[file_format](content, name)
    _refuse_hidden_content(file_format, content, name)
    if thorough:
        # Last: clamd only gets files that are already known to be a bounded JPEG, PDF or
        # MP4 (it decodes images too, and a 400-megapixel PNG keeps it busy for minutes).
        _scan(content, kind, name)
    return InspectedFile(
        format=file_format,
        content_type=CONTENT_TYPES[file_format],
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest() if thorough else "",
        extension=EXTENSIONS[file_format],
        details=details,
    )


def file_sha256(file) -> str:
    """The SHA-256 of a Django ``File`` or ``UploadedFile``, read from its start; the file is
    left at its start."""
    digest = hashlib.sha256()
    for chunk in file.chunks():  # from the start
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def revalidate_stored(kind: str, file, *, expected_sha256: str | None = None) -> InspectedFile:
    """Inspect a file again after it was stored (the background worker's re-check).

    Opens a closed Django ``File``/``FieldFile`` for the duration of the check.
    With ``expected_sha256``, a stored file that differs from the one accepted
    at upload is refused with code ``changed``.
    """
    was_closed = getattr(file, "closed", False)
    if was_closed:
        file.open("rb")
    try:
        inspected = inspect_upload(kind, file)
    except ValidationError as error:
        # clamd being down says nothing about the stored file: the check errs, not fails.
        if error.code == "scan_unavailable":
            raise ScannerUnavailable(error.messages[0]) from error
        raise
    finally:
        if was_closed:
            file.close()
    if expected_sha256 and inspected.sha256 != expected_sha256:
        raise ValidationError(
            gettext(
                "El archivo guardado «%(name)s» no es el que se cargó: su huella SHA-256 "
                "cambió. Pida al ciudadano que lo vuelva a cargar."
            ),
            code="changed",
            params={"name": _display_name(file)},
        )
    return inspected


def probe_video(path_or_file, *, on_frame: Callable[[Any], None] | None = None) -> dict[str, Any]:
    """Describe an MP4 and decode every packet to its end.

    The header of a truncated MP4 still reports the full duration, so only
    decoding shows how much is really there. Returns the MP4 details plus
    ``decoded_seconds``, ``video_frames``, ``audio_frames``, ``decode_errors``
    and ``complete``. Raises ``ValidationError`` (``corrupt``) if the file does
    not open as an MP4 at all. ``on_frame`` receives every decoded PyAV frame,
    so that one pass also feeds the speech and face checks.
    """
    is_path = isinstance(path_or_file, str | os.PathLike)
    source = os.fspath(path_or_file) if is_path else path_or_file
    name = PurePath(source).name if is_path else _display_name(path_or_file)
    if not is_path:
        path_or_file.seek(0)
    try:
        with _open_mp4(source, name) as container:
            details = _video_details(container)
            scan = _scan_packets(container, decode_all=True, on_frame=on_frame)
            missing = _missing_seconds(container, scan.decoded_ends)
    finally:
        if not is_path:
            path_or_file.seek(0)
    return {
        **details,
        "decoded_seconds": round(scan.decoded_seconds, 3),
        "video_frames": scan.frames["video"],
        "audio_frames": scan.frames["audio"],
        "decode_errors": scan.errors,
        "complete": not (scan.errors or missing)
        and scan.frames["video"] > 0
        and scan.frames["audio"] > 0,
    }


# --- reading ----------------------------------------------------------------


def _display_name(file) -> str:
    # Stored files carry a storage path; the citizen only knows the last part. The name
    # is only ever shown (escaped) in messages, never used as a path: control characters
    # (NUL, escapes, bidirectional overrides) are dropped so the message reads right.
    name = PurePath(str(getattr(file, "name", None) or "")).name
    name = "".join(char for char in name if char.isprintable())
    return name[:120] or "archivo"


def _read_within_limit(file, kind: DocumentKind, name: str) -> bytes:
    """Read the whole file, refusing it as soon as it is known to be too large."""
    limit = MAX_BYTES[kind]
    declared = getattr(file, "size", None)
    if declared is not None and declared > limit:
        raise _too_large(kind, name, declared)
    file.seek(0)
    content = _read_at_most(file, limit + 1)
    if len(content) > limit:
        # The declared size was wrong, so the real one is unknown.
        raise _too_large(kind, name, None)
    if not content:
        raise ValidationError(
            gettext(
                "El archivo «%(name)s» está vacío (0 bytes). Vuelva a guardarlo o "
                "generarlo y cárguelo de nuevo."
            ),
            code="empty",
            params={"name": name},
        )
    return content


def _read_at_most(file, count: int) -> bytes:
    # An upload Django kept in memory (and a ContentFile) is a BytesIO: getvalue() hands
    # over its buffer itself instead of a copy of the megabytes, and a later read() of the
    # whole (the storage's, to encrypt it) then gets the same buffer again.
    memory = getattr(file, "file", file)
    if type(memory) is io.BytesIO:  # not a subclass, which may read otherwise
        content = memory.getvalue()
        return content if len(content) <= count else content[:count]
    parts, remaining = [], count
    while remaining > 0:
        chunk = file.read(remaining)
        if not chunk:
            break
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


def _sniff(content: bytes) -> FileFormat | None:
    """Choose the decoder from the first bytes; the decoder then has the last word."""
    if content.startswith(b"\xff\xd8\xff"):
        return FileFormat.JPEG
    # PDF readers accept a header anywhere in the first kilobyte; _refuse_hidden_content
    # then refuses one that is not at the start (what comes before it is another file).
    if b"%PDF-" in content[:1024]:
        return FileFormat.PDF
    if content[4:8] == b"ftyp":
        return FileFormat.MP4
    return None


# --- virus scanning -------------------------------------------------------------


def _scan(content: bytes, kind: DocumentKind, name: str) -> None:
    """Refuse what ClamAV flags; refuse too (fail closed) when it cannot say."""
    if not scanning_enabled():
        return
    try:
        result = scan_bytes(content)
    except ScannerUnavailable:
        raise ValidationError(
            gettext(
                "No pudimos revisar el archivo «%(name)s» en busca de virus en este momento. "
                "No se ha perdido nada de lo que ya envió: vuelva a cargar este archivo en "
                "unos minutos."
            ),
            code="scan_unavailable",
            params={"name": name},
        ) from None
    if result.clean:
        return
    sha256 = hashlib.sha256(content).hexdigest()
    # The citizen is anonymous here: the event keeps what was found, not who sent it.
    logger.warning(
        "Upload refused: ClamAV found %s (kind %s, %s bytes, sha256 %s)",
        result.signature,
        kind,
        len(content),
        sha256,
    )
    _audit_malware(kind, result.signature, sha256, len(content))
    raise ValidationError(
        gettext(
            "El archivo «%(name)s» parece contener un virus o contenido malicioso y no se "
            "aceptó. Revise su dispositivo con un antivirus, vuelva a exportar o escanear el "
            "documento y cárguelo de nuevo."
        ),
        code="malware",
        params={"name": name},
    )


def _audit_malware(kind: str, signature: str, sha256: str, size: int) -> None:
    from ventanilla.audit.services import CITIZEN, audit_log

    try:
        audit_log(
            action="upload.malware_refused",
            actor=CITIZEN,
            new={"kind": str(kind), "signature": signature, "sha256": sha256, "size": size},
        )
    except Exception:
        # The refusal must not depend on the trail being writable; the log line stays.
        logger.exception("Could not write the audit event of a refused infected upload")


# --- hidden content (polyglots) -----------------------------------------------------

# Starts of files that must never ride inside or after an accepted file: a second
# program opening the same bytes would find them.
_FOREIGN_SIGNATURES = (
    (b"%PDF-", _("un documento PDF")),
    (b"PK\x03\x04", _("un archivo comprimido (ZIP)")),
    (b"PK\x05\x06", _("un archivo comprimido (ZIP)")),
    (b"Rar!\x1a\x07", _("un archivo comprimido RAR")),
    (b"7z\xbc\xaf\x27\x1c", _("un archivo comprimido 7-Zip")),
    (b"\x7fELF", _("un programa")),
    (b"This program cannot be run in DOS mode", _("un programa de Windows")),
)
_MARKUP = re.compile(rb"<(?:!doctype\s+html|html|script|iframe|body|\?php|svg)[\s>/]", re.I)
_JPEG_PADDING = b"\x00\xff \t\r\n"


def _refuse_hidden_content(file_format: FileFormat, content: bytes, name: str) -> None:
    if _is_zip(content):
        raise _hidden(name, gettext("un archivo comprimido (ZIP)"))
    if file_format == FileFormat.JPEG:
        _jpeg_hidden_content(content, name)
    elif file_format == FileFormat.PDF:
        if not content.startswith(b"%PDF-"):
            what, _category = describe_content(content[: content.find(b"%PDF-")])
            raise _hidden(name, what or gettext("datos que no son del PDF"), before=True)
        if _MARKUP.search(content):
            raise _hidden(name, gettext("una página web (HTML)"))
    elif file_format == FileFormat.MP4:
        _mp4_hidden_content(content, name)


def _is_zip(content: bytes) -> bool:
    """A ZIP is read from its end, so one appended to any file opens as a ZIP."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return bool(archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False


def _foreign(data: bytes) -> str | None:
    for signature, phrase in _FOREIGN_SIGNATURES:
        if signature in data:
            return str(phrase)
    if _MARKUP.search(data):
        return gettext("una página web (HTML)")
    return None


def _jpeg_hidden_content(content: bytes, name: str) -> None:
    """Check the metadata segments of every picture (a phone's MPO or gain map puts more
    than one JPEG in a row), and what follows the last one.

    Accepted after the pictures: nothing, padding, a Google/Xiaomi "motion photo" (an MP4
    with the few seconds around the shot) or a Samsung trailer (ends in ``SEFT``).
    Refused: anything else, which is named when it is a known kind of file."""
    position = 0
    while content.startswith(b"\xff\xd8\xff", position):
        layout = _jpeg_layout(content, position)
        if layout is None:
            raise _corrupt(FileFormat.JPEG, name)
        metadata, position = layout
        for segment in metadata:
            what = _foreign(segment)
            if what:
                raise _hidden(name, what, inside=True)
    trailer = content[position:]
    if not trailer.strip(_JPEG_PADDING):
        return
    if trailer[4:8] == b"ftyp" or trailer.endswith(b"SEFT"):
        what = _foreign(trailer[:65536]) if trailer[4:8] != b"ftyp" else None
        if what is None:
            return
        raise _hidden(name, what)
    described, _category = describe_content(trailer)
    raise _hidden(name, _foreign(trailer[:65536]) or described or gettext("datos desconocidos"))


# In entropy-coded data, 0xFF is followed by 0x00 (a stuffed byte), a restart marker
# (0xD0-0xD7) or another 0xFF (fill); anything else is the next real marker.
_MARKER_AFTER_SCAN = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


def _jpeg_layout(content: bytes, start: int) -> tuple[list[bytes], int] | None:
    """The metadata segments (APPn, COM) of the JPEG at ``start`` and where it ends
    (after its EOI marker), or ``None`` if it has no end."""
    metadata: list[bytes] = []
    position = start + 2
    size = len(content)
    while position + 1 < size:
        if content[position] != 0xFF:
            return None
        marker = content[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0xD9:  # EOI
            return metadata, position + 2
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # no length
            position += 2
            continue
        if position + 4 > size:
            return None
        length = int.from_bytes(content[position + 2 : position + 4], "big")
        if length < 2:
            return None
        segment_end = position + 2 + length
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            metadata.append(content[position + 4 : segment_end])
        position = segment_end
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next real marker
            found = _MARKER_AFTER_SCAN.search(content, position)
            if found is None:
                return None
            position = found.start()
    return None


# Top-level boxes of an MP4 (ISO/IEC 14496-12); their content is media, not a place
# for other files, except the free-form ones checked below.
_MP4_BOXES = frozenset(
    {
        b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"uuid", b"meta", b"pdin",
        b"moof", b"mfra", b"styp", b"sidx", b"ssix", b"emsg", b"prft", b"udta", b"Xtra",
    }
)  # fmt: skip
_MP4_FREE_FORM = frozenset({b"free", b"skip", b"wide", b"uuid", b"meta", b"udta", b"Xtra"})


def _mp4_hidden_content(content: bytes, name: str) -> None:
    """The file must be a run of known boxes to its very end; free-form boxes (free, skip,
    uuid, udta ...) must not carry another file."""
    position, size = 0, len(content)
    while position < size:
        if position + 8 > size:
            raise _hidden(name, gettext("datos desconocidos"))
        box_size = int.from_bytes(content[position : position + 4], "big")
        box_type = content[position + 4 : position + 8]
        header = 8
        if box_size == 1:
            box_size = int.from_bytes(content[position + 8 : position + 16], "big")
            header = 16
        elif box_size == 0:  # to the end of the file
            box_size = size - position
        if box_type not in _MP4_BOXES or box_size < header or position + box_size > size:
            described, _category = describe_content(content[position:])
            raise _hidden(
                name, _foreign(content[position:]) or described or gettext("datos desconocidos")
            )
        if box_type in _MP4_FREE_FORM:
            what = _foreign(content[position + header : position + box_size])
            if what:
                raise _hidden(name, what, inside=True)
        position += box_size


def _hidden(name: str, what: str, *, inside: bool = False, before: bool = False) -> ValidationError:
    if before:
        message = gettext(
            "El archivo «%(name)s» tiene otro contenido (%(what)s) antes del documento PDF."
        )
    elif inside:
        message = gettext("El archivo «%(name)s» lleva escondido dentro %(what)s.")
    else:
        message = gettext("El archivo «%(name)s» lleva añadido al final otro contenido: %(what)s.")
    fix = gettext(
        "Por seguridad no se aceptan archivos que esconden otros. Abra el documento o la "
        "foto original y guárdelo o expórtelo de nuevo (por ejemplo, «Guardar como» JPG o "
        "PDF), y vuelva a cargarlo."
    )
    return ValidationError(
        f"{message} {fix}", code="hidden_content", params={"name": name, "what": what}
    )


# --- JPEG ---------------------------------------------------------------------


def _inspect_jpeg(content: bytes, name: str, *, thorough: bool = True) -> dict[str, Any]:
    """Read the header and (``thorough``) decode the whole image; phones' multi-picture
    JPEGs (MPO) are JPEGs too. Without decoding, a truncated photo is still refused: its
    segments must lead to an end marker (``_jpeg_layout``, checked for every JPEG)."""
    try:
        with Image.open(io.BytesIO(content), formats=("JPEG", "MPO")) as image:
            width, height, mode = image.width, image.height, image.mode
            # The header gives the size, so a bomb is refused before decoding.
            if width * height > MAX_IMAGE_PIXELS:
                raise _too_many_pixels(name, width, height)
            if not thorough:
                return {"width": width, "height": height, "mode": mode}
            # Decoded at 1/8 scale (libjpeg's DCT scaling): every block of the scan is still
            # read and entropy-decoded, so a truncated or damaged file fails exactly as at
            # full size, but a 12-megapixel photo costs a third of the time and 1/64 of
            # the memory (36 MB of pixels otherwise).
            image.draft(mode, (max(1, width // 8), max(1, height // 8)))
            image.load()
            return {"width": width, "height": height, "mode": mode}
    except Image.DecompressionBombError:
        raise _too_many_pixels(name, None, None) from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise _corrupt(FileFormat.JPEG, name) from error


def _too_many_pixels(name: str, width: int | None, height: int | None) -> ValidationError:
    limit = MAX_IMAGE_PIXELS // 1_000_000
    if width is None or height is None:
        message = gettext(
            "La imagen «%(name)s» tiene demasiados píxeles; el máximo es %(limit)s "
            "megapíxeles. Redúzcala y vuelva a cargarla."
        )
    else:
        message = gettext(
            "La imagen «%(name)s» mide %(width)s × %(height)s píxeles; el máximo es "
            "%(limit)s megapíxeles. Redúzcala y vuelva a cargarla."
        )
    return ValidationError(
        message,
        code="too_many_pixels",
        params={"name": name, "width": width, "height": height, "limit": limit},
    )


# --- PDF ------------------------------------------------------------------------


# An identity document or the request form has a few pages; a 2 MB file with thousands
# of empty pages only makes the server work.
MAX_PDF_PAGES = 20
# Decompressed bytes of page content allowed per stream and for the whole document: a
# scanned page's content stream is a few kilobytes (the picture is an image, not parsed).
MAX_PDF_STREAM_BYTES = 20_000_000
MAX_PDF_CONTENT_BYTES = 50_000_000
# Objects visited while looking for active content; a real form has a few hundred.
MAX_PDF_OBJECTS = 50_000


def _inspect_pdf(content: bytes, name: str) -> dict[str, Any]:
    """Parse the document and every page's content within bounds; refuse what needs a
    password and what runs, launches or carries something (``_pdf_active_content``)."""
    limits = {
        "zlib_maximum_output_length": MAX_PDF_STREAM_BYTES,
        "lzw_maximum_output_length": MAX_PDF_STREAM_BYTES,
        "run_length_maximum_output_length": MAX_PDF_STREAM_BYTES,
        "brotli_maximum_output_length": MAX_PDF_STREAM_BYTES,
        "stream_decoding_work_maximum_length": MAX_PDF_STREAM_BYTES * 2,
        "page_tree_maximum_entries": MAX_PDF_PAGES * 50,
        "page_tree_maximum_page_entries": MAX_PDF_PAGES * 5_000,
    }
    try:
        with apply_configuration(**limits):
            reader = PdfReader(io.BytesIO(content), strict=False)
            encrypted = reader.is_encrypted
            # An empty user password only restricts printing or editing: the
            # document still opens, and refusing it would cost a signed original.
            if encrypted and not reader.decrypt(""):
                raise _encrypted(name)
            page_count = len(reader.pages)
            if page_count > MAX_PDF_PAGES:
                raise _too_many_pages(name, page_count)
            _pdf_active_content(reader, name)
            content_bytes = 0
            for page in reader.pages:
                contents = page.get_contents()
                content_bytes += len(contents.get_data()) if contents is not None else 0
                if content_bytes > MAX_PDF_CONTENT_BYTES:
                    raise _too_complex(name)
    except DependencyError:
        # AES encryption needs the optional `cryptography` package.
        raise _encrypted(name) from None
    except LimitReachedError:
        raise _too_complex(name) from None
    except ValidationError:
        raise
    except Exception as error:
        # pypdf raises many kinds of errors on damaged input; all mean the same here.
        raise _corrupt(FileFormat.PDF, name) from error
    if page_count == 0:
        raise _corrupt(FileFormat.PDF, name)
    return {"page_count": page_count, "encrypted": encrypted}


# Actions a viewer runs (/S): going to a page (GoTo), following a web link (URI, checked
# below) and the harmless viewer commands are allowed; everything else runs a script,
# opens another file or program, or sends the form somewhere.
_SAFE_ACTIONS = frozenset({"/GoTo", "/URI", "/Named", "/Thread", "/Hide", "/SetOCGState", "/Trans"})
_LAUNCH_ACTIONS = frozenset({"/Launch", "/GoToR", "/GoToE", "/ImportData", "/SubmitForm"})
_SCRIPT_ACTIONS = frozenset({"/JavaScript", "/JS"})
_MEDIA_ACTIONS = frozenset({"/RichMediaExecute", "/Rendition", "/Movie", "/Sound", "/GoTo3DView"})
_MEDIA_SUBTYPES = frozenset({"/RichMedia", "/Movie", "/Sound", "/Screen", "/3D"})
_WEB_SCHEMES = ("http://", "https://", "mailto:")


def _pdf_active_content(reader: PdfReader, name: str) -> None:
    """Walk every object reachable from the catalog (names trees, pages, annotations, form
    fields, action chains) and refuse JavaScript, automatic actions, launches, embedded
    files and rich media/XFA, each with its own message. Page content (drawing) is not
    active and its streams are not decoded here.

    An /OpenAction that only shows a page (a destination array or a GoTo) is what many
    producers write for the initial view, and is allowed; so are links to web pages."""
    root = reader.trailer.get("/Root")
    # (object, whether it is reached as an action: /A, /Next, /OpenAction). Other
    # dictionaries use /S for other things (page labels, transparency groups, tags).
    stack: list[tuple[Any, bool]] = [(root, False)]
    seen: set[tuple[int, int, bool]] = set()
    visited = 0
    while stack:
        item, is_action = stack.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation, is_action)
            if key in seen:
                continue
            seen.add(key)
            item = item.get_object()
        visited += 1
        if visited > MAX_PDF_OBJECTS:
            raise _too_complex(name)
        if isinstance(item, ArrayObject):
            stack.extend((element, is_action) for element in item)
        elif isinstance(item, DictionaryObject):
            _pdf_dictionary_hazard(item, name)
            if is_action or item.get("/Type") == "/Action":
                _pdf_action_hazard(item, name)
            is_signature_field = item.get("/FT") == "/Sig"
            for key, value in item.items():
                # The page tree is walked downwards; a page's drawing is not structure.
                if key in ("/Contents", "/Parent", "/P"):
                    continue
                # A signature's value (and the /Perms entry naming a certifying one) holds
                # the signature's bytes and byte range, which no viewer runs: not parsed here
                # (pypdf reads its kilobytes of hex a character at a time), but verified by
                # the background checks.
                if key == "/Perms" or (key == "/V" and is_signature_field):
                    continue
                if key == "/OpenAction":
                    # An array is a destination (a page to show), not an action.
                    opening = value.get_object()
                    is_dict = isinstance(opening, DictionaryObject)
                    if is_dict and opening.get("/S") not in ("/GoTo", *_SCRIPT_ACTIONS):
                        raise _pdf_refusal("pdf_action", name)
                    stack.append((value, is_dict))
                else:
                    stack.append((value, key in ("/A", "/Next")))


def _pdf_dictionary_hazard(obj: DictionaryObject, name: str) -> None:
    keys = set(obj.keys())
    subtype = obj.get("/Subtype")
    if "/JS" in keys or "/JavaScript" in keys:
        raise _pdf_refusal("pdf_javascript", name)
    if (
        "/XFA" in keys
        or "/RichMediaContent" in keys
        or "/RichMediaSettings" in keys
        or subtype in _MEDIA_SUBTYPES
    ):
        raise _pdf_refusal("pdf_rich_media", name)
    if (
        "/EmbeddedFiles" in keys
        or "/EF" in keys
        or subtype == "/FileAttachment"
        or obj.get("/Type") == "/EmbeddedFile"
    ):
        raise _pdf_refusal("pdf_embedded_file", name)
    additional = obj.get("/AA")
    if additional is not None:
        additional = additional.get_object()
        if not isinstance(additional, DictionaryObject) or len(additional) > 0:
            raise _pdf_refusal("pdf_action", name)


def _pdf_action_hazard(action: DictionaryObject, name: str) -> None:
    kind = action.get("/S")
    if kind in _SCRIPT_ACTIONS:
        raise _pdf_refusal("pdf_javascript", name)
    if kind in _MEDIA_ACTIONS:
        raise _pdf_refusal("pdf_rich_media", name)
    if kind is None or kind in _LAUNCH_ACTIONS or kind not in _SAFE_ACTIONS:
        raise _pdf_refusal("pdf_launch", name)
    if kind == "/URI":
        uri = str(action.get("/URI", "")).strip().lower()
        if not uri.startswith(_WEB_SCHEMES):
            raise _pdf_refusal("pdf_launch", name)


_PRINT_AGAIN = _(
    "Guárdelo de nuevo como PDF simple (en el visor, «Imprimir» > «Guardar como PDF»), o "
    "escanee el documento en papel, y vuelva a cargarlo."
)
_PDF_REFUSALS = {
    "pdf_javascript": _(
        "El PDF «%(name)s» contiene programas (JavaScript), que no se aceptan por seguridad."
    ),
    "pdf_action": _(
        "El PDF «%(name)s» ejecuta acciones automáticas al abrirlo o al recorrerlo, que no "
        "se aceptan por seguridad."
    ),
    "pdf_launch": _(
        "El PDF «%(name)s» intenta abrir otros archivos o programas, o enviar datos a otro "
        "sitio, lo que no se acepta por seguridad."
    ),
    "pdf_embedded_file": _(
        "El PDF «%(name)s» lleva otros archivos adjuntos dentro; no se aceptan por seguridad. "
        "Cargue cada documento por separado, en su casilla."
    ),
    "pdf_rich_media": _(
        "El PDF «%(name)s» contiene multimedia o un formulario dinámico (XFA), que no se "
        "aceptan por seguridad."
    ),
}


def _pdf_refusal(code: str, name: str) -> ValidationError:
    return ValidationError(
        f"{_PDF_REFUSALS[code]} {_PRINT_AGAIN}", code=code, params={"name": name}
    )


def _too_many_pages(name: str, page_count: int) -> ValidationError:
    return ValidationError(
        gettext(
            "El PDF «%(name)s» tiene %(count)s páginas; el máximo es %(limit)s. Cargue solo "
            "las páginas que pide el trámite y vuelva a intentarlo."
        ),
        code="too_many_pages",
        params={"name": name, "count": page_count, "limit": MAX_PDF_PAGES},
    )


def _too_complex(name: str) -> ValidationError:
    return ValidationError(
        gettext(
            "El PDF «%(name)s» es demasiado complejo para revisarlo (su contenido ocupa "
            "demasiado al descomprimirlo). Escanee el documento o guárdelo de nuevo como "
            "PDF simple y vuelva a cargarlo."
        ),
        code="too_complex",
        params={"name": name},
    )


def _encrypted(name: str) -> ValidationError:
    return ValidationError(
        gettext(
            "El PDF «%(name)s» está protegido o cifrado y no se puede revisar. Guárdelo "
            "de nuevo sin contraseña ni protección y vuelva a cargarlo."
        ),
        code="encrypted",
        params={"name": name},
    )


# --- MP4 ------------------------------------------------------------------------

# ISO base media brands of MP4 files from phones, cameras, browsers and editors.
MP4_BRANDS = frozenset(
    {
        b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso8", b"iso9",
        b"mp41", b"mp42", b"avc1", b"M4V ", b"M4VH", b"M4VP", b"dash", b"mmp4",
        b"MSNV", b"XAVC",
    }
)  # fmt: skip
# Close relatives that are not MP4 even when they list an MP4 brand as compatible.
NOT_MP4_BRAND_PREFIXES = (b"qt", b"3g", b"M4A", b"M4B", b"M4P", b"hei", b"mif", b"msf", b"avi")

# An MP4 whose packets end this much before its header says is truncated.
TRUNCATION_TOLERANCE_SECONDS = 1.0


def _inspect_mp4(content: bytes, name: str) -> dict[str, Any]:
    """Check the brand, the streams and their bounds, and that the file is whole: a copy
    cut short ends inside its last box, and is then read packet by packet to tell the
    citizen how much of it is there. Decoding (every frame, and so whether the codecs are
    readable) is the background checks' work (probe_video)."""
    if not _is_mp4_brand(content):
        raise _wrong_type(DocumentKind.VIDEO, name, content)
    cut_short = _mp4_cut_short(content)
    with _open_mp4(io.BytesIO(content), name, pixels=False) as container:
        details = _video_details(container)
        _require_streams(container, name)
        _refuse_video_bomb(container, details, name)
        missing = None
        if cut_short:
            scan = _scan_packets(container, decode_all=False)
            # A stray decode error is left to probe_video; no frame at all is not.
            if not (scan.frames["video"] and scan.frames["audio"]):
                raise _corrupt(FileFormat.MP4, name)
            missing = _missing_seconds(container, scan.packet_ends)
    if missing:
        raise _truncated(name, *missing)
    return details


def _mp4_cut_short(content: bytes) -> bool:
    """Whether a top-level box runs past the end of the file (what a copy or an upload
    cut short leaves). Other damage inside the boxes is the background checks' to find:
    they decode every frame (probe_video)."""
    position, size = 0, len(content)
    while position + 8 <= size:
        box_size = int.from_bytes(content[position : position + 4], "big")
        if box_size == 1:
            if position + 16 > size:
                return True
            box_size = int.from_bytes(content[position + 8 : position + 16], "big")
        elif box_size == 0:  # to the end of the file
            return False
        if box_size < 8:
            return False  # not a box: _mp4_hidden_content names what it is
        position += box_size
    return position > size


# Bounds checked from the header, before anything is decoded (the background checks decode
# every frame): 4K is the most a phone records; 10 minutes at 60 frames per second is far
# beyond a statement read aloud, which fits in 5 MB only at a few minutes.
MAX_VIDEO_PIXELS = 4096 * 2304
MAX_VIDEO_FRAMES = 36_000
MAX_VIDEO_SECONDS = 600


def _refuse_video_bomb(container, details: dict[str, Any], name: str) -> None:
    video = container.streams.video[0]
    width, height = details.get("width") or 0, details.get("height") or 0
    frames = video.frames or 0
    seconds = details.get("duration_seconds") or 0
    if (
        width * height > MAX_VIDEO_PIXELS
        or frames > MAX_VIDEO_FRAMES
        or seconds > MAX_VIDEO_SECONDS
    ):
        raise ValidationError(
            gettext(
                "El video «%(name)s» declara un tamaño imposible para una grabación de "
                "teléfono (%(width)s × %(height)s píxeles, %(frames)s cuadros, %(seconds)s "
                "segundos); el máximo es 4K y %(minutes)s minutos. Grábelo de nuevo con la "
                "cámara del teléfono y vuelva a cargarlo."
            ),
            code="video_too_large",
            params={
                "name": name,
                "width": width,
                "height": height,
                "frames": frames,
                "seconds": round(seconds),
                "minutes": MAX_VIDEO_SECONDS // 60,
            },
        )


def _ftyp_brands(content: bytes) -> tuple[bytes, list[bytes]]:
    """The major and compatible brands of the leading ``ftyp`` box."""
    size = int.from_bytes(content[:4], "big")
    box = content[8 : min(size, 4096)]
    return box[:4], [box[i : i + 4] for i in range(8, len(box) - 3, 4)]


def _is_mp4_brand(content: bytes) -> bool:
    major, compatible = _ftyp_brands(content)
    if major in MP4_BRANDS:
        return True
    if major.startswith(NOT_MP4_BRAND_PREFIXES):
        return False
    return any(brand in MP4_BRANDS for brand in compatible)


@contextlib.contextmanager
def _open_mp4(source, name: str, *, pixels: bool = True):
    """Open with the MP4 demuxer only, so that FFmpeg never probes for other
    formats (a playlist, for instance, would make it fetch other files).

    Opening decodes a stream's first frames (FFmpeg's probing, for the pixel format);
    ``pixels=False`` (the intake, which reads the header and never looks at a picture)
    has the video decoder skip the inverse transform and the deblocking filter there,
    about a third of the opening's time: the frames still decode, unfinished."""
    options = {} if pixels else {"skip_idct": "all", "skip_loop_filter": "all"}
    try:
        container = av.open(source, format="mp4", metadata_errors="replace", options=options)
    except av.FFmpegError as error:
        raise _corrupt(FileFormat.MP4, name) from error
    try:
        if "mp4" not in container.format.name:
            raise _corrupt(FileFormat.MP4, name)
        yield container
    finally:
        container.close()


def _video_details(container) -> dict[str, Any]:
    """JSON-serialisable facts an analyst (and the later checks) need."""
    details: dict[str, Any] = {
        "duration_seconds": _seconds(container.duration, 1 / av.time_base),
    }
    if container.streams.video:
        video = container.streams.video[0]
        details |= {
            "video_codec": video.codec_context.name,
            "width": video.codec_context.width,
            "height": video.codec_context.height,
            "frame_rate": round(float(video.average_rate), 3) if video.average_rate else None,
        }
    if container.streams.audio:
        audio = container.streams.audio[0]
        details |= {
            "audio_codec": audio.codec_context.name,
            "sample_rate": audio.codec_context.sample_rate,
            "channels": audio.codec_context.channels,
        }
    return details


def _require_streams(container, name: str) -> None:
    if not container.streams.video:
        raise ValidationError(
            gettext(
                "El archivo «%(name)s» solo tiene sonido, sin imagen. El video debe mostrar "
                "su rostro mientras lee el texto de autorización: grábelo de nuevo con la "
                "cámara y vuelva a cargarlo."
            ),
            code="no_video",
            params={"name": name},
        )
    if not container.streams.audio:
        raise ValidationError(
            gettext(
                "El video «%(name)s» no tiene sonido. Grábelo de nuevo con el micrófono "
                "activado, leyendo en voz alta el texto de autorización, y vuelva a cargarlo."
            ),
            code="no_audio",
            params={"name": name},
        )


@dataclass
class _Scan:
    packet_ends: dict[int, float]
    decoded_ends: dict[int, float]
    frames: dict[str, int]
    errors: int

    @property
    def decoded_seconds(self) -> float:
        return max(self.decoded_ends.values(), default=0.0)


def _scan_packets(container, *, decode_all: bool, on_frame=None) -> _Scan:
    """Read every packet of the first video and audio streams.

    Reading without decoding is cheap and already shows a truncated file;
    ``decode_all`` decodes everything, otherwise only until each stream has
    given one frame (proof that its codec is readable).
    """
    streams = [*container.streams.video[:1], *container.streams.audio[:1]]
    scan = _Scan({}, {}, {"video": 0, "audio": 0}, 0)
    if not streams:
        return scan  # PyAV would read every stream (subtitles, metadata) instead
    # The furthest packet end of each stream in its own time base (a demuxed packet's),
    # turned into seconds once at the end: a 45-second phone video has thousands of
    # packets, and exact fractions for each cost more than reading them.
    packet_ends: dict[int, int] = {}
    try:
        for packet in container.demux(streams):
            pts, duration = packet.pts, packet.duration
            if pts is not None and duration:
                stream = packet.stream_index
                packet_ends[stream] = max(packet_ends.get(stream, 0), pts + duration)
            if decode_all or not scan.frames[packet.stream.type]:
                _decode(packet, scan, on_frame)
    except av.FFmpegError:
        # Reading stops here; what was read is measured against the header.
        scan.errors += 1
    for stream in streams:
        if stream.index in packet_ends and stream.time_base:
            scan.packet_ends[stream.index] = float(packet_ends[stream.index] * stream.time_base)
    return scan


def _decode(packet, scan: _Scan, on_frame=None) -> None:
    try:
        frames = packet.decode()
    except av.FFmpegError:
        scan.errors += 1
        return
    for frame in frames:
        scan.frames[packet.stream.type] += 1
        if on_frame is not None:
            on_frame(frame)
        if frame.pts is not None:
            _extend(scan.decoded_ends, packet.stream.index, frame.pts + _frame_length(frame), frame)


def _frame_length(frame) -> int:
    """A frame's length in its own time base (audio frames know it from their samples)."""
    if getattr(frame, "samples", None) and frame.sample_rate and frame.time_base:
        return round(frame.samples / frame.sample_rate / frame.time_base)
    return frame.duration or 0


def _extend(ends: dict[int, float], index: int, end_pts: int, timed) -> None:
    if timed.time_base:
        ends[index] = max(ends.get(index, 0.0), float(end_pts * timed.time_base))


def _missing_seconds(container, ends: dict[int, float]) -> tuple[float, float] | None:
    """(seconds present, seconds declared) of the first stream that stops short, if any."""
    for stream in [*container.streams.video[:1], *container.streams.audio[:1]]:
        if not stream.duration or not stream.time_base:
            continue  # fragmented MP4s (browser recordings) may declare no duration
        start = float((stream.start_time or 0) * stream.time_base)
        declared = start + float(stream.duration * stream.time_base)
        present = ends.get(stream.index, 0.0)
        if declared - present > TRUNCATION_TOLERANCE_SECONDS:
            return present, declared
    return None


def _seconds(value: int | None, unit: float) -> float | None:
    return round(value * unit, 3) if value is not None else None


def _truncated(name: str, present: float, declared: float) -> ValidationError:
    return ValidationError(
        gettext(
            "El video «%(name)s» está incompleto: se corta a los %(present)s segundos de "
            "%(declared)s. Vuelva a copiarlo o exportarlo completo y cárguelo de nuevo."
        ),
        code="truncated",
        params={
            "name": name,
            "present": number_format(present, decimal_pos=1, use_l10n=True),
            "declared": number_format(declared, decimal_pos=1, use_l10n=True),
        },
    )


_DECODERS = {
    FileFormat.JPEG: _inspect_jpeg,
    FileFormat.PDF: _inspect_pdf,
    FileFormat.MP4: _inspect_mp4,
}


# --- messages -------------------------------------------------------------------


def _megabytes(size: int, *, above: int | None = None) -> str:
    """Megabytes with one decimal at most; with ``above``, never shown as that
    limit or less (5 MB and 1 byte reads "5,1 MB", not "5 MB")."""
    value = round(size / MEGABYTE, 1)
    if above is not None and value <= above / MEGABYTE:
        value = math.floor(above / MEGABYTE * 10 + 1) / 10
    decimals = 0 if value == int(value) else 1
    return number_format(value, decimal_pos=decimals, use_l10n=True)


def _too_large(kind: DocumentKind, name: str, size: int | None) -> ValidationError:
    if size is None:
        message = gettext("El archivo «%(name)s» pesa más de %(limit)s MB, que es el máximo.")
    else:
        message = gettext("El archivo «%(name)s» pesa %(size)s MB; el máximo es %(limit)s MB.")
    if kind == DocumentKind.VIDEO:
        fix = gettext(
            "Redúzcalo (grábelo con menor resolución, por ejemplo 480p, o comprímalo con "
            "una aplicación de video) y vuelva a cargarlo."
        )
    else:
        fix = gettext(
            "Redúzcalo (por ejemplo, tome la foto con menor resolución o escanee el "
            "documento a 150 ppp) y vuelva a cargarlo."
        )
    return ValidationError(
        f"{message} {fix}",
        code="too_large",
        params={
            "name": name,
            "size": _megabytes(size or 0, above=MAX_BYTES[kind]),
            "limit": _megabytes(MAX_BYTES[kind]),
        },
    )


def _corrupt(file_format: FileFormat, name: str) -> ValidationError:
    return ValidationError(_CORRUPT_MESSAGES[file_format], code="corrupt", params={"name": name})


_CORRUPT_MESSAGES = {
    FileFormat.JPEG: _(
        "El archivo «%(name)s» parece una imagen JPG, pero está dañado o incompleto y no se "
        "puede abrir. Vuelva a tomar o guardar la foto y cárguela de nuevo."
    ),
    FileFormat.PDF: _(
        "El archivo «%(name)s» parece un PDF, pero está dañado, incompleto o no tiene "
        "páginas y no se puede abrir. Vuelva a generarlo o escanearlo y cárguelo de nuevo."
    ),
    FileFormat.MP4: _(
        "El archivo «%(name)s» parece un video MP4, pero está dañado y no se puede "
        "reproducir. Vuelva a grabarlo o exportarlo y cárguelo de nuevo."
    ),
}


def _wrong_type(kind: DocumentKind, name: str, content: bytes) -> ValidationError:
    actual, category = describe_content(content)
    expected = "MP4" if kind == DocumentKind.VIDEO else "JPG/JPEG ni PDF"
    if actual is None:
        message = gettext("El archivo «%(name)s» no es %(expected)s: no se reconoce su contenido.")
    else:
        message = gettext("El archivo «%(name)s» es %(actual)s, no %(expected)s.")
    fix = _WRONG_TYPE_FIXES[(kind == DocumentKind.VIDEO, category)]
    return ValidationError(
        f"{message} {fix}",
        code="wrong_type",
        params={"name": name, "actual": actual, "expected": expected},
    )


_SAVE_AS_DOCUMENT = _("Guarde el documento como PDF o tómele una foto en JPG y vuelva a cargarlo.")
_VIDEO_GOES_HERE = _("Aquí va el video de autorización, en formato MP4 con imagen y sonido.")
# (is the video slot, what the file is) → how to fix it.
_WRONG_TYPE_FIXES = {
    (False, "image"): _("Guárdela como JPG o PDF y vuelva a cargarla."),
    (False, "heic"): _(
        "Guárdela como JPG o PDF y vuelva a cargarla (en el iPhone: Ajustes > Cámara > "
        "Formatos > «Más compatible»)."
    ),
    (False, "video"): _SAVE_AS_DOCUMENT,
    (False, "other"): _SAVE_AS_DOCUMENT,
    (True, "video"): _("Guárdelo o conviértalo a MP4 y vuelva a cargarlo."),
    (True, "image"): _VIDEO_GOES_HERE,
    (True, "heic"): _VIDEO_GOES_HERE,
    (True, "other"): _VIDEO_GOES_HERE,
}

# Only for the message: what a refused file actually is.
_PILLOW_FORMATS = ("PNG", "GIF", "WEBP", "BMP", "TIFF", "JPEG2000", "ICO", "PSD", "JPEG")
_FTYP_KINDS = (
    (b"qt", _("un video QuickTime (MOV)"), "video"),
    (b"3g", _("un video 3GP"), "video"),
    (b"M4A", _("un archivo de audio M4A"), "other"),
    (b"M4B", _("un audiolibro M4B"), "other"),
    (b"hei", _("una imagen HEIC (formato del iPhone)"), "heic"),
    (b"mif", _("una imagen HEIC (formato del iPhone)"), "heic"),
    (b"msf", _("una secuencia de imágenes HEIC"), "heic"),
    (b"avi", _("una imagen AVIF"), "image"),
)
_SIGNATURES = (
    (0, b"\x1a\x45\xdf\xa3", _("un video WebM o MKV"), "video"),
    (8, b"AVI ", _("un video AVI"), "video"),
    (8, b"WAVE", _("un archivo de audio WAV"), "other"),
    (0, b"OggS", _("un archivo de audio o video Ogg"), "other"),
    (0, b"ID3", _("un archivo de audio MP3"), "other"),
    (4, b"moov", _("un video QuickTime (MOV)"), "video"),
    (4, b"mdat", _("un video QuickTime (MOV)"), "video"),
    (4, b"wide", _("un video QuickTime (MOV)"), "video"),
    (0, b"PK\x03\x04", _("un archivo comprimido (ZIP, DOCX, XLSX u ODT)"), "other"),
    (0, b"\xd0\xcf\x11\xe0", _("un documento de Office antiguo (DOC o XLS)"), "other"),
    (0, b"Rar!", _("un archivo comprimido RAR"), "other"),
    (0, b"7z\xbc\xaf", _("un archivo comprimido 7-Zip"), "other"),
    (0, b"\x1f\x8b", _("un archivo comprimido GZIP"), "other"),
    (0, b"{\\rtf", _("un documento RTF"), "other"),
    (0, b"MZ", _("un programa de Windows"), "other"),
    (0, b"\x7fELF", _("un programa"), "other"),
)
_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<meta", b"<script", b"<div")


def describe_content(content: bytes) -> tuple[str | None, str]:
    """A short Spanish phrase for what ``content`` is (``None`` if unknown) and its
    category (``image``, ``heic``, ``video`` or ``other``), for refusal messages."""
    if content.startswith(b"\xff\xd8\xff"):
        return gettext("una imagen JPG"), "image"
    if b"%PDF-" in content[:1024]:
        return gettext("un documento PDF"), "other"
    if content[4:8] == b"ftyp":
        return _describe_iso_media(content)
    for offset, signature, phrase, category in _SIGNATURES:
        if content[offset : offset + len(signature)] == signature:
            return str(phrase), category
    # By its signature, so that a decompression bomb is named without Pillow opening it.
    image_format = "PNG" if content.startswith(b"\x89PNG\r\n\x1a\n") else _pillow_format(content)
    if image_format:
        return gettext("una imagen %(format)s") % {"format": image_format}, "image"
    return _describe_text(content)


def _describe_iso_media(content: bytes) -> tuple[str, str]:
    major, _compatible = _ftyp_brands(content)
    if _is_mp4_brand(content):
        return gettext("un video MP4"), "video"
    for prefix, phrase, category in _FTYP_KINDS:
        if major.startswith(prefix):
            return str(phrase), category
    return gettext("un archivo multimedia de tipo «%(brand)s»") % {
        "brand": major.decode("latin-1").strip()
    }, "other"


def _pillow_format(content: bytes) -> str | None:
    try:
        with Image.open(io.BytesIO(content), formats=_PILLOW_FORMATS) as image:
            return "WebP" if image.format == "WEBP" else image.format
    except Exception:
        # Any failure only means "not an image Pillow knows"; nothing is decoded.
        return None


def _describe_text(content: bytes) -> tuple[str | None, str]:
    head = content[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(_HTML_STARTS) or b"<html" in head[:1024]:
        return gettext("una página web (HTML)"), "other"
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head):
        return gettext("una imagen SVG"), "image"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # Only a character cut at the end of the sample is allowed.
        if error.start < len(head) - 3:
            return None, "other"
    if b"\x00" in head:
        return None, "other"
    return gettext("un archivo de texto"), "other"
