"""Rotated regions and the crops cut at them: round trips, turning directions up or right, bilinear cuts."""

from __future__ import annotations

import numpy as np
import pytest

from ml_services.pretrained.crops import Roi, angle_right, angle_up, cut, roi_around


class RoiTests:
    @pytest.mark.parametrize("angle", [0.0, 0.7, -2.1, np.pi])
    def test_crop_and_image_coordinates_round_trip(self, angle):
        roi = Roi(120.5, 80.25, 64.0, angle)
        uv = np.array([[0.0, 0.0], [10.5, 200.0], [256.0, 256.0]])
        assert np.allclose(roi.to_crop(roi.to_image(uv, 256), 256), uv)
        assert np.allclose(roi.to_image(np.array([128.0, 128.0]), 256), [120.5, 80.25])  # the crop centre

    def test_angle_up_points_a_direction_to_the_top_of_the_crop(self):
        for d in ([0.0, -1.0], [1.0, 0.0], [-3.0, 4.0]):
            roi = Roi(0.0, 0.0, 10.0, angle_up(np.array(d)))
            q = roi.to_crop(np.array(d) / np.hypot(*d), 10) - 5.0  # the direction's tip, from the crop centre
            assert np.allclose(q, [0.0, -1.0], atol=1e-9)
            r = Roi(0.0, 0.0, 10.0, angle_right(np.array(d)))
            assert np.allclose(r.to_crop(np.array(d) / np.hypot(*d), 10) - 5.0, [1.0, 0.0], atol=1e-9)

    def test_scaled_and_roi_around(self):
        pts = np.array([[10.0, 10.0], [30.0, 20.0], [np.nan, 5.0]])
        roi = roi_around(pts, 0.0, 2.0)
        assert (roi.cx, roi.cy, roi.side) == (20.0, 15.0, 40.0)
        up = roi.scaled(1.0, shift_up=0.25)
        assert (up.cx, up.cy) == pytest.approx((20.0, 5.0))
        assert roi_around(np.array([[1.0, 1.0], [np.nan, 2.0]]), 0.0, 2.0) is None
        assert roi_around(np.array([[1.0, 1.0], [1.0, 1.0]]), 0.0, 2.0) is None


class CutTests:
    def test_a_bright_pixel_lands_where_to_crop_says(self):
        image = np.zeros((60, 80, 3), np.uint8)
        image[22, 41] = 255  # pixel (x 41, y 22): continuous centre (41.5, 22.5)
        for angle in (0.0, 0.5, -1.3):
            roi = Roi(40.0, 25.0, 16.0, angle)
            crop = cut(image, roi, 64)
            assert crop.shape == (64, 64, 3) and crop.dtype == np.float32
            peak = np.unravel_index(np.argmax(crop[..., 0]), crop.shape[:2])  # (row, col)
            expected = roi.to_crop(np.array([41.5, 22.5]), 64) - 0.5  # crop pixel index
            assert np.hypot(peak[1] - expected[0], peak[0] - expected[1]) <= 2.0

    def test_outside_the_image_is_black_and_bad_input_is_refused(self):
        image = np.full((10, 10, 3), 200, np.uint8)
        assert (cut(image, Roi(-100.0, -100.0, 5.0), 8) == 0).all()
        half = cut(image, Roi(10.0, 5.0, 10.0), 8)  # right half of the crop lies beyond x = 10
        assert half[:, :3].min() > 0.7 and half[:, 5:].max() == 0
        with pytest.raises(ValueError, match="uint8"):
            cut(image.astype(np.float32), Roi(5.0, 5.0, 4.0), 8)
        with pytest.raises(ValueError, match="not a usable region"):
            cut(image, Roi(5.0, np.nan, 4.0), 8)
