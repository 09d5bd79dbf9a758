"""Importing the generic multi-view format (``annotator.multiview_format``) with its rig: one atomic, idempotent write.

The file is streamed frame by frame through the same JSON guard as H3WB files (nesting, token and item
limits before the parser sees the bytes) and written in chunks of ``CHUNK_FRAMES`` frames inside one
transaction, so memory stays flat and a bad frame anywhere changes nothing. The rig is read first (any
camera format) and becomes every subject's cameras; a dataset imported again must bring the same
calibration, and a frame that comes back with other numbers (skeleton, ground truth or a view's 2D) is
refused rather than silently replaced. Frames without 3D but with 2D in two or more views get their
dataset skeleton by robust triangulation of that 2D, as H3WB's own pipeline made its 3D.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import ijson
import numpy as np
from django.db import transaction
from tqdm import tqdm

from annotator import camera_formats, geometry, names
from annotator.camera_formats import CameraFormatError, Rig
from annotator.exceptions import ImportFormatError
from annotator.importers import conventions
from annotator.importers.guarded_json import CHUNK_BYTES, GuardedReader, JsonLimitError
from annotator.models import Camera, Dataset, Detection2D, Frame, Sequence, Skeleton3D, Subject, View
from annotator.multiview_format import FrameRecord, Header, MultiviewFormatError, parse_frame, parse_header

#: ``Dataset.source_format`` of datasets imported from this format.
SOURCE_FORMAT = "multiview"
#: Frames parsed, checked and written at a time.
CHUNK_FRAMES = 500
#: Stored and imported numbers within this (mm or px, per coordinate) count as the same import.
SAME_TOLERANCE = 1e-6
#: Calibrations within these of the stored ones are the same rig (K px, R, t mm, distortion).
SAME_CALIBRATION = {"K": 1e-6, "R": 1e-9, "t": 1e-6, "dist": 1e-9}


@dataclass
class MultiviewImportReport:
    """What an import read and did; ``str()`` gives the summary the command prints."""

    dataset: str
    rig: str = ""
    frames: int = 0
    views: int = 0
    subjects: list[str] = field(default_factory=list)
    sequences: int = 0
    frames_created: int = 0
    frames_unchanged: int = 0
    views_created: int = 0
    skeletons_created: int = 0
    skeletons_triangulated: int = 0
    keypoints_not_triangulated: int = 0
    ground_truth_created: int = 0
    detections_created: int = 0
    frames_without_skeleton: int = 0
    missing_images: int = 0
    convention: str = ""
    residual_sums: dict[str, float] = field(default_factory=lambda: {"pinhole": 0.0, "distorted": 0.0})
    residual_points: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def residual_px(self) -> dict | None:
        if not self.residual_points:
            return None
        return {k: v / self.residual_points for k, v in self.residual_sums.items()}

    def __str__(self) -> str:
        lines = [
            f"read the generic multi-view format: {self.frames} frames, {self.views} views",
            f"rig: {self.rig}",
            f"dataset {self.dataset}: {len(self.subjects)} subjects ({', '.join(self.subjects)}), "
            f"{self.sequences} sequences",
            f"created {self.frames_created} frames, {self.views_created} views, {self.skeletons_created} dataset "
            f"skeletons ({self.skeletons_triangulated} triangulated from the views' 2D), {self.ground_truth_created} "
            f"ground-truth skeletons, {self.detections_created} detections; {self.frames_unchanged} frames were "
            "already imported and left unchanged",
        ]
        if self.skeletons_triangulated:
            lines.append(
                f"triangulation: {self.keypoints_not_triangulated} keypoints had no two views agreeing within "
                f"{geometry.DEFAULT_THRESHOLD_PX:g} px and are missing"
            )
        if self.frames_without_skeleton:
            lines.append(f"{self.frames_without_skeleton} frames have no 3D and too few views with 2D: no skeleton")
        residual = self.residual_px
        if residual:
            lines.append(
                f"2D convention: {self.convention} (as declared; mean residual {residual['distorted']:.3f} px against "
                f"the distorted projection of the 3D, {residual['pinhole']:.3f} px against the pinhole one)"
            )
        lines.extend(f"note: {note}" for note in self.notes)
        if self.missing_images:
            lines.append(f"warning: {self.missing_images} image files were not found under the image directory")
        return "\n".join(lines)


def _fail(path: Path, message: str) -> ImportFormatError:
    return ImportFormatError(f"{path.name}: {message}")


def _read_rig(path: Path, header: Header, rig: str | Path | None, rig_format: str | None,
              rig_units: str | None) -> Rig:  # fmt: skip
    """The rig the command names (``rig``), else the header's file or preset; translations in mm."""
    units = rig_units or header.units
    try:
        if rig is not None:
            return camera_formats.read_rig(Path(rig), fmt=rig_format, units=units)
        if header.rig_file:
            file = Path(header.rig_file)
            file = file if file.is_absolute() else path.parent / file
            return camera_formats.read_rig(file, fmt=rig_format or header.rig_format or None, units=units)
        if rig_format or header.rig_format:
            return camera_formats.read_rig(None, fmt=rig_format or header.rig_format, units=units)
    except CameraFormatError as exc:
        raise ImportFormatError(f"rig: {exc}") from None
    raise _fail(path, 'no rig: name its calibration file in the header ("rig": {"format", "file"}) or give --rig')


