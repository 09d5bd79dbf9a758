"""Anipose calibration.toml: files as aniposelib writes them (its dump, transcribed) are read exactly; ours read back
in aniposelib's loader; every bad value is refused naming the file, camera and field."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from annotator import camera_formats, geometry
from annotator.camera_formats import CameraFormatError, anipose
from fixtures.synthetic import rigs
from tests.transcriptions import aniposelib_calibration as ani

#: A lab rig in metres, like aniposelib's test calibrations: three cameras around a table 1 m across.
CAMERAS = [
    ("cam088", (1440, 1080), [[1852.4, 0.0, 719.5], [0.0, 1852.4, 539.5], [0.0, 0.0, 1.0]],
     [-0.036, 0.01, 0.001, -0.002, 0.0], [-0.0017, -0.0018, -0.0046], [0.0026, -0.0028, 1.2]),
    ("cam091", (1440, 1080), [[1935.9, 0.0, 720.1], [0.0, 1936.3, 538.0], [0.0, 0.0, 1.0]],
     [-0.313, 0.1, 0.0, 0.0, 0.02], [-0.2257, -2.982, 0.3874], [0.117, 0.262, 1.479]),
    ("cam581", (1280, 1024), [[1772.8, 0.0, 640.2], [0.0, 1772.8, 511.9], [0.0, 0.0, 1.0]],
     [-0.161, 0.0, 0.0, 0.0, 0.0], [-1.5189, -1.6528, 0.2325], [0.557, -0.254, 1.178]),
]  # fmt: skip
#: Points on the table (m) every camera sees.
POINTS_M = np.array([[0.0, 0.0, 0.0], [0.1, -0.05, 0.02], [-0.08, 0.12, 0.05], [0.03, 0.02, -0.04]])


def write_aniposelib(path: Path, cameras=CAMERAS, **overrides) -> list[dict]:
    """A calibration.toml as aniposelib's CameraGroup.dump writes it (``overrides`` replace fields of camera 0)."""
    dicts = [ani.get_dict(*c) for c in cameras]
    dicts[0].update(overrides)
    ani.dump(dicts, path, metadata={"adjusted": True, "error": 0.52})
    return dicts


