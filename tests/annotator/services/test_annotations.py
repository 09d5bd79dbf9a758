"""Corrections: validation, re-triangulation, append-only undo/redo, part validity, replay == maintained state."""

from __future__ import annotations

import numpy as np
import pytest
from django.utils import timezone

from annotator import geometry, keypoints, selectors
from annotator.exceptions import ApplicationError, ConflictError, PermissionDeniedError
from annotator.models import Correction, PartValidity, Task, TaskLock
from annotator.refit import UNCORRECTED_VIEW_WEIGHT
from annotator.services.annotations import (
    NOTHING_TO_REDO,
    NOTHING_TO_UNDO,
    correction_create,
    correction_redo,
    correction_undo,
    part_validity_set,
)
from annotator.services.tasks import task_lock_acquire, task_submit

FACE = int(keypoints.PARTS["face"][0])
LEFT_HAND = int(keypoints.PARTS["left_hand"][3])


def _move(task, user, view, keypoint, xy, **kwargs):
    task.refresh_from_db()
    kwargs.setdefault("base_revision", task.revision)
    return correction_create(task=task, user=user, view=view.pk, keypoint=keypoint, x=float(xy[0]), y=float(xy[1]),
                             **kwargs)  # fmt: skip


def _counts():
    return (
        Correction.objects.count(),
        PartValidity.objects.count(),
        list(Task.objects.values_list("revision", "status")),
    )


