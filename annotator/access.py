"""Who may see and do what, owned once: the rules that follow from a role, and the querysets they scope.

``annotator.roles`` says who someone is (admin, reviewer, annotator); this module says what that lets them
do. Reviewers and admins see every task, view, job and study and alone review; everyone else sees the tasks
assigned to them and the views of those tasks' frames. Only a task's assignee edits it, and only while it is
open. Selectors, services, the API's permission classes, the pages, the template context and the websocket
consumers all ask here, so changing a rule is one edit and its tests (tests/annotator/test_access.py).
"""

from __future__ import annotations

from django.db.models import QuerySet

from annotator import roles
from annotator.models import Task, View

#: The roles that see everything and review (the "reviewer or admin" rule).
REVIEWING_ROLES: tuple[str, ...] = (roles.REVIEWER, roles.ADMIN)


def role_reviews(role: str | None) -> bool:
    """Whether ``role`` (a ``roles.user_role`` value) sees everything and may review; for callers that
    already hold the role and should not look it up again."""
    return role in REVIEWING_ROLES


def reviews(user) -> bool:
    """Whether ``user`` is a reviewer or an admin: sees every task, view, job and study, and may review."""
    return role_reviews(roles.user_role(user))


def tasks_visible_to(*, user) -> QuerySet[Task]:
    """The tasks ``user`` may see: all of them for reviewers and admins, else those assigned to ``user``
    (none for an anonymous user)."""
    if reviews(user):
        return Task.objects.all()
    if not getattr(user, "is_authenticated", False):
        return Task.objects.none()
    return Task.objects.filter(assignee=user)


def task_visible(*, user, task: Task) -> bool:
    """Whether ``user`` may see ``task`` (a row with at least ``assignee_id``).

    The assignee is checked first: it needs no query, and it is the hot path (every correction); the role is
    looked up only for someone else's task.
    """
    return task.assignee_id == user.pk or reviews(user)


def views_visible_to(*, user) -> QuerySet[View]:
    """The views ``user`` may see the images of: all for reviewers and admins, else the views of frames on
    which ``user`` has a task."""
    if reviews(user):
        return View.objects.all()
    if not getattr(user, "is_authenticated", False):
        return View.objects.none()
    return View.objects.filter(frame__tasks__assignee=user).distinct()


def task_editable_by(*, user, task: Task) -> bool:
    """Whether ``user`` may write to ``task`` now: its assignee, while it is open (to do, in progress,
    rejected). An edit lock held by another session narrows this further (``services.tasks``)."""
    return task.assignee_id == user.pk and task.is_editable
