"""Studies: reproducible sampling, task creation, refusals that create nothing, and the simulated cross-check.

The simulated annotators perceive (they leave what the camera cannot see), every run is recorded, and the
instrument is checked against the truth on the small synthetic rig: with a perfect annotator in frame mode the
report's measured 3D error comes within 15% of the dataset skeleton's known true error, per part, and the
sensitivity table's replay reproduces the study it came from.
"""

from __future__ import annotations

import numpy as np
import pytest

from annotator import keypoints, simulation
from annotator.exceptions import ApplicationError
from annotator.models import Correction, Skeleton3D, Study, StudyItem, Task
from annotator.selectors.studies import study_report
from annotator.services import studies
from annotator.services.simulated_annotators import study_simulate_annotators
from annotator.services.studies import study_create
from annotator.services.tasks import task_create
from tests.annotator.services.study_data import DATASET, RIG_FRAMES, annotators, import_rig

#: H3WB's protocol check: the measured mean 3D error within this fraction of the true one, per part.
TRUE_ERROR_TOLERANCE = 0.15


@pytest.fixture
def rig(db):
    return import_rig()


def create(**kwargs) -> Study:
    args = {"name": "s", "dataset": DATASET, "subjects": None, "n_items": 4, "mode": "image", "seed": 0,
            "annotators": ["sim0", "sim1", "sim2", "sim3"], "per_item": 1}  # fmt: skip
    args.update(kwargs)
    return study_create(**args)


@pytest.mark.django_db
class StudyCreateTests:
    def test_image_mode_samples_single_views(self, rig):
        annotators(4)
        study = create(n_items=12)
        items = list(study.items.all())
        assert len(items) == 12 and all(i.view_id is not None for i in items)
        tasks = list(study.tasks.prefetch_related("views"))
        assert len(tasks) == 12
        assert all(t.views.count() == 1 for t in tasks)
        assert {t.views.get().pk for t in tasks} == {i.view_id for i in items}

    def test_frame_mode_takes_every_view(self, rig):
        annotators(2)
        study = create(mode="frame", n_items=3, annotators=["sim0", "sim1"])
        assert study.items.count() == 3 and not study.items.filter(view__isnull=False).exists()
        for task in study.tasks.all():
            assert task.views.count() == 4
            assert task.status == Task.Status.TODO
            np.testing.assert_array_equal(task.current_keypoints, task.base_skeleton.keypoints)
            assert task.base_skeleton.source == Skeleton3D.Source.DATASET

    def test_the_sample_is_reproducible(self, rig):
        names = annotators(9)
        a = create(name="a", n_items=8, seed=3, annotators=names[:4])
        b = create(name="b", n_items=8, seed=3, annotators=names[4:8][::-1])
        c = create(name="c", n_items=8, seed=4, annotators=names[8:], mode="frame")
        pairs = lambda s: sorted(s.items.values_list("frame_id", "view_id"))  # noqa: E731
        assert pairs(a) == pairs(b)  # the sample depends on the seed only, not on who annotates it
        assert len(pairs(c)) == 8 and all(view is None for _, view in pairs(c))
        d = create(name="d", n_items=8, seed=5, annotators=["sim0", "sim1", "sim2", "sim3"][::-1])
        assert pairs(d) != pairs(a)

    def test_overlap_gives_each_item_distinct_annotators(self, rig):
        annotators(3)
        study = create(mode="frame", n_items=5, annotators=["sim0", "sim1", "sim2"], per_item=2)
        assert study.tasks.count() == 10
        for item in study.items.all():
            assignees = list(study.tasks.filter(frame=item.frame).values_list("assignee__username", flat=True))
            assert len(assignees) == 2 and len(set(assignees)) == 2
        counts = sorted(study.tasks.values_list("assignee").annotate(n=models_count()).values_list("n", flat=True))
        assert counts[-1] - counts[0] <= 1  # the load is even

    def test_honeypots_come_from_frames_with_ground_truth(self, rig):
        annotators(1)
        study = create(mode="frame", n_items=3, n_honeypots=2, annotators=["sim0"])
        assert study.items.filter(is_honeypot=True).count() == 2
        assert study.tasks.count() == 5
        hp_frames = set(study.items.filter(is_honeypot=True).values_list("frame_id", flat=True))
        assert hp_frames.isdisjoint(study.items.filter(is_honeypot=False).values_list("frame_id", flat=True))
        assert all(Skeleton3D.objects.filter(frame_id=f, source="ground_truth").exists() for f in hp_frames)

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"n_items": 4 * RIG_FRAMES + 1}, "has only"),
            ({"mode": "frame", "n_items": RIG_FRAMES + 1, "annotators": ["sim0"]}, "has only"),
            ({"subjects": ["S9"]}, "unknown subject"),
            ({"annotators": []}, studies.NO_ANNOTATORS),
            ({"annotators": ["sim0", "ghost"]}, "unknown annotator"),
            ({"per_item": 5}, "per-item"),
            ({"n_items": 0}, "items must be"),
            ({"mode": "video"}, "mode must be"),
            ({"dataset": "nope"}, "no dataset"),
            ({"n_honeypots": 4 * RIG_FRAMES}, "honeypots"),
            ({"annotators": ["sim0"], "n_items": 8}, "add annotators"),  # 8 images of 10 frames: one frame twice
        ],
    )
    def test_bad_input_creates_nothing(self, rig, kwargs, message):
        annotators(4)
        with pytest.raises(ApplicationError, match=message):
            create(**kwargs)
        assert not Study.objects.exists() and not StudyItem.objects.exists() and not Task.objects.exists()

    def test_the_name_is_unique(self, rig):
        annotators(4)
        create()
        with pytest.raises(ApplicationError, match="exists already"):
            create()
        assert Study.objects.count() == 1

    def test_an_annotator_busy_on_a_frame_is_skipped(self, rig):
        names = annotators(2)
        from django.contrib.auth import get_user_model

        from annotator.models import Frame

        sim0 = get_user_model().objects.get(username=names[0])
        for frame in Frame.objects.all():
            task_create(frame=frame, assignee=sim0)
        study = create(mode="frame", n_items=3, annotators=names)
        assert set(study.tasks.values_list("assignee__username", flat=True)) == {"sim1"}


