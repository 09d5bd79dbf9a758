"""Permission classes by role (``annotator.roles``); object-level visibility lives in the selectors."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from annotator import roles


class IsReviewer(BasePermission):
    """Reviewers and admins."""

    message = "only reviewers and admins can review tasks"

    def has_permission(self, request, view) -> bool:
        return roles.user_role(request.user) in (roles.REVIEWER, roles.ADMIN)
