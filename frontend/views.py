"""Template views only: each page gets its data from a selector and renders it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie

from annotator import keypoints, selectors
from annotator.exceptions import NotFoundError


@login_required
def home(request):
    return render(
        request,
        "frontend/home.html",
        {"datasets": selectors.dataset_list(), "layout": keypoints.layout_json()},
    )


@login_required
def dataset_detail(request, name: str):
    try:
        dataset = selectors.dataset_get(name=name)
    except NotFoundError as exc:
        raise Http404(exc.message) from None
    return render(request, "frontend/dataset.html", {"overview": selectors.dataset_overview(dataset=dataset)})


def _api(path: str) -> str:
    return f"{reverse('api:root')}{path}"


@login_required
@ensure_csrf_cookie
def task_list(request):
    """The signed-in user's tasks and the "Start next" button; the list itself comes from the API."""
    urls = {"next": _api("tasks/next/"), "list": _api("tasks/"), "editor_prefix": reverse("frontend:tasks")}
    return render(request, "frontend/tasks.html", {"urls": urls})


def _shortcut_parts(names) -> list[dict]:
    # The editor focuses a part with the key of its first letter (panel.js focusKey).
    return [{"key": p[0], "label": p.replace("_", " ")} for p in names]


@login_required
@ensure_csrf_cookie
def task_editor(request, task_id: int):
    """The multi-view editor of one task; the page loads the task (layout included) from the API."""
    layout = keypoints.layout_json()
    config = {
        "task_id": task_id,
        "task_url": _api(f"tasks/{task_id}/"),
        "socket_path": f"/ws/tasks/{task_id}/",
        "user": request.user.get_username(),
    }
    context = {
        "task_id": task_id,
        "config": config,
        "focus_parts": _shortcut_parts(layout["focus_parts"]),
        "validity_parts": _shortcut_parts(layout["validity_parts"]),
    }
    return render(request, "frontend/editor.html", context)
