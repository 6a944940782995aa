"""The electronic signature on the request form, as an analyst would judge it.

Every PDF here is signed by a throwaway CA made by the test (ventanilla.testing.pki);
the "accredited entities" are whatever root the test writes into the roots folder.
"""

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from ventanilla.checks.engines import ERROR, FAIL, PASS, WARN
from ventanilla.checks.engines.signatures import verify_request_signature
from ventanilla.testing import media, pki
from ventanilla.testing.factories import PEOPLE

MARIA = PEOPLE[0]  # the applicant, cédula 0923456784
ROSA = PEOPLE[2]  # somebody else, cédula 1761234564
NOW = datetime.now(UTC)


def _full_name(person: dict) -> str:
    return f"{person['first_names']} {person['last_names']}"


@pytest.fixture(scope="module")
def ca():
    return pki.make_ca()


@pytest.fixture(scope="module")
def roots_dir(ca, tmp_path_factory):
    folder = tmp_path_factory.mktemp("trust-roots")
    pki.write_roots(folder, ca)
    return folder


@pytest.fixture(scope="module")
def form_pdf():
    return media.pdf_bytes(
        [
            "SOLICITUD DE ACTUALIZACIÓN DE DATOS DE CONTACTO (EJEMPLO DE PRUEBA)",
            f"Nombres y apellidos: {_full_name(MARIA).upper()}",
            f"Cédula: {MARIA['id_number']}   País de residencia: España   Ciudad: Madrid",
            f"Correo electrónico: {MARIA['email']}",
            "Firma: ____________________",
        ]
    )


@pytest.fixture(scope="module")
def maria(ca):
    return ca.issue(full_name=_full_name(MARIA), id_number=MARIA["id_number"])


@pytest.fixture(scope="module")
def signed_by_maria(form_pdf, maria):
    return pki.sign_pdf(form_pdf, maria)


def _check(pdf: bytes, roots_dir, *, id_type="cedula", id_number=MARIA["id_number"], **options):
    return verify_request_signature(
        pdf, id_type=id_type, id_number=id_number, trust_roots_dir=roots_dir, **options
    )


def _only_signature(finding) -> dict:
    (signature,) = finding.evidence["signatures"]
    return signature


# --- what passes ----------------------------------------------------------------


def test_form_signed_by_the_applicant_with_an_accredited_certificate_passes(
    signed_by_maria, roots_dir
):
    finding = _check(signed_by_maria, roots_dir)

    assert finding.outcome == PASS
    assert finding.score == 1.0
    assert _full_name(MARIA).upper() in finding.summary
    signature = _only_signature(finding)
    assert signature["signer_id"] == MARIA["id_number"]
    assert signature["signer_id_source"] == "serialNumber del sujeto"
    assert signature["intact"] and signature["trusted"]
    assert signature["coverage"] == "ENTIRE_FILE"
    assert signature["modification_level"] == "NONE"
    assert signature["trust_anchor"] == "CA RAIZ DE PRUEBA VENTANILLA"
    assert signature["signing_time_source"].startswith("declarada por el firmante")
    assert finding.evidence["trust_roots"] == ["CA RAIZ DE PRUEBA VENTANILLA"]
    assert finding.evidence["hazards"] == []


def test_firmaec_style_pkcs7_detached_signature_passes(form_pdf, maria, roots_dir):
    finding = _check(pki.sign_pdf(form_pdf, maria, pades=False), roots_dir)

    assert finding.outcome == PASS


def test_passport_holder_signing_with_a_pasec_certificate_passes(ca, form_pdf, roots_dir):
    signer = ca.issue(full_name="Ana Torres", id_number="A1234567", id_type="passport")

    finding = _check(
        pki.sign_pdf(form_pdf, signer), roots_dir, id_type="passport", id_number="a1234567"
    )

    assert finding.outcome == PASS
    assert _only_signature(finding)["signer_id_type"] == "passport"