def models_count():
    from django.db.models import Count

    return Count("id")


@pytest.mark.django_db
class StudyImportVisibilityTests:
    def test_the_ground_truths_visibility_is_stored_per_view(self, rig):
        import json

        from annotator.models import View
        from tests.annotator.services.study_data import rig_path

        truth = json.loads((rig_path() / "ground_truth.json").read_text())
        views = View.objects.exclude(sample_id=None)
        assert views.count() == 4 * RIG_FRAMES
        for view in views:
            np.testing.assert_array_equal(view.truth_visible, truth[str(view.sample_id)]["visible"])
        hidden = sum(int((v.truth_visible == 0).sum()) for v in views)
        assert 0 < hidden < views.count() * keypoints.NUM_KEYPOINTS  # the rig hides some keypoints, not all


def _moves(task) -> set[tuple[int, int]]:
    """(view id, keypoint) of the task's drags (moves with a position)."""
    return set(task.corrections.filter(kind=Correction.Kind.MOVE, x__isnull=False).values_list("view_id", "keypoint"))


@pytest.mark.django_db
class StudySimulateAnnotatorsTests:
    def test_a_perceiving_annotator_does_not_correct_what_it_cannot_see(self, rig):
        from annotator import geometry

        annotators(1)
        study = create(mode="frame", n_items=2, annotators=["sim0"])
        report = study_simulate_annotators(study=study)
        assert report.tasks_done == 2 and report.counts["moved"] > 0 and report.counts["unseen_hidden"] > 0
        hidden_and_off = 0
        for task in study.tasks.all():
            assert task.status == Task.Status.SUBMITTED
            moves = _moves(task)
            truth = task.frame.skeletons.get(source=Skeleton3D.Source.GROUND_TRUTH).keypoints
            for view in task.views.select_related("camera"):
                hidden = np.flatnonzero(view.truth_visible == 0)
                assert not {(view.pk, int(k)) for k in hidden} & moves
                # ... although those keypoints were drawn visibly off: the test could fail.
                cam = view.camera.as_geometry()
                off = np.linalg.norm(geometry.project(cam, task.base_skeleton.keypoints) - geometry.project(cam, truth),
                                     axis=1)  # fmt: skip
                hidden_and_off += int((off[hidden] > 2.0).sum())
        assert hidden_and_off > 20

    def test_hidden_keypoints_can_be_flagged_occluded_instead(self, rig):
        annotators(1)
        study = create(mode="image", n_items=2, annotators=["sim0"])
        report = study_simulate_annotators(study=study, annotator=simulation.PerceivingAnnotator(occluded="flag"))
        assert report.counts["occluded_flagged"] == report.counts["unseen_hidden"] > 0
        for task in study.tasks.all():
            view = task.views.get()
            flagged = set(task.corrections.filter(flag=Correction.Flag.OCCLUDED).values_list("keypoint", flat=True))
            assert flagged == set(np.flatnonzero(view.truth_visible == 0).tolist())
            assert not flagged & {k for _, k in _moves(task)}
            np.testing.assert_array_equal(  # a flag moves nothing in 3D
                task.result_skeleton.keypoints[sorted(flagged)], task.base_skeleton.keypoints[sorted(flagged)]
            )

    def test_each_run_is_recorded_and_shown_as_the_reports_assumptions(self, rig):
        annotators(4)
        study = create(n_items=2)
        annotator = simulation.PerceivingAnnotator(threshold_px=6.0, noise_scale=0.5)
        report = study_simulate_annotators(study=study, annotator=annotator, seed=7)
        run = study.simulations.get()
        assert (run.annotator, run.seed, run.params["threshold_px"], run.params["noise_scale"]) == (
            "perceiving", 7, 6.0, 0.5)  # fmt: skip
        assert run.counts["tasks_done"] == report.tasks_done == 2
        assumptions = study_report(study=study, sensitivity=False)["instrument"]["assumptions"]
        assert assumptions["simulated"] and [r["id"] for r in assumptions["runs"]] == [run.pk]
        assert assumptions["views_with_visibility"] == assumptions["views"] == 2
        # Nothing left to do: a second run changes nothing and records nothing.
        assert study_simulate_annotators(study=study).tasks_done == 0 and study.simulations.count() == 1

    def test_bad_parameters_change_nothing(self, rig):
        annotators(4)
        study = create(n_items=1)
        with pytest.raises(ApplicationError, match="seed"):
            study_simulate_annotators(study=study, seed=-1)
        assert not Correction.objects.exists() and not study.simulations.exists()


