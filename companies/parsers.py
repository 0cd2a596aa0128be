"""The API's JSON parser: DRF's own, with a body nested deeper than Python's decoder goes answered as a 400."""

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSONParser turns malformed JSON into a 400 but not a RecursionError, which the decoder raises for a
    document nested a thousand levels or so deep (a few kilobytes of brackets): that was a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("JSON parse error - the document is nested too deeply.")) from None
