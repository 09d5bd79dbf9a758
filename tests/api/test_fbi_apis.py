"""FBI endpoints: the labeller's payload, answers and submit (with every bad-input case storing nothing), and the
reviewers' labelling jobs, agreement and depth-error tasks (annotators get 403)."""

from __future__ import annotations

import pytest
from rest_framework import status
from rest_framework.test import APIClient

from annotator import fbi, keypoints
from annotator.models import FBIAnswer, Frame, Job, Task, View
from annotator.selectors.fbi import fbi_task_bones
from annotator.services.fbi import fbi_simulate_labellers
from annotator.services.tasks import task_create
from tests.annotator.services.study_data import DATASET, import_rig
from tests.annotator.services.task_data import make_task


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def fbi_task(frames, users):
    return make_task(frames[0], users["annotator"], kind=Task.Kind.FBI)


def good_answer(task: Task) -> dict:
    parent, child = (int(x) for x in fbi_task_bones(task)[3])
    return {"view": task.views.order_by("id").first().pk, "parent": parent, "child": child, "label": "forward",
            "seconds": 1.7}  # fmt: skip


@pytest.mark.django_db
class FBITaskApiTests:
    def test_payload(self, fbi_task, users):
        body = client_for(users["annotator"]).get(f"/api/tasks/{fbi_task.pk}/fbi/").json()
        assert body["kind"] == "fbi" and body["can_edit"] is True
        assert body["bones"]["subset"] == keypoints.DEFAULT_BONE_SUBSET
        assert body["bones"]["pairs"] == keypoints.bones(keypoints.DEFAULT_BONE_SUBSET).tolist()
        assert len(body["views"]) == 4 and len(body["views"][0]["points"]) == keypoints.NUM_KEYPOINTS
        assert body["views"][0]["image_url"] == f"/api/views/{body['views'][0]['id']}/image/"
        assert body["answers"] == [] and body["answers_url"] == f"/api/tasks/{fbi_task.pk}/fbi/answers/"
        # The queue and the task list send the annotator to the FBI page.
        row = client_for(users["annotator"]).get("/api/tasks/").json()[0]
        assert (row["kind"], row["editor_url"]) == ("fbi", f"/fbi/{fbi_task.pk}/")
        assert client_for(users["annotator"]).post("/api/tasks/next/").json()["editor_url"] == f"/fbi/{fbi_task.pk}/"

    def test_answer_and_submit(self, fbi_task, users):
        client = client_for(users["annotator"])
        answer = client.post(f"/api/tasks/{fbi_task.pk}/fbi/answers/", good_answer(fbi_task), format="json")
        assert answer.status_code == status.HTTP_201_CREATED
        assert (answer.json()["label"], answer.json()["seconds"]) == ("forward", 1.7)
        body = client.get(f"/api/tasks/{fbi_task.pk}/fbi/").json()
        assert [a["label"] for a in body["answers"]] == ["forward"] and body["status"] == "in_progress"
        refused = client.post(f"/api/tasks/{fbi_task.pk}/fbi/submit/")
        assert refused.status_code == status.HTTP_400_BAD_REQUEST and refused.json()["extra"]["missing"] == 55
        for view in fbi_task.views.all():
            for p, c in fbi_task_bones(fbi_task):
                payload = {"view": view.pk, "parent": int(p), "child": int(c), "label": "unknown", "seconds": 0.5}
                assert client.post(f"/api/tasks/{fbi_task.pk}/fbi/answers/", payload, format="json").status_code == 201
        done = client.post(f"/api/tasks/{fbi_task.pk}/fbi/submit/")
        assert done.status_code == status.HTTP_200_OK and done.json()["status"] == "submitted"
        again = client.post(f"/api/tasks/{fbi_task.pk}/fbi/answers/", good_answer(fbi_task), format="json")
        assert again.status_code == status.HTTP_400_BAD_REQUEST and "submitted" in again.json()["message"]
        # Reviewers accept FBI tasks with the shared review machinery.
        body = {"base_revision": Task.objects.get(pk=fbi_task.pk).revision}
        review = client_for(users["reviewer"]).post(f"/api/tasks/{fbi_task.pk}/accept/", body, format="json")
        assert review.json()["status"] == "accepted"

    @pytest.mark.parametrize(
        "change, message",
        [
            ({"view": 999_999}, "not one of task"),
            ({"parent": 0, "child": 1}, "is not one of the hemlets14 bones"),
            ({"child": keypoints.NUM_KEYPOINTS}, "child"),
            ({"label": "sideways"}, "label"),
            ({"seconds": -2}, "seconds"),
            ({"seconds": None}, "seconds"),
        ],
    )
    def test_bad_answers_are_refused_and_store_nothing(self, fbi_task, users, change, message):
        client = client_for(users["annotator"])
        answer = client.post(f"/api/tasks/{fbi_task.pk}/fbi/answers/", {**good_answer(fbi_task), **change},
                             format="json")  # fmt: skip
        assert answer.status_code == status.HTTP_400_BAD_REQUEST
        assert message in answer.json()["message"]
        assert not FBIAnswer.objects.exists()

    def test_a_view_of_another_frame_and_other_peoples_tasks(self, fbi_task, frames, users):
        other_view = View.objects.exclude(frame=fbi_task.frame).first()
        answer = client_for(users["annotator"]).post(
            f"/api/tasks/{fbi_task.pk}/fbi/answers/", {**good_answer(fbi_task), "view": other_view.pk}, format="json"
        )
        assert answer.status_code == status.HTTP_400_BAD_REQUEST
        for url in (f"/api/tasks/{fbi_task.pk}/fbi/answers/", f"/api/tasks/{fbi_task.pk}/fbi/submit/"):
            assert client_for(users["other"]).post(url, good_answer(fbi_task), format="json").status_code == 404
        assert client_for(users["other"]).get(f"/api/tasks/{fbi_task.pk}/fbi/").status_code == 404
        # A reviewer sees the task but cannot answer for the annotator.
        assert client_for(users["reviewer"]).get(f"/api/tasks/{fbi_task.pk}/fbi/").json()["can_edit"] is False
        refused = client_for(users["reviewer"]).post(f"/api/tasks/{fbi_task.pk}/fbi/answers/", good_answer(fbi_task),
                                                     format="json")  # fmt: skip
        assert refused.status_code == status.HTTP_403_FORBIDDEN
        assert not FBIAnswer.objects.exists()

    def test_correction_tasks_take_no_fbi_answers_and_fbi_tasks_no_corrections(self, frames, users, fbi_task):
        correction = make_task(frames[1], users["annotator"])
        client = client_for(users["annotator"])
        answer = {**good_answer(fbi_task), "view": correction.views.first().pk}
        refused = client.post(f"/api/tasks/{correction.pk}/fbi/answers/", answer, format="json")
        assert refused.status_code == status.HTTP_400_BAD_REQUEST and "correction task" in refused.json()["message"]
        move = {"view": fbi_task.views.first().pk, "keypoint": 9, "x": 10.0, "y": 10.0, "base_revision": 0}
        refused = client.post(f"/api/tasks/{fbi_task.pk}/corrections/", move, format="json")
        assert refused.status_code == status.HTTP_400_BAD_REQUEST and "bone labels task" in refused.json()["message"]
        assert not FBIAnswer.objects.exists()


