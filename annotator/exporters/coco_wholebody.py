"""COCO-WholeBody layout: ``images``, ``annotations`` (one person per image) and ``categories``.

Per annotation: ``keypoints`` (body) and ``foot_kpts``, ``face_kpts``, ``lefthand_kpts``,
``righthand_kpts`` as flat ``[x, y, v, ...]`` lists, the ``face_box`` / ``lefthand_box`` /
``righthand_box`` ``[x, y, w, h]``, the ``*_valid`` flags, the person ``bbox`` ``[x, y, w, h]``,
``area``, ``num_keypoints`` (labelled body keypoints, as COCO), ``image_id``, ``id``, ``category_id``
1, ``iscrowd`` 0. Parts come from ``keypoints.PART_SLICES``.

Visibility ``v``: 2 visible; 1 occluded, and also *unsure* (the annotator saw the point but could not
place it confidently: COCO has no such level, and "labelled but not clearly visible" is the closest);
0 not labelled: the part was marked not annotatable in that view (its ``*_valid`` is false and its box
zeros), the keypoint is unknown (NaN) or outside the image. Unlabelled keypoints are ``0, 0, 0``.
Images and annotations share ids: the sample's position in the export + 1 (COCO ids start at 1: the
official evaluator records a match by the matched annotation's id, so an id 0 counts as unmatched).
``segmentation`` is ``[]``: there are no person masks. ``area`` (the OKS scale s^2, which COCO takes
from the person's segment) is ``AREA_PER_BOX`` x the person box's ``w * h``: the estimate of a person's
segment area from its box that mmpose's ``CocoWholeBodyDataset`` uses when ``area`` is absent, so
OKS here is about as strict as on COCO's own annotations (the raw box area would make it more lenient).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import TextIO

import numpy as np

from annotator import h3wb_format, keypoints
from annotator.exporters.samples import ExportSample
from annotator.exporters.writer import JsonItems

FORMAT = "coco-wholebody"
#: Segment area of a person per unit of its box area (mmpose's estimate when an annotation has no area).
AREA_PER_BOX = 0.53
CATEGORY_ID = 1
VISIBLE, LABELLED_NOT_VISIBLE, NOT_LABELLED = 2, 1, 0

#: COCO-WholeBody's field names for the parts of ``keypoints.PART_NAMES``.
KEYPOINT_FIELDS: dict[str, str] = {
    "body": "keypoints",
    "feet": "foot_kpts",
    "face": "face_kpts",
    "left_hand": "lefthand_kpts",
    "right_hand": "righthand_kpts",
}
VALID_FIELDS: dict[str, str] = {
    "feet": "foot_valid",
    "face": "face_valid",
    "left_hand": "lefthand_valid",
    "right_hand": "righthand_valid",
}
BOX_FIELDS: dict[str, str] = {"face": "face_box", "left_hand": "lefthand_box", "right_hand": "righthand_box"}
_BODY = keypoints.PART_SLICES["body"]


def categories() -> list[dict]:
    """The person category: body keypoint names and COCO's 1-based body skeleton, plus the whole-body names."""
    body = range(_BODY.start, _BODY.stop)
    skeleton = [[lk.a + 1, lk.b + 1] for lk in keypoints.LINKS if lk.a in body and lk.b in body]
    return [
        {
            "id": CATEGORY_ID,
            "name": "person",
            "supercategory": "person",
            "keypoints": list(keypoints.NAMES[_BODY]),
            "skeleton": skeleton,
            "wholebody_keypoints": list(keypoints.NAMES),
            "layout_version": keypoints.LAYOUT_VERSION,
        }
    ]


