"""Template views only: each page gets its data from a selector and renders it."""

from __future__ import annotations

import functools

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie

from annotator import evaluation, keypoints, roles, selectors
from annotator.exceptions import ApplicationError, NotFoundError
from annotator.exporters import FORMATS
from annotator.exporters.versions import NAMED_VERSIONS


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
    if selectors.task_is_fbi(task_id=task_id):
        return redirect("frontend:fbi", task_id=task_id)
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


@login_required
@ensure_csrf_cookie
def fbi_labeller(request, task_id: int):
    """The forward/backward bone labeller of one FBI task; the page loads the task from the API."""
    config = {
        "task_id": task_id,
        "task_url": _api(f"tasks/{task_id}/fbi/"),
        "next_url": _api("tasks/next/"),
        "tasks_url": reverse("frontend:tasks"),
    }
    return render(request, "frontend/fbi.html", {"config": config, "task_id": task_id})


@login_required
@ensure_csrf_cookie
def exports(request):
    """Reviewers' exports (the list and the form talk to the API) and the evaluation of an uploaded predictions file."""
    if roles.user_role(request.user) not in (roles.REVIEWER, roles.ADMIN):
        raise PermissionDenied("only reviewers and admins can export and evaluate")
    form = {"dataset": "", "version": "dataset", "task": ""}
    report, error = None, ""
    if request.method == "POST":
        form = {key: request.POST.get(key, default) for key, default in form.items()}
        upload = request.FILES.get("predictions")
        try:
            if upload is None:
                raise ApplicationError("choose a predictions file")
            report = evaluation.evaluate_upload(upload=upload, dataset_name=form["dataset"], version=form["version"],
                                                task=form["task"] or None)  # fmt: skip
        except ApplicationError as exc:
            error = exc.message
    context = {
        "urls": {"exports": _api("exports/")},
        "datasets": selectors.dataset_list(),
        "formats": FORMATS,
        "versions": NAMED_VERSIONS,
        "tasks": evaluation.TASKS,
        "form": form,
        "max_upload_mb": evaluation.MAX_PREDICTIONS_BYTES // (1024 * 1024),
        "report": report,
        "rows": evaluation.report_rows(report) if report else [],
        "columns": [label for _, label in evaluation.COLUMNS],
        "evaluation_error": error,
    }
    return render(request, "frontend/exports.html", context, status=400 if error else 200)


# --- the reviewer dashboard: studies, their cross-check reports, and the review mode of a task ------


def _reviewer_page(view):
    """Reviewers and admins only: anonymous users sign in first, annotators go back to their tasks."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if roles.user_role(request.user) not in (roles.REVIEWER, roles.ADMIN):
            return redirect("frontend:tasks")
        return view(request, *args, **kwargs)

    return login_required(ensure_csrf_cookie(wrapped))


def _quality_config() -> dict:
    """What the dashboard's quality section talks to (quality-dashboard.js)."""
    from annotator.models import Skeleton3D
    from annotator.selectors.quality import QUALITY_JOB_KIND

    return {
        "score_url": _api("jobs/score/"),
        "jobs_url": _api("jobs/"),
        "report_prefix": _api("datasets/"),
        "socket_path": "/ws/jobs/",
        "job_kind": QUALITY_JOB_KIND,
        "sources": [{"value": v, "label": label} for v, label in Skeleton3D.Source.choices],
        "default_source": Skeleton3D.Source.DATASET,
    }


@_reviewer_page
def review_dashboard(request):
    """The studies and the form that creates one (both talk to /api/studies/)."""
    from annotator.selectors.studies import study_form_options
    from annotator.services.fbi_labels import SOURCE_CHOICES
    from ml_services.fbi import DEFAULT_UNKNOWN_TILT_DEG

    config = {"studies_url": _api("studies/"), "options": study_form_options()}
    config["fbi"] = {
        "jobs_url": _api("jobs/fbi/"),
        "agreement_url": _api("fbi/agreement/"),
        "depth_error_tasks_url": _api("fbi/depth-errors/tasks/"),
        "socket_path": "/ws/jobs/",
        "bone_subsets": list(keypoints.BONE_SUBSETS),
        "sources": list(SOURCE_CHOICES),
        "unknown_tilt_deg": DEFAULT_UNKNOWN_TILT_DEG,
    }
    config["quality"] = _quality_config()
    return render(request, "frontend/review_dashboard.html", {"config": config})


@_reviewer_page
def review_study(request, study_id: int):
    """One study's cross-check report: the H3WB table, histograms, bar charts and the frames table."""
    config = {
        "study_id": study_id,
        "report_url": _api(f"studies/{study_id}/report/"),
        "frames_url": _api(f"studies/{study_id}/frames/"),
        "dashboard_url": reverse("frontend:review"),
    }
    return render(request, "frontend/review_study.html", {"config": config, "study_id": study_id})


@_reviewer_page
def review_task(request, task_id: int):
    """The read-only review mode of a task: before/after skeletons, displacements, history, accept or reject."""
    config = {
        "task_id": task_id,
        "task_url": _api(f"tasks/{task_id}/"),
        "history_url": _api(f"tasks/{task_id}/history/"),
        "accept_url": _api(f"tasks/{task_id}/accept/"),
        "reject_url": _api(f"tasks/{task_id}/reject/"),
        "user": request.user.get_username(),
    }
    return render(request, "frontend/review.html", {"config": config, "task_id": task_id})