@pytest.mark.django_db
class CorrectionCreateTests:
    def test_first_correction_starts_the_task_and_bumps_the_revision(self, task, frames, users):
        d = frames[0]
        result = _move(task, users["annotator"], d.views[0], 5, d.project(0, d.world[5]) + [12, -7])
        task.refresh_from_db()
        assert (task.status, task.revision, result.revision) == (Task.Status.IN_PROGRESS, 1, 1)
        assert task.started_at is not None
        c = result.correction
        assert (c.revision, c.kind, c.flag, c.source, c.supersedes) == (1, "move", "visible", "manual", None)

    def test_single_view_correction_lands_on_the_dragged_position(self, task, frames, users):
        d = frames[0]
        dragged = d.project(1, d.world[9]) + [40.0, 25.0]
        result = _move(task, users["annotator"], d.views[1], 9, dragged)
        task.refresh_from_db()
        X = task.current_keypoints[9]
        np.testing.assert_allclose(result.point_3d, X)
        assert np.linalg.norm(d.project(1, X) - dragged) < 1.0
        assert result.residuals[d.views[1].pk] < 1.0
        # Depth comes from the other views: the point stays near where they put it.
        assert np.linalg.norm(X - d.world[9]) < 300
        # Untouched keypoints are unchanged.
        base = task.base_skeleton.keypoints
        np.testing.assert_array_equal(np.delete(task.current_keypoints, 9, axis=0), np.delete(base, 9, axis=0))

    def test_two_views_on_a_known_point_recover_it(self, task, frames, users):
        d = frames[0]
        target = d.world[3] + [60.0, -45.0, 80.0]
        _move(task, users["annotator"], d.views[0], 3, d.project(0, target))
        result = _move(task, users["annotator"], d.views[2], 3, d.project(2, target))
        assert np.linalg.norm(np.asarray(result.point_3d) - target) < 1.0
        # The views still on the dataset position disagree with the fit and are flagged.
        assert set(result.flagged_views) == {d.views[1].pk, d.views[3].pk}
        assert result.residuals[d.views[0].pk] < 0.1

    def test_reset_goes_back_to_the_base_point(self, task, frames, users):
        d = frames[0]
        user = users["annotator"]
        _move(task, user, d.views[0], 7, d.project(0, d.world[7]) + 30)
        task.refresh_from_db()
        result = correction_create(task=task, user=user, view=d.views[0].pk, keypoint=7, x=None, y=None,
                                   base_revision=task.revision)  # fmt: skip
        task.refresh_from_db()
        np.testing.assert_array_equal(task.current_keypoints[7], task.base_skeleton.keypoints[7])
        assert result.flagged_views == []
        assert result.correction.supersedes.revision == 1

    def test_flag_only_is_kind_flag_and_keeps_the_point(self, task, frames, users):
        d = frames[0]
        user = users["annotator"]
        xy = d.project(0, d.world[4]) + 15
        first = _move(task, user, d.views[0], 4, xy)
        second = _move(task, user, d.views[0], 4, xy, flag="occluded")
        assert second.correction.kind == "flag"
        np.testing.assert_allclose(second.point_3d, first.point_3d)

    @pytest.mark.parametrize(
        "change, message",
        [
            ({"keypoint": keypoints.NUM_KEYPOINTS}, "keypoint must be an integer from 0 to"),
            ({"keypoint": -1}, "keypoint must be an integer"),
            ({"x": float("nan")}, "x must be a finite number"),
            ({"y": float("inf")}, "y must be a finite number"),
            ({"x": "12"}, "x must be a finite number"),
            ({"x": 1e6}, "far outside"),
            ({"y": -5000.0}, "far outside"),
            ({"x": None}, "both be numbers, or both null"),
            ({"flag": "hidden"}, "flag must be one of visible, occluded, unsure"),
            ({"view": 10**6}, "is not one of task"),
            ({"base_revision": None}, "base_revision is required"),
        ],
    )
    def test_bad_input_is_refused_and_changes_nothing(self, task, frames, users, change, message):
        d = frames[0]
        kwargs = {"view": d.views[0].pk, "keypoint": 1, "x": 100.0, "y": 100.0, "base_revision": 0, **change}
        before = _counts()
        with pytest.raises(ApplicationError, match=message):
            correction_create(task=task, user=users["annotator"], **kwargs)
        assert _counts() == before

    def test_a_view_of_another_frame_is_refused(self, task, frames, users):
        with pytest.raises(ApplicationError, match="is not one of task"):
            correction_create(task=task, user=users["annotator"], view=frames[1].views[0].pk, keypoint=1, x=1.0,
                              y=1.0, base_revision=0)  # fmt: skip

    def test_a_view_outside_the_task_subset_is_refused(self, frames, users):
        from annotator.services.tasks import task_create

        d = frames[1]
        task = task_create(frame=d.frame, assignee=users["annotator"], views=d.views[:2])
        with pytest.raises(ApplicationError, match="is not one of task"):
            correction_create(task=task, user=users["annotator"], view=d.views[3].pk, keypoint=1, x=1.0, y=1.0,
                              base_revision=0)  # fmt: skip

    def test_stale_revision_is_a_conflict_with_the_current_state(self, task, frames, users):
        d = frames[0]
        _move(task, users["annotator"], d.views[0], 1, (300.0, 300.0))
        before = _counts()
        with pytest.raises(ConflictError) as exc:
            _move(task, users["annotator"], d.views[1], 1, (300.0, 300.0), base_revision=0)
        assert exc.value.extra["current_revision"] == 1
        assert exc.value.extra["state"]["revision"] == 1
        assert _counts() == before

    @pytest.mark.parametrize("who", ["other", "reviewer", "admin"])
    def test_only_the_assignee_may_correct(self, task, frames, users, who):
        with pytest.raises(PermissionDeniedError, match="only the task's assignee"):
            _move(task, users[who], frames[0].views[0], 1, (300.0, 300.0))
        assert Correction.objects.count() == 0

    def test_a_submitted_task_cannot_be_corrected(self, task, frames, users):
        task_submit(task=task, user=users["annotator"], base_revision=0)
        with pytest.raises(ApplicationError, match="is submitted and can no longer be edited"):
            _move(task, users["annotator"], frames[0].views[0], 1, (300.0, 300.0))

    def test_another_users_live_lock_is_a_conflict(self, task, frames, users):
        now = timezone.now()
        TaskLock.objects.create(task=task, holder=users["other"], channel_name="x", acquired_at=now, heartbeat_at=now)
        with pytest.raises(ConflictError, match="the task is open for editing by ann2"):
            _move(task, users["annotator"], frames[0].views[0], 1, (300.0, 300.0))

    def test_a_write_from_another_editor_session_of_the_same_user_is_a_conflict(self, task, frames, users):
        """Two tabs of one user: the one holding the lock writes, the other (and a script without a session)
        gets 409 and writes nothing."""
        ann, view = users["annotator"], frames[0].views[0]
        task_lock_acquire(task=task, user=ann, channel_name="ch-1", session="tab-1")
        for session in ("tab-2", None):
            with pytest.raises(ConflictError, match="open for editing in another window or tab of yours"):
                correction_create(task=task, user=ann, view=view.pk, keypoint=1, x=300.0, y=300.0, base_revision=0,
                                  editor_session=session)  # fmt: skip
        assert Correction.objects.count() == 0
        answer = correction_create(task=task, user=ann, view=view.pk, keypoint=1, x=300.0, y=300.0, base_revision=0,
                                   editor_session="tab-1")  # fmt: skip
        assert answer.revision == 1

    def test_an_invalid_part_refuses_corrections_in_that_view(self, task, frames, users):
        d = frames[0]
        part_validity_set(task=task, user=users["annotator"], view=d.views[0].pk, part="face", valid=False,
                          base_revision=0)  # fmt: skip
        with pytest.raises(ApplicationError, match="face is marked not annotatable"):
            _move(task, users["annotator"], d.views[0], FACE, (300.0, 300.0))
        _move(task, users["annotator"], d.views[1], FACE, d.project(1, d.world[FACE]) + 5)  # other views are fine