def visibility(sample: ExportSample) -> np.ndarray:
    """(J,) COCO ``v`` of every keypoint of ``sample`` (see the module docstring)."""
    xy = sample.points_2d
    w, h = sample.camera.size
    inside = np.isfinite(xy).all(axis=1) & (xy[:, 0] >= 0) & (xy[:, 1] >= 0) & (xy[:, 0] < w) & (xy[:, 1] < h)
    v = np.where(inside, VISIBLE, NOT_LABELLED)
    for k in sample.flags:
        if inside[k]:
            v[k] = LABELLED_NOT_VISIBLE
    for part, valid in sample.part_valid.items():
        if not valid:
            v[keypoints.PART_SLICES[part]] = NOT_LABELLED
    return v


def _box(xy: np.ndarray) -> list[float]:
    if len(xy) == 0:
        return [0.0, 0.0, 0.0, 0.0]
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    return [round(float(lo[0]), 2), round(float(lo[1]), 2), round(float(hi[0] - lo[0]), 2),
            round(float(hi[1] - lo[1]), 2)]  # fmt: skip


def annotation(sample: ExportSample) -> dict:
    """The COCO-WholeBody annotation of one sample."""
    v = visibility(sample)
    labelled = v > NOT_LABELLED
    xy = np.where(labelled[:, None], np.round(sample.points_2d, h3wb_format.EXPORT_DECIMALS), 0.0)
    flat = np.concatenate([xy, v[:, None]], axis=1)  # (J, 3)
    x0, y0, x1, y1 = sample.bbox
    ann: dict = {"id": coco_id(sample), "image_id": coco_id(sample), "category_id": CATEGORY_ID, "iscrowd": 0,
                 "bbox": [x0, y0, x1 - x0, y1 - y0], "area": round(AREA_PER_BOX * (x1 - x0) * (y1 - y0), 2),
                 "segmentation": [], "num_keypoints": int(labelled[_BODY].sum())}  # fmt: skip
    for part, name in KEYPOINT_FIELDS.items():
        values = flat[keypoints.PART_SLICES[part]].ravel().tolist()
        ann[name] = [int(x) if x.is_integer() else x for x in values]
    for part, name in BOX_FIELDS.items():
        part_slice = keypoints.PART_SLICES[part]
        ann[name] = _box(xy[part_slice][labelled[part_slice]])
    for part, name in VALID_FIELDS.items():
        ann[name] = bool(sample.part_valid.get(part, True) and labelled[keypoints.PART_SLICES[part]].any())
    return ann


def image(sample: ExportSample) -> dict:
    w, h = sample.camera.size
    return {"id": coco_id(sample), "file_name": sample.image_path, "width": int(w), "height": int(h)}


def coco_id(sample: ExportSample) -> int:
    """The image and annotation id of ``sample``: its position in the export + 1 (COCO ids start at 1)."""
    return sample.index + 1


class CocoWholeBodyWriter:
    """Streams images into the output and annotations into a spool file (same directory), joined at ``close``."""

    def __init__(self, fh: TextIO, header: dict, directory: Path) -> None:
        self.fh = fh
        # Anonymous (already unlinked), so even a killed process leaves nothing behind.
        self.spool = tempfile.TemporaryFile("w+", encoding="utf-8", dir=directory)
        info = {"description": f"{header['dataset']} ({header['version']})", **header}
        fh.write(f'{{"info": {json.dumps(info)},\n"licenses": [],\n"categories": {json.dumps(categories())},\n')
        fh.write('"images": [')
        self.images = JsonItems(fh)
        self.annotations = JsonItems(self.spool)

    @staticmethod
    def render(sample: ExportSample) -> tuple[str, str]:
        """The image's and the annotation's JSON text; pure, so it can run in a worker process."""
        return json.dumps(image(sample)), json.dumps(annotation(sample))

    def write(self, rendered: tuple[str, str]) -> None:
        self.images.add(rendered[0])
        self.annotations.add(rendered[1])

    def close(self) -> None:
        try:
            self.images.end()
            self.annotations.end()
            self.fh.write('],\n"annotations": [')
            self.spool.seek(0)
            shutil.copyfileobj(self.spool, self.fh, 1 << 20)
            self.fh.write("]}\n")
        finally:
            self.spool.close()

    def abort(self) -> None:
        self.spool.close()