def _image_root(path: Path, header: Header, images: str | Path | None) -> str:
    if images is None and header.images is None:
        return ""
    root = Path(images) if images is not None else Path(header.images)
    if images is None and not root.is_absolute():
        root = path.parent / root
    root = root.resolve()
    if not root.is_dir():
        raise ImportFormatError(f"image directory {root} does not exist")
    return str(root)


def dataset_import_multiview(
    *,
    dataset_name: str,
    path: str | Path,
    images: str | Path | None = None,
    rig: str | Path | None = None,
    rig_format: str | None = None,
    rig_units: str | None = None,
    description: str = "",
    progress: bool = False,
) -> MultiviewImportReport:
    """Import a file of the generic multi-view format into the dataset ``dataset_name`` (created if needed).

    Args:
        path: the JSON Lines file (header line, then one frame per line).
        images: directory the views' image paths are relative to (default: the header's ``images``,
            relative to the file).
        rig, rig_format, rig_units: a calibration file (and its format and units) instead of the header's.
    """
    names.name_check(dataset_name, what="dataset", field="dataset")  # before reading anything
    path = Path(path)
    if not path.is_file():
        raise ImportFormatError(f"{path}: no such file")
    with path.open("rb") as fh:
        if not fh.read(4096).strip():
            raise _fail(path, "the file is empty")
    report = MultiviewImportReport(dataset=dataset_name)
    with (
        tqdm(total=path.stat().st_size, unit="B", unit_scale=True, desc=f"reading {path.name}",
             disable=not progress) as bar,
        contextlib.closing(GuardedReader(path.open("rb"), on_read=bar.update)) as fh,
    ):  # fmt: skip
        items = ijson.items(fh, "", multiple_values=True, use_float=True, buf_size=CHUNK_BYTES)
        done = 0
        try:
            try:
                header = parse_header(next(items))
            except StopIteration:
                raise _fail(path, "the file is empty") from None
            except MultiviewFormatError as exc:
                raise _fail(path, str(exc)) from None
            rig_read = _read_rig(path, header, rig, rig_format, rig_units)
            report.rig = camera_formats.describe(rig_read)
            report.convention = header.convention
            with transaction.atomic():
                writer = _Writer.open(report, dataset_name, description or header.description, header, rig_read,
                                      _image_root(path, header, images))  # fmt: skip
                chunk: list[FrameRecord] = []
                for obj in items:
                    try:
                        frame = parse_frame(obj, header, f"frame {done + 1}")
                    except MultiviewFormatError as exc:
                        raise _fail(path, str(exc)) from None
                    writer.check(frame)
                    chunk.append(frame)
                    done += 1
                    if len(chunk) == CHUNK_FRAMES:
                        writer.write(chunk)
                        chunk = []
                if chunk:
                    writer.write(chunk)
                if not done:
                    raise _fail(path, "the file holds a header and no frames")
                writer.finish()
        except JsonLimitError as exc:
            raise _fail(path, f"refused after frame {done}: {exc}") from None
        except ijson.JSONError as exc:
            raise _fail(path, f"not valid JSON Lines after frame {done}: {exc}") from None
    return report


def _same_camera(stored: geometry.Camera, new: geometry.Camera) -> str | None:
    """None when two calibrations agree, else what differs."""
    if stored.model != new.model or stored.size != new.size:
        return f"lens model or image size ({stored.model} {stored.size} vs {new.model} {new.size})"
    for name, tol in SAME_CALIBRATION.items():
        a, b = getattr(stored, name), getattr(new, name)
        if not np.allclose(a, b, atol=tol, rtol=0):
            return f"{name} (by up to {float(np.abs(a - b).max()):.3g})"
    return None


