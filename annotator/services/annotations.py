"""Corrections: an annotator drags a keypoint in one view and the server re-triangulates it from all views.

Every write appends a row (``Correction`` or ``PartValidity``) stamped with the task's next revision;
nothing is updated or deleted. Undo and redo are writes too: they append a row that restores the
value before the undone write (undo) or re-applies it (redo).

Re-triangulation rule, for keypoint k after any write that touches it:

* observations come from every view of the frame: the latest correction's (x, y) where k has one in
  that view and it is not a reset, else the projection of the task's BASE skeleton there;
* a plain DLT would let the three untouched views cancel a single drag, and a robust fit would
  discard the dragged view as the outlier, so views are weighted (``geometry.triangulate``'s
  ``weights``): corrected observations 1, uncorrected ones ``refit.UNCORRECTED_VIEW_WEIGHT``. With one
  corrected view the point moves onto (nearly) its ray, at the depth the other views suggest (the
  dragged view says nothing about depth, so the small weights alone decide it); with two or more
  corrected views they decide the point and the uncorrected ones barely pull;
* with no corrected view left, the keypoint goes back to the base skeleton's point exactly;
* occluded and unsure flags keep the observation in the fit; part validity does not change the fit
  (an invalid part only refuses new corrections in that view);
* ``flagged_views`` are the task's views whose residual exceeds ``geometry.DEFAULT_THRESHOLD_PX``:
  they disagree with the fit (for an uncorrected view, the dataset position there is probably wrong
  too).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery

from annotator import geometry, keypoints, selectors
from annotator.exceptions import ApplicationError
from annotator.models import Correction, PartValidity, Task, View
from annotator.refit import refit
from annotator.services.events import task_event_broadcast
from annotator.services.tasks import (
    task_bump,
    task_check_writable,
    task_lock_for_write,
    task_start_if_needed,
    task_status_broadcast,
)

NOTHING_TO_UNDO = "nothing to undo"
NOTHING_TO_REDO = "nothing to redo"


@dataclass
class CorrectionResult:
    """The answer to a correction (or undo/redo): the keypoint's new 3D point and how each view sees it.

    ``reprojections``/``residuals`` are keyed by view id over the task's views; ``part_validity`` is
    set instead of the keypoint fields when an undo or redo restored a part validity.
    """

    revision: int
    point_3d: list[float] | None = None
    reprojections: dict[int, list[float] | None] = field(default_factory=dict)
    residuals: dict[int, float | None] = field(default_factory=dict)
    flagged_views: list[int] = field(default_factory=list)
    correction: Correction | None = None
    part_validity: PartValidity | None = None
    author: str = ""

    def as_dict(self) -> dict:
        """Plain JSON data: the HTTP answer, and (with ``author``) the websocket event."""
        data = {
            "revision": self.revision,
            "point_3d": self.point_3d,
            "reprojections": {str(k): v for k, v in self.reprojections.items()},
            "residuals": {str(k): v for k, v in self.residuals.items()},
            "flagged_views": self.flagged_views,
            "correction": None
            if self.correction is None
            else selectors.correction_as_dict(self.correction, self.author),
        }
        if self.part_validity is not None:
            data["part_validity"] = part_validity_as_dict(self.part_validity)
        return data


def part_validity_as_dict(validity: PartValidity) -> dict:
    return {"revision": validity.revision, "view": validity.view_id, "part": validity.part, "valid": validity.valid}


# --- validation -------------------------------------------------------------------------------------


@dataclass
class _Frame:
    """The locked task's frame views (with cameras, by id), which of them the task covers and, when asked
    for a part, whether each view marks it annotatable: one query."""

    views: list[View]
    task_view_ids: set[int]
    part_valid: dict[int, bool] = field(default_factory=dict)

    @classmethod
    def load(cls, task: Task, part: str | None = None) -> _Frame:
        in_task = Exists(Task.views.through.objects.filter(task_id=task.pk, view_id=OuterRef("pk")))
        # No ORDER BY (sorted below): the default ordering would join the cameras again for their names.
        rows = View.objects.filter(frame_id=task.frame_id).order_by().select_related("camera").annotate(in_task=in_task)
        if part is not None:
            latest = PartValidity.objects.filter(task_id=task.pk, view_id=OuterRef("pk"), part=part)
            rows = rows.annotate(part_valid=Subquery(latest.order_by("-revision").values("valid")[:1]))
        views = sorted(rows, key=lambda v: v.pk)
        # No validity written for a view: the part is annotatable there.
        valid = {v.pk: v.part_valid is not False for v in views} if part is not None else {}
        return cls(views, {v.pk for v in views if v.in_task}, valid)

    def task_view(self, task: Task, view: View | int) -> View:
        view_id = view.pk if isinstance(view, View) else view
        if view_id not in self.task_view_ids:
            raise ApplicationError(f"view {view_id} is not one of task {task.pk}'s views", extra={"field": "view"})
        return next(v for v in self.views if v.pk == view_id)


def _check_keypoint(layout: keypoints.Layout, keypoint) -> int:
    """``keypoint`` if it is an index of ``layout`` (the task's dataset's), else an error naming the layout."""
    if isinstance(keypoint, bool) or not isinstance(keypoint, int) or not 0 <= keypoint < layout.num_keypoints:
        raise ApplicationError(
            f"keypoint must be an integer from 0 to {layout.num_keypoints - 1} (the {layout.title} layout, "
            f"{layout.version}, has {layout.num_keypoints} keypoints), got {keypoint!r}",
            extra={"field": "keypoint", "layout": layout.version},
        )
    return keypoint


def _check_part(layout: keypoints.Layout, part) -> str:
    """``part`` if ``layout`` records its validity per view, else an error naming the layout's such parts."""
    if part not in layout.validity_parts:
        known = (f"one of {', '.join(layout.validity_parts)}" if layout.validity_parts
                 else "none: no part of this layout is marked annotatable or not")  # fmt: skip
        raise ApplicationError(
            f"part must be a part of the {layout.title} layout ({layout.version}) whose validity is recorded "
            f"({known}), got {part!r}",
            extra={"field": "part", "layout": layout.version, "choices": list(layout.validity_parts)},
        )
    return part


