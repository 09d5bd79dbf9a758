"""The reviewers' pages: the dashboard (studies, FBI, quality), the review queue, a study's report, and the
review of one task (a correction task in the read-only editor, an FBI task in the read-only labeller)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from annotator import keypoints, selectors
from annotator.exceptions import ApplicationError
from annotator.fbi import DEFAULT_UNKNOWN_TILT_DEG
from annotator.models import Dataset, Skeleton3D, Task
from annotator.selectors.quality import QUALITY_JOB_KIND
from annotator.selectors.studies import study_form_options, study_get
from annotator.services.fbi import fbi_tasks_create as fbi_tasks_create_service
from annotator.services.fbi_labels import SOURCE_CHOICES
from api.routing import socket_path
from frontend.forms import FBITasksForm
from frontend.views.common import api_url, or_404, reviewer_page, url_prefix
from frontend.views.tasks import task_list_context


def _quality_config() -> dict:
    """What the dashboard's quality section talks to (quality-dashboard.js)."""
    return {
        "score_url": api_url("job-score"),
        "jobs_url": api_url("job-list"),
        "report_prefix": api_url("dataset-list"),
        "frame_prefix": url_prefix("frontend:frame", "frame_id"),
        "socket_path": socket_path("jobs"),
        "job_kind": QUALITY_JOB_KIND,
        "sources": [{"value": v, "label": label} for v, label in Skeleton3D.Source.choices],
        "default_source": Skeleton3D.Source.DATASET,
    }


def _fbi_form(options: dict, data=None) -> FBITasksForm:
    return FBITasksForm(data, datasets=[d["name"] for d in options["datasets"]], annotators=options["annotators"])


def _dashboard(request, fbi_form: FBITasksForm | None = None, status: int = 200):
    options = study_form_options()
    config = {"studies_url": api_url("study-list"), "options": options, "queue_url": reverse("frontend:review-queue")}
    config["fbi"] = {
        "jobs_url": api_url("job-fbi"),
        "agreement_url": api_url("fbi-agreement"),
        "depth_error_tasks_url": api_url("fbi-depth-error-tasks"),
        "socket_path": socket_path("jobs"),
        "bone_subsets": list(keypoints.BONE_SUBSETS),
        "sources": list(SOURCE_CHOICES),
        "unknown_tilt_deg": DEFAULT_UNKNOWN_TILT_DEG,
    }
    config["quality"] = _quality_config()
    submitted = Task.objects.filter(status=Task.Status.SUBMITTED).count()
    context = {"config": config, "fbi_form": fbi_form or _fbi_form(options), "n_submitted": submitted}
    return render(request, "frontend/review_dashboard.html", context, status=status)


@never_cache
@reviewer_page
def review_dashboard(request):
    """The studies and the form that creates one (both talk to /api/studies/), FBI and quality sections."""
    return _dashboard(request)


@reviewer_page
@require_POST
def fbi_tasks_create(request):
    """Create FBI labelling tasks from the dashboard's form; errors come back on the dashboard, nothing created."""
    options = study_form_options()
    form = _fbi_form(options, request.POST)
    if form.is_valid():
        v = form.cleaned_data
        try:
            tasks = fbi_tasks_create_service(
                annotators=v["annotators"], dataset=Dataset.objects.get(name=v["dataset"]), n_frames=v["frames"],
                seed=v["seed"], per_frame=v["per_frame"], bones=v["bones"], created_by=request.user,
            )  # fmt: skip
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            frames = len({t.frame_id for t in tasks})
            messages.success(request, f"{len(tasks)} FBI tasks ({v['bones']} bones) on {frames} frames for "
                                      f"{', '.join(v['annotators'])}")  # fmt: skip
            return redirect(f"{reverse('frontend:review-queue')}?kind={Task.Kind.FBI}&status={Task.Status.TODO}")
    return _dashboard(request, fbi_form=form, status=400)


@never_cache  # a queue reached with the back button shows what still waits, not the cached page
@reviewer_page
def review_queue(request):
    """Everybody's tasks for review: the submitted ones by default, filtered by dataset, study, annotator, kind."""
    context = task_list_context(request, default_status=Task.Status.SUBMITTED)
    return render(request, "frontend/review_queue.html", context)


@reviewer_page
def review_study(request, study_id: int):
    """One study's cross-check report: the H3WB table, histograms, bar charts and the frames table."""
    study = or_404(study_get, study_id=study_id)
    config = {
        "study_id": study.pk,
        "report_url": api_url("study-report", study_id=study.pk),
        "frames_url": api_url("study-frames", study_id=study.pk),
        "sensitivity_url": api_url("study-sensitivity", study_id=study.pk),
        "dashboard_url": reverse("frontend:review"),
    }
    return render(request, "frontend/review_study.html", {"config": config, "study_id": study.pk, "study": study})


@reviewer_page
def review_task(request, task_id: int):
    """The read-only review of a task with accept and reject: before/after skeletons, displacements and history
    for a correction task; the answers in the labeller for an FBI task."""
    task = or_404(selectors.task_get_for, user=request.user, task_id=task_id)
    decision = {
        "accept_url": api_url("task-accept", task_id=task.pk),
        "reject_url": api_url("task-reject", task_id=task.pk),
        "queue_url": reverse("frontend:review-queue"),
    }
    if task.kind == Task.Kind.FBI:
        config = {
            "task_id": task.pk,
            "task_url": api_url("task-fbi", task_id=task.pk),
            "next_url": api_url("task-next"),
            "tasks_url": reverse("frontend:tasks"),
            "review": decision,
        }
        return render(request, "frontend/fbi.html", {"config": config, "task_id": task.pk, "review": True})
    config = {
        "task_id": task.pk,
        "task_url": api_url("task-detail", task_id=task.pk),
        "history_url": api_url("task-history", task_id=task.pk),
        "user": request.user.get_username(),
        **decision,
    }
    return render(request, "frontend/review.html", {"config": config, "task_id": task.pk})
