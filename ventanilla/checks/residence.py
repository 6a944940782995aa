"""The ways a citizen may say where they live, for matching the spoken statement.

A Madrid resident may say "España, Madrid" or "Spain, Comunidad de Madrid"; a
New Jersey resident "Estados Unidos, Nueva Jersey". pycountry ships the ISO 3166
names and their Spanish translations; the city is what the citizen typed.
"""

import gettext
from functools import cache

import pycountry


@cache
def _spanish(domain: str) -> gettext.NullTranslations:
    try:
        return gettext.translation(domain, pycountry.LOCALES_DIR, languages=["es"])
    except OSError:
        return gettext.NullTranslations()


def _variants(name: str) -> list[str]:
    """'Madrid, Comunidad de' also as 'Comunidad de Madrid' and 'Madrid'."""
    out = [name]
    if ", " in name:
        head, tail = name.split(", ", 1)
        out += [f"{tail} {head}", head]
    return out


def _unique(names) -> list[str]:
    seen: dict[str, None] = {}
    for name in names:
        if name and name.strip():
            seen.setdefault(name.strip(), None)
    return list(seen)


def spoken_names(country: str, region: str, city: str) -> list[list[str]]:
    """[country names, region names, city names], each with the Spanish name first."""
    countries: list[str] = []
    entry = pycountry.countries.get(alpha_2=country)
    if entry is not None:
        countries += [_spanish("iso3166-1").gettext(entry.name), entry.name]
        countries += [getattr(entry, "common_name", ""), getattr(entry, "official_name", "")]
    regions: list[str] = []
    subdivision = pycountry.subdivisions.get(code=region) if "-" in (region or "") else None
    while subdivision is not None:
        for name in (_spanish("iso3166-2").gettext(subdivision.name), subdivision.name):
            regions += _variants(name)
        parent = getattr(subdivision, "parent_code", None)
        subdivision = pycountry.subdivisions.get(code=parent) if parent else None
    if not regions and region:
        regions.append(region)
    return [_unique(countries) or [country], _unique(regions), _unique([city])]


def residence_names(values) -> tuple[str, str, str]:
    """(country, region, city) of residence by their Spanish names, as the request form
    prints them and the statement says them: the ISO 3166 codes the form stores are named
    as the statement check expects them to be spoken; a region typed as text stays as
    typed."""
    country, region, city = (
        " ".join(str(values.get(name) or "").split())
        for name in ("residence_country", "residence_region", "residence_city")
    )
    countries, regions, _ = spoken_names(country, region, city)
    return (countries[0] if countries else country), (regions[0] if regions else region), city
