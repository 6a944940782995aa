"""A whole synthetic request, as a real citizen would upload it, for the checks.

Five files that agree with each other: the cédula front and back (with person
"a"'s photo), a selfie holding the card, the request form (electronically signed
with a throwaway test CA's certificate for the applicant, or signed by hand),
and a video of the face saying the statement in espeak-ng's voice. Each
argument breaks one thing, the way a test or the benchmark needs.
"""

import functools
import tempfile
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

from . import identity_media, media, pki, request_form
from .factories import statement_for

VOICE = "es-419"  # espeak-ng's Latin-American Spanish


@functools.cache
def test_ca() -> pki.TestCA:
    """One throwaway CA per process (RSA keys take a moment to make)."""
    return pki.make_ca("CA RAIZ DE PRUEBA VENTANILLA")


@functools.lru_cache(maxsize=32)
def _signer(ca_name: str, full_name: str, id_number: str) -> pki.Signer:
    return test_ca().issue(full_name=full_name, id_number=id_number)


def signed_form(fields: dict, *, signer: pki.Signer | None = None, overrides=None) -> bytes:
    """The request form, electronically signed by the applicant's certificate (or `signer`'s)."""
    pdf = request_form.request_form_pdf(fields, signature="none", overrides=overrides)
    if signer is None:
        full_name = f"{fields['first_names']} {fields['last_names']}"
        signer = _signer(test_ca().name, full_name, fields["id_number"])
    return pki.sign_pdf(pdf, signer)


def statement_text(fields: dict, *, omit: str | None = None) -> str:
    """The seed's statement for `fields`; `omit="residence"` leaves out where they live."""
    text = statement_for(fields)
    if omit == "residence":
        start = text.index(" Actualmente resido en")
        end = text.index(", por lo que me es imposible")
        text = text[:start] + text[end + 1 :]
    elif omit is not None:
        raise ValueError(f"unknown clause {omit!r}")
    return text


@functools.lru_cache(maxsize=8)
def statement_video(text: str, *, person: str = "a", words_per_minute: int = 140) -> bytes:
    """An MP4 of `person`'s face with `text` spoken by espeak-ng (empty text: silence).

    espeak-ng is far less clear than a person: with 60 ms between words and a
    slightly higher pitch (-g 6 -p 55) Whisper base heard the whole statement of
    each of the four synthetic people; at espeak's defaults it lost digits and
    "portador de la cédula" in about half of the readings."""
    if not text:
        return identity_media.face_video_mp4(person=person, seconds=20)
    with tempfile.TemporaryDirectory(prefix="ventanilla-case-") as tmp:
        wav = Path(tmp) / "statement.wav"
        espeak = media._executable("espeak-ng")
        media._run(
            espeak, "-v", VOICE, "-s", str(words_per_minute), "-g", "6", "-p", "55",
            "-w", str(wav), text,
        )  # fmt: skip
        return identity_media.face_video_mp4(person=person, wav_path=wav)


def case_files(
    fields: dict,
    *,
    person: str = "a",
    selfie_person: str | None = None,
    video_person: str | None = None,
    statement: str | None = None,
    signature: str = "electronic",
    signer: pki.Signer | None = None,
    form_overrides: dict | None = None,
    id_front_blur: float = 0,
) -> dict[str, SimpleUploadedFile]:
    """The five uploads. `signature` is "electronic", "handwritten" or "none" (empty box)."""
    if signature == "electronic":
        form = signed_form(fields, signer=signer, overrides=form_overrides)
    else:
        form = request_form.request_form_pdf(fields, signature=signature, overrides=form_overrides)
    text = statement_text(fields) if statement is None else statement
    return {
        "id_front": SimpleUploadedFile(
            "cedula-frente.jpg",
            identity_media.id_card_front_jpeg(fields, person=person, blur=id_front_blur),
            "image/jpeg",
        ),
        "id_back": SimpleUploadedFile(
            "cedula-reverso.jpg", identity_media.id_card_back_jpeg(fields), "image/jpeg"
        ),
        "selfie": SimpleUploadedFile(
            "selfie.jpg",
            identity_media.selfie_jpeg(fields, person=selfie_person or person, card_person=person),
            "image/jpeg",
        ),
        "request_form": SimpleUploadedFile("solicitud.pdf", form, "application/pdf"),
        "video": SimpleUploadedFile(
            "autorizacion.mp4",
            statement_video(text, person=video_person or person),
            "video/mp4",
        ),
    }
