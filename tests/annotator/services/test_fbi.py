"""FBI services: answers (and the refusals that store nothing), submitting, task creation, labelling jobs from
3D, simulated labellers, and the agreement analysis catching an injected forearm depth flip.

The depth-flip tests: on the synthetic rig (ground truth known), a new dataset skeleton version mirrors a bone's
child through its parent's depth plane in one camera; simulated labellers answer from the ground truth, and the
list of probable depth errors must name that bone in that view: a forearm under the old rule (one person, body
bones), a finger under the default policy (two people who agree, face and hand bones of 10-40 mm).
"""

from __future__ import annotations

import numpy as np
import pytest
from django.db.models import Max

from annotator import fbi, keypoints
from annotator.exceptions import ApplicationError, PermissionDeniedError
from annotator.models import FBIAnswer, FBIAutoLabels, Job, Skeleton3D, Task
from annotator.selectors.fbi import fbi_agreement, fbi_answers_latest, fbi_open_tasks, fbi_task_bones
from annotator.services import fbi as services
from annotator.services.fbi import AnswerInput, fbi_answer_create, fbi_answers_create, fbi_task_submit
from annotator.services.fbi_labels import fbi_label_job_start
from annotator.services.jobs import job_run_local
from annotator.services.tasks import task_create, task_start_next, task_submit
from tests.annotator.fbi_by_hand import label_by_hand
from tests.annotator.services.study_data import DATASET, RIG_FRAMES, annotators, import_rig

#: Label names of the int8 codes stored per bone.
NAMES = {fbi.FORWARD: "forward", fbi.BACKWARD: "backward", fbi.UNKNOWN: "unknown"}

#: Labellers who never err or skip: the depth-flip test must not depend on chance.
PERFECT = fbi.LabellerModel(error_rate=(0.0,) * 4, skip_rate=(0.0,) * 4)
FLIPPED_BONE = (keypoints.index("left_elbow"), keypoints.index("left_wrist"))
#: The injected flip is placed where the true forearm is at least this steep (degrees) in the chosen camera.
FLIP_MIN_TILT_DEG = 40.0


@pytest.fixture
def rig(db):
    import_rig()
    return annotators(3)


def fbi_task(frame, username: str, **kwargs) -> Task:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username=username)
    return task_create(frame=frame, assignee=user, kind=Task.Kind.FBI, **kwargs)


def first_frame():
    from annotator.models import Frame

    return Frame.objects.filter(sequence__subject__dataset__name=DATASET).order_by("id").first()


def answer_all(task: Task, label: str = "forward", seconds: float = 1.0) -> None:
    views = list(task.views.values_list("id", flat=True))
    batch = [AnswerInput(view=v, parent=int(p), child=int(c), label=label, seconds=seconds)
             for v in views for p, c in fbi_task_bones(task)]  # fmt: skip
    fbi_answers_create(task=task, user=task.assignee, answers=batch)


