"""Security of the API beyond roles (see test_permission_matrix.py for those): CSRF on session writes, password
attempts throttled by the real peer address, request size limits, and files: only real images under the dataset's
image root are served, and an ``image_path`` that climbs out of it is refused by the importer and by the image API.
"""

from __future__ import annotations

import functools
import json
import os
import types

import pytest
from django.test import Client, override_settings
from rest_framework import status
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from annotator.exceptions import ImportFormatError
from annotator.models import Correction, Dataset, Frame, View
from annotator.services.imports import dataset_import_h3wb
from api import throttling
from tests.annotator.services.task_data import import_frames, make_task
from tests.conftest import require
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


def _rest_framework() -> dict:
    from django.conf import settings

    return dict(settings.REST_FRAMEWORK)


def _throttled(rate: str = "3/min", **rest):
    """Settings with the password rate ``rate`` (and other REST_FRAMEWORK keys), for ``override_settings``."""
    rates = {**api_settings.DEFAULT_THROTTLE_RATES, throttling.SCOPE: rate}
    return override_settings(REST_FRAMEWORK={**_rest_framework(), "DEFAULT_THROTTLE_RATES": rates, **rest})


#: The three ways of proving a password, each with a wrong one: (path, form data).
PASSWORD_FORMS = [
    ("/api/auth/token/", {"username": "ann", "password": "guess"}),
    ("/accounts/login/", {"username": "ann", "password": "guess"}),
    ("/admin/login/", {"username": "admin", "password": "guess"}),
]


@pytest.mark.django_db
class PasswordThrottleTests:
    """Every way of proving a password is throttled by the real peer address, with one budget per address."""

    @pytest.fixture(autouse=True)
    def mid_window(self, monkeypatch):
        """The throttle's clock stands still half-way through a minute: no test straddles two windows."""
        monkeypatch.setattr(throttling, "time", types.SimpleNamespace(time=lambda: 1_800_000_030.0))

    def test_password_guessing_is_throttled_with_a_message(self, users):
        with _throttled("3/min"):
            client = APIClient()
            answers = [client.post("/api/auth/token/", {"username": "ann", "password": f"guess-{i}"}) for i in range(3)]
            assert [a.status_code for a in answers] == [400, 400, 400]
            refused = client.post("/api/auth/token/", {"username": "ann", "password": "pw-ann-123"})
            assert refused.status_code == status.HTTP_429_TOO_MANY_REQUESTS
            assert "throttled" in refused.json()["message"]
            assert int(refused["Retry-After"]) == 30  # the rest of the one-minute window

    def test_the_rate_is_read_at_each_attempt(self, users):
        """A changed setting takes effect at the next attempt, without a restart (nothing caches the rate)."""
        client = APIClient()
        guess = {"username": "ann", "password": "guess"}
        with _throttled("2/min"):
            assert [client.post("/api/auth/token/", guess).status_code for _ in range(3)] == [400, 400, 429]
        with _throttled("5/min"):  # the same window: three attempts counted, two more allowed
            assert [client.post("/api/auth/token/", guess).status_code for _ in range(3)] == [400, 400, 429]

    def test_a_new_forwarded_for_header_per_guess_does_not_reset_the_count(self, users):
        with _throttled("3/min"):
            client = APIClient()
            codes = [
                client.post("/api/auth/token/", {"username": "ann", "password": f"guess-{i}"},
                            HTTP_X_FORWARDED_FOR=f"10.0.0.{i}").status_code
                for i in range(6)
            ]  # fmt: skip
            assert codes == [400, 400, 400, 429, 429, 429]

    @pytest.mark.parametrize("path, form", PASSWORD_FORMS[1:])
    def test_the_sign_in_pages_are_throttled_with_a_page_that_says_so(self, users, path, form):
        with _throttled("2/min"):
            client = Client()
            assert [client.post(path, form).status_code for _ in range(2)] == [200, 200]  # the form, with its error
            refused = client.post(path, {**form, "password": "pw-admin-123"})
            assert refused.status_code == status.HTTP_429_TOO_MANY_REQUESTS
            assert b"Too many sign-in attempts" in refused.content and int(refused["Retry-After"]) > 0
            assert "_auth_user_id" not in client.session  # the right password was not even looked at

    def test_one_budget_per_address_for_all_three(self, users):
        with _throttled("3/min"):
            client = Client()
            codes = [client.post(path, form).status_code for path, form in PASSWORD_FORMS]
            assert codes == [400, 200, 200]
            assert [client.post(path, form).status_code for path, form in PASSWORD_FORMS] == [429] * 3
            # Another address has its own budget.
            other = Client(REMOTE_ADDR="192.0.2.7")
            assert other.post(*PASSWORD_FORMS[0]).status_code == 400

    def test_only_posts_count(self, users):
        with _throttled("1/min"):
            client = Client()
            for _ in range(5):
                assert client.get("/accounts/login/").status_code == 200
            assert client.post(*PASSWORD_FORMS[1]).status_code == 200

    def test_behind_a_trusted_proxy_the_address_it_saw_counts(self, users):
        """``DJANGO_NUM_PROXIES=1``: the last X-Forwarded-For entry (what our proxy saw) is the client."""
        with _throttled("2/min", NUM_PROXIES=1):
            client = APIClient()
            post = functools.partial(client.post, "/api/auth/token/", {"username": "ann", "password": "guess"})
            assert [post(HTTP_X_FORWARDED_FOR=f"6.6.6.6, 198.51.100.{i}").status_code for i in (1, 1, 1)] == [
                400, 400, 429
            ]  # fmt: skip
            # A client cannot make itself someone else by prepending addresses: the proxy appends the real one.
            assert post(HTTP_X_FORWARDED_FOR="198.51.100.2, 198.51.100.1").status_code == 429
            assert post(HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 400

    def test_the_redis_cache_shared_by_web_processes_counts_too(self, users):
        """CI's second pass: the cache of several web processes is Redis (``REDIS_URL``)."""
        redis_url = os.environ.get("REDIS_URL", "")
        require(redis_url.startswith("redis"), "redis", "REDIS_URL does not name a Redis server")
        redis_cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url,
                       "KEY_PREFIX": f"test-{os.getpid()}"}  # fmt: skip
        with override_settings(CACHES={"default": redis_cache}), _throttled("2/min"):
            from django.core.cache import cache as shared

            shared.clear()
            try:
                client = APIClient(REMOTE_ADDR="203.0.113.9")
                codes = [client.post(*PASSWORD_FORMS[0]).status_code for _ in range(3)]
                assert codes == [400, 400, 429]
            finally:
                shared.clear()


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
