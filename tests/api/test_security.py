"""Security of the API beyond roles (see test_permission_matrix.py for those): CSRF on session writes, the
throttled token endpoint, request size limits, and files: only real images under the dataset's image root
are served, and an ``image_path`` that climbs out of it is refused by the importer and by the image API.
"""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework import status
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from annotator.exceptions import ImportFormatError
from annotator.models import Correction, Dataset, Frame, View
from annotator.services.imports import dataset_import_h3wb
from tests.annotator.services.task_data import import_frames, make_task
from tests.h3wb_files import write_release


@pytest.mark.django_db
class CsrfTests:
    """Session-authenticated writes need the CSRF token (the browser's api.js sends it); token auth does not."""

    def _signed_in(self, users) -> APIClient:
        client = APIClient(enforce_csrf_checks=True)
        assert client.login(username="ann", password="pw-ann-123")
        return client

    def test_a_session_write_without_the_token_is_refused_and_changes_nothing(self, task, users, frames):
        client = self._signed_in(users)
        body = {"view": frames[0].views[0].pk, "keypoint": 5, "x": 400.0, "y": 300.0, "base_revision": 0}
        response = client.post(f"/api/tasks/{task.pk}/corrections/", body, format="json")
        assert response.status_code == status.HTTP_403_FORBIDDEN
        assert "CSRF" in response.json()["message"]
        assert Correction.objects.count() == 0

    def test_with_the_token_it_is_allowed(self, task, users, frames):
        client = self._signed_in(users)
        client.get("/accounts/login/")  # any page with a form sets the csrftoken cookie
        token = client.cookies["csrftoken"].value
        body = {"view": frames[0].views[0].pk, "keypoint": 5, "x": 400.0, "y": 300.0, "base_revision": 0}
        response = client.post(f"/api/tasks/{task.pk}/corrections/", body, format="json", HTTP_X_CSRFTOKEN=token)
        assert response.status_code == status.HTTP_201_CREATED
        assert Correction.objects.count() == 1

    def test_token_authentication_needs_no_csrf_token(self, task, users, frames):
        client = APIClient(enforce_csrf_checks=True)
        token = client.post("/api/auth/token/", {"username": "ann", "password": "pw-ann-123"}).json()["token"]
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        body = {"view": frames[0].views[0].pk, "keypoint": 5, "x": 400.0, "y": 300.0, "base_revision": 0}
        assert client.post(f"/api/tasks/{task.pk}/corrections/", body, format="json").status_code == 201


@pytest.mark.django_db
class TokenThrottleTests:
    def test_password_guessing_is_throttled_with_a_message(self, users):
        cache.clear()
        rates = {**api_settings.DEFAULT_THROTTLE_RATES, "token": "3/min"}
        with override_settings(REST_FRAMEWORK={**_rest_framework(), "DEFAULT_THROTTLE_RATES": rates}):
            client = APIClient()
            answers = [client.post("/api/auth/token/", {"username": "ann", "password": f"guess-{i}"}) for i in range(3)]
            assert [a.status_code for a in answers] == [400, 400, 400]
            refused = client.post("/api/auth/token/", {"username": "ann", "password": "pw-ann-123"})
            assert refused.status_code == status.HTTP_429_TOO_MANY_REQUESTS
            assert "throttled" in refused.json()["message"]
            assert int(refused["Retry-After"]) > 0
        cache.clear()


def _rest_framework() -> dict:
    from django.conf import settings

    return dict(settings.REST_FRAMEWORK)


