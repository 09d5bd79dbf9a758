"""Human3.6M calibration: conventions reproduce VideoPose3D's projection and H3WB's metadata."""

import json
from pathlib import Path

import numpy as np
import pytest

from annotator import h36m
from annotator.geometry import project

REFERENCE = json.loads((Path(h36m.__file__).parent / "data" / "h36m_cameras.json").read_text())


def qrot(q, v):
    """VideoPose3D common/quaternion.py qrot: rotate v by the unit quaternion q = [w, x, y, z]."""
    qvec = q[1:]
    uv = np.cross(qvec, v)
    uuv = np.cross(qvec, uv)
    return v + 2 * (q[0] * uv + uuv)


def videopose3d_project(subject: str, camera_id: str, X_world: np.ndarray) -> np.ndarray:
    """The reference formula: VideoPose3D world_to_camera + project_to_2d with pixel intrinsics."""
    intr = REFERENCE["intrinsics"][camera_id]
    extr = REFERENCE["extrinsics"][subject][camera_id]
    q = np.asarray(extr["orientation"])
    q_inv = q * np.array([1, -1, -1, -1])
    Xc = qrot(q_inv, X_world - np.asarray(extr["translation"]))
    f, c = np.asarray(intr["focal_length"]), np.asarray(intr["center"])
    k = np.asarray(intr["radial_distortion"])
    p = np.asarray(intr["tangential_distortion"])
    xy = np.clip(Xc[:2] / Xc[2], -1, 1)
    r2 = np.sum(xy**2)
    radial = 1 + k[0] * r2 + k[1] * r2**2 + k[2] * r2**3
    tan = np.sum(p * xy)
    xx = xy * (radial + tan) + p * r2
    return f * xx + c


@pytest.mark.parametrize("subject", h36m.SUBJECTS)
@pytest.mark.parametrize("camera_id", h36m.CAMERA_IDS)
def test_projection_matches_videopose3d(subject, camera_id):
    rng = np.random.default_rng(7)
    cam = h36m.camera(subject, camera_id)
    for X in rng.uniform([-1500, -1500, 0], [1500, 1500, 1900], size=(20, 3)):
        # 1e-4 px: the calibration's quaternions are unit to 1e-8 and we normalise them (see h36m.py).
        np.testing.assert_allclose(project(cam, X), videopose3d_project(subject, camera_id, X), atol=1e-4, rtol=0)


@pytest.mark.parametrize("subject", h36m.SUBJECTS)
def test_extrinsics_match_the_derived_world_to_camera(subject):
    for camera_id, cam in h36m.rig(subject).items():
        ref = REFERENCE["derived_world_to_camera"][subject][camera_id]
        np.testing.assert_allclose(cam.R, ref["R_world_to_camera"], atol=1e-7)
        # The derived values were rounded and renormalised; a micrometre is far below any error we measure.
        np.testing.assert_allclose(cam.t, ref["t_world_to_camera_mm"], atol=1e-3)
        np.testing.assert_allclose(cam.center, REFERENCE["extrinsics"][subject][camera_id]["translation"], atol=1e-3)


def test_h3wb_npz_metadata_is_reproduced():
    # H3WB's npz stores R, T in metres, K / 1000 and the tangential terms swapped.
    ref = REFERENCE["h3wb_npz_metadata_format"]["example_S5_60457274"]
    cam = h36m.camera("S5", "60457274")
    np.testing.assert_allclose(cam.R, ref["R"], atol=1e-6)
    np.testing.assert_allclose(cam.t / 1000, ref["T"], atol=1e-6)
    np.testing.assert_allclose(cam.K / 1000 * [[1, 1, 1], [1, 1, 1], [0, 0, 1000]], ref["K"], atol=1e-6)
    k1, k2, p1, p2, k3 = cam.dist
    np.testing.assert_allclose([k1, k2, p2, p1, k3], ref["Distortion"], atol=1e-9)


def test_image_sizes_and_axes():
    cam = h36m.camera("S1", "54138969")
    assert cam.size == (1000, 1002)
    assert h36m.camera("S1", "55011271").size == (1000, 1000)
    # A point 1 m above the floor at the origin is in front of every camera and inside its image.
    for c in h36m.rig("S9").values():
        u, v = project(c, np.array([0.0, 0.0, 1000.0]))
        assert 0 < u < c.width and 0 < v < c.height


def test_unknown_subject_or_camera_is_a_clear_error():
    with pytest.raises(ValueError, match="no Human3.6M calibration for subject 'S2'"):
        h36m.camera("S2", "54138969")
    with pytest.raises(ValueError, match="unknown Human3.6M camera '123'"):
        h36m.camera("S1", "123")
