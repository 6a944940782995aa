"""The electronic signature on the request form, checked the way FirmaEC checks it.

FirmaEC (the government's open-source signer) checks a signed PDF in this order:
no JavaScript, OpenAction or embedded files; each signature intact and covering
the whole document; a chain to a known entity's root; the certificate valid at
signing time and not revoked; a timestamp counting only if its TSA certificate
has the time-stamping usage. pyHanko does the cryptography and the comparison
of revisions; this module turns its verdicts into what an analyst needs, and adds
what only this procedure asks: that the signer's ID in the certificate (subject
``serialNumber`` ``IDCEC-``/``PASEC-``, or the entity's private extension in
older certificates) is the applicant's.

Decisions, so that an analyst can rely on them:

- Changes after a signature are accepted when they are only archival
  (document timestamps, validation data) or, for a signature that is followed
  by another one, form filling and the later signatures themselves: the later
  signer signed what was there. After the *last* signature, FirmaEC's rule
  holds: it must cover the whole document, so even a changed form field fails
  (the declared data the analyst reads were not signed); so does any other
  change after any signature.
- The certificate is judged at the signing time: the time of a timestamp whose
  TSA has the time-stamping usage and chains to a configured root, else the
  time the signer claims (FirmaEC does the same; the claim is labelled as such).
  A certificate that has expired since a merely claimed time is a warning: the
  date may have been set back.
- The applicant must be one of the signers: a signature whose certificate ID
  is of the same kind (cédula, passport) but another number fails, naming it;
  an extra signer beside the applicant, an ID of another kind, or no ID in the
  certificate is a warning (the analyst compares names).
- Revocation is checked offline, only against the CRL files the operator put in
  ``crl_dir``; a certificate revoked after the claimed signing time, with no
  timestamp to prove the signature came first, is a warning.
- Active content (JavaScript, Launch actions, an OpenAction other than plain
  navigation, embedded files) is a failure: FirmaEC refuses such documents, and
  a script can change what the analyst sees without touching the signed bytes.
- An untrusted root, or no roots configured at all, is a warning: the signature
  may be genuine, but nothing here can vouch for the entity.
"""

import contextlib
import io
import logging
import os
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from asn1crypto import core, pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509 as crypto_x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation import (
    EmbeddedPdfSignature,
    SignatureCoverageLevel,
    validate_pdf_signature,
)
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import ValidationContext
from stdnum.ec import ci

from . import ERROR, FAIL, PASS, WARN, Finding, worst

logger = logging.getLogger(__name__)

# Private extensions that older certificates of the accredited entities use for
# the holder's cédula or passport (DOMAIN.md, from FirmaEC's library).
ID_EXTENSION_OIDS = {
    "1.3.6.1.4.1.37947.3.1": "Banco Central del Ecuador",
    "1.3.6.1.4.1.37746.3.1": "Security Data",
    "1.3.6.1.4.1.18332.3.1": "ANF AC Ecuador",
    "1.3.6.1.4.1.37442.3.1": "ANF AC Ecuador",
    "1.3.6.1.4.1.43745.1.3.1": "Consejo de la Judicatura",
    "1.3.6.1.4.1.47286.102.3.1": "Uanataca",
    "1.3.6.1.4.1.55519.1.1.1.5.2.1": "DIGERCIC (Registro Civil)",
    "1.3.6.1.4.1.57153.102.3.1": "Eclipsoft",
    "1.3.6.1.4.1.52643.3.1": "DatilMedia",
    "1.3.6.1.4.1.59382.3.1": "Lazzate",
    "1.3.6.1.4.1.59198.3.1": "ArgosData",
    "1.3.6.1.4.1.61305.3.1": "FirmaSegura",
    "1.3.6.1.4.1.34380.3.1": "CorpNewBest",
    "1.3.6.1.4.1.56105.3.1": "Alpha Technologies",
}

