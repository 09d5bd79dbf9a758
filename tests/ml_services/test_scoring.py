"""Multi-crop scoring: corner placement, rank correlation, how parts and views are combined (the true error's own
average), shapes, that the shipped refiners find a gross hand error on the synthetic rig, and that on people they
never saw the score ranks the true error through the image."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from annotator import geometry, keypoints
from ml_services.checkpoints import default_checkpoint, load_checkpoint
from ml_services.config import RefinerConfig
from ml_services.heldout import SCORED_KEYPOINTS, require_unseen, true_errors
from ml_services.images import load_rgb
from ml_services.models import build_refiner
from ml_services.scoring import (
    CORNERS,
    PART_KEYPOINTS,
    PART_NAMES,
    SCORED_PARTS,
    ScoringConfig,
    aggregate,
    corner_boxes,
    score_views,
    spearman,
)
from tests.ml_services.rig import UNSEEN_SUBJECTS, error_draws, rig_instants, unseen_instants

TINY = {"channels": (8, 16), "token_dim": 8, "hidden": 16, "embed_dim": 4, "crop_size": 16, "context_size": 32}


class CornerBoxTests:
    def test_part_box_sits_in_each_corner(self):
        config = ScoringConfig(corner_scale=1.5, corner_margin=0.05)
        part = torch.tensor([100.0, 200.0, 40.0])
        crops = corner_boxes(part, config)  # (4, 3)
        assert crops.shape == (4, 3) and torch.allclose(crops[:, 2], torch.tensor(60.0))
        for (sx, sy), (cx, cy, side) in zip(CORNERS, crops.tolist()):
            # The part's own corner on that side is margin * side inside the crop's corner.
            assert (cx + sx * side / 2) - (100 + sx * 20) == pytest.approx(sx * 0.05 * side)
            assert (cy + sy * side / 2) - (200 + sy * 20) == pytest.approx(sy * 0.05 * side)


class SpearmanTests:
    def test_known_values(self):
        a = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
        assert spearman(a, a**3) == pytest.approx(1.0)
        assert spearman(a, -a) == pytest.approx(-1.0)
        assert spearman(np.array([1.0, 2, 2, 3]), np.array([1.0, 2, 3, 4])) == pytest.approx(0.9486833)
        assert spearman(np.array([1.0, np.nan, 3, 4]), np.array([2.0, 1, 3, 5])) == pytest.approx(1.0)
        assert np.isnan(spearman(np.array([1.0, 2.0]), np.array([1.0, 2.0])))


def _exact_displacements(skeletons, worlds, cameras) -> np.ndarray:
    """(S, V, P, 4) crop displacements of a refiner that moves every keypoint exactly onto the truth."""
    out = np.zeros((len(skeletons), len(cameras), len(SCORED_PARTS), len(CORNERS)))
    for s, (skeleton, world) in enumerate(zip(skeletons, worlds, strict=True)):
        for v, cam in enumerate(cameras):
            err = np.linalg.norm(geometry.project(cam, skeleton) - geometry.project(cam, world), axis=1)  # (J,)
            for p, (_, _, idx, _) in enumerate(SCORED_PARTS):
                out[s, v, p] = err[idx].mean()
    return out


class AggregateTests:
    """Parts weigh their keypoints, as the true face+hand error does (``ml_services.heldout.true_errors``)."""

    def test_keypoint_weights_on_a_hand_built_case(self):
        per_crop = np.full((2, 3, 3, 4), np.nan)
        per_crop[0, 0] = np.array([1.0, 4.0, 4.0])[:, None]  # face 1 px, both hands 4 px
        per_crop[0, 1, 0] = [1.0, 1.0, 3.0, 3.0]  # face only (crop mean 2 px); the hands are out of the image
        # view 2 of skeleton 0: nothing scorable.
        per_crop[1, :, 2] = 5.0  # skeleton 1: only its right hand, 5 px in every view
        result = aggregate(per_crop)
        assert PART_KEYPOINTS.tolist() == [68, 21, 21]
        first = (68 * 1.0 + 21 * 4 + 21 * 4) / 110
        assert result.per_view[0, :2] == pytest.approx([first, 2.0]) and np.isnan(result.per_view[0, 2])
        assert result.score[0] == pytest.approx((first + 2.0) / 2)
        assert result.score[1] == pytest.approx(5.0) and result.per_view[1] == pytest.approx([5.0] * 3)
        assert result.per_part[0] == pytest.approx([1.5, 4.0, 4.0]) and np.isnan(result.per_part[1, :2]).all()
        # The old definition: the plain mean of every scored crop, each part alike.
        old = aggregate(per_crop, "parts")
        assert old.score[0] == pytest.approx((4 * 1.0 + 8 * 4.0 + 4 * 2.0) / 16)
        assert old.per_view[0, 0] == pytest.approx(3.0) and old.score[1] == pytest.approx(5.0)
        assert np.array_equal(old.per_part, result.per_part, equal_nan=True)

    def test_an_exact_refiner_scores_each_skeleton_its_true_error(self):
        """Displacements equal to the true per-part errors give back the true face+hand 2D error itself."""
        rng = np.random.default_rng(3)
        inst = rig_instants()[0]
        skeletons = error_draws(inst, 8, rng)
        truth = np.array([true_errors(s, inst["world"], inst["cameras"], SCORED_KEYPOINTS)[0] for s in skeletons])
        per_crop = _exact_displacements(skeletons, [inst["world"]] * len(skeletons), inst["cameras"])
        assert aggregate(per_crop).score == pytest.approx(truth, rel=1e-9)
        # Weighing the three parts alike ranks another quantity: a face 2 px off everywhere (true error over the 110
        # keypoints 2 * 68 / 110 = 1.24 px) is worse than one hand 5 px off (5 * 21 / 110 = 0.95 px), but the old
        # definition ranks them the other way round (2 / 3 < 5 / 3).
        per_crop = np.zeros((2, 1, 3, 4))
        per_crop[0, 0, 0], per_crop[1, 0, 2] = 2.0, 5.0
        assert aggregate(per_crop).score == pytest.approx([2 * 68 / 110, 5 * 21 / 110])
        assert aggregate(per_crop, "parts").score == pytest.approx([2 / 3, 5 / 3])

    def test_bad_input_is_refused(self):
        with pytest.raises(ValueError, match="part_weighting must be one of keypoints, parts"):
            ScoringConfig(part_weighting="max")
        with pytest.raises(ValueError, match="part_weighting must be one of"):
            aggregate(np.zeros((1, 1, 3, 4)), "sum")
        with pytest.raises(ValueError, match=r"per_crop must be \(S, V, 3, C\)"):
            aggregate(np.zeros((1, 3, 4)))


def _views(instants, world_override=None):
    points, images = [], []
    for k, inst in enumerate(instants):
        world = inst["world"] if world_override is None or k not in world_override else world_override[k]
        points.append(np.stack([geometry.project(cam, world) for cam in inst["cameras"]]))
        images += [load_rgb(p) for p in inst["images"]]
    return np.stack(points), images


class ScoreViewsTests:
    def test_shapes_and_unscorable_parts(self):
        torch.manual_seed(0)
        refiners = {p: build_refiner(RefinerConfig(part=p, **TINY)).eval() for p in ("face", "hand")}
        inst = rig_instants()[:1]
        points, images = _views(inst)
        points[0, 1, keypoints.PARTS["left_hand"]] = np.nan  # left hand unknown in view 1
        points[0, 2] = -1000.0  # everything outside the image in view 2
        result = score_views(refiners, points, images)
        assert result.score.shape == (1,) and result.per_view.shape == (1, 4)
        assert result.per_part.shape == (1, len(PART_NAMES)) and result.per_crop.shape == (1, 4, len(PART_NAMES), 4)
        assert np.isnan(result.per_crop[0, 1, PART_NAMES.index("left_hand")]).all()
        assert np.isnan(result.per_view[0, 2]) and np.isfinite(result.score[0])

    def test_bad_input_is_refused(self):
        refiners = {p: build_refiner(RefinerConfig(part=p, **TINY)) for p in ("face", "hand")}
        with pytest.raises(ValueError, match="points_2d must be"):
            score_views(refiners, np.zeros((1, 4, 5, 2)), [])
        with pytest.raises(ValueError, match="expected 4 images"):
            score_views(refiners, np.zeros((1, 4, keypoints.NUM_KEYPOINTS, 2)), [])
        with pytest.raises(ValueError, match="missing refiners"):
            score_views({"face": refiners["face"]}, np.zeros((1, 1, keypoints.NUM_KEYPOINTS, 2)),
                        [np.zeros((8, 8, 3), np.uint8)])  # fmt: skip

    def test_shipped_refiners_score_a_gross_hand_error_worse(self):
        refiners = {p: load_checkpoint(default_checkpoint(p), p) for p in ("face", "hand")}
        instants = rig_instants()[:2]
        broken = {}
        for k, inst in enumerate(instants):
            world = inst["world"].copy()
            world[keypoints.PARTS["right_hand"]] += np.array([60.0, -40.0, 30.0])  # a hand ~80 mm off
            broken[k] = world
        clean = score_views(refiners, *_views(instants))
        bad = score_views(refiners, *_views(instants, broken))
        right = PART_NAMES.index("right_hand")
        assert np.all(bad.score > clean.score)
        assert np.all(bad.per_part[:, right] > 2 * clean.per_part[:, right])


class MirroredHandScoringTests:
    """A left hand is scored as the mirror image of a right hand (see tests/ml_services/test_suggestions.py)."""

    def test_left_hand_of_the_flipped_view_scores_like_the_right_hand(self):
        instant = rig_instants()[0]
        image = load_rgb(instant["images"][0])
        skeleton = geometry.project(instant["cameras"][0], instant["world"])
        skeleton = skeleton + np.random.default_rng(1).normal(0.0, 3.0, skeleton.shape)  # off, so scores differ
        flipped = np.empty_like(skeleton)
        flipped[keypoints.FLIP_INDEX] = np.column_stack([image.shape[1] - 1 - skeleton[:, 0], skeleton[:, 1]])
        refiners = {net: load_checkpoint(default_checkpoint(net), net) for net in ("face", "hand")}
        result = score_views(refiners, np.stack([skeleton, flipped])[:, None],
                             [image, np.ascontiguousarray(image[:, ::-1])])  # fmt: skip
        right, left = PART_NAMES.index("right_hand"), PART_NAMES.index("left_hand")
        assert result.per_part[0, right] > 0.2  # the network moves the points: the comparison means something
        assert result.per_part[1, left] == pytest.approx(result.per_part[0, right], abs=0.02)
        assert result.per_part[1, right] == pytest.approx(result.per_part[0, left], abs=0.02)


#: Dataset skeletons drawn per unseen instant: 4 instants x 12 = 48 skeletons to rank.
DRAWS = 12
#: "Clearly above chance": with 48 skeletons, chance gives |Spearman| above 0.37 about one time in 100.
ABOVE_CHANCE = 0.37
#: "At chance": the same bound; grey images leave the score nothing but the keypoints' own shape.
AT_CHANCE = 0.37


@pytest.fixture(scope="module")
def unseen_skeletons():
    return unseen_people_skeletons()


def unseen_people_skeletons():
    """48 dataset skeletons of S9 and S11 (never trained on): projections, images, true face+hand 2D error."""
    rng = np.random.default_rng(5)
    points, images, error = [], [], []
    for inst in unseen_instants():
        views = [load_rgb(p) for p in inst["images"]]
        for skeleton in error_draws(inst, DRAWS, rng):
            points.append(np.stack([geometry.project(cam, skeleton) for cam in inst["cameras"]]))
            images += views
            error.append(true_errors(skeleton, inst["world"], inst["cameras"], SCORED_KEYPOINTS)[0])
    return np.stack(points), images, np.array(error)


class UnseenPeopleScoringTests:
    """The default scorer on people the shipped refiners never saw: it ranks the true error, through the image."""

    def test_the_test_people_are_unseen(self):
        require_unseen(UNSEEN_SUBJECTS, {p: default_checkpoint(p) for p in ("face", "hand")})

    def test_the_score_ranks_the_true_error_above_chance(self, unseen_skeletons):
        points, images, error = unseen_skeletons
        refiners = {p: load_checkpoint(default_checkpoint(p), p) for p in ("face", "hand")}
        rho = spearman(score_views(refiners, points, images).score, error)
        assert rho > ABOVE_CHANCE

    def test_with_uniform_grey_images_it_falls_to_chance(self, unseen_skeletons):
        points, images, error = unseen_skeletons
        refiners = {p: load_checkpoint(default_checkpoint(p), p) for p in ("face", "hand")}
        grey = [np.full_like(img, 128) for img in images]
        rho = spearman(score_views(refiners, points, grey).score, error)
        assert abs(rho) < AT_CHANCE