@pytest.mark.django_db
class StudyPretrainedAnnotatorTests:
    def test_it_drags_onto_the_models_stored_predictions_and_leaves_what_the_model_did_not_see(self, rig):
        from annotator import geometry
        from annotator.models import Detection2D
        from annotator.selectors.detections import PRETRAINED_DETECTOR

        annotators(4)
        study = create(n_items=1)
        task = study.tasks.get()
        view = task.views.select_related("camera").get()
        cam = view.camera.as_geometry()
        base_2d = geometry.project(cam, task.base_skeleton.keypoints)
        predicted = base_2d + [12.0, 0.0]  # far off everywhere at any zoom
        scores = np.zeros(keypoints.NUM_KEYPOINTS)
        body = keypoints.METRIC_PARTS["body"]
        scores[body] = 0.9  # the model found the body only
        Detection2D.objects.create(view=view, detector=PRETRAINED_DETECTOR, keypoints_2d=predicted, scores=scores)
        report = study_simulate_annotators(study=study, annotator=simulation.ModelAnnotator())
        assert report.counts["views_stored_detections"] == 1 and report.counts["moved"] == len(body)
        drops = {k: (x, y) for k, x, y in task.corrections.values_list("keypoint", "x", "y")}
        assert sorted(drops) == sorted(body.tolist())
        np.testing.assert_allclose([drops[k] for k in body.tolist()], predicted[body])
        assert study.simulations.get().annotator == "pretrained"

    def test_without_stored_predictions_it_runs_the_model_on_the_image(self, rig):
        annotators(4)
        study = create(n_items=1)
        report = study_simulate_annotators(study=study, annotator=simulation.ModelAnnotator(threshold_px=6.0))
        assert report.counts["views_detected"] == 1 and report.tasks_done == 1
        # The rig's person is found: the model's body points differ from the dataset's by more than 6 screen px.
        assert report.counts["moved"] > 0 and study.tasks.get().status == Task.Status.SUBMITTED