def _check_xy(view: View, x, y) -> tuple[float | None, float | None]:
    if x is None and y is None:
        return None, None
    if x is None or y is None:
        raise ApplicationError("x and y must both be numbers, or both null to go back to the dataset position")
    return selectors.pixel_check(view, "x", x), selectors.pixel_check(view, "y", y)


def _check_choice(name: str, value, choices) -> str:
    if value not in choices:
        raise ApplicationError(f"{name} must be one of {', '.join(choices)}, got {value!r}", extra={"field": name})
    return value


# --- re-triangulation -------------------------------------------------------------------------------


def _retriangulate(task: Task, keypoint: int, frame: _Frame, latest: dict[int, Correction]) -> CorrectionResult:
    """Re-fit keypoint ``keypoint`` of the locked task from all the frame's views; update current_keypoints.

    ``latest``: the keypoint's latest correction per view id.
    """
    cams = [v.camera.as_geometry() for v in frame.views]
    base_point = np.asarray(task.base_skeleton.keypoints[keypoint], dtype=np.float64)  # (3,)
    drops = np.full((len(cams), 2), np.nan)  # (V, 2)
    for i, view in enumerate(frame.views):
        c = latest.get(view.pk)
        if c is not None and not c.is_reset:
            drops[i] = (c.x, c.y)
    point = refit(cams, base_point[None], drops[:, None])[0]
    observed = np.where(np.isfinite(drops), drops, np.stack([geometry.project(cam, base_point) for cam in cams]))
    current = np.array(task.current_keypoints, copy=True)
    current[keypoint] = point
    task.current_keypoints = current

    result = CorrectionResult(revision=task.revision)
    if np.isfinite(point).all():
        result.point_3d = [float(v) for v in point]
    for i, view in enumerate(frame.views):
        if view.pk not in frame.task_view_ids:
            continue
        xy = geometry.project(cams[i], point)
        ok = bool(np.isfinite(xy).all())
        residual = float(np.linalg.norm(xy - observed[i])) if ok else float("nan")
        result.reprojections[view.pk] = [float(xy[0]), float(xy[1])] if ok else None
        result.residuals[view.pk] = residual if math.isfinite(residual) else None
        if math.isfinite(residual) and residual > geometry.DEFAULT_THRESHOLD_PX:
            result.flagged_views.append(view.pk)
    return result


