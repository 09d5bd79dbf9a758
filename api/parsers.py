"""Request parsers with limits checked before the body is parsed: bytes, and for JSON depth and values.

Every JSON request body goes through ``LimitedJSONParser`` (``DEFAULT_PARSER_CLASSES``), which reads at
most ``DATA_UPLOAD_MAX_MEMORY_SIZE`` + 1 bytes and parses them through ``annotator.jsonlimits``, so no
body can recurse (a RecursionError 500) or cost more memory than the limits allow.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable

from django.conf import settings
from rest_framework.parsers import JSONParser, MultiPartParser

from annotator import jsonlimits
from annotator.conf import option
from annotator.exceptions import ApplicationError


class UploadTooLargeError(ApplicationError):
    """A request body is over the endpoint's upload limit."""

    status_code = 413


def request_json_limits() -> jsonlimits.JSONLimits:
    """The limits of one JSON request body (read per request, so changed settings apply)."""
    return jsonlimits.JSONLimits(
        max_bytes=settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
        max_depth=option("JSON_MAX_DEPTH"),
        max_items=option("JSON_MAX_ITEMS"),
    )


class LimitedJSONParser(JSONParser):
    """DRF's JSON parser with the body's size, nesting depth and value count bounded (``annotator.jsonlimits``).

    Over the byte limit: 413 before anything is parsed; too deep, too many values, not UTF-8, not JSON,
    NaN or Infinity: 400 with the reason.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            utf8 = codecs.lookup(encoding).name == "utf-8"
        except LookupError:
            utf8 = False
        if not utf8:
            raise ApplicationError(f"JSON bodies must be UTF-8, not {encoding!r}", extra={"charset": str(encoding)})
        limits = request_json_limits()
        data = stream.read(limits.max_bytes + 1)
        if len(data) > limits.max_bytes:
            raise UploadTooLargeError(
                f"the request body is over the limit of {limits.max_bytes} bytes",
                extra={"limit_bytes": limits.max_bytes},
            )
        try:
            return jsonlimits.loads(data, limits, what="the request body")
        except jsonlimits.JSONLimitError as exc:
            raise ApplicationError(str(exc), extra={"reason": "json"}) from None


def limited_multipart(limit: Callable[[], int], what: str = "the upload") -> type[MultiPartParser]:
    """A ``MultiPartParser`` refusing, from its Content-Length alone, a body larger than ``limit()`` bytes.

    ``limit`` is read per request (a function, so a changed setting or module constant applies). The
    check spares parsing and writing a huge upload; a proxy in front should cap bodies as well.
    """

    class LimitedMultiPartParser(MultiPartParser):
        def parse(self, stream, media_type=None, parser_context=None):
            meta = parser_context["request"].META
            try:
                length = int(meta.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit():
                raise UploadTooLargeError(
                    f"{what} is {length / 1e6:.1f} MB; the limit is {limit() / 1e6:.1f} MB",
                    extra={"limit_bytes": limit()},
                )
            return super().parse(stream, media_type, parser_context)

    return LimitedMultiPartParser
