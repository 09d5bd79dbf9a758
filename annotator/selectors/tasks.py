"""Reads of the correction workflow: who sees which task, the editor's payload, history and its replay.

The 2D state of a task (latest x, y and flag per view and keypoint; validity per view and part) is
never stored: it is derived from the append-only rows. ``task_state`` reads it from the heads of the
``supersedes`` chains (the corrections nothing supersedes); ``task_state_replay`` rebuilds it from
the ordered history alone. Both must agree, and the tests check that they do.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np
from django.db.models import Count, QuerySet
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from annotator import access, geometry, keypoints
from annotator.exceptions import ApplicationError, NotFoundError
from annotator.models import LOCK_TTL_S, Correction, Dataset, PartValidity, Task, TaskLock, View

#: What a keypoint looks like in a view before anyone corrects it there.
DEFAULT_FLAG = Correction.Flag.VISIBLE
#: A pixel a request names (a correction, an epipolar query) may lie outside the image by this fraction of
#: its size on each side (a keypoint just out of frame); beyond that it is absurd and refused.
IMAGE_MARGIN = 0.5


def pixel_check(view: View, name: str, value) -> float:
    """``value`` as the finite ``name`` (``x`` or ``y``) pixel coordinate of ``view``'s image within
    ``IMAGE_MARGIN``, else ApplicationError naming the field and the allowed range."""
    camera = view.camera
    size = camera.width if name == "x" else camera.height
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ApplicationError(f"{name} must be a finite number of pixels, got {value!r}", extra={"field": name})
    low, high = -IMAGE_MARGIN * size, (1 + IMAGE_MARGIN) * size
    if not low <= value <= high:
        raise ApplicationError(
            f"{name}={value} is far outside the {camera.width}x{camera.height} image of view {view.pk} (allowed "
            f"{low:g} to {high:g})",
            extra={"field": name},
        )
    return float(value)


@dataclass
class TaskState:
    """The derived 2D state of a task.

    ``points``: (view id, keypoint) -> (x, y, flag) for every pair with a correction; x and y are
    None after a reset to the dataset position. ``validity``: (view id, part) -> bool for every
    pair that was ever set (unset parts are valid).
    """

    points: dict[tuple[int, int], tuple[float | None, float | None, str]] = field(default_factory=dict)
    validity: dict[tuple[int, str], bool] = field(default_factory=dict)

    def is_corrected(self, view_id: int, keypoint: int) -> bool:
        entry = self.points.get((view_id, keypoint))
        return entry is not None and entry[0] is not None

    def flag(self, view_id: int, keypoint: int) -> str:
        entry = self.points.get((view_id, keypoint))
        return DEFAULT_FLAG if entry is None else entry[2]

    def part_valid(self, view_id: int, part: str) -> bool:
        return self.validity.get((view_id, part), True)

    def annotated(self, view_id: int) -> dict[str, list[float]]:
        """Where the annotator put each corrected keypoint of a view: {"k": [x, y]} (JSON keys)."""
        return {
            str(k): [entry[0], entry[1]]
            for (v, k), entry in self.points.items()
            if v == view_id and entry[0] is not None
        }


def task_layout(task: Task) -> keypoints.Layout:
    """The keypoint layout of the dataset ``task``'s frame belongs to (``Dataset.layout``).

    Free when the task was read with ``frame__sequence__subject__dataset`` (the locked writes, the
    payload); one query otherwise.
    """
    obj = task
    for name in ("frame", "sequence", "subject", "dataset"):
        if not type(obj)._meta.get_field(name).is_cached(obj):
            version = (
                Dataset.objects.filter(subjects__sequences__frames=task.frame_id)
                .values_list("layout_version", flat=True)
                .get()
            )
            return keypoints.layout_get(version)
        obj = getattr(obj, name)
    return obj.layout


def task_list_for(*, user, status: str | None = None) -> QuerySet[Task]:
    """Tasks ``user`` may see (annotators: their own; reviewers and admins: all), queue order.

    Annotated with ``n_corrections``.
    """
    tasks = access.tasks_visible_to(user=user)
    if status is not None:
        tasks = tasks.filter(status=status)
    return (
        tasks.select_related("frame__sequence__subject__dataset", "assignee")
        .annotate(n_corrections=Count("corrections", distinct=True))
        .order_by("priority", "id")
    )


def task_get_for(*, user, task_id: int) -> Task:
    """The task ``task_id`` if ``user`` may see it; else NotFoundError (annotators must not learn it exists).

    One query for the task's own assignee (the hot path: every correction); the role is looked up only
    for someone else's task.
    """
    # Only the columns callers read before re-reading the task in full (payload) or locked (writes).
    task = (
        Task.objects.only("id", "frame_id", "assignee_id", "status", "revision").filter(pk=task_id).order_by().first()
    )
    if task is None or not access.task_visible(user=user, task=task):
        raise NotFoundError(f"no task {task_id}")
    return task


def task_is_fbi(*, task_id: int) -> bool:
    """Whether task ``task_id`` exists and asks for FBI labels (its page is the FBI labeller, not the editor)."""
    return Task.objects.filter(pk=task_id, kind=Task.Kind.FBI).exists()


def view_get_for_image(*, user, view_id: int) -> View:
    """The view ``view_id`` if ``user`` may see its image (a task on its frame, or reviewer/admin)."""
    views = access.views_visible_to(user=user).select_related("frame__sequence__subject__dataset")
    try:
        return views.get(pk=view_id)
    except View.DoesNotExist:
        raise NotFoundError(f"no view {view_id}") from None


def view_image_file(*, view: View) -> Path:
    """The image file of ``view``, joined safely under its dataset's image root; NotFoundError if there is none.

    The stored relative path is resolved and must stay under the root (no ``..`` or absolute escapes).
    """
    root_text = view.frame.sequence.subject.dataset.image_root
    if not root_text:
        raise NotFoundError(f"dataset {view.frame.sequence.subject.dataset.name} has no image directory")
    if not view.image_path:
        raise NotFoundError(f"view {view.pk} has no image")
    root = Path(root_text).resolve()
    path = (root / view.image_path).resolve()
    if not path.is_relative_to(root):
        raise NotFoundError(f"the image path of view {view.pk} points outside the dataset's image directory")
    if not path.is_file():
        raise NotFoundError(f"the image of view {view.pk} is missing: {view.image_path}")
    image_content_type(path, what=f"the image of view {view.pk}")
    return path


#: Image formats the tool serves and reads (Pillow's names) and their content types.
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}


def image_content_type(path: Path, *, what: str = "the file") -> str:
    """The content type of the JPEG or PNG image at ``path``; NotFoundError if the file is not one.

    Cheap: Pillow identifies the format from the header and checks the image's size there, without
    decoding the pixels, so a renamed text file or a truncated header is never served as an image.
    """
    try:
        with Image.open(path) as image:
            kind = image.format
            image.size  # noqa: B018 - parsed from the header; raises on a broken one
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        kind = None
    if kind not in IMAGE_TYPES:
        raise NotFoundError(f"{what} is not a JPEG or PNG image", extra={"reason": "not_an_image"})
    return IMAGE_TYPES[kind]


def task_history(*, task: Task, view: int | None = None, keypoint: int | None = None) -> QuerySet[Correction]:
    """The task's corrections, oldest first, optionally of one view and/or keypoint (of the dataset's layout)."""
    rows = Correction.objects.filter(task=task).select_related("author").order_by("revision")
    if view is not None:
        rows = rows.filter(view_id=view)
    if keypoint is not None:
        layout = task_layout(task)
        if not 0 <= keypoint < layout.num_keypoints:
            raise ApplicationError(
                f"keypoint must be from 0 to {layout.num_keypoints - 1} (the {layout.title} layout, {layout.version}, "
                f"has {layout.num_keypoints} keypoints), got {keypoint}",
                extra={"field": "keypoint", "layout": layout.version},
            )
        rows = rows.filter(keypoint=keypoint)
    return rows


def task_state_replay(corrections: Iterable[Correction], validities: Iterable[PartValidity] = ()) -> TaskState:
    """Rebuild the 2D state from rows alone: the last write of each (view, keypoint) and (view, part) wins.

    Pure: works on any objects with the rows' attributes; rows are sorted by revision first.
    """
    state = TaskState()
    for c in sorted(corrections, key=lambda c: c.revision):
        state.points[(c.view_id, c.keypoint)] = (c.x, c.y, c.flag)
    for p in sorted(validities, key=lambda p: p.revision):
        state.validity[(p.view_id, p.part)] = p.valid
    return state


def task_state(*, task: Task) -> TaskState:
    """The task's current 2D state, from the heads of the correction chains and the latest validities."""
    state = TaskState()
    heads = Correction.objects.filter(task=task, superseded_by__isnull=True)
    for view_id, keypoint, x, y, flag in heads.values_list("view_id", "keypoint", "x", "y", "flag"):
        state.points[(view_id, keypoint)] = (x, y, flag)
    rows = PartValidity.objects.filter(task=task).order_by("revision")
    for view_id, part, valid in rows.values_list("view_id", "part", "valid"):
        state.validity[(view_id, part)] = valid
    return state


