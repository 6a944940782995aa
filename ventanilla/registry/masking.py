"""Contact data shown half-hidden: enough for the holder to recognise it, too little for
whoever holds a forwarded link to learn it."""

import phonenumbers

from .constants import CONTACT_FIELD_LABELS, SMS_PHONE_FIELDS

DOT = "\u2022"  # •


def mask_email(address: str) -> str:
    """An address with its name hidden: carla.perez@gmail.com -> c••••@gmail.com."""
    if "@" not in (address or ""):
        return mask_text(address)
    local, domain = address.rsplit("@", 1)
    return f"{local[:1]}{DOT * 4}@{domain}"


def mask_phone(number: str) -> str:
    """A phone with its country code and its last three digits: +593 ••••••567."""
    digits = "".join(c for c in (number or "") if c.isdigit())
    if len(digits) < 5:
        return DOT * 4 if digits else ""
    try:
        country = str(phonenumbers.parse(number, None).country_code)
    except phonenumbers.NumberParseException:
        country = ""
    rest = digits[len(country) :] if country and digits.startswith(country) else digits
    prefix = f"+{country} " if country else ""
    return f"{prefix}{DOT * max(len(rest) - 3, 2)}{rest[-3:]}"


def mask_text(value: str) -> str:
    """A place or postal code: its first letter only."""
    value = (value or "").strip()
    return f"{value[:1]}{DOT * 4}" if value else ""


def mask_value(field: str, value: str) -> str:
    """One contact field's value, masked by its kind. Countries are shown whole (an ISO
    code says little and helps the holder recognise the change)."""
    if not value:
        return ""
    if field == "email":
        return mask_email(value)
    if field in (*SMS_PHONE_FIELDS, "ecuador_landline"):
        return mask_phone(value)
    if field == "residence_country":
        return value
    return mask_text(value)


def masked_changes(changes) -> list[dict]:
    """ContactDataChange rows as the holder reads them: the field, before and after, masked."""
    return [
        {
            "field": change.field,
            "label": str(CONTACT_FIELD_LABELS.get(change.field, change.field)),
            "old": mask_value(change.field, change.old_value),
            "new": mask_value(change.field, change.new_value),
        }
        for change in changes
    ]
