"""Tasks: creating them, the annotator's queue, submitting, and the edit lock a browser holds.

Every write locks the task row (``select_for_update``) so concurrent writers are serialised, checks
the revision the caller based it on, bumps the task's revision and broadcasts what changed after
the transaction commits. The helpers ``task_lock_for_write`` and ``task_check_writable`` are shared
with the correction and review services.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from django.db import transaction
from django.db.models import Case, IntegerField, Max, Value, When
from django.utils import timezone

from annotator import access, keypoints, selectors
from annotator.exceptions import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError
from annotator.models import LOCK_TTL_S, Dataset, Frame, Skeleton3D, Task, TaskLock, View
from annotator.services.events import task_event_broadcast

NO_TASK_LEFT = "no task left in your queue"
#: Queue order of ``task_start_next``: rejected work first, then work already started, then new work.
QUEUE_ORDER = (Task.Status.REJECTED, Task.Status.IN_PROGRESS, Task.Status.TODO)


# --- shared by every task write ---------------------------------------------------------------------


def task_lock_for_write(task: Task) -> Task:
    """Re-read ``task`` with its row locked until the transaction ends (serialises concurrent writers).

    Its edit lock and holder come in the same query (``selectors.task_live_lock`` reads them without one).
    """
    # The dataset comes along too: writes check keypoints and parts against its layout (``selectors.task_layout``).
    rows = Task.objects.select_for_update(of=("self",)).select_related(
        "base_skeleton", "assignee", "lock__holder", "frame__sequence__subject__dataset"
    )
    return rows.get(pk=task.pk)


def task_check_kind(task: Task, kind: str) -> None:
    """Refuse a write meant for ``kind`` tasks (corrections, FBI answers) to a task of another kind."""
    if task.kind != kind:
        raise ApplicationError(
            f"task {task.pk} is a {task.get_kind_display()} task, not a {Task.Kind(kind).label} task",
            extra={"kind": task.kind},
        )


def task_check_writable(
    *,
    task: Task,
    user,
    base_revision: int | None,
    kind: str = Task.Kind.CORRECTION,
    check_revision: bool = True,
    editor_session: str | None = None,
) -> None:
    """Refuse a write by ``user`` to the locked ``task`` based on ``base_revision``, or return.

    ``kind`` is the kind of task the write is for; append-only writes that cannot overwrite anyone
    (FBI answers) pass ``check_revision=False``. ``editor_session`` is the editor session (one browser
    tab, ``X-Editor-Session``) the write comes from: while a live edit lock exists, only the session
    that holds it may write, so a second tab of the same user is read-only like anyone else.
    """
    if task.assignee_id != user.pk:
        raise PermissionDeniedError(f"only the task's assignee, {task.assignee.username}, can edit task {task.pk}")
    if not task.is_editable:
        raise ApplicationError(f"task {task.pk} is {task.status} and can no longer be edited")
    task_check_kind(task, kind)
    if not check_revision:
        return
    if base_revision is None:
        raise ApplicationError("base_revision is required: send the revision your edit is based on")
    if base_revision != task.revision:
        raise ConflictError(
            f"task {task.pk} has changed: your edit is based on revision {base_revision}, the task is at revision "
            f"{task.revision}; reload it and try again",
            extra={
                "current_revision": task.revision,
                "state": selectors.task_editor_payload(task=task, user=user, editor_session=editor_session),
            },
        )
    lock = selectors.task_live_lock(task)
    if lock is None or (lock.holder_id == user.pk and lock.session == editor_session):
        return
    if lock.holder_id != user.pk:
        message = f"the task is open for editing by {lock.holder.username}"
    else:
        message = (
            "the task is open for editing in another window or tab of yours; edit it there, or close that one "
            "and reload this one"
        )
    raise ConflictError(
        message, extra={"current_revision": task.revision, "holder": lock.holder.username, "reason": "locked"}
    )


def task_bump(task: Task, *, fields: tuple[str, ...] = ()) -> int:
    """Advance the task's head revision and save it with ``fields``; returns the new revision."""
    task.revision += 1
    task.save(update_fields=["revision", "updated_at", *fields])
    return task.revision


def task_start_if_needed(task: Task) -> bool:
    """Move an editable task to in_progress (first write, or picked from the queue); True if it changed."""
    if task.status == Task.Status.IN_PROGRESS:
        return False
    task.status = Task.Status.IN_PROGRESS
    if task.started_at is None:
        task.started_at = timezone.now()
    return True


