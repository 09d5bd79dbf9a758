"""Exporting a dataset version as H3WB JSON, COCO-WholeBody JSON, H3WB npz or the generic multi-view format
(JSON Lines and its rig file), with a provenance side file.

``write_export`` streams the samples of ``samples.iter_samples`` (chunked reads) through a format
writer (``h3wb`` / ``coco_wholebody``) and the ``provenance`` writer into temporary files beside the
final paths (``writer.atomic_files``); both are renamed into place only when every sample was written.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from collections import deque
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import django
from django.utils import timezone

from annotator import keypoints
from annotator.exceptions import ApplicationError
from annotator.exporters import coco_wholebody, h3wb, h3wb_npz, multiview
from annotator.exporters.provenance import ProvenanceWriter, provenance_path
from annotator.exporters.samples import CHUNK_FRAMES, export_plan, iter_samples
from annotator.exporters.versions import parse_version
from annotator.exporters.writer import atomic_files
from annotator.models import Dataset

WRITERS = {
    h3wb.FORMAT: h3wb.H3WBWriter,
    coco_wholebody.FORMAT: coco_wholebody.CocoWholeBodyWriter,
    h3wb_npz.FORMAT: h3wb_npz.H3WBNpzWriter,
    multiview.FORMAT: multiview.MultiviewWriter,
}
FORMATS: tuple[str, ...] = tuple(WRITERS)
#: Formats whose fields are COCO-WholeBody's parts (H3WB's and COCO-WholeBody's files), by what people call
#: them; a dataset of another keypoint layout is refused them (``check_layout``). The generic format holds any.
WHOLEBODY_FORMATS: dict[str, str] = {
    h3wb.FORMAT: "the H3WB JSON export",
    coco_wholebody.FORMAT: "the COCO-WholeBody export",
    h3wb_npz.FORMAT: "the H3WB npz export",
}

#: The rule for exported 2D keypoints, repeated in every export's header.
KEYPOINTS_2D_RULE = (
    "dataset skeleton: the imported 2D when stored, else its projection; other versions: the annotator's 2D "
    "where the keypoint was corrected in that view, else the projection of the exported skeleton"
)


class UnknownFormatError(ApplicationError):
    """The export format is not one of ``FORMATS``."""


class DuplicateKeyError(ApplicationError):
    """Two exported samples would share an H3WB key (source sample id); renumbering avoids it."""


#: What the header says about the 2D, per ``Dataset.keypoints_2d_convention``.
CONVENTIONS = {
    "pinhole": "pinhole projection K(RX+T)/z without lens distortion (the H3WB release's convention); annotators' "
    "clicks on the distorted images are undistorted",
    "distorted": "pixels of the images (the cameras' lens distortion applied)",
    "": "pixels of the images (the cameras' lens distortion applied); the dataset's own 2D convention is unknown",
}


@dataclass
class ExportSummary:
    """What an export wrote."""

    path: Path
    provenance: Path
    samples: int
    frames: int
    noted_keypoints: int
    size_bytes: int

    def as_dict(self) -> dict:
        return {
            "path": str(self.path),
            "provenance": str(self.provenance),
            "samples": self.samples,
            "frames": self.frames,
            "noted_keypoints": self.noted_keypoints,
            "size_bytes": self.size_bytes,
        }


def check_format(fmt: str) -> str:
    if fmt not in WRITERS:
        raise UnknownFormatError(f"unknown export format {fmt!r}: use {' or '.join(FORMATS)}",
                                 extra={"field": "format", "choices": list(FORMATS)})  # fmt: skip
    return fmt


def check_layout(fmt: str, dataset: Dataset) -> None:
    """Refuse (``NotApplicableError``, 400) a format that cannot hold ``dataset``'s keypoint layout."""
    if fmt in WHOLEBODY_FORMATS:
        keypoints.require_layout(dataset.layout, WHOLEBODY_FORMATS[fmt])


