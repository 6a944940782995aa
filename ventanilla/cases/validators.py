"""Field rules of the request: identification numbers, phones, places. Each refusal
says, in Spanish, what is wrong and how to fix it."""

import gettext as gettext_module
import re
import unicodedata
from functools import cache

import phonenumbers
import pycountry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _
from stdnum.ec import ci
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

from .constants import IdType

FINGERPRINT_CODE_RE = re.compile(r"^[A-Z]\d{4}[A-Z]\d{4}$")

# Postal-code rules for the countries where most Ecuadorians abroad live; others
# are accepted as written (formats differ too much to guess).
POSTAL_CODE_RULES = {
    "US": (r"^\d{5}(-\d{4})?$", "5 dígitos, por ejemplo 07102 o 07102-1234"),
    "ES": (r"^(0[1-9]|[1-4]\d|5[0-2])\d{3}$", "5 dígitos, por ejemplo 28001"),
    "IT": (r"^\d{5}$", "5 cifras, por ejemplo 20121"),
    "DE": (r"^\d{5}$", "5 cifras, por ejemplo 10115"),
    "FR": (r"^\d{5}$", "5 cifras, por ejemplo 75001"),
    "MX": (r"^\d{5}$", "5 dígitos, por ejemplo 06000"),
    "CL": (r"^\d{7}$", "7 dígitos, por ejemplo 8320000"),
    "CA": (
        r"^[A-Z]\d[A-Z] ?\d[A-Z]\d$",
        "letra-dígito-letra dígito-letra-dígito, por ejemplo M5V 3L9",
    ),
    "GB": (r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$", "por ejemplo SW1A 1AA"),
}


def id_number_clean(id_type: str, raw: str) -> str:
    """The identification number in canonical form, or a ValidationError explaining the problem."""
    value = re.sub(r"[\s.-]", "", raw or "").upper()
    if id_type == IdType.CEDULA:
        try:
            return ci.validate(value)
        except InvalidLength as exc:
            raise ValidationError(
                _("La cédula tiene 10 dígitos; usted ingresó %(n)d. Revise el número.")
                % {"n": len(value)},
                code="length",
            ) from exc
        except InvalidFormat as exc:
            raise ValidationError(
                _("La cédula solo contiene números (10 dígitos). Revise que no haya letras."),
                code="format",
            ) from exc
        except InvalidComponent as exc:
            raise ValidationError(
                _(
                    "Los dos primeros dígitos de la cédula (provincia) o el tercero no son "
                    "válidos. Revise el número en su cédula."
                ),
                code="component",
            ) from exc
        except InvalidChecksum as exc:
            raise ValidationError(
                _(
                    "El número de cédula no es válido (el último dígito no corresponde). "
                    "Revise que lo haya escrito exactamente como aparece en su cédula."
                ),
                code="checksum",
            ) from exc
    pattern = (
        settings.PASSPORT_PATTERN if id_type == IdType.PASSPORT else settings.FOREIGNER_CODE_PATTERN
    )
    if not re.match(pattern, value):
        label = _("pasaporte") if id_type == IdType.PASSPORT else _("código de extranjero")
        raise ValidationError(
            _("El número de %(label)s no tiene un formato válido: use solo letras y números.")
            % {"label": label},
            code="format",
        )
    return value


def fingerprint_code_clean(raw: str) -> str:
    value = re.sub(r"\s", "", raw or "").upper()
    if not FINGERPRINT_CODE_RE.match(value):
        raise ValidationError(
            _(
                "El código dactilar tiene 10 caracteres: una letra, cuatro números, una letra y "
                "cuatro números (por ejemplo E3331I2222). Está en el reverso de su cédula."
            ),
            code="format",
        )
    return value


@cache
def _spanish_iso3166():
    return gettext_module.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["es"])


def country_name(code: str) -> str:
    """A country's Spanish name (pycountry ships the ISO 3166 translations)."""
    country = pycountry.countries.get(alpha_2=code)
    return _spanish_iso3166().gettext(country.name) if country else code


def country_choices() -> list[tuple[str, str]]:
    """Countries by their names in the page's language (Spanish unless English was chosen)."""
    return _country_choices_in(translation.get_language() or "es")


@cache
def _country_choices_in(language: str) -> list[tuple[str, str]]:
    names_in = str if language == "en" else _spanish_iso3166().gettext
    names = [(c.alpha_2, names_in(c.name)) for c in pycountry.countries]
    return [("", "—")] + sorted(names, key=lambda item: _fold(item[1]))


def country_clean(raw: str) -> str:
    code = (raw or "").strip().upper()
    if pycountry.countries.get(alpha_2=code) is None:
        raise ValidationError(
            _("Elija su país de residencia de la lista (código ISO de 2 letras, por ejemplo ES)."),
            code="unknown",
        )
    if code == "EC":
        raise ValidationError(
            _(
                "Este trámite es para asegurados que residen fuera del Ecuador. Si vive en "
                "Ecuador, actualice sus datos en una agencia del IESS o en el portal."
            ),
            code="in_ecuador",
        )
    return code


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