@pytest.mark.django_db
class FBIAnswerCreateTests:
    def test_an_answer_is_recorded_and_starts_the_task(self, rig):
        task = fbi_task(first_frame(), "sim0")
        assert task.bones == keypoints.DEFAULT_BONE_SUBSET
        view = task.views.order_by("id").first()
        parent, child = (int(x) for x in fbi_task_bones(task)[2])
        answer = fbi_answer_create(task=task, user=task.assignee, view=view.pk, parent=parent, child=child,
                                   label="backward", seconds=2.5)  # fmt: skip
        assert (answer.label, answer.seconds, answer.author) == ("backward", 2.5, task.assignee)
        task.refresh_from_db()
        assert (task.status, task.revision) == (Task.Status.IN_PROGRESS, 1)
        # A second answer for the same bone is appended; the latest counts.
        fbi_answer_create(task=task, user=task.assignee, view=view.pk, parent=parent, child=child, label="unknown",
                          seconds=1.0)  # fmt: skip
        assert FBIAnswer.objects.filter(task=task).count() == 2
        assert fbi_answers_latest(task=task) == [
            {"view": view.pk, "parent": parent, "child": child, "label": "unknown", "seconds": 1.0}
        ]

    @pytest.mark.parametrize(
        "change, field",
        [
            ({"view": -1}, "view"),
            ({"child": keypoints.index("left_eye"), "parent": keypoints.NOSE}, "child"),
            ({"label": "sideways"}, "label"),
            ({"seconds": float("nan")}, "seconds"),
            ({"seconds": -1.0}, "seconds"),
        ],
    )
    def test_bad_answers_store_nothing(self, rig, change, field):
        task = fbi_task(first_frame(), "sim0")
        parent, child = (int(x) for x in fbi_task_bones(task)[0])
        good = {"view": task.views.first().pk, "parent": parent, "child": child, "label": "forward", "seconds": 1.0}
        batch = [AnswerInput(**good), AnswerInput(**{**good, **change})]
        with pytest.raises(ApplicationError) as caught:
            fbi_answers_create(task=task, user=task.assignee, answers=batch)
        assert caught.value.extra["field"] == field
        assert not FBIAnswer.objects.exists()
        task.refresh_from_db()
        assert (task.status, task.revision) == (Task.Status.TODO, 0)

    def test_a_view_of_another_frame_is_refused(self, rig):
        from annotator.models import View

        task = fbi_task(first_frame(), "sim0")
        other = View.objects.exclude(frame=task.frame).first()
        parent, child = (int(x) for x in fbi_task_bones(task)[0])
        with pytest.raises(ApplicationError, match="not one of task"):
            fbi_answer_create(task=task, user=task.assignee, view=other.pk, parent=parent, child=child,
                              label="forward", seconds=1.0)  # fmt: skip

    def test_only_the_assignee_of_an_open_fbi_task_answers(self, rig):
        from django.contrib.auth import get_user_model

        task = fbi_task(first_frame(), "sim0")
        other = get_user_model().objects.get(username="sim1")
        parent, child = (int(x) for x in fbi_task_bones(task)[0])
        args = {"view": task.views.first().pk, "parent": parent, "child": child, "label": "forward", "seconds": 1.0}
        with pytest.raises(PermissionDeniedError):
            fbi_answer_create(task=task, user=other, **args)
        answer_all(task)
        fbi_task_submit(task=task, user=task.assignee)
        with pytest.raises(ApplicationError, match="submitted and can no longer be edited"):
            fbi_answer_create(task=task, user=task.assignee, **args)
        correction = task_create(frame=task.frame, assignee=task.assignee)
        with pytest.raises(ApplicationError, match="is a correction task"):
            fbi_answer_create(task=correction, user=task.assignee, **args)
        assert FBIAnswer.objects.filter(task=correction).count() == 0


@pytest.mark.django_db
class FBITaskSubmitTests:
    def test_submit_needs_every_bone_of_every_view(self, rig):
        task = fbi_task(first_frame(), "sim0")
        with pytest.raises(ApplicationError) as caught:
            fbi_task_submit(task=task, user=task.assignee)
        assert caught.value.extra["missing"] == 4 * len(fbi_task_bones(task))
        answer_all(task, label="skipped")
        task = fbi_task_submit(task=task, user=task.assignee)
        assert task.status == Task.Status.SUBMITTED and task.result_skeleton is None
        assert not Skeleton3D.objects.filter(source=Skeleton3D.Source.CORRECTED).exists()

    def test_the_correction_submit_refuses_fbi_tasks(self, rig):
        task = fbi_task(first_frame(), "sim0")
        with pytest.raises(ApplicationError, match="is a forward/backward bone labels task"):
            task_submit(task=task, user=task.assignee, base_revision=0)

    def test_fbi_and_correction_tasks_share_the_queue(self, rig):
        frame = first_frame()
        correction = task_create(frame=frame, assignee=fbi_task(frame, "sim0").assignee, priority=5)
        started = task_start_next(user=correction.assignee)
        assert started.kind == Task.Kind.FBI and started.page_url == f"/fbi/{started.pk}/"