def render_chunk(fmt: str, samples: list) -> tuple[list, list]:
    """The format writer's and the provenance writer's renderings of a chunk of samples (pure; runs in workers)."""
    render = WRITERS[fmt].render
    return [render(s) for s in samples], [ProvenanceWriter.render(s) for s in samples]


def _pool(workers: int) -> ProcessPoolExecutor:
    # Spawned (not forked: the parent holds database connections); each worker sets up Django to unpickle samples.
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=django.setup)  # fmt: skip


def write_export(
    *,
    dataset: Dataset,
    fmt: str,
    version: str,
    out: str | Path,
    subjects: list[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
    renumber: bool = False,
) -> ExportSummary:
    """Write ``dataset``'s ``version`` in format ``fmt`` to ``out`` and its provenance beside it.

    ``progress(done, total)`` is called after every chunk of samples. With ``workers`` > 1 the samples
    are rendered to text in that many processes while this one reads the next chunks (at most
    ``2 * workers`` chunks in flight, so memory stays flat); the output is the same. Any error leaves
    no file at ``out`` or at the provenance path, and no temporary file.
    """
    check_format(fmt)
    check_layout(fmt, dataset)
    spec = parse_version(version)
    # A format that writes each view's own source sample id keys its samples by their position instead.
    renumber = renumber or not getattr(WRITERS[fmt], "source_keys", True)
    plan = export_plan(dataset=dataset, subjects=subjects, renumber=renumber)
    out = Path(out).resolve()
    side = provenance_path(out)
    header = {
        "dataset": dataset.name,
        "version": spec.text,
        "format": fmt,
        "subjects": plan.subjects,
        "layout_version": dataset.layout.version,
        "created_at": timezone.now().isoformat().replace("+00:00", "Z"),
        "export_file": out.name,
        "keypoints_2d": KEYPOINTS_2D_RULE,
        "keypoints_2d_convention": CONVENTIONS.get(plan.convention, CONVENTIONS[""]),
        "sample_keys": "0, 1, ... in export order" if renumber else "the source sample ids of the imported files",
        "keypoints_3d": "R_cam @ X_world, mm (H3WB convention: camera orientation, no translation)",
    }
    done = 0
    with atomic_files(out, side) as (fh, pfh), contextlib.ExitStack() as stack:
        writer = WRITERS[fmt](fh, header, out.parent)
        stack.callback(writer.abort)
        prov = ProvenanceWriter(pfh, header)
        pool = stack.enter_context(_pool(workers)) if workers > 1 else None
        pending: deque = deque()

        def drain(keep: int) -> None:
            nonlocal done
            while len(pending) > keep:
                rendered, records = pending.popleft().result()
                for item, record in zip(rendered, records, strict=True):
                    writer.write(item)
                    prov.write(record)
                done += len(rendered)
                if progress is not None:
                    progress(done, plan.total_samples)

        keys: set[int] = set()
        for chunk in iter_samples(plan, spec):
            for sample in chunk:
                if sample.key in keys:
                    raise DuplicateKeyError(
                        f"two exported samples have source sample id {sample.key} (the second: {sample.subject} / "
                        f"{sample.action} / frame {sample.frame_index} / camera {sample.camera.name}); export with "
                        "renumbering (--renumber)", extra={"sample": sample.key, "field": "renumber"})  # fmt: skip
                keys.add(sample.key)
            if pool is None:
                pending.append(_Done(render_chunk(fmt, chunk)))
            else:
                pending.append(pool.submit(render_chunk, fmt, chunk))
            drain(2 * workers if pool else 0)
        drain(0)
        writer.close()
        prov.close()
    return ExportSummary(out, side, done, len(plan.frame_ids), prov.corrected, out.stat().st_size)


class _Done:
    """An already computed result with the ``Future.result()`` interface."""

    def __init__(self, value) -> None:
        self.value = value

    def result(self):
        return self.value


__all__ = ["CHUNK_FRAMES", "FORMATS", "ExportSummary", "check_format", "render_chunk", "write_export"]