class AniposeReadTests:
    def test_projections_equal_aniposelib_in_mm(self, tmp_path):
        """Read in metres, every camera projects as aniposelib does (cv2.projectPoints), the world now in mm."""
        dicts = write_aniposelib(tmp_path / "calibration.toml")
        rig = camera_formats.read_rig(tmp_path / "calibration.toml", units="m")
        assert rig.format == "anipose" and rig.source == "calibration.toml"
        assert [c.name for c in rig.cameras] == ["cam088", "cam091", "cam581"]
        for cam, d in zip(rig.cameras, dicts, strict=True):
            assert cam.model == "opencv" and cam.size == tuple(d["size"])
            np.testing.assert_allclose(geometry.project(cam, POINTS_M * 1000.0), ani.project(d, POINTS_M), atol=1e-9)

    def test_cameras_keep_their_table_order_past_ten(self, tmp_path):
        ring = rigs.ring(12)
        anipose.write(ring, tmp_path / "c.toml")
        rig = camera_formats.read_rig(tmp_path / "c.toml")
        assert [c.name for c in rig.cameras] == [c.name for c in ring]  # cam_10 after cam_9, not after cam_1
        # aniposelib orders the tables as strings; the names, not the order, identify cameras.
        assert [d["name"] for d in ani.load(tmp_path / "c.toml")][:4] == ["A", "B", "K", "L"]

    def test_what_we_write_is_aniposelib_s_file_and_reads_back(self, tmp_path):
        """Our writer gives aniposelib's dump byte for byte (metadata aside), and the round trip is exact."""
        ring = rigs.ring(6)
        anipose.write(ring, tmp_path / "ours.toml")
        dicts = [
            ani.get_dict(c.name, c.size, c.K, c.dist, camera_formats.checks.rotation_vector(c.R), c.t) for c in ring
        ]
        ani.dump(dicts, tmp_path / "theirs.toml")
        assert (tmp_path / "ours.toml").read_text() == (tmp_path / "theirs.toml").read_text()
        back = camera_formats.read_rig(tmp_path / "ours.toml").cameras
        X = np.array([[0.0, 0.0, 1000.0], [300.0, -200.0, 1500.0]])
        for a, b in zip(ring, back, strict=True):
            np.testing.assert_allclose(geometry.project(a, X), geometry.project(b, X), atol=1e-9)
            np.testing.assert_allclose(a.R, b.R, atol=1e-12)

    def test_rotation_vectors_round_trip_near_half_turns(self):
        for angle in (0.0, 1e-9, 0.5, np.pi - 1e-7, np.pi):
            for axis in ([0, 0, 1], [1, 2, -2], [0.3, -0.1, 0.9]):
                rvec = np.asarray(axis, float) / np.linalg.norm(axis) * angle
                R = camera_formats.checks.rodrigues("r", rvec)
                back = camera_formats.checks.rodrigues("r", camera_formats.checks.rotation_vector(R))
                np.testing.assert_allclose(back, R, atol=1e-9)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"fisheye": True}, r"\[cam_0\] is a fisheye camera"),
        (
            {"matrix": [[True, 0.0, 719.5], [0.0, 1852.4, 539.5], [0.0, 0.0, 1.0]]},
            r"\[cam_0\] matrix\[0\]\[0\] must be a number",
        ),
        ({"matrix": [[1852.4, 0.0, 719.5], [0.0, 1852.4, 539.5]]}, r"matrix must be a 3x3 matrix"),
        ({"matrix": [[-5.0, 0.0, 719.5], [0.0, 1852.4, 539.5], [0.0, 0.0, 1.0]]}, "focal lengths"),
        ({"matrix": [[5.0, 0.0, 719.5], [0.0, 1852.4, 539.5], [0.0, 1.0, 1.0]]}, r"must be \[\[fx, s, cx\]"),
        ({"translation": [0.0, 0.0, float("nan")]}, r"translation\[2\] = nan is not a finite number"),
        ({"translation": [0.0, 0.0, 2e6]}, r"translation\[2\] = 2000000.0 is not a finite number in"),
        ({"distortions": [0.1, 0.2, 0.0]}, "distortions must be a list of 4 or 5 or 8 numbers"),
        ({"distortions": [0.1, 0.2, 0.0, 0.0, 0.0, 0.3, 0.0, 0.0]}, "rational coefficients k4, k5, k6"),
        ({"size": [1440.5, 1080]}, r"size\[0\] = 1440.5 is not a whole number"),
        ({"size": [0, 1080]}, r"size\[0\] = 0 is not a finite number in \[1, 65535\]"),
        ({"name": "x" * 41}, "41 characters long"),
        ({"name": "cam091"}, "cameras 0 and 1 are both named 'cam091'"),
        ({"translation": [0.117, 0.262, 1.479], "rotation": [-0.2257, -2.982, 0.3874]}, "coincident centres"),
    ],
)
def test_bad_values_are_refused_naming_the_camera_and_field(tmp_path, override, message):
    write_aniposelib(tmp_path / "calibration.toml", **override)
    with pytest.raises(CameraFormatError, match=message):
        camera_formats.read_rig(tmp_path / "calibration.toml", units="m")


def test_a_control_character_in_a_name_is_refused(tmp_path):
    path = tmp_path / "calibration.toml"
    write_aniposelib(path)
    path.write_text(path.read_text().replace('name = "cam088"', 'name = "cam\\u0007"'))
    with pytest.raises(CameraFormatError, match=r"\[cam_0\] name contains a control character"):
        camera_formats.read_rig(path, units="m")


def test_bad_files_are_refused(tmp_path):
    path = tmp_path / "calibration.toml"
    cases = [
        (b"[cam_0\nname = 1", "not valid TOML"),
        (b"\xff\xfe[cam_0]", "not UTF-8"),
        (b"[metadata]\nadjusted = true\n", r"has no camera tables"),
        (b"cam_0 = 3\n", r"\[cam_0\] must be a table"),
        (b'[cam_0]\nname = "A"\n', r"\[cam_0\] has no size, matrix, distortions, rotation, translation"),
        (b"x = " + b"[" * 5000 + b"]" * 5000, "nested too deeply|not valid TOML"),
        (b"# " + b"a" * (camera_formats.MAX_FILE_BYTES + 1), "larger than 1024 kB"),
    ]
    for content, message in cases:
        path.write_bytes(content)
        with pytest.raises(CameraFormatError, match=message):
            camera_formats.read_rig(path)


def test_one_camera_is_not_a_rig_and_seventeen_are_too_many(tmp_path):
    write_aniposelib(tmp_path / "one.toml", cameras=CAMERAS[:1])
    with pytest.raises(CameraFormatError, match="a rig has 2 to 16 cameras, this one 1"):
        camera_formats.read_rig(tmp_path / "one.toml")
    anipose.write(rigs.ring(17), tmp_path / "many.toml")
    with pytest.raises(CameraFormatError, match="this one 17"):
        camera_formats.read_rig(tmp_path / "many.toml")
