"""The API's JSON renderer: DRF's output, written by orjson.

A directory page of twenty firms takes DRF's renderer (``json.dumps`` with its encoder) about 120 µs and orjson
about 13 µs, and a page kept in the cache (companies/directory_cache.py) costs little more than its rendering.
The bytes are DRF's own: compact, UTF-8, U+2028 and U+2029 escaped, and every value orjson does not write as
``json.dumps`` would (dates and times, decimals, lazy translations, dataclasses, numbers beyond 64 bits)
goes to DRF's encoder or, for anything orjson refuses, to DRF's renderer itself; so does an indented answer.
One difference: a NaN or an infinity, which DRF refuses (a server error), is written as null.
"""

from __future__ import annotations

import orjson
from rest_framework import renderers
from rest_framework.utils.encoders import JSONEncoder

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_DRF_VALUE = JSONEncoder().default  # stateless: what DRF's encoder makes of a value json cannot write


class JSONRenderer(renderers.JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None or self.ensure_ascii or not self.compact or not self.strict:
            return super().render(data, accepted_media_type, renderer_context)  # settings orjson does not follow
        if self.get_indent(accepted_media_type, renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            rendered = orjson.dumps(data, default=_DRF_VALUE, option=_OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        # As DRF does, so that the output is a strict subset of JavaScript.
        return rendered.replace("\u2028".encode(), b"\\u2028").replace("\u2029".encode(), b"\\u2029")
