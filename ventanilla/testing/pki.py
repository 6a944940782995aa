"""A throwaway public-key infrastructure for tests and demo data.

Real Ecuadorian certificates come from the entities ARCOTEL accredits (see
DOMAIN.md); tests cannot use them, so they make their own: a root CA, usually an
intermediate (as the real entities sign with a sub-CA), and end-entity
certificates shaped like the real ones: the person's name in ``CN``, their ID in
the subject ``serialNumber`` as ``IDCEC-<cédula>`` / ``PASEC-<passport>``
(ARCOTEL resolution 2024-0176), or, in older certificates, in an entity's
private extension (Banco Central ``1.3.6.1.4.1.37947.3.1`` ...).

Nothing here is secret or real: keys are generated per process (RSA 2048) and
never leave memory unless a test writes the public roots to a folder, as an
operator would install the accredited entities' roots.
"""

import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import core
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

BANCO_CENTRAL_ID_OID = "1.3.6.1.4.1.37947.3.1"

_ID_PREFIX = {"cedula": "IDCEC", "passport": "PASEC"}


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str, *, serial_number: str | None = None) -> x509.Name:
    attributes = []
    if serial_number:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial_number))
    attributes += [
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "VENTANILLA PRUEBAS (NO ES REAL)"),
        x509.NameAttribute(NameOID.COUNTRY_NAME, "EC"),
    ]
    return x509.Name(attributes)


def _asn1_string(value: str, string_type: str) -> bytes:
    """DER of ``value`` as the string type an entity uses in its private extension."""
    kinds = {"utf8": core.UTF8String, "printable": core.PrintableString, "ia5": core.IA5String}
    return kinds[string_type](value).dump()


@dataclass
class Signer:
    """An end-entity certificate with its key and the chain up to (and including) the root."""

    full_name: str
    id_number: str
    id_type: str
    cert: x509.Certificate
    key: rsa.RSAPrivateKey
    chain: list[x509.Certificate]

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def asn1_cert(self) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(self.cert.public_bytes(serialization.Encoding.DER))

    def asn1_key(self) -> asn1_keys.PrivateKeyInfo:
        der = self.key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return asn1_keys.PrivateKeyInfo.load(der)

    def asn1_chain(self) -> list[asn1_x509.Certificate]:
        return [
            asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
            for cert in self.chain
        ]

    def pyhanko_signer(self) -> signers.SimpleSigner:
        return signers.SimpleSigner(
            signing_cert=self.asn1_cert(),
            signing_key=self.asn1_key(),
            cert_registry=SimpleCertificateStore.from_certs(self.asn1_chain()),
        )


