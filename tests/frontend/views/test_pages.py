"""Datasets and frames in Django's client: a dataset's frames page by page for reviewers, one frame's page."""

from __future__ import annotations

import json

import pytest

from annotator import keypoints
from annotator.models import Skeleton3D
from tests.frontend.views.test_tasks import MISSING, client_for


@pytest.mark.django_db
class DatasetPageTests:
    def test_reviewers_get_the_frames_with_links(self, users, frames):
        html = client_for(users["reviewer"]).get("/datasets/tasks-test/").content.decode()
        for data in frames:
            assert f'href="/frames/{data.frame.pk}/"' in html

    def test_frames_filter_by_subject(self, users, frames):
        html = client_for(users["reviewer"]).get("/datasets/tasks-test/?subject=S5").content.decode()
        s5 = [d.frame.pk for d in frames if d.frame.sequence.subject.name == "S5"]
        s1 = [d.frame.pk for d in frames if d.frame.sequence.subject.name == "S1"]
        assert all(f'href="/frames/{pk}/"' in html for pk in s5)
        assert not any(f'href="/frames/{pk}/"' in html for pk in s1)

    def test_annotators_get_no_frame_links(self, users, frames):
        html = client_for(users["annotator"]).get("/datasets/tasks-test/").content.decode()
        assert "/frames/" not in html


@pytest.mark.django_db
class FramePageTests:
    def test_every_version_in_every_view(self, users, frames):
        data = frames[0]
        response = client_for(users["reviewer"]).get(f"/frames/{data.frame.pk}/")
        assert response.status_code == 200
        html = response.content.decode()
        start = html.index('id="frame-payload"')
        payload = json.loads(html[html.index(">", start) + 1 : html.index("</script>", start)])
        versions = Skeleton3D.objects.filter(frame=data.frame).count()
        assert len(payload["skeletons"]) == versions >= 1
        assert len(payload["views"]) == len(data.views)
        points = payload["skeletons"][0]["points"][str(data.views[0].pk)]
        assert len(points) == keypoints.NUM_KEYPOINTS
        expected = data.project(0, data.world)[keypoints.LEFT_WRIST]
        assert points[keypoints.LEFT_WRIST] == pytest.approx(expected.tolist(), abs=1e-6)

    def test_missing_frame_is_404_and_annotators_403(self, users, frames):
        assert client_for(users["reviewer"]).get(f"/frames/{MISSING}/").status_code == 404
        assert client_for(users["annotator"]).get(f"/frames/{frames[0].frame.pk}/").status_code == 403
