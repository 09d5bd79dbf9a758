"""The simulated annotators' model (annotator.simulation) and the shared re-fit rule (annotator.refit), without a
database: the editor's focus ported from geometry.js, what a perceiving annotator can see and drags, its
placement spread against COCO's definition, the pretrained annotator, and in-memory replays whose sensitivity
table moves when its parameters move."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from annotator import geometry, h36m, keypoints, simulation
from annotator.refit import UNCORRECTED_VIEW_WEIGHT, refit

J = keypoints.NUM_KEYPOINTS
FACE = keypoints.PARTS["face"]
LEFT_HAND = keypoints.PARTS["left_hand"]
SIZE = np.asarray([[1000.0, 1000.0]])
ROOT = Path(__file__).resolve().parents[2]


def drawn_person() -> np.ndarray:
    """(J, 2) a drawn skeleton on a 1000 x 1000 image: the face's 68 points on a horizontal line 1 px apart
    (x 400..467, y 200), every other keypoint spread over the body area, 40 px apart or more."""
    pts = np.zeros((J, 2))
    rng = np.random.default_rng(0)
    pts[:] = rng.uniform(300, 700, size=(J, 2))
    pts[FACE] = np.stack([400.0 + np.arange(len(FACE)), np.full(len(FACE), 200.0)], axis=1)
    pts[LEFT_HAND] = np.stack([600.0 + 3 * np.arange(len(LEFT_HAND)), np.full(len(LEFT_HAND), 500.0)], axis=1)
    return pts


class FocusTests:
    def test_the_face_focus_zooms_until_its_points_are_ten_screen_px_apart(self):
        # Worked by hand: the face box is 67 x 0 px, framed with 15% margins at least 120 px across: the fitted
        # scale is min(1180 / 120, 860 / 120) = 7.17 screen px per image px. The points are 1 px apart, so the
        # spacing rule asks for 10 screen px per image px, which wins; the crop on screen is then 118 x 86 image
        # px centred on the box (433.5, 200).
        scale, crop = simulation.focus(drawn_person()[None], SIZE)
        assert scale[0, FACE] == pytest.approx(10.0)
        np.testing.assert_allclose(crop[0, FACE[0]], [433.5 - 59.0, 200.0 - 43.0, 433.5 + 59.0, 200.0 + 43.0])

    def test_a_hand_with_wider_spacing_is_framed_at_the_minimum_size(self):
        # 21 points 3 px apart: box 60 px -> framed 120 px -> 7.17 screen px per px; the spacing rule would need
        # only 10 / 3 = 3.33, so the framing wins.
        scale, _ = simulation.focus(drawn_person()[None], SIZE)
        assert scale[0, LEFT_HAND] == pytest.approx(860.0 / 120.0)

    def test_the_constants_are_the_editors(self):
        js = (ROOT / "frontend/static/frontend/js/geometry.js").read_text()
        assert float(re.search(r"FOCUS_SPACING_PX = ([\d.]+)", js)[1]) == simulation.FOCUS_SPACING_PX
        assert float(re.search(r"MIN_ZOOM = ([\d.]+)", js)[1]) == simulation.MIN_ZOOM
        assert float(re.search(r"MAX_ZOOM = ([\d.]+)", js)[1]) == simulation.MAX_ZOOM
        frame = re.search(r"zoomToBox\(box, imageSize, viewport, margin = ([\d.]+), minSize = (\d+)\)", js)
        assert (float(frame[1]), float(frame[2])) == (simulation.FOCUS_MARGIN, simulation.FOCUS_MIN_SIZE_PX)

    def test_the_segment_area_is_the_coco_exports(self):
        from annotator.exporters.coco_wholebody import AREA_PER_BOX

        assert simulation.SEGMENT_AREA_PER_BOX == AREA_PER_BOX
        assert simulation.object_scale([0, 0, 100, 400]) == pytest.approx(math.sqrt(0.53 * 100 * 400))
        assert math.isnan(simulation.object_scale(None)) and math.isnan(simulation.object_scale([5, 5, 5, 9]))


def decide(displayed, truth, visible=None, noise_scale=0.0, threshold=3.0, occluded="leave", noise=None):
    annotator = simulation.PerceivingAnnotator(threshold_px=threshold, noise_scale=noise_scale, occluded=occluded)
    visible = np.ones(J) if visible is None else visible
    noise = np.zeros((J, 2)) if noise is None else noise
    return simulation.perceiving_decisions(annotator, displayed[None], truth[None], visible[None],
                                           np.asarray([250.0]), SIZE, noise[None])  # fmt: skip


class PerceivingAnnotatorTests:
    def test_only_what_is_visibly_off_at_the_focus_zoom_is_dragged(self):
        truth = drawn_person()
        displayed = truth.copy()
        face = FACE[10]
        displayed[face, 0] += 0.35  # 3.5 screen px at the face's 10x: over the 3 px threshold
        displayed[FACE[20], 0] += 0.25  # 2.5 screen px: under it
        out = decide(displayed, truth)
        assert np.flatnonzero(out.move[0]).tolist() == [face]
        np.testing.assert_allclose(out.drops[0, face], truth[face])  # no spread: onto the truth
        assert np.isnan(out.drops[0, FACE[20]]).all()

    def test_a_hidden_keypoint_is_never_moved_however_far_off(self):
        truth = drawn_person()
        displayed = truth + 30.0  # everything far off
        visible = np.ones(J)
        visible[FACE] = 0.0  # the face turned away from this camera
        out = decide(displayed, truth, visible=visible)
        assert not out.move[0, FACE].any() and out.move[0, keypoints.METRIC_PARTS["body"]].all()
        assert out.unseen[0, FACE].all() and out.hidden[0, FACE].all() and not out.occluded.any()
        flagged = decide(displayed, truth, visible=visible, occluded="flag")
        assert flagged.occluded[0].tolist() == (visible == 0).tolist() and not flagged.move[0, FACE].any()

    def test_a_keypoint_outside_its_parts_crop_is_left_alone(self):
        truth = drawn_person()
        displayed = truth.copy()
        # The drawn face (the crop is framed on it) sits 100 px from the true one: the true face is off screen.
        displayed[FACE, 1] += 100.0
        out = decide(displayed, truth)
        assert not out.move[0, FACE].any() and out.unseen[0, FACE].all() and not out.hidden[0, FACE].any()
        displayed[FACE, 1] -= 97.0  # 3 px off: the true face is inside the crop now, and 30 screen px away
        assert decide(displayed, truth).move[0, FACE].all()

    def test_a_truth_outside_the_image_is_not_seen(self):
        truth = drawn_person()
        displayed = truth.copy()
        truth[0] = (-5.0, 500.0)
        displayed[0] = (10.0, 500.0)
        assert not decide(displayed, truth).move[0, 0]

    def test_placement_spread_is_cocos_sigma_times_the_object_scale(self):
        # COCO: sigma_k^2 = E[d^2 / s^2] with d the distance to the truth. Over many views, the drops' mean
        # d^2 / s^2 is the published sigma^2 per keypoint (within the sampling error of 4000 draws: ~3%).
        rng = np.random.default_rng(1)
        n = 4000
        truth = np.broadcast_to(drawn_person(), (n, J, 2))
        displayed = truth  # drawn on the truth; at threshold 0 every perceived offset is a drag
        annotator = simulation.PerceivingAnnotator(threshold_px=0.0, noise_scale=1.0)
        scale = np.full(n, 250.0)
        out = simulation.perceiving_decisions(annotator, displayed, truth, np.ones((n, J)), scale,
                                              np.repeat(SIZE, n, axis=0), rng.standard_normal((n, J, 2)))  # fmt: skip
        d2 = ((out.drops - truth) ** 2).sum(-1) / 250.0**2  # (n, J)
        moved = out.move.all(axis=0)
        assert moved.sum() == J
        derived = np.sqrt(np.nanmean(np.where(out.move, d2, np.nan), axis=0))[moved]
        np.testing.assert_allclose(derived, keypoints.SIGMAS[moved], rtol=0.06)

    def test_bad_parameters_are_refused(self):
        bad = [({"threshold_px": -1}, "threshold_px"), ({"noise_scale": float("nan")}, "noise"),
               ({"occluded": "hide"}, "occluded"), ({"threshold_px": True}, "threshold_px")]  # fmt: skip
        for kwargs, message in bad:
            with pytest.raises(ValueError, match=message):
                simulation.PerceivingAnnotator(**kwargs)
        with pytest.raises(ValueError, match="min_score"):
            simulation.ModelAnnotator(min_score=1.5)
        with pytest.raises(ValueError, match="shape"):
            decide(drawn_person(), drawn_person()[:10])


class ModelAnnotatorTests:
    def test_confident_predictions_are_where_keypoints_belong(self):
        displayed = drawn_person()
        predicted = displayed + 5.0
        scores = np.full(J, 0.9)
        scores[FACE] = 0.2  # the model is not sure of the face: unseen
        predicted[LEFT_HAND] = np.nan  # nor of the left hand: not predicted
        annotator = simulation.ModelAnnotator(threshold_px=3.0, min_score=0.5)
        out = simulation.model_decisions(annotator, displayed[None], predicted[None], scores[None], SIZE)
        assert not out.move[0, FACE].any() and not out.move[0, LEFT_HAND].any()
        assert out.move[0, keypoints.METRIC_PARTS["body"]].all()
        body = keypoints.METRIC_PARTS["body"]
        np.testing.assert_allclose(out.drops[0, body], predicted[body])


class RefitTests:
    def test_a_point_without_drops_stays_on_the_base_exactly(self):
        cams = list(h36m.rig("S1").values())
        base = np.array([[100.0, 200.0, 900.0], [0.0, -50.0, 1200.0]])
        drops = np.full((4, 2, 2), np.nan)
        drops[1, 1] = geometry.project(cams[1], base[1] + [30.0, 0.0, 0.0])
        out = refit(cams, base, drops)
        np.testing.assert_array_equal(out[0], base[0])
        assert not np.allclose(out[1], base[1])
        # The rule, written out: the dropped view at weight 1, the three others at the base projection, weighted low.
        observed = np.stack([geometry.project(c, base[1]) for c in cams])
        observed[1] = drops[1, 1]
        weights = np.full(4, UNCORRECTED_VIEW_WEIGHT)
        weights[1] = 1.0
        expected = geometry.triangulate(cams, observed[:, None], np.ones((4, 1), bool), weights[:, None])[0]
        np.testing.assert_allclose(out[1], expected, atol=1e-9)

    def test_one_camera_cannot_refit(self):
        cam = h36m.rig("S1")["54138969"]
        out = refit([cam], np.zeros((1, 3)) + [0, 0, 1000.0], np.zeros((1, 1, 2)))
        assert np.isnan(out).all()


def synthetic_study(n_frames: int = 12, seed: int = 0) -> simulation.ReplayStudy:
    """A frame-mode study of rig poses (S1's four cameras), without a database: the rig's body model posed by its
    motion library, the rig's error model for the dataset skeletons, every keypoint visible."""
    from fixtures.synthetic import body, motion
    from fixtures.synthetic.errors import ErrorModel, apply_errors

    rng = np.random.default_rng(seed)
    frames = motion.frame_indices(n_frames, rng)
    truth = np.stack([body.pose_figure(body.build("S1"), p).keypoints
                      for p in motion.sequence("Directions", frames, seed)])  # fmt: skip
    base, _ = apply_errors(truth, frames / h36m.FPS, ErrorModel(gross_rate=0.0), rng)
    cams = [h36m.rig("S1")[c] for c in h36m.CAMERA_IDS]
    row_task = np.repeat(np.arange(n_frames), 4)
    row_camera = np.tile(np.arange(4), n_frames)
    scale = np.asarray([simulation.view_scale(None, geometry.project(cams[c], truth[t]))
                        for t, c in zip(row_task, row_camera, strict=True)])  # fmt: skip
    return simulation.ReplayStudy(
        base=base, truth=truth, cameras=cams, frame_cameras=[(0, 1, 2, 3)] * n_frames, row_task=row_task,
        row_camera=row_camera, row_visible=np.ones((4 * n_frames, J)), row_scale=scale,
        row_noise=rng.standard_normal((4 * n_frames, J, 2)),
    )  # fmt: skip


class SensitivityTests:
    def test_the_table_moves_when_its_parameters_move(self):
        study = synthetic_study()
        table = simulation.sensitivity(study, thresholds_px=(1.5, 24.0), noise_scales=(0.0, 1.0))
        body = table["parts"]["body"]
        moved = table["fraction_moved"]
        # A higher threshold leaves more of the error uncorrected: fewer keypoints move and less error is measured.
        assert moved[1][0] < moved[0][0] and body[1][0] < body[0][0]
        # With COCO's spread the annotators' own placement adds error the study then reports as the dataset's.
        assert body[0][1] > body[0][0] + 0.2
        # A perfect annotator (no spread, a small threshold) in frame mode measures close to the truth.
        assert table["parts"]["all"][0][0] == pytest.approx(1.0, abs=0.25)

    def test_a_replay_is_reproducible_and_uses_the_given_draws(self):
        study = synthetic_study(n_frames=4)
        annotator = simulation.PerceivingAnnotator(noise_scale=1.0)
        np.testing.assert_array_equal(simulation.replay(study, annotator), simulation.replay(study, annotator))
        other = simulation.ReplayStudy(**{**study.__dict__, "row_noise": -study.row_noise})
        assert not np.allclose(simulation.replay(other, annotator), simulation.replay(study, annotator))


class OtherLayoutTests:
    """The perceiving annotator in a body-only layout: one focus, the layout's sigmas, its keypoint count."""

    COCO17 = keypoints.layout_get("coco-17")

    def test_one_focus_and_the_layouts_sigmas(self):
        np.testing.assert_array_equal(simulation.focus_of(self.COCO17), np.zeros(17, dtype=np.intp))
        np.testing.assert_array_equal(simulation.focus_of(), simulation.FOCUS_OF)
        sigma = simulation.placement_sigma(np.array([100.0, 200.0]), 1.0, self.COCO17)  # (2, 17)
        np.testing.assert_allclose(sigma, self.COCO17.sigmas[None] * np.array([[100.0], [200.0]]) / math.sqrt(2))
        assert simulation.task_noise(0, 1, 3, 17).shape == (3, 17, 2)

    def test_decisions_in_coco17(self):
        rng = np.random.default_rng(0)
        truth = rng.uniform(300, 700, (2, 17, 2))
        displayed = truth + [[[40.0, 0.0]], [[0.0, 0.0]]]  # the first view is 40 px off everywhere
        decisions = simulation.perceiving_decisions(
            simulation.PerceivingAnnotator(noise_scale=0.0), displayed, truth, np.ones((2, 17)),
            np.array([300.0, 300.0]), np.array([[1000.0, 1000.0]] * 2), np.zeros((2, 17, 2)), layout=self.COCO17,
        )  # fmt: skip
        assert decisions.move[0].all() and not decisions.move[1].any()
        np.testing.assert_allclose(decisions.drops[0], truth[0])
        with pytest.raises(ValueError, match="displayed must have 17 keypoints"):
            simulation.focus(np.zeros((1, J, 2)), np.array([[1000.0, 1000.0]]), layout=self.COCO17)
