"""Request parsers with a size limit checked before the body is parsed."""

from __future__ import annotations

from collections.abc import Callable

from rest_framework.parsers import MultiPartParser

from annotator.exceptions import ApplicationError


class UploadTooLargeError(ApplicationError):
    """A request body is over the endpoint's upload limit."""

    status_code = 413


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