@pytest.mark.django_db
class StudyInstrumentTests:
    """The instrument against the truth, on the rig: frame mode (every view), one annotator."""

    def test_the_sensitivity_replay_reproduces_the_study_and_a_perfect_annotator_measures_the_truth(self, rig):
        annotators(1)
        study = create(mode="frame", n_items=3, annotators=["sim0"])
        # A perfect annotator: places exactly on the truth, drags anything 1.5 screen px off.
        perfect = simulation.PerceivingAnnotator(threshold_px=1.5, noise_scale=0.0)
        study_simulate_annotators(study=study, annotator=perfect, seed=3)
        report = study_report(study=study)
        truth = report["ground_truth"]
        sens = report["instrument"]["sensitivity"]
        # The in-memory replay at the study's own parameters and seed gives the study's own figures: the table
        # describes this instrument, not another.
        for part in keypoints.METRIC_PART_NAMES:
            assert sens["at_study"]["parts"][part] == pytest.approx(truth[part]["measured_over_true"], abs=1e-5)
        assert sens["seed"] == 3 and sens["n_tasks"] == 3
        i, j = sens["thresholds_px"].index(1.5), sens["noise_scales"].index(0.0)
        assert sens["parts"]["all"][i][j] == pytest.approx(truth["all"]["measured_over_true"], abs=1e-4)  # 4 decimals
        # What the instrument does with a perfect annotator in frame mode: it measures the dataset's true error.
        for part in keypoints.METRIC_PART_NAMES:
            assert truth[part]["measured_over_true"] == pytest.approx(1.0, abs=TRUE_ERROR_TOLERANCE), part
        # ... and an annotator that reads the truth is implausibly precise: the calibration says so.
        calibration = report["instrument"]["calibration"]
        assert {w["part"] for w in calibration["warnings"] if w["annotator"] == "sim0"} >= {"body", "hand"}
        assert all("implausibly small" in w["message"] for w in calibration["warnings"])

    def test_image_mode_is_blind_along_the_ray_and_says_so(self, rig):
        annotators(4)
        study = create(mode="image", n_items=4)
        study_simulate_annotators(study=study, annotator=simulation.PerceivingAnnotator(noise_scale=0.0))
        bias = study_report(study=study, sensitivity=False)["instrument"]["bias"]
        assert bias["blind_along_ray"] and bias["views_per_task"] == 1.0
        assert bias["parts"]["body"]["single_view_share"] == 1.0 and bias["parts"]["body"]["n_corrected"] > 0
        # The rays' share of the error goes unmeasured: the body's measured/true falls well below one.
        assert bias["parts"]["body"]["measured_over_true"] < 0.9


