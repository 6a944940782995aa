"""The access export: María has two real cases (one completed, which changed her
registry record and sent notices; one corrected, so two versions of her selfie), Luis
has one. María's ZIP holds both her cases, her contact history, the messages sent to
her, and the files exactly as uploaded; nothing of Luis."""

import hashlib
import io
import json
import re
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from ventanilla.cases import services as case_services
from ventanilla.checks.constants import CheckName
from ventanilla.checks.models import CheckAttachment, CheckResult
from ventanilla.documents.models import Document
from ventanilla.documents.validation import inspect_upload
from ventanilla.privacy.export import person_data_export
from ventanilla.registry.constants import FraudOutcome
from ventanilla.registry.models import InsuredPerson
from ventanilla.registry.services import contact_change_report, fraud_review_close
from ventanilla.staff.roles import Role
from ventanilla.staff.services import staff_user_ensure
from ventanilla.testing import media
from ventanilla.testing.factories import (
    call_time,
    documents_scan,
    submission_fields,
    submission_files,
    submit_request,
)

pytestmark = pytest.mark.django_db

MARIA, LUIS = 0, 1


def _submit(person: int, **file_overrides):
    """A real submission; returns the case and the bytes of each upload."""
    fields = submission_fields(person)
    files = submission_files(fields, **file_overrides)
    uploaded = {}
    for kind, upload in files.items():
        upload.seek(0)
        uploaded[kind] = upload.read()
    case = submit_request(fields, files)
    documents_scan(case)  # the checks' antivirus, then the end of their run
    return case_services.case_mark_checked(case_id=case.pk), uploaded


@pytest.fixture
def world():
    analyst = staff_user_ensure(username="ana.analista", password="x" * 20, role=Role.ANALYST)
    InsuredPerson.objects.create(
        id_number="0923456784", first_names="María Fernanda", last_names="Quispe Andrade",
        insured_type="afiliado", email="maria.antigua@example.net",
        ecuador_mobile="+593991112233",
    )  # fmt: skip
    InsuredPerson.objects.create(
        id_number="0102030400", first_names="Luis Alberto", last_names="Guamán Sarmiento",
        insured_type="jubilado", email="luis.antiguo@example.net",
    )  # fmt: skip

    # María's first case: validated on the call, so the registry changes and her previous
    # email and phone get a notice.
    completed, completed_files = _submit(MARIA)
    case_services.case_invite(case=completed, actor=analyst, starts_at=call_time())
    completed = case_services.case_record_call_outcome(
        case=completed, actor=analyst, identity_validated=True, notes="Todo en orden."
    )
    crop = CheckAttachment(
        result=CheckResult.objects.create(
            case=completed, name=CheckName.FACE_MATCH, outcome="pass", summary="El rostro coincide."
        ),
        name="selfie",
    )
    crop_bytes = media.jpeg_bytes(text="ROSTRO")
    crop.file.save("selfie.jpg", ContentFile(crop_bytes), save=True)

    # María's second case: a correction of the selfie, so two versions are held.
    corrected, corrected_files = _submit(
        MARIA,
        selfie=SimpleUploadedFile("selfie.jpg", media.jpeg_bytes(text="SELFIE UNO"), "image/jpeg"),
    )
    corrected_files["selfie-v1"] = corrected_files.pop("selfie")
    correction = case_services.case_request_correction(
        case=corrected,
        actor=analyst,
        items=["selfie"],
        reasons=["face_not_visible"],
        message="No se ve su rostro completo.",
    )
    second_selfie = media.jpeg_bytes(text="SELFIE DOS")
    upload = SimpleUploadedFile("selfie.jpg", second_selfie, "image/jpeg")
    inspected = inspect_upload("selfie", upload)
    upload.seek(0)
    case_services.case_submit_correction(
        correction=correction, uploads={"selfie": upload}, inspected={"selfie": inspected}
    )
    documents_scan(corrected)
    corrected_files["selfie-v2"] = second_selfie

    # Every file of Luis differs from María's (the generated ones would otherwise match).
    luis_case, luis_files = _submit(
        LUIS,
        id_front=SimpleUploadedFile("a.jpg", media.jpeg_bytes(text="LUIS ANVERSO"), "image/jpeg"),
        id_back=SimpleUploadedFile("r.jpg", media.jpeg_bytes(text="LUIS REVERSO"), "image/jpeg"),
        selfie=SimpleUploadedFile("selfie.jpg", media.jpeg_bytes(text="LUIS"), "image/jpeg"),
        video=SimpleUploadedFile("v.mp4", media.mp4_bytes(seconds=2.5), "video/mp4"),
    )
    return {
        "completed": (completed, completed_files, crop_bytes),
        "corrected": (corrected, corrected_files),
        "luis": (luis_case, luis_files),
    }


