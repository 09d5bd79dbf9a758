"""The registry of camera formats: one spec per kind, the model's choices from it, dispatch by name or ending, the
Human3.6M preset equal to the shipped calibration."""

from __future__ import annotations

import numpy as np
import pytest

from annotator import camera_formats, h36m
from annotator.camera_formats import CameraFormatError
from annotator.models import Dataset
from fixtures.synthetic import rigs


def test_every_format_is_one_spec_and_a_choice_of_the_dataset():
    assert set(camera_formats.FORMATS) == {"anipose", "opencv", "h36m"}
    for key, spec in camera_formats.FORMATS.items():
        assert spec.key == key and spec.label
        assert (spec.read is None) == (spec.preset is not None), f"{key}: a file format or a preset"
        for suffix in spec.suffixes:
            assert camera_formats.format_of(camera_formats.Path(f"x{suffix.upper()}"), None) is spec
    field = Dataset._meta.get_field("rig_format")
    assert [k for k, _ in field.choices] == list(camera_formats.FORMATS)


def test_written_formats_read_back(tmp_path):
    ring = rigs.ring(3)
    for key, spec in camera_formats.FORMATS.items():
        if spec.write is None:
            continue
        path = tmp_path / f"rig{spec.suffixes[0]}"
        camera_formats.write_rig(ring, path, key)
        back = camera_formats.read_rig(path)
        assert back.format == key
        for a, b in zip(ring, back.cameras, strict=True):
            np.testing.assert_allclose(a.P, b.P, rtol=1e-12, atol=1e-9)


def test_h36m_preset_is_the_shipped_calibration_per_subject():
    rig = camera_formats.read_rig(fmt="h36m")
    assert set(rig.per_subject) == set(h36m.SUBJECTS)
    for subject in h36m.SUBJECTS:
        assert [c.name for c in rig.cameras_for(subject)] == list(h36m.CAMERA_IDS)
        assert rig.cameras_for(subject)[0] is h36m.camera(subject, h36m.CAMERA_IDS[0])
    with pytest.raises(CameraFormatError, match="no calibration for subject 'S2'"):
        rig.cameras_for("S2")
    assert "4-camera rig" in camera_formats.describe(rig) and "per subject (7 subjects)" in camera_formats.describe(rig)


def test_wrong_names_are_refused(tmp_path):
    with pytest.raises(CameraFormatError, match="unknown camera format 'colmap'"):
        camera_formats.read_rig(tmp_path / "x.txt", fmt="colmap")
    with pytest.raises(CameraFormatError, match="unknown units 'inch'"):
        camera_formats.read_rig(tmp_path / "x.toml", units="inch")
    with pytest.raises(CameraFormatError, match="needs a calibration file, or a preset without one"):
        camera_formats.read_rig(fmt="anipose")
    with pytest.raises(CameraFormatError, match="is a preset: it is not read from a file"):
        camera_formats.read_rig(tmp_path / "x.json", fmt="h36m")
    with pytest.raises(CameraFormatError, match="no such file"):
        camera_formats.read_rig(tmp_path / "missing.toml")
