"""The de-identification gate: what an identifying column name or value looks like (HIPAA Safe Harbor).

Value patterns are RE2 syntax because DuckDB evaluates them over whole columns; the column-name gate
runs in Python over headers only.
"""

from __future__ import annotations

import re
from functools import cache

import pycountry

# Columns whose *name* says they hold one of Safe Harbor's identifiers. Checked on the normalised
# name (lower case, runs of non-alphanumerics as "_") of every column that is not in the contract.
_IDENTIFIER_NAME_PARTS = {
    "a person's name": r"(first|last|middle|given|family|full|patient|maiden|sur|nick|legal|preferred)_?name"
    r"|names?|surname|initials",
    "an email address": r"e_?mail(_?addr(ess)?)?",
    "a phone or fax number": r"(tele)?phone(_?(no|num(ber)?))?|tel|mobile|cell(_?phone)?|fax(_?(no|number))?",
    "a social security number": r"ssn|social_security(_?(no|num(ber)?))?|ss_?num(ber)?",
    "a medical record number": r"mrn|medical_?record(_?(no|num(ber)?))?|chart_?(no|num(ber)?)|med_?rec(_?no)?",
    "a street address": r"(street|home|mailing|postal)?_?addr(ess)?(_?(line)?_?\d)?|street|city|county|town",
    "a full ZIP code": r"zip(_?code)?|zip5|zip_?plus_?4|postal_?code|postcode",
    "a birth date": r"dob|birth_?(date|day)|date_?of_?birth|born(_on)?",
    "an account, plan or licence number": r"(account|acct|health_?plan|insurance|member|policy|licen[cs]e|"
    r"beneficiary)_?(id|no|num(ber)?)?",
    "a device, vehicle or network identifier": r"(device|vehicle|serial)_?(id|no|num(ber)?)|vin|ip(_?address)?|"
    r"url|mac_?address",
}
_NAME_GATE = [
    (kind, re.compile(rf"(^|_)({pattern})(_|$)")) for kind, pattern in _IDENTIFIER_NAME_PARTS.items()
]


def normalise_column_name(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def identifier_kind_of_column(name: str) -> str | None:
    """What identifier a column's name suggests it holds, or None when the name looks harmless."""
    normalised = normalise_column_name(name)
    return next((kind for kind, rx in _NAME_GATE if rx.search(normalised)), None)


# Values shaped like an identifier, in any free-text column (RE2 syntax, case-insensitive).
# Phone numbers need separators or a leading "+": ten bare digits may be a legitimate pseudonymous id.
VALUE_PATTERNS: dict[str, str] = {
    "value shaped like an email address": r"(?i)[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}",
    "value shaped like a social security number": r"(^|[^0-9])[0-9]{3}-[0-9]{2}-[0-9]{4}([^0-9]|$)",
    "value shaped like a phone number": r"(^|[^0-9])(\+[0-9]{1,3}[ .-]?)?(\([0-9]{3}\)[ .-]?|[0-9]{3}[ .-])"
    r"[0-9]{3}[ .-][0-9]{4}([^0-9]|$)|\+[0-9]{10,14}([^0-9]|$)",
}

# ZIP3 prefixes covering 20,000 people or fewer: Safe Harbor requires them written as 000.
RESTRICTED_ZIP3 = (
    "036", "059", "063", "102", "203", "556", "692", "790", "821", "823", "830", "831", "878", "879", "884",
    "890", "893",
)

MAX_AGE = 90  # Safe Harbor: ages over 89 are grouped as 90+

US_STATE_CODES = (
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA",
    "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK",
    "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "DC", "PR", "GU", "VI",
    "AS", "MP",
)


@cache
def allowed_regions() -> tuple[str, ...]:
    """Upper-cased region values that are no finer than a US state or a country."""
    names: set[str] = set(US_STATE_CODES)
    for subdivision in pycountry.subdivisions.get(country_code="US") or []:
        names.add(subdivision.name.upper())
    for country in pycountry.countries:
        names.update({country.alpha_2, country.alpha_3, country.name.upper()})
        for attr in ("official_name", "common_name"):
            if value := getattr(country, attr, None):
                names.add(value.upper())
    names.update({"USA", "US", "UNITED STATES OF AMERICA", "UK", "GREAT BRITAIN"})
    return tuple(sorted(names))
