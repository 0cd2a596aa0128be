"""Cells that a spreadsheet would run as a formula (CSV or formula injection), escaped the way OWASP recommends:
a leading single quote makes the cell text. The importers undo it, so an export read back loses nothing.

django-import-export's IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT only strips a leading ``=`` (a name loses a
character for good, and ``+``, ``-``, ``@`` pass), and defusedcsv cannot be undone either, hence these few lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# OWASP, CSV Injection: cells must not begin with these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A number or a phone number ("+84 24 1234 5678", "-", "-12.5", "(495) 123-45-67") cannot call a function or
# reach another cell or program, so it is left readable; anything with a letter, "|", "!", "=" or "@" is not.
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9 ().-]+")


def _needs_quote(text: str) -> bool:
    # Quotes in front of a dangerous start are looked through: "'=x" is written "''=x", so that removing one
    # quote on import gives back exactly what was written.
    bare = text.lstrip("'")
    return bare.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(bare)


def escape_formula(value: Any) -> Any:
    """The cell as a spreadsheet should show it: text that would start a formula gets a leading quote."""
    if isinstance(value, str) and _needs_quote(value):
        return "'" + value
    return value


def unescape_formula(value: Any) -> Any:
    """Undo :func:`escape_formula` on a value read from a spreadsheet file."""
    if isinstance(value, str) and value.startswith("'") and _needs_quote(value[1:]):
        return value[1:]
    return value


def escape_row(values: Iterable[Any]) -> list[Any]:
    return [escape_formula(value) for value in values]
