"""Crops, crop coordinates, mirroring of left hands, the noise schedule and the held-out split."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from annotator import keypoints
from ml_services.config import RefinerConfig
from ml_services.data import (
    crop_images,
    extract_samples,
    flip_permutation,
    from_crop,
    held_out_mask,
    noise_pair,
    part_boxes,
    part_members,
    random_crop_boxes,
    stack_regions,
    to_crop,
)


def _dot_image(h: int, w: int, x: int, y: int) -> torch.Tensor:
    img = torch.zeros(1, 3, h, w)
    img[0, :, y, x] = 1.0
    return img


class CropTests:
    @pytest.mark.parametrize("mirror", [False, True])
    def test_a_dot_lands_where_to_crop_says(self, mirror):
        x, y = 37, 21
        boxes = torch.tensor([[[40.5, 24.5, 16.0]]])  # 1 crop pixel per image pixel, centres aligned
        mirror_t = torch.tensor([[mirror]])
        crops = crop_images(_dot_image(50, 60, x, y), boxes, mirror_t, 16)  # (1, 1, 3, 16, 16)
        assert crops.shape == (1, 1, 3, 16, 16)
        row, col = np.unravel_index(int(crops[0, 0, 0].argmax()), (16, 16))
        q = to_crop(torch.tensor([[[x, y]]], dtype=torch.float32), boxes[0], mirror_t[0])[0, 0]
        assert ((q + 1) / 2 * 16 - 0.5).tolist() == pytest.approx([col, row])

    def test_to_crop_and_from_crop_are_inverse(self):
        pts = torch.randn(5, 7, 2) * 30 + 200
        boxes = torch.rand(5, 3) * 50 + torch.tensor([180.0, 180.0, 20.0])
        mirror = torch.tensor([True, False, True, False, True])
        assert torch.allclose(from_crop(to_crop(pts, boxes, mirror), boxes, mirror), pts, atol=1e-4)
        q = to_crop(pts, boxes, mirror)
        assert torch.allclose(q[0, :, 0], -(pts[0, :, 0] - boxes[0, 0]) / (boxes[0, 2] / 2), atol=1e-5)

    def test_many_crops_per_image_in_one_call(self):
        images = torch.rand(3, 3, 40, 50)
        boxes = torch.tensor([[10.5, 10.5, 8.0], [30.0, 20.0, 12.0]]).expand(3, -1, -1)
        out = crop_images(images, boxes, torch.zeros(3, 2, dtype=torch.bool), 8)
        assert out.shape == (3, 2, 3, 8, 8)
        # The first box is 8 px wide at 8 px: pixels are copied exactly.
        assert torch.allclose(out[1, 0], images[1, :, 7:15, 7:15], atol=1e-6)

    def test_regions_give_the_same_crops_as_whole_images(self):
        rng = np.random.default_rng(0)
        images = [rng.integers(0, 255, (60, 80, 3), dtype=np.uint8), rng.integers(0, 255, (70, 50, 3), dtype=np.uint8)]
        boxes = torch.tensor([[[30.0, 20.0, 14.0], [60.0, 40.0, 30.0]], [[10.0, 50.0, 24.0], [45.0, 5.0, 20.0]]])
        mirror = torch.tensor([[False, True], [True, False]])
        whole = torch.zeros(2, 3, 70, 80)
        for n, img in enumerate(images):
            whole[n, :, : img.shape[0], : img.shape[1]] = torch.from_numpy(img).permute(2, 0, 1) / 255
        regions, region_boxes = stack_regions(images, boxes)
        assert regions.shape[2] < 70 or regions.shape[3] < 80
        expected = crop_images(whole, boxes, mirror, 12)
        assert torch.allclose(crop_images(regions, region_boxes, mirror, 12), expected, atol=1e-5)

    def test_part_boxes_are_square_and_ignore_missing_points(self):
        pts = torch.tensor([[[0.0, 0.0], [10.0, 4.0], [float("nan"), 100.0]]])
        assert part_boxes(pts, 2.0).tolist() == [[5.0, 2.0, 10.0]]
        assert part_boxes(torch.zeros(1, 3, 2), 12.0)[0, 2] == 12.0


class PartMemberTests:
    def test_left_hand_is_read_through_flip_index_and_mirrored(self):
        (right, right_mirror), (left, left_mirror) = part_members("hand")
        assert not right_mirror and left_mirror
        assert np.array_equal(right, keypoints.PARTS["right_hand"])
        assert np.array_equal(keypoints.FLIP_INDEX[left], right)
        assert set(left) == set(keypoints.PARTS["left_hand"])

    def test_face_flip_permutation_is_an_involution(self):
        perm = flip_permutation("face")
        assert np.array_equal(perm[perm], np.arange(len(perm)))
        assert flip_permutation("hand") is None


class NoiseTests:
    def test_target_lies_between_input_and_truth(self):
        config = RefinerConfig(part="hand")
        truth = torch.rand(256, config.num_keypoints, 2) * 50 + 100
        side = part_boxes(truth, config.min_box_px)[:, 2]
        noisy, target, step = noise_pair(truth, side, config, torch.Generator().manual_seed(0))
        assert step.min() >= 1 and step.max() <= config.noise_steps
        err_in = (noisy - truth).norm(dim=-1).mean(-1)
        err_out = (target - truth).norm(dim=-1).mean(-1)
        assert torch.all(err_out < err_in)
        assert torch.allclose(target[step == 1], truth[step == 1])
        sigma = torch.tensor(config.noise_schedule())
        rms = ((noisy - truth) / side[:, None, None]).pow(2).mean(dim=(1, 2)).sqrt() / sigma[step]
        assert rms.mean() == pytest.approx(1.0, abs=0.15)

    def test_training_crops_contain_the_part(self):
        config = RefinerConfig(part="face")
        pts = torch.rand(100, config.num_keypoints, 2) * 40 + 300
        boxes = random_crop_boxes(pts, config, torch.Generator().manual_seed(1))
        q = to_crop(pts, boxes, torch.zeros(100, dtype=torch.bool))
        assert q.abs().max() <= 1.0 + 1e-5
        ratio = boxes[:, 2] / part_boxes(pts, config.min_box_px)[:, 2]
        assert ratio.min() >= config.crop_scale[0] - 1e-5 and ratio.max() <= config.crop_scale[1] + 1e-5


class SplitTests:
    """Held-out means other people: the split goes by subject, never by frame."""

    def test_every_sample_of_a_held_out_subject_and_none_other(self):
        subjects = np.array(["S1", "S9", "S5", "S11", "S9", "S1"])
        assert held_out_mask(subjects, ("S9", "S11")).tolist() == [False, True, False, True, True, False]
        # A named subject the data lacks is no error while another named one is there.
        assert held_out_mask(subjects, ("S7", "S5")).tolist() == [False, False, True, False, False, False]

    def test_frames_of_one_person_never_straddle_the_split(self):
        """What the old frame-hash split did: frames 0.1 s apart landed on both sides."""
        frames = np.arange(200)
        subjects = np.where(frames % 2 == 0, "S1", "S9")
        mask = held_out_mask(subjects, ("S9",))
        for subject in ("S1", "S9"):
            assert len(set(mask[subjects == subject].tolist())) == 1

    @pytest.mark.parametrize(
        ("held_out", "message"),
        [(("S9",), "none of the held-out subjects S9 is in the data \\(it has S1, S5\\)"),
         (("S1", "S5"), "every subject in the data \\(S1, S5\\) is held out")],
    )  # fmt: skip
    def test_a_split_with_an_empty_side_is_refused(self, held_out, message):
        with pytest.raises(ValueError, match=message):
            held_out_mask(np.array(["S5", "S1", "S5"]), held_out)


class ExtractSamplesTests:
    def test_hand_samples_per_view_and_invalid_parts_skipped(self):
        config = RefinerConfig(part="hand", crop_size=16, context_size=32)
        rng = np.random.default_rng(0)
        truth = rng.uniform(100, 200, (keypoints.NUM_KEYPOINTS, 2))
        broken = truth.copy()
        broken[keypoints.PARTS["left_hand"][3]] = np.nan
        image = np.zeros((300, 320, 3), dtype=np.uint8)
        samples = extract_samples([(image, truth, None, 1, "S1"), (image, broken, truth, 2, "S9")], config)
        assert len(samples) == 3  # two hands of view 1, the right hand of view 2
        assert samples.context.shape == (3, 3, 32, 32) and samples.context.dtype == torch.uint8
        assert samples.truth.shape == (3, config.num_keypoints, 2)
        assert samples.mirror.tolist() == [False, True, False] and samples.group.tolist() == [1, 1, 2]
        assert samples.subject.tolist() == ["S1", "S1", "S9"] and samples.subjects() == ["S1", "S9"]
        assert torch.isnan(samples.start[0]).all() and torch.isfinite(samples.start[2]).all()
        assert np.allclose(samples.truth[1].numpy(), truth[part_members("hand")[1][0]])
