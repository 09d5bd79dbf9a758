"""The task list and the task pages in Django's client: filters, sort, columns, the reviewer's comment, real 404s.

A task the user may not see answers exactly like a task that does not exist (status and page text), on the
editor, the FBI labeller and the review pages alike: a page never tells an annotator that someone else's task
exists.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from annotator.models import Task
from annotator.services import reviews, tasks
from annotator.services.fbi import fbi_tasks_create
from annotator.services.studies import study_create
from tests.annotator.services.task_data import make_task

MISSING = 99_999


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _page(response, number: int) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())
    return html.replace(f"/{number}/", "/N/").replace(f"task {number}", "task N")


def _rejected(task, users, comment="the left wrist is on the sleeve: move it onto the joint"):
    tasks.task_submit(task=task, user=users["annotator"], base_revision=task.revision)
    task.refresh_from_db()
    return reviews.review_reject(task=task, reviewer=users["reviewer"], comment=comment, base_revision=task.revision)


@pytest.fixture
def fbi_task(frames, users):
    """An FBI task of the other annotator."""
    dataset = frames[0].frame.sequence.subject.dataset
    return fbi_tasks_create(annotators=["ann2"], dataset=dataset, n_frames=1, seed=0)[0]


@pytest.mark.django_db
class TaskPageNotFoundTests:
    """Missing and foreign tasks are the same 404 on every task page."""

    @pytest.mark.parametrize("path", ["/tasks/{}/", "/fbi/{}/"])
    def test_missing_task_is_404(self, users, path):
        response = client_for(users["annotator"]).get(path.format(MISSING))
        assert response.status_code == 404
        assert f"no task {MISSING}" in response.content.decode()

    @pytest.mark.parametrize("path", ["/tasks/{}/", "/fbi/{}/"])
    def test_foreign_task_answers_like_a_missing_one(self, users, frames, fbi_task, path):
        foreign_correction = make_task(frames[1], users["other"])
        client = client_for(users["annotator"])
        missing = client.get(path.format(MISSING))
        for task in (foreign_correction, fbi_task):
            answer = client.get(path.format(task.pk))
            assert answer.status_code == missing.status_code == 404
            # The same page, but for the number in it (and the per-response mask of the CSRF token).
            assert _page(answer, task.pk) == _page(missing, MISSING)

    def test_each_page_sends_a_task_of_the_other_kind_to_its_own_page(self, users, fbi_task, task):
        assert client_for(users["other"]).get(f"/tasks/{fbi_task.pk}/").url == f"/fbi/{fbi_task.pk}/"
        assert client_for(users["annotator"]).get(f"/fbi/{task.pk}/").url == f"/tasks/{task.pk}/"

    def test_the_404_page_is_the_site_s_own(self, users):
        html = client_for(users["annotator"]).get(f"/tasks/{MISSING}/").content.decode()
        assert 'class="topbar"' in html and "Your tasks" in html

    def test_reviewers_open_any_task(self, users, task, fbi_task):
        client = client_for(users["reviewer"])
        assert client.get(f"/tasks/{task.pk}/").status_code == 200
        assert client.get(f"/fbi/{fbi_task.pk}/").status_code == 200


@pytest.mark.django_db
class TaskListTests:
    def test_annotators_see_their_own_tasks_with_study_and_kind(self, users, frames, fbi_task):
        own = make_task(frames[0], users["annotator"])
        other = make_task(frames[1], users["other"])
        html = client_for(users["annotator"]).get("/tasks/").content.decode()
        assert f'data-task="{own.pk}"' in html and f'data-task="{other.pk}"' not in html
        assert "<th>Study</th>" in html and "<th>Kind</th>" in html
        assert "<th>Annotator</th>" not in html

    def test_filters_and_sort(self, users, frames):
        study_create(name="list-study", dataset="tasks-test", subjects=None, n_items=1, mode="frame", seed=0,
                     annotators=["ann"])  # fmt: skip
        in_study = Task.objects.get(study__name="list-study")
        outside = make_task(next(f for f in frames if f.frame.pk != in_study.frame_id), users["annotator"])
        client = client_for(users["annotator"])
        html = client.get(f"/tasks/?study={in_study.study_id}").content.decode()
        assert f'data-task="{in_study.pk}"' in html and f'data-task="{outside.pk}"' not in html
        html = client.get("/tasks/?kind=fbi").content.decode()
        assert "No task matches these filters" in html
        html = client.get("/tasks/?sort=id").content.decode()
        assert html.index(f'data-task="{in_study.pk}"') < html.index(f'data-task="{outside.pk}"')
        html = client.get("/tasks/?sort=updated").content.decode()
        assert html.index(f'data-task="{outside.pk}"') < html.index(f'data-task="{in_study.pk}"')

    def test_a_bad_filter_is_reported_and_ignored(self, users, task):
        response = client_for(users["annotator"]).get("/tasks/?study=abc&sort=sideways")
        html = response.content.decode()
        assert response.status_code == 200
        assert "some filters were ignored" in html and f'data-task="{task.pk}"' in html

    def test_the_reviewer_s_comment_is_shown_until_the_task_is_submitted_again(self, users, task):
        comment = "the left wrist is on the sleeve: move it onto the joint"
        _rejected(task, users, comment)
        client = client_for(users["annotator"])
        assert comment in client.get("/tasks/").content.decode()
        task.refresh_from_db()
        tasks.task_start_next(user=users["annotator"])  # rejected -> in progress: still to be read
        assert comment in client.get("/tasks/").content.decode()
        task.refresh_from_db()
        tasks.task_submit(task=task, user=users["annotator"], base_revision=task.revision)
        assert comment not in client.get("/tasks/").content.decode()

    def test_reviewers_see_everybody_s_tasks_with_annotator_and_review_links(self, users, frames):
        own = make_task(frames[0], users["annotator"])
        other = make_task(frames[1], users["other"])
        html = client_for(users["reviewer"]).get("/tasks/?assignee=ann2").content.decode()
        assert f'data-task="{other.pk}"' in html and f'data-task="{own.pk}"' not in html
        assert f'href="/review/tasks/{other.pk}/"' in html


@pytest.mark.django_db
@pytest.mark.parametrize(("user", "path"), [("annotator", "/tasks/"), ("reviewer", "/review/queue/"),
                                            ("reviewer", "/review/")])  # fmt: skip
def test_lists_are_never_served_from_the_cache(users, user, path):
    """Back to a list after a submit or a review shows the new statuses: the page is not cached."""
    response = client_for(users[user]).get(path)
    assert "no-store" in response["Cache-Control"]
