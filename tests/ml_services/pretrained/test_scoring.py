"""Multi-crop scores with the pretrained model: corner crops, displacement from the projection, unscorable parts;
and ``score_quality --model pretrained`` on the tiny synthetic rig, stored beside the refiners' scores."""

from __future__ import annotations

from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command

from annotator import geometry, keypoints
from annotator.models import Job, QualityScore
from ml_services import tasks
from ml_services.images import load_rgb
from ml_services.pretrained.crops import Roi
from ml_services.pretrained.scoring import CORNER_SHIFT, corner_regions, part_displacements, score_views_pretrained
from tests.ml_services import rig
from tests.ml_services.rig import FRAMES, import_rig


class CornerRegionTests:
    def test_the_part_moves_towards_each_corner_of_the_crop(self):
        roi = Roi(100.0, 50.0, 40.0, 0.3)
        centre = np.array([100.0, 50.0])
        for (sx, sy), crop in zip([(-1, -1), (1, -1), (-1, 1), (1, 1)], corner_regions(roi), strict=True):
            q = crop.to_crop(centre, 40) - 20  # where the part's centre sits in the crop, from the crop's centre
            assert np.allclose(q, [sx * CORNER_SHIFT * 40, sy * CORNER_SHIFT * 40])
            assert crop.side == roi.side and crop.angle == roi.angle


class ScoreTests:
    def test_a_displaced_hand_scores_worse_than_the_true_one(self):
        instant = rig.rig_instants()[0]
        hand = keypoints.PARTS["right_hand"]
        moved, true = [], []
        for camera, path in zip(instant["cameras"], instant["images"], strict=True):
            truth = geometry.project(camera, instant["world"])
            image = load_rgb(path)
            good = part_displacements(image, "right_hand", truth)
            shifted = truth.copy()
            shifted[hand] += (7.0, -5.0)
            bad = part_displacements(image, "right_hand", shifted)
            if np.isfinite(good).any() and np.isfinite(bad).any():
                true.append(np.nanmean(good))
                moved.append(np.nanmean(bad))
        assert len(true) >= 2 and np.mean(moved) > np.mean(true) + 4.0, (true, moved)

    def test_parts_off_the_image_or_unknown_are_unscorable_not_zero(self):
        instant = rig.rig_instants()[0]
        image = load_rgb(instant["images"][0])
        truth = geometry.project(instant["cameras"][0], instant["world"])
        off = truth + 5000.0
        assert np.isnan(part_displacements(image, "face", off)).all()
        unknown = truth.copy()
        unknown[keypoints.PARTS["left_hand"]] = np.nan
        assert np.isnan(part_displacements(image, "left_hand", unknown)).all()
        grey = np.full_like(image, 127)
        assert np.isnan(part_displacements(grey, "right_hand", truth)).all()  # nothing there to find
        result = score_views_pretrained(off[None, None], [image])
        assert np.isnan(result.score).all() and result.per_crop.shape == (1, 1, 3, 4)
        with pytest.raises(ValueError, match="points_2d must be"):
            score_views_pretrained(off[None], [image])
        with pytest.raises(ValueError, match="expected 2 images"):
            score_views_pretrained(np.stack([off, off])[None], [image])
        with pytest.raises(ValueError, match="part_weighting must be one of keypoints, parts"):
            score_views_pretrained(off[None, None], [image], "max")


class ScoreQualityPretrainedTests:
    def test_command_scores_with_the_pretrained_model_beside_the_refiners(self, db):
        dataset = import_rig()
        out = StringIO()
        call_command("score_quality", dataset=dataset.name, source="dataset", model="pretrained", no_progress=True,
                     stdout=out)  # fmt: skip
        text = out.getvalue()
        assert "scored by the pretrained model" in text and "Spearman" in text
        job = Job.objects.get()
        assert job.params["scorer"] == "pretrained" and job.params["checkpoint"] == tasks.PRETRAINED_CHECKPOINT
        assert job.params["part_weighting"] == "keypoints"  # parts combined as the refiners' score combines them
        scores = QualityScore.objects.filter(checkpoint=tasks.PRETRAINED_CHECKPOINT)
        assert scores.count() == FRAMES and set(scores.values_list("model_name", flat=True)) == {"multicrop-pretrained"}
        assert all(s.score > 0 for s in scores)
        # A rerun resumes the finished job; the refiners' job is another one, and its scores live beside these.
        again, resumed = tasks.scoring_job_start(dataset=dataset, source="dataset", scorer="pretrained")
        assert resumed and again.pk == job.pk
        refiner_job, resumed = tasks.scoring_job_start(dataset=dataset, source="dataset")
        assert not resumed and refiner_job.pk != job.pk
        with pytest.raises(Exception, match="unknown scorer"):
            tasks.scoring_job_start(dataset=dataset, source="dataset", scorer="oracle")