def _open(export) -> tuple[zipfile.ZipFile, dict, bytes]:
    raw = export.file.read()
    archive = zipfile.ZipFile(io.BytesIO(raw))
    return archive, json.loads(archive.read("datos.json").decode("utf-8")), raw


def test_the_export_holds_both_cases_history_messages_and_files(world):
    completed, completed_files, crop_bytes = world["completed"]
    corrected, corrected_files = world["corrected"]

    export = person_data_export(id_type="cedula", id_number="0923456784")
    archive, data, raw = _open(export)

    assert {"LEAME.txt", "datos.json"} <= set(archive.namelist())
    assert "Qué contiene este archivo ZIP" in archive.read("LEAME.txt").decode("utf-8")
    assert export.sha256 == hashlib.sha256(raw).hexdigest()
    assert export.size == len(raw)
    assert data["identificacion"]["numero"] == "0923456784"
    assert data["registro_de_asegurados"]["correo_electronico"] == "maria.quispe@example.org"

    cases = {case["numero"]: case for case in data["tramites"]}
    assert list(cases) == [completed.number, corrected.number]
    assert cases[completed.number]["estado"] == "completed"
    assert cases[completed.number]["datos_declarados"]["fecha_de_nacimiento"] == "1984-06-12"
    assert cases[corrected.number]["correcciones"][0]["motivos"] == ["face_not_visible"]
    assert "case.submitted" in [e["accion"] for e in cases[completed.number]["auditoria"]]
    # ISO times with Ecuador's offset.
    assert cases[completed.number]["presentado_en"].endswith("-05:00")

    history = data["historial_de_datos_de_contacto"]
    assert {
        "campo": "email",
        "valor_anterior": "maria.antigua@example.net",
        "valor_nuevo": "maria.quispe@example.org",
        "tramite": completed.number,
    }.items() <= next(change for change in history if change["campo"] == "email").items()

    messages = cases[completed.number]["mensajes"]
    templates = {email["plantilla"]: email["para"] for email in messages["correos"]}
    assert templates["case_received"] == "maria.quispe@example.org"
    assert templates["update_completed"] == "maria.quispe@example.org"
    assert templates["previous_email_notice"] == "maria.antigua@example.net"
    assert [(sms["plantilla"], sms["para"]) for sms in messages["sms"]] == [
        ("contact_change_notice", "+593991112233")
    ]
    assert "correction_requested" in {
        email["plantilla"] for email in cases[corrected.number]["mensajes"]["correos"]
    }

    # Every file, byte for byte as uploaded; both versions of the corrected selfie.
    expected = {
        f"tramites/{completed.number}/documentos/{kind}-v1": content
        for kind, content in completed_files.items()
    } | {
        f"tramites/{corrected.number}/documentos/{kind}-v1": content
        for kind, content in corrected_files.items()
        if not kind.startswith("selfie")
    }
    expected[f"tramites/{corrected.number}/documentos/selfie-v1"] = corrected_files["selfie-v1"]
    expected[f"tramites/{corrected.number}/documentos/selfie-v2"] = corrected_files["selfie-v2"]
    in_zip = {name.rsplit(".", 1)[0]: name for name in archive.namelist()}
    for stem, content in expected.items():
        assert archive.read(in_zip[stem]) == content, stem
    [crop] = cases[completed.number]["verificaciones"]["resultados"][0]["archivos_de_evidencia"]
    assert archive.read(crop["archivo"]) == crop_bytes
    assert export.file_count == len(expected) + 1 == 12


def test_the_export_of_maria_holds_nothing_of_luis(world):
    luis_case, luis_files = world["luis"]

    archive, data, _ = _open(person_data_export(id_type="cedula", id_number="0923456784"))

    luis_marks = [
        "0102030400",
        "Guamán",
        "Luis Alberto",
        "luis.guaman@example.org",
        "luis.antiguo@example.net",
        luis_case.number,
        *(hashlib.sha256(content).hexdigest() for content in luis_files.values()),
    ]
    for name in archive.namelist():
        content = archive.read(name)
        assert content not in luis_files.values(), name
        if name.endswith((".json", ".txt")):
            text = content.decode("utf-8")
            assert not [mark for mark in luis_marks if mark in text], name