# ETSI EN 319 412-1 semantics identifier in the subject serialNumber: IDCEC-..., PASEC-...
_SEMANTIC_ID = re.compile(r"^(IDC|PAS|PNO|TIN|TAX)([A-Z]{2})[-:](.+)$")
_SEMANTIC_TYPES = {"IDC": "cedula", "PAS": "passport"}

ROOT_SUFFIXES = {".pem", ".crt", ".cer", ".der"}
CRL_SUFFIXES = {".crl", ".pem", ".der"}

# A signer's clock may run a little ahead of ours; beyond this, the claimed time is suspect.
CLOCK_SKEW = timedelta(minutes=5)
# Objects visited when looking for active content: a request form has a few dozen.
MAX_OBJECTS_SCANNED = 50_000

_HAZARD_LABELS = {
    "javascript": "JavaScript",
    "launch": "acciones que abren programas (Launch)",
    "open_action": "una acción automática al abrir (OpenAction)",
    "embedded_file": "archivos incrustados",
}
_ID_TYPE_LABELS = {
    "cedula": "cédula",
    "passport": "pasaporte",
    "foreigner_code": "código de extranjero",
    None: "identificación",
}


@dataclass
class _Problem:
    outcome: str
    code: str
    message: str


@dataclass
class _SignerId:
    value: str
    id_type: str | None  # "cedula", "passport", or None when the entity does not say
    source: str  # "subject serialNumber" or "extension <oid> (<entity>)"
    raw: str


@dataclass
class _SignatureResult:
    evidence: dict[str, Any]
    problems: list[_Problem] = field(default_factory=list)
    signer_id: _SignerId | None = None
    signer_name: str = ""
    id_matches: bool | None = None


# --- configuration: trust roots and CRLs ------------------------------------


def _files(folder: str | os.PathLike | None, suffixes: set[str]) -> list[Path]:
    if folder is None:
        return []
    path = Path(folder)
    if not path.is_dir():
        return []
    return sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in suffixes)


def _der_blocks(data: bytes, pem_type: str) -> list[bytes]:
    if pem.detect(data):
        return [der for kind, _, der in pem.unarmor(data, multiple=True) if kind == pem_type]
    return [data]


def _load_roots(folder) -> tuple[list[asn1_x509.Certificate], list[str]]:
    roots, errors = [], []
    if folder is not None and not Path(folder).is_dir():
        errors.append(f"{folder}: la carpeta no existe")
    for path in _files(folder, ROOT_SUFFIXES):
        try:
            for der in _der_blocks(path.read_bytes(), "CERTIFICATE"):
                cert = asn1_x509.Certificate.load(der)
                cert.native  # noqa: B018 - force a full parse so a bad file is caught here
                roots.append(cert)
        except (ValueError, TypeError, OSError) as exc:
            errors.append(f"{path.name}: {exc}")
    return roots, errors


@dataclass
class _Crl:
    file: str
    der: bytes
    parsed: crypto_x509.CertificateRevocationList


def _load_crls(folder) -> tuple[list[_Crl], list[str]]:
    crls, errors = [], []
    for path in _files(folder, CRL_SUFFIXES):
        try:
            for der in _der_blocks(path.read_bytes(), "X509 CRL"):
                crls.append(_Crl(path.name, der, crypto_x509.load_der_x509_crl(der)))
        except (ValueError, OSError) as exc:
            errors.append(f"{path.name}: {exc}")
    return crls, errors


def _cert_name(cert: asn1_x509.Certificate) -> str:
    subject = cert.subject.native
    return subject.get("common_name") or cert.subject.human_friendly


# --- active content ----------------------------------------------------------


def _get(obj: generic.DictionaryObject, key: str) -> Any:
    """``obj[key]`` with indirect references resolved, or None."""
    try:
        return obj[key]
    except (KeyError, TypeError):
        return None