@pytest.mark.django_db
class FBIReviewerApiTests:
    @pytest.fixture
    def rig(self, db, users):
        import_rig()
        frames = list(Frame.objects.filter(sequence__subject__dataset__name=DATASET).order_by("id")[:3])
        tasks = [task_create(frame=f, assignee=users["annotator"], kind=Task.Kind.FBI) for f in frames]
        fbi_simulate_labellers(tasks=tasks, seed=0)
        return frames

    def test_reviewers_start_a_labelling_job_and_read_it(self, rig, users):
        client = client_for(users["reviewer"])
        answer = client.post("/api/jobs/fbi/", {"dataset": DATASET, "source": "ground_truth"}, format="json")
        assert answer.status_code == status.HTTP_201_CREATED
        job = answer.json()
        assert (job["status"], job["total"], job["resumed"]) == ("queued", 1, False)
        assert job["url"] == f"/api/jobs/{job['id']}/" and job["kind"] == "fbi_labels"
        assert client.get(job["url"]).json()["label"] == f"fbi_labels#{job['id']}"
        assert [j["id"] for j in client.get("/api/jobs/?kind=fbi_labels").json()] == [job["id"]]
        bad = client.post("/api/jobs/fbi/", {"dataset": DATASET, "bones": "tails"}, format="json")
        assert bad.status_code == status.HTTP_400_BAD_REQUEST
        assert client.post("/api/jobs/fbi/", {"dataset": "nope"}, format="json").status_code == 404
        assert Job.objects.count() == 1
        annotator = client_for(users["annotator"])
        assert annotator.get("/api/fbi/agreement/?dataset=rig").status_code == status.HTTP_403_FORBIDDEN
        assert annotator.post("/api/jobs/fbi/", {"dataset": DATASET}, format="json").status_code == 403

    def test_agreement_and_depth_error_tasks(self, rig, users):
        client = client_for(users["reviewer"])
        report = client.get("/api/fbi/agreement/", {"dataset": DATASET}).json()["fbi"]
        assert report["n_tasks"] == 3 and report["n_answers"] == 3 * 4 * 14
        assert [b["low"] for b in report["references"]["dataset"]["bins"]] == [0.0, 10.0, 20.0, 30.0]
        assert client.get("/api/fbi/agreement/").status_code == status.HTTP_400_BAD_REQUEST
        frames = [f.pk for f in rig[:2]]
        out = client.post("/api/fbi/depth-errors/tasks/", {"frames": frames, "annotator": "ann2"}, format="json")
        assert out.status_code == status.HTTP_201_CREATED
        assert [t["frame"] for t in out.json()["created"]] == frames
        assert Task.objects.filter(kind=Task.Kind.CORRECTION, assignee=users["other"], priority=-1).count() == 2
        bad = client.post("/api/fbi/depth-errors/tasks/", {"frames": frames, "annotator": "nobody"}, format="json")
        assert bad.status_code == status.HTTP_400_BAD_REQUEST
        refused = client_for(users["annotator"]).post("/api/fbi/depth-errors/tasks/", {"frames": frames,
                                                      "annotator": "ann2"}, format="json")  # fmt: skip
        assert refused.status_code == status.HTTP_403_FORBIDDEN