def _write_correction(
    task: Task,
    user,
    frame: _Frame,
    view_id: int,
    keypoint: int,
    x,
    y,
    flag: str,
    kind: str | None,
    source: str,
    target: int | None = None,
) -> CorrectionResult:
    """Append one correction at the next revision, re-fit its keypoint, save the task, broadcast; the task is locked.

    ``kind`` None means a manual write: ``flag`` when the position stays as it was, else ``move``.
    """
    # The heads of the keypoint's chains (one per view at most), not its whole history.
    heads = Correction.objects.filter(task=task, keypoint=keypoint, superseded_by__isnull=True).order_by()
    latest = {c.view_id: c for c in heads}
    head = latest.get(view_id)
    if kind is None:
        same_place = (head.x, head.y) == (x, y) if head is not None else x is None
        kind = Correction.Kind.FLAG if same_place else Correction.Kind.MOVE
    started = task_start_if_needed(task)
    correction = Correction.objects.create(
        task=task,
        revision=task.revision + 1,
        view_id=view_id,
        keypoint=keypoint,
        x=x,
        y=y,
        flag=flag,
        kind=kind,
        source=source,
        supersedes=head,
        target_revision=target,
        author=user,
    )
    latest[view_id] = correction
    result = _retriangulate(task, keypoint, frame, latest)
    result.revision = task_bump(task, fields=("current_keypoints", "status", "started_at"))
    result.correction = correction
    result.author = user.username
    task_event_broadcast(task_id=task.pk, kind="correction", data={**result.as_dict(), "author": user.username})
    if started:
        task_status_broadcast(task)
    return result


def _write_validity(task: Task, user, view_id: int, part: str, valid: bool, kind: str, target: int | None = None):
    started = task_start_if_needed(task)
    validity = PartValidity.objects.create(
        task=task, revision=task.revision + 1, view_id=view_id, part=part, valid=valid, kind=kind,
        target_revision=target, author=user,
    )  # fmt: skip
    task_bump(task, fields=("status", "started_at"))
    if started:
        task_status_broadcast(task)
    return validity


# --- services ---------------------------------------------------------------------------------------


@transaction.atomic
def correction_create(
    *,
    task: Task,
    user,
    view: View | int,
    keypoint: int,
    x: float | None,
    y: float | None,
    flag: str = Correction.Flag.VISIBLE,
    base_revision: int | None,
    source: str = Correction.Source.MANUAL,
    editor_session: str | None = None,
) -> CorrectionResult:
    """Move keypoint ``keypoint`` to (x, y) in ``view`` (None, None: back to the dataset) and re-triangulate it.

    A to-do (or rejected) task is started by its first correction. ``editor_session``: the browser tab
    the write comes from (see ``task_check_writable``).
    """
    task = task_lock_for_write(task)
    layout = selectors.task_layout(task)
    keypoint = _check_keypoint(layout, keypoint)
    part = layout.part_names[layout.part_of[keypoint]]
    task_check_writable(task=task, user=user, base_revision=base_revision, editor_session=editor_session)
    frame = _Frame.load(task, part if part in layout.validity_parts else None)
    view = frame.task_view(task, view)
    x, y = _check_xy(view, x, y)
    flag = _check_choice("flag", flag, Correction.Flag.values)
    source = _check_choice("source", source, Correction.Source.values)
    if part in layout.validity_parts and not frame.part_valid[view.pk]:
        raise ApplicationError(
            f"the {part.replace('_', ' ')} is marked not annotatable in view {view.pk}; mark it valid first",
            extra={"field": "keypoint", "part": part},
        )
    return _write_correction(task, user, frame, view.pk, keypoint, x, y, flag, None, source)