class _Writer:
    """The dataset being written: checks each frame against the rig and the file so far, writes chunks."""

    def __init__(self, report: MultiviewImportReport, dataset: Dataset, header: Header, rig: Rig, root: str) -> None:
        self.report = report
        self.dataset = dataset
        self.header = header
        self.rig = rig
        self.root = Path(root) if root else None
        self.subjects = {s.name: s for s in dataset.subjects.all()}
        self.cameras: dict[str, dict[str, Camera]] = defaultdict(dict)
        for cam in Camera.objects.filter(subject__dataset=dataset).select_related("subject"):
            self.cameras[cam.subject.name][cam.name] = cam
        self.sequences = {(s.subject.name, s.action): s for s in Sequence.objects.filter(
            subject__dataset=dataset).select_related("subject")}  # fmt: skip
        self.frames = dict(
            ((subject, action, index), pk)
            for pk, subject, action, index in Frame.objects.filter(sequence__subject__dataset=dataset).values_list(
                "pk", "sequence__subject__name", "sequence__action", "index"
            )
        )
        self.seen: set[tuple[str, str, int]] = set()
        self.rig_names: dict[str, tuple[str, ...]] = {}

    @classmethod
    def open(cls, report: MultiviewImportReport, name: str, description: str, header: Header, rig: Rig,
             root: str) -> _Writer:  # fmt: skip
        dataset, created = Dataset.objects.select_for_update().get_or_create(
            name=name,
            defaults={"description": description, "source_format": SOURCE_FORMAT, "image_root": root,
                      "rig_format": rig.format, "layout_version": header.layout,
                      "keypoints_2d_convention": header.convention, "sample_ids": Dataset.SampleIds.OWN},
        )  # fmt: skip
        if not created:
            cls._check_dataset(dataset, header, rig, root)
        return cls(report, dataset, header, rig, root)

    @staticmethod
    def _check_dataset(dataset: Dataset, header: Header, rig: Rig, root: str) -> None:
        clash = []
        if dataset.sample_ids != Dataset.SampleIds.OWN:
            clash.append(f"keeps the sample ids of the {Dataset.SampleIds(dataset.sample_ids).label}")
        if dataset.rig_format != rig.format:
            clash.append(f"has a {dataset.rig_format} rig, this file a {rig.format} one")
        if dataset.layout_version != header.layout:
            clash.append(f"has the {dataset.layout_version} layout, this file {header.layout}")
        if dataset.keypoints_2d_convention and dataset.keypoints_2d_convention != header.convention:
            clash.append(f"holds {dataset.keypoints_2d_convention} 2D keypoints, this file {header.convention} ones")
        if root and dataset.image_root and dataset.image_root != root:
            clash.append(f"has its images under {dataset.image_root}, this file under {root}")
        if clash:
            raise ImportFormatError(
                f"dataset {dataset.name} " + "; ".join(clash) + ": import this file into a dataset of its own"
            )
        updates = {}
        if root and not dataset.image_root:
            updates["image_root"] = root
        if not dataset.keypoints_2d_convention:
            updates["keypoints_2d_convention"] = header.convention
        for key, value in updates.items():
            setattr(dataset, key, value)
        if updates:
            dataset.save(update_fields=list(updates))

    # --- checks ---------------------------------------------------------------------------------------

    def _rig_names(self, subject: str) -> tuple[str, ...]:
        if subject not in self.rig_names:
            try:
                cams = self.rig.cameras_for(subject)
            except CameraFormatError as exc:
                raise ImportFormatError(f"subject {subject}: {exc}") from None
            self.rig_names[subject] = tuple(c.name for c in cams)
        return self.rig_names[subject]

    def check(self, frame: FrameRecord) -> None:
        """Refuse a frame seen earlier in the file, or with a view of a camera the rig does not have."""
        if frame.key in self.seen:
            raise ImportFormatError(f"{frame.label()} appears twice in the file")
        self.seen.add(frame.key)
        known = self._rig_names(frame.subject)
        for view in frame.views:
            if view.camera not in known:
                raise ImportFormatError(
                    f"{frame.label()}: view of camera {view.camera!r}, which the rig does not have "
                    f"(its cameras: {', '.join(known)})"
                )
        self.report.frames += 1
        self.report.views += len(frame.views)

    # --- writing --------------------------------------------------------------------------------------

    def _subject(self, name: str) -> Subject:
        if name not in self.subjects:
            self.subjects[name] = Subject.objects.create(dataset=self.dataset, name=name)
        stored = self.cameras[name]
        cams = self.rig.cameras_for(name)
        if not stored:
            for cam in cams:
                stored[cam.name] = Camera.objects.create(subject=self.subjects[name], name=cam.name,
                                                         **Camera.fields_from_geometry(cam))  # fmt: skip
        else:
            if set(stored) != {c.name for c in cams}:
                raise ImportFormatError(
                    f"subject {name} of dataset {self.dataset.name} has cameras {', '.join(sorted(stored))}; this "
                    f"rig has {', '.join(c.name for c in cams)}: import it into a dataset of its own"
                )
            for cam in cams:
                differs = _same_camera(stored[cam.name].as_geometry(), cam)
                if differs:
                    raise ImportFormatError(
                        f"subject {name} of dataset {self.dataset.name} was imported with another calibration of "
                        f"camera {cam.name}: its {differs} differs; import this file into a dataset of its own"
                    )
        return self.subjects[name]

    def _geometry(self, subject: str) -> dict[str, geometry.Camera]:
        return {c.name: c for c in self.rig.cameras_for(subject)}

    def write(self, chunk: list[FrameRecord]) -> None:
        report = self.report
        for subject in sorted({f.subject for f in chunk}):
            self._subject(subject)
        for key in sorted({(f.subject, f.sequence) for f in chunk} - set(self.sequences)):
            self.sequences[key] = Sequence.objects.create(subject=self.subjects[key[0]], action=key[1])
        skeletons = self._skeletons(chunk)
        self._residuals(chunk, skeletons)

        existing = [self.frames[f.key] for f in chunk if f.key in self.frames]
        stored, highest = _stored(existing)
        stored_views = _stored_views(existing)
        new = [f for f in chunk if f.key not in self.frames]
        created = Frame.objects.bulk_create(
            [Frame(sequence=self.sequences[(f.subject, f.sequence)], index=f.index) for f in new]
        )
        for f, row in zip(new, created, strict=True):
            self.frames[f.key] = row.pk
        report.frames_created += len(created)
        report.frames_unchanged += len(chunk) - len(created)

        views: list[View] = []
        view_records = []
        new_skeletons: list[Skeleton3D] = []
        for f, skeleton in zip(chunk, skeletons, strict=True):
            frame_id = self.frames[f.key]
            cams = self.cameras[f.subject]
            for v in f.views:
                camera = cams[v.camera]
                old = stored_views.get((frame_id, camera.pk))
                if old is not None:
                    _check_view(f, v, old)
                    continue
                box = None if v.bbox is None else list(v.bbox)
                views.append(View(frame_id=frame_id, camera=camera, image_path=v.image, sample_id=v.sample_id,
                                  bbox=box, keypoints_2d=v.keypoints_2d))  # fmt: skip
                view_records.append(v)
            version = highest.get(frame_id, 0)
            for source, points in ((Skeleton3D.Source.DATASET, skeleton),
                                   (Skeleton3D.Source.GROUND_TRUTH, f.ground_truth_3d)):  # fmt: skip
                if points is None:
                    continue
                previous = stored.get((frame_id, source))
                if previous is not None:
                    _check_same(f, source, previous, points)
                    continue
                version += 1
                note = "triangulated from the imported 2D" if (source == "dataset" and f.keypoints_3d is None) else ""
                new_skeletons.append(Skeleton3D(frame_id=frame_id, version=version, source=source, keypoints=points,
                                                note=note))  # fmt: skip
                if source == Skeleton3D.Source.DATASET:
                    report.skeletons_created += 1
                    report.skeletons_triangulated += bool(note)
                else:
                    report.ground_truth_created += 1
        created_views = View.objects.bulk_create(views)
        Skeleton3D.objects.bulk_create(new_skeletons)
        report.views_created += len(created_views)
        detections = [
            Detection2D(view=row, detector=name, keypoints_2d=xy, scores=scores)
            for row, v in zip(created_views, view_records, strict=True)
            for name, (xy, scores) in v.detections.items()
        ]
        Detection2D.objects.bulk_create(detections)
        report.detections_created += len(detections)
        if self.root is not None:
            report.missing_images += sum(not (self.root / v.image).is_file() for v in view_records)

    def _skeletons(self, chunk: list[FrameRecord]) -> list[np.ndarray | None]:
        """Each frame's dataset skeleton: its 3D, else its views' 2D triangulated (robust), else None."""
        out: list[np.ndarray | None] = [f.keypoints_3d for f in chunk]
        groups: dict[tuple, list[int]] = defaultdict(list)
        for n, f in enumerate(chunk):
            if f.keypoints_3d is None:
                with_2d = tuple(v.camera for v in f.views if v.keypoints_2d is not None)
                if len(with_2d) >= 2:
                    groups[(f.subject, with_2d)].append(n)
                else:
                    self.report.frames_without_skeleton += 1
        for (subject, names_2d), rows in groups.items():
            cams = self._geometry(subject)
            rig = [cams[name] for name in names_2d]
            if self.header.convention == "pinhole":
                rig = [dataclasses.replace(cam, dist=np.zeros(5)) for cam in rig]  # the 2D has no lens distortion
            points = np.stack([np.stack([next(v for v in chunk[n].views if v.camera == name).keypoints_2d
                                         for n in rows]) for name in names_2d])  # (V, F, J, 2)  # fmt: skip
            V, F, J, _ = points.shape
            X, inliers = geometry.triangulate_robust(rig, points.reshape(V, F * J, 2))
            X[inliers.sum(axis=0) < 2] = np.nan  # no two views agree: no point rather than a guess
            self.report.keypoints_not_triangulated += int((inliers.sum(axis=0) < 2).sum())
            for i, n in enumerate(rows):
                out[n] = X[i * J : (i + 1) * J]
        return out

    def _residuals(self, chunk: list[FrameRecord], skeletons: list[np.ndarray | None]) -> None:
        """Accumulate the 2D's residuals against both projections of the frames' given 3D (convention check)."""
        cams, world, points = [], [], []
        for f in chunk:
            if f.keypoints_3d is None:
                continue
            geo = self._geometry(f.subject)
            for v in f.views:
                if v.keypoints_2d is not None:
                    cams.append(geo[v.camera])
                    world.append(f.keypoints_3d)
                    points.append(v.keypoints_2d)
        if not cams:
            return
        result = conventions.convention_residuals(cams, np.stack(world), np.stack(points))
        if result["points"]:
            for key in self.report.residual_sums:
                self.report.residual_sums[key] += result[key] * result["points"]
            self.report.residual_points += result["points"]

    def finish(self) -> None:
        report = self.report
        report.subjects = sorted(self.subjects)
        report.sequences = len(self.sequences)
        residual = report.residual_px
        if residual:
            declared, other = report.convention, ("pinhole" if report.convention == "distorted" else "distorted")
            if residual[other] < 0.5 * residual[declared] and residual[declared] > 1.0:
                report.notes.append(
                    f"the 2D lies closer to the {other} projection of the 3D ({residual[other]:.2f} px) than to the "
                    f"declared {declared} one ({residual[declared]:.2f} px): is keypoints_2d_convention right?"
                )
        self.dataset.keypoints_2d_residual_px = residual
        self.dataset.save(update_fields=["keypoints_2d_residual_px"])