def _find_hazards(reader: PdfFileReader) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """Walk every object reachable from the catalog looking for active content."""
    hazards: dict[tuple[str, str], dict[str, str]] = {}
    notes: dict[str, Any] = {}

    def add(kind: str, where: str, detail: str = "") -> None:
        hazards.setdefault((kind, where), {"kind": kind, "where": where, "detail": detail})

    open_action = _get(reader.root, "/OpenAction")
    if isinstance(open_action, generic.ArrayObject) or (
        isinstance(open_action, generic.DictionaryObject) and _get(open_action, "/S") == "/GoTo"
    ):
        notes["open_action"] = "solo navegación (ir a una página): no es contenido activo"
    elif open_action is not None:
        add("open_action", "Root.OpenAction", str(_get(open_action, "/S") or ""))

    stack: list[tuple[Any, str]] = [(reader.trailer.raw_get("/Root"), "Root")]
    seen: set[tuple[int, int]] = set()
    visited = 0
    while stack and visited < MAX_OBJECTS_SCANNED:
        obj, where = stack.pop()
        if isinstance(obj, generic.IndirectObject):
            key = (obj.idnum, obj.generation)
            if key in seen:
                continue
            seen.add(key)
            try:
                obj = obj.get_object()
            except Exception:  # a dangling reference is not our finding
                logger.debug("unresolvable reference %s", key, exc_info=True)
                continue
        visited += 1
        if isinstance(obj, generic.DictionaryObject):
            action = _get(obj, "/S")
            if action == "/JavaScript" or "/JS" in obj:
                add("javascript", where)
            if action == "/Launch":
                add("launch", where)
            if (
                _get(obj, "/Type") == "/EmbeddedFile"
                or "/EF" in obj
                or _get(obj, "/Subtype") == "/FileAttachment"
            ):
                add("embedded_file", where)
            if where.endswith(".Names"):
                if "/JavaScript" in obj:
                    add("javascript", f"{where}.JavaScript")
                if "/EmbeddedFiles" in obj:
                    add("embedded_file", f"{where}.EmbeddedFiles")
            for name, value in dict.items(obj):
                if name in ("/Parent", "/P"):  # back-pointers: reached from above anyway
                    continue
                stack.append((value, f"{where}.{str(name)[1:]}"))
        elif isinstance(obj, generic.ArrayObject):
            for index, value in enumerate(list.__iter__(obj)):
                stack.append((value, f"{where}[{index}]"))
    notes["objects_scanned"] = visited
    if stack:
        notes["scan_truncated"] = True
    return list(hazards.values()), notes


HAZARD_LABELS = {
    "javascript": "JavaScript",
    "launch": "acción que abre programas (Launch)",
    "embedded_file": "archivos incrustados o adjuntos",
    "open_action": "acción automática al abrir (OpenAction)",
}


def pdf_hazards(pdf_bytes: bytes) -> list[dict[str, str]]:
    """Active content in any PDF (signed or not): JavaScript, Launch actions, embedded
    files, an OpenAction that does more than go to a page. Each with where it is and a
    Spanish label, for the file-integrity check."""
    hazards, _ = _find_hazards(_open(pdf_bytes))
    return [{**h, "label": HAZARD_LABELS.get(h["kind"], h["kind"])} for h in hazards]


# --- the signer's identity ----------------------------------------------------


def _normalise_id(value: str) -> str:
    return re.sub(r"[\s.\-]", "", value).upper()


def _extension_text(extension: asn1_x509.Extension) -> str:
    raw = extension["extn_value"].contents
    try:
        value = core.Asn1Value.load(raw).native
    except (ValueError, TypeError):
        value = None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        value = raw.decode("utf-8", "replace")
    return value.strip().strip("\x00")


def _signer_id(cert: asn1_x509.Certificate) -> _SignerId | None:
    """The holder's ID: the subject serialNumber first, then the entities' private extensions."""
    serial = (cert.subject.native.get("serial_number") or "").strip()
    match = _SEMANTIC_ID.match(serial.upper())
    if match:
        kind, _country, value = match.groups()
        return _SignerId(
            _normalise_id(value), _SEMANTIC_TYPES.get(kind), "serialNumber del sujeto", serial
        )
    for extension in cert["tbs_certificate"]["extensions"] or []:
        oid = extension["extn_id"].dotted
        if oid in ID_EXTENSION_OIDS:
            text = _extension_text(extension)
            if text:
                source = f"extensión {oid} de {ID_EXTENSION_OIDS[oid]}"
                value = _normalise_id(text)
                # These extensions hold "cédula o pasaporte": a valid check digit tells which.
                kind = "cedula" if ci.is_valid(value) else None
                return _SignerId(value, kind, source, text)
    # Last resort: a bare number in serialNumber, only if it is a valid cédula.
    if serial and ci.is_valid(serial):
        return _SignerId(serial, "cedula", "serialNumber del sujeto, sin prefijo", serial)
    return None


