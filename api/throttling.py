"""Throttling every way of proving a password (the token endpoint, /accounts/login/, /admin/login/) by the
client's real address, with one budget per address shared by all three.

The address is the TCP peer (``REMOTE_ADDR``) unless ``REST_FRAMEWORK["NUM_PROXIES"]`` (``DJANGO_NUM_PROXIES``,
default 0) says how many trusted proxies stand in front: then it is the address the outermost trusted proxy
saw, the ``NUM_PROXIES``-th from the right of ``X-Forwarded-For``. With the default nothing the client
sends can change it (DRF alone, without ``NUM_PROXIES``, would key on the whole client-supplied header).

The count is a fixed-window counter in Django's cache (``cache.add`` + ``cache.incr``: atomic in Redis,
which several web processes share, and in the in-process cache of the single embedded process).
"""

from __future__ import annotations

import functools
import math
import time

from django.core.cache import cache
from django.http import HttpResponse
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

#: The rate's name in ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]``.
SCOPE = "password"
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
THROTTLED_PAGE = (
    "<!doctype html><title>Too many attempts</title><h1>Too many sign-in attempts</h1>"
    "<p>Too many passwords were tried from your address. Try again in {wait} seconds.</p>"
)


def parse_rate(rate: str) -> tuple[int, int]:
    """``"20/min"`` -> (20, 60): attempts and the window in seconds (s, m, h, d by their first letter)."""
    try:
        count, period = rate.split("/")
        return int(count), _PERIODS[period.strip()[0].lower()]
    except (ValueError, KeyError, IndexError):
        raise ValueError(f"a throttle rate looks like 20/min or 100/hour, got {rate!r}") from None


def client_address(request) -> str:
    """The client's address as far as it can be trusted (see the module docstring)."""
    return BaseThrottle().get_ident(request)


def password_attempt(request) -> float | None:
    """Count one password attempt from the request's client; None if it is allowed, else seconds to wait."""
    count, window = parse_rate(api_settings.DEFAULT_THROTTLE_RATES[SCOPE])
    now = time.time()
    start = math.floor(now / window) * window
    key = f"throttle:{SCOPE}:{client_address(request)}:{int(start)}"
    cache.add(key, 0, timeout=window + 1)
    try:
        attempts = cache.incr(key)
    except ValueError:  # expired between add and incr: this is the first attempt of a new window
        cache.add(key, 1, timeout=window + 1)
        attempts = 1
    if attempts <= count:
        return None
    return max(1.0, start + window - now)


class PasswordRateThrottle(BaseThrottle):
    """DRF throttle of the token endpoint: ``password_attempt`` for every request."""

    def allow_request(self, request, view) -> bool:
        # Only a POST carries a password; other methods are answered 405 without counting.
        self._wait = password_attempt(request) if request.method == "POST" else None
        return self._wait is None

    def wait(self) -> float | None:
        return self._wait


def password_throttled(view):
    """Wrap a Django view that checks passwords on POST (the login pages): a throttled attempt is a 429
    page with ``Retry-After``, and the password is not looked at."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method == "POST":
            wait = password_attempt(request)
            if wait is not None:
                seconds = math.ceil(wait)
                response = HttpResponse(THROTTLED_PAGE.format(wait=seconds), status=429)
                response["Retry-After"] = str(seconds)
                return response
        return view(request, *args, **kwargs)

    return wrapped