def test_a_file_no_longer_in_storage_is_listed_with_its_hash_and_left_out(world):
    corrected, _ = world["corrected"]
    gone = corrected.documents.get(kind="id_back")
    default_storage.delete(gone.file.name)
    # As the retention purge leaves a document: the row, its hash, no file.
    purged = corrected.documents.get(kind="video")
    default_storage.delete(purged.file.name)
    Document.objects.filter(pk=purged.pk).update(purged_at=timezone.now(), file="")

    archive, data, _ = _open(person_data_export(id_type="cedula", id_number="0923456784"))

    case = next(c for c in data["tramites"] if c["numero"] == corrected.number)
    [entry] = [d for d in case["documentos"] if d["tipo"] == "id_back"]
    assert entry["archivo"] is None and entry["sha256"] == gone.sha256
    [video] = [d for d in case["documentos"] if d["tipo"] == "video"]
    assert video["archivo"] is None and video["sha256"] == purged.sha256
    assert video["eliminado_en"] is not None
    kept = [n for n in archive.namelist() if n.startswith(f"tramites/{corrected.number}/")]
    assert kept and not [n for n in kept if "/id_back-" in n or "/video-" in n]


def test_a_person_with_nothing_held_gets_an_export_that_says_so():
    archive, data, _ = _open(person_data_export(id_type="cedula", id_number="1761234564"))

    assert data["registro_de_asegurados"] is None
    assert data["tramites"] == []
    assert set(archive.namelist()) == {"LEAME.txt", "datos.json"}


def test_a_case_someone_else_filed_leaves_out_what_they_declared_and_uploaded(world):
    completed, completed_files, _ = world["completed"]
    notice = completed.emails.get(template="previous_email_notice")
    token = re.search(r"/tramite/no-fui-yo/([\w-]+)/", notice.body_text).group(1)
    review = contact_change_report(token=token)
    supervisor = staff_user_ensure(username="sofia.sup", password="x" * 20, role=Role.SUPERVISOR)
    fraud_review_close(
        review=review,
        actor=supervisor,
        outcome=FraudOutcome.FRAUD_CONFIRMED,
        resolution="La persona de la videollamada no era la titular.",
    )

    archive, data, _ = _open(person_data_export(id_type="cedula", id_number="0923456784"))

    case = next(c for c in data["tramites"] if c["numero"] == completed.number)
    assert "presentado_por_otra_persona" in case
    assert "datos_declarados" not in case and "documentos" not in case
    assert case["revision_por_suplantacion"]["resultado"] == "Suplantación confirmada"
    assert {e["plantilla"] for e in case["mensajes"]["correos"]} <= {
        "previous_email_notice",
        "not_me_confirmed",
    }
    assert not [n for n in archive.namelist() if n.startswith(f"tramites/{completed.number}/")]


def test_a_complaint_about_the_persons_case_is_in_the_export(world):
    from ventanilla.complaints.services import complaint_file

    completed, _files, _crop = world["completed"]
    luis_case, _luis_files = world["luis"]
    complaint_file(
        name="María Quispe",
        email="maria.quispe@example.org",
        text="La videollamada se cortó dos veces y nadie me volvió a llamar.",
        case_number=completed.number,
    )
    complaint_file(
        name="Luis",
        email="luis@example.org",
        text="Otra queja sobre otro trámite, no el de ella.",
        case_number=luis_case.number,
    )

    _archive, data, _raw = _open(person_data_export(id_type="cedula", id_number="0923456784"))

    cases = {case["numero"]: case for case in data["tramites"]}
    complaints = cases[completed.number]["quejas"]
    assert [c["queja"] for c in complaints] == [
        "La videollamada se cortó dos veces y nadie me volvió a llamar."
    ]
    assert complaints[0]["numero"].startswith("QJ-")
    assert "Otra queja" not in json.dumps(data, ensure_ascii=False)


def test_a_file_the_antivirus_has_not_cleared_is_listed_and_left_out(world):
    luis_case, _ = world["luis"]
    waiting = luis_case.documents.get(kind="selfie")
    Document.objects.filter(pk=waiting.pk).update(scanned_at=None)

    archive, data, _ = _open(person_data_export(id_type="cedula", id_number="0102030400"))

    [case] = data["tramites"]
    [entry] = [d for d in case["documentos"] if d["tipo"] == "selfie"]
    assert entry["archivo"] is None and entry["sha256"] == waiting.sha256
    assert "antivirus" in entry["nota"]
    names = archive.namelist()
    assert not [n for n in names if "/selfie-" in n]
    assert [n for n in names if "/id_front-" in n]