def region_clean(country: str, raw: str) -> str:
    """An ISO 3166-2 code where the country has subdivisions (the code or its name is
    accepted), otherwise the text as written."""
    value = (raw or "").strip()
    if not value:
        raise ValidationError(_("Ingrese su estado o provincia de residencia."), code="required")
    subdivisions = list(pycountry.subdivisions.get(country_code=country) or [])
    if not subdivisions:
        return place_text_clean(value)
    wanted = _fold(value)
    for sub in subdivisions:
        short_code = sub.code.split("-", 1)[1]
        if wanted in (_fold(sub.code), _fold(short_code), _fold(sub.name)):
            return sub.code
    raise ValidationError(
        _(
            "«%(value)s» no es un estado o provincia de %(country)s. Escríbalo como en la lista "
            "oficial (por ejemplo %(example)s)."
        )
        % {
            "value": value,
            "country": country_name(country),
            "example": f"{subdivisions[0].code} o {subdivisions[0].name}",
        },
        code="unknown",
    )


def postal_code_clean(country: str, raw: str) -> str:
    value = re.sub(r"\s+", " ", (raw or "").strip().upper())
    rule = POSTAL_CODE_RULES.get(country)
    if rule and not re.match(rule[0], value):
        raise ValidationError(
            _("El código postal no tiene el formato de su país: %(hint)s.") % {"hint": rule[1]},
            code="format",
        )
    if not rule and not re.match(r"^[A-Z0-9][A-Z0-9 -]{1,11}$", value):
        raise ValidationError(
            _("Ingrese el código postal de su domicilio (letras y números)."), code="format"
        )
    return value


def phone_clean(raw: str, *, region: str, kind: str) -> str:
    """A phone in E.164. `kind` is "foreign", "ec_mobile" or "ec_landline"."""
    try:
        number = phonenumbers.parse(raw or "", region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            _(
                "No es un número de teléfono. Escríbalo con el código de país, por ejemplo +34 612 345 678."
            ),
            code="format",
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("El número de teléfono no es válido. Revise los dígitos y el código de país."),
            code="invalid",
        )
    number_type = phonenumbers.number_type(number)
    is_ecuadorian = phonenumbers.region_code_for_number(number) == "EC"
    if kind == "foreign" and is_ecuadorian:
        raise ValidationError(
            _("Aquí va un teléfono del país donde reside, no uno de Ecuador."), code="not_foreign"
        )
    if kind == "ec_mobile" and not (
        is_ecuadorian
        and number_type
        in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    ):
        raise ValidationError(
            _(
                "Ingrese un celular de Ecuador: 10 dígitos que empiezan por 09, por ejemplo 0991234567."
            ),
            code="not_ec_mobile",
        )
    if kind == "ec_landline" and not (
        is_ecuadorian
        and number_type
        in (
            phonenumbers.PhoneNumberType.FIXED_LINE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        )
    ):
        raise ValidationError(
            _(
                "Ingrese un teléfono fijo de Ecuador con su código de provincia, por ejemplo 02 394 5666."
            ),
            code="not_ec_landline",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# --- text fields (docs/security.md, "E. Upload hardening": hostile input) ------------

# Names are letters in any alphabet, with the joiners real names use (María José,
# O'Brien, Pérez-Núñez, Ma. Elena); digits, markup and SQL punctuation are not names.
_NAME_JOINERS = frozenset(" '’-.")
# Symbols that are never part of a city, district or street, but are of HTML, SQL or
# shell syntax.
_PLACE_FORBIDDEN = frozenset('<>{}[]\\;"`|$^*=~@%')
# Free text may hold newlines and tabs; other control characters (NUL, escape sequences,
# bidirectional overrides) only disguise what the text says.
_TEXT_CONTROLS_ALLOWED = frozenset("\n\r\t")


def _disallowed_controls(value: str, allowed: frozenset = frozenset()) -> bool:
    return any(unicodedata.category(char) in ("Cc", "Cf") and char not in allowed for char in value)


def person_name_clean(raw: str) -> str:
    """Names or surnames, with the spaces tidied."""
    value = " ".join((raw or "").split())
    letters = [c for c in value if c not in _NAME_JOINERS]
    if value and all(unicodedata.category(c)[0] in "LM" for c in letters) and letters:
        return value
    raise ValidationError(
        _(
            "Escriba los nombres y apellidos solo con letras, como en su documento (se "
            "aceptan tildes, ñ, espacios, apóstrofo, punto y guion); quite los números y "
            'símbolos como < > ; " ='
        ),
        code="format",
    )


def place_text_clean(raw: str) -> str:
    """A city, district or region written by the citizen, with the spaces tidied."""
    value = " ".join((raw or "").split())
    if _disallowed_controls(value) or _PLACE_FORBIDDEN & set(value):
        raise ValidationError(
            _(
                "Escriba el lugar solo con letras, números, espacios y los signos . , ' - / # "
                '( ); quite símbolos como < > ; " = @'
            ),
            code="format",
        )
    return value


def free_text_clean(raw: str) -> str:
    """A message in the citizen's words: any text is kept as written (it is always shown
    escaped), except invisible control characters."""
    value = raw or ""
    if _disallowed_controls(value, _TEXT_CONTROLS_ALLOWED):
        raise ValidationError(
            _(
                "El mensaje tiene caracteres invisibles de control (por ejemplo, al pegarlo "
                "desde otro programa). Escríbalo de nuevo o péguelo como texto simple."
            ),
            code="control_characters",
        )
    return value