@transaction.atomic
def part_validity_set(
    *, task: Task, user, view: View | int, part: str, valid: bool, base_revision: int | None,
    editor_session: str | None = None,
):  # fmt: skip
    """Mark ``part`` (one of the dataset layout's ``validity_parts``) annotatable or not in ``view``.

    Returns the PartValidity.
    """
    task = task_lock_for_write(task)
    task_check_writable(task=task, user=user, base_revision=base_revision, editor_session=editor_session)
    view = _Frame.load(task).task_view(task, view)
    part = _check_part(selectors.task_layout(task), part)
    if not isinstance(valid, bool):
        raise ApplicationError(f"valid must be true or false, got {valid!r}", extra={"field": "valid"})
    validity = _write_validity(task, user, view.pk, part, valid, PartValidity.Kind.SET)
    task_event_broadcast(
        task_id=task.pk, kind="part", data={**part_validity_as_dict(validity), "author": user.username}
    )
    return validity


def _revert(task: Task, user, original, kind: str, restore_before: bool) -> CorrectionResult:
    """Write a new revision that restores the value before ``original`` (undo) or ``original``'s own (redo)."""
    if isinstance(original, Correction):
        if restore_before:
            before = (
                Correction.objects.filter(
                    task=task, view_id=original.view_id, keypoint=original.keypoint, revision__lt=original.revision
                )
                .order_by("-revision")
                .first()
            )
            x, y, flag = (before.x, before.y, before.flag) if before else (None, None, Correction.Flag.VISIBLE)
        else:
            x, y, flag = original.x, original.y, original.flag
        return _write_correction(
            task, user, _Frame.load(task), original.view_id, original.keypoint, x, y, flag, kind, original.source,
            original.revision,
        )  # fmt: skip
    if restore_before:
        before = (
            PartValidity.objects.filter(
                task=task, view_id=original.view_id, part=original.part, revision__lt=original.revision
            )
            .order_by("-revision")
            .first()
        )
        valid = before.valid if before else True
    else:
        valid = original.valid
    validity = _write_validity(task, user, original.view_id, original.part, valid, kind, original.revision)
    result = CorrectionResult(revision=validity.revision, part_validity=validity, author=user.username)
    task_event_broadcast(task_id=task.pk, kind="correction", data={**result.as_dict(), "author": user.username})
    return result


@transaction.atomic
def correction_undo(
    *, task: Task, user, base_revision: int | None, editor_session: str | None = None
) -> CorrectionResult:
    """Undo the user's latest write not yet undone (a move, flag or part validity), as a new revision."""
    task = task_lock_for_write(task)
    task_check_writable(task=task, user=user, base_revision=base_revision, editor_session=editor_session)
    undo, _ = selectors.task_undo_stacks(task=task, user=user)
    if not undo:
        raise ApplicationError(NOTHING_TO_UNDO)
    return _revert(task, user, undo[-1], "undo", restore_before=True)


@transaction.atomic
def correction_redo(
    *, task: Task, user, base_revision: int | None, editor_session: str | None = None
) -> CorrectionResult:
    """Re-apply the write the user undid last; only possible right after undos."""
    task = task_lock_for_write(task)
    task_check_writable(task=task, user=user, base_revision=base_revision, editor_session=editor_session)
    _, redo = selectors.task_undo_stacks(task=task, user=user)
    if not redo:
        raise ApplicationError(NOTHING_TO_REDO)
    return _revert(task, user, redo[-1], "redo", restore_before=False)
