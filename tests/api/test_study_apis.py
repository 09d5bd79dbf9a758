"""Study endpoints: reviewers list and create studies, read reports and frames tables; annotators get 403."""

from __future__ import annotations

import pytest
from rest_framework import status
from rest_framework.test import APIClient

from annotator import keypoints, simulation
from annotator.models import Study, Task
from annotator.services.simulated_annotators import study_simulate_annotators
from annotator.services.studies import NO_ANNOTATORS, study_create
from tests.annotator.services.study_data import DATASET, annotators, errors_by_hand, import_rig

STUDY = {"name": "api-study", "dataset": DATASET, "n_items": 3, "mode": "image", "seed": 1,
         "annotators": ["sim0", "sim1", "sim2", "sim3"]}  # fmt: skip


#: A simulated annotator's threshold (screen px) that leaves most small errors alone: few corrections, quick tests.
LENIENT_THRESHOLD_PX = 12.0


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def rig(db):
    import_rig()
    annotators(4)
    return DATASET


@pytest.fixture
def done_study(rig):
    """A finished image-mode study of three images (simulated annotators, lenient so that it is quick)."""
    study = study_create(**{**STUDY, "subjects": None})
    study_simulate_annotators(study=study, annotator=simulation.PerceivingAnnotator(threshold_px=LENIENT_THRESHOLD_PX))
    return study


@pytest.mark.django_db
class StudyListApiTests:
    def test_annotators_are_refused(self, users, rig):
        client = client_for(users["annotator"])
        assert client.get("/api/studies/").status_code == status.HTTP_403_FORBIDDEN
        assert client.post("/api/studies/", STUDY, format="json").status_code == status.HTTP_403_FORBIDDEN
        assert not Study.objects.exists()

    def test_anonymous_is_refused(self, rig):
        assert APIClient().get("/api/studies/").status_code in (status.HTTP_401_UNAUTHORIZED, status.HTTP_403_FORBIDDEN)

    def test_a_reviewer_creates_and_lists(self, users, rig):
        client = client_for(users["reviewer"])
        response = client.post("/api/studies/", STUDY, format="json")
        assert response.status_code == status.HTTP_201_CREATED, response.data
        assert response.data["n_tasks"] == 3 and response.data["url"] == f"/review/studies/{response.data['id']}/"
        study = Study.objects.get()
        assert study.created_by == users["reviewer"]
        assert Task.objects.filter(study=study, created_by=users["reviewer"]).count() == 3
        rows = client.get("/api/studies/").data
        assert [r["name"] for r in rows] == ["api-study"]
        assert rows[0]["annotators"] == STUDY["annotators"] and rows[0]["n_finished"] == 0

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"annotators": []}, "annotators"),
            ({"annotators": ["ghost"]}, "unknown annotator"),
            ({"n_items": 10_000}, "has only"),
            ({"subjects": ["S11"]}, "unknown subject"),
            ({"per_item": 9}, "per-item"),
            ({"mode": "video"}, "mode"),
        ],
    )
    def test_bad_input_is_a_400_and_creates_nothing(self, users, rig, change, message):
        response = client_for(users["reviewer"]).post("/api/studies/", {**STUDY, **change}, format="json")
        assert response.status_code == status.HTTP_400_BAD_REQUEST
        assert set(response.data) == {"message", "extra"}
        assert message in response.data["message"]
        assert not Study.objects.exists() and not Task.objects.exists()

    def test_the_service_message_names_the_problem(self, users, rig):
        # Serializer-valid but refused by the service: the message comes from the service's constant.
        response = client_for(users["reviewer"]).post("/api/studies/", {**STUDY, "annotators": ["sim0", "sim0"]},
                                                      format="json")  # fmt: skip
        assert response.status_code == status.HTTP_400_BAD_REQUEST
        assert "twice" in response.data["message"] and response.data["extra"] == {"field": "annotators"}
        assert NO_ANNOTATORS  # the empty list is refused by the serializer before the service