@pytest.mark.django_db
class FBITasksCreateTests:
    def test_sampled_frames_are_reproducible_and_rotate_annotators(self, rig):
        from annotator.models import Dataset

        ds = Dataset.objects.get(name=DATASET)
        tasks = services.fbi_tasks_create(annotators=rig[:2], dataset=ds, n_frames=4, seed=3, per_frame=2)
        assert len(tasks) == 8 and {t.kind for t in tasks} == {Task.Kind.FBI}
        frames = sorted({t.frame_id for t in tasks})
        Task.objects.all().delete()
        again = services.fbi_tasks_create(annotators=rig[:2], dataset=ds, n_frames=4, seed=3)
        assert sorted(t.frame_id for t in again) == frames

    def test_bad_input_creates_nothing(self, rig):
        from annotator.models import Dataset

        ds = Dataset.objects.get(name=DATASET)
        for kwargs, field in (
            ({"n_frames": RIG_FRAMES + 1}, "frames"),
            ({"n_frames": 2, "bones": "tails"}, "bones"),
            ({"n_frames": 2, "annotators": ["sim0", "nobody"]}, "annotators"),
            ({"n_frames": 2, "per_frame": 4}, "per_frame"),
        ):
            args = {"annotators": rig, "dataset": ds, **kwargs}
            with pytest.raises(ApplicationError) as caught:
                services.fbi_tasks_create(**args)
            assert caught.value.extra["field"] == field
        assert not Task.objects.exists()


@pytest.mark.django_db
class FBILabelJobTests:
    def test_labels_match_the_pure_function_and_a_rerun_skips_finished_chunks(self, rig):
        from annotator.models import Dataset

        ds = Dataset.objects.get(name=DATASET)
        job, resumed = fbi_label_job_start(dataset=ds, chunk_frames=3)
        assert not resumed and job.progress_total == 4  # 10 frames in chunks of 3
        job = job_run_local(job=job, progress=False, max_chunks=1)
        assert (job.status, job.progress_done) == (Job.Status.RUNNING, 1)
        again, resumed = fbi_label_job_start(dataset=ds, chunk_frames=3)
        assert resumed and again.pk == job.pk
        job = job_run_local(job=again, progress=False)
        assert (job.status, job.progress_done) == (Job.Status.DONE, 4)
        # Every skeleton version (dataset and ground truth) in each of its frame's 4 views.
        assert FBIAutoLabels.objects.count() == Skeleton3D.objects.count() * 4
        row = FBIAutoLabels.objects.select_related("skeleton", "view__camera").first()
        cam = row.view.camera
        labels, tilt = fbi.skeleton_labels(row.skeleton.keypoints[None], np.asarray([cam.R]), np.asarray([cam.t]),
                                           keypoints.bones(keypoints.DEFAULT_BONE_SUBSET))  # fmt: skip
        np.testing.assert_array_equal(row.labels, labels[0, 0])
        np.testing.assert_allclose(row.tilt, tilt[0, 0], atol=1e-4)
        assert row.labels.dtype == np.int8 and row.tilt.dtype == np.float32
        # Every stored label, bone by bone, against the definition worked out by hand (not the code above).
        bones = keypoints.bones(keypoints.DEFAULT_BONE_SUBSET)
        for stored in FBIAutoLabels.objects.select_related("skeleton", "view__camera"):
            by_hand = [label_by_hand(stored.skeleton.keypoints, stored.view.camera.R, stored.view.camera.t, p, c,
                                     stored.unknown_tilt_deg) for p, c in bones]  # fmt: skip
            assert [NAMES[int(v)] for v in stored.labels] == by_hand
        assert {"forward", "backward"} <= set(by_hand)  # both directions occur: a swap cannot hide

    def test_another_threshold_replaces_the_rows(self, rig):
        from annotator.models import Dataset

        ds = Dataset.objects.get(name=DATASET)
        job_run_local(job=fbi_label_job_start(dataset=ds, source="ground_truth")[0], progress=False)
        unknown_before = sum(int((r.labels == fbi.UNKNOWN).sum()) for r in FBIAutoLabels.objects.all())
        job, resumed = fbi_label_job_start(dataset=ds, source="ground_truth", unknown_tilt_deg=45.0)
        assert not resumed
        job_run_local(job=job, progress=False)
        rows = list(FBIAutoLabels.objects.all())
        assert len(rows) == RIG_FRAMES * 4 and {r.unknown_tilt_deg for r in rows} == {45.0}
        assert sum(int((r.labels == fbi.UNKNOWN).sum()) for r in rows) > unknown_before

    def test_bad_settings_create_no_job(self, rig):
        from annotator.models import Dataset

        ds = Dataset.objects.get(name=DATASET)
        for kwargs in ({"source": "guess"}, {"bones": "tails"}, {"unknown_tilt_deg": 90.0}, {"source": "corrected"}):
            with pytest.raises(ApplicationError):
                fbi_label_job_start(dataset=ds, **kwargs)
        assert not Job.objects.exists()


