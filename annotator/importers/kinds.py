"""The kinds of H3WB release file, recognised by what they hold (never by their name).

One registry (``KINDS``) says for every kind which official files it covers, which numbering its
sample ids follow (``Dataset.SampleIds``) and what the importer does with it; ``detect_json`` and
``detect_npz`` place a file by its fields, its subjects and the pattern of its ids
(docs/reference/h3wb_format.md section 2.2):

* image_path + keypoints_3d: ``RGBto3D_train.json`` (subjects S1, S5, S6, S7) or ``RGBto3D_test_3d.json``
  (S8 only); our own H3WB exports and the synthetic rig also carry keypoints_2d;
* image_path alone (with bbox): ``RGBto3D_test_img.json``: frames to annotate from scratch;
* keypoints_2d + keypoints_3d without images: ``2Dto3D_train.json`` and its parts (ids of the training
  set), ``2Dto3D_test_3d.json`` (ids ``(i//4)*8 + i%4``), ``I2Dto3D_test_3d.json`` (the other blocks of 4);
* keypoints_2d alone: the test inputs ``2Dto3D_test_2d.json`` / ``I2Dto3D_test_2d.json``;
* keypoints_3d alone: a predictions (submission) file;
* npz with ``train_data``: ``h3wb_train.npz`` (mmpose's ``h3wb_train_bbox.npz`` adds ``bbox``); npz with
  ``data``: the test sets ``task1_test_3d.npz`` (2D->3D) and ``task2_test_3d.npz`` (I2D->3D).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from annotator.models import Dataset

#: H3WB's test ids come in alternating blocks of 4: 2D->3D first, then I2D->3D.
ID_BLOCK = 4
#: The subject of H3WB's test sets.
TEST_SUBJECT = "S8"


@dataclass(frozen=True)
class FileKind:
    """One kind of file: its name for people, the official files it covers, its ids and its role."""

    key: str
    label: str
    official: str
    sample_ids: str  # a Dataset.SampleIds value
    role: str  # "dataset", "frames", "side-2d", "predictions"


_IDS = Dataset.SampleIds
KINDS: dict[str, FileKind] = {k.key: k for k in (
    FileKind("rgb-train", "RGB->3D training file", "RGBto3D_train.json", _IDS.TRAIN, "dataset"),
    FileKind("rgb-test-3d", "RGB->3D test answers", "RGBto3D_test_3d.json", _IDS.RGB_TEST, "dataset"),
    FileKind("rgb-test-img", "RGB->3D test inputs (images and boxes only)", "RGBto3D_test_img.json",
             _IDS.RGB_TEST, "frames"),
    FileKind("lifting-train", "2D->3D training file", "2Dto3D_train.json, 2Dto3D_train_part{1..5}.json",
             _IDS.TRAIN, "dataset"),
    FileKind("lifting-test-3d", "2D->3D test answers", "2Dto3D_test_3d.json", _IDS.LIFTING_TEST, "dataset"),
    FileKind("i2d-test-3d", "I2D->3D test answers", "I2Dto3D_test_3d.json", _IDS.LIFTING_TEST, "dataset"),
    FileKind("lifting-test-2d", "2D->3D test inputs (2D only)", "2Dto3D_test_2d.json", _IDS.LIFTING_TEST,
             "side-2d"),
    FileKind("i2d-test-2d", "I2D->3D test inputs (2D only, masked keypoints at 0,0)", "I2Dto3D_test_2d.json",
             _IDS.LIFTING_TEST, "side-2d"),
    FileKind("predictions", "3D predictions (a submission)", "<your predictions>.json", _IDS.OWN, "predictions"),
    FileKind("npz-train", "npz training file", "h3wb_train.npz (mmpose: h3wb_train_bbox.npz)", _IDS.TRAIN,
             "dataset"),
    FileKind("npz-test", "npz test set", "task1_test_3d.npz, task2_test_3d.npz", _IDS.LIFTING_TEST, "dataset"),
)}  # fmt: skip


class UnknownKindError(ValueError):
    """A file that none of ``KINDS`` describes; the message says what it holds and what is missing."""


def in_block(task: str, ids: np.ndarray) -> np.ndarray:
    """(S,) bool: which ids lie in ``task``'s blocks of 4 (``"2d"``: ids % 8 < 4, ``"i2d"``: the others)."""
    block = (np.asarray(ids) // ID_BLOCK) % 2
    return block == (0 if task == "2d" else 1)


def detect_json(*, ids: np.ndarray, subjects: set[str] | None, has_image: bool, has_2d: bool,
                has_3d: bool) -> FileKind:  # fmt: skip
    """The kind of a JSON file from what its samples hold (UnknownKindError when it is none of them)."""
    if has_image:
        if has_3d:
            return KINDS["rgb-test-3d" if subjects == {TEST_SUBJECT} else "rgb-train"]
        if not has_2d:
            return KINDS["rgb-test-img"]
        raise UnknownKindError(
            "its samples have image_path and keypoints_2d but no keypoints_3d; an H3WB file with images has "
            "keypoints_3d (RGBto3D_train.json, RGBto3D_test_3d.json) or nothing but image_path and bbox "
            "(RGBto3D_test_img.json)"
        )
    if has_2d:
        blocks = "i2d" if in_block("i2d", ids).all() else "2d" if in_block("2d", ids).all() else ""
        if has_3d:
            return KINDS[{"2d": "lifting-test-3d", "i2d": "i2d-test-3d"}.get(blocks, "lifting-train")]
        if blocks:
            return KINDS["i2d-test-2d" if blocks == "i2d" else "lifting-test-2d"]
        raise UnknownKindError(
            "its samples have keypoints_2d only, and their ids are neither the 2D->3D nor the I2D->3D test ids"
        )
    if has_3d:
        return KINDS["predictions"]
    raise UnknownKindError("its samples have none of image_path, keypoints_2d, keypoints_3d")