@pytest.mark.django_db
class FBIAgreementByHandTests:
    """Answers worked out by hand from the ground truth (``fbi_by_hand``) agree with it in every tilt bin."""

    def test_hand_computed_answers_have_no_errors_against_the_ground_truth(self, users):
        from annotator.models import Skeleton3D
        from tests.annotator.fbi_by_hand import label_by_hand

        import_rig()
        frame = Frame.objects.filter(sequence__subject__dataset__name=DATASET).order_by("id").first()
        task = task_create(frame=frame, assignee=users["annotator"], kind=Task.Kind.FBI)
        truth = frame.skeletons.filter(source=Skeleton3D.Source.GROUND_TRUTH).latest("version").keypoints
        client = client_for(users["annotator"])
        labels = []
        for view in task.views.select_related("camera"):
            for p, c in fbi_task_bones(task):
                label = label_by_hand(truth, view.camera.R, view.camera.t, int(p), int(c), unknown_tilt_deg=0.0)
                labels.append(label)
                payload = {"view": view.pk, "parent": int(p), "child": int(c), "label": label, "seconds": 1.0}
                assert client.post(f"/api/tasks/{task.pk}/fbi/answers/", payload, format="json").status_code == 201
        assert {"forward", "backward"} <= set(labels)
        assert client.post(f"/api/tasks/{task.pk}/fbi/submit/").status_code == 200
        report = client_for(users["reviewer"]).get("/api/fbi/agreement/", {"dataset": DATASET}).json()["fbi"]
        bins = report["references"]["ground_truth"]["bins"]
        assert sum(b["answered"] for b in bins) == len(labels)
        # Below 10 degrees the ground truth's own label is "unknown", so those answers are not scored.
        assert [b["error_rate"] for b in bins] == [None, 0.0, 0.0, 0.0]
        # One person is never enough for a flag (the default policy needs two who agree), right or not.
        assert report["max_labellers"] == 1 and report["probable_depth_errors"] == []
        assert report["calibration"]["expected_false_alarm_rate"] == pytest.approx(
            1 - fbi.FLAG_CALIBRATION["precision"][0], abs=1e-3
        )


@pytest.mark.django_db
class FBIOtherLayoutApiTests:
    """A COCO-17 dataset's FBI: the labeller draws COCO-17's bones and skeleton; another layout's subset is a 400."""

    @pytest.fixture
    def coco17(self, db, users):
        from tests.coco17 import as_coco17

        import_rig()
        as_coco17(DATASET)
        return Frame.objects.filter(sequence__subject__dataset__name=DATASET).order_by("id").first()

    def test_the_payload_is_the_layouts(self, coco17, users):
        coco = keypoints.layout_get("coco-17")
        task = task_create(frame=coco17, assignee=users["annotator"], kind=Task.Kind.FBI)
        body = client_for(users["annotator"]).get(f"/api/tasks/{task.pk}/fbi/").json()
        assert body["bones"]["subset"] == "hemlets14"
        assert body["bones"]["pairs"] == coco.bones("hemlets14").tolist()
        assert "nose -> left_ear" in body["bones"]["names"]
        assert body["layout"]["names"] == list(coco.names) and len(body["views"][0]["points"]) == 17

    def test_another_layouts_bone_subset_is_refused_and_creates_nothing(self, coco17, users):
        client = client_for(users["reviewer"])
        bad = client.post("/api/jobs/fbi/", {"dataset": DATASET, "bones": "face"}, format="json")
        assert bad.status_code == status.HTTP_400_BAD_REQUEST
        assert bad.json()["message"].startswith("unknown bone subset 'face' for the COCO-17 layout; use one of")
        assert bad.json()["extra"] == {"field": "bones"}
        assert not Job.objects.exists()
        good = client.post("/api/jobs/fbi/", {"dataset": DATASET, "source": "ground_truth"}, format="json")
        assert good.status_code == status.HTTP_201_CREATED
        assert Job.objects.get().params["bones"] == "hemlets14"
