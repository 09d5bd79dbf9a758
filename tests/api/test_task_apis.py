"""The task endpoints: payload shapes, permissions by role, status transitions and bad input (4xx, nothing stored)."""

from __future__ import annotations

import numpy as np
import pytest
from rest_framework import status
from rest_framework.test import APIClient

from annotator import geometry, keypoints
from annotator.models import Correction, PartValidity, Skeleton3D, Task
from tests.annotator.services.task_data import import_frames, make_task

#: Database queries of one correction (transaction statements not counted); see the test that holds it.
QUERIES_PER_CORRECTION = 7


@pytest.fixture
def client():
    return APIClient()


def _as(client, user):
    client.force_authenticate(user)
    return client


def _stored():
    return (
        Correction.objects.count(),
        PartValidity.objects.count(),
        list(Task.objects.values_list("revision", "status")),
    )


def _correct(client, task, view, keypoint=5, x=400.0, y=300.0, base_revision=0, **extra):
    body = {"view": view.pk, "keypoint": keypoint, "x": x, "y": y, "base_revision": base_revision, **extra}
    return client.post(f"/api/tasks/{task.pk}/corrections/", body, format="json")


@pytest.mark.django_db
class TaskListApiTests:
    def test_annotators_see_their_own_reviewers_all(self, client, frames, users):
        mine = make_task(frames[0], users["annotator"])
        make_task(frames[1], users["other"])
        rows = _as(client, users["annotator"]).get("/api/tasks/").json()
        assert [r["id"] for r in rows] == [mine.pk]
        row = rows[0]
        assert set(row) == {"id", "kind", "status", "frame", "assignee", "revision", "n_corrections", "updated_at",
                            "url", "editor_url"}  # fmt: skip
        assert row["frame"] == {"id": frames[0].frame.pk, "dataset": "tasks-test", "subject": "S1",
                                "action": "Walking 1", "index": 10}  # fmt: skip
        assert (row["editor_url"], row["url"], row["n_corrections"]) == (
            f"/tasks/{mine.pk}/",
            f"/api/tasks/{mine.pk}/",
            0,
        )
        assert len(_as(APIClient(), users["reviewer"]).get("/api/tasks/").json()) == 2
        assert len(_as(APIClient(), users["admin"]).get("/api/tasks/?status=todo").json()) == 2
        assert _as(APIClient(), users["admin"]).get("/api/tasks/?status=accepted").json() == []

    def test_bad_status_filter_and_anonymous(self, client, users):
        response = _as(client, users["reviewer"]).get("/api/tasks/?status=lost")
        assert response.status_code == status.HTTP_400_BAD_REQUEST
        assert "status" in response.json()["message"]
        assert APIClient().get("/api/tasks/").status_code in (status.HTTP_401_UNAUTHORIZED, status.HTTP_403_FORBIDDEN)


