"""The citizen's time zone, from the country (and, where it has several, the region) of residence.

Reads tzdata's own `zone.tab`, the table the IANA database ships, instead of keeping a
list by hand. Zones of one country that keep the same clock (Madrid and Ceuta, New York
and Detroit) count as one: a country "has several zones" only when its clocks differ.
When they differ and the region of residence does not settle which one applies, the
booking page asks the citizen (`residence_timezone_decided` returns None).
"""

import datetime as dt
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, available_timezones

from django.utils.translation import gettext_lazy as _

ECUADOR_TZ = "America/Guayaquil"

_US_EASTERN = ("CT", "DC", "DE", "GA", "MA", "MD", "ME", "NC", "NH", "NJ", "NY", "OH", "PA")
_US_EASTERN += ("RI", "SC", "VA", "VT", "WV")
_US_CENTRAL = ("AL", "AR", "IA", "IL", "KS", "LA", "MN", "MO", "MS", "ND", "NE", "OK", "SD")
_US_CENTRAL += ("TN", "TX", "WI")

# The zone of a region (ISO 3166-2, as the request form stores it) in countries whose
# clocks differ. For the regions in AMBIGUOUS_REGIONS it is only the likeliest answer.
REGION_ZONES = {
    "ES-CN": "Atlantic/Canary",
    "ES-GC": "Atlantic/Canary",
    "ES-TF": "Atlantic/Canary",
    "PT-20": "Atlantic/Azores",
    **{f"US-{s}": "America/New_York" for s in _US_EASTERN},
    **{f"US-{s}": "America/Chicago" for s in _US_CENTRAL},
    **{f"US-{s}": "America/Denver" for s in ("CO", "ID", "MT", "NM", "UT", "WY")},
    "US-AZ": "America/Phoenix",
    **{f"US-{s}": "America/Los_Angeles" for s in ("CA", "NV", "OR", "WA")},
    **{f"US-{s}": "America/New_York" for s in ("FL", "IN", "KY", "MI")},
    "US-AK": "America/Anchorage",
    "US-HI": "Pacific/Honolulu",
    "CA-AB": "America/Edmonton",
    "CA-BC": "America/Vancouver",
    "CA-MB": "America/Winnipeg",
    "CA-NB": "America/Halifax",
    "CA-NL": "America/St_Johns",
    "CA-NS": "America/Halifax",
    "CA-ON": "America/Toronto",
    "CA-PE": "America/Halifax",
    "CA-QC": "America/Toronto",
    "CA-SK": "America/Regina",
    "CA-YT": "America/Whitehorse",
    "AU-ACT": "Australia/Sydney",
    "AU-NSW": "Australia/Sydney",
    "AU-NT": "Australia/Darwin",
    "AU-QLD": "Australia/Brisbane",
    "AU-SA": "Australia/Adelaide",
    "AU-TAS": "Australia/Hobart",
    "AU-VIC": "Australia/Melbourne",
    "AU-WA": "Australia/Perth",
}
# States split between two clocks (the Florida panhandle, western Kentucky, El Paso...):
# the region suggests a zone, the citizen confirms it.
AMBIGUOUS_REGIONS = frozenset(
    f"US-{s}" for s in ("FL", "ID", "IN", "KS", "KY", "MI", "ND", "NE", "OR", "SD", "TN", "TX")
)
# Countries where every region not in REGION_ZONES keeps the main zone's clock.
MAIN_ZONE_UNLESS_LISTED = frozenset({"ES", "PT"})
# The zone most residents of a country live in (zone.tab lists St John's first for
# Canada and Lord Howe for Australia).
MAIN_ZONES = {
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "CA": "America/Toronto",
    "CL": "America/Santiago",
    "ES": "Europe/Madrid",
    "MX": "America/Mexico_City",
    "PT": "Europe/Lisbon",
    "RU": "Europe/Moscow",
    "US": "America/New_York",
}

# Readable names of the zones offered when the citizen is asked.
ZONE_LABELS = {
    "America/New_York": _("Hora del Este (Nueva York)"),
    "America/Chicago": _("Hora del Centro (Chicago)"),
    "America/Denver": _("Hora de la Montaña (Denver)"),
    "America/Phoenix": _("Arizona, sin horario de verano (Phoenix)"),
    "America/Los_Angeles": _("Hora del Pacífico (Los Ángeles)"),
    "America/Anchorage": _("Alaska (Anchorage)"),
    "America/Adak": _("Islas Aleutianas (Adak)"),
    "Pacific/Honolulu": _("Hawái (Honolulu)"),
    "Europe/Madrid": _("Península, Baleares, Ceuta y Melilla (Madrid)"),
    "Atlantic/Canary": _("Canarias"),
    "Europe/Lisbon": _("Portugal continental y Madeira (Lisboa)"),
    "Atlantic/Azores": _("Azores"),
    "America/St_Johns": _("Terranova (St. John's)"),
    "America/Halifax": _("Hora del Atlántico (Halifax)"),
    "America/Toronto": _("Hora del Este (Toronto, Montreal)"),
    "America/Winnipeg": _("Hora del Centro (Winnipeg)"),
    "America/Regina": _("Saskatchewan (Regina)"),
    "America/Edmonton": _("Hora de la Montaña (Edmonton, Calgary)"),
    "America/Vancouver": _("Hora del Pacífico (Vancouver)"),
    "America/Mexico_City": _("Hora del Centro (Ciudad de México)"),
    "America/Cancun": _("Quintana Roo (Cancún)"),
    "America/Tijuana": _("Baja California (Tijuana)"),
    "America/Sao_Paulo": _("Hora de Brasilia (São Paulo)"),
    "America/Manaus": _("Amazonas (Manaos)"),
    "Australia/Sydney": _("Nueva Gales del Sur, Victoria, Tasmania (Sídney)"),
    "Australia/Brisbane": _("Queensland (Brisbane)"),
    "Australia/Adelaide": _("Australia Meridional (Adelaida)"),
    "Australia/Darwin": _("Territorio del Norte (Darwin)"),
    "Australia/Perth": _("Australia Occidental (Perth)"),
    "Europe/Moscow": _("Hora de Moscú"),
    ECUADOR_TZ: _("Ecuador continental (Guayaquil, Quito)"),
}

