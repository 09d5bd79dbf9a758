"""Permission classes by role (``annotator.access``); object-level visibility lives in the selectors, which
scope their querysets through the same module."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from annotator import access


class IsReviewer(BasePermission):
    """Reviewers and admins."""

    message = "only reviewers and admins can review tasks"

    def has_permission(self, request, view) -> bool:
        return access.reviews(request.user)
