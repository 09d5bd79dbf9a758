"""What every page view shares: API URLs by name and the reviewers-only decorator (``annotator.access``)."""

from __future__ import annotations

import functools

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie

from annotator import access
from annotator.exceptions import NotFoundError

#: What an annotator reads on a reviewers' page (the styled 403 page shows it).
REVIEWERS_ONLY = "this page is for reviewers and admins"


#: The id ``url_prefix`` reverses a route with, then cuts off.
_PREFIX_PROBE = 1


def api_url(name: str, **kwargs) -> str:
    """The URL of the API endpoint ``name`` (``api:<name>``)."""
    return reverse(f"api:{name}", kwargs=kwargs or None)


def url_prefix(name: str, kwarg: str) -> str:
    """The URL of route ``name`` up to its last argument ``kwarg`` (``/frames/`` of ``/frames/<id>/``), for a
    page script that appends an id and ``/``; reversed, so the script follows the URLconf."""
    url = reverse(name, kwargs={kwarg: _PREFIX_PROBE})
    suffix = f"/{_PREFIX_PROBE}/"
    if not url.endswith(suffix):
        raise ValueError(f"route {name} does not end in <{kwarg}>/ ({url}); pass the script whole URLs instead")
    return url[: -len(suffix) + 1]


def reviewer_page(view):
    """Reviewers and admins only: anonymous users sign in first, annotators get the 403 page saying why."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not access.reviews(request.user):
            raise PermissionDenied(REVIEWERS_ONLY)
        return view(request, *args, **kwargs)

    return login_required(ensure_csrf_cookie(wrapped))


def or_404(get, **kwargs):
    """``get(**kwargs)``, with a selector's NotFoundError turned into the page's 404."""
    try:
        return get(**kwargs)
    except NotFoundError as exc:
        raise Http404(exc.message) from None
