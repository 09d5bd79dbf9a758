"""API root, layout, datasets, token auth and the one error format."""

from __future__ import annotations

import pytest
from rest_framework import status
from rest_framework.test import APIClient

from annotator import keypoints
from annotator.services.imports import dataset_import_h3wb
from tests.h3wb_files import write_release


@pytest.fixture
def client():
    return APIClient()


@pytest.mark.django_db
class ApiRootTests:
    def test_anonymous_is_refused_with_a_message(self, client):
        response = client.get("/api/")
        assert response.status_code in (status.HTTP_401_UNAUTHORIZED, status.HTTP_403_FORBIDDEN)
        assert response.json()["message"]

    def test_root_lists_the_collections(self, client, users):
        client.force_authenticate(users["annotator"])
        body = client.get("/api/").json()
        assert {"datasets", "layout", "token", "schema", "docs"} <= set(body)

    def test_browsable_root_renders(self, client, users):
        client.force_login(users["annotator"])
        response = client.get("/api/", HTTP_ACCEPT="text/html")
        assert response.status_code == status.HTTP_200_OK
        assert b"Api Root" in response.content

    def test_layout(self, client, users):
        client.force_authenticate(users["annotator"])
        body = client.get("/api/layout/").json()
        assert body["num_keypoints"] == keypoints.NUM_KEYPOINTS
        assert body["version"] == keypoints.LAYOUT_VERSION


@pytest.mark.django_db
class DatasetApiTests:
    def test_list_and_detail(self, client, users, tmp_path):
        written = write_release(tmp_path / "rel.json", [("S1", "Walking", 1), ("S5", "Eating", 2)])
        dataset_import_h3wb(dataset_name="demo", annotations=written.path)
        client.force_authenticate(users["reviewer"])
        rows = client.get("/api/datasets/").json()
        assert [(r["name"], r["n_subjects"], r["n_frames"]) for r in rows] == [("demo", 2, 2)]
        detail = client.get(rows[0]["url"]).json()
        assert detail["n_views"] == 8
        assert detail["skeletons_by_source"] == {"dataset": 2}
        assert detail["subjects"]["S1"]["cameras"] == ["54138969", "55011271", "58860488", "60457274"]

    def test_unknown_dataset_is_404_with_message(self, client, users):
        client.force_authenticate(users["reviewer"])
        response = client.get("/api/datasets/nope/")
        assert response.status_code == status.HTTP_404_NOT_FOUND
        assert response.json() == {"message": "no dataset named 'nope'", "extra": {}}


@pytest.mark.django_db
class TokenObtainApiTests:
    def test_token_for_valid_credentials_authenticates(self, client, users):
        response = client.post("/api/auth/token/", {"username": "ann", "password": "pw-ann-123"}, format="json")
        assert response.status_code == status.HTTP_200_OK
        token = response.json()["token"]
        other = APIClient()
        other.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        assert other.get("/api/datasets/").status_code == status.HTTP_200_OK

    def test_bad_credentials_are_400_with_message(self, client, users):
        response = client.post("/api/auth/token/", {"username": "ann", "password": "wrong"}, format="json")
        assert response.status_code == status.HTTP_400_BAD_REQUEST
        assert "Unable to log in" in response.json()["message"]

    def test_missing_fields_name_the_field(self, client, users):
        response = client.post("/api/auth/token/", {"username": "ann"}, format="json")
        assert response.status_code == status.HTTP_400_BAD_REQUEST
        assert response.json()["message"].startswith("password:")


@pytest.mark.django_db
def test_openapi_schema_is_served(client, users):
    client.force_authenticate(users["admin"])
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == status.HTTP_200_OK
    assert "/api/datasets/" in response.json()["paths"]


@pytest.mark.django_db
def test_swagger_ui_is_served_without_a_cdn(client, users):
    client.force_login(users["admin"])
    response = client.get("/api/docs/")
    assert response.status_code == status.HTTP_200_OK
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn." not in html and "jsdelivr" not in html and "unpkg" not in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