# --- one signature ------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat(timespec="seconds") if value else None


def _validate(
    embedded: EmbeddedPdfSignature,
    roots: list[asn1_x509.Certificate],
    crls: list[_Crl],
    moment: datetime,
    now: datetime,
):
    common = {
        "trust_roots": roots,
        "allow_fetching": False,
        # Soft-fail: the operator may hold CRLs for some entities only; a CRL that
        # is present and lists the certificate still makes it revoked.
        "revocation_mode": "soft-fail",
        "crls": [c.der for c in crls],
        # The CRL at hand is newer than the signature (validation happens days
        # later); it still tells whether the certificate was revoked before the
        # signing time, since each entry carries its revocation date.
        "retroactive_revinfo": True,
    }
    signer_context = ValidationContext(moment=moment, **common)
    timestamp_context = ValidationContext(moment=now, **common)
    return validate_pdf_signature(
        embedded,
        signer_validation_context=signer_context,
        ts_validation_context=timestamp_context,
        key_usage_settings=KeyUsageConstraints(
            key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False
        ),
    )


def _revocation(
    cert: asn1_x509.Certificate, embedded: EmbeddedPdfSignature, roots, crls: list[_Crl]
) -> dict[str, Any]:
    """Look the signer's certificate up in the configured CRLs of its issuer."""
    if not crls:
        return {"status": "sin CRL configuradas"}
    crypto_cert = crypto_x509.load_der_x509_certificate(cert.dump())
    issuers = [
        crypto_x509.load_der_x509_certificate(c.dump())
        for c in [*embedded.other_embedded_certs, *roots]
        if c.subject == cert.issuer
    ]
    matching = [c for c in crls if c.parsed.issuer == crypto_cert.issuer]
    if not matching:
        return {"status": "no hay CRL de este emisor"}
    result: dict[str, Any] = {"status": "no revocado", "crl_files": [c.file for c in matching]}
    for crl in matching:
        # None: the issuer's certificate is not at hand, so the operator's file is taken on trust.
        verified = (
            any(crl.parsed.is_signature_valid(i.public_key()) for i in issuers) if issuers else None
        )
        result["crl_this_update"] = _iso(crl.parsed.last_update_utc)
        result["crl_signature_verified"] = verified
        if verified is False:
            result["status"] = "CRL con firma inválida: no se usó"
            continue
        entry = crl.parsed.get_revoked_certificate_by_serial_number(crypto_cert.serial_number)
        if entry is not None:
            reason = None
            with contextlib.suppress(crypto_x509.ExtensionNotFound):
                reason = entry.extensions.get_extension_for_class(
                    crypto_x509.CRLReason
                ).value.reason.value
            result.update(
                status="revocado",
                revoked_at=_iso(entry.revocation_date_utc),
                reason=reason,
                crl_file=crl.file,
            )
            break
    return result


def _coverage_problems(status, *, is_last: bool) -> list[_Problem]:
    coverage = status.coverage
    level = status.modification_level
    if coverage is None or coverage < SignatureCoverageLevel.ENTIRE_REVISION:
        return [
            _Problem(
                FAIL,
                "coverage",
                "La firma no cubre todo el documento: parte del archivo no está firmada.",
            )
        ]
    if level in (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES):
        return []
    if level in (ModificationLevel.FORM_FILLING, ModificationLevel.ANNOTATIONS):
        if status.docmdp_ok is False:
            return [
                _Problem(
                    FAIL,
                    "modified",
                    "El documento se modificó después de firmarse más de lo que la firma permite.",
                )
            ]
        if is_last:
            return [
                _Problem(
                    FAIL,
                    "form_filled_after_signing",
                    "Se llenaron o cambiaron campos del formulario después de la última firma: "
                    "lo que se ve no es lo que se firmó.",
                )
            ]
        return []
    return [
        _Problem(
            FAIL,
            "modified",
            "El documento fue modificado después de firmarse (se cambió o añadió contenido): "
            "lo que se ve no es lo que se firmó.",
        )
    ]