@pytest.mark.django_db
class TaskDetailApiTests:
    def test_payload_shape(self, client, task, frames, users):
        body = _as(client, users["annotator"]).get(f"/api/tasks/{task.pk}/").json()
        assert set(body) == {"id", "kind", "editor_url", "status", "revision", "assignee", "review_comment",
                             "reviewed_by", "can_edit", "lock", "frame", "layout", "views", "corrected_keypoints",
                             "undo_depth", "redo_depth", "history_url", "submit_url", "epipolar_depths"}  # fmt: skip
        assert (body["can_edit"], body["lock"], body["assignee"]) == (True, {"holder": None, "mine": False}, "ann")
        assert body["layout"] == keypoints.layout_json()
        # The depths the browser samples epipolar curves at are this rig's own, not the default for unknown rigs.
        cameras = [v.camera.as_geometry() for v in sorted(task.views.all(), key=lambda v: v.camera.name)]
        depths = np.array(body["epipolar_depths"])
        np.testing.assert_allclose(depths, geometry.rig_epipolar_depths(cameras))
        assert not np.allclose(depths, geometry.DEFAULT_EPIPOLAR_DEPTHS)
        view = body["views"][0]
        assert set(view) == {"id", "camera", "image_url", "width", "height", "camera_params", "base", "current",
                             "corrected", "annotated", "flags", "part_valid"}  # fmt: skip
        assert view["image_url"] == f"/api/views/{view['id']}/image/"
        assert set(view["camera_params"]) == {"K", "R", "t", "dist", "size", "model", "name"}
        assert len(view["base"]) == len(view["current"]) == len(view["flags"]) == keypoints.NUM_KEYPOINTS
        np.testing.assert_allclose(view["base"], frames[0].project(0, frames[0].world), atol=1e-6)
        assert view["part_valid"] == dict.fromkeys(keypoints.VALIDITY_PARTS, True)
        assert (body["history_url"], body["submit_url"]) == (f"/api/tasks/{task.pk}/history/",
                                                             f"/api/tasks/{task.pk}/submit/")  # fmt: skip

    @pytest.mark.parametrize("who, code", [("other", 404), ("reviewer", 200), ("admin", 200)])
    def test_visibility(self, client, task, users, who, code):
        response = _as(client, users[who]).get(f"/api/tasks/{task.pk}/")
        assert response.status_code == code
        if code == 404:
            assert response.json() == {"message": f"no task {task.pk}", "extra": {}}
        else:
            assert response.json()["can_edit"] is False

    def test_anonymous(self, task):
        assert APIClient().get(f"/api/tasks/{task.pk}/").status_code in (401, 403)


@pytest.mark.django_db
class TaskNextApiTests:
    def test_next_starts_a_task_then_empty_queue_is_404(self, client, task, users):
        _as(client, users["annotator"])
        body = client.post("/api/tasks/next/").json()
        assert (body["id"], body["status"], body["revision"]) == (task.pk, "in_progress", 1)
        Task.objects.filter(pk=task.pk).update(status=Task.Status.ACCEPTED)
        response = client.post("/api/tasks/next/")
        assert response.status_code == status.HTTP_404_NOT_FOUND
        assert response.json()["message"] == "no task left in your queue"


