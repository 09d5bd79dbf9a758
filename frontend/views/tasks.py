"""The annotator's pages: their task list, the multi-view editor and the FBI labeller.

A task the user may not see (another annotator's, or none at all) is the same 404 on every page, so a
page never tells an annotator that someone else's task exists; each page sends a task of the other kind
to the page of its kind.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie

from annotator import access, selectors
from annotator.models import Task
from annotator.selectors import queues
from api.routing import socket_path
from frontend.forms import TaskFilterForm
from frontend.views.common import api_url, or_404

#: Tasks listed per page.
TASKS_PER_PAGE = 50


def task_list_context(request, *, default_status: str = "") -> dict:
    """The filter form and one page of the tasks it selects (shared by the task list and the review queue)."""
    form = TaskFilterForm(request.GET, choices=queues.task_filter_choices(user=request.user),
                          default_status=default_status)  # fmt: skip
    rows = queues.task_rows(user=request.user, filters=form.filters())
    page = Paginator(rows, TASKS_PER_PAGE).get_page(request.GET.get("page"))
    for task in page:
        task.comment_shown = queues.review_comment_shown(task)
    query = request.GET.copy()
    query.pop("page", None)
    return {"form": form, "filter_error": form.error_text(), "page": page, "query": query.urlencode(),
            "sees_all": access.reviews(request.user)}  # fmt: skip


@never_cache  # a list reached with the back button shows today's statuses, not the cached page's
@login_required
@ensure_csrf_cookie
def task_list(request):
    """The signed-in user's tasks (everybody's for reviewers), filtered and sorted, and "Start next"."""
    context = task_list_context(request)
    context["urls"] = {"next": api_url("task-next")}
    return render(request, "frontend/tasks.html", context)


def _shortcut_parts(names) -> list[dict]:
    # The editor focuses a part with the key of its first letter (panel.js focusKey).
    return [{"key": p[0], "label": p.replace("_", " ")} for p in names]


@login_required
@ensure_csrf_cookie
def task_editor(request, task_id: int):
    """The multi-view editor of one task; the page loads the task (layout included) from the API."""
    task = or_404(selectors.task_get_for, user=request.user, task_id=task_id)
    if task.kind == Task.Kind.FBI:
        return redirect("frontend:fbi", task_id=task.pk)
    # The shortcut help lists the task's dataset layout's parts (a body-only layout has no face or hand keys).
    layout = selectors.task_layout(task)
    config = {
        "task_id": task.pk,
        "task_url": api_url("task-detail", task_id=task.pk),
        "next_url": api_url("task-next"),
        "tasks_url": reverse("frontend:tasks"),
        "socket_path": socket_path("task", task_id=task.pk),
        "user": request.user.get_username(),
    }
    context = {
        "task_id": task.pk,
        "config": config,
        "focus_parts": _shortcut_parts(layout.focus_parts),
        "validity_parts": _shortcut_parts(layout.validity_parts),
    }
    return render(request, "frontend/editor.html", context)


@login_required
@ensure_csrf_cookie
def fbi_labeller(request, task_id: int):
    """The forward/backward bone labeller of one FBI task; the page loads the task from the API."""
    task = or_404(selectors.task_get_for, user=request.user, task_id=task_id)
    if task.kind != Task.Kind.FBI:
        return redirect("frontend:editor", task_id=task.pk)
    config = {
        "task_id": task.pk,
        "task_url": api_url("task-fbi", task_id=task.pk),
        "next_url": api_url("task-next"),
        "tasks_url": reverse("frontend:tasks"),
    }
    return render(request, "frontend/fbi.html", {"config": config, "task_id": task.pk})
