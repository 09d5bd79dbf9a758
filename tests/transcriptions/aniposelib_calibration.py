"""Transcription of how aniposelib writes and reads ``calibration.toml``, lambdaloop/aniposelib
``aniposelib/cameras.py`` (commit 00a2ac87efc4b771bd91c88f49ac86955a9cc08c): ``Camera.get_dict``,
``FisheyeCamera.get_dict``, ``CameraGroup.dump``, ``CameraGroup.load`` and ``CameraGroup.from_dicts``, with
the ``toml`` package aniposelib dumps with. ``project`` is what ``Camera.project`` computes in aniposelib's
numpy releases, ``cv2.projectPoints(points, rvec, tvec, matrix, dist)``, written out from OpenCV's
documented camera model (calib3d "Detailed Description": Rodrigues rotation, then k1 k2 p1 p2 k3).

Changes, marked ``# changed``: cameras are plain dicts (aniposelib keeps torch / numpy parameters and
``get_dict`` turns them into these lists); no video or board code.
"""

import numpy as np
import toml


def get_dict(name, size, matrix, dist, rvec, tvec, fisheye=False):
    # changed: the fields of Camera as arguments
    d = {
        "name": name,
        "size": list(size),
        "matrix": np.asarray(matrix, dtype="float64").tolist(),
        "distortions": np.asarray(dist, dtype="float64").tolist(),
        "rotation": np.asarray(rvec, dtype="float64").tolist(),
        "translation": np.asarray(tvec, dtype="float64").tolist(),
    }
    if fisheye:  # FisheyeCamera.get_dict
        d["fisheye"] = True
    return d


def dump(dicts, fname, metadata=None):
    """CameraGroup.dump"""
    names = [f"cam_{i}" for i in range(len(dicts))]
    master_dict = dict(zip(names, dicts))
    master_dict["metadata"] = metadata if metadata is not None else {}
    with open(fname, "w") as f:
        toml.dump(master_dict, f)


def load(fname):
    """CameraGroup.load (the cameras as dicts, in aniposelib's order: table names sorted as strings)."""
    master_dict = toml.load(fname)
    keys = sorted(master_dict.keys())
    items = [master_dict[k] for k in keys if k != "metadata"]
    return items  # changed: CameraGroup.from_dicts(items) builds Camera / FisheyeCamera objects from these


def rodrigues(rvec):
    """cv2.Rodrigues, vector -> matrix."""
    rvec = np.asarray(rvec, dtype="float64")
    theta = np.linalg.norm(rvec)
    if theta < 1e-15:
        return np.eye(3)
    k = rvec / theta
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(theta) * K + (1 - np.cos(theta)) * K @ K


def project(d, points):
    """cv2.projectPoints(points, rotation, translation, matrix, distortions) for a camera dict: (N, 3) -> (N, 2)."""
    R = rodrigues(d["rotation"])
    Xc = np.asarray(points, dtype="float64") @ R.T + np.asarray(d["translation"])
    x, y = Xc[:, 0] / Xc[:, 2], Xc[:, 1] / Xc[:, 2]
    k1, k2, p1, p2, k3 = (list(d["distortions"]) + [0.0] * 5)[:5]
    r2 = x * x + y * y
    radial = 1 + k1 * r2 + k2 * r2**2 + k3 * r2**3
    xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
    yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
    M = np.asarray(d["matrix"])
    return np.stack([M[0, 0] * xd + M[0, 1] * yd + M[0, 2], M[1, 1] * yd + M[1, 2]], axis=1)