@pytest.mark.django_db
class TaskCorrectionApiTests:
    def test_correction_answer(self, client, task, frames, users):
        d = frames[0]
        response = _correct(_as(client, users["annotator"]), task, d.views[0])
        assert response.status_code == status.HTTP_201_CREATED
        body = response.json()
        assert set(body) == {"revision", "point_3d", "reprojections", "residuals", "flagged_views", "correction"}
        assert body["revision"] == 1 and len(body["point_3d"]) == 3
        assert set(body["reprojections"]) == {str(v.pk) for v in d.views}
        assert set(body["correction"]) == {"id", "revision", "view", "keypoint", "x", "y", "flag", "kind", "source",
                                           "author", "created_at"}  # fmt: skip
        assert body["correction"]["author"] == "ann"
        detail = client.get(f"/api/tasks/{task.pk}/").json()
        assert detail["corrected_keypoints"] == [5] and detail["views"][0]["corrected"][5] is True
        # Where the annotator dropped it, not the reprojection, so a reloaded editor shows the drop.
        assert detail["views"][0]["annotated"] == {"5": [body["correction"]["x"], body["correction"]["y"]]}
        assert detail["status"] == "in_progress"

    @pytest.mark.parametrize("keypoint", [5, 50])  # the body, and the face (whose validity is checked too)
    def test_a_correction_costs_a_fixed_small_number_of_queries(self, task, frames, users, keypoint):
        """Authentication, the visible task, the locked task with its edit lock, the frame's views with cameras
        and the part's validity, the keypoint's chain heads, the insert and the update: seven, however long
        the history (it was twelve, and the keypoint's whole history was read)."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext
        from rest_framework.authtoken.models import Token

        client = APIClient(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=users['annotator']).key}")
        url, view = f"/api/tasks/{task.pk}/corrections/", frames[0].views[0].pk
        for revision in range(5):  # some history on the keypoint first
            body = {"view": view, "keypoint": keypoint, "x": 400.0 + revision, "y": 300.0, "base_revision": revision}
            assert client.post(url, body, format="json").status_code == 201
        body = {"view": view, "keypoint": keypoint, "x": 420.0, "y": 300.0, "base_revision": 5}
        with CaptureQueriesContext(connection) as captured:
            assert client.post(url, body, format="json").status_code == 201
        queries = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
        assert len(queries) == QUERIES_PER_CORRECTION, "\n".join(q[:120] for q in queries)

    def test_reset_with_null_coordinates(self, client, task, frames, users):
        _correct(_as(client, users["annotator"]), task, frames[0].views[0])
        response = _correct(client, task, frames[0].views[0], x=None, y=None, base_revision=1)
        assert response.status_code == status.HTTP_201_CREATED
        assert client.get(f"/api/tasks/{task.pk}/").json()["corrected_keypoints"] == []

    def test_stale_revision_is_409_with_state(self, client, task, frames, users):
        _correct(_as(client, users["annotator"]), task, frames[0].views[0])
        before = _stored()
        response = _correct(client, task, frames[0].views[1], base_revision=0)
        assert response.status_code == status.HTTP_409_CONFLICT
        body = response.json()
        assert "revision" in body["message"]
        assert body["extra"]["current_revision"] == 1
        assert body["extra"]["state"]["revision"] == 1 and body["extra"]["state"]["corrected_keypoints"] == [5]
        assert _stored() == before

    @pytest.mark.parametrize(
        "change, fragment",
        [
            (
                {"keypoint": keypoints.NUM_KEYPOINTS},
                f"keypoint must be an integer from 0 to {keypoints.NUM_KEYPOINTS - 1} (the COCO-WholeBody layout",
            ),
            ({"keypoint": True}, "keypoint: A number is required, not a boolean"),
            ({"keypoint": 2**40}, "keypoint: Ensure this value is less than or equal to"),
            ({"x": True}, "x: A number is required, not a boolean"),
            ({"x": 1e308}, "x: Ensure this value is less than or equal to"),
            ({"view": 10**23}, "view: Ensure this value is less than or equal to"),
            ({"base_revision": 2**40}, "base_revision: Ensure this value is less than or equal to"),
            ({"x": "abc"}, "x: A valid number is required"),
            ({"x": "nan"}, "x: A valid number is required"),
            ({"y": "Infinity"}, "y: A valid number is required"),
            ({"x": 99999.0}, "far outside"),
            ({"view": 987654}, "view 987654 is not one of task"),
            ({"flag": "hidden"}, "flag"),
            ({"base_revision": None}, "base_revision"),
        ],
    )
    def test_bad_input(self, client, task, frames, users, change, fragment):
        body = {"view": frames[0].views[0].pk, "keypoint": 5, "x": 400.0, "y": 300.0, "base_revision": 0, **change}
        body = {k: v for k, v in body.items() if v is not None or k in ("x", "y")}
        before = _stored()
        response = _as(client, users["annotator"]).post(f"/api/tasks/{task.pk}/corrections/", body, format="json")
        assert response.status_code == status.HTTP_400_BAD_REQUEST, response.json()
        assert fragment in response.json()["message"]
        assert _stored() == before

    def test_a_view_outside_the_task(self, client, task, frames, users):
        response = _correct(_as(client, users["annotator"]), task, frames[1].views[0])
        assert response.status_code == status.HTTP_400_BAD_REQUEST
        assert "is not one of task" in response.json()["message"]

    def test_another_annotators_task_is_404_and_a_reviewer_403(self, client, task, frames, users):
        response = _correct(_as(client, users["other"]), task, frames[0].views[0])
        assert response.status_code == status.HTTP_404_NOT_FOUND
        response = _correct(_as(APIClient(), users["reviewer"]), task, frames[0].views[0])
        assert response.status_code == status.HTTP_403_FORBIDDEN
        assert Correction.objects.count() == 0

    def test_a_submitted_task_is_refused(self, client, task, frames, users):
        _as(client, users["annotator"]).post(f"/api/tasks/{task.pk}/submit/", {"base_revision": 0}, format="json")
        response = _correct(client, task, frames[0].views[0], base_revision=1)
        assert response.status_code == status.HTTP_400_BAD_REQUEST
        assert "is submitted and can no longer be edited" in response.json()["message"]

    def test_session_auth_enforces_csrf(self, task, frames, users):
        client = APIClient(enforce_csrf_checks=True)
        client.force_login(users["annotator"])
        response = _correct(client, task, frames[0].views[0])
        assert response.status_code == status.HTTP_403_FORBIDDEN
        assert "CSRF" in response.json()["message"]


@pytest.mark.django_db
class TaskUndoRedoPartsApiTests:
    def test_undo_redo_and_parts(self, client, task, frames, users):
        d = frames[0]
        _as(client, users["annotator"])
        url = f"/api/tasks/{task.pk}"
        response = client.post(f"{url}/undo/", {"base_revision": 0}, format="json")
        assert (response.status_code, response.json()["message"]) == (400, "nothing to undo")
        _correct(client, task, d.views[0])
        undo = client.post(f"{url}/undo/", {"base_revision": 1}, format="json")
        assert undo.status_code == status.HTTP_200_OK
        assert (undo.json()["revision"], undo.json()["correction"]["kind"]) == (2, "undo")
        redo = client.post(f"{url}/redo/", {"base_revision": 2}, format="json")
        assert (redo.json()["revision"], redo.json()["correction"]["kind"]) == (3, "redo")
        assert client.post(f"{url}/redo/", {"base_revision": 3}, format="json").json()["message"] == "nothing to redo"
        assert client.post(f"{url}/undo/", {"base_revision": 0}, format="json").status_code == 409
        assert client.post(f"{url}/undo/", {}, format="json").status_code == 400

        part = client.post(f"{url}/parts/", {"view": d.views[1].pk, "part": "face", "valid": False,
                                             "base_revision": 3}, format="json")  # fmt: skip
        assert part.status_code == status.HTTP_201_CREATED
        assert part.json() == {"revision": 4, "view": d.views[1].pk, "part": "face", "valid": False}
        bad = client.post(f"{url}/parts/", {"view": d.views[1].pk, "part": "tail", "valid": False,
                                            "base_revision": 4}, format="json")  # fmt: skip
        assert bad.status_code == 400 and "part" in bad.json()["message"]
        undone = client.post(f"{url}/undo/", {"base_revision": 4}, format="json").json()
        assert undone["part_validity"] == {"revision": 5, "view": d.views[1].pk, "part": "face", "valid": True}
        assert undone["correction"] is None

        history = client.get(f"{url}/history/").json()
        assert [h["kind"] for h in history] == ["move", "undo", "redo"]
        assert client.get(f"{url}/history/?view={d.views[1].pk}").json() == []
        assert len(client.get(f"{url}/history/?keypoint=5").json()) == 3


@pytest.mark.django_db
class TaskSubmitReviewApiTests:
    def test_submit_accept(self, client, task, frames, users):
        _as(client, users["annotator"])
        _correct(client, task, frames[0].views[0])
        response = client.post(f"/api/tasks/{task.pk}/submit/", {"base_revision": 1}, format="json")
        assert response.status_code == status.HTTP_200_OK
        body = response.json()
        skeleton = Skeleton3D.objects.get(source=Skeleton3D.Source.CORRECTED)
        assert body == {"status": "submitted", "skeleton": {"id": skeleton.pk, "version": 2, "source": "corrected"}}
        assert client.post(f"/api/tasks/{task.pk}/accept/", {"base_revision": 2}, format="json").status_code == 403
        reviewer = _as(APIClient(), users["reviewer"])
        answer = reviewer.post(f"/api/tasks/{task.pk}/accept/", {"base_revision": 2}, format="json").json()
        assert answer == {"status": "accepted", "revision": 3}

    def test_reject_needs_comment_then_returns_to_queue(self, client, task, users):
        _as(client, users["annotator"]).post(f"/api/tasks/{task.pk}/submit/", {"base_revision": 0}, format="json")
        reviewer = _as(APIClient(), users["admin"])
        response = reviewer.post(f"/api/tasks/{task.pk}/reject/", {"base_revision": 1}, format="json")
        assert response.status_code == 400 and "comment" in response.json()["message"]
        response = reviewer.post(f"/api/tasks/{task.pk}/reject/", {"comment": "hands", "base_revision": 1},
                                 format="json")  # fmt: skip
        assert response.json() == {"status": "rejected", "revision": 2}
        body = client.post("/api/tasks/next/").json()
        assert (body["id"], body["status"], body["review_comment"], body["can_edit"]) == (task.pk, "in_progress",
                                                                                           "hands", True)  # fmt: skip

    def test_accepting_a_task_that_is_not_submitted(self, task, users):
        client = _as(APIClient(), users["reviewer"])
        response = client.post(f"/api/tasks/{task.pk}/accept/", {"base_revision": 0}, format="json")
        assert response.status_code == 400 and "only submitted tasks" in response.json()["message"]

    @pytest.mark.parametrize("action", ["accept", "reject"])
    def test_a_review_needs_the_revision_it_was_based_on(self, client, task, users, action):
        _as(client, users["annotator"]).post(f"/api/tasks/{task.pk}/submit/", {"base_revision": 0}, format="json")
        reviewer = _as(APIClient(), users["reviewer"])
        response = reviewer.post(f"/api/tasks/{task.pk}/{action}/", {"comment": "hands"}, format="json")
        assert response.status_code == 400 and "base_revision" in response.json()["message"]

    @pytest.mark.parametrize("action", ["accept", "reject"])
    def test_a_stale_review_is_409_with_the_current_state_and_changes_nothing(self, client, task, frames, users,
                                                                              action):  # fmt: skip
        """Reviewed at revision 2 (after a reject), the annotator corrected and resubmitted (revision 5)."""
        annotator = _as(client, users["annotator"])
        annotator.post(f"/api/tasks/{task.pk}/submit/", {"base_revision": 0}, format="json")
        reviewer = _as(APIClient(), users["reviewer"])
        seen = reviewer.post(f"/api/tasks/{task.pk}/reject/", {"comment": "hands", "base_revision": 1},
                             format="json").json()["revision"]  # fmt: skip
        annotator.post("/api/tasks/next/")
        body = {"view": frames[0].views[0].pk, "keypoint": 5, "x": 401.0, "y": 301.0, "base_revision": seen + 1}
        assert annotator.post(f"/api/tasks/{task.pk}/corrections/", body, format="json").status_code == 201
        annotator.post(f"/api/tasks/{task.pk}/submit/", {"base_revision": seen + 2}, format="json")
        response = reviewer.post(f"/api/tasks/{task.pk}/{action}/", {"comment": "ok", "base_revision": seen},
                                 format="json")  # fmt: skip
        assert response.status_code == status.HTTP_409_CONFLICT
        extra = response.json()["extra"]
        assert extra["current_revision"] == seen + 3 == extra["state"]["revision"]
        assert (
            extra["state"]["status"] == "submitted" and "has changed since you loaded it" in response.json()["message"]
        )
        assert Task.objects.get(pk=task.pk).status == Task.Status.SUBMITTED

    def test_a_reviewer_who_is_the_annotator_cannot_accept_their_own_work(self, client, frames, users):
        from annotator import roles
        from annotator.services.users import user_ensure

        both = user_ensure(username="rev-ann", password="pw-rev-ann-1", role=roles.REVIEWER)[0]
        task = make_task(frames[1], both)
        own = _as(client, both)
        assert own.post(f"/api/tasks/{task.pk}/submit/", {"base_revision": 0}, format="json").status_code == 200
        response = own.post(f"/api/tasks/{task.pk}/accept/", {"base_revision": 1}, format="json")
        assert response.status_code == status.HTTP_403_FORBIDDEN
        assert "cannot review your own work" in response.json()["message"]
        assert Task.objects.get(pk=task.pk).status == Task.Status.SUBMITTED


@pytest.mark.django_db
class ViewImageApiTests:
    def test_image_permissions_and_safe_join(self, client, users, tmp_path):
        frames = import_frames(tmp_path, images=True)
        d = frames[0]
        make_task(d, users["annotator"])
        view = d.views[0]
        response = _as(client, users["annotator"]).get(f"/api/views/{view.pk}/image/")
        assert response.status_code == status.HTTP_200_OK
        assert response["Content-Type"] == "image/png"  # what the file is, whatever its name says
        assert b"".join(response.streaming_content).startswith(b"\x89PNG")
        # A frame without a task of this annotator: 404; reviewers see any.
        other_view = frames[1].views[0]
        assert _as(APIClient(), users["other"]).get(f"/api/views/{view.pk}/image/").status_code == 404
        assert client.get(f"/api/views/{other_view.pk}/image/").status_code == 404
        assert _as(APIClient(), users["reviewer"]).get(f"/api/views/{other_view.pk}/image/").status_code == 200
        # An escaping stored path and a missing file are 404 with a message.
        type(view).objects.filter(pk=view.pk).update(image_path="../../etc/passwd")
        response = client.get(f"/api/views/{view.pk}/image/")
        assert response.status_code == 404 and "outside the dataset's image directory" in response.json()["message"]
        type(view).objects.filter(pk=view.pk).update(image_path="S1/missing.jpg")
        assert "is missing" in client.get(f"/api/views/{view.pk}/image/").json()["message"]

    def test_dataset_without_images(self, client, task, frames, users):
        response = _as(client, users["annotator"]).get(f"/api/views/{frames[0].views[0].pk}/image/")
        assert response.status_code == 404 and "has no image directory" in response.json()["message"]


#: How close (px) the true projection must lie to the epipolar polyline the API draws.
CURVE_TOLERANCE_PX = 0.05


def _distance_to_polyline(point: np.ndarray, curve: np.ndarray) -> float:
    """Distance (px) from ``point`` (2,) to the polyline ``curve`` (N, 2): the nearest point of any segment."""
    a, b = curve[:-1], curve[1:]
    ab = b - a
    t = np.clip(np.einsum("ij,ij->i", point - a, ab) / np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-12), 0.0, 1.0)
    return float(np.min(np.linalg.norm(a + t[:, None] * ab - point, axis=1)))


@pytest.mark.django_db
class TaskEpipolarApiTests:
    def test_curves_pass_near_the_true_projection(self, client, task, frames, users):
        d = frames[0]
        xy = d.project(0, d.world[0])
        url = f"/api/tasks/{task.pk}/epipolar/?view={d.views[0].pk}&x={xy[0]}&y={xy[1]}"
        body = _as(client, users["annotator"]).get(url).json()
        assert set(body["curves"]) == {str(v.pk) for v in d.views[1:]}
        for other in (1, 2, 3):
            curve = np.asarray(body["curves"][str(d.views[other].pk)])
            target = d.project(other, d.world[0])
            # The curve is sampled at depths and drawn as straight segments; between samples the lens
            # bends it by far less than a pixel (about 5e-4 px here), so the projection lies on it.
            assert _distance_to_polyline(target, curve) < CURVE_TOLERANCE_PX, other
        # The curve of a point 60 px away in the first view misses the projection by pixels in some view (in
        # a view whose epipolar line runs along the move it may not: the move is along that line).
        moved = (
            _as(client, users["annotator"])
            .get(f"/api/tasks/{task.pk}/epipolar/?view={d.views[0].pk}&x={xy[0] + 60}&y={xy[1]}")
            .json()
        )
        far = [_distance_to_polyline(d.project(o, d.world[0]), np.asarray(moved["curves"][str(d.views[o].pk)]))
               for o in (1, 2, 3)]  # fmt: skip
        assert max(far) > 10.0, far
        assert client.get(f"/api/tasks/{task.pk}/epipolar/?view=0&x=1&y=1").status_code == 400
        assert client.get(f"/api/tasks/{task.pk}/epipolar/?view={d.views[0].pk}&x=a&y=1").status_code == 400

    @pytest.mark.parametrize("x", ["10000", "-2000", "1e308", "-1e308", "1e5", "true", "1" + "0" * 22])
    def test_a_pixel_far_outside_the_image_is_a_400_that_says_so(self, client, task, frames, users, x):
        """These were 500s in the lens model's one-point path (x from about 1e4)."""
        view = frames[0].views[0]
        response = _as(client, users["annotator"]).get(f"/api/tasks/{task.pk}/epipolar/?view={view.pk}&x={x}&y=500")
        assert response.status_code == status.HTTP_400_BAD_REQUEST
        assert "x" in response.json()["message"]

    def test_a_pixel_just_outside_the_image_still_has_curves(self, client, task, frames, users):
        view = frames[0].views[0]
        response = _as(client, users["annotator"]).get(f"/api/tasks/{task.pk}/epipolar/?view={view.pk}&x=1400&y=-300")
        assert response.status_code == status.HTTP_200_OK and set(response.json()["curves"])