@pytest.mark.parametrize("string_type", ["utf8", "printable"])
def test_older_certificate_with_the_id_in_the_entity_extension_passes(
    ca, form_pdf, roots_dir, string_type
):
    signer = ca.issue(
        full_name=_full_name(MARIA),
        id_number=MARIA["id_number"],
        legacy_oid=pki.BANCO_CENTRAL_ID_OID,
        legacy_string_type=string_type,
    )

    finding = _check(pki.sign_pdf(form_pdf, signer), roots_dir)

    assert finding.outcome == PASS
    signature = _only_signature(finding)
    assert signature["signer_id"] == MARIA["id_number"]
    assert pki.BANCO_CENTRAL_ID_OID in signature["signer_id_source"]
    assert "Banco Central" in signature["signer_id_source"]


# --- trust ------------------------------------------------------------------------


def test_certificate_from_an_unknown_entity_is_a_warning_naming_the_issuer(form_pdf, roots_dir):
    stranger_ca = pki.make_ca("CA DESCONOCIDA DE PRUEBA")
    signer = stranger_ca.issue(full_name=_full_name(MARIA), id_number=MARIA["id_number"])

    finding = _check(pki.sign_pdf(form_pdf, signer), roots_dir)

    assert finding.outcome == WARN
    assert "SUBCA DE CA DESCONOCIDA DE PRUEBA" in finding.summary
    signature = _only_signature(finding)
    assert signature["intact"] and not signature["trusted"]
    assert signature["embedded_root"] == "CA DESCONOCIDA DE PRUEBA"


@pytest.mark.parametrize("configured", ["none", "empty folder"])
def test_without_configured_trust_roots_the_signature_cannot_pass(
    signed_by_maria, tmp_path, configured
):
    roots_dir = None if configured == "none" else tmp_path

    finding = _check(signed_by_maria, roots_dir)

    assert finding.outcome == WARN
    assert "No hay raíces de confianza configuradas" in finding.summary
    assert finding.evidence["trust_roots"] == []


# --- changes after signing ----------------------------------------------------------


def test_text_added_to_the_page_after_signing_fails(signed_by_maria, roots_dir):
    finding = _check(pki.append_after_signing(signed_by_maria), roots_dir)

    assert finding.outcome == FAIL
    assert finding.score == 0.0
    assert "modificado después de firmarse" in finding.summary
    signature = _only_signature(finding)
    assert signature["intact"]  # the signed bytes are untouched ...
    assert signature["coverage"] == "ENTIRE_REVISION"  # ... but they are no longer all
    assert signature["modification_level"] == "OTHER"


def test_bytes_changed_inside_the_signed_range_fail(signed_by_maria, roots_dir):
    tampered = pki.tamper_bytes(signed_by_maria)
    assert len(tampered) == len(signed_by_maria) and tampered != signed_by_maria

    finding = _check(tampered, roots_dir)

    assert finding.outcome == FAIL
    assert "alterado" in finding.summary
    assert _only_signature(finding)["intact"] is False


def _form_with_phone_field(phone: str) -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.drawString(72, 760, "Teléfono en el exterior:")
    pdf.acroForm.textfield(name="telefono", x=220, y=752, width=200, height=20, value=phone)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def test_form_field_changed_after_signing_fails(maria, roots_dir):
    signed = pki.sign_pdf(_form_with_phone_field(MARIA["foreign_phone"]), maria)
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    (phone_field,) = (
        ref for ref in writer.root["/AcroForm"]["/Fields"] if ref.get_object()["/T"] == "telefono"
    )
    phone_field.get_object()[generic.NameObject("/V")] = generic.TextStringObject("+1 201 555 0123")
    writer.mark_update(phone_field)
    changed = io.BytesIO()
    writer.write(changed)

    assert _check(signed, roots_dir).outcome == PASS
    finding = _check(changed.getvalue(), roots_dir)
    assert finding.outcome == FAIL
    assert "campos del formulario" in finding.summary
    assert _only_signature(finding)["modification_level"] == "FORM_FILLING"


