"""Cross-case check: signs that one person is acting under several identities.

An account takeover reuses the attacker's own contact data or files: the new
email or phones already given by another ID number, the same file (by SHA-256)
or a near-identical face on a case of another ID number, or many requests from
one client in a short time. Evidence names the other cases (staff only).
"""

import datetime as dt

import numpy as np
from django.db.models import Q
from django.urls import reverse

from ventanilla.cases.models import Case
from ventanilla.documents.models import Document
from ventanilla.registry.models import InsuredPerson

from .engines import FAIL, PASS, WARN, Finding
from .models import FaceSignature

# Same person: 0.05-0.36 with dlib's encodings; another person 0.68 and more (issue 3).
# Below this a face on another ID number is "near-identical", not merely similar.
SAME_FACE_DISTANCE = 0.45
# Requests for this many different ID numbers from one client in the window: a warning.
# Two is common (a couple filing from home); three is worth a look.
CLIENT_BURST_IDS = 3
CLIENT_BURST_WINDOW = dt.timedelta(hours=24)

CONTACT_LABELS = {
    "email": "correo electrónico",
    "foreign_phone": "teléfono en el exterior",
    "ecuador_mobile": "celular en Ecuador",
    "ecuador_landline": "teléfono fijo en Ecuador",
}


def _case_ref(case: Case) -> dict:
    return {
        "case": case.number,
        "id_number": case.id_number,
        "url": reverse("backoffice:case", args=[case.number]),
    }


def _others(case: Case):
    return Case.objects.exclude(id_type=case.id_type, id_number=case.id_number)


def _contact_matches(case: Case) -> list[dict]:
    matches = []
    for field, label in CONTACT_LABELS.items():
        value = getattr(case, field)
        if not value:
            continue
        lookup = {f"{field}__iexact": value} if field == "email" else {field: value}
        for other in _others(case).filter(**lookup).order_by("-submitted_at")[:10]:
            matches.append({"kind": "contact", "field": label, "value": value, **_case_ref(other)})
        # Also the registry: contact data already on file for another insured person.
        registry = InsuredPerson.objects.exclude(id_number=case.id_number)
        if field == "foreign_phone":
            registry = registry.filter(Q(foreign_phone=value) | Q(phone=value))
        else:
            registry = registry.filter(**lookup)
        for person in registry[:10]:
            matches.append(
                {
                    "kind": "registry",
                    "field": label,
                    "value": value,
                    "id_number": person.id_number,
                    "url": reverse("backoffice:insured", args=[person.id_number]),
                }
            )
    return matches


def _address_matches(case: Case) -> list[dict]:
    # Neighbours share postal codes: reported, but not a warning by itself.
    others = _others(case).filter(
        residence_country=case.residence_country,
        postal_code=case.postal_code,
        residence_city__iexact=case.residence_city,
    )
    return [
        {"kind": "address", "field": "código postal y ciudad", **_case_ref(other)}
        for other in others.order_by("-submitted_at")[:10]
    ]


def _file_matches(case: Case, documents: dict[str, Document]) -> list[dict]:
    matches = []
    # A file that could not be read has no fingerprint (taken by the integrity check).
    hashes = {d.sha256: d for d in documents.values() if d.sha256}
    reused = (
        Document.objects.filter(sha256__in=hashes)
        .exclude(case__id_type=case.id_type, case__id_number=case.id_number)
        .select_related("case")
    )
    for other in reused[:20]:
        mine = hashes[other.sha256]
        matches.append(
            {
                "kind": "file",
                "field": mine.get_kind_display(),
                "sha256": other.sha256,
                **_case_ref(other.case),
            }
        )
    return matches


def _face_matches(case: Case, faces: dict[str, np.ndarray]) -> list[dict]:
    if not faces:
        return []
    stored = list(
        FaceSignature.objects.filter(is_current=True)
        .exclude(case__id_type=case.id_type, case__id_number=case.id_number)
        .select_related("case")
    )
    if not stored:
        return []
    matrix = np.stack([np.frombuffer(bytes(s.vector), dtype=np.float32) for s in stored])
    matches, seen = [], set()
    for source, vector in faces.items():
        distances = np.linalg.norm(matrix - vector, axis=1)
        for index in np.flatnonzero(distances < SAME_FACE_DISTANCE):
            other = stored[index]
            if (other.case_id, source) in seen:
                continue
            seen.add((other.case_id, source))
            matches.append(
                {
                    "kind": "face",
                    "field": f"rostro ({source} / {other.source})",
                    "distance": round(float(distances[index]), 3),
                    **_case_ref(other.case),
                }
            )
    return matches


def _client_burst(case: Case) -> dict | None:
    if not case.client_ref:
        return None
    since = case.submitted_at - CLIENT_BURST_WINDOW
    ids = set(
        Case.objects.filter(client_ref=case.client_ref, submitted_at__gte=since)
        .values_list("id_type", "id_number")
        .distinct()
    )
    if len(ids) < CLIENT_BURST_IDS:
        return None
    return {
        "kind": "client",
        "field": "mismo equipo o red",
        "id_numbers": len(ids),
        "window_hours": int(CLIENT_BURST_WINDOW.total_seconds() // 3600),
    }


def cross_case(case: Case, documents: dict[str, Document], faces: dict[str, np.ndarray]) -> Finding:
    contact = _contact_matches(case)
    files = _file_matches(case, documents)
    same_faces = _face_matches(case, faces)
    burst = _client_burst(case)
    address = _address_matches(case)
    evidence = {
        "matches": contact + files + same_faces + ([burst] if burst else []) + address,
        "thresholds": {
            "same_face_distance": SAME_FACE_DISTANCE,
            "client_burst_ids": CLIENT_BURST_IDS,
            "client_burst_hours": int(CLIENT_BURST_WINDOW.total_seconds() // 3600),
        },
    }
    if files or same_faces:
        what = []
        if files:
            what.append("el mismo archivo")
        if same_faces:
            what.append("el mismo rostro")
        others = sorted({m["case"] for m in files + same_faces})
        return Finding(
            FAIL,
            f"Se usó {' y '.join(what)} en trámites de otra identificación: {', '.join(others)}.",
            score=0.0,
            evidence=evidence,
        )
    if contact or burst:
        parts = []
        if contact:
            fields = sorted({m["field"] for m in contact})
            parts.append(f"{', '.join(fields)} ya registrado(s) con otra identificación")
        if burst:
            parts.append(
                f"{burst['id_numbers']} identificaciones distintas desde el mismo equipo o red "
                f"en {burst['window_hours']} h"
            )
        return Finding(WARN, "; ".join(parts).capitalize() + ".", score=0.5, evidence=evidence)
    summary = (
        "Ningún dato de contacto, archivo ni rostro aparece en trámites de otra identificación."
    )
    if address:
        summary += f" ({len(address)} trámite(s) con el mismo código postal y ciudad.)"
    return Finding(PASS, summary, score=1.0, evidence=evidence)