def inject_flip(frame, bone: tuple[int, int] = FLIPPED_BONE) -> tuple[int, float]:
    """A new dataset skeleton of ``frame`` whose ``bone`` child mirrors through the parent's depth plane in the
    camera where the true bone is steepest; returns (that view's id, its tilt in degrees)."""
    truth = frame.skeletons.filter(source=Skeleton3D.Source.GROUND_TRUTH).latest("version").keypoints
    dataset = frame.skeletons.filter(source=Skeleton3D.Source.DATASET).latest("version")
    views = list(frame.views.select_related("camera").order_by("camera__name"))
    R = np.stack([np.asarray(v.camera.R) for v in views])
    t = np.stack([np.asarray(v.camera.t) for v in views])
    _, tilt = fbi.skeleton_labels(truth[None], R, t, np.asarray([bone]))
    v = int(np.argmax(tilt[0, :, 0]))
    axis = R[v, 2]  # the camera's optical axis in world coordinates
    parent, child = bone
    X = np.array(dataset.keypoints, copy=True)
    X[child] -= 2 * np.dot(X[child] - X[parent], axis) * axis
    version = frame.skeletons.aggregate(v=Max("version"))["v"] + 1
    Skeleton3D.objects.create(frame=frame, version=version, source=Skeleton3D.Source.DATASET, keypoints=X,
                              note=f"test: {keypoints.bone_name(*bone)} flipped in depth")  # fmt: skip
    return views[v].pk, float(tilt[0, v, 0])


#: The policy the forearm test uses: the old rule (any confident person, body bones over 30 degrees).
FOREARM_POLICY = fbi.FlagPolicy(groups=("body",), length_mm=(0.0, 1000.0), tilt_deg=(30.0, 90.0), min_agreeing=1)
#: A finger bone for the default policy: the right index finger's middle phalanx (about 25 mm).
FINGER_BONE = (int(keypoints.PARTS["right_hand"][6]), int(keypoints.PARTS["right_hand"][7]))


@pytest.mark.django_db
class DepthFlipTests:
    def test_people_catch_an_injected_forearm_flip(self, rig):
        from annotator.models import Dataset, Frame

        ds = Dataset.objects.get(name=DATASET)
        frames = list(Frame.objects.filter(sequence__subject__dataset=ds).order_by("id"))
        flips = {}
        for frame in frames:
            view, tilt = inject_flip(frame)
            if tilt >= FLIP_MIN_TILT_DEG:
                flips[frame.pk] = view
                break
            frame.skeletons.filter(note__startswith="test:").delete()
        assert flips, "no rig frame has a steep enough forearm"
        frame_id, view_id = next(iter(flips.items()))
        tasks = services.fbi_tasks_create(annotators=rig[:1], dataset=ds, n_frames=RIG_FRAMES)
        report = services.fbi_simulate_labellers(tasks=tasks, seed=0, model=PERFECT)
        assert report.tasks_done == RIG_FRAMES
        analysis = fbi_agreement(dataset=ds, policy=FOREARM_POLICY)
        hits = [e for e in analysis["probable_depth_errors"] if (e["frame"], e["view"]) == (frame_id, view_id)]
        assert [(h["parent"], h["child"]) for h in hits] == [FLIPPED_BONE]
        # Worked by hand in that view: the perfect labellers' answer is the ground truth's direction, and the
        # flipped dataset skeleton says the opposite.
        frame = Frame.objects.get(pk=frame_id)
        cam = frame.views.get(pk=view_id).camera
        truth = frame.skeletons.filter(source=Skeleton3D.Source.GROUND_TRUTH).latest("version").keypoints
        flipped = frame.skeletons.filter(source=Skeleton3D.Source.DATASET).latest("version").keypoints
        true_label = label_by_hand(truth, cam.R, cam.t, *FLIPPED_BONE, unknown_tilt_deg=0.0)
        assert label_by_hand(flipped, cam.R, cam.t, *FLIPPED_BONE, unknown_tilt_deg=0.0) != true_label
        answered = FBIAnswer.objects.filter(view_id=view_id, parent=FLIPPED_BONE[0], child=FLIPPED_BONE[1])
        assert set(answered.values_list("label", flat=True)) == {true_label}
        assert hits[0]["dataset_wrong"] is True and hits[0]["tilt_deg"] >= FOREARM_POLICY.tilt_deg[0]
        assert not fbi_agreement(dataset=ds)["probable_depth_errors"]  # the default needs two people
        assert hits[0]["url"].startswith(f"/fbi/{hits[0]['task']}/?view={view_id}")
        assert frame_id in analysis["depth_error_frames"]
        # Perfect labellers agree with the ground truth everywhere.
        assert all(b["error_rate"] in (0.0, None) for b in analysis["references"]["ground_truth"]["bins"])
        assert analysis["references"]["corrected"] is None

        # Sent to the review queue: a correction task ahead of the annotator's other work.
        out = services.fbi_depth_error_tasks_create(frame_ids=analysis["depth_error_frames"], assignee=rig[1])
        assert [t.frame_id for t in out.created] == analysis["depth_error_frames"]
        elsewhere = next(f for f in frames if f.pk not in analysis["depth_error_frames"])
        task_create(frame=elsewhere, assignee=out.created[0].assignee)  # ordinary work, created later
        started = task_start_next(user=out.created[0].assignee)
        assert started.kind == Task.Kind.CORRECTION and started.frame_id in analysis["depth_error_frames"]
        again = services.fbi_depth_error_tasks_create(frame_ids=[frame_id], assignee=rig[1])
        assert not again.created and frame_id in again.skipped


