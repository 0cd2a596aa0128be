"""Which of the service's three languages a text is written in.

The service only takes Vietnamese, Russian and English, and the three differ by script: Cyrillic
letters mean Russian, Vietnamese-only diacritics mean Vietnamese, plain Latin means English. That is
exact for this set of languages and needs no statistical model. The thresholds tolerate a Russian
text quoting a Latin brand name, or an English text naming a Vietnamese city.
"""

from __future__ import annotations

import unicodedata

LANGUAGES = ("vi", "ru", "en")

# Letters that occur in Vietnamese but not in English (base letters with Vietnamese marks, and đ).
_VIETNAMESE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323", "\u0302", "\u0306", "\u031b"}


def _is_vietnamese_letter(ch: str) -> bool:
    if ch in "đĐ":
        return True
    decomposed = unicodedata.normalize("NFD", ch)
    return len(decomposed) > 1 and any(mark in _VIETNAMESE_MARKS for mark in decomposed[1:])


def detect_language(text: str) -> str:
    letters = [ch for ch in text if ch.isalpha()]
    cyrillic = sum(1 for ch in letters if "\u0400" <= ch <= "\u04ff")
    if cyrillic >= 3 and cyrillic >= 0.2 * len(letters):
        return "ru"
    latin = [ch for ch in letters if ch.isascii() or "\u00c0" <= ch <= "\u1eff"]
    vietnamese = sum(1 for ch in latin if _is_vietnamese_letter(ch))
    if vietnamese >= 3 and vietnamese >= 0.03 * max(len(latin), 1):
        return "vi"
    return "en"
