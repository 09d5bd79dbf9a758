"""Tasks: creation, the queue, submitting a corrected skeleton version, and edit locks."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import numpy as np
import pytest
from django.db import DatabaseError
from django.utils import timezone

from annotator.exceptions import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError
from annotator.models import LOCK_TTL_S, Dataset, Skeleton3D, Task, TaskLock
from annotator.services.annotations import correction_create
from annotator.services.reviews import review_reject
from annotator.services.tasks import (
    NO_TASK_LEFT,
    task_create,
    task_lock_acquire,
    task_lock_heartbeat,
    task_lock_release,
    task_start_next,
    task_submit,
    tasks_create_for_annotator,
)


@pytest.mark.django_db
class TaskCreateTests:
    def test_defaults_to_all_views_and_the_latest_dataset_skeleton(self, frames, users):
        d = frames[0]
        task = task_create(frame=d.frame, assignee=users["annotator"])
        assert sorted(task.views.values_list("pk", flat=True)) == sorted(v.pk for v in d.views)
        assert task.base_skeleton.source == Skeleton3D.Source.DATASET
        np.testing.assert_array_equal(task.current_keypoints, task.base_skeleton.keypoints)
        assert (task.status, task.revision) == (Task.Status.TODO, 0)

    def test_one_open_task_per_frame_and_assignee(self, frames, users):
        task_create(frame=frames[0].frame, assignee=users["annotator"])
        with pytest.raises(ApplicationError, match="already has an open task"):
            task_create(frame=frames[0].frame, assignee=users["annotator"])
        task_create(frame=frames[0].frame, assignee=users["other"])  # another annotator may cross-check it

    def test_views_of_another_frame_are_refused(self, frames, users):
        with pytest.raises(ApplicationError, match="do not belong to frame"):
            task_create(frame=frames[0].frame, assignee=users["annotator"], views=frames[1].views[:1])

    def test_for_annotator_is_idempotent_and_gives_different_frames(self, frames, users):
        dataset = Dataset.objects.get()
        first = tasks_create_for_annotator(dataset=dataset, assignee=users["annotator"], count=2, seed=1)
        again = tasks_create_for_annotator(dataset=dataset, assignee=users["annotator"], count=2, seed=1)
        other = tasks_create_for_annotator(dataset=dataset, assignee=users["other"], count=2, seed=2)
        assert (len(first), len(again), len(other)) == (2, 0, 1)  # only 3 frames exist
        assert not {t.frame_id for t in first} & {t.frame_id for t in other}


@pytest.mark.django_db
class TaskStartNextTests:
    def test_queue_order_rejected_then_in_progress_then_todo(self, frames, users):
        user = users["annotator"]
        todo = task_create(frame=frames[0].frame, assignee=user, priority=0)
        busy = task_create(frame=frames[1].frame, assignee=user, priority=5)
        back = task_create(frame=frames[2].frame, assignee=user, priority=9)
        Task.objects.filter(pk=busy.pk).update(status=Task.Status.IN_PROGRESS)
        Task.objects.filter(pk=back.pk).update(status=Task.Status.SUBMITTED)
        review_reject(task=back, reviewer=users["reviewer"], comment="left wrist is off", base_revision=back.revision)
        assert task_start_next(user=user).pk == back.pk
        # Now both are in progress: the lower priority value comes first.
        assert task_start_next(user=user).pk == busy.pk
        Task.objects.filter(pk__in=[busy.pk, back.pk]).update(status=Task.Status.ACCEPTED)
        assert task_start_next(user=user).pk == todo.pk

    def test_starting_sets_in_progress_and_started_at(self, task, users):
        started = task_start_next(user=users["annotator"])
        assert (started.pk, started.status, started.revision) == (task.pk, Task.Status.IN_PROGRESS, 1)
        assert started.started_at is not None

    def test_empty_queue(self, users):
        with pytest.raises(NotFoundError, match=NO_TASK_LEFT):
            task_start_next(user=users["annotator"])


@pytest.mark.django_db
class TaskSubmitTests:
    def test_submit_writes_a_corrected_version(self, task, frames, users):
        d = frames[0]
        correction_create(task=task, user=users["annotator"], view=d.views[0].pk, keypoint=5, x=400.0, y=300.0,
                          base_revision=0)  # fmt: skip
        task = task_submit(task=task, user=users["annotator"], base_revision=1)
        skeleton = task.result_skeleton
        assert (task.status, task.revision) == (Task.Status.SUBMITTED, 2)
        assert (skeleton.source, skeleton.version, skeleton.parent_id) == ("corrected", 2, task.base_skeleton_id)
        assert skeleton.created_by == users["annotator"]
        np.testing.assert_array_equal(skeleton.keypoints, task.current_keypoints)

    def test_a_database_error_leaves_no_partial_version(self, task, users):
        with mock.patch.object(Task, "save", side_effect=DatabaseError("disk full")):
            with pytest.raises(DatabaseError):
                task_submit(task=task, user=users["annotator"], base_revision=0)
        assert not Skeleton3D.objects.filter(source=Skeleton3D.Source.CORRECTED).exists()
        task.refresh_from_db()
        assert task.status == Task.Status.TODO

    def test_stale_and_foreign_submits_are_refused(self, task, users):
        with pytest.raises(ConflictError):
            task_submit(task=task, user=users["annotator"], base_revision=3)
        with pytest.raises(PermissionDeniedError):
            task_submit(task=task, user=users["other"], base_revision=0)
        task_submit(task=task, user=users["annotator"], base_revision=0)
        with pytest.raises(ApplicationError, match="is submitted"):
            task_submit(task=task, user=users["annotator"], base_revision=1)


@pytest.mark.django_db
class TaskLockTests:
    def test_assignee_acquires_others_do_not(self, task, users):
        ann = users["annotator"]
        assert task_lock_acquire(task=task, user=ann, channel_name="a", session="tab-1") == (True, ann)
        assert task_lock_acquire(task=task, user=users["reviewer"], channel_name="r") == (False, ann)
        # The same tab reconnecting (a new channel, the same session) moves the lock there.
        assert task_lock_acquire(task=task, user=ann, channel_name="b", session="tab-1")[0]
        assert TaskLock.objects.get().channel_name == "b"
        assert task_lock_release(channel_name="a") == []
        assert task_lock_release(channel_name="b") == [task.pk]
        assert not TaskLock.objects.exists()

    def test_a_second_tab_of_the_same_user_does_not_take_the_lock(self, task, users):
        """The lock belongs to one editor session (a browser tab), not to the user."""
        ann = users["annotator"]
        assert task_lock_acquire(task=task, user=ann, channel_name="a", session="tab-1") == (True, ann)
        assert task_lock_acquire(task=task, user=ann, channel_name="b", session="tab-2") == (False, ann)
        # Without a session, a connection is its own session: another connection is another session too.
        assert task_lock_acquire(task=task, user=ann, channel_name="c") == (False, ann)
        lock = TaskLock.objects.get()
        assert (lock.channel_name, lock.session) == ("a", "tab-1")
        task_lock_release(channel_name="a")
        assert task_lock_acquire(task=task, user=ann, channel_name="b", session="tab-2") == (True, ann)

    def test_expired_lock_is_taken_over(self, task, users):
        old = timezone.now() - timedelta(seconds=LOCK_TTL_S + 1)
        TaskLock.objects.create(task=task, holder=users["other"], channel_name="x", acquired_at=old, heartbeat_at=old)
        assert task_lock_acquire(task=task, user=users["annotator"], channel_name="a") == (True, users["annotator"])

    def test_heartbeat_keeps_only_the_holders_channel_alive(self, task, users):
        task_lock_acquire(task=task, user=users["annotator"], channel_name="a")
        assert task_lock_heartbeat(task=task, channel_name="a")
        assert not task_lock_heartbeat(task=task, channel_name="zzz")

    def test_no_lock_on_a_submitted_task(self, task, users):
        task_submit(task=task, user=users["annotator"], base_revision=0)
        assert task_lock_acquire(task=task, user=users["annotator"], channel_name="a") == (False, None)
