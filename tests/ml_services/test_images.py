"""load_rgb: pixels of an image file, and clear errors for missing or unreadable files."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from ml_services.images import load_rgb


class LoadRgbTests:
    def test_reads_rgb_pixels(self, tmp_path):
        grey = np.full((5, 7), 100, dtype=np.uint8)
        Image.fromarray(grey).save(tmp_path / "g.png")
        img = load_rgb(tmp_path / "g.png")
        assert img.shape == (5, 7, 3) and img.dtype == np.uint8 and (img == 100).all() and img.flags.writeable

    def test_missing_and_broken_files(self, tmp_path):
        with pytest.raises(ValueError, match="image file not found"):
            load_rgb(tmp_path / "none.jpg")
        (tmp_path / "bad.jpg").write_bytes(b"no image")
        with pytest.raises(ValueError, match="cannot read image"):
            load_rgb(tmp_path / "bad.jpg")
