"""Reads of frames as reviewers browse them: a dataset's frames page by page, and one frame with every
skeleton version projected into every view (the frame page compares any two versions).

A frame is where every figure of the tool ends up (a study row, a quality score, a depth error), so the
frame page shows all that is known of it: its versions, the tasks on it and their status.
"""

from __future__ import annotations

from django.db.models import Count, QuerySet
from django.urls import reverse

from annotator import geometry
from annotator.exceptions import NotFoundError
from annotator.models import Dataset, Frame, Skeleton3D, Task
from annotator.selectors.tasks import _points_json


def dataset_frames(*, dataset: Dataset, subject: str | None = None, action: str | None = None) -> QuerySet[Frame]:
    """The frames of ``dataset`` (optionally of one subject and/or action), in subject, action, index order.

    Each carries ``n_skeletons`` (versions) and ``n_tasks``.
    """
    frames = Frame.objects.filter(sequence__subject__dataset=dataset)
    if subject:
        frames = frames.filter(sequence__subject__name=subject)
    if action:
        frames = frames.filter(sequence__action=action)
    return (
        frames.select_related("sequence__subject")
        .annotate(n_skeletons=Count("skeletons", distinct=True), n_tasks=Count("tasks", distinct=True))
        .order_by("sequence__subject__name", "sequence__action", "index", "id")
    )


def frame_get(*, frame_id: int) -> Frame:
    try:
        return Frame.objects.select_related("sequence__subject__dataset").get(pk=frame_id)
    except Frame.DoesNotExist:
        raise NotFoundError(f"no frame {frame_id}") from None


def frame_dict(frame: Frame) -> dict:
    """Where a frame is: ``{"id", "dataset", "subject", "action", "index"}`` (a task payload's ``frame``)."""
    sequence = frame.sequence
    return {"id": frame.pk, "dataset": sequence.subject.dataset.name, "subject": sequence.subject.name,
            "action": sequence.action, "index": frame.index}  # fmt: skip


def _neighbour(frame: Frame, step: int) -> int | None:
    """The id of the previous (step -1) or next (+1) frame of the same sequence, by frame index."""
    same = Frame.objects.filter(sequence_id=frame.sequence_id)
    if step > 0:
        return same.filter(index__gt=frame.index).order_by("index").values_list("id", flat=True).first()
    return same.filter(index__lt=frame.index).order_by("-index").values_list("id", flat=True).first()


def frame_viewer_payload(*, frame: Frame) -> dict:
    """Everything the frame page draws: the views with their cameras, every skeleton version's 2D in every view
    (``points[view id]``: one [x, y] or null per keypoint), the tasks on the frame, and its neighbours."""
    views = sorted(frame.views.select_related("camera"), key=lambda v: v.camera.name)
    cams = {v.pk: v.camera.as_geometry() for v in views}
    skeletons = []
    for s in Skeleton3D.objects.filter(frame=frame).select_related("created_by").order_by("version"):
        author = f" · {s.created_by.username}" if s.created_by else ""
        skeletons.append({
            "id": s.pk,
            "version": s.version,
            "source": s.source,
            "label": f"v{s.version} · {s.get_source_display()}{author}",
            "note": s.note,
            "points": {str(v.pk): _points_json(geometry.project(cams[v.pk], s.keypoints)) for v in views},
        })  # fmt: skip
    tasks = [
        {"id": t.pk, "kind": t.kind, "status": t.status, "assignee": t.assignee.username,
         "study": t.study.name if t.study else None, "review_url": reverse("frontend:review-task", args=[t.pk])}
        for t in Task.objects.filter(frame=frame).select_related("assignee", "study").order_by("id")
    ]  # fmt: skip
    return {
        "frame": frame_dict(frame),
        "layout": frame.sequence.subject.dataset.layout.json,
        "views": [
            {
                "id": v.pk,
                "camera": v.camera.name,
                "image_url": v.image_url,
                "width": cams[v.pk].width,
                "height": cams[v.pk].height,
                "camera_params": cams[v.pk].to_dict(),
            }
            for v in views
        ],
        "skeletons": skeletons,
        "tasks": tasks,
        "previous": _neighbour(frame, -1),
        "next": _neighbour(frame, 1),
    }
