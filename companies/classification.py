"""Registration activity codes (VSIC 2018 in Vietnam, OKVED2 in Russia) and their ISIC Rev.4 division.

Both classifications keep ISIC Rev.4's sections and 2-digit divisions; below the division their codes
differ, so a code maps to ISIC only at division level (see shared/notes/domain-facts.md).
"""

from __future__ import annotations

import re

UNUSED_DIVISIONS = frozenset({"00", "04", "34", "40", "44", "48", "54", "57", "67", "76", "83", "89"})
DIVISION_RE = re.compile(r"^\d{2}$")
VSIC_RE = re.compile(r"^\d{2,5}$")
OKVED_RE = re.compile(r"^\d{2}(?:\.\d{1,2}(?:\.\d{1,2})?)?$")

ACTIVITY_CODE_FORMATS = {
    "VN": (VSIC_RE, "VSIC 2018: 2 to 5 digits, such as 2100"),
    "RU": (OKVED_RE, "OKVED2: NN, NN.N, NN.NN, NN.NN.N or NN.NN.NN, such as 21.20"),
}


class ActivityCodeError(ValueError):
    pass


def is_isic_division(code: str) -> bool:
    return bool(DIVISION_RE.match(code)) and code not in UNUSED_DIVISIONS


def division_of(activity_code: str, country: str) -> str:
    """Return the ISIC Rev.4 division of a registration code, or raise ActivityCodeError saying why."""
    try:
        pattern, description = ACTIVITY_CODE_FORMATS[country]
    except KeyError:
        raise ActivityCodeError(f"Unknown country {country!r}: expected VN or RU.") from None
    if not pattern.match(activity_code):
        raise ActivityCodeError(f"{activity_code!r} is not a {country} activity code ({description}).")
    division = activity_code[:2]
    if not is_isic_division(division):
        raise ActivityCodeError(f"{activity_code!r} starts with {division}, which is not an ISIC Rev.4 division.")
    return division
