"""The roles people play, as Django groups: annotators correct, reviewers audit, admins manage.

Admins are Django staff/superusers; the other roles are group memberships, so an administrator
can grant them in the admin without code. What a role may do is ``annotator.access``, which asks
``user_role``; nothing else compares group names.
"""

from __future__ import annotations

ANNOTATOR = "annotator"
REVIEWER = "reviewer"
ADMIN = "admin"
ROLES: tuple[str, ...] = (ANNOTATOR, REVIEWER, ADMIN)
#: Group that carries each non-admin role.
GROUPS: dict[str, str] = {ANNOTATOR: "annotators", REVIEWER: "reviewers"}


def user_role(user) -> str | None:
    """The strongest role of ``user`` (admin > reviewer > annotator), or None for anonymous/no role."""
    if not getattr(user, "is_authenticated", False):
        return None
    if user.is_superuser or user.is_staff:
        return ADMIN
    names = set(user.groups.values_list("name", flat=True))
    if GROUPS[REVIEWER] in names:
        return REVIEWER
    if GROUPS[ANNOTATOR] in names:
        return ANNOTATOR
    return None
