"""One error format for the whole API: ``{"message": str, "extra": {...}}`` with the right status.

Domain code raises ``ApplicationError`` (or Django's ``ValidationError``); DRF raises its own
``APIException`` subclasses. All of them come out the same way, so clients read one shape.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError
from django.http import Http404, JsonResponse
from django.urls import Resolver404, resolve, reverse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from annotator.exceptions import ApplicationError

logger = logging.getLogger(__name__)
#: Seconds a client is asked to wait before retrying after a database error.
DATABASE_RETRY_AFTER_S = 2


def _flatten(detail, prefix: str = "") -> list[str]:
    if isinstance(detail, dict):
        out: list[str] = []
        for key, value in detail.items():
            name = key if key != "non_field_errors" else ""
            out += _flatten(value, f"{prefix}{name}: " if name else prefix)
        return out
    if isinstance(detail, list):
        return [line for item in detail for line in _flatten(item, prefix)]
    return [f"{prefix}{detail}"]


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return Response({"message": exc.message, "extra": exc.extra}, status=exc.status_code)
    if isinstance(exc, DatabaseError):
        # Every write is one transaction (services are atomic), so a failed one stored nothing; the
        # editor retries 5xx answers. The details are for the log, not the client.
        logger.exception("database error in %s", context["request"].path if "request" in context else "a request")
        return Response(
            {"message": "the database failed during this request; nothing was saved, try again", "extra": {}},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)},
        )
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response(
            {"message": f"the request body is over the limit of {limit} bytes", "extra": {"limit_bytes": limit}},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, SuspiciousOperation):
        # Django's request limits (too many fields or files): the client's fault, said plainly.
        return Response({"message": str(exc) or "malformed request", "extra": {}}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        message = "; ".join(_flatten(exc.detail)) or "invalid input"
        response.data = {"message": message, "extra": {"fields": exc.detail}}
    else:
        detail = response.data.get("detail", str(exc)) if isinstance(response.data, dict) else str(exc)
        response.data = {"message": str(detail), "extra": {}}
    return response


def _is_api(request) -> bool:
    return request.path.startswith(reverse("api:root"))


def page_not_found(request, exception=None):
    """``handler404``, and the last route under /api/: a path no endpoint matches (``/api/tasks/abc/``) answers
    in the API's format, whether DEBUG is on or off."""
    if _is_api(request):
        message = f"no API endpoint at {request.path[:200]}"
        if not request.path.endswith("/") and _is_endpoint(request.path + "/"):
            message += f"; the endpoint is {request.path}/ (with the final slash)"
        return JsonResponse({"message": message, "extra": {}}, status=404)
    return defaults.page_not_found(request, exception)


def _is_endpoint(path: str) -> bool:
    try:
        return resolve(path).url_name != "not-found"
    except Resolver404:
        return False


def server_error(request):
    """``handler500``: an unexpected error answers in the API's format under /api/ (the details go to the log)."""
    if _is_api(request):
        return JsonResponse({"message": "internal server error; it has been logged", "extra": {}}, status=500)
    return defaults.server_error(request)