def test_a_later_signature_by_someone_else_is_allowed_but_pointed_out(
    ca, signed_by_maria, roots_dir
):
    witness = ca.issue(full_name=_full_name(ROSA), id_number=ROSA["id_number"])
    countersigned = pki.sign_pdf(signed_by_maria, witness, field_name="Firma2")

    finding = _check(countersigned, roots_dir)

    assert finding.outcome == WARN
    assert ROSA["id_number"] in finding.summary
    first, second = finding.evidence["signatures"]
    assert first["modification_level"] == "FORM_FILLING"  # only the new signature was added
    assert second["coverage"] == "ENTIRE_FILE"
    assert [first["signer_id_matches"], second["signer_id_matches"]] == [True, False]


# --- whose signature ---------------------------------------------------------------


def test_form_signed_with_another_persons_certificate_fails_naming_that_id(ca, form_pdf, roots_dir):
    rosa = ca.issue(full_name=_full_name(ROSA), id_number=ROSA["id_number"])

    finding = _check(pki.sign_pdf(form_pdf, rosa), roots_dir)

    assert finding.outcome == FAIL
    assert ROSA["id_number"] in finding.summary
    assert _full_name(ROSA).upper() in finding.summary
    assert _only_signature(finding)["signer_id_matches"] is False


def test_certificate_without_any_id_is_a_warning(ca, form_pdf, roots_dir):
    # An extension the engine does not know: as if the entity were not in the list.
    signer = ca.issue(
        full_name=_full_name(MARIA),
        id_number=MARIA["id_number"],
        legacy_oid="1.3.6.1.4.1.99999.3.1",
    )

    finding = _check(pki.sign_pdf(form_pdf, signer), roots_dir)

    assert finding.outcome == WARN
    assert "no contiene su número de identificación" in finding.summary
    assert _only_signature(finding)["signer_id"] is None


# --- time, expiry, revocation -------------------------------------------------------


@pytest.fixture(scope="module")
def expired_signer(ca):
    return ca.issue(
        full_name=_full_name(MARIA),
        id_number=MARIA["id_number"],
        not_before=NOW - timedelta(days=800),
        not_after=NOW - timedelta(days=400),
    )


def test_certificate_expired_at_signing_time_fails(expired_signer, form_pdf, roots_dir):
    finding = _check(pki.sign_pdf(form_pdf, expired_signer), roots_dir)

    assert finding.outcome == FAIL
    assert "caducado al firmar" in finding.summary


def test_backdated_signature_of_an_expired_certificate_is_a_warning(
    expired_signer, form_pdf, roots_dir
):
    # The signer's claim is all there is without a timestamp; it cannot pass silently.
    signed = pki.sign_pdf(form_pdf, expired_signer, signing_time=NOW - timedelta(days=500))

    finding = _check(signed, roots_dir)

    assert finding.outcome == WARN
    assert "fecha atrasada" in finding.summary


@pytest.fixture(scope="module")
def revoked_setup(ca, tmp_path_factory):
    signer = ca.issue(full_name=_full_name(MARIA), id_number=MARIA["id_number"])
    crl_dir = tmp_path_factory.mktemp("crls")
    pki.write_crl(crl_dir, ca, ca.crl([signer], revoked_at=NOW - timedelta(days=1)))
    return signer, crl_dir


def test_revoked_certificate_fails_when_the_crl_is_configured(revoked_setup, form_pdf, roots_dir):
    signer, crl_dir = revoked_setup
    signed = pki.sign_pdf(form_pdf, signer)

    without_crl = _check(signed, roots_dir)
    with_crl = _check(signed, roots_dir, crl_dir=crl_dir)

    assert without_crl.outcome == PASS  # nothing fetched from the network
    assert with_crl.outcome == FAIL
    assert "revocado" in with_crl.summary
    assert _only_signature(with_crl)["revocation"]["status"] == "revocado"


def test_certificate_not_in_the_crl_still_passes(revoked_setup, signed_by_maria, roots_dir):
    _, crl_dir = revoked_setup

    finding = _check(signed_by_maria, roots_dir, crl_dir=crl_dir)

    assert finding.outcome == PASS
    revocation = _only_signature(finding)["revocation"]
    assert revocation["status"] == "no revocado"
    assert revocation["crl_signature_verified"] is True