@pytest.mark.django_db
class CorrectionUndoRedoTests:
    def test_undo_and_redo_are_new_revisions(self, task, frames, users):
        d = frames[0]
        user = users["annotator"]
        a = d.project(0, d.world[2]) + [20, 0]
        b = d.project(0, d.world[2]) + [0, 25]
        _move(task, user, d.views[0], 2, a)
        second = _move(task, user, d.views[0], 2, b)
        undo = correction_undo(task=task, user=user, base_revision=2)
        assert (undo.revision, undo.correction.kind, undo.correction.target_revision) == (3, "undo", 2)
        assert (undo.correction.x, undo.correction.y) == tuple(a)
        undo2 = correction_undo(task=task, user=user, base_revision=3)
        assert undo2.correction.x is None  # back to the dataset position
        task.refresh_from_db()
        np.testing.assert_array_equal(task.current_keypoints[2], task.base_skeleton.keypoints[2])
        redo = correction_redo(task=task, user=user, base_revision=4)
        assert (redo.correction.kind, redo.correction.target_revision) == ("redo", 1)
        assert (redo.correction.x, redo.correction.y) == tuple(a)
        redo2 = correction_redo(task=task, user=user, base_revision=5)
        np.testing.assert_allclose(redo2.point_3d, second.point_3d)
        with pytest.raises(ApplicationError, match=NOTHING_TO_REDO):
            correction_redo(task=task, user=user, base_revision=6)
        # Nothing was overwritten: six rows, revisions 1..6, each superseding the one before.
        rows = list(Correction.objects.order_by("revision"))
        assert [r.revision for r in rows] == [1, 2, 3, 4, 5, 6]
        assert [r.supersedes_id for r in rows[1:]] == [r.pk for r in rows[:-1]]

    def test_redo_only_right_after_undos(self, task, frames, users):
        d = frames[0]
        user = users["annotator"]
        _move(task, user, d.views[0], 2, (300.0, 300.0))
        correction_undo(task=task, user=user, base_revision=1)
        _move(task, user, d.views[1], 3, (310.0, 300.0))
        with pytest.raises(ApplicationError, match=NOTHING_TO_REDO):
            correction_redo(task=task, user=user, base_revision=3)

    def test_nothing_to_undo(self, task, users):
        with pytest.raises(ApplicationError, match=NOTHING_TO_UNDO):
            correction_undo(task=task, user=users["annotator"], base_revision=0)

    def test_undo_across_keypoints_is_linear(self, task, frames, users):
        d = frames[0]
        user = users["annotator"]
        _move(task, user, d.views[0], 2, (300.0, 300.0))
        _move(task, user, d.views[1], 8, (320.0, 310.0))
        undo = correction_undo(task=task, user=user, base_revision=2)
        assert (undo.correction.keypoint, undo.correction.view_id) == (8, d.views[1].pk)
        undo = correction_undo(task=task, user=user, base_revision=3)
        assert undo.correction.keypoint == 2

    def test_undo_of_a_part_validity(self, task, frames, users):
        d = frames[0]
        user = users["annotator"]
        part_validity_set(task=task, user=user, view=d.views[2].pk, part="left_hand", valid=False, base_revision=0)
        undo = correction_undo(task=task, user=user, base_revision=1)
        assert undo.correction is None
        assert (undo.part_validity.valid, undo.part_validity.kind, undo.revision) == (True, "undo", 2)
        assert undo.as_dict()["part_validity"] == {"revision": 2, "view": d.views[2].pk, "part": "left_hand",
                                                   "valid": True}  # fmt: skip
        redo = correction_redo(task=task, user=user, base_revision=2)
        assert redo.part_validity.valid is False
        with pytest.raises(ApplicationError, match="left hand is marked not annotatable"):
            _move(task, user, d.views[2], LEFT_HAND, (300.0, 300.0))

    def test_stale_undo_is_a_conflict(self, task, frames, users):
        _move(task, users["annotator"], frames[0].views[0], 2, (300.0, 300.0))
        with pytest.raises(ConflictError):
            correction_undo(task=task, user=users["annotator"], base_revision=0)


