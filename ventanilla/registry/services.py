"""Writes to the registry of insured persons: imports and contact-data changes."""

import csv
import datetime as dt
from dataclasses import dataclass, field

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from stdnum.ec import ci

from ventanilla.audit.services import audit_log
from ventanilla.cases.constants import IdType

from .constants import CONTACT_FIELDS, InsuredType
from .models import ContactDataChange, InsuredPerson

IMPORT_COLUMNS = (
    "id_number",
    "first_names",
    "last_names",
    "birth_date",
    "insured_type",
    "email",
    "phone",
)


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


def _import_row(row: dict[str, str]) -> dict:
    """Clean one CSV row or raise ValidationError with a message naming the column."""
    id_number = (row.get("id_number") or "").strip()
    id_type = (row.get("id_type") or IdType.CEDULA).strip()
    if id_type == IdType.CEDULA and not ci.is_valid(id_number):
        raise ValidationError(f"id_number «{id_number}» no es una cédula válida")
    for column in ("first_names", "last_names"):
        if not (row.get(column) or "").strip():
            raise ValidationError(f"{column} está vacío")
    insured_type = (row.get("insured_type") or "").strip().lower()
    if insured_type not in InsuredType.values:
        raise ValidationError(
            f"insured_type «{insured_type}» debe ser uno de {', '.join(InsuredType.values)}"
        )
    try:
        birth_date = (
            dt.date.fromisoformat(row["birth_date"].strip()) if row.get("birth_date") else None
        )
    except ValueError as exc:
        raise ValidationError(f"birth_date «{row['birth_date']}» no es AAAA-MM-DD") from exc
    email = (row.get("email") or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise ValidationError(f"email «{email}» no es un correo electrónico válido") from exc
    phone = (row.get("phone") or "").strip()
    if phone:
        try:
            parsed = phonenumbers.parse(phone, "EC")
        except phonenumbers.NumberParseException as exc:
            raise ValidationError(f"phone «{phone}» no es un teléfono") from exc
        if not phonenumbers.is_valid_number(parsed):
            raise ValidationError(f"phone «{phone}» no es un teléfono válido")
        phone = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return {
        "id_type": id_type,
        "id_number": id_number,
        "first_names": row["first_names"].strip(),
        "last_names": row["last_names"].strip(),
        "birth_date": birth_date,
        "insured_type": insured_type,
        "email": email,
        "phone": phone,
    }


@transaction.atomic
def insured_import_csv(*, stream) -> ImportReport:
    """Load or update insured persons from CSV. A bad row is reported and skipped;
    an existing person's contact data is never overwritten by an import."""
    reader = csv.DictReader(stream)
    missing = [c for c in IMPORT_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationError(f"Faltan columnas en el CSV: {', '.join(missing)}")
    report = ImportReport()
    for row in reader:
        # The reader's own line count: blank lines are skipped but still counted.
        line_no = reader.line_num
        try:
            values = _import_row(row)
        except (ValidationError, KeyError) as exc:
            text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            report.errors.append(f"línea {line_no}: {text}")
            continue
        key = {"id_type": values.pop("id_type"), "id_number": values.pop("id_number")}
        person = InsuredPerson.objects.filter(**key).first()
        if person is None:
            InsuredPerson.objects.create(**key, **values)
            report.created += 1
        else:
            for name in ("first_names", "last_names", "birth_date", "insured_type"):
                setattr(person, name, values[name])
            person.save()
            report.updated += 1
    return report


def contact_data_apply(*, case, actor) -> tuple[InsuredPerson, list[ContactDataChange]]:
    """Apply a validated case's contact data to the registry, one history row per changed field.

    A person missing from the registry (the analyst saw the flag and still validated
    the identity on the call) is added, with the creation in the history.
    """
    person = (
        InsuredPerson.objects.select_for_update()
        .filter(id_type=case.id_type, id_number=case.id_number)
        .first()
    )
    if person is None:
        person = InsuredPerson.objects.create(
            id_type=case.id_type,
            id_number=case.id_number,
            first_names=case.first_names,
            last_names=case.last_names,
            birth_date=case.birth_date,
            insured_type="",
        )
        audit_log(action="registry.person_created", actor=actor, case=case, obj=person)
    changes = []
    for name in CONTACT_FIELDS:
        old, new = getattr(person, name) or "", getattr(case, name) or ""
        if old == new:
            continue
        setattr(person, name, new)
        changes.append(
            ContactDataChange(
                person=person, field=name, old_value=old, new_value=new, case=case, changed_by=actor
            )
        )
    person.save()
    ContactDataChange.objects.bulk_create(changes)
    audit_log(
        action="registry.contact_data_applied",
        actor=actor,
        case=case,
        obj=person,
        old={c.field: c.old_value for c in changes},
        new={c.field: c.new_value for c in changes},
    )
    if case.insured_id != person.pk:
        case.insured = person
        case.save(update_fields=["insured"])
    return person, changes