@pytest.mark.django_db
class StudyReportApiTests:
    def test_the_report(self, users, done_study):
        response = client_for(users["reviewer"]).get(f"/api/studies/{done_study.pk}/report/")
        assert response.status_code == status.HTTP_200_OK
        data = response.data
        assert data["n_tasks"] == 3 and data["mode"] == "image"
        expected = errors_by_hand(done_study)
        for part in keypoints.METRIC_PART_NAMES:
            for key in ("mean_2d_px", "mean_3d_mm", "median_3d_mm", "p90_3d_mm", "n_keypoints"):
                assert data["parts"][part][key] is not None
            true_mm, measured_mm = expected[part]
            assert data["ground_truth"][part]["mean_3d_mm"] == pytest.approx(true_mm, abs=1e-4), part
            assert data["parts"][part]["mean_3d_mm"] == pytest.approx(measured_mm, abs=1e-4), part
        assert len(data["keypoints"]["mean_3d_mm"]) == keypoints.NUM_KEYPOINTS
        assert data["study"]["tasks_by_status"]["submitted"] == 3

    def test_the_sensitivity_table_comes_apart_from_the_report(self, users, done_study):
        client = client_for(users["reviewer"])
        report = client.get(f"/api/studies/{done_study.pk}/report/").data
        assert report["instrument"]["sensitivity"] is None and report["instrument"]["limits"]
        assert report["instrument"]["assumptions"]["runs"][0]["params"]["threshold_px"] == LENIENT_THRESHOLD_PX
        table = client.get(f"/api/studies/{done_study.pk}/sensitivity/").data["sensitivity"]
        assert table["n_tasks"] == 3 and len(table["parts"]["body"]) == len(table["thresholds_px"])
        assert table["at_study"]["parts"]["all"] == pytest.approx(
            report["ground_truth"]["all"]["measured_over_true"], abs=1e-5
        )
        assert client.get("/api/studies/999/sensitivity/").status_code == status.HTTP_404_NOT_FOUND

    def test_annotators_and_unknown_studies(self, users, done_study):
        assert client_for(users["annotator"]).get(f"/api/studies/{done_study.pk}/report/").status_code == 403
        response = client_for(users["reviewer"]).get("/api/studies/999/report/")
        assert response.status_code == status.HTTP_404_NOT_FOUND
        assert response.data["message"] == "no study 999"


@pytest.mark.django_db
class StudyFramesApiTests:
    def test_worst_first_with_links(self, users, done_study):
        data = client_for(users["reviewer"]).get(f"/api/studies/{done_study.pk}/frames/").data
        assert data["count"] == 3
        errors = [r["sort_error"] for r in data["rows"]]
        assert errors == sorted(errors, reverse=True)
        assert data["rows"][0]["review_url"] == f"/review/tasks/{data['rows'][0]['task']}/"

    def test_filters(self, users, done_study):
        client = client_for(users["reviewer"])
        url = f"/api/studies/{done_study.pk}/frames/"
        first = client.get(url).data["rows"][0]
        by_camera = client.get(url, {"camera": first["cameras"][0]}).data
        assert by_camera["count"] >= 1 and all(first["cameras"][0] in r["cameras"] for r in by_camera["rows"])
        by_annotator = client.get(url, {"annotator": first["annotator"], "part": "hand", "sort": "best"}).data
        assert all(r["annotator"] == first["annotator"] for r in by_annotator["rows"])
        assert client.get(url, {"keypoint": keypoints.NOSE, "limit": 1}).data["count"] == 3
        assert len(client.get(url, {"limit": 1}).data["rows"]) == 1

    @pytest.mark.parametrize("query", [{"part": "tail"}, {"sort": "random"}, {"keypoint": -1}, {"limit": 0}])
    def test_bad_filters_are_400(self, users, done_study, query):
        response = client_for(users["reviewer"]).get(f"/api/studies/{done_study.pk}/frames/", query)
        assert response.status_code == status.HTTP_400_BAD_REQUEST
        assert set(response.data) == {"message", "extra"}

    def test_annotators_are_refused(self, users, done_study):
        assert client_for(users["annotator"]).get(f"/api/studies/{done_study.pk}/frames/").status_code == 403
