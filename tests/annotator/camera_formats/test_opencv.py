"""OpenCV-style calibration: the documented JSON, cv::FileStorage's YAML and JSON matrices, OpenCV's own field
names; rotation as a matrix or a Rodrigues vector; bad values and YAML aliases refused."""

from __future__ import annotations

import json

import numpy as np
import pytest

from annotator import camera_formats, geometry
from annotator.camera_formats import CameraFormatError, opencv
from annotator.camera_formats.checks import rotation_vector
from fixtures.synthetic import rigs

RING = rigs.ring(4)
X = np.array([[0.0, 0.0, 1000.0], [250.0, -300.0, 1600.0], [-400.0, 100.0, 200.0]])


def _same(a: list[geometry.Camera], b: list[geometry.Camera]) -> None:
    assert [c.name for c in a] == [c.name for c in b]
    for ca, cb in zip(a, b, strict=True):
        assert ca.size == cb.size
        np.testing.assert_allclose(geometry.project(ca, X), geometry.project(cb, X), atol=1e-9)


def _yaml_matrix(name: str, rows: int, cols: int, data) -> str:
    # As cv::FileStorage writes a cv::Mat in YAML.
    values = ", ".join(repr(float(v)) for v in np.ravel(data))
    return (
        f"   {name}: !!opencv-matrix\n      rows: {rows}\n      cols: {cols}\n      dt: d\n      data: [ {values} ]\n"
    )


class OpenCVReadTests:
    def test_documented_json_round_trips(self, tmp_path):
        opencv.write(RING, tmp_path / "rig.json")
        rig = camera_formats.read_rig(tmp_path / "rig.json")
        assert rig.format == "opencv"
        _same(RING, list(rig.cameras))

    def test_rodrigues_vectors_cm_and_a_mapping_of_names(self, tmp_path):
        cameras = {c.name: {"image_size": list(c.size), "camera_matrix": c.K.tolist(), "distCoeffs": c.dist[:4].tolist()
                            + [c.dist[4]], "rvec": rotation_vector(c.R).tolist(), "tvec": (c.t / 10).tolist()}
                   for c in RING}  # fmt: skip
        (tmp_path / "rig.json").write_text(json.dumps({"cameras": cameras}))
        _same(RING, list(camera_formats.read_rig(tmp_path / "rig.json", units="cm").cameras))

    def test_filestorage_yaml_as_opencv_writes_it(self, tmp_path):
        text = "%YAML:1.0\n---\ncameras:\n"
        for c in RING:
            text += f'  - name: "{c.name}"\n    image_width: {c.size[0]}\n    image_height: {c.size[1]}\n'
            text += _yaml_matrix("camera_matrix", 3, 3, c.K).replace("   ", "    ", 1)
            text += _yaml_matrix("distortion_coefficients", 5, 1, c.dist).replace("   ", "    ", 1)
            text += _yaml_matrix("R", 3, 3, c.R).replace("   ", "    ", 1)
            text += _yaml_matrix("T", 3, 1, c.t).replace("   ", "    ", 1)
        (tmp_path / "rig.yml").write_text(text)
        _same(RING, list(camera_formats.read_rig(tmp_path / "rig.yml").cameras))

    def test_filestorage_json_matrices(self, tmp_path):
        def mat(a):
            a = np.atleast_2d(np.asarray(a, float))
            return {
                "type_id": "opencv-matrix",
                "rows": a.shape[0],
                "cols": a.shape[1],
                "dt": "d",
                "data": a.ravel().tolist(),
            }

        cameras = [{"name": c.name, "size": list(c.size), "K": mat(c.K), "dist": mat(c.dist), "R": mat(c.R),
                    "t": mat(c.t[:, None])} for c in RING]  # fmt: skip
        (tmp_path / "rig.json").write_text(json.dumps({"cameras": cameras}))
        _same(RING, list(camera_formats.read_rig(tmp_path / "rig.json").cameras))


def _camera(c=RING[0], **changes) -> dict:
    out = {"name": c.name, "size": list(c.size), "K": c.K.tolist(), "dist": c.dist.tolist(), "R": c.R.tolist(),
           "t": c.t.tolist()}  # fmt: skip
    out.update(changes)
    return {k: v for k, v in out.items() if v is not None}


@pytest.mark.parametrize(
    ("first", "message"),
    [
        (_camera(rvec=[0.0, 0.0, 0.1]), "exactly one of rvec"),
        (_camera(R=None), "exactly one of rvec"),
        (_camera(R=np.diag([1.0, 1.0, -1.0]).tolist()), "is a reflection"),
        (_camera(R=(np.eye(3) * 1.01).tolist()), "is not a rotation matrix"),
        (_camera(t=None), "has no t / T / tvec"),
        (_camera(t=[0.0, 0.0]), r"cameras\[0\] t must be a list of 3 numbers"),
        (_camera(t=[0.0, 0.0, "1"]), r"t\[2\] must be a number"),
        (_camera(K=None), "has no K / camera_matrix"),
        (_camera(size=None), "has no size"),
        (_camera(T=[0.0, 0.0, 1.0]), "gives t twice"),
        (_camera(dist=[0.1] * 6), "dist must be a list of 0 or 4 or 5 or 8 numbers"),
        (_camera(name=None), "has no name"),
        ([1, 2], r"cameras\[0\] must be an object"),
    ],
)
def test_bad_cameras_are_refused(tmp_path, first, message):
    (tmp_path / "rig.json").write_text(json.dumps({"cameras": [first, _camera(RING[1])]}))
    with pytest.raises(CameraFormatError, match=message):
        camera_formats.read_rig(tmp_path / "rig.json")


def test_bad_files_are_refused(tmp_path):
    cases = [
        ("rig.json", "{", "not valid JSON"),
        ("rig.json", "[]", "must be an object with a 'cameras' list"),
        ("rig.json", '{"cameras": 3}', "'cameras' must be a list or a mapping"),
        ("rig.yaml", "cameras: [a\n", "not valid YAML"),
        ("rig.yaml", "base: &b {name: A}\ncameras: [*b, *b]\n", "YAML aliases are not accepted"),
        ("rig.yaml", "cameras: !!python/object:os.system {}\n", "not valid YAML"),
        ("rig.json", "[" * 100000 + "]" * 100000, "nested too deeply|not valid JSON"),
        ("rig.txt", "{}", "cannot tell its camera format from its name"),
    ]
    for name, text, message in cases:
        (tmp_path / name).write_text(text)
        with pytest.raises(CameraFormatError, match=message):
            camera_formats.read_rig(tmp_path / name)
