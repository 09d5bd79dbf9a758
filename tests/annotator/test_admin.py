"""The admin: every registered model's list page and the change (or view) page of one of its rows answer 200.

The data set below holds at least one row of every model, made through the services where they exist; a model
registered later without a row here fails ``test_every_model_has_a_row`` until a row is added, so no admin page
goes untested. Arrays (skeletons, 2D sets, FBI vectors) are shown as text (``admin.array_text``).
"""

from __future__ import annotations

import numpy as np
import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from annotator import keypoints
from annotator.admin import array_text
from annotator.models import Detection2D, QualityScore, Skeleton3D
from annotator.services import annotations, tasks
from annotator.services.exports import export_create
from annotator.services.fbi import fbi_answer_create, fbi_tasks_create
from annotator.services.fbi_labels import fbi_labels_compute, fbi_labels_write
from annotator.services.studies import study_create
from annotator.tasks import job_chunk_task
from tests.annotator.services.task_data import make_task


@pytest.fixture
def every_table(frames, users):
    """At least one row of every model of the admin."""
    data = frames[0]
    task = make_task(data, users["annotator"])
    view = data.views[0]
    x, y = data.project(0, data.world)[keypoints.LEFT_WRIST]
    annotations.correction_create(task=task, user=users["annotator"], view=view, keypoint=keypoints.LEFT_WRIST,
                                  x=x + 5, y=y, base_revision=0)  # fmt: skip
    annotations.part_validity_set(task=task, user=users["annotator"], view=view, part="face", valid=False,
                                  base_revision=1)  # fmt: skip
    tasks.task_lock_acquire(task=task, user=users["annotator"], channel_name="admin-test")
    study_create(name="admin-study", dataset="tasks-test", subjects=None, n_items=1, mode="frame", seed=0,
                 annotators=["ann2"])  # fmt: skip
    export = export_create(dataset_name="tasks-test", fmt="h3wb", version="dataset")
    if apps.is_installed("django_tasks_db"):  # the database queue's results table (not there under RQ)
        job_chunk_task.enqueue(export.job_id, 0)
    Token.objects.create(user=users["admin"])
    fbi = fbi_tasks_create(annotators=["ann2"], dataset=data.frame.sequence.subject.dataset, n_frames=1, seed=0)[0]
    parent, child = keypoints.bones(fbi.bones)[0]
    fbi_answer_create(task=fbi, user=users["other"], view=fbi.views.first().pk, parent=int(parent), child=int(child),
                      label="forward", seconds=1.5)  # fmt: skip
    fbi_labels_write(rows=fbi_labels_compute(frame_ids=[data.frame.pk], sources=["dataset"], bones="hemlets14",
                                             unknown_tilt_deg=5.0))  # fmt: skip
    skeleton = Skeleton3D.objects.filter(frame=data.frame).first()
    QualityScore.objects.create(skeleton=skeleton, model_name="test", checkpoint="c0", score=1.5,
                                per_view={"54138969": 1.5}, per_part={"face": 1.5})  # fmt: skip
    Detection2D.objects.create(view=view, detector="test", keypoints_2d=np.zeros((keypoints.NUM_KEYPOINTS, 2)),
                               scores=np.ones(keypoints.NUM_KEYPOINTS))  # fmt: skip
    return task


def _registered():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def _has_table(model) -> bool:
    # Unmanaged models without a table are admin entry points only (django_rq's dashboard under REDIS_URL).
    return model._meta.managed


def _admin(users) -> Client:
    client = Client()
    client.force_login(users["admin"])
    return client


@pytest.mark.django_db
def test_every_model_has_a_row(every_table):
    empty = [model._meta.label for model, _ in _registered() if _has_table(model) and not model.objects.exists()]
    assert empty == [], f"add a row of {empty} to every_table so that their admin pages are tested"


@pytest.mark.django_db
@pytest.mark.parametrize("model", [m for m, _ in _registered()], ids=lambda m: m._meta.label)
def test_list_and_change_pages(model, every_table, users):
    client = _admin(users)
    opts = model._meta
    listing = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert listing.status_code == 200, listing.content[:500]
    if not _has_table(model):
        return
    row = model.objects.order_by("pk").first()
    change = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk]))
    assert change.status_code == 200, change.content[:500]


@pytest.mark.django_db
def test_index_lists_every_table(every_table, users):
    html = _admin(users).get("/admin/").content.decode()
    for model, _ in _registered():
        assert str(model._meta.verbose_name_plural).lower() in html.lower(), model._meta.label


@pytest.mark.django_db
def test_arrays_are_shown_as_text(every_table, users):
    skeleton = Skeleton3D.objects.first()
    html = _admin(users).get(reverse("admin:annotator_skeleton3d_change", args=[skeleton.pk])).content.decode()
    assert "left_wrist" in html and f"shape ({keypoints.NUM_KEYPOINTS}, 3)" in html


def test_array_text_counts_missing_values():
    arr = np.zeros((keypoints.NUM_KEYPOINTS, 2))
    arr[3] = np.nan
    text = array_text(arr)
    assert text.splitlines()[0] == f"shape ({keypoints.NUM_KEYPOINTS}, 2), float64, 2 missing"
    assert array_text(None) == "–"
    # Rows are named in the layout given (the row's dataset's), and in none when no layout fits.
    coco17 = keypoints.layout_get("coco-17")
    assert "right_ankle" in array_text(np.zeros((17, 3)), coco17).splitlines()[-1]
    assert "left_wrist" in array_text(arr, keypoints.DEFAULT_LAYOUT)
    assert "nose" not in array_text(np.zeros((17, 3)), keypoints.DEFAULT_LAYOUT)
    assert "shape (4,), int8" in array_text(np.array([1, -1, 0, 1], dtype=np.int8))


@pytest.mark.django_db
def test_an_admin_reassigns_a_task_and_changes_its_priority(every_table, users):
    task = every_table
    url = reverse("admin:annotator_task_change", args=[task.pk])
    response = _admin(users).post(url, {"assignee": users["other"].pk, "priority": 7})
    assert response.status_code == 302, response.content[:2000]
    task.refresh_from_db()
    assert (task.assignee, task.priority, task.revision) == (users["other"], 7, 2)