def task_undo_stacks(*, task: Task, user) -> tuple[list, list]:
    """``user``'s undo and redo stacks on ``task``: their original writes (Correction or PartValidity rows).

    Rebuilt from the rows: an original write (move, flag, set) is pushed on the undo stack and empties the
    redo stack; an undo moves the top of the undo stack to the redo stack; a redo moves it back. The undo
    and redo services pop from these; the editor shows their depths (undo/redo buttons).
    """
    rows = [*Correction.objects.filter(task=task, author=user), *PartValidity.objects.filter(task=task, author=user)]
    undo: list = []
    redo: list = []
    for row in sorted(rows, key=lambda r: r.revision):
        if row.kind == "undo":
            if undo:
                redo.append(undo.pop())
        elif row.kind == "redo":
            if redo:
                undo.append(redo.pop())
        else:
            undo.append(row)
            redo.clear()
    return undo, redo


def task_live_lock(task: Task) -> TaskLock | None:
    """The task's edit lock if its heartbeat is recent enough (``LOCK_TTL_S``), with its holder.

    No query when the task was read with ``select_related("lock__holder")`` (as the writes read it).
    """
    if Task.lock.is_cached(task):
        try:
            lock = task.lock
        except TaskLock.DoesNotExist:
            return None
        return lock if lock.heartbeat_at >= timezone.now() - timedelta(seconds=LOCK_TTL_S) else None
    cutoff = timezone.now() - timedelta(seconds=LOCK_TTL_S)
    return TaskLock.objects.filter(task=task, heartbeat_at__gte=cutoff).select_related("holder").first()