def task_status_broadcast(task: Task) -> None:
    data = {"status": task.status, "revision": task.revision, "review_comment": task.review_comment}
    task_event_broadcast(task_id=task.pk, kind="status", data=data)


# --- creating tasks ---------------------------------------------------------------------------------


@transaction.atomic
def task_create(
    *,
    frame: Frame,
    assignee,
    views: list[View] | None = None,
    base_skeleton: Skeleton3D | None = None,
    created_by=None,
    priority: int = 0,
    kind: str = Task.Kind.CORRECTION,
    bones: str = "",
) -> Task:
    """Ask ``assignee`` to correct ``frame`` in ``views`` (default: all), starting from ``base_skeleton``.

    The base defaults to the frame's latest ``dataset`` skeleton. A frame has at most one open task
    of each kind per assignee. ``kind`` ``fbi`` asks for forward/backward labels of the base skeleton's
    ``bones`` (a bone subset of the dataset's layout, ``Layout.bone_subsets``; default the layout's
    ``default_bone_subset``) instead.
    """
    if kind not in Task.Kind.values:
        raise ApplicationError(f"kind must be one of {', '.join(Task.Kind.values)}, got {kind!r}")
    if kind == Task.Kind.FBI:
        layout = Dataset.objects.only("layout_version").get(subjects__sequences__frames=frame.pk).layout
        try:
            bones = keypoints.bone_subset_check(layout, bones)
        except keypoints.LayoutError as exc:
            raise ApplicationError(str(exc), extra={"field": "bones"}) from None
    elif bones:
        raise ApplicationError("only FBI tasks ask about bones")
    if base_skeleton is None:
        base_skeleton = frame.skeletons.filter(source=Skeleton3D.Source.DATASET).order_by("-version").first()
        if base_skeleton is None:
            raise ApplicationError(f"frame {frame} has no dataset skeleton to correct")
    elif base_skeleton.frame_id != frame.pk:
        raise ApplicationError(f"skeleton {base_skeleton.pk} belongs to another frame than {frame}")
    frame_views = list(frame.views.all())
    if views is None:
        views = frame_views
    else:
        outside = [v.pk for v in views if v.frame_id != frame.pk]
        if outside:
            raise ApplicationError(f"views {outside} do not belong to frame {frame}")
    if not views:
        raise ApplicationError(f"frame {frame} has no views to correct")
    if Task.objects.filter(frame=frame, assignee=assignee, kind=kind, status__in=Task.OPEN_STATUSES).exists():
        raise ApplicationError(f"{assignee.username} already has an open task on frame {frame} ({kind})")
    task = Task.objects.create(
        frame=frame,
        kind=kind,
        bones=bones,
        assignee=assignee,
        base_skeleton=base_skeleton,
        current_keypoints=np.array(base_skeleton.keypoints, copy=True),
        created_by=created_by,
        priority=priority,
    )
    task.views.set(views)
    return task


@transaction.atomic
def tasks_create_for_annotator(*, dataset: Dataset, assignee, count: int, seed: int = 0, created_by=None) -> list[Task]:
    """Give ``assignee`` ``count`` tasks on random frames of ``dataset`` nobody has a task on yet.

    Idempotent: tasks the assignee already has in the dataset count towards ``count``.
    """
    if count < 0:
        raise ApplicationError(f"count must be non-negative, got {count}")
    have = Task.objects.filter(assignee=assignee, frame__sequence__subject__dataset=dataset).count()
    need = count - have
    if need <= 0:
        return []
    candidates = list(
        Frame.objects.filter(sequence__subject__dataset=dataset, skeletons__source=Skeleton3D.Source.DATASET)
        .exclude(tasks__isnull=False)
        .distinct()
        .order_by("id")
        .values_list("id", flat=True)
    )
    rng = np.random.default_rng(seed)
    chosen = sorted(rng.choice(len(candidates), min(need, len(candidates)), replace=False).tolist())
    frames = Frame.objects.in_bulk([candidates[i] for i in chosen])
    return [task_create(frame=frames[candidates[i]], assignee=assignee, created_by=created_by) for i in chosen]


# --- the annotator's queue and submitting -----------------------------------------------------------


