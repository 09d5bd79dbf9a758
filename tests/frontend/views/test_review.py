"""The reviewers' pages in Django's client: the review queue, real 404s, the styled 403, FBI tasks from the form."""

from __future__ import annotations

import pytest

from annotator.models import Task
from annotator.services import tasks
from annotator.services.studies import study_create
from tests.annotator.services.task_data import make_task
from tests.frontend.views.test_tasks import MISSING, client_for


def _submitted(frame_data, user):
    task = make_task(frame_data, user)
    return tasks.task_submit(task=task, user=user, base_revision=task.revision)


@pytest.mark.django_db
class ReviewQueueTests:
    def test_submitted_tasks_of_everybody_with_links_to_their_review(self, users, frames):
        mine = _submitted(frames[0], users["annotator"])
        theirs = _submitted(frames[1], users["other"])
        todo = make_task(frames[2], users["other"])
        html = client_for(users["reviewer"]).get("/review/queue/").content.decode()
        for task in (mine, theirs):
            assert f'href="/review/tasks/{task.pk}/"' in html
        assert f'data-task="{todo.pk}"' not in html  # the queue opens on submitted tasks
        assert "<th>Annotator</th>" in html and "<th>Kind</th>" in html

    def test_filters_by_annotator_dataset_study_and_kind(self, users, frames):
        study_create(name="queue-study", dataset="tasks-test", subjects=None, n_items=1, mode="frame", seed=0,
                     annotators=["ann2"])  # fmt: skip
        in_study = Task.objects.get(study__name="queue-study")
        in_study = tasks.task_submit(task=in_study, user=users["other"], base_revision=in_study.revision)
        mine = _submitted(next(f for f in frames if f.frame.pk != in_study.frame_id), users["annotator"])
        client = client_for(users["reviewer"])

        def listed(query):
            html = client.get(f"/review/queue/?{query}").content.decode()
            return {t.pk for t in (in_study, mine) if f'data-task="{t.pk}"' in html}

        assert listed("") == {in_study.pk, mine.pk}
        assert listed("assignee=ann") == {mine.pk}
        assert listed(f"study={in_study.study_id}") == {in_study.pk}
        assert listed("dataset=tasks-test&kind=correction") == {in_study.pk, mine.pk}
        assert listed("kind=fbi") == set()
        assert listed("status=todo") == set()

    def test_the_dashboard_links_to_the_queue_with_its_count(self, users, frames):
        _submitted(frames[0], users["annotator"])
        html = client_for(users["reviewer"]).get("/review/").content.decode()
        assert 'href="/review/queue/"' in html and "1 submitted" in html


@pytest.mark.django_db
class ReviewPagesTests:
    @pytest.mark.parametrize("path", [f"/review/tasks/{MISSING}/", f"/review/studies/{MISSING}/"])
    def test_missing_is_404(self, users, path):
        response = client_for(users["reviewer"]).get(path)
        assert response.status_code == 404 and "Not found" in response.content.decode()

    def test_an_fbi_task_is_reviewed_in_the_labeller(self, users, frames):
        from annotator.services.fbi import fbi_tasks_create

        fbi = fbi_tasks_create(annotators=["ann"], dataset=frames[0].frame.sequence.subject.dataset, n_frames=1)[0]
        html = client_for(users["reviewer"]).get(f"/review/tasks/{fbi.pk}/").content.decode()
        assert 'id="fbi"' in html and "data-review" in html and "fbi-review.js" in html

    @pytest.mark.parametrize("path", ["/review/", "/review/queue/", "/exports/", "/review/tasks/1/"])
    def test_annotators_get_the_styled_403(self, users, path):
        response = client_for(users["annotator"]).get(path)
        html = response.content.decode()
        assert response.status_code == 403
        assert 'class="topbar"' in html and "reviewers and admins" in html


@pytest.mark.django_db
class FBITasksFormTests:
    def test_creates_tasks_and_shows_them_in_the_queue(self, users, frames):
        client = client_for(users["reviewer"])
        response = client.post("/review/fbi-tasks/", {"dataset": "tasks-test", "frames": 2, "seed": 1,
                                                       "annotators": ["ann", "ann2"], "per_frame": 1,
                                                       "bones": "hemlets14"}, follow=True)  # fmt: skip
        html = response.content.decode()
        assert response.status_code == 200
        assert "2 FBI tasks (hemlets14 bones) on 2 frames for ann, ann2" in html
        fbi = Task.objects.filter(kind=Task.Kind.FBI)
        assert sorted(fbi.values_list("assignee__username", flat=True)) == ["ann", "ann2"]
        for task in fbi:
            assert f'data-task="{task.pk}"' in html

    def test_bad_input_creates_nothing_and_says_why(self, users, frames):
        client = client_for(users["reviewer"])
        response = client.post("/review/fbi-tasks/", {"dataset": "tasks-test", "frames": 50, "seed": 0,
                                                       "annotators": ["ann"], "per_frame": 1,
                                                       "bones": "hemlets14"})  # fmt: skip
        assert response.status_code == 400
        assert "frames must be from 1 to 3" in response.content.decode()
        response = client.post(
            "/review/fbi-tasks/",
            {"dataset": "tasks-test", "frames": 1, "seed": 0, "annotators": ["nobody"], "per_frame": 1, "bones": "x"},
        )
        assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
        assert not Task.objects.filter(kind=Task.Kind.FBI).exists()