def task_lock_state(*, task: Task, user, editor_session: str | None = None) -> dict:
    """``{"holder": username or None, "mine": bool}`` for the task's live edit lock; ``mine`` when it is
    held by ``user`` through the editor session ``editor_session`` (one browser tab)."""
    lock = task_live_lock(task)
    if lock is None:
        return {"holder": None, "mine": False}
    mine = lock.holder_id == user.pk and bool(editor_session) and lock.session == editor_session
    return {"holder": lock.holder.username, "mine": mine}


def _points_json(xy: np.ndarray) -> list[list[float] | None]:
    """(J, 2) pixels -> JSON list, None where NaN."""
    finite = np.isfinite(xy).all(axis=1)
    return [[float(p[0]), float(p[1])] if ok else None for p, ok in zip(xy, finite)]


def _iso(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


def correction_as_dict(correction: Correction, author: str | None = None) -> dict:
    """A correction as plain JSON data (the API's and the websocket's shape)."""
    return {
        "id": correction.pk,
        "revision": correction.revision,
        "view": correction.view_id,
        "keypoint": correction.keypoint,
        "x": correction.x,
        "y": correction.y,
        "flag": str(correction.flag),
        "kind": str(correction.kind),
        "source": str(correction.source),
        "author": author if author is not None else correction.author.username,
        "created_at": _iso(correction.created_at),
    }


def task_frame_dict(task: Task) -> dict:
    frame = task.frame
    return {
        "id": frame.pk,
        "dataset": frame.sequence.subject.dataset.name,
        "subject": frame.sequence.subject.name,
        "action": frame.sequence.action,
        "index": frame.index,
    }


def epipolar_depths(cameras: list[geometry.Camera]) -> np.ndarray:
    """Sample depths of epipolar curves on the rig these cameras belong to (the default with fewer than two)."""
    if len(cameras) < 2:
        return geometry.DEFAULT_EPIPOLAR_DEPTHS
    return geometry.rig_epipolar_depths(cameras)


def task_editor_payload(*, task: Task, user, editor_session: str | None = None) -> dict:
    """Everything the editor needs to draw a task: layout, views with cameras, base/current 2D, flags, validity.

    ``editor_session``: the browser tab asking (``X-Editor-Session``), which decides ``lock.mine``.
    """
    task = (
        Task.objects.select_related("frame__sequence__subject__dataset", "assignee", "base_skeleton", "reviewed_by")
        .prefetch_related("views__camera")
        .get(pk=task.pk)
    )
    layout = task_layout(task)
    state = task_state(task=task)
    undo, redo = task_undo_stacks(task=task, user=user)
    base = task.base_skeleton.keypoints
    current = task.current_keypoints
    views = []
    cameras = []
    corrected_keypoints: set[int] = set()
    for view in sorted(task.views.all(), key=lambda v: v.camera.name):
        cam = view.camera.as_geometry()
        cameras.append(cam)
        corrected = [state.is_corrected(view.pk, k) for k in range(layout.num_keypoints)]
        corrected_keypoints.update(k for k, c in enumerate(corrected) if c)
        views.append(
            {
                "id": view.pk,
                "camera": view.camera.name,
                "image_url": view.image_url,
                "width": cam.width,
                "height": cam.height,
                "camera_params": cam.to_dict(),
                "base": _points_json(geometry.project(cam, base)),
                "current": _points_json(geometry.project(cam, current)),
                "corrected": corrected,
                "annotated": state.annotated(view.pk),
                "flags": [state.flag(view.pk, k) for k in range(layout.num_keypoints)],
                "part_valid": {part: state.part_valid(view.pk, part) for part in layout.validity_parts},
            }
        )
    return {
        "id": task.pk,
        "kind": task.kind,
        "editor_url": task.page_url,
        "status": task.status,
        "revision": task.revision,
        "assignee": task.assignee.username,
        "review_comment": task.review_comment,
        "reviewed_by": task.reviewed_by.username if task.reviewed_by_id else None,
        "can_edit": access.task_editable_by(user=user, task=task),
        "lock": task_lock_state(task=task, user=user, editor_session=editor_session),
        "frame": task_frame_dict(task),
        "layout": layout.json,
        "views": views,
        # Where epipolar curves are sampled (mm along the dragging camera's axis), for this rig's scale.
        "epipolar_depths": epipolar_depths(cameras).tolist(),
        "corrected_keypoints": sorted(corrected_keypoints),
        # The signed-in user's own undo and redo depths: the editor disables undo/redo at zero.
        "undo_depth": len(undo),
        "redo_depth": len(redo),
        "history_url": reverse("api:task-history", kwargs={"task_id": task.pk}),
        "submit_url": reverse("api:task-submit", kwargs={"task_id": task.pk}),
    }


def task_epipolar_curves(*, task: Task, view: int, x: float, y: float) -> dict[str, list[list[float]]]:
    """The epipolar curve of pixel (x, y) of ``view`` in each other view of the task, as view id -> polyline."""
    views = {v.pk: v for v in task.views.select_related("camera")}
    if view not in views:
        raise ApplicationError(f"view {view} is not one of task {task.pk}'s views", extra={"field": "view"})
    x, y = pixel_check(views[view], "x", x), pixel_check(views[view], "y", y)
    cam_a = views[view].camera.as_geometry()
    depths = epipolar_depths([v.camera.as_geometry() for v in views.values()])
    curves = {}
    for view_id, other in sorted(views.items()):
        if view_id != view:
            curve = geometry.epipolar_curve(cam_a, other.camera.as_geometry(), np.array([x, y]), depths)
            curves[str(view_id)] = curve.tolist()
    return curves
