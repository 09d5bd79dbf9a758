"""A small H3WB release in every official layout (JSON and npz), written as the official code reads it.

Layouts follow the official sources, not this project's docs: ``test_leaderboard.py`` / ``utils/utils.py``
(wholebody3d) for the JSON files and their id arithmetic, ``common/h3wb_dataset.py`` (PAFUSE) and
``H36MWholeBodyDataset`` (mmpose) for the npz files. Facts used:

* training ids ``0..N-1``; ``4k..4k+3`` are the four cameras of one instant (issues #5, #9), in no fixed camera
  order, and the instants are shuffled across subjects (S1, S5, S6, S7);
* test subject S8: the 2D->3D ids ``(i//4)*8 + i%4``, the I2D->3D ids the same + 4, the RGB->3D ids ``0..M-1`` in
  another order ("not aligned with previous 2 tasks", README);
* ``keypoints_3d`` = ``R_cam X_world`` mm; ``keypoints_2d`` = the pinhole ``K (R X + T) / z`` (issues #5, #16);
  I2D->3D inputs store masked keypoints as (0, 0);
* npz: ``train_data[subject][action]`` = ``{global_3d, frame_id, <camera>: {camera_3d = R X + T mm, pose_2d px,
  sample_id}}``, ``metadata[subject][camera]`` = ``{K/1000 (1,3,3), R (1,3,3), T m (1,1,3), Distortion (1,5)}``
  plus part and side index lists; the test sets hold ``data`` in the same layout.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from annotator import h3wb_format, h36m, keypoints
from annotator.h3wb_format import ImageRef
from annotator.importers.conventions import pinhole
from tests.h3wb_files import random_skeleton

TRAIN_SUBJECTS = ("S1", "S5", "S6", "S7")
TEST_SUBJECT = "S8"
ACTIONS = ("Directions 1", "Eating 2", "Walking 1")


@dataclass
class Sample:
    ref: ImageRef
    world: np.ndarray  # (J, 3) mm

    def camera(self):
        return h36m.camera(self.ref.subject, self.ref.camera_id)

    @property
    def points_3d(self) -> np.ndarray:
        return self.world @ self.camera().R.T

    @property
    def points_2d(self) -> np.ndarray:
        return pinhole(self.camera(), self.world)


@dataclass
class Release:
    folder: Path
    train: dict[int, Sample] = field(default_factory=dict)
    test_2d: dict[int, Sample] = field(default_factory=dict)  # 2D->3D test ids
    test_i2d: dict[int, Sample] = field(default_factory=dict)
    test_rgb: dict[int, Sample] = field(default_factory=dict)
    masks: dict[int, np.ndarray] = field(default_factory=dict)  # I2D id -> (J,) bool masked

    def path(self, name: str) -> Path:
        return self.folder / name


def _instants(subjects, count: int, rng: np.random.Generator, start_frame: int = 10) -> list[list[Sample]]:
    out = []
    for n in range(count):
        subject = subjects[n % len(subjects)]
        action = ACTIONS[n % len(ACTIONS)]
        frame = start_frame + 5 * n
        world = random_skeleton(rng)
        cams = list(h36m.CAMERA_IDS)
        rng.shuffle(cams)
        out.append([Sample(ImageRef(subject, action, c, frame), world) for c in cams])
    order = rng.permutation(len(out))
    return [out[i] for i in order]


def _sample_json(sample: Sample, *, image=False, bbox=False, two_d=False, three_d=False, mask=None) -> dict:
    out: dict = {}
    if image:
        out["image_path"] = h3wb_format.format_image_path(sample.ref)
    if bbox:
        box = h3wb_format.bbox_of(sample.points_2d, sample.camera().size)
        out["bbox"] = h3wb_format.bbox_json(box)
    if two_d:
        xy = sample.points_2d.copy()
        if mask is not None:
            xy[mask] = 0.0
        out["keypoints_2d"] = h3wb_format.points_2d_json(xy)
    if three_d:
        out["keypoints_3d"] = h3wb_format.points_3d_json(sample.points_3d)
    return out


def _write(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data))


def write_release(folder: Path, *, seed: int = 0, train_instants: int = 10, test_instants: int = 6) -> Release:
    """Every official file of a small release in ``folder`` (4 samples per instant; folds are fifths of the ids)."""
    rng = np.random.default_rng(seed)
    rel = Release(folder)
    for group in _instants(TRAIN_SUBJECTS, train_instants, rng):
        for sample in group:
            rel.train[len(rel.train)] = sample
    test = [s for g in _instants((TEST_SUBJECT,), test_instants, rng, start_frame=1000) for s in g]
    for n, sample in enumerate(test):  # 20k S8 samples in the release: blocks of 4 alternate 2D and I2D
        i = n // 4
        sid = (i // 2) * 8 + (i % 2) * 4 + n % 4
        (rel.test_2d if i % 2 == 0 else rel.test_i2d)[sid] = sample
    for sid in rel.test_i2d:
        mask = rng.random(keypoints.NUM_KEYPOINTS) < 0.25
        mask[keypoints.PARTS["left_hand"]] |= bool(rng.random() < 0.5)
        rel.masks[sid] = mask
    for n, k in enumerate(rng.permutation(len(test))):
        rel.test_rgb[n] = test[k]

    _write(rel.path("RGBto3D_train.json"),
           {str(i): _sample_json(s, image=True, bbox=True, three_d=True) for i, s in rel.train.items()})  # fmt: skip
    _write(rel.path("2Dto3D_train.json"),
           {str(i): _sample_json(s, two_d=True, three_d=True) for i, s in rel.train.items()})  # fmt: skip
    fifth = len(rel.train) // 5
    for part in range(5):
        ids = range(fifth * part, fifth * (part + 1))
        _write(rel.path(f"2Dto3D_train_part{part + 1}.json"),
               {str(i): _sample_json(rel.train[i], two_d=True, three_d=True) for i in ids})  # fmt: skip
    _write(rel.path("2Dto3D_test_2d.json"), {str(i): _sample_json(s, two_d=True) for i, s in rel.test_2d.items()})
    _write(rel.path("2Dto3D_test_3d.json"),
           {str(i): _sample_json(s, two_d=True, three_d=True) for i, s in rel.test_2d.items()})  # fmt: skip
    _write(rel.path("I2Dto3D_test_2d.json"),
           {str(i): _sample_json(s, two_d=True, mask=rel.masks[i]) for i, s in rel.test_i2d.items()})  # fmt: skip
    _write(rel.path("I2Dto3D_test_3d.json"),
           {str(i): _sample_json(s, two_d=True, three_d=True) for i, s in rel.test_i2d.items()})  # fmt: skip
    _write(rel.path("RGBto3D_test_img.json"),
           {str(i): _sample_json(s, image=True, bbox=True) for i, s in rel.test_rgb.items()})  # fmt: skip
    _write(rel.path("RGBto3D_test_3d.json"),
           {str(i): _sample_json(s, image=True, bbox=True, three_d=True) for i, s in rel.test_rgb.items()})  # fmt: skip
    write_npz(rel.path("h3wb_train.npz"), "train_data", rel.train, metadata=True, bbox=True)
    write_npz(rel.path("task1_test_3d.npz"), "data", rel.test_2d)
    write_npz(rel.path("task2_test_3d.npz"), "data", rel.test_i2d)
    return rel


def npz_metadata(subjects) -> dict:
    """``metadata`` as the official npz holds it: part and side index lists, and per subject the cameras."""
    meta: dict = {
        "left_side": [int(a) for a, _ in keypoints.FLIP_PAIRS],
        "right_side": [int(b) for _, b in keypoints.FLIP_PAIRS],
        "body": list(range(0, 17)),
        "left_foot": [17, 18, 19],
        "right_foot": [20, 21, 22],
        "face": list(range(23, 91)),
        "left_hand": list(range(91, 112)),
        "right_hand": list(range(112, 133)),
    }
    for subject in subjects:
        meta[subject] = {}
        for cam_id in h36m.CAMERA_IDS:
            cam = h36m.camera(subject, cam_id)
            k1, k2, p1, p2, k3 = cam.dist
            meta[subject][cam_id] = {
                "K": (cam.K / 1000.0).astype(np.float32)[None],
                "R": cam.R.astype(np.float32)[None],
                "T": (cam.t / 1000.0).astype(np.float32).reshape(1, 1, 3),
                "Distortion": np.asarray([[k1, k2, p2, p1, k3]], dtype=np.float32),
            }
    return meta


def write_npz(path: Path, member: str, samples: dict[int, Sample], *, metadata=False, bbox=False) -> dict:
    """The samples in the npz layout (frames sorted by frame_id per subject/action, one entry per camera)."""
    data: dict = {}
    boxes: dict = {}
    by_seq: dict[tuple[str, str], dict[int, dict[str, tuple[int, Sample]]]] = {}
    for sid, s in samples.items():
        by_seq.setdefault((s.ref.subject, s.ref.action), {}).setdefault(s.ref.frame_index, {})[s.ref.camera_id] = (
            sid,
            s,
        )
    for (subject, action), frames in by_seq.items():
        order = sorted(frames)
        block: dict = {
            "global_3d": np.stack([next(iter(frames[f].values()))[1].world for f in order]),
            "frame_id": np.asarray(order, dtype=np.int64),
        }
        for cam_id in h36m.CAMERA_IDS:
            cam = h36m.camera(subject, cam_id)
            rows = [frames[f][cam_id] for f in order]
            block[cam_id] = {
                "camera_3d": np.stack([s.world @ cam.R.T + cam.t for _, s in rows]),
                "pose_2d": np.stack([s.points_2d for _, s in rows]),
                "sample_id": np.asarray([sid for sid, _ in rows], dtype=np.int64),
            }
            for f, (_, s) in zip(order, rows, strict=True):
                x0, y0, x1, y1 = h3wb_format.bbox_of(s.points_2d, cam.size)
                boxes[(subject, action, cam_id, f)] = {"x_min": x0, "y_min": y0, "x_max": x1, "y_max": y1}
        data.setdefault(subject, {})[action] = block
    members = {member: data}
    if metadata:
        members["metadata"] = npz_metadata(sorted({s for s, _ in by_seq}))
    if bbox:
        members["bbox"] = boxes
    np.savez(path, **members)
    return members
