"""The provenance side file of an export (``<name>.provenance.json``): where every exported number came from.

One record per sample, in export order; ``id`` is its position, ``h3wb_key`` its key in the H3WB export,
``coco_id`` its COCO image and annotation id::

    {"id": 0, "h3wb_key": 0, "coco_id": 1, "view": 12, "source_sample_id": 0, "subject": "S1",
     "action": "Walking 1", "frame": 10,
     "camera": "54138969", "skeleton": {"id", "version", "source", "task"},
     "part_valid": {"face": true, ...}, "quality_scores": [{"model", "checkpoint", "score", "per_part"}],
     "fbi_labels": [], "keypoints": {"<k>": {"status", "flag", "author", "at", "moved_px", "moved_mm"}}}

``keypoints`` lists only the keypoints that are not plain originals: a keypoint absent from it is
``original`` and visible. ``status`` is one of ``samples.KEYPOINT_STATUSES`` (the header repeats their
meaning); ``flag`` is the annotator's occluded / unsure; ``moved_px`` is the distance in this view from
the 2D the annotator started from, ``moved_mm`` the 3D distance from the task's starting skeleton.
``quality_scores`` are the skeleton's multi-crop scores (``QualityScore``); ``fbi_labels`` is reserved
for the skeleton's Forward/Backward/Unknown bone labels and stays empty until they are stored.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TextIO

from annotator.exporters.samples import KEYPOINT_STATUSES, ExportSample
from annotator.exporters.writer import JsonItems

SUFFIX = ".provenance.json"


def provenance_path(path: Path) -> Path:
    """``out/x.json``, ``.jsonl`` or ``.npz`` -> ``out/x.provenance.json`` (``out/x`` -> ``out/x.provenance.json``)."""
    return (
        path.with_suffix(SUFFIX) if path.suffix in (".json", ".jsonl", ".npz") else path.with_name(path.name + SUFFIX)
    )


def record(sample: ExportSample) -> dict:
    """The provenance record of one sample."""
    skeleton = sample.skeleton
    return {
        "id": sample.index,
        "h3wb_key": sample.key,
        "coco_id": sample.index + 1,
        "view": sample.view_id,
        "source_sample_id": sample.sample_id,
        "subject": sample.subject,
        "action": sample.action,
        "frame": sample.frame_index,
        "camera": sample.camera.name,
        "skeleton": {
            "id": skeleton.id,
            "version": skeleton.version,
            "source": skeleton.source,
            "task": skeleton.task_id,
        },  # fmt: skip
        "part_valid": {part: sample.part_valid.get(part, True) for part in sample.validity_parts},
        "quality_scores": sample.quality,
        "fbi_labels": [],
        "keypoints": {str(k): note for k, note in sorted(sample.notes.items())},
    }


class ProvenanceWriter:
    """Streams one provenance record per sample after a header describing the export."""

    def __init__(self, fh: TextIO, header: dict) -> None:
        self.fh = fh
        head = {**header, "keypoint_statuses": KEYPOINT_STATUSES}
        fh.write(json.dumps(head)[:-1] + ',\n"samples": [')
        self.items = JsonItems(fh)
        self.corrected = 0

    @staticmethod
    def render(sample: ExportSample) -> tuple[int, str]:
        """(noted keypoints that are not originals, the record's JSON text); pure, for worker processes."""
        return sum(n["status"] != "original" for n in sample.notes.values()), json.dumps(record(sample))

    def write(self, rendered: tuple[int, str]) -> None:
        self.corrected += rendered[0]
        self.items.add(rendered[1])

    def close(self) -> None:
        self.items.end()
        self.fh.write("]}\n")