@pytest.mark.django_db
class StudyGoldTests:
    def test_a_reviewers_accept_turns_a_frame_into_gold_for_the_next_study(self, db):
        from annotator import geometry
        from annotator.services.annotations import correction_create
        from annotator.services.imports import dataset_import_h3wb
        from annotator.services.reviews import review_accept
        from annotator.services.tasks import task_submit
        from annotator.services.users import user_ensure
        from tests.annotator.services.study_data import rig_path

        # Real data: no ground truth.
        rig = rig_path()
        dataset_import_h3wb(dataset_name="real", annotations=rig / "h3wb.json", images=rig / "images")
        names = annotators(2)
        reviewer, _ = user_ensure(username="rev", password="pw-rev-12345", role="reviewer")
        first = study_create(name="first", dataset="real", subjects=None, n_items=RIG_FRAMES, mode="frame", seed=0,
                             annotators=names[:1])  # fmt: skip
        with pytest.raises(ApplicationError, match="honeypots need frames with a known answer"):
            create(name="second", dataset="real", mode="frame", n_items=RIG_FRAMES - 1, n_honeypots=1,
                   annotators=names[1:])  # fmt: skip
        # An annotator corrects every frame in every view (the nose moved 20 mm); the reviewer accepts it all.
        for task in first.tasks.order_by("id"):
            target = task.base_skeleton.keypoints[keypoints.NOSE] + [20.0, 0.0, 0.0]
            revision = task.revision
            for view in task.views.select_related("camera"):
                x, y = (float(v) for v in geometry.project(view.camera.as_geometry(), target))
                revision = correction_create(task=task, user=task.assignee, view=view, keypoint=keypoints.NOSE, x=x,
                                             y=y, base_revision=revision).revision  # fmt: skip
            task_submit(task=task, user=task.assignee, base_revision=revision)
            task.refresh_from_db()
            review_accept(task=task, reviewer=reviewer, base_revision=task.revision)
        # The next study draws its honeypot from the gold frames and scores its annotator against gold.
        second = create(name="second", dataset="real", mode="frame", n_items=RIG_FRAMES - 1, n_honeypots=1,
                        annotators=names[1:])  # fmt: skip
        honeypot = second.items.get(is_honeypot=True)
        hp_task = second.tasks.get(frame_id=honeypot.frame_id)
        task_submit(task=hp_task, user=hp_task.assignee, base_revision=hp_task.revision)  # leaves the nose as it was
        calibration = study_report(study=second, sensitivity=False)["instrument"]["calibration"]
        assert calibration["basis"] == "honeypots" and calibration["n_tasks"] == 1
        row = calibration["annotators"][0]
        assert row["annotator"] == names[1] and row["references"] == ["gold"]
        # Worked by hand: the honeypot's result is the dataset skeleton, 20 mm from gold at the nose only.
        assert row["parts"]["body"]["error_3d_mm"] == pytest.approx(20.0 / len(keypoints.METRIC_PARTS["body"]))


@pytest.mark.django_db
class StudyHandWorkedReportTests:
    """A study whose table was worked out by hand, through the services from corrections to report.

    One frame-mode task. Every hand keypoint is moved in 3D by a chosen distance and dragged to that point's
    projection in all four views, so re-triangulation lands exactly there (every view is corrected, so all
    weigh the same). Left hand: 21 keypoints x 4 mm; right hand: 11 x 12 mm and 10 x 30 mm; the rest stay.

    - hand, 42 values (21 x 4, 11 x 12, 10 x 30): mean 516 / 42; median = (value 20 + value 21) / 2 = (4 + 12)
      / 2 = 8; p90 at index 0.9 x 41 = 36.9, between two 30s: 30.
    - all, 133 values (91 zeros, then the hand's): mean 516 / 133; median 0; p90 at index 118.8, between
      values 118 and 119, both 12s (the 12s are values 112..122): 12.
    - body and face: 0 everywhere.
    """

    def test_the_report_gives_the_hand_computed_table(self, rig):
        from annotator import geometry
        from annotator.services.annotations import correction_create
        from annotator.services.tasks import task_submit

        annotators(1)
        study = create(mode="frame", n_items=1, annotators=["sim0"])
        task = study.tasks.get()
        X = np.array(task.base_skeleton.keypoints, copy=True)
        moves = np.zeros(keypoints.NUM_KEYPOINTS)
        moves[keypoints.PARTS["left_hand"]] = 4.0
        right = keypoints.PARTS["right_hand"]
        moves[right[:11]], moves[right[11:]] = 12.0, 30.0
        direction = np.array([2.0, -1.0, 2.0]) / 3.0  # a unit vector, not along any axis
        target = X + moves[:, None] * direction
        revision = task.revision
        user = task.assignee
        for view in task.views.select_related("camera"):
            pixels = geometry.project(view.camera.as_geometry(), target)
            for k in np.flatnonzero(moves):
                x, y = (float(v) for v in pixels[k])
                revision = correction_create(task=task, user=user, view=view, keypoint=int(k), x=x, y=y,
                                             base_revision=revision).revision  # fmt: skip
        task.refresh_from_db()
        task_submit(task=task, user=user, base_revision=task.revision)
        parts = study_report(study=study)["parts"]
        expected = {"hand": (516 / 42, 8.0, 30.0), "all": (516 / 133, 0.0, 12.0), "body": (0.0, 0.0, 0.0),
                    "face": (0.0, 0.0, 0.0)}  # fmt: skip
        for part, (mean, median, p90) in expected.items():
            row = parts[part]
            got = (row["mean_3d_mm"], row["median_3d_mm"], row["p90_3d_mm"])
            assert got == pytest.approx((mean, median, p90), abs=1e-3), part
        assert parts["hand"]["fraction_corrected"] == 1.0 and parts["face"]["fraction_corrected"] == 0.0


