"""The generic multi-view format (``annotator.multiview_format``) as an export: a JSON Lines file and its rig.

One line per frame with the exported skeleton in world mm and per view the image path, source sample id,
box and 2D (in the dataset's convention); the views of a frame are consecutive samples of the export, so
the writer gathers them and writes the frame when the next one starts. The rig goes beside the file:
``<name>.rig.toml`` (Anipose) or ``<name>.rig.json`` (OpenCV-style), in the dataset's own camera format
where that format is written, and the header names it; a Human3.6M dataset names the shipped preset
instead. ``import_dataset`` reads the pair back.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import TextIO

import numpy as np

from annotator import camera_formats, multiview_format
from annotator.exceptions import ApplicationError
from annotator.exporters.samples import ExportSample
from annotator.models import Camera, Dataset

FORMAT = "multiview"
#: The rig file's ending per camera format it is written in.
RIG_SUFFIXES = {"anipose": ".rig.toml", "opencv": ".rig.json"}


def rig_path(path: Path, fmt: str) -> Path | None:
    """Where the rig of the export at ``path`` goes (None for a preset, which has no file)."""
    spec = camera_formats.FORMATS[fmt]
    if spec.preset is not None:
        return None
    suffix = RIG_SUFFIXES.get(fmt if spec.write else "opencv", RIG_SUFFIXES["opencv"])
    stem = path.name[: -len(path.suffix)] if path.suffix == ".jsonl" else path.name
    stem = stem.removesuffix(".multiview")
    return path.with_name(stem + suffix)


def render(sample: ExportSample) -> tuple:
    """What a frame line needs of one sample (view); pure, so it can run in a worker process."""
    view = multiview_format.ViewRecord(
        sample.camera.name, sample.image_path, np.asarray(sample.points_2d, dtype=np.float64),
        tuple(int(v) for v in sample.bbox), sample.sample_id,
    )  # fmt: skip
    return sample.frame_id, sample.subject, sample.action, int(sample.frame_index), sample.skeleton.keypoints, view


class MultiviewWriter:
    """Streams frames as JSON Lines (views gathered per frame) and writes the rig file beside it at ``close``."""

    render = staticmethod(render)
    #: The views' own source sample ids go into the file; the export's keys need not be unique source ids.
    source_keys = False

    def __init__(self, fh: TextIO, header: dict, directory: Path) -> None:
        self.fh = fh
        dataset = Dataset.objects.get(name=header["dataset"])
        self.rig_format = dataset.rig_format
        cameras = list(Camera.objects.filter(subject__dataset=dataset, subject__name__in=header["subjects"])
                       .select_related("subject").order_by("subject__name", "pk"))  # fmt: skip
        self.cameras = self._shared_rig(dataset, cameras)
        self.rig_file = None
        if self.cameras:
            self.rig_file = rig_path(directory / header["export_file"], self.rig_format)
            if camera_formats.FORMATS[self.rig_format].write is None:
                self.rig_format = "opencv"
        convention = dataset.keypoints_2d_convention or "distorted"  # unknown: exports write the images' pixels
        head = multiview_format.Header(
            dataset.layout.version, dataset.layout.num_keypoints, units="mm", convention=convention,
            images=dataset.image_root or None, rig_format=self.rig_format,
            rig_file=self.rig_file.name if self.rig_file else None,
            description=f"export of {dataset.name}, version {header['version']}",
        )  # fmt: skip
        fh.write(multiview_format.header_text(head) + "\n")
        self.frame: multiview_format.FrameRecord | None = None
        self.frame_id: int | None = None
        self._temp: str | None = None

    @staticmethod
    def _shared_rig(dataset: Dataset, cameras: list[Camera]) -> list:
        """The rig every exported subject shares; [] for a preset (Human3.6M, per subject)."""
        if camera_formats.FORMATS[dataset.rig_format].preset is not None:
            return []
        by_subject: dict[str, list] = {}
        for cam in cameras:
            by_subject.setdefault(cam.subject.name, []).append(cam.as_geometry())
        rigs = list(by_subject.values())
        first = rigs[0]
        for name, rig in by_subject.items():
            if [c.to_dict() for c in rig] != [c.to_dict() for c in first]:
                raise ApplicationError(
                    f"dataset {dataset.name}: subject {name} has other cameras than {next(iter(by_subject))}; the "
                    "generic format holds one rig per file: export the subjects apart",
                    extra={"field": "subjects"},
                )
        return first

    def write(self, rendered: tuple) -> None:
        frame_id, subject, action, index, world, view = rendered
        if frame_id != self.frame_id:
            self._flush()
            self.frame_id = frame_id
            self.frame = multiview_format.FrameRecord(subject, action, index, [], np.asarray(world, dtype=np.float64))
        self.frame.views.append(view)

    def _flush(self) -> None:
        if self.frame is not None:
            self.fh.write(multiview_format.frame_text(self.frame) + "\n")
            self.frame = None

    def close(self) -> None:
        self._flush()
        if self.rig_file is None:
            return
        fd, self._temp = tempfile.mkstemp(dir=self.rig_file.parent, prefix=f".{self.rig_file.name}.", suffix=".part")
        os.close(fd)
        camera_formats.write_rig(self.cameras, Path(self._temp), self.rig_format)
        os.replace(self._temp, self.rig_file)
        self._temp = None

    def abort(self) -> None:
        self.frame = None
        if self._temp:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._temp)