@pytest.mark.django_db
class DefaultPolicyTests:
    def test_two_people_who_agree_flag_a_finger_flip_and_nothing_is_sent_without_a_reviewer(self, rig):
        from annotator.models import Dataset, Frame

        ds = Dataset.objects.get(name=DATASET)
        frame = Frame.objects.filter(sequence__subject__dataset=ds).order_by("id")[3]
        view_id, tilt = inject_flip(frame, FINGER_BONE)
        assert tilt >= 10.0
        tasks = services.fbi_tasks_create(annotators=rig[:2], dataset=ds, n_frames=RIG_FRAMES, per_frame=2,
                                          bones="right_hand")  # fmt: skip
        services.fbi_simulate_labellers(tasks=tasks, seed=0, model=PERFECT)
        analysis = fbi_agreement(dataset=ds)
        assert analysis["max_labellers"] == 2 and analysis["policy"] == fbi.DEFAULT_FLAG_POLICY.as_dict()
        hits = [e for e in analysis["probable_depth_errors"] if (e["frame"], e["view"]) == (frame.pk, view_id)
                and (e["parent"], e["child"]) == FINGER_BONE]  # fmt: skip
        assert len(hits) == 1 and hits[0]["n_against"] == 2 and hits[0]["n_with"] == 0
        assert hits[0]["group"] == "hand" and 10.0 <= hits[0]["length_mm"] < 40.0
        assert sorted(hits[0]["annotators"]) == sorted(rig[:2]) and len(hits[0]["tasks"]) == 2
        # Perfect people flag only real errors (the rig's own finger flips besides the injected one).
        assert all(e["dataset_wrong"] for e in analysis["probable_depth_errors"])
        assert analysis["depth_error_check"]["precision"] == 1.0
        assert analysis["calibration"]["applies"] and 0 < analysis["calibration"]["expected_false_alarm_rate"] < 0.5
        # Listing is all the analysis does: no task was created for any flag.
        assert not Task.objects.filter(kind=Task.Kind.CORRECTION).exists()


@pytest.mark.django_db
class FBISimulationTests:
    def test_hemlets_like_labellers_reproduce_the_published_rates(self, rig):
        from annotator.models import Dataset

        ds = Dataset.objects.get(name=DATASET)
        tasks = services.fbi_tasks_create(annotators=rig, dataset=ds, n_frames=RIG_FRAMES, per_frame=3, bones="limbs")
        assert len(fbi_open_tasks(dataset=ds)) == 3 * RIG_FRAMES
        report = services.fbi_simulate_labellers(tasks=tasks, seed=1)
        assert (report.tasks_done, report.answers) == (3 * RIG_FRAMES, 3 * RIG_FRAMES * 4 * 16)
        analysis = fbi_agreement(dataset=ds)
        steep = analysis["references"]["ground_truth"]["bins"][-1]
        assert steep["low"] == 30.0 and steep["answered"] > 200
        # HEMlets: 7.4% errors and under 10% skipped above 30 degrees (binomial spread over a few hundred answers).
        assert 0.02 < steep["error_rate"] < 0.14 and steep["skip_rate"] < 0.15
        flat = analysis["references"]["ground_truth"]["bins"][0]
        assert flat["skip_rate"] > 0.5
        # Under 20 s per image for 16 bones at about 1.2 s each.
        assert 10 < analysis["seconds"]["per_image_median"] < 25
        assert fbi_open_tasks(dataset=ds) == []


