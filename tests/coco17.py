"""Test data of another layout: an imported COCO-WholeBody dataset turned into a COCO-17 one in place.

COCO-17 is COCO-WholeBody's first 17 keypoints (same names, same order), so slicing every stored array of
a dataset imported from the synthetic rig gives a real COCO-17 dataset with images, cameras and ground truth,
without waiting for a COCO-17 importer.
"""

from __future__ import annotations


def as_coco17(name: str) -> str:
    """Turn imported dataset ``name`` into a COCO-17 dataset in place: COCO-17 is COCO-WholeBody's first 17
    keypoints (same names, same order, asserted here), so every stored array keeps its first 17."""
    from annotator import keypoints
    from annotator.models import Dataset, Detection2D, Skeleton3D, View

    layout = keypoints.layout_get("coco-17")
    assert keypoints.DEFAULT_LAYOUT.names[: layout.num_keypoints] == layout.names
    K = layout.num_keypoints
    dataset = Dataset.objects.get(name=name)
    dataset.layout_version = layout.version
    dataset.save(update_fields=["layout_version"])
    for skeleton in Skeleton3D.objects.filter(frame__sequence__subject__dataset=dataset):
        skeleton.keypoints = skeleton.keypoints[:K]
        skeleton.save(update_fields=["keypoints"])
    for view in View.objects.filter(frame__sequence__subject__dataset=dataset):
        for field in ("keypoints_2d", "truth_visible"):
            if getattr(view, field) is not None:
                setattr(view, field, getattr(view, field)[:K])
        view.save(update_fields=["keypoints_2d", "truth_visible"])
    for detection in Detection2D.objects.filter(view__frame__sequence__subject__dataset=dataset):
        detection.keypoints_2d, detection.scores = detection.keypoints_2d[:K], detection.scores[:K]
        detection.save(update_fields=["keypoints_2d", "scores"])
    return name