# Places as a Spanish reader names them ("10:00 en Nueva York").
PLACE_NAMES = {
    "America/New_York": _("Nueva York"),
    "America/Los_Angeles": _("Los Ángeles"),
    "America/Mexico_City": _("Ciudad de México"),
    "America/Sao_Paulo": _("São Paulo"),
    "Atlantic/Canary": _("Canarias"),
    "Atlantic/Azores": _("Azores"),
    "Europe/London": _("Londres"),
    "Europe/Rome": _("Roma"),
    "Europe/Lisbon": _("Lisboa"),
    "Europe/Paris": _("París"),
    "Europe/Berlin": _("Berlín"),
    "Europe/Brussels": _("Bruselas"),
    "Europe/Zurich": _("Zúrich"),
    "Europe/Amsterdam": _("Ámsterdam"),
    "Europe/Moscow": _("Moscú"),
    "Australia/Sydney": _("Sídney"),
    "America/Guayaquil": _("Ecuador"),
}


@cache
def _country_zones() -> dict[str, list[str]]:
    zones: dict[str, list[str]] = {}
    known = available_timezones()
    table = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text()
    for line in table.splitlines():
        if not line or line.startswith("#"):
            continue
        country, _coords, zone = line.split("\t")[:3]
        if zone in known:
            zones.setdefault(country, []).append(zone)
    return zones


@cache
def _clock(zone: str, year: int) -> tuple:
    """The UTC offsets of a zone at noon UTC on every day of two years from January `year`:
    two zones with the same tuple keep the same clock, summer time included."""
    tz = ZoneInfo(zone)
    start = dt.datetime(year, 1, 1, 12, tzinfo=dt.UTC)
    return tuple((start + dt.timedelta(days=d)).astimezone(tz).utcoffset() for d in range(0, 731))


def country_zones(country: str) -> list[str]:
    """The distinct clocks of a country, one zone each, the main one first."""
    code = (country or "").upper()
    zones = _country_zones().get(code, [])
    main = MAIN_ZONES.get(code, zones[0] if zones else None)
    # The main zone, then those with a readable name, stand for their clock.
    ordered = sorted(zones, key=lambda z: (z != main, z not in ZONE_LABELS, zones.index(z)))
    year = dt.datetime.now(dt.UTC).year
    clocks: dict[tuple, str] = {}
    for zone in ordered:
        clocks.setdefault(_clock(zone, year), zone)
    chosen = set(clocks.values())
    return [z for z in ordered[:1] if z in chosen] + [
        z for z in zones if z in chosen and z not in ordered[:1]
    ]


def residence_timezone(country: str, region: str = "") -> str:
    """The IANA zone for a place of residence: the region's, else the country's main one;
    Ecuador's when the country is unknown."""
    if region in REGION_ZONES:
        return REGION_ZONES[region]
    zones = country_zones(country)
    return zones[0] if zones else ECUADOR_TZ


def residence_timezone_decided(country: str, region: str = "") -> str | None:
    """The zone when the residence settles it; None when the country keeps several clocks
    and the region does not say which (then the citizen is asked)."""
    zones = country_zones(country)
    if len(zones) <= 1:
        return zones[0] if zones else ECUADOR_TZ
    if region in AMBIGUOUS_REGIONS:
        return None
    if region in REGION_ZONES:
        return REGION_ZONES[region]
    if (country or "").upper() in MAIN_ZONE_UNLESS_LISTED:
        return zones[0]
    return None


def utc_offset_label(zone: str, at: dt.datetime | None = None) -> str:
    offset = (at or dt.datetime.now(dt.UTC)).astimezone(ZoneInfo(zone)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "−"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def zone_place(zone: str) -> str:
    """Where a zone's clock is read, as a Spanish reader says it: "Madrid", "Nueva York"."""
    if zone in PLACE_NAMES:
        return str(PLACE_NAMES[zone])
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def zone_label(zone: str) -> str:
    """A readable name for a zone: "Hora del Este (Nueva York)", or its main place."""
    return str(ZONE_LABELS.get(zone, zone_place(zone)))


def zone_choices(country: str) -> list[tuple[str, str]]:
    """What the booking page offers when it asks: the country's clocks, with the offset
    they have today, and Ecuador's."""
    zones = [*country_zones(country)]
    if ECUADOR_TZ not in zones:
        zones.append(ECUADOR_TZ)
    return [(z, f"{zone_label(z)} · {utc_offset_label(z)}") for z in zones]


def zoneinfo(name: str) -> ZoneInfo:
    return ZoneInfo(name)