@transaction.atomic
def task_start_next(*, user) -> Task:
    """Start the user's next task: the oldest rejected one, else in progress, else to do (priority, then id)."""
    rank = Case(*[When(status=s, then=Value(i)) for i, s in enumerate(QUEUE_ORDER)], output_field=IntegerField())
    task = (
        Task.objects.select_for_update(of=("self",))
        .filter(assignee=user, status__in=QUEUE_ORDER)
        .annotate(queue_rank=rank)
        .order_by("queue_rank", "priority", "id")
        .first()
    )
    if task is None:
        raise NotFoundError(NO_TASK_LEFT)
    if task_start_if_needed(task):
        task_bump(task, fields=("status", "started_at"))
        task_status_broadcast(task)
    return task


@transaction.atomic
def task_submit(*, task: Task, user, base_revision: int | None, editor_session: str | None = None) -> Task:
    """Write the corrected skeleton as a new ``corrected`` Skeleton3D version and mark the task submitted.

    One transaction: a database error leaves neither a version nor a status change.
    """
    task = task_lock_for_write(task)
    task_check_writable(task=task, user=user, base_revision=base_revision, editor_session=editor_session)
    latest = Skeleton3D.objects.filter(frame_id=task.frame_id).aggregate(v=Max("version"))["v"] or 0
    skeleton = Skeleton3D.objects.create(
        frame_id=task.frame_id,
        version=latest + 1,
        source=Skeleton3D.Source.CORRECTED,
        keypoints=task.current_keypoints,
        parent=task.base_skeleton,
        created_by=user,
        note=f"task {task.pk}, revision {task.revision + 1}",
    )
    now = timezone.now()
    task.status = Task.Status.SUBMITTED
    task.result_skeleton = skeleton
    task.submitted_at = now
    if task.started_at is None:
        task.started_at = now
    task_bump(task, fields=("status", "result_skeleton", "submitted_at", "started_at"))
    task_status_broadcast(task)
    return task


# --- edit locks -------------------------------------------------------------------------------------


def _lock_broadcast(task: Task, holder, session: str = "") -> None:
    data = {
        "holder": holder.username if holder else None,
        "session": session if holder else "",
        "assignee": task.assignee.username,
        "status": task.status,
    }
    task_event_broadcast(task_id=task.pk, kind="lock", data=data)


@transaction.atomic
def task_lock_acquire(*, task: Task, user, channel_name: str, session: str = "") -> tuple[bool, object | None]:
    """Try to take the edit lock of ``task`` for ``user``'s editor ``session`` through ``channel_name``;
    returns (acquired, holder).

    Only the assignee of an editable task can hold it. A lock belongs to one editor session (one
    browser tab; ``session`` defaults to the channel, one connection): a live lock of another session
    is refused even to the same user, a lock whose heartbeat is older than ``LOCK_TTL_S`` has expired
    and is taken over, and the same session reconnecting moves the lock to its new channel.
    """
    session = session or channel_name
    task = task_lock_for_write(task)
    now = timezone.now()
    try:
        lock = task.lock
    except TaskLock.DoesNotExist:
        lock = None
    live = lock is not None and lock.heartbeat_at >= now - timedelta(seconds=LOCK_TTL_S)
    if not access.task_editable_by(user=user, task=task):
        return False, lock.holder if live else None
    if live and (lock.holder_id != user.pk or lock.session != session):
        return False, lock.holder
    if lock is None:
        TaskLock.objects.create(task=task, holder=user, channel_name=channel_name, session=session, acquired_at=now,
                                heartbeat_at=now)  # fmt: skip
    else:
        lock.holder, lock.channel_name, lock.session, lock.acquired_at, lock.heartbeat_at = (
            user, channel_name, session, now, now
        )  # fmt: skip
        lock.save()
    _lock_broadcast(task, user, session)
    return True, user


@transaction.atomic
def task_lock_heartbeat(*, task: Task, channel_name: str) -> bool:
    """Keep the lock held through ``channel_name`` alive; False if that channel does not hold it (any more)."""
    return TaskLock.objects.filter(task=task, channel_name=channel_name).update(heartbeat_at=timezone.now()) > 0


@transaction.atomic
def task_lock_release(*, channel_name: str) -> list[int]:
    """Release every lock held through ``channel_name``; returns the ids of the tasks released."""
    locks = list(TaskLock.objects.filter(channel_name=channel_name).select_related("task__assignee"))
    for lock in locks:
        lock.delete()
        _lock_broadcast(lock.task, None)
    return [lock.task_id for lock in locks]