@dataclass
class TestCA:
    """A root CA and (optionally) an intermediate that issues the end-entity certificates."""

    __test__ = False  # not a pytest test class, despite the name

    name: str
    root_cert: x509.Certificate
    root_key: rsa.RSAPrivateKey
    intermediate_cert: x509.Certificate | None = None
    intermediate_key: rsa.RSAPrivateKey | None = None
    _crl_number: int = field(default=0, repr=False)

    @property
    def root_cert_pem(self) -> bytes:
        return self.root_cert.public_bytes(serialization.Encoding.PEM)

    @property
    def issuer_cert(self) -> x509.Certificate:
        return self.intermediate_cert or self.root_cert

    @property
    def issuer_key(self) -> rsa.RSAPrivateKey:
        return self.intermediate_key or self.root_key

    @property
    def chain(self) -> list[x509.Certificate]:
        """The CA certificates above an end entity, nearest first."""
        return [c for c in (self.intermediate_cert, self.root_cert) if c is not None]

    def _end_entity(
        self,
        subject: x509.Name,
        key: rsa.RSAPrivateKey,
        not_before: datetime | None,
        not_after: datetime | None,
    ) -> x509.CertificateBuilder:
        now = datetime.now(UTC)
        not_before = not_before or now - timedelta(days=30)
        not_after = not_after or not_before + timedelta(days=2 * 365)
        issuer = self.issuer_cert
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key()), False
            )
            # Real certificates say where their CRL is; validators only consult
            # CRLs for certificates that declare one. Nothing is fetched from it.
            .add_extension(
                x509.CRLDistributionPoints(
                    [
                        x509.DistributionPoint(
                            full_name=[x509.UniformResourceIdentifier(self.crl_url)],
                            relative_name=None,
                            reasons=None,
                            crl_issuer=None,
                        )
                    ]
                ),
                critical=False,
            )
        )

    @property
    def crl_url(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")
        return f"http://crl.{slug}.invalid/subca.crl"

    def issue(
        self,
        *,
        full_name: str,
        id_number: str,
        id_type: str = "cedula",
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        legacy_oid: str | None = None,
        legacy_string_type: str = "utf8",
    ) -> Signer:
        """A person's signing certificate.

        By default the ID goes in the subject ``serialNumber`` (``IDCEC-`` or
        ``PASEC-``); with ``legacy_oid`` it goes, as in older certificates, only
        in that private extension as a UTF8String (or ``legacy_string_type``
        ``"printable"`` / ``"ia5"``).
        """
        key = _key()
        serial = None if legacy_oid else f"{_ID_PREFIX[id_type]}-{id_number}"
        builder = self._end_entity(
            _name(full_name.upper(), serial_number=serial), key, not_before, not_after
        ).add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # nonRepudiation
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        if legacy_oid:
            builder = builder.add_extension(
                x509.UnrecognizedExtension(
                    x509.ObjectIdentifier(legacy_oid), _asn1_string(id_number, legacy_string_type)
                ),
                critical=False,
            )
        cert = builder.sign(self.issuer_key, hashes.SHA256())
        return Signer(full_name, id_number, id_type, cert, key, self.chain)

    def issue_tsa(self, *, time_stamping_usage: bool = True) -> Signer:
        """A time-stamping authority's certificate; without ``time_stamping_usage``
        it lacks the extended key usage that makes its timestamps count."""
        key = _key()
        builder = self._end_entity(_name(f"TSA DE PRUEBA {self.name}"), key, None, None)
        if time_stamping_usage:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
            )
        cert = builder.sign(self.issuer_key, hashes.SHA256())
        return Signer(f"TSA {self.name}", "", "tsa", cert, key, self.chain)

    def crl(
        self,
        revoked: list[Signer],
        *,
        revoked_at: datetime | None = None,
        this_update: datetime | None = None,
    ) -> bytes:
        """A CRL (DER) from the issuing CA listing ``revoked``, each revoked at
        ``revoked_at`` (default: one day ago)."""
        now = datetime.now(UTC)
        revoked_at = revoked_at or now - timedelta(days=1)
        this_update = this_update or now - timedelta(minutes=5)
        self._crl_number += 1
        issuer = self.issuer_cert
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(issuer.subject)
            .last_update(this_update)
            .next_update(this_update + timedelta(days=7))
            .add_extension(x509.CRLNumber(self._crl_number), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key()), False
            )
        )
        for signer in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(signer.cert.serial_number)
                .revocation_date(revoked_at)
                .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
                .build()
            )
        return builder.sign(self.issuer_key, hashes.SHA256()).public_bytes(
            serialization.Encoding.DER
        )


def _ca_cert(
    subject: x509.Name,
    key: rsa.RSAPrivateKey,
    issuer: x509.Name,
    issuer_key: rsa.RSAPrivateKey,
    *,
    years: int,
    path_length: int | None,
) -> x509.Certificate:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=3650))
        .not_valid_after(now + timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
        )
        .sign(issuer_key, hashes.SHA256())
    )


def make_ca(
    name: str = "CA RAIZ DE PRUEBA VENTANILLA", *, with_intermediate: bool = True
) -> TestCA:
    """A fresh root CA valid from ten years ago to twenty years ahead, and an intermediate."""
    root_key = _key()
    root_name = _name(name)
    root = _ca_cert(root_name, root_key, root_name, root_key, years=20, path_length=1)
    if not with_intermediate:
        return TestCA(name=name, root_cert=root, root_key=root_key)
    sub_key = _key()
    sub_name = _name(f"SUBCA DE {name}")
    sub = _ca_cert(sub_name, sub_key, root_name, root_key, years=15, path_length=0)
    return TestCA(
        name=name,
        root_cert=root,
        root_key=root_key,
        intermediate_cert=sub,
        intermediate_key=sub_key,
    )


# --- signing and tampering ----------------------------------------------------


class _PdfSignerAt(signers.PdfSigner):
    """A PdfSigner whose claimed signing time is fixed (to make backdated or expired cases)."""

    def __init__(self, *args, signing_time: datetime, **kwargs):
        super().__init__(*args, **kwargs)
        self._signing_time = signing_time

    def init_signing_session(self, pdf_out, existing_fields_only=False):
        session = super().init_signing_session(pdf_out, existing_fields_only=existing_fields_only)
        session.system_time = self._signing_time
        return session