@pytest.mark.django_db
class RequestSizeTests:
    def test_an_oversized_json_body_is_413_with_a_message(self, task, users):
        client = APIClient()
        client.force_authenticate(users["annotator"])
        with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024):
            body = json.dumps({"base_revision": 0, "pad": "x" * 4096})
            response = client.post(f"/api/tasks/{task.pk}/undo/", body, content_type="application/json")
        assert response.status_code == status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        assert "limit of 1024 bytes" in response.json()["message"]

    def test_an_oversized_upload_is_refused_before_it_is_parsed(self, frames, users, monkeypatch):
        from annotator import evaluation
        from api import export_apis

        monkeypatch.setattr(evaluation, "MAX_PREDICTIONS_BYTES", 0)
        monkeypatch.setattr(export_apis, "UPLOAD_FRAMING_BYTES", 100)
        client = APIClient()
        client.force_authenticate(users["reviewer"])
        from django.core.files.uploadedfile import SimpleUploadedFile

        upload = SimpleUploadedFile("pred.json", b"{}" + b" " * 1000, content_type="application/json")
        response = client.post(
            "/api/evaluations/", {"predictions": upload, "dataset": "tasks-test"}, format="multipart"
        )
        assert response.status_code == status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
        assert "limit" in response.json()["message"]


@pytest.mark.django_db
class ImageServingTests:
    """The image API serves only JPEG/PNG files that resolve under the dataset's image root."""

    @pytest.fixture
    def view(self, tmp_path, users):
        frames = import_frames(tmp_path, images=True)
        make_task(frames[0], users["annotator"])
        return frames[0].views[0]

    def _get(self, users, view):
        client = APIClient()
        client.force_authenticate(users["annotator"])
        return client.get(f"/api/views/{view.pk}/image/")

    def _image_file(self, view):
        from pathlib import Path

        return Path(view.frame.sequence.subject.dataset.image_root) / view.image_path

    def test_a_real_image_is_served_with_its_true_type(self, users, view):
        response = self._get(users, view)
        assert response.status_code == 200 and response["Content-Type"] == "image/png"

    @pytest.mark.parametrize(
        "content", [b"root:x:0:0:root:/root:/bin/bash\n", b"\x89PNG\r\n\x1a\n" + bytes(16), b"", b"\xff\xd8\xff"]
    )
    def test_a_file_that_is_not_an_image_is_never_served(self, users, view, content):
        self._image_file(view).write_bytes(content)
        response = self._get(users, view)
        assert response.status_code == status.HTTP_404_NOT_FOUND
        assert "is not a JPEG or PNG image" in response.json()["message"]

    @pytest.mark.parametrize("crafted", ["../../etc/passwd", "/etc/passwd", "S1/../../../etc/hostname"])
    def test_a_crafted_path_outside_the_root_is_refused(self, users, view, crafted):
        View.objects.filter(pk=view.pk).update(image_path=crafted)
        response = self._get(users, view)
        assert response.status_code == status.HTTP_404_NOT_FOUND
        assert "outside the dataset's image directory" in response.json()["message"]

    def test_a_symlink_out_of_the_root_is_refused(self, users, view, tmp_path):
        secret = tmp_path / "secret.png"
        secret.write_bytes(self._image_file(view).read_bytes())
        link = self._image_file(view)
        link.unlink()
        link.symlink_to(secret)
        response = self._get(users, view)
        assert response.status_code == status.HTTP_404_NOT_FOUND
        assert "outside the dataset's image directory" in response.json()["message"]


@pytest.mark.django_db
class ImporterPathTests:
    """The importer's image_path parser refuses anything but ``<subject>/Images/<action>.<camera>/frame_N.ext``."""

    @pytest.mark.parametrize(
        "crafted",
        [
            "../../etc/passwd",
            "/etc/passwd",
            "S1/Images/../../../etc/passwd.54138969/frame_0001.jpg",
            "S1/Images/Walking 1.54138969/../../frame_0001.jpg",
            "..\\..\\S1\\Images\\Walking 1.54138969\\frame_0001.jpg",
        ],
    )
    def test_a_path_escaping_the_image_root_fails_the_import_and_imports_nothing(self, tmp_path, crafted):
        written = write_release(tmp_path / "release.json", [("S1", "Walking 1", 10)])
        data = written.data
        data["1"]["image_path"] = crafted
        written.path.write_text(json.dumps(data))
        with pytest.raises(ImportFormatError, match="image_path"):
            dataset_import_h3wb(dataset_name="crafted", annotations=written.path, images=tmp_path)
        assert not Dataset.objects.exists() and not Frame.objects.exists()