@pytest.mark.django_db
class TaskOtherLayoutApiTests:
    """A task of a COCO-17 dataset (6-camera ring, generic format): its own keypoint range and no part validity."""

    @pytest.fixture
    def coco17(self, tmp_path, users):
        from tests.annotator.services.task_data import import_layout_frames

        frames = import_layout_frames(tmp_path, "coco-17")
        return frames, make_task(frames[0], users["annotator"])

    def test_keypoint_16_is_corrected_keypoint_17_refused_naming_the_layout(self, client, coco17, users):
        frames, task = coco17
        c = _as(client, users["annotator"])
        d = frames[0]
        response = _correct(c, task, d.views[2], keypoint=16, x=float(d.project(2, d.world[16])[0] + 20.0),
                            y=float(d.project(2, d.world[16])[1]))  # fmt: skip
        assert response.status_code == status.HTTP_201_CREATED, response.json()
        assert len(response.json()["reprojections"]) == 6
        before = _stored()
        response = _correct(c, task, d.views[2], keypoint=17, base_revision=1)
        assert response.status_code == status.HTTP_400_BAD_REQUEST
        body = response.json()
        assert body["message"] == (
            "keypoint must be an integer from 0 to 16 (the COCO-17 layout, coco-17/v1, has 17 keypoints), got 17"
        )
        assert body["extra"] == {"field": "keypoint", "layout": "coco-17/v1"}
        assert _stored() == before
        history = c.get(f"/api/tasks/{task.pk}/history/?keypoint=17")
        assert history.status_code == status.HTTP_400_BAD_REQUEST and "COCO-17" in history.json()["message"]

    def test_part_validity_is_refused_and_the_payload_has_the_layout(self, client, coco17, users):
        frames, task = coco17
        c = _as(client, users["annotator"])
        body = {"view": frames[0].views[0].pk, "part": "left_hand", "valid": False, "base_revision": 0}
        response = c.post(f"/api/tasks/{task.pk}/parts/", body, format="json")
        assert response.status_code == status.HTTP_400_BAD_REQUEST
        assert "COCO-17 layout" in response.json()["message"] and _stored()[1] == 0
        payload = c.get(f"/api/tasks/{task.pk}/").json()
        assert payload["layout"]["version"] == "coco-17/v1" and len(payload["views"]) == 6
        assert all(len(v["base"]) == 17 and v["part_valid"] == {} for v in payload["views"])

    def test_the_layout_endpoint_gives_a_datasets_layout_or_a_preset(self, client, coco17, users):
        c = _as(client, users["annotator"])
        assert c.get("/api/layout/").json()["version"] == keypoints.LAYOUT_VERSION
        assert c.get("/api/layout/?dataset=ring-coco17").json() == keypoints.layout_get("coco-17").to_json()
        assert c.get("/api/layout/?layout=h36m-17").json()["version"] == "h36m-17/v1"
        response = c.get("/api/layout/?layout=coco-18")
        assert response.status_code == status.HTTP_400_BAD_REQUEST
        assert "unknown keypoint layout 'coco-18'; known: coco-wholebody-133/v1" in response.json()["message"]
        assert c.get("/api/layout/?dataset=nope").status_code == status.HTTP_404_NOT_FOUND
        assert c.get("/api/layout/?dataset=ring-coco17&layout=coco-17").status_code == status.HTTP_400_BAD_REQUEST