def sign_pdf(
    pdf_bytes: bytes,
    signer: Signer,
    *,
    field_name: str = "Firma",
    reason: str = "Solicitud de actualización de datos de contacto",
    signing_time: datetime | None = None,
    timestamp_with: Signer | None = None,
    timestamp_at: datetime | None = None,
    box: tuple[int, int, int, int] | None = None,
    pades: bool = True,
) -> bytes:
    """Sign ``pdf_bytes`` as an incremental update, as FirmaEC and Adobe do.

    ``signing_time`` fixes the time the signer claims (default: now);
    ``timestamp_with`` (a TSA from `TestCA.issue_tsa`) adds a signature
    timestamp dated ``timestamp_at`` (default: now); ``box`` makes the
    signature visible on the first page.
    """
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES if pades else None,
    )
    timestamper = None
    if timestamp_with is not None:
        timestamper = DummyTimeStamper(
            tsa_cert=timestamp_with.asn1_cert(),
            tsa_key=timestamp_with.asn1_key(),
            certs_to_embed=SimpleCertificateStore.from_certs(timestamp_with.asn1_chain()),
            fixed_dt=timestamp_at,
        )
    field_spec = fields.SigFieldSpec(sig_field_name=field_name, on_page=0, box=box)
    kwargs = {"timestamper": timestamper, "new_field_spec": field_spec}
    if signing_time is not None:
        pdf_signer = _PdfSignerAt(
            meta, signer.pyhanko_signer(), signing_time=signing_time, **kwargs
        )
    else:
        pdf_signer = signers.PdfSigner(meta, signer.pyhanko_signer(), **kwargs)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf_bytes), strict=False)
    return pdf_signer.sign_pdf(writer).getvalue()


def _helvetica_resources() -> generic.DictionaryObject:
    font = generic.DictionaryObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/Font"),
            generic.NameObject("/Subtype"): generic.NameObject("/Type1"),
            generic.NameObject("/BaseFont"): generic.NameObject("/Helvetica"),
        }
    )
    return generic.DictionaryObject(
        {
            generic.NameObject("/Font"): generic.DictionaryObject(
                {generic.NameObject("/FVentanilla"): font}
            )
        }
    )


def append_after_signing(
    signed_pdf: bytes, text: str = "Cédula: 1761234564 (CAMBIADA DESPUÉS DE FIRMAR)"
) -> bytes:
    """Add visible text to the first page in an incremental update after the signature.

    The signed bytes stay untouched, so the signature itself is still intact:
    only the comparison of revisions shows that the page the analyst sees is no
    longer the page that was signed.
    """
    writer = IncrementalPdfFileWriter(io.BytesIO(signed_pdf), strict=False)
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    content = f"q 1 1 1 rg 70 680 460 16 re f Q BT /FVentanilla 11 Tf 72 684 Td ({escaped}) Tj ET"
    stream = generic.StreamObject(stream_data=content.encode("cp1252"))
    writer.add_stream_to_page(0, writer.add_object(stream), resources=_helvetica_resources())
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def tamper_bytes(signed_pdf: bytes) -> bytes:
    """Change one character of page text inside the signed byte range, keeping the
    file's structure (same length, offsets still right): only the digest shows it."""
    match = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)", signed_pdf)
    if match is None:
        raise ValueError("not a signed PDF")
    signed_end = int(match.group(1)) + int(match.group(2))
    data = bytearray(signed_pdf)
    text = re.search(rb"\(([^()\\]*[0-9A-Za-z][^()\\]*)\)\s*Tj", signed_pdf[:signed_end])
    if text is not None:
        start = text.start(1)
        position = start + next(i for i, byte in enumerate(text.group(1)) if chr(byte).isalnum())
        data[position] = ord("7") if data[position] != ord("7") else ord("8")
    else:  # compressed content: flip a byte in the middle of the first stream's data
        start = signed_pdf.index(b"stream", 0, signed_end) + len(b"stream\n")
        data[start + 10] ^= 0x01
    return bytes(data)


def add_javascript(pdf_bytes: bytes, script: str = "app.alert('Hola');") -> bytes:
    """Add an ``/OpenAction`` that runs JavaScript when the document opens (incremental update)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf_bytes), strict=False)
    action = generic.DictionaryObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/Action"),
            generic.NameObject("/S"): generic.NameObject("/JavaScript"),
            generic.NameObject("/JS"): generic.TextStringObject(script),
        }
    )
    writer.root[generic.NameObject("/OpenAction")] = writer.add_object(action)
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def write_roots(folder: str | Path, *cas: TestCA) -> list[Path]:
    """Write each CA's root certificate as a PEM file, as an operator installs them."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for ca in cas:
        slug = re.sub(r"[^a-z0-9]+", "-", ca.name.lower()).strip("-")
        path = folder / f"{slug}.pem"
        path.write_bytes(ca.root_cert_pem)
        paths.append(path)
    return paths


def write_crl(folder: str | Path, ca: TestCA, crl_der: bytes) -> Path:
    """Write a CRL (DER) into ``folder`` as ``<ca>.crl``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", ca.name.lower()).strip("-")
    path = folder / f"{slug}.crl"
    path.write_bytes(crl_der)
    return path