def _unreadable(field_name: str, exc: Exception, started: float) -> _SignatureResult:
    logger.warning("signature %s unreadable", field_name, exc_info=True)
    evidence = {
        "field": field_name,
        "error": f"{exc.__class__.__name__}: {str(exc)[:300]}",
        "elapsed_seconds": round(time.perf_counter() - started, 3),
    }
    message = f"La firma del campo «{field_name}» no se pudo leer ni validar."
    return _SignatureResult(evidence, problems=[_Problem(ERROR, "unreadable", message)])


def _verify_one(
    embedded: EmbeddedPdfSignature,
    *,
    is_last: bool,
    roots: list[asn1_x509.Certificate],
    crls: list[_Crl],
    now: datetime,
) -> _SignatureResult:
    started = time.perf_counter()
    field_name = embedded.field_name
    evidence: dict[str, Any] = {"field": field_name}
    result = _SignatureResult(evidence)
    try:
        cert = embedded.signer_cert
        claimed = embedded.self_reported_timestamp
        moment = min(claimed, now) if claimed else now
        status = _validate(embedded, roots, crls, moment, now)
        timestamp = status.timestamp_validity
        timestamp_counts = bool(
            timestamp and timestamp.intact and timestamp.valid and timestamp.trusted
        )
        if timestamp_counts and abs(timestamp.timestamp - moment) > timedelta(seconds=1):
            status = _validate(embedded, roots, crls, min(timestamp.timestamp, now), now)
    except Exception as exc:  # any parser or CMS failure means "unreadable"
        return _unreadable(field_name, exc, started)

    if timestamp_counts:
        signing_time, time_source = timestamp.timestamp, "sello de tiempo de una TSA"
    elif claimed:
        signing_time, time_source = claimed, "declarada por el firmante, sin sello de tiempo"
    else:
        signing_time, time_source = None, "desconocida"
    judged_at = min(signing_time, now) if signing_time else now

    result.signer_name = _cert_name(cert)
    result.signer_id = _signer_id(cert)
    issuer_name = cert.issuer.native.get("common_name") or cert.issuer.human_friendly
    embedded_root = next(
        (_cert_name(c) for c in embedded.other_embedded_certs if c.self_signed), None
    )
    revocation = _revocation(cert, embedded, roots, crls)
    indic = status.trust_problem_indic
    evidence.update(
        {
            "signer_name": result.signer_name,
            "signer_subject": cert.subject.human_friendly,
            "signer_id": result.signer_id.value if result.signer_id else None,
            "signer_id_type": result.signer_id.id_type if result.signer_id else None,
            "signer_id_source": result.signer_id.source if result.signer_id else None,
            "issuer": cert.issuer.human_friendly,
            "issuer_name": issuer_name,
            "embedded_root": embedded_root,
            "serial": format(cert.serial_number, "X"),
            "valid_from": _iso(cert.not_valid_before),
            "valid_until": _iso(cert.not_valid_after),
            "signing_time": _iso(signing_time),
            "signing_time_source": time_source,
            "claimed_signing_time": _iso(claimed),
            "timestamp": None
            if timestamp is None
            else {
                "time": _iso(timestamp.timestamp),
                "tsa": timestamp.signing_cert.subject.human_friendly,
                "counts": timestamp_counts,
                "problem": None
                if timestamp_counts
                else (
                    timestamp.trust_problem_indic.name
                    if timestamp.trust_problem_indic
                    else "sello inválido"
                ),
            },
            "intact": status.intact,
            "valid": status.valid,
            "trusted": status.trusted,
            "trust_anchor": _cert_name(status.validation_path[0])
            if status.validation_path is not None
            else None,
            "trust_problem": indic.name if indic else None,
            "bottom_line": status.bottom_line,
            "coverage": status.coverage.name if status.coverage is not None else None,
            "modification_level": status.modification_level.name
            if status.modification_level is not None
            else None,
            "docmdp_ok": status.docmdp_ok,
            "revocation": revocation,
        }
    )
    if status.diff_result is not None and not hasattr(status.diff_result, "modification_level"):
        evidence["modification_detail"] = str(status.diff_result)[:400]

    problems = result.problems
    if not status.intact:
        problems.append(
            _Problem(
                FAIL,
                "integrity",
                "La firma electrónica no corresponde al contenido: el documento fue alterado "
                "después de firmarse.",
            )
        )
    elif not status.valid:
        problems.append(
            _Problem(FAIL, "invalid", "La firma electrónica es criptográficamente inválida.")
        )
    else:
        problems += _coverage_problems(status, is_last=is_last)

    if claimed and claimed > now + CLOCK_SKEW:
        problems.append(
            _Problem(
                WARN,
                "future_signing_time",
                f"La hora de firma declarada ({_iso(claimed)}) es posterior a la hora actual.",
            )
        )

    not_before, not_after = cert.not_valid_before, cert.not_valid_after
    if judged_at > not_after:
        problems.append(
            _Problem(
                FAIL,
                "expired",
                f"El certificado del firmante estaba caducado al firmar (válido hasta "
                f"{not_after:%Y-%m-%d}; firmado el {judged_at:%Y-%m-%d}, fecha {time_source}).",
            )
        )
    elif judged_at < not_before:
        problems.append(
            _Problem(
                FAIL,
                "not_yet_valid",
                f"El certificado del firmante aún no era válido al firmar (válido desde "
                f"{not_before:%Y-%m-%d}; firma del {judged_at:%Y-%m-%d}).",
            )
        )

    revoked_at = (
        datetime.fromisoformat(revocation["revoked_at"]) if revocation.get("revoked_at") else None
    )
    if status.revoked or (revoked_at is not None and revoked_at <= judged_at):
        when = revoked_at or status.revocation_details.revocation_date
        problems.append(
            _Problem(
                FAIL,
                "revoked",
                f"El certificado del firmante fue revocado el {when:%Y-%m-%d} "
                f"(antes de la firma), según la CRL de {issuer_name}.",
            )
        )
    elif revoked_at is not None and not timestamp_counts:
        problems.append(
            _Problem(
                WARN,
                "revoked_after_claimed_time",
                f"El certificado fue revocado el {revoked_at:%Y-%m-%d}, después de la hora de "
                f"firma declarada; sin sello de tiempo no se puede confirmar que se firmó antes.",
            )
        )

    if (
        not timestamp_counts
        and now > not_after
        and not any(p.code in ("expired", "not_yet_valid") for p in problems)
    ):
        problems.append(
            _Problem(
                WARN,
                "expired_since_claimed_time",
                f"El certificado caducó el {not_after:%Y-%m-%d} y la hora de firma "
                f"({_iso(judged_at)[:10]}) solo la declara el firmante: pudo firmarse después, "
                "con la fecha atrasada.",
            )
        )

    date_codes = {"expired", "not_yet_valid", "revoked"}
    date_problem = any(p.code in date_codes for p in problems)
    if not status.trusted and status.intact and status.valid:
        if not roots:
            pass  # reported once for the whole document
        elif indic == AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND:
            problems.append(
                _Problem(
                    WARN,
                    "untrusted",
                    f"El certificado no proviene de una entidad de certificación configurada "
                    f"(emisor: {issuer_name}).",
                )
            )
        elif date_problem and indic in (
            AdESIndeterminate.OUT_OF_BOUNDS_NO_POE,
            AdESIndeterminate.EXPIRED,
            AdESIndeterminate.NOT_YET_VALID,
            AdESFailure.NOT_YET_VALID,
            AdESFailure.REVOKED,
            AdESIndeterminate.REVOKED_NO_POE,
        ):
            pass  # already said, with the dates
        elif isinstance(indic, AdESFailure):
            problems.append(
                _Problem(
                    FAIL,
                    "chain_invalid",
                    f"La cadena del certificado (emisor: {issuer_name}) no es válida "
                    f"({indic.name}).",
                )
            )
        else:
            problems.append(
                _Problem(
                    WARN,
                    "not_trusted",
                    f"El certificado (emisor: {issuer_name}) no se pudo validar "
                    f"({indic.name if indic else 'sin detalle'}).",
                )
            )
    evidence["elapsed_seconds"] = round(time.perf_counter() - started, 3)
    return result


