"""The citizen's time zone, from the country (and, where it has several, the region) of residence.

Reads tzdata's own `zone1970.tab`/`zone.tab`, the table the IANA database ships,
instead of keeping a list by hand.
"""

from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, available_timezones

ECUADOR_TZ = "America/Guayaquil"

# Regions whose zone differs from the country's first listed zone. Issue #6 asks
# the citizen when the country has several; until then these cover the largest
# communities abroad (USA, Spain).
REGION_ZONES = {
    "ES-CN": "Atlantic/Canary",
    "ES-GC": "Atlantic/Canary",
    "ES-TF": "Atlantic/Canary",
    **{
        f"US-{s}": "America/Chicago"
        for s in (
            "IL",
            "TX",
            "MN",
            "WI",
            "IA",
            "MO",
            "LA",
            "OK",
            "KS",
            "NE",
            "AR",
            "MS",
            "AL",
            "TN",
        )
    },
    **{f"US-{s}": "America/Denver" for s in ("CO", "UT", "NM", "WY", "MT")},
    "US-AZ": "America/Phoenix",
    **{f"US-{s}": "America/Los_Angeles" for s in ("CA", "WA", "OR", "NV")},
    "US-AK": "America/Anchorage",
    "US-HI": "Pacific/Honolulu",
}


@cache
def _country_zones() -> dict[str, list[str]]:
    zones: dict[str, list[str]] = {}
    table = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text()
    for line in table.splitlines():
        if not line or line.startswith("#"):
            continue
        country, _coords, zone = line.split("\t")[:3]
        zones.setdefault(country, []).append(zone)
    return zones


def residence_timezone(country: str, region: str = "") -> str:
    """The IANA zone for a place of residence; Ecuador's when the country is unknown."""
    if region in REGION_ZONES:
        return REGION_ZONES[region]
    zones = _country_zones().get(country.upper(), [])
    zone = zones[0] if zones else ECUADOR_TZ
    return zone if zone in available_timezones() else ECUADOR_TZ


def zoneinfo(name: str) -> ZoneInfo:
    return ZoneInfo(name)
