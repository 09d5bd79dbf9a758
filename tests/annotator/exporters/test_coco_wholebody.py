"""COCO-WholeBody export: a pycocotools-style index loads it; lengths, flags, part validity and boxes."""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import pytest

from annotator import keypoints
from annotator.exporters import write_export
from annotator.exporters.coco_wholebody import AREA_PER_BOX, BOX_FIELDS, KEYPOINT_FIELDS, VALID_FIELDS, categories
from annotator.models import Dataset
from tests.annotator.exporters.export_data import OCCLUDED, UNSURE, accepted_task


class MiniCoco:
    """The part of pycocotools.COCO's createIndex that loaders rely on, with its consistency checks."""

    def __init__(self, data: dict) -> None:
        self.imgs = {img["id"]: img for img in data["images"]}
        self.cats = {cat["id"]: cat for cat in data["categories"]}
        self.anns = {ann["id"]: ann for ann in data["annotations"]}
        assert len(self.imgs) == len(data["images"]) and len(self.anns) == len(data["annotations"])
        self.img_to_anns = defaultdict(list)
        for ann in data["annotations"]:
            assert ann["image_id"] in self.imgs and ann["category_id"] in self.cats
            self.img_to_anns[ann["image_id"]].append(ann)


def _export(tmp_path, version="latest-accepted") -> dict:
    out = tmp_path / "coco.json"
    write_export(dataset=Dataset.objects.get(name="tasks-test"), fmt="coco-wholebody", version=version, out=out)
    return json.loads(out.read_text())


@pytest.mark.django_db
class CocoWholeBodyExportTests:
    def test_loads_as_coco(self, frames, tmp_path):
        data = _export(tmp_path, version="dataset")
        coco = MiniCoco(data)
        assert len(coco.imgs) == 4 * len(frames)
        assert all(len(anns) == 1 for anns in coco.img_to_anns.values())
        lengths = {"keypoints": 17 * 3, "foot_kpts": 6 * 3, "face_kpts": 68 * 3, "lefthand_kpts": 21 * 3,
                   "righthand_kpts": 21 * 3}  # fmt: skip
        for part, name in KEYPOINT_FIELDS.items():
            assert lengths[name] == 3 * len(keypoints.PARTS[part])
        for ann in coco.anns.values():
            assert {name: len(ann[name]) for name in lengths} == lengths
            assert ann["iscrowd"] == 0 and ann["category_id"] == 1
            x, y, w, h = ann["bbox"]
            assert w > 0 and h > 0 and ann["area"] == pytest.approx(AREA_PER_BOX * w * h, abs=0.01)
            assert ann["segmentation"] == [] and ann["id"] >= 1 and ann["image_id"] >= 1
            assert ann["num_keypoints"] == sum(v > 0 for v in ann["keypoints"][2::3])
            assert all(ann[name] for name in VALID_FIELDS.values())
            assert all(len(ann[name]) == 4 and ann[name][2] > 0 for name in BOX_FIELDS.values())
        img = next(iter(coco.imgs.values()))
        assert img["file_name"].startswith("S1/Images/") and img["width"] > 0 and img["height"] > 0

    def test_category(self):
        (cat,) = categories()
        assert cat["keypoints"][0] == "nose" and len(cat["keypoints"]) == 17
        assert [16, 14] in cat["skeleton"]  # left_ankle - left_knee, 1-based as in COCO
        assert min(min(pair) for pair in cat["skeleton"]) == 1

    def test_flags_and_part_validity(self, frames, users, tmp_path):
        accepted = accepted_task(frames, users)
        coco = MiniCoco(_export(tmp_path))
        anns = [coco.img_to_anns[i][0] for i in range(1, 5)]  # COCO ids start at 1
        assert [img["file_name"] for img in (coco.imgs[i] for i in range(1, 5))] == [
            v.image_path for v in sorted(accepted.data.views, key=lambda v: v.sample_id)
        ]
        by_view = dict(zip((v.sample_id for v in sorted(accepted.data.views, key=lambda v: v.sample_id)), anns))
        views = accepted.data.views
        body = np.array(by_view[views[0].sample_id]["keypoints"]).reshape(-1, 3)
        assert body[UNSURE, 2] == 1  # unsure -> labelled, not clearly visible
        assert body[0, 2] == 2
        assert np.array(by_view[views[2].sample_id]["keypoints"]).reshape(-1, 3)[OCCLUDED, 2] == 1
        hidden = by_view[views[3].sample_id]
        assert hidden["lefthand_valid"] is False and hidden["lefthand_box"] == [0, 0, 0, 0]
        assert hidden["lefthand_kpts"] == [0] * 63
        assert hidden["righthand_valid"] is True


@pytest.mark.django_db
@pytest.mark.parametrize("version", ["dataset", "latest-accepted"])
def test_official_evaluator_scores_the_export_against_itself_ap_1(frames, users, tmp_path, version):
    """The COCO-WholeBody evaluator (transcribed, on pycocotools): every part AP 1.0; ids from 0 made it 0.968."""
    from tests.transcriptions.coco_wholebody_eval import evaluate_all

    accepted_task(frames, users)  # one view has a hand marked not annotatable, others flags
    out = tmp_path / "coco.json"
    write_export(dataset=Dataset.objects.get(name="tasks-test"), fmt="coco-wholebody", version=version, out=out)
    data = json.loads(out.read_text())
    fields = ("keypoints", "foot_kpts", "face_kpts", "lefthand_kpts", "righthand_kpts")
    results = [{"image_id": a["image_id"], "category_id": a["category_id"], "score": 1.0, **{f: a[f] for f in fields}}
               for a in data["annotations"]]  # fmt: skip
    res = tmp_path / "results.json"
    res.write_text(json.dumps(results))
    ap = evaluate_all(str(out), str(res))
    assert ap == {part: 1.0 for part in ap}, ap


@pytest.mark.django_db
def test_mmpose_loads_it(frames, users, tmp_path):
    """mmpose's CocoWholeBodyDataset parsing (transcribed) reads every annotation; it needs ``segmentation``."""
    from tests.transcriptions.mmpose_coco_wholebody import load_annotations

    accepted_task(frames, users)
    out = tmp_path / "coco.json"
    write_export(dataset=Dataset.objects.get(name="tasks-test"), fmt="coco-wholebody", version="latest-accepted",
                 out=out)  # fmt: skip
    instances, images = load_annotations(str(out))
    data = json.loads(out.read_text())
    assert len(instances) == len(data["annotations"]) == len(images)
    first = instances[0]
    assert first["keypoints"].shape == (1, keypoints.NUM_KEYPOINTS, 2) and first["segmentation"] == []
    raw = np.array(data["annotations"][0]["keypoints"]).reshape(-1, 3)
    np.testing.assert_allclose(first["keypoints"][0, :17], raw[:, :2])
    assert first["area"] == pytest.approx(data["annotations"][0]["area"], rel=1e-6)