@pytest.mark.django_db
class PartValiditySetTests:
    def test_set_and_bad_part(self, task, frames, users):
        d = frames[0]
        validity = part_validity_set(task=task, user=users["annotator"], view=d.views[0].pk, part="face",
                                     valid=False, base_revision=0)  # fmt: skip
        assert (validity.revision, validity.valid) == (1, False)
        message = r"COCO-WholeBody layout .*\(one of face, left_hand, right_hand\), got 'body'"
        with pytest.raises(ApplicationError, match=message):
            part_validity_set(task=task, user=users["annotator"], view=d.views[0].pk, part="body", valid=False,
                              base_revision=1)  # fmt: skip
        assert PartValidity.objects.count() == 1


@pytest.mark.django_db
class ReplayTests:
    def test_replay_of_the_history_equals_the_maintained_state(self, task, frames, users):
        d = frames[0]
        user = users["annotator"]
        rng = np.random.default_rng(3)
        for _ in range(40):
            task.refresh_from_db()
            roll = rng.random()
            if roll < 0.55:
                v, k = int(rng.integers(4)), int(rng.integers(0, keypoints.PART_SLICES["body"].stop))
                xy = d.project(v, d.world[k]) + rng.normal(0, 20, 2)
                flag = str(rng.choice(Correction.Flag.values))
                _move(task, user, d.views[v], k, xy, flag=flag)
            elif roll < 0.65:
                v, k = int(rng.integers(4)), int(rng.integers(0, 5))
                correction_create(task=task, user=user, view=d.views[v].pk, keypoint=k, x=None, y=None,
                                  base_revision=task.revision)  # fmt: skip
            elif roll < 0.75:
                part_validity_set(task=task, user=user, view=d.views[int(rng.integers(4))].pk,
                                  part=str(rng.choice(keypoints.VALIDITY_PARTS)), valid=bool(rng.random() < 0.5),
                                  base_revision=task.revision)  # fmt: skip
            elif roll < 0.9:
                try:
                    correction_undo(task=task, user=user, base_revision=task.revision)
                except ApplicationError:
                    pass
            else:
                try:
                    correction_redo(task=task, user=user, base_revision=task.revision)
                except ApplicationError:
                    pass
        task.refresh_from_db()
        history = list(selectors.task_history(task=task))
        replayed = selectors.task_state_replay(history, PartValidity.objects.filter(task=task))
        assert replayed == selectors.task_state(task=task)
        # The maintained 3D state equals a fresh fit of the replayed 2D state, keypoint by keypoint.
        for k in {c.keypoint for c in history}:
            observed = np.stack([d.project(v, d.world[k]) for v in range(4)])
            weights = np.full(4, UNCORRECTED_VIEW_WEIGHT)
            for v, view in enumerate(d.views):
                x, y, _ = replayed.points.get((view.pk, k), (None, None, "visible"))
                if x is not None:
                    observed[v], weights[v] = (x, y), 1.0
            expected = task.base_skeleton.keypoints[k] if (weights < 1).all() else geometry.triangulate(
                d.cams, observed[:, None], weights=weights[:, None])[0]  # fmt: skip
            np.testing.assert_allclose(task.current_keypoints[k], expected, atol=1e-6)
        # The editor payload tells the same story.
        payload = selectors.task_editor_payload(task=task, user=user)
        for view in payload["views"]:
            for k in range(keypoints.NUM_KEYPOINTS):
                assert view["corrected"][k] == replayed.is_corrected(view["id"], k)
                assert view["flags"][k] == replayed.flag(view["id"], k)
            for part, valid in view["part_valid"].items():
                assert valid == replayed.part_valid(view["id"], part)