@pytest.mark.django_db
class StudyOtherLayoutTests:
    """A COCO-17 dataset: the study, its simulated annotator and its report follow the dataset's layout."""

    def test_a_coco17_cross_check_study_end_to_end(self, rig):
        from tests.coco17 import as_coco17

        as_coco17(DATASET)
        annotators(1)
        study = create(mode="frame", n_items=3, annotators=["sim0"])
        perfect = simulation.PerceivingAnnotator(threshold_px=1.5, noise_scale=0.0)
        run = study_simulate_annotators(study=study, annotator=perfect, seed=3)
        assert run.tasks_done == 3 and run.counts["moved"] > 0
        report = study_report(study=study)
        assert report["layout"]["version"] == "coco-17/v1" and set(report["parts"]) == {"all", "body"}
        assert len(report["keypoints"]["names"]) == 17 and report["published"] == {}
        truth = report["ground_truth"]
        # A perfect annotator in frame mode measures the dataset's true error, in this layout too.
        assert truth["body"]["measured_over_true"] == pytest.approx(1.0, abs=TRUE_ERROR_TOLERANCE)
        sens = report["instrument"]["sensitivity"]
        assert set(sens["parts"]) == {"all", "body"}
        assert sens["at_study"]["parts"]["body"] == pytest.approx(truth["body"]["measured_over_true"], abs=1e-5)
        calibration = report["instrument"]["calibration"]
        assert all("COCO-17's" in w["message"] for w in calibration["warnings"])
        assumed = report["instrument"]["assumptions"]["models"]["perceiving"]["sigma_reference"]
        assert assumed.startswith("the COCO-17 layout's per-keypoint OKS sigmas (coco-17/v1)")
        # The frames table filters by the layout's parts and keypoints; another layout's are a clear refusal.
        from annotator.selectors.studies import study_frames

        assert study_frames(study=study, part="body")["count"] == 3
        with pytest.raises(ApplicationError, match="part 'face' is not a part of the COCO-17 layout"):
            study_frames(study=study, part="face")
        with pytest.raises(ApplicationError, match=r"keypoint 20 is not in the COCO-17 layout \(0 to 16\)"):
            study_frames(study=study, keypoint=20)

    def test_the_pretrained_annotator_refuses_a_coco17_dataset_and_changes_nothing(self, rig):
        from annotator.exceptions import NotApplicableError
        from tests.coco17 import as_coco17

        as_coco17(DATASET)
        annotators(1)
        study = create(mode="frame", n_items=2, annotators=["sim0"])
        with pytest.raises(NotApplicableError, match="pretrained annotator .* COCO-WholeBody"):
            study_simulate_annotators(study=study, annotator=simulation.ModelAnnotator())
        assert not Correction.objects.exists() and not study.simulations.exists()
        assert set(study.tasks.values_list("status", flat=True)) == {Task.Status.TODO}