# --- the document --------------------------------------------------------------


def _id_problems(results: list[_SignatureResult], id_type: str, id_number: str) -> list[_Problem]:
    """Is one of the signers the applicant? Name whoever else signed."""
    applicant = _normalise_id(id_number)
    for result in results:
        if result.signer_id is not None:
            result.id_matches = result.signer_id.value == applicant
            result.evidence["signer_id_matches"] = result.id_matches
    readable = [r for r in results if "signer_name" in r.evidence]
    if any(r.id_matches for r in readable):
        return [
            _Problem(
                WARN,
                "other_signer",
                f"Además de la del solicitante, hay una firma de {r.signer_name} "
                + (
                    f"({_ID_TYPE_LABELS[r.signer_id.id_type]} {r.signer_id.value})."
                    if r.signer_id
                    else "(sin número de identificación en su certificado)."
                ),
            )
            for r in readable
            if not r.id_matches
        ]
    problems = []
    for r in readable:
        found = r.signer_id
        if found is None:
            problems.append(
                _Problem(
                    WARN,
                    "no_id_in_certificate",
                    f"El certificado de {r.signer_name} no contiene su número de identificación: "
                    f"compare el nombre con el del solicitante.",
                )
            )
            continue
        same_kind = found.id_type == id_type or (
            found.id_type is None and id_type == "cedula" and ci.is_valid(found.value)
        )
        label = _ID_TYPE_LABELS[found.id_type]
        if same_kind:
            problems.append(
                _Problem(
                    FAIL,
                    "other_person",
                    f"El PDF está firmado con el certificado de otra persona: {r.signer_name}, "
                    f"{label} {found.value} (el solicitante declaró {id_number}).",
                )
            )
        else:
            problems.append(
                _Problem(
                    WARN,
                    "id_type_differs",
                    f"El certificado identifica al firmante {r.signer_name} con {label} "
                    f"{found.value}; el solicitante declaró {_ID_TYPE_LABELS.get(id_type, id_type)} "
                    f"{id_number}: compare el nombre.",
                )
            )
    return problems


