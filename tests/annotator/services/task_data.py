"""Test data for the correction workflow: one imported H3WB frame (4 Human3.6M views) and tasks on it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from annotator import geometry
from annotator.models import Frame, Task, View
from annotator.services.imports import dataset_import_h3wb
from annotator.services.tasks import task_create
from tests.h3wb_files import write_release

#: A valid 1x1 PNG: the image API serves only files Pillow recognises as images.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108000000003a7e9b55"
    "0000000a49444154789c636000000002000148afa4710000000049454e44ae426082"
)

FRAMES = [("S1", "Walking 1", 10), ("S1", "Walking 1", 20), ("S5", "Eating 2", 30)]


@dataclass
class FrameData:
    frame: Frame
    world: np.ndarray  # (J, 3) the dataset skeleton, world mm
    views: list[View]  # ordered by camera name
    cams: list[geometry.Camera]

    def project(self, view_index: int, X: np.ndarray) -> np.ndarray:
        return geometry.project(self.cams[view_index], X)


def import_frames(tmp_path: Path, *, images: bool = False) -> list[FrameData]:
    written = write_release(tmp_path / "release.json", FRAMES)
    image_dir = None
    if images:
        image_dir = tmp_path / "images"
        for sample in written.data.values():
            path = image_dir / sample["image_path"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(TINY_PNG)
    dataset_import_h3wb(dataset_name="tasks-test", annotations=written.path, images=image_dir)
    out = []
    for (subject, action, index), world in written.world.items():
        frame = Frame.objects.get(sequence__subject__name=subject, sequence__action=action, index=index)
        views = list(frame.views.select_related("camera").order_by("camera__name"))
        out.append(FrameData(frame, world, views, [v.camera.as_geometry() for v in views]))
    return out


def make_task(data: FrameData, assignee, **kwargs) -> Task:
    return task_create(frame=data.frame, assignee=assignee, **kwargs)


def import_layout_frames(tmp_path: Path, layout: str, *, dataset: str = "ring-coco17") -> list[FrameData]:
    """Frames of the 6-camera ring in keypoint layout ``layout`` (e.g. ``coco-17``), imported in the generic
    format with an Anipose calibration, as ``import_dataset`` does; ``world`` is in that layout."""
    from annotator.services.multiview_imports import dataset_import_multiview
    from tests.multiview_files import write_multiview

    written = write_multiview(tmp_path / "multiview", layout=layout)
    dataset_import_multiview(dataset_name=dataset, path=written.path)
    out = []
    for (subject, action, index), world in written.world.items():
        frame = Frame.objects.get(sequence__subject__dataset__name=dataset, sequence__subject__name=subject,
                                  sequence__action=action, index=index)  # fmt: skip
        views = list(frame.views.select_related("camera").order_by("camera__name"))
        out.append(FrameData(frame, world, views, [v.camera.as_geometry() for v in views]))
    return out