@pytest.fixture
def coco17(db, tmp_path, users):
    """(frames, task) of a COCO-17 dataset on the 6-camera ring, imported in the generic format."""
    from tests.annotator.services.task_data import import_layout_frames, make_task

    frames = import_layout_frames(tmp_path, "coco-17")
    return frames, make_task(frames[0], users["annotator"])


@pytest.mark.django_db
class CorrectionCreateOtherLayoutTests:
    """A task of a COCO-17 dataset is corrected over its own 17 keypoints and none of the whole body's parts."""

    def test_the_last_keypoint_is_corrected_and_retriangulated_from_six_views(self, coco17, users):
        frames, task = coco17
        d = frames[0]
        assert len(d.views) == 6 and task.base_skeleton.keypoints.shape == (17, 3)
        k = keypoints.layout_get("coco-17").index("right_ankle")
        assert k == 16
        target = d.world[k] + [50.0, -40.0, 30.0]
        _move(task, users["annotator"], d.views[0], k, d.project(0, target))
        result = _move(task, users["annotator"], d.views[3], k, d.project(3, target))
        # Two corrected views decide the point; the four uncorrected ones (weight UNCORRECTED_VIEW_WEIGHT) barely pull.
        assert np.linalg.norm(np.asarray(result.point_3d) - target) < 3.0
        assert np.linalg.norm(np.asarray(result.point_3d) - d.world[k]) > 60.0
        assert set(result.reprojections) == {v.pk for v in d.views}
        task.refresh_from_db()
        assert task.current_keypoints.shape == (17, 3)
        np.testing.assert_allclose(task.current_keypoints[k], result.point_3d)

    @pytest.mark.parametrize("keypoint", [17, 132])
    def test_a_keypoint_beyond_the_layout_is_refused_naming_it(self, coco17, users, keypoint):
        frames, task = coco17
        before = _counts()
        message = r"from 0 to 16 \(the COCO-17 layout, coco-17/v1, has 17 keypoints\)"
        with pytest.raises(ApplicationError, match=message):
            correction_create(task=task, user=users["annotator"], view=frames[0].views[0].pk, keypoint=keypoint,
                              x=100.0, y=100.0, base_revision=0)  # fmt: skip
        assert _counts() == before

    def test_no_part_validity_on_a_body_only_layout(self, coco17, users):
        frames, task = coco17
        with pytest.raises(ApplicationError, match=r"COCO-17 layout .*\(none: no part of this layout"):
            part_validity_set(task=task, user=users["annotator"], view=frames[0].views[0].pk, part="face",
                              valid=False, base_revision=0)  # fmt: skip
        assert PartValidity.objects.count() == 0

    def test_the_payload_sends_the_datasets_layout(self, coco17, users):
        frames, task = coco17
        payload = selectors.task_editor_payload(task=task, user=users["annotator"])
        layout = payload["layout"]
        assert (layout["version"], layout["num_keypoints"], layout["validity_parts"]) == ("coco-17/v1", 17, [])
        assert layout == keypoints.layout_get("coco-17").to_json()
        for view in payload["views"]:
            assert len(view["base"]) == len(view["current"]) == len(view["flags"]) == len(view["corrected"]) == 17
            assert view["part_valid"] == {}
        assert selectors.task_layout(task) is keypoints.layout_get("coco-17")

    def test_submitted_and_accepted_as_a_17_keypoint_version(self, coco17, users):
        from annotator.services.reviews import review_accept

        frames, task = coco17
        d = frames[0]
        _move(task, users["annotator"], d.views[1], 9, d.project(1, d.world[9]) + [15.0, 10.0])
        task.refresh_from_db()
        task = task_submit(task=task, user=users["annotator"], base_revision=task.revision)
        task = review_accept(task=task, reviewer=users["reviewer"], base_revision=task.revision)
        assert task.status == Task.Status.ACCEPTED
        assert task.result_skeleton.keypoints.shape == (17, 3)
        np.testing.assert_array_equal(task.result_skeleton.keypoints, task.current_keypoints)

    def test_history_of_a_keypoint_beyond_the_layout_is_refused(self, coco17):
        _, task = coco17
        assert list(selectors.task_history(task=task, keypoint=16)) == []
        with pytest.raises(ApplicationError, match="the COCO-17 layout"):
            selectors.task_history(task=task, keypoint=17)