def _stored(frame_ids: list[int]) -> tuple[dict[tuple[int, str], np.ndarray], dict[int, int]]:
    """Latest stored keypoints per (frame id, source) and the highest version per frame id."""
    latest: dict[tuple[int, str], np.ndarray] = {}
    highest: dict[int, int] = defaultdict(int)
    if frame_ids:
        rows = Skeleton3D.objects.filter(frame_id__in=frame_ids).order_by("version")
        for frame_id, source, version, points in rows.values_list("frame_id", "source", "version", "keypoints"):
            latest[(frame_id, source)] = points
            highest[frame_id] = max(highest[frame_id], version)
    return latest, highest


def _stored_views(frame_ids: list[int]) -> dict[tuple[int, int], tuple]:
    """(frame id, camera id) -> (image path, 2D) of the stored views of these frames."""
    if not frame_ids:
        return {}
    rows = View.objects.filter(frame_id__in=frame_ids).values_list(
        "frame_id", "camera_id", "image_path", "keypoints_2d"
    )
    return {(f, c): (path, xy) for f, c, path, xy in rows}


def _check_same(frame: FrameRecord, source: str, previous: np.ndarray, points: np.ndarray) -> None:
    if not np.allclose(previous, points, atol=SAME_TOLERANCE, rtol=0, equal_nan=True):
        diff = float(np.nanmax(np.abs(previous - points))) if np.isfinite(previous - points).any() else float("nan")
        raise ImportFormatError(
            f"{frame.label()} is already in this dataset with a different {source} skeleton (up to {diff:.3f} mm "
            "apart, or other keypoints missing); import into a new dataset name instead of replacing it"
        )


def _check_view(frame: FrameRecord, view, stored: tuple) -> None:
    path, xy = stored
    same_2d = (xy is None) == (view.keypoints_2d is None) and (
        xy is None or np.allclose(xy, view.keypoints_2d, atol=SAME_TOLERANCE, rtol=0, equal_nan=True)
    )
    if path != view.image or not same_2d:
        raise ImportFormatError(
            f"{frame.label()}: the view of camera {view.camera} is already in this dataset with "
            f"{'another image' if path != view.image else 'other 2D keypoints'}; import into a new dataset name "
            "instead of replacing it"
        )
