"""create_study, simulate_annotators and crosscheck_report from the command line: the cross-check end to end."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from annotator.models import Study, Task
from tests.annotator.services.study_data import DATASET, annotators, errors_by_hand, import_rig

#: Lenient simulated annotators (screen px): few corrections, so the commands run quickly.
LENIENT_THRESHOLD_PX = 12.0


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def rig(db):
    import_rig()
    return annotators(4)


@pytest.mark.django_db
class StudyCommandTests:
    def test_create_simulate_report(self, rig, tmp_path):
        out = run("create_study", "--dataset", DATASET, "--subjects", "S1", "--items", "3", "--mode", "image",
                  "--seed", "0", "--annotators", ",".join(rig), "--per-item", "1", "--name", "cli")  # fmt: skip
        study = Study.objects.get(name="cli")
        assert f"study {study.pk} (cli): 3 image items" in out
        out = run("simulate_annotators", "--study", str(study.pk), "--threshold-px", str(LENIENT_THRESHOLD_PX),
                  "--no-progress")  # fmt: skip
        assert "3 tasks submitted" in out
        assert set(study.tasks.values_list("status", flat=True)) == {Task.Status.SUBMITTED}

        report = json.loads(run("crosscheck_report", "--study", str(study.pk), "--format", "json"))
        expected = errors_by_hand(study)
        for part in ("all", "body", "face", "hand"):
            assert {"mean_2d_px", "mean_3d_mm", "median_3d_mm", "p90_3d_mm", "n_keypoints"} <= report["parts"][
                part
            ].keys()
            true_mm, measured_mm = expected[part]
            assert report["ground_truth"][part]["mean_3d_mm"] == pytest.approx(true_mm, abs=1e-4), part
            assert report["parts"][part]["mean_3d_mm"] == pytest.approx(measured_mm, abs=1e-4), part
        assert report["instrument"]["sensitivity"]["n_tasks"] == 3  # the command's report has the table
        md = run("crosscheck_report", "--study", str(study.pk), "--format", "md")
        assert md.startswith("# Cross-check study cli") and "| Face |" in md and "true 3D mm" in md
        for heading in ("## What this study shows and what it cannot", "## Assumptions", "## Sensitivity",
                        "## Design bias (image mode)", "## Calibration"):  # fmt: skip
            assert heading in md
        assert f"threshold_px {LENIENT_THRESHOLD_PX}" in md and "noise_scale 1.0" in md
        target = tmp_path / "report.html"
        assert "wrote the html report" in run("crosscheck_report", "--study", str(study.pk), "--format", "html",
                                               "--out", str(target))  # fmt: skip
        html = target.read_text()
        assert html.startswith("<!doctype html>") and "<table>" in html and "class='hist'" in html
        assert "<h2>Sensitivity to the assumed annotator" in html and "<h2>Design bias (image mode)</h2>" in html

    def test_simulator_parameters_are_checked(self, rig):
        run("create_study", "--dataset", DATASET, "--items", "1", "--annotators", rig[0], "--name", "cli")
        study = Study.objects.get(name="cli")
        with pytest.raises(CommandError, match="nothing was simulated: noise_scale"):
            run("simulate_annotators", "--study", str(study.pk), "--noise-scale", "-1", "--no-progress")
        assert not study.simulations.exists() and set(study.tasks.values_list("status", flat=True)) == {"todo"}

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--items", "100"], "has only"),
            (["--subjects", "S1,S9"], "unknown subject"),
            (["--annotators", ""], "at least one annotator"),
            (["--annotators", "sim0,nobody"], "unknown annotator"),
            (["--per-item", "5"], "per-item"),
            (["--dataset", "missing"], "no dataset"),
        ],
    )
    def test_bad_input_is_a_clear_error_and_creates_nothing(self, rig, args, message):
        base = {"--dataset": DATASET, "--items": "2", "--annotators": ",".join(rig), "--name": "bad"}
        for flag, value in zip(args[::2], args[1::2]):
            base[flag] = value
        with pytest.raises(CommandError, match=message):
            run("create_study", *[x for kv in base.items() for x in kv])
        assert not Study.objects.exists() and not Task.objects.exists()

    def test_unknown_study(self, rig):
        with pytest.raises(CommandError, match="no study 42"):
            run("crosscheck_report", "--study", "42")
        with pytest.raises(CommandError, match="no study 42"):
            run("simulate_annotators", "--study", "42")


@pytest.mark.django_db
class StudyCommandOtherLayoutTests:
    def test_a_coco17_study_report_prints_its_own_parts(self, rig, tmp_path):
        from tests.coco17 import as_coco17

        as_coco17(DATASET)
        run("create_study", "--dataset", DATASET, "--items", "2", "--mode", "frame", "--seed", "0",
            "--annotators", rig[0], "--name", "cli17")  # fmt: skip
        study = Study.objects.get(name="cli17")
        assert "2 tasks submitted" in run("simulate_annotators", "--study", str(study.pk), "--no-progress")
        md = run("crosscheck_report", "--study", str(study.pk), "--format", "md")
        assert "| All |" in md and "| Body |" in md and "| Face |" not in md and "| Hand |" not in md
        assert "COCO-17 data is not comparable with it." in md
        assert "x COCO-17's sigmas" in md and "| COCO-17 sigma |" in md
        target = tmp_path / "report17.html"
        run("crosscheck_report", "--study", str(study.pk), "--format", "html", "--out", str(target))
        page = target.read_text()
        assert page.count("<figure>") == 2 and "Face" not in page.split("<h2>")[0]