class FBIOtherLayoutTests:
    """A COCO-17 dataset: FBI asks about COCO-17's own bones, labels them from 3D, and refuses another layout's."""

    COCO17 = keypoints.layout_get("coco-17")

    @pytest.fixture
    def coco17(self, rig):
        from annotator.models import Dataset
        from tests.coco17 import as_coco17

        as_coco17(DATASET)
        return Dataset.objects.get(name=DATASET)

    def test_tasks_ask_about_the_layouts_bones_and_refuse_others(self, coco17):
        tasks = services.fbi_tasks_create(annotators=["sim0", "sim1"], dataset=coco17, n_frames=2, seed=0)
        assert [t.bones for t in tasks] == ["hemlets14", "hemlets14"]
        bones = fbi_task_bones(tasks[0])
        np.testing.assert_array_equal(bones, self.COCO17.bones("hemlets14"))
        assert bones.max() < 17
        for subset in ("face", "feet", "left_hand"):
            with pytest.raises(ApplicationError, match=f"unknown bone subset '{subset}' for the COCO-17 layout"):
                services.fbi_tasks_create(annotators=["sim2"], dataset=coco17, n_frames=1, bones=subset)
            with pytest.raises(ApplicationError, match="COCO-17 layout; use one of hemlets14, limbs, all, body"):
                fbi_task(first_frame(), "sim2", bones=subset)
        assert Task.objects.count() == 2

    def test_simulated_labellers_and_the_agreement_in_coco17(self, coco17):
        tasks = services.fbi_tasks_create(annotators=["sim0", "sim1"], dataset=coco17, n_frames=3, seed=1,
                                          per_frame=2)  # fmt: skip
        report = services.fbi_simulate_labellers(tasks=tasks, seed=0, model=PERFECT)
        assert report.tasks_done == 6 and report.answers == 6 * 4 * 14
        agreement = fbi_agreement(dataset=coco17)
        assert agreement["n_answers"] == 6 * 4 * 14
        # Perfect labellers against the ground truth: every confident answer agrees with it.
        truth_bins = agreement["references"]["ground_truth"]["bins"]
        assert all(b["error_rate"] in (None, 0.0) for b in truth_bins if b["low"] >= 10.0)
        assert set(agreement["contradicted"]) == set(fbi.BONE_GROUPS)
        assert agreement["contradicted"]["face"] == {"bones": 0, "flagged": 0}
        assert agreement["calibration"]["applies"] is False  # measured on COCO-WholeBody rigs only
        assert agreement["policy_note"] == ("the flag policy looks at face and hand bones, which the COCO-17 layout "
                                            "does not have: it lists nothing here")  # fmt: skip

    def test_the_labelling_job_labels_coco17_bones(self, coco17):
        job, _ = fbi_label_job_start(dataset=coco17, source="ground_truth")
        assert job.params["bones"] == "hemlets14"
        job_run_local(job=job, progress=False)
        rows = list(FBIAutoLabels.objects.select_related("skeleton", "view__camera"))
        assert len(rows) == RIG_FRAMES * 4 and {len(r.labels) for r in rows} == {14}
        bones = self.COCO17.bones("hemlets14")
        for stored in rows[:8]:
            cam = stored.view.camera
            by_hand = [label_by_hand(stored.skeleton.keypoints, cam.R, cam.t, p, c, stored.unknown_tilt_deg)
                       for p, c in bones]  # fmt: skip
            assert [NAMES[int(v)] for v in stored.labels] == by_hand
        with pytest.raises(ApplicationError, match="unknown bone subset 'face' for the COCO-17 layout"):
            fbi_label_job_start(dataset=coco17, bones="face")
        assert Job.objects.count() == 1
