"""label_fbi, create_fbi_tasks, simulate_fbi and the FBI section of crosscheck_report, from the command line."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from annotator import fbi as fbi_math
from annotator import keypoints
from annotator.models import FBIAnswer, FBIAutoLabels, Skeleton3D, Study, Task
from tests.annotator.fbi_by_hand import label_by_hand
from tests.annotator.services.study_data import DATASET, RIG_FRAMES, annotators, import_rig


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def rig(db):
    import_rig()
    return annotators(2)


@pytest.mark.django_db
class LabelFBICommandTests:
    def test_labels_every_skeleton_view_and_a_rerun_has_nothing_left(self, rig):
        out = run("label_fbi", "--dataset", DATASET, "--chunk-frames", "4", "--no-progress")
        assert "created job" in out and "in 3 chunks" in out
        n = Skeleton3D.objects.count() * 4
        assert f"{n} skeleton-views labelled" in out
        assert FBIAutoLabels.objects.count() == n
        # One stored row, bone by bone, against the labels worked out by hand.
        row = FBIAutoLabels.objects.select_related("skeleton", "view__camera").order_by("pk").first()
        cam = row.view.camera
        by_hand = [label_by_hand(row.skeleton.keypoints, cam.R, cam.t, p, c, row.unknown_tilt_deg)
                   for p, c in keypoints.bones(row.bones_subset)]  # fmt: skip
        assert [{1: "forward", -1: "backward", 0: "unknown"}[int(v)] for v in row.labels] == by_hand
        again = run("label_fbi", "--dataset", DATASET, "--chunk-frames", "4", "--no-progress")
        assert "resuming job" in again and "(3 done)" in again
        assert FBIAutoLabels.objects.count() == n

    def test_enqueue_and_bad_input(self, rig):
        out = run("label_fbi", "--dataset", DATASET, "--source", "ground_truth", "--bones", "limbs", "--enqueue")
        assert "enqueued 1 chunk tasks" in out and not FBIAutoLabels.objects.exists()
        with pytest.raises(CommandError, match="no dataset named"):
            run("label_fbi", "--dataset", "nope")
        with pytest.raises(CommandError, match="no corrected skeletons"):
            run("label_fbi", "--dataset", DATASET, "--source", "corrected")
        with pytest.raises(CommandError, match="unknown tilt"):
            run("label_fbi", "--dataset", DATASET, "--unknown-tilt", "95")


@pytest.mark.django_db
class FBITaskCommandTests:
    def test_create_simulate_and_report(self, rig, tmp_path):
        run("create_study", "--dataset", DATASET, "--items", "4", "--mode", "frame", "--annotators", rig[0],
            "--name", "cli-fbi")  # fmt: skip
        study = Study.objects.get(name="cli-fbi")
        out = run("create_fbi_tasks", "--study", str(study.pk), "--annotators", ",".join(rig), "--per-frame", "2")
        assert "8 FBI tasks (hemlets14 bones) on 4 frames" in out
        out = run("simulate_fbi", "--study", str(study.pk), "--seed", "3", "--no-progress")
        assert "8 FBI tasks submitted with 448 answers" in out
        assert FBIAnswer.objects.count() == 448
        report = json.loads(run("crosscheck_report", "--study", str(study.pk)))
        # The study's correction tasks are still open: no cross-check numbers, but the FBI section is there.
        assert report["n_tasks"] == 0
        fbi = report["fbi"]
        assert (fbi["n_tasks"], fbi["n_answers"], fbi["n_frames"]) == (8, 448, 4)
        assert fbi["references"]["ground_truth"] is not None and fbi["references"]["corrected"] is None
        md = run("crosscheck_report", "--study", str(study.pk), "--format", "md")
        assert "## Forward/backward bone labels (448 answers" in md and "| ground truth | > 30 |" in md
        # HEMlets bones only: none is in the default policy's groups, so nothing is listed, and the report says
        # what would be and how often the list is wrong.
        assert "0 probable depth errors on 0 frames" in md and "among face and hand bones of 10-40 mm" in md
        assert f"Expected false alarms: {100 * (1 - fbi_math.FLAG_CALIBRATION['precision'][0]):.0f}%" in md
        html = run("crosscheck_report", "--study", str(study.pk), "--format", "html")
        assert "probable depth errors</h3><p>A bone is listed when at least 2 people" in html

    def test_sampled_frames_and_refusals(self, rig):
        out = run("create_fbi_tasks", "--dataset", DATASET, "--frames", "3", "--seed", "1", "--annotators", rig[0],
                  "--bones", "limbs")  # fmt: skip
        assert "3 FBI tasks (limbs bones) on 3 frames" in out
        assert set(Task.objects.values_list("kind", "bones")) == {("fbi", "limbs")}
        with pytest.raises(CommandError, match="frames must be from 1 to"):
            run("create_fbi_tasks", "--dataset", DATASET, "--frames", str(RIG_FRAMES + 1), "--annotators", rig[0])
        with pytest.raises(CommandError, match="unknown annotator"):
            run("create_fbi_tasks", "--dataset", DATASET, "--frames", "2", "--annotators", "nobody")
        with pytest.raises(CommandError, match="name --study, or --dataset and --frames"):
            run("create_fbi_tasks", "--annotators", rig[0])
        assert Task.objects.count() == 3
        out = run("simulate_fbi", "--dataset", DATASET, "--no-progress")
        assert "3 FBI tasks submitted" in out
        with pytest.raises(CommandError, match="no study 999"):
            run("simulate_fbi", "--study", "999")
