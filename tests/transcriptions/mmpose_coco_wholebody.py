"""Transcription of open-mmlab/mmpose ``CocoWholeBodyDataset.parse_data_info``
(mmpose/datasets/datasets/wholebody/coco_wholebody_dataset.py, commit 05ed0a0e82ded68511b742bb57bbb3162255b4ec)
and of the loop of ``BaseCocoStyleDataset._load_annotations`` that feeds it (one call per annotation of every
image, through the COCO API).

Changes, marked ``# changed``: a plain function with the image prefix as a parameter; pycocotools' ``COCO``
stands in for xtcocotools' (same index and accessors).
"""

import copy
import os.path as osp

import numpy as np
from pycocotools.coco import COCO  # changed: xtcocotools in mmpose


def parse_data_info(raw_data_info, img_prefix=""):  # changed: img_prefix for self.data_prefix["img"]
    ann = raw_data_info["raw_ann_info"]
    img = raw_data_info["raw_img_info"]

    img_path = osp.join(img_prefix, img["file_name"])
    img_w, img_h = img["width"], img["height"]

    x, y, w, h = ann["bbox"]
    x1 = np.clip(x, 0, img_w - 1)
    y1 = np.clip(y, 0, img_h - 1)
    x2 = np.clip(x + w, 0, img_w - 1)
    y2 = np.clip(y + h, 0, img_h - 1)

    bbox = np.array([x1, y1, x2, y2], dtype=np.float32).reshape(1, 4)

    _keypoints = np.array(
        ann["keypoints"] + ann["foot_kpts"] + ann["face_kpts"] + ann["lefthand_kpts"] + ann["righthand_kpts"]
    ).reshape(1, -1, 3)
    keypoints = _keypoints[..., :2]
    keypoints_visible = np.minimum(1, _keypoints[..., 2] > 0)

    if "area" in ann:
        area = np.array(ann["area"], dtype=np.float32)
    else:
        area = np.clip((x2 - x1) * (y2 - y1) * 0.53, a_min=1.0, a_max=None)
        area = np.array(area, dtype=np.float32)

    num_keypoints = ann["num_keypoints"]

    data_info = {
        "img_id": ann["image_id"],
        "img_path": img_path,
        "bbox": bbox,
        "bbox_score": np.ones(1, dtype=np.float32),
        "num_keypoints": num_keypoints,
        "keypoints": keypoints,
        "keypoints_visible": keypoints_visible,
        "iscrowd": ann["iscrowd"],
        "segmentation": ann["segmentation"],
        "area": area,
        "id": ann["id"],
        "category_id": ann["category_id"],
        "raw_ann_info": copy.deepcopy(ann),
    }

    return data_info


def load_annotations(ann_file):
    """``BaseCocoStyleDataset._load_annotations`` in top-down mode: one parsed instance per annotation."""
    coco = COCO(ann_file)
    instance_list = []
    image_list = []
    for img_id in coco.getImgIds():
        img = coco.loadImgs(img_id)[0]
        img.update({"img_id": img_id, "img_path": osp.join("", img["file_name"])})
        image_list.append(img)
        ann_ids = coco.getAnnIds(imgIds=img_id)
        for ann in coco.loadAnns(ann_ids):
            instance_info = parse_data_info(dict(raw_ann_info=ann, raw_img_info=img))
            if not instance_info:
                continue
            instance_list.append(instance_info)
    return instance_list, image_list
