"""Checks of what firms write, shared by the API's serializers, the site's forms and the import.

These are Django validators: a form field and a DRF field both run them and show their message at the field.
What they refuse is what breaks or deceives once the text is shown or sent on: a line break in a firm's name
ends up in a mail header (the digest then fails every week with BadHeaderError), a bidirectional override turns
the rest of a line around on screen ("Trojan source"), and a text made only of zero-width characters shows as
nothing at all.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, urlsplit, urlunsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

# Embeddings, overrides (U+202A–U+202E) and isolates (U+2066–U+2069).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# The control characters a text of several lines may keep. A browser sends a textarea's line breaks as CR LF,
# so a CR is kept when a LF follows it.
MULTI_LINE_CONTROLS = frozenset("\n\t")
# Line and paragraph separators are not control characters, but they break a line all the same.
LINE_SEPARATORS = frozenset("\u2028\u2029")


def _is_invisible(char: str) -> bool:
    # Zero-width space and joiners, word joiner, byte-order mark and the other format characters (Cf).
    return char.isspace() or unicodedata.category(char) == "Cf"


@deconstructible
class PlainTextValidator:
    """Refuse control characters (all of them on one line; all but line breaks and tabs in a text of several
    lines), bidirectional overrides and isolates, and a text made only of invisible characters."""

    def __init__(self, *, multi_line: bool = False) -> None:
        self.multi_line = multi_line

    def __call__(self, value: str) -> None:
        if not isinstance(value, str) or not value:
            return
        text = value.replace("\r\n", "\n") if self.multi_line else value
        allowed = MULTI_LINE_CONTROLS if self.multi_line else frozenset()
        if any(unicodedata.category(c) == "Cc" and c not in allowed for c in text) or (
            not self.multi_line and any(c in LINE_SEPARATORS for c in text)
        ):
            message = (
                _("Remove the control characters from this text; line breaks and tabs may stay.")
                if self.multi_line
                else _("Remove the line breaks and other control characters: this field is a single line.")
            )
            raise ValidationError(message, code="control_characters")
        if any(c in BIDI_CONTROLS for c in text):
            raise ValidationError(
                _(
                    "Remove the invisible characters that change the direction of the text (U+202A–U+202E, "
                    "U+2066–U+2069)."
                ),
                code="bidi_controls",
            )
        if all(_is_invisible(c) for c in text):
            raise ValidationError(
                _("Write something visible: this text is made only of invisible characters."), code="invisible"
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PlainTextValidator) and other.multi_line == self.multi_line


one_line_text = PlainTextValidator()
multi_line_text = PlainTextValidator(multi_line=True)


# --- websites ---------------------------------------------------------------------------------------------------

_SUB_DELIMS = "!$&'()*+,;="
_BROKEN_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _quote(text: str, safe: str) -> str:
    # Escapes already there stay; a % that starts none is a character of its own.
    return quote(_BROKEN_ESCAPE.sub("%25", text), safe=_SUB_DELIMS + safe + "%")


def website_to_uri(value: str) -> str:
    """A web address as a URI (RFC 3986), as the API's schema says a website is: an international domain name in
    its ASCII form (кремль.рф is xn--e1ajeds9e.xn--p1ai), other characters percent-encoded as UTF-8. A link
    made of it opens the same page; what cannot be read as an address is returned as it is, for the URL
    validator to refuse."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return value
    netloc = parts.netloc
    if not netloc.isascii():
        userinfo, at, host_port = netloc.rpartition("@")
        host, colon, port = host_port.partition(":")
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return value
        netloc = f"{_quote(userinfo, ':')}{at}{host}{colon}{port}"
    return urlunsplit(
        (
            parts.scheme,
            netloc,
            _quote(parts.path, ":@/"),
            _quote(parts.query, ":@/?"),
            _quote(parts.fragment, ":@/?"),
        )
    )


@deconstructible
class WebsiteValidator:
    """A firm's website: an http or https address without a user name or password (in a public profile,
    https://vcci.com.vn@other.example would lead elsewhere than it seems to)."""

    http_url = URLValidator(
        schemes=["http", "https"], message=_("Enter a website address that starts with http:// or https://.")
    )

    def __call__(self, value: str) -> None:
        self.http_url(value)
        if "@" in urlsplit(value).netloc:
            raise ValidationError(
                _("A website address has no user name or password before the domain."), code="userinfo"
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WebsiteValidator)


validate_website = WebsiteValidator()