def _open(pdf_bytes: bytes) -> PdfFileReader:
    reader = PdfFileReader(io.BytesIO(pdf_bytes), strict=False)
    if reader.encrypted:
        reader.decrypt(b"")  # a form with only an owner password still opens
    return reader


def verify_request_signature(
    pdf_bytes: bytes,
    *,
    id_type: str,
    id_number: str,
    trust_roots_dir: str | os.PathLike | None,
    crl_dir: str | os.PathLike | None = None,
    now: datetime | None = None,
) -> Finding | None:
    """Validate the electronic signatures of the request form.

    Returns ``None`` when the PDF holds no filled signature field (a scanned or
    photographed form: the caller checks the handwritten signature box instead).
    ``trust_roots_dir`` holds the accredited entities' root (or sub-CA)
    certificates as PEM/DER files; ``crl_dir`` their CRLs; nothing is fetched.
    """
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    try:
        reader = _open(pdf_bytes)
        sig_fields = [
            (name, value.get_object(), field_ref)
            for name, value, field_ref in enumerate_sig_fields(reader, filled_status=True)
        ]
    except Exception as exc:  # whatever the parser trips on
        return Finding(
            ERROR,
            "No se pudo leer el PDF para buscar firmas electrónicas.",
            evidence={"error": f"{exc.__class__.__name__}: {str(exc)[:300]}"},
        )
    regular = [f for f in sig_fields if f[1].get("/Type", "/Sig") != "/DocTimeStamp"]
    if not regular:
        return None

    roots, root_errors = _load_roots(trust_roots_dir)
    crls, crl_errors = _load_crls(crl_dir)
    try:
        hazards, hazard_notes = _find_hazards(reader)
    except Exception as exc:
        hazards, hazard_notes = [], {"error": f"{exc.__class__.__name__}: {str(exc)[:200]}"}

    embedded, results = [], []
    for name, _value, field_ref in regular:
        started_field = time.perf_counter()
        try:
            embedded.append(EmbeddedPdfSignature(reader, field_ref.get_object(), name))
        except Exception as exc:  # a CMS blob that does not parse
            results.append(_unreadable(name, exc, started_field))
    # Form order is not signing order: "last" means the last revision signed.
    embedded.sort(key=lambda sig: sig.signed_revision)
    results += [
        _verify_one(sig, is_last=index == len(embedded) - 1, roots=roots, crls=crls, now=now)
        for index, sig in enumerate(embedded)
    ]
    problems: list[_Problem] = []
    if hazards:
        found_kinds = {h["kind"] for h in hazards}
        labels = [label for kind, label in _HAZARD_LABELS.items() if kind in found_kinds]
        listed = ", ".join(labels[:-1]) + " y " + labels[-1] if len(labels) > 1 else labels[0]
        problems.append(
            _Problem(
                FAIL,
                "active_content",
                f"El PDF contiene {listed}: FirmaEC rechaza estos documentos porque pueden "
                "cambiar lo que se ve sin romper la firma.",
            )
        )
    for result in results:
        problems += result.problems
    problems += _id_problems(results, id_type, id_number)
    if not roots and any("signer_name" in r.evidence for r in results):
        issuers = ", ".join(
            dict.fromkeys(r.evidence["issuer_name"] for r in results if "issuer_name" in r.evidence)
        )
        problems.append(
            _Problem(
                WARN,
                "no_trust_roots",
                "No hay raíces de confianza configuradas: no se pudo comprobar la entidad de "
                f"certificación (emisor: {issuers}).",
            )
        )

    outcome = worst(p.outcome for p in problems)
    if outcome == PASS:
        signer = next(r for r in results if r.id_matches)
        found = signer.signer_id
        summary = (
            f"Firma electrónica válida de {signer.signer_name} "
            f"({_ID_TYPE_LABELS[found.id_type]} {found.value}, según {found.source}), "
            f"emitida por {signer.evidence['issuer_name']}; cubre todo el documento."
        )
    else:
        leading = [p for p in problems if p.outcome == outcome]
        summary = leading[0].message
        if len(problems) > 1:
            summary += f" (y {len(problems) - 1} observación(es) más)"
    evidence = {
        "signatures": [r.evidence for r in results],
        "document_timestamps": len(sig_fields) - len(regular),
        "hazards": hazards,
        "hazard_scan": hazard_notes,
        "applicant_id": {"type": id_type, "number": id_number},
        "trust_roots_dir": str(trust_roots_dir) if trust_roots_dir is not None else None,
        "trust_roots": [_cert_name(c) for c in roots],
        "trust_root_errors": root_errors,
        "crl_dir": str(crl_dir) if crl_dir is not None else None,
        "crls": [{"file": c.file, "issuer": c.parsed.issuer.rfc4514_string()} for c in crls],
        "crl_errors": crl_errors,
        "problems": [
            {"outcome": p.outcome, "code": p.code, "message": p.message} for p in problems
        ],
        "validated_at": _iso(now),
        "elapsed_seconds": round(time.perf_counter() - started, 3),
    }
    score = {PASS: 1.0, FAIL: 0.0}.get(outcome)
    return Finding(outcome, summary, score=score, evidence=evidence)