def test_revocation_after_the_signing_time_depends_on_a_timestamp(
    ca, revoked_setup, form_pdf, roots_dir
):
    signer, crl_dir = revoked_setup
    ten_days_ago = NOW - timedelta(days=10)
    claimed_only = pki.sign_pdf(form_pdf, signer, signing_time=ten_days_ago)
    timestamped = pki.sign_pdf(
        form_pdf,
        signer,
        signing_time=ten_days_ago,
        timestamp_with=ca.issue_tsa(),
        timestamp_at=ten_days_ago,
    )

    assert _check(claimed_only, roots_dir, crl_dir=crl_dir).outcome == WARN
    proven = _check(timestamped, roots_dir, crl_dir=crl_dir)
    assert proven.outcome == PASS
    assert _only_signature(proven)["signing_time_source"] == "sello de tiempo de una TSA"


@pytest.mark.parametrize(
    ("time_stamping_usage", "source"),
    [(True, "sello de tiempo de una TSA"), (False, "declarada por el firmante")],
)
def test_a_timestamp_counts_only_if_its_tsa_has_the_time_stamping_usage(
    ca, maria, form_pdf, roots_dir, time_stamping_usage, source
):
    tsa = ca.issue_tsa(time_stamping_usage=time_stamping_usage)

    finding = _check(pki.sign_pdf(form_pdf, maria, timestamp_with=tsa), roots_dir)

    assert finding.outcome == PASS
    signature = _only_signature(finding)
    assert signature["signing_time_source"].startswith(source)
    assert signature["timestamp"]["counts"] is time_stamping_usage


# --- no signature, unreadable signature, active content ----------------------------------


def test_unsigned_pdf_has_no_electronic_signature_finding(form_pdf, roots_dir):
    assert _check(form_pdf, roots_dir) is None


def test_pdf_with_an_empty_signature_field_has_no_electronic_signature_finding(form_pdf, roots_dir):
    writer = IncrementalPdfFileWriter(io.BytesIO(form_pdf))
    fields.append_signature_field(writer, fields.SigFieldSpec("Firma", box=(72, 60, 272, 110)))
    out = io.BytesIO()
    writer.write(out)

    assert _check(out.getvalue(), roots_dir) is None


def test_unparseable_signature_is_an_error(signed_by_maria, roots_dir):
    contents = re.search(rb"/Contents\s*<([0-9a-fA-F]+)>", signed_by_maria)
    start, end = contents.span(1)
    broken = signed_by_maria[:start] + b"0" * (end - start) + signed_by_maria[end:]

    finding = _check(broken, roots_dir)

    assert finding.outcome == ERROR
    assert "no se pudo leer" in finding.summary
    assert _only_signature(finding)["error"]


def test_unparseable_pdf_is_an_error(roots_dir):
    assert _check(b"%PDF-1.7\n1 0 obj << /Type /Catalog", roots_dir).outcome == ERROR


def test_javascript_run_on_opening_fails_even_when_signed_over(form_pdf, maria, roots_dir):
    # The script was there when the applicant signed: the signature is intact and
    # trusted, but a script can change what the analyst sees.
    signed = pki.sign_pdf(pki.add_javascript(form_pdf), maria)

    finding = _check(signed, roots_dir)

    assert finding.outcome == FAIL
    assert "JavaScript" in finding.summary
    assert {h["kind"] for h in finding.evidence["hazards"]} == {"javascript", "open_action"}
    assert _only_signature(finding)["trusted"]


def test_javascript_added_after_signing_fails_for_both_reasons(signed_by_maria, roots_dir):
    finding = _check(pki.add_javascript(signed_by_maria), roots_dir)

    assert finding.outcome == FAIL
    codes = {p["code"] for p in finding.evidence["problems"]}
    assert {"active_content", "modified"} <= codes
